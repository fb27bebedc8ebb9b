#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "par.h"

#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backtest.h"
#include "calendar.h"
#include "results_io.h"
#include "par_internal.h"
#include "summary.h"

im_status im_par_agree(MPI_Comm comm, im_status local) {
  int in = (int)local, out = 0;
  if (MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) return IM_EMPI;
  return (im_status)out;
}

im_status im_par_mpi_status(int rc, const char *call, const char *where, im_err *err) {
  if (rc == MPI_SUCCESS) return IM_OK;
  char text[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", rc);
  return im_err_set(err, IM_EMPI, "%s failed in %s: %s", call, where, text);
}

/* MPI counts are int: broadcast large buffers in pieces. */
static im_status bcast_bytes(void *buf, size_t n, MPI_Comm comm, im_err *err) {
  char *p = buf;
  im_status st = IM_OK;
  while (n > 0 && !st) {
    int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
    st = IM_MPI(err, MPI_Bcast, (p, chunk, MPI_BYTE, 0, comm));
    p += chunk;
    n -= (size_t)chunk;
  }
  return st;
}

/* Allocates *p on non-root ranks, then broadcasts n bytes into it. */
static im_status bcast_alloc(void **p, size_t n, int rank, MPI_Comm comm, im_err *err) {
  int ok = 1, all_ok = 0;
  if (rank != 0) {
    *p = malloc(n ? n : 1);
    ok = *p != NULL;
  }
  im_status st = IM_MPI(err, MPI_Allreduce, (&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm));
  if (!st && !all_ok) st = im_err_set(err, IM_ENOMEM, "out of memory for the broadcast job");
  return st ? st : bcast_bytes(*p, n, comm, err);
}

/* The arrays of the market and the book, broadcast after their sizes. */
static im_status bcast_arrays(im_job *job, const size_t *sizes, int rank, MPI_Comm comm,
                              im_err *err) {
  const size_t nu = sizes[1], nd = sizes[2], ni = sizes[3], np = sizes[4], npos = sizes[5];
  im_market *m = &job->mkt;
  im_book *b = &job->book;
  struct {
    void **p;
    size_t n;
    int present;
  } a[] = {
      {(void **)&job->cfg.text, sizes[0], 1},
      {(void **)&m->und, nu * IM_NAME_LEN, 1},
      {(void **)&m->close, nu * nd * sizeof(double), 1},
      {(void **)&m->ivol, nu * nd * sizeof(double), sizes[6] != 0},
      {(void **)&m->funding, nu * nd * sizeof(double), sizes[7] != 0},
      {(void **)&m->volume, nu * nd * sizeof(double), sizes[8] != 0},
      {(void **)&m->high, nu * nd * sizeof(double), sizes[9] != 0},
      {(void **)&m->low, nu * nd * sizeof(double), sizes[10] != 0},
      {(void **)&b->instr, ni * sizeof(im_instrument), 1},
      {(void **)&b->id, np * IM_PORT_ID_LEN, 1},
      {(void **)&b->pos_start, (np + 1) * sizeof(size_t), 1},
      {(void **)&b->pos_instr, npos * sizeof(uint32_t), 1},
      {(void **)&b->pos_qty, npos * sizeof(double), 1},
  };
  im_status st = IM_OK;
  for (size_t i = 0; i < sizeof a / sizeof a[0] && !st; i++)
    if (a[i].present) st = bcast_alloc(a[i].p, a[i].n, rank, comm, err);
  return st;
}

im_status im_par_bcast_job(MPI_Comm comm, im_job *job, im_err *err) {
  int rank = 0;
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &rank));
  size_t sizes[11] = {0};
  if (rank == 0) {
    sizes[6] = job->mkt.ivol != NULL;
    sizes[7] = job->mkt.funding != NULL;
    sizes[8] = job->mkt.volume != NULL;
    sizes[9] = job->mkt.high != NULL;
    sizes[10] = job->mkt.low != NULL;
    sizes[0] = job->cfg.text ? strlen(job->cfg.text) + 1 : 0;
    sizes[1] = job->mkt.n_und;
    sizes[2] = job->mkt.n_days;
    sizes[3] = job->book.n_instr;
    sizes[4] = job->book.n_port;
    sizes[5] = job->book.n_port ? job->book.pos_start[job->book.n_port] : 0;
  }
  /* Pointers in the structs are meaningless on other ranks; they are
   * replaced by the broadcast arrays below. */
  if (!st) st = bcast_bytes(sizes, sizeof sizes, comm, err);
  if (!st) st = bcast_bytes(job, sizeof *job, comm, err);
  st = im_par_agree(comm, st);
  if (st) return st;
  if (rank != 0) {
    job->cfg.text = NULL;
    memset(&job->mkt, 0, sizeof job->mkt);
    memset(&job->book, 0, sizeof job->book);
    job->mkt.n_und = sizes[1];
    job->mkt.n_days = sizes[2];
    job->book.n_instr = sizes[3];
    job->book.n_port = sizes[4];
  }
  st = IM_MPI(err, MPI_Bcast, (&job->mkt.day0, 1, MPI_INT32_T, 0, comm));
  if (!st) st = bcast_arrays(job, sizes, rank, comm, err);
  return im_par_agree(comm, st);
}

