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

/* Simulated paths behind the overlap-corrected traffic light (h > 1). */
#define IM_PAR_OVERLAP_SIMS 20000

/* The dynamic schedule (collective open and close): next returns 0, 1, 2, ...
 * across all ranks, each number once; stop makes every later next return at
 * least past, so that every rank stops after its current item. A rank whose
 * next or stop fails leaves its loop; the others finish theirs, and the
 * failure is agreed after close. */
typedef struct {
  MPI_Win win;
  long *counter;
} im_par_queue;
im_status im_par_queue_open(MPI_Comm comm, im_par_queue *q, im_err *err);
im_status im_par_queue_next(im_par_queue *q, long *next, im_err *err);
im_status im_par_queue_stop(im_par_queue *q, long past, im_err *err);
im_status im_par_queue_close(im_par_queue *q, im_err *err);

/* Every MPI call in par/ goes through IM_MPI: a return code other than
 * MPI_SUCCESS becomes IM_EMPI with a sentence naming the call and the
 * function ("MPI_Bcast failed in im_par_bcast_job: ..."). The communicator
 * must return errors (main sets MPI_ERRORS_RETURN on MPI_COMM_WORLD; the
 * queue sets it on its window), and the failure is agreed (im_par_agree)
 * before the next collective. */
im_status im_par_mpi_status(int rc, const char *call, const char *where, im_err *err);
#define IM_MPI(err, fn, args) im_par_mpi_status(fn args, #fn, __func__, (err))

/* Sends the root's parameter sets and calibrate section to every rank. */
im_status im_par_bcast_calib(MPI_Comm comm, im_calib *cal, im_err *err);

/* The calibration sweep of the sets i with i % n_chunks == chunk: each set is
 * backtested on every period of cal (clipped to the job's dates) and judged
 * on the margin im_tile_judged gives at its own level (the total margin and
 * its flags for a set with layers beyond the core), and metrics[i * n_periods + q] is filled on rank 0 for those
 * sets (the others are left as they are). Values do not depend on the rank
 * count or the chunking. When *stop is set (SIGTERM), every rank stops after
 * its current item and *interrupted is set: no metrics (the sweep is short;
 * a rerun recomputes it). */
im_status im_par_calibrate(MPI_Comm comm, const im_job *job, const im_calib *cal, size_t chunk,
                           size_t n_chunks, int progress, volatile sig_atomic_t *stop,
                           int *interrupted, im_cal_metrics *metrics, im_err *err);

#endif
