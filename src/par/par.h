/* The distributed engine: broadcast of the inputs, the tiled backtest and the
 * per-portfolio validation. Every function here is collective over comm and
 * returns the same status on every rank (errors are agreed with a MAX
 * reduction before any further collective), so a failure on one rank never
 * leaves the others waiting. The message is set on the rank(s) that failed. */
#ifndef IM_PAR_H
#define IM_PAR_H

#include <mpi.h>

#include "config.h"
#include "im_status.h"
#include "market.h"

typedef struct {
  im_config cfg;
  im_market mkt;
  im_book book;
  size_t d0, d1; /* market days [d0, d1) are the backtest dates */
} im_job;

/* Every rank's worst status. */
im_status im_par_agree(MPI_Comm comm, im_status local);

/* Sends the root's job (config, market, book) to every rank. */
im_status im_par_bcast_job(MPI_Comm comm, im_job *job, im_err *err);
void im_job_clear(im_job *job);

#include <signal.h>

typedef struct {
  int resume;                     /* continue the checkpoint in path */
  int progress;                   /* progress line on rank 0's stderr */
  volatile sig_atomic_t *stop;    /* set asynchronously (SIGTERM): finish the tile, stop */
} im_par_opts;

typedef struct {
  size_t tiles;            /* tiles in the run */
  size_t tiles_resumed;    /* already done by an earlier, interrupted run */
  size_t tiles_done;       /* done by this run, all ranks */
  size_t tiles_mine;       /* done by this rank */
  size_t tile_portfolios, tile_dates;
  int interrupted;         /* stopped by a signal before the last tile */
  double seconds_prepare;  /* this rank: model preparation and file creation */
  double seconds_tiles;    /* this rank: the tile loop */
} im_par_stats;

/* Runs the backtest into the results file at path: a new one, or with
 * opts->resume the checkpointed one an interrupted run left (only the tiles
 * not yet recorded are computed; the data end up byte-identical). When a stop
 * is requested, every rank finishes its current tile, the file is closed with
 * its checkpoint, and stats->interrupted is set (the status is IM_OK). */
im_status im_par_backtest(MPI_Comm comm, const im_job *job, const char *created, const char *path,
                          const im_par_opts *opts, im_par_stats *stats, im_err *err);

/* Computes /models/<name>/validation and summary of a results file in place.
 * Ranks own contiguous portfolio ranges and stream them by blocks. */
im_status im_par_validate(MPI_Comm comm, const char *path, im_err *err);

#endif