void im_job_clear(im_job *job) {
  free(job->cfg.text);
  free(job->mkt.und);
  free(job->mkt.close);
  free(job->mkt.ivol);
  free(job->mkt.funding);
  free(job->mkt.volume);
  free(job->mkt.high);
  free(job->mkt.low);
  free(job->book.instr);
  free(job->book.id);
  free(job->book.pos_start);
  free(job->book.pos_instr);
  free(job->book.pos_qty);
  memset(job, 0, sizeof *job);
}

/* Dynamic schedule: a shared counter on rank 0, advanced with an atomic
 * fetch-and-add, hands the next item to whichever rank asks first; rank 0
 * computes too. Which rank computes an item never changes its values. A
 * window's error handler is not the communicator's: it is set to return. */
im_status im_par_queue_open(MPI_Comm comm, im_par_queue *q, im_err *err) {
  int rank = 0;
  q->counter = NULL;
  q->win = MPI_WIN_NULL;
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &rank));
  if (!st)
    st = IM_MPI(err, MPI_Win_allocate, (rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long),
                                        MPI_INFO_NULL, comm, &q->counter, &q->win));
  if (!st) st = IM_MPI(err, MPI_Win_set_errhandler, (q->win, MPI_ERRORS_RETURN));
  if (!st && rank == 0) {
    st = IM_MPI(err, MPI_Win_lock, (MPI_LOCK_EXCLUSIVE, 0, 0, q->win));
    *q->counter = 0;
    if (!st) st = IM_MPI(err, MPI_Win_unlock, (0, q->win));
  }
  /* Nobody takes an item before the counter is set. */
  return im_par_agree(comm, st);
}

im_status im_par_queue_next(im_par_queue *q, long *next, im_err *err) {
  const long one = 1;
  *next = -1;
  im_status st = IM_MPI(err, MPI_Win_lock, (MPI_LOCK_SHARED, 0, 0, q->win));
  if (!st) st = IM_MPI(err, MPI_Fetch_and_op, (&one, next, MPI_LONG, 0, 0, MPI_SUM, q->win));
  if (!st) st = IM_MPI(err, MPI_Win_unlock, (0, q->win));
  return st;
}

im_status im_par_queue_stop(im_par_queue *q, long past, im_err *err) {
  im_status st = IM_MPI(err, MPI_Win_lock, (MPI_LOCK_SHARED, 0, 0, q->win));
  if (!st) st = IM_MPI(err, MPI_Accumulate, (&past, 1, MPI_LONG, 0, 0, 1, MPI_LONG, MPI_REPLACE, q->win));
  if (!st) st = IM_MPI(err, MPI_Win_unlock, (0, q->win));
  return st;
}

