/* results.h5, the contract between backtest, validate and report (layout in
 * README.md, "results.h5"). Written through parallel HDF5: create and close
 * are collective over the communicator; tile writes and row reads are
 * independent, so ranks may do them in any number and order. */
#ifndef IM_RESULTS_IO_H
#define IM_RESULTS_IO_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "backtest.h"
#include "im_status.h"
#include "market.h"
#include "model.h"
#include "summary.h"
#include "tile.h"

#define IM_RESULTS_FORMAT "imvar-results"
#define IM_RESULTS_FORMAT_VERSION 1

typedef struct {
  const char *config_text;
  const char *created; /* UTC timestamp, the same on every rank */
  int ranks;
  size_t n_dates;
  const int32_t *dates; /* YYYYMMDD */
  size_t n_port;
  const char (*ids)[IM_PORT_ID_LEN];
  size_t n_models;
  const im_model *models;
  /* Checkpoint: the tiling and a hash of the inputs, so that a resumed run
   * continues exactly the same work. */
  size_t n_tiles, tile_portfolios, tile_dates;
  uint64_t inputs_hash;
  uint64_t seed; /* for everything drawn at random (recorded as a root attribute) */
} im_results_meta;

typedef struct im_results im_results;

/* Collective. Creates path (truncating it) with every dataset, filled with
 * "not observed" until tiles are written. */
im_status im_results_create(MPI_Comm comm, const char *path, const im_results_meta *meta,
                            im_results **out, im_err *err);

/* Collective. Reopens a partial results file written by im_results_create
 * with the same meta (configuration text, inputs hash, shapes and tiling,
 * else IM_EINVAL saying what differs) and reads which tiles are done into
 * done[n_tiles]. */
im_status im_results_resume(MPI_Comm comm, const char *path, const im_results_meta *meta,
                            im_results **out, uint8_t *done, im_err *err);

/* Serial (one rank). The tiling a partial results file was written with. */
im_status im_results_read_tiling(const char *path, size_t *tile_portfolios, size_t *tile_dates,
                                 im_err *err);

/* Independent. Records tile t as finished (after its data is written). */
im_status im_results_mark_done(im_results *r, size_t tile, im_err *err);

/* Collective. Opens an existing results file, checking its format. */
im_status im_results_open(MPI_Comm comm, const char *path, int writable, im_results **out,
                          im_err *err);

/* Collective. Closes (and frees) the handle; NULL is a no-op. */
im_status im_results_close(im_results *r, im_err *err);

size_t im_results_n_port(const im_results *r);
size_t im_results_n_dates(const im_results *r);
size_t im_results_n_models(const im_results *r);
/* Model parameters as recorded in the file. */
const im_model *im_results_model(const im_results *r, size_t m);
/* Portfolio ids [n_port] as recorded in the file. */
const char (*im_results_ids(const im_results *r))[IM_PORT_ID_LEN];

/* The layers model m has in the file (the datasets of the tile layers,
 * core's tile.h catalog), in file order, into out[IM_TILE_MAX_LAYERS]; returns
 * their number. A new file has those im_tile_layers gives its model. */
size_t im_results_layers(const im_results *r, size_t m, const im_layer **out);

/* Independent. Writes every layer of the model from the tile t (level 0,
 * t->np x t->nt cells) at (p0, t0); IM_EINTERNAL if the tile lacks one. */
im_status im_results_write_tile(im_results *r, size_t model, size_t p0, size_t t0,
                                const im_tile *t, im_err *err);

/* Whether model m has a total margin beyond the core (a layer of the total
 * and its flags: validation_total, summary_total). */
int im_results_has_total(const im_results *r, size_t m);

/* Independent. Reads rows [p0, p0+np) x all dates of every layer of the
 * model into t (reserved for im_results_layers and np x n_dates cells). */
im_status im_results_read_tile(im_results *r, size_t model, size_t p0, size_t np, im_tile *t,
                               im_err *err);

/* Independent. Reads exceed rows [p0, p0+np) x all dates. */
im_status im_results_read_exceed(im_results *r, size_t model, size_t p0, size_t np,
                                 int8_t *exceed, im_err *err);

/* Independent. Reads im and pnl rows [p0, p0+np) x all dates. */
im_status im_results_read_rows(im_results *r, size_t model, size_t p0, size_t np, double *im,
                               double *pnl, im_err *err);

uint64_t im_results_seed(const im_results *r);

/* Independent. Writes sub-sample rows [p0, p0+np) x h of an h-day model. */
im_status im_results_write_subsamples(im_results *r, size_t model, size_t p0, size_t np,
                                      const im_bt_stats *rows, im_err *err);

/* Collective. (Re)creates /models/<m>/validation, validation_subsamples (h > 1)
 * and summary for every model. */
im_status im_results_begin_validation(im_results *r, im_err *err);

/* Independent. Writes validation rows [p0, p0+np) (of the total margin:
 * validation_total, with total != 0). */
im_status im_results_write_validation(im_results *r, size_t model, int total, size_t p0, size_t np,
                                      const im_bt_stats *rows, im_err *err);

/* Independent. Reads all validation rows (n_port) of a model. */
im_status im_results_read_validation(im_results *r, size_t model, im_bt_stats *rows, im_err *err);

/* The same for the core (total = 0) or total margin (validation_total). */
im_status im_results_read_validation_of(im_results *r, size_t model, int total, im_bt_stats *rows,
                                        im_err *err);

/* Independent: one rank writes the summary (summary_total) of a model. */
im_status im_results_write_summary(im_results *r, size_t model, int total,
                                   const im_bt_summary *s, im_err *err);

#endif