im_status im_par_queue_close(im_par_queue *q, im_err *err) {
  if (q->win == MPI_WIN_NULL) return IM_OK;
  return IM_MPI(err, MPI_Win_free, (&q->win));
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* Tile sizes. Portfolio blocks of up to 512 share each date's scenario
 * vectors widely; date blocks give a tile about 2^20 evaluations (about a
 * second of work: the checkpoint granularity), cut further until every rank
 * has at least 8 tiles to balance. The configuration may fix either. */
static void plan_tiles(const im_config *cfg, size_t P, size_t T, size_t M, int size, size_t *pb,
                       size_t *db) {
  *pb = cfg->tile_portfolios ? (size_t)cfg->tile_portfolios : (P < 512 ? P : 512);
  if (*pb > P) *pb = P;
  if (*pb == 0) *pb = 1;
  if (cfg->tile_dates) {
    *db = (size_t)cfg->tile_dates;
  } else {
    *db = ceil_div((size_t)1 << 20, *pb);
    size_t want = 8 * (size_t)size, have_pd = M * ceil_div(P, *pb);
    if (have_pd * ceil_div(T, *db) < want) *db = ceil_div(T, ceil_div(want, have_pd));
  }
  if (*db > T) *db = T;
  if (*db == 0) *db = 1;
}

/* FNV-1a over the bytes the results depend on, to refuse resuming a
 * checkpoint with other market data or portfolios. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211u;
  return h;
}

static uint64_t inputs_hash(const im_job *job) {
  const im_market *m = &job->mkt;
  const im_book *b = &job->book;
  size_t npos = b->pos_start[b->n_port];
  uint64_t h = 1469598103934665603u;
  h = fnv(h, &m->day0, sizeof m->day0);
  h = fnv(h, m->und, m->n_und * IM_NAME_LEN);
  h = fnv(h, m->close, m->n_und * m->n_days * sizeof *m->close);
  if (m->ivol) h = fnv(h, m->ivol, m->n_und * m->n_days * sizeof *m->ivol);
  if (m->funding) h = fnv(h, m->funding, m->n_und * m->n_days * sizeof *m->funding);
  if (m->volume) h = fnv(h, m->volume, m->n_und * m->n_days * sizeof *m->volume);
  for (size_t i = 0; i < b->n_instr; i++) { /* field by field: the struct has padding */
    const im_instrument *in = &b->instr[i];
    const int32_t kind = (int32_t)in->kind;
    h = fnv(h, &in->und, sizeof in->und);
    h = fnv(h, &kind, sizeof kind);
    h = fnv(h, &in->tenor, sizeof in->tenor);
    h = fnv(h, &in->money, sizeof in->money);
  }
  h = fnv(h, b->id, b->n_port * IM_PORT_ID_LEN);
  h = fnv(h, b->pos_start, (b->n_port + 1) * sizeof *b->pos_start);
  h = fnv(h, b->pos_instr, npos * sizeof *b->pos_instr);
  h = fnv(h, b->pos_qty, npos * sizeof *b->pos_qty);
  h = fnv(h, &job->d0, sizeof job->d0);
  return fnv(h, &job->d1, sizeof job->d1);
}

static void progress_line(double t0, size_t started, size_t total, size_t resumed,
                          double evals_per_tile, int final) {
  double el = MPI_Wtime() - t0, rate = el > 0 ? (double)started * evals_per_tile / el : 0;
  double eta = started ? el * (double)(total - started) / (double)started : 0;
  fprintf(stderr, "\rimvar backtest: tiles %zu/%zu%s%s, %.3g portfolio-dates/s, elapsed %.0f s, ETA %.0f s%s",
          started + resumed, total + resumed, resumed ? " (resumed)" : "", final ? " done" : "",
          rate, el, final ? 0.0 : eta, final ? "\n" : "   ");
  fflush(stderr);
}

/* The run's tiling: planned, or with resume the checkpoint's (whatever the
 * rank count now). */
static im_status run_tiling(MPI_Comm comm, const im_job *job, const char *path, int resume,
                            int rank, int size, size_t *pb, size_t *db, im_err *err) {
  plan_tiles(&job->cfg, job->book.n_port, job->d1 - job->d0, job->cfg.n_models, size, pb, db);
  if (!resume) return IM_OK;
  im_status st = rank == 0 ? im_results_read_tiling(path, pb, db, err) : IM_OK;
  unsigned long tiling[2] = {*pb, *db};
  im_status bst = IM_MPI(err, MPI_Bcast, (tiling, 2, MPI_UNSIGNED_LONG, 0, comm));
  *pb = tiling[0];
  *db = tiling[1];
  return im_par_agree(comm, st ? st : bst);
}

im_status im_par_prepare(const im_model *m, const im_job *job, im_model_state **state,
                         im_model_scratch **scratch, im_tile *tile, im_err *err) {
  im_status st = im_model_prepare(m, &job->mkt, &job->book, state, err);
  if (!st && !(*scratch = im_model_scratch_alloc(*state)))
    st = im_err_set(err, IM_ENOMEM, "out of memory for model %s", m->name);
  const im_layer *layers[IM_TILE_MAX_LAYERS];
  if (!st) st = im_tile_reserve(tile, layers, im_tile_layers(m, layers), err);
  return st;
}

/* What the tile loop shares. */
typedef struct {
  const im_job *job;
  size_t pb, db, npb, ndb;
  const size_t *pending;
  size_t n_pending;
  im_model_state **state;
  im_model_scratch **scratch;
  im_tile *tile;
  im_results *res;
} tile_run;

/* Evaluates tile number `tile` (model, portfolio block, date block) and
 * writes it with its checkpoint mark. */
static im_status one_tile(const tile_run *r, size_t tile, im_err *err) {
  const size_t P = r->job->book.n_port, T = r->job->d1 - r->job->d0, d0 = r->job->d0;
  const size_t m = tile / (r->npb * r->ndb), rest = tile % (r->npb * r->ndb);
  const size_t p0 = (rest / r->ndb) * r->pb, t0 = (rest % r->ndb) * r->db;
  const size_t np = p0 + r->pb > P ? P - p0 : r->pb, nt = t0 + r->db > T ? T - t0 : r->db;
  im_status st = im_tile_eval(r->tile, &r->job->cfg.models[m], r->state[m], r->scratch[m], p0,
                              p0 + np, d0 + t0, d0 + t0 + nt, 1, NULL, err);
  if (!st) st = im_results_write_tile(r->res, m, p0, t0, r->tile, err);
  if (!st) st = im_results_mark_done(r->res, tile, err);
  return st;
}

/* The pending tiles on the dynamic schedule. A rank asked to stop (or that
 * failed) pushes the counter past the end, so that every rank stops after
 * its current tile. */
static im_status tile_loop(MPI_Comm comm, const tile_run *r, const im_par_opts *opts, int rank,
                           int size, im_par_stats *stats, im_err *err) {
  im_par_queue queue;
  im_status st = im_par_queue_open(comm, &queue, err);
  if (st) return st;
  const double t_start = MPI_Wtime(), evals_per_tile = (double)(r->pb * r->db);
  double last_print = t_start;
  /* Fault injection for the tests: behave as if SIGTERM arrived once this
   * rank has finished that many tiles. */
  const char *fault = getenv("IMVAR_FAULT_STOP_AFTER_TILES");
  const long stop_after = fault ? atol(fault) : -1, past = (long)r->n_pending + size + 1;
  /* ... and one that keeps a run alive for a while (each tile takes at
   * least that many ms), for the tests of concurrent runs. */
  const char *slow = getenv("IMVAR_FAULT_TILE_MS");
  const long tile_ms = slow ? atol(slow) : 0;
  int stopped = 0;
  for (long next = 0; !st;) {
    const int fault_now = stop_after >= 0 && (long)stats->tiles_mine >= stop_after;
    if (((opts->stop && *opts->stop) || fault_now) && !stopped) {
      stopped = 1;
      st = im_par_queue_stop(&queue, past, err);
    }
    if (!st) st = im_par_queue_next(&queue, &next, err);
    if (st || next < 0 || (size_t)next >= r->n_pending) break;
    st = one_tile(r, r->pending[next], err);
    if (tile_ms > 0) nanosleep(&(struct timespec){tile_ms / 1000, tile_ms % 1000 * 1000000}, NULL);
    if (st) im_par_queue_stop(&queue, past, NULL); /* the others stop too; st says why */
    else stats->tiles_mine++;
    if (rank == 0 && opts->progress && MPI_Wtime() - last_print >= 1.0) {
      progress_line(t_start, (size_t)next + 1, r->n_pending, stats->tiles_resumed, evals_per_tile, 0);
      last_print = MPI_Wtime();
    }
  }
  stats->seconds_tiles = MPI_Wtime() - t_start;
  im_status cst = im_par_queue_close(&queue, err);
  st = im_par_agree(comm, st ? st : cst);
  unsigned long mine = stats->tiles_mine, all = 0;
  if (!st) st = im_par_agree(comm, IM_MPI(err, MPI_Allreduce, (&mine, &all, 1, MPI_UNSIGNED_LONG,
                                                              MPI_SUM, comm)));
  stats->tiles_done = all;
  stats->interrupted = all < r->n_pending;
  if (!st && rank == 0 && opts->progress)
    progress_line(t_start, all, r->n_pending, stats->tiles_resumed, evals_per_tile, 1);
  return st;
}

/* Creates the results file, or reopens the checkpoint (done: its finished
 * tiles). */
static im_status open_results(MPI_Comm comm, const im_job *job, const char *created,
                              const char *path, int resume, int size, const int32_t *dates,
                              size_t n_tiles, size_t pb, size_t db, uint8_t *done,
                              im_results **res, im_err *err) {
  const im_config *cfg = &job->cfg;
  im_results_meta meta = {.config_text = cfg->text,
                          .created = created,
                          .ranks = size,
                          .n_dates = job->d1 - job->d0,
                          .dates = dates,
                          .n_port = job->book.n_port,
                          .ids = (const char(*)[IM_PORT_ID_LEN])job->book.id,
                          .n_models = cfg->n_models,
                          .models = cfg->models,
                          .n_tiles = n_tiles,
                          .tile_portfolios = pb,
                          .tile_dates = db,
                          .inputs_hash = inputs_hash(job),
                          .seed = (uint64_t)cfg->seed};
  im_status st = resume ? im_results_resume(comm, path, &meta, res, done, err)
                        : im_results_create(comm, path, &meta, res, err);
  return im_par_agree(comm, st);
}

im_status im_par_backtest(MPI_Comm comm, const im_job *job, const char *created, const char *path,
                          const im_par_opts *opts, im_par_stats *stats, im_err *err) {
  int rank = 0, size = 1;
  memset(stats, 0, sizeof *stats);
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &rank));
  if (!st) st = IM_MPI(err, MPI_Comm_size, (comm, &size));
  st = im_par_agree(comm, st);
  const size_t P = job->book.n_port, T = job->d1 - job->d0, M = job->cfg.n_models;
  const double t_prep = MPI_Wtime();
  size_t pb = 1, db = 1;
  if (!st) st = run_tiling(comm, job, path, opts->resume, rank, size, &pb, &db, err);
  if (st) return st;
  const size_t npb = ceil_div(P, pb), ndb = ceil_div(T, db), n_tiles = M * npb * ndb;
  stats->tiles = n_tiles;
  stats->tile_portfolios = pb;
  stats->tile_dates = db;

  int32_t *dates = malloc(T * sizeof *dates);
  uint8_t *done = calloc(n_tiles, 1);
  size_t *pending = malloc(n_tiles * sizeof *pending);
  im_model_state **state = calloc(M, sizeof *state);
  im_model_scratch **scratch = calloc(M, sizeof *scratch);
  im_tile tile;
  im_tile_init(&tile, pb * db, 1);
  if (!dates || !done || !pending || !state || !scratch)
    st = im_err_set(err, IM_ENOMEM, "out of memory for tile buffers");
  for (size_t t = 0; t < T && !st; t++)
    dates[t] = im_days_to_yyyymmdd(job->mkt.day0 + (int32_t)(job->d0 + t));
  for (size_t m = 0; m < M && !st; m++)
    st = im_par_prepare(&job->cfg.models[m], job, &state[m], &scratch[m], &tile, err);
  st = im_par_agree(comm, st);
  im_results *res = NULL;
  if (!st)
    st = open_results(comm, job, created, path, opts->resume, size, dates, n_tiles, pb, db, done,
                      &res, err);
  size_t n_pending = 0;
  for (size_t i = 0; i < n_tiles && !st; i++)
    if (!done[i]) pending[n_pending++] = i;
  stats->tiles_resumed = n_tiles - n_pending;
  stats->seconds_prepare = MPI_Wtime() - t_prep;
  const tile_run run = {job, pb, db, npb, ndb, pending, n_pending, state, scratch, &tile, res};
  if (!st) st = tile_loop(comm, &run, opts, rank, size, stats, err);
  im_status cst = im_results_close(res, st ? NULL : err);
  if (!st) st = im_par_agree(comm, cst);
  for (size_t m = 0; m < M && state; m++) {
    im_model_state_free(state[m]);
    if (scratch) im_model_scratch_free(scratch[m]);
  }
  im_tile_free(&tile);
  free(state);
  free(scratch);
  free(dates);
  free(done);
  free(pending);
  return st;
}

/* What validation shares: this rank's portfolios [p_lo, p_hi), read in
 * blocks of blk, and its rows. */
typedef struct {
  MPI_Comm comm;
  int rank, size;
  im_results *res;
  size_t P, T, p_lo, p_hi, blk;
  im_tile tile;
  im_bt_stats *rows, *sub, *all; /* all: rank 0 */
  int *counts, *displs;          /* rank 0 */
} vrun;

/* This rank's rows (and the sub-samples of an h-day core margin) of model m,
 * judged on its core (total 0) or total margin. */
static im_status validate_rows(vrun *v, size_t m, int total, im_err *err) {
  const im_model *md = im_results_model(v->res, m);
  const double p = 1.0 - md->confidence;
  const size_t h = (size_t)md->horizon, T = v->T;
  const im_bt_opts opts = im_bt_opts_default();
  im_status st = IM_OK;
  for (size_t b0 = v->p_lo; b0 < v->p_hi && !st; b0 += v->blk) {
    const size_t nb = b0 + v->blk > v->p_hi ? v->p_hi - b0 : v->blk;
    st = im_results_read_tile(v->res, m, b0, nb, &v->tile, err);
    if (st) break;
    const double *margin, *pnl = im_tile_find(&v->tile, IM_ROLE_PNL)->data;
    const int8_t *hits;
    im_tile_judged(&v->tile, 0, total, &margin, &hits);
    for (size_t i = 0; i < nb && !st; i++) {
      const size_t o = i * T;
      st = im_bt_compute(hits + o, pnl + o, margin + o, T, p, &opts, &v->rows[b0 - v->p_lo + i], err);
      for (size_t k = 0; k < h && h > 1 && !total && !st; k++)
        st = im_bt_subsample(hits + o, pnl + o, margin + o, T, h, k, p, &opts, &v->sub[i * h + k], err);
    }
    if (!st && h > 1 && !total) st = im_results_write_subsamples(v->res, m, b0, nb, v->sub, err);
  }
  /* Bounds depend only on (n_obs, h, p, seed): the same on every rank. */
  if (!st)
    st = im_bt_fill_overlap(v->rows, v->p_hi - v->p_lo, h, p, im_results_seed(v->res),
                            IM_PAR_OVERLAP_SIMS, err);
  if (!st) st = im_results_write_validation(v->res, m, total, v->p_lo, v->p_hi - v->p_lo, v->rows, err);
  return st;
}

/* Rank 0 gathers the rows in portfolio order and sums them in that order (no
 * floating-point reduction whose order depends on the rank count). */
static im_status summarise(vrun *v, size_t m, int total, im_err *err) {
  int mine = (int)((v->p_hi - v->p_lo) * sizeof *v->rows);
  im_status st = IM_MPI(err, MPI_Gather, (&mine, 1, MPI_INT, v->counts, 1, MPI_INT, 0, v->comm));
  st = im_par_agree(v->comm, st);
  if (!st && v->rank == 0)
    for (int r = 0, off = 0; r < v->size; r++) {
      v->displs[r] = off;
      off += v->counts[r];
    }
  if (!st)
    st = im_par_agree(v->comm, IM_MPI(err, MPI_Gatherv, (v->rows, mine, MPI_BYTE, v->all, v->counts,
                                                         v->displs, MPI_BYTE, 0, v->comm)));
  if (!st && v->rank == 0) {
    im_bt_summary sum;
    im_bt_summarise(v->all, v->P, 0.05, &sum);
    st = im_results_write_summary(v->res, m, total, &sum, err);
  }
  return im_par_agree(v->comm, st);
}

/* Buffers of validation: a tile of blk portfolios x all dates with every
 * layer the models have (about 16 MiB), this rank's rows, and rank 0's. */
static im_status validate_alloc(vrun *v, im_err *err) {
  const im_results *r = v->res;
  const size_t M = im_results_n_models(r), mine_n = v->p_hi - v->p_lo;
  size_t hmax = 1, cell = sizeof(double); /* the judged total */
  size_t n_cat;
  const im_layer *cat = im_layer_catalog(&n_cat);
  for (size_t k = 0; k < n_cat; k++) /* every layer some model has */
    for (size_t m = 0, found = 0; m < M && !found; m++) {
      const im_layer *l[IM_TILE_MAX_LAYERS];
      const size_t n = im_results_layers(r, m, l);
      for (size_t i = 0; i < n && !found; i++) found = l[i] == &cat[k];
      if (found) cell += im_elem_size(cat[k].elem);
    }
  for (size_t m = 0; m < M; m++)
    if ((size_t)im_results_model(r, m)->horizon > hmax) hmax = (size_t)im_results_model(r, m)->horizon;
  const size_t T = v->T ? v->T : 1;
  v->blk = (16u << 20) / (cell * T);
  if (v->blk < 1) v->blk = 1;
  if (v->blk > mine_n) v->blk = mine_n ? mine_n : 1;
  im_tile_init(&v->tile, v->blk * T, 1);
  im_status st = IM_OK;
  for (size_t m = 0; m < M && !st; m++) {
    const im_layer *l[IM_TILE_MAX_LAYERS];
    st = im_tile_reserve(&v->tile, l, im_results_layers(r, m, l), err);
  }
  v->rows = malloc((mine_n ? mine_n : 1) * sizeof *v->rows);
  v->sub = malloc(v->blk * hmax * sizeof *v->sub);
  if (v->rank == 0) {
    v->all = malloc((v->P ? v->P : 1) * sizeof *v->all);
    v->counts = malloc((size_t)v->size * sizeof *v->counts);
    v->displs = malloc((size_t)v->size * sizeof *v->displs);
  }
  if (!st && (!v->rows || !v->sub || (v->rank == 0 && (!v->all || !v->counts || !v->displs))))
    st = im_err_set(err, IM_ENOMEM, "out of memory for validation");
  return st;
}

static void validate_free(vrun *v) {
  im_tile_free(&v->tile);
  free(v->rows);
  free(v->sub);
  free(v->all);
  free(v->counts);
  free(v->displs);
}

im_status im_par_validate(MPI_Comm comm, const char *path, im_err *err) {
  vrun v = {.comm = comm, .rank = 0, .size = 1};
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &v.rank));
  if (!st) st = IM_MPI(err, MPI_Comm_size, (comm, &v.size));
  if (!st) st = im_results_open(comm, path, 1, &v.res, err);
  st = im_par_agree(comm, st);
  if (st) return st;
  st = im_par_agree(comm, im_results_begin_validation(v.res, err));
  v.P = im_results_n_port(v.res);
  v.T = im_results_n_dates(v.res);
  v.p_lo = v.P * (size_t)v.rank / (size_t)v.size;
  v.p_hi = v.P * (size_t)(v.rank + 1) / (size_t)v.size;
  if (!st) st = im_par_agree(comm, validate_alloc(&v, err));
  for (size_t m = 0; m < im_results_n_models(v.res) && !st; m++)
    for (int total = 0; total <= im_results_has_total(v.res, m) && !st; total++) {
      st = im_par_agree(comm, validate_rows(&v, m, total, err));
      if (!st) st = summarise(&v, m, total, err);
    }
  im_status cst = im_results_close(v.res, st ? NULL : err);
  if (!st) st = im_par_agree(comm, cst);
  validate_free(&v);
  return st;
}
