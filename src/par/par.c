#include "par.h"

#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "calendar.h"
#include "results_io.h"
#include "summary.h"

im_status im_par_agree(MPI_Comm comm, im_status local) {
  int in = (int)local, out = 0;
  if (MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) return IM_EMPI;
  return (im_status)out;
}

/* MPI counts are int: broadcast large buffers in pieces. */
static int bcast_bytes(void *buf, size_t n, MPI_Comm comm) {
  char *p = buf;
  while (n > 0) {
    int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
    int rc = MPI_Bcast(p, chunk, MPI_BYTE, 0, comm);
    if (rc != MPI_SUCCESS) return rc;
    p += chunk;
    n -= (size_t)chunk;
  }
  return MPI_SUCCESS;
}

/* Allocates *p on non-root ranks, then broadcasts n bytes into it. */
static int bcast_alloc(void **p, size_t n, int rank, MPI_Comm comm) {
  int ok = 1;
  if (rank != 0) {
    *p = malloc(n ? n : 1);
    ok = *p != NULL;
  }
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
  if (!all_ok) return MPI_ERR_NO_MEM;
  return bcast_bytes(*p, n, comm);
}

im_status im_par_bcast_job(MPI_Comm comm, im_job *job, im_err *err) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  size_t sizes[9];
  if (rank == 0) {
    sizes[6] = job->mkt.ivol != NULL;
    sizes[7] = job->mkt.funding != NULL;
    sizes[8] = job->mkt.volume != NULL;
    sizes[0] = job->cfg.text ? strlen(job->cfg.text) + 1 : 0;
    sizes[1] = job->mkt.n_und;
    sizes[2] = job->mkt.n_days;
    sizes[3] = job->book.n_instr;
    sizes[4] = job->book.n_port;
    sizes[5] = job->book.n_port ? job->book.pos_start[job->book.n_port] : 0;
  }
  /* Pointers in the structs are meaningless on other ranks; they are
   * replaced by the broadcast arrays below. */
  int rc = bcast_bytes(sizes, sizeof sizes, comm);
  if (rc == MPI_SUCCESS) rc = bcast_bytes(job, sizeof *job, comm);
  if (rc != MPI_SUCCESS) return im_err_set(err, IM_EMPI, "broadcast of the job failed");
  size_t nu = sizes[1], nd = sizes[2], ni = sizes[3], np = sizes[4], npos = sizes[5];
  if (rank != 0) {
    job->cfg.text = NULL;
    memset(&job->mkt, 0, sizeof job->mkt);
    memset(&job->book, 0, sizeof job->book);
    job->mkt.n_und = nu;
    job->mkt.n_days = nd;
    job->book.n_instr = ni;
    job->book.n_port = np;
  }
  MPI_Bcast(&job->mkt.day0, 1, MPI_INT32_T, 0, comm);
  if (rc == MPI_SUCCESS) rc = bcast_alloc((void **)&job->cfg.text, sizes[0], rank, comm);
  if (rc == MPI_SUCCESS) rc = bcast_alloc((void **)&job->mkt.und, nu * IM_NAME_LEN, rank, comm);
  if (rc == MPI_SUCCESS)
    rc = bcast_alloc((void **)&job->mkt.close, nu * nd * sizeof(double), rank, comm);
  if (rc == MPI_SUCCESS && sizes[6])
    rc = bcast_alloc((void **)&job->mkt.ivol, nu * nd * sizeof(double), rank, comm);
  if (rc == MPI_SUCCESS && sizes[7])
    rc = bcast_alloc((void **)&job->mkt.funding, nu * nd * sizeof(double), rank, comm);
  if (rc == MPI_SUCCESS && sizes[8])
    rc = bcast_alloc((void **)&job->mkt.volume, nu * nd * sizeof(double), rank, comm);
  if (rc == MPI_SUCCESS)
    rc = bcast_alloc((void **)&job->book.instr, ni * sizeof(im_instrument), rank, comm);
  if (rc == MPI_SUCCESS) rc = bcast_alloc((void **)&job->book.id, np * IM_PORT_ID_LEN, rank, comm);
  if (rc == MPI_SUCCESS)
    rc = bcast_alloc((void **)&job->book.pos_start, (np + 1) * sizeof(size_t), rank, comm);
  if (rc == MPI_SUCCESS)
    rc = bcast_alloc((void **)&job->book.pos_instr, npos * sizeof(uint32_t), rank, comm);
  if (rc == MPI_SUCCESS)
    rc = bcast_alloc((void **)&job->book.pos_qty, npos * sizeof(double), rank, comm);
  if (rc != MPI_SUCCESS)
    return im_err_set(err, rc == MPI_ERR_NO_MEM ? IM_ENOMEM : IM_EMPI,
                      "broadcast of the market data and portfolios failed");
  return IM_OK;
}

void im_job_clear(im_job *job) {
  free(job->cfg.text);
  free(job->mkt.und);
  free(job->mkt.close);
  free(job->mkt.ivol);
  free(job->mkt.funding);
  free(job->mkt.volume);
  free(job->book.instr);
  free(job->book.id);
  free(job->book.pos_start);
  free(job->book.pos_instr);
  free(job->book.pos_qty);
  memset(job, 0, sizeof *job);
}

/* Dynamic schedule: a shared counter on rank 0, advanced with an atomic
 * fetch-and-add, hands the next item to whichever rank asks first; rank 0
 * computes too. Which rank computes an item never changes its values. */
void im_par_queue_open(MPI_Comm comm, im_par_queue *q) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  q->counter = NULL;
  MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, comm,
                   &q->counter, &q->win);
  if (rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, q->win);
    *q->counter = 0;
    MPI_Win_unlock(0, q->win);
  }
  MPI_Barrier(comm);
}

long im_par_queue_next(im_par_queue *q) {
  const long one = 1;
  long next = -1;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, q->win);
  MPI_Fetch_and_op(&one, &next, MPI_LONG, 0, 0, MPI_SUM, q->win);
  MPI_Win_unlock(0, q->win);
  return next;
}

void im_par_queue_stop(im_par_queue *q, long past) {
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, q->win);
  MPI_Accumulate(&past, 1, MPI_LONG, 0, 0, 1, MPI_LONG, MPI_REPLACE, q->win);
  MPI_Win_unlock(0, q->win);
}

void im_par_queue_close(im_par_queue *q) { MPI_Win_free(&q->win); }

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

im_status im_par_backtest(MPI_Comm comm, const im_job *job, const char *created, const char *path,
                          const im_par_opts *opts, im_par_stats *stats, im_err *err) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const im_config *cfg = &job->cfg;
  const size_t P = job->book.n_port, T = job->d1 - job->d0, M = cfg->n_models;
  memset(stats, 0, sizeof *stats);
  double t_prep = MPI_Wtime();

  size_t pb, db;
  plan_tiles(cfg, P, T, M, size, &pb, &db);
  im_status st = IM_OK;
  if (opts->resume) {
    /* The checkpoint's tiling, whatever the rank count now. */
    unsigned long tiling[2] = {pb, db};
    if (rank == 0) st = im_results_read_tiling(path, &pb, &db, err);
    tiling[0] = pb;
    tiling[1] = db;
    MPI_Bcast(tiling, 2, MPI_UNSIGNED_LONG, 0, comm);
    pb = tiling[0];
    db = tiling[1];
    st = im_par_agree(comm, st);
    if (st) return st;
  }
  const size_t npb = ceil_div(P, pb), ndb = ceil_div(T, db), n_tiles = M * npb * ndb;
  stats->tiles = n_tiles;
  stats->tile_portfolios = pb;
  stats->tile_dates = db;

  int32_t *dates = malloc(T * sizeof *dates);
  uint8_t *done = calloc(n_tiles, 1);
  size_t *pending = malloc(n_tiles * sizeof *pending);
  im_model_state **state = calloc(M, sizeof *state);
  im_model_scratch **scratch = calloc(M, sizeof *scratch);
  double *tim = malloc(pb * db * sizeof *tim), *tpnl = malloc(pb * db * sizeof *tpnl);
  int8_t *texc = malloc(pb * db * sizeof *texc);
  double *tapc = malloc(pb * db * sizeof *tapc);
  double *tliq = malloc(pb * db * sizeof *tliq), *tconc = malloc(pb * db * sizeof *tconc);
  int8_t *ttot = malloc(pb * db * sizeof *ttot);
  if (!tapc || !tliq || !tconc || !ttot || !dates || !done || !pending || !state || !scratch || !tim || !tpnl || !texc)
    st = im_err_set(err, IM_ENOMEM, "out of memory for tile buffers");
  for (size_t t = 0; t < T && !st; t++)
    dates[t] = im_days_to_yyyymmdd(job->mkt.day0 + (int32_t)(job->d0 + t));
  for (size_t m = 0; m < M && !st; m++) {
    st = im_model_prepare(&cfg->models[m], &job->mkt, &job->book, &state[m], err);
    if (!st && !(scratch[m] = im_model_scratch_alloc(state[m])))
      st = im_err_set(err, IM_ENOMEM, "out of memory for model %s", cfg->models[m].name);
  }
  st = im_par_agree(comm, st);

  im_results *res = NULL;
  if (!st) {
    im_results_meta meta = {.config_text = cfg->text,
                            .created = created,
                            .ranks = size,
                            .n_dates = T,
                            .dates = dates,
                            .n_port = P,
                            .ids = (const char(*)[IM_PORT_ID_LEN])job->book.id,
                            .n_models = M,
                            .models = cfg->models,
                            .n_tiles = n_tiles,
                            .tile_portfolios = pb,
                            .tile_dates = db,
                            .inputs_hash = inputs_hash(job),
                            .seed = (uint64_t)cfg->seed};
    st = opts->resume ? im_results_resume(comm, path, &meta, &res, done, err)
                      : im_results_create(comm, path, &meta, &res, err);
    st = im_par_agree(comm, st);
  }
  size_t n_pending = 0;
  for (size_t i = 0; i < n_tiles && !st; i++)
    if (!done[i]) pending[n_pending++] = i;
  stats->tiles_resumed = n_tiles - n_pending;
  stats->seconds_prepare = MPI_Wtime() - t_prep;

  if (!st) {
    /* Pending tiles on the dynamic schedule. A rank asked to stop pushes the
     * counter past the end, so that every rank stops after its current tile. */
    im_par_queue queue;
    im_par_queue_open(comm, &queue);
    const double t_start = MPI_Wtime(), evals_per_tile = (double)(pb * db);
    double last_print = t_start;
    im_status local = IM_OK;
    int stopped = 0;
    /* Fault injection for the tests: behave as if SIGTERM arrived once this
     * rank has finished that many tiles. */
    const char *fault = getenv("IMVAR_FAULT_STOP_AFTER_TILES");
    const long stop_after = fault ? atol(fault) : -1;
    for (;;) {
      const int fault_now = stop_after >= 0 && (long)stats->tiles_mine >= stop_after;
      if (((opts->stop && *opts->stop) || fault_now) && !stopped) {
        stopped = 1;
        im_par_queue_stop(&queue, (long)n_pending + size + 1);
      }
      const long next = im_par_queue_next(&queue);
      if (next < 0 || (size_t)next >= n_pending) break;
      if (local) continue; /* drain the counter; this rank has already failed */
      size_t tile = pending[next], m = tile / (npb * ndb), rest = tile % (npb * ndb);
      size_t p0 = (rest / ndb) * pb, t0 = (rest % ndb) * db;
      size_t np = p0 + pb > P ? P - p0 : pb, nt = t0 + db > T ? T - t0 : db;
      im_model_eval_tile(state[m], scratch[m], p0, p0 + np, job->d0 + t0, job->d0 + t0 + nt, tim,
                         tpnl, texc);
      if (im_model_has_apc(&cfg->models[m]))
        im_model_apc_tile(state[m], scratch[m], p0, p0 + np, job->d0 + t0, job->d0 + t0 + nt, tim,
                          tpnl, tapc, ttot);
      if (im_model_has_addons(&cfg->models[m])) /* after the APC layer: the total includes it */
        im_model_addon_tile(state[m], p0, p0 + np, job->d0 + t0, job->d0 + t0 + nt, tim, tpnl,
                            im_model_has_apc(&cfg->models[m]) ? tapc : NULL, tliq, tconc, ttot);
      local = im_results_write_tile(res, m, p0, np, t0, nt, tim, tpnl, texc, tapc, tliq, tconc,
                                    ttot, err);
      if (!local) local = im_results_mark_done(res, tile, err);
      if (!local) stats->tiles_mine++;
      if (rank == 0 && opts->progress && MPI_Wtime() - last_print >= 1.0) {
        progress_line(t_start, (size_t)next + 1, n_pending, stats->tiles_resumed, evals_per_tile, 0);
        last_print = MPI_Wtime();
      }
    }
    stats->seconds_tiles = MPI_Wtime() - t_start;
    im_par_queue_close(&queue);
    st = im_par_agree(comm, local);
    unsigned long mine = stats->tiles_mine, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG, MPI_SUM, comm);
    stats->tiles_done = all;
    stats->interrupted = all < n_pending;
    if (rank == 0 && opts->progress)
      progress_line(t_start, all, n_pending, stats->tiles_resumed, evals_per_tile, 1);
  }
  im_status cst = im_results_close(res, st ? NULL : err);
  if (!st) st = im_par_agree(comm, cst);
  for (size_t m = 0; m < M && state; m++) {
    im_model_state_free(state[m]);
    if (scratch) im_model_scratch_free(scratch[m]);
  }
  free(state);
  free(scratch);
  free(tim);
  free(tpnl);
  free(texc);
  free(tapc);
  free(tliq);
  free(tconc);
  free(ttot);
  free(dates);
  free(done);
  free(pending);
  return st;
}

/* Simulated paths behind the overlap-corrected traffic light (h > 1). */

im_status im_par_validate(MPI_Comm comm, const char *path, im_err *err) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  im_results *res = NULL;
  im_status st = im_par_agree(comm, im_results_open(comm, path, 1, &res, err));
  if (st) return st;
  st = im_par_agree(comm, im_results_begin_validation(res, err));
  const size_t P = im_results_n_port(res), T = im_results_n_dates(res);
  const size_t p_lo = P * (size_t)rank / (size_t)size, p_hi = P * (size_t)(rank + 1) / (size_t)size;
  const size_t mine_n = p_hi - p_lo;
  size_t hmax = 1;
  for (size_t m = 0; m < im_results_n_models(res); m++)
    if ((size_t)im_results_model(res, m)->horizon > hmax) hmax = (size_t)im_results_model(res, m)->horizon;
  /* Portfolio blocks of at most ~16 MiB of flags, margins and P&L. */
  size_t blk = T ? (16u << 20) / (25 * T) : 1;
  if (blk < 1) blk = 1;
  if (blk > mine_n) blk = mine_n ? mine_n : 1;
  int8_t *hits = malloc(blk * (T ? T : 1));
  double *im = malloc(blk * (T ? T : 1) * sizeof *im), *pnl = malloc(blk * (T ? T : 1) * sizeof *pnl);
  double *apc = malloc(blk * (T ? T : 1) * sizeof *apc);
  im_bt_stats *rows = malloc((mine_n ? mine_n : 1) * sizeof *rows);
  im_bt_stats *sub = malloc(blk * hmax * sizeof *sub);
  im_bt_stats *all = rank == 0 ? malloc((P ? P : 1) * sizeof *all) : NULL;
  int *counts = rank == 0 ? malloc((size_t)size * sizeof *counts) : NULL;
  int *displs = rank == 0 ? malloc((size_t)size * sizeof *displs) : NULL;
  im_status local = IM_OK;
  if (!hits || !im || !pnl || !apc || !rows || !sub || (rank == 0 && (!all || !counts || !displs)))
    local = im_err_set(err, IM_ENOMEM, "out of memory for validation");
  if (!st) st = im_par_agree(comm, local);
  const im_bt_opts opts = im_bt_opts_default();
  for (size_t m = 0; m < im_results_n_models(res) && !st; m++)
    for (int total = 0; total <= im_results_has_total(res, m) && !st; total++) {
      const im_model *md = im_results_model(res, m);
      const double p = 1.0 - md->confidence;
      const size_t h = (size_t)md->horizon;
      for (size_t b0 = p_lo; b0 < p_hi && !local; b0 += blk) {
        size_t nb = b0 + blk > p_hi ? p_hi - b0 : blk;
        local = im_results_read_exceed(res, m, b0, nb, hits, err);
        if (!local) local = im_results_read_rows(res, m, b0, nb, im, pnl, err);
        if (!local && total) { /* the total margin and its flags instead of the core's */
          local = im_results_read_total(res, m, b0, nb, apc, hits, err);
          for (size_t i = 0; i < nb * T; i++) im[i] += apc[i];
        }
        for (size_t i = 0; i < nb && !local; i++) {
          const size_t o = i * T;
          local = im_bt_compute(hits + o, pnl + o, im + o, T, p, &opts, &rows[b0 - p_lo + i], err);
          for (size_t k = 0; k < h && h > 1 && !total && !local; k++)
            local = im_bt_subsample(hits + o, pnl + o, im + o, T, h, k, p, &opts, &sub[i * h + k], err);
        }
        if (!local && h > 1 && !total) local = im_results_write_subsamples(res, m, b0, nb, sub, err);
      }
      /* Bounds depend only on (n_obs, h, p, seed): the same on every rank. */
      if (!local)
        local = im_bt_fill_overlap(rows, mine_n, h, p, im_results_seed(res), IM_PAR_OVERLAP_SIMS, err);
      if (!local) local = im_results_write_validation(res, m, total, p_lo, mine_n, rows, err);
      st = im_par_agree(comm, local);
      if (st) break;
      /* Rank 0 gathers the rows in portfolio order and sums them in that order
       * (no floating-point reduction whose order depends on the rank count). */
      int mine = (int)(mine_n * sizeof *rows);
      MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
      if (rank == 0)
        for (int r = 0, off = 0; r < size; r++) {
          displs[r] = off;
          off += counts[r];
        }
      MPI_Gatherv(rows, mine, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, comm);
      if (rank == 0) {
        im_bt_summary sum;
        im_bt_summarise(all, P, 0.05, &sum);
        local = im_results_write_summary(res, m, total, &sum, err);
      }
      st = im_par_agree(comm, local);
    }
  im_status cst = im_results_close(res, st ? NULL : err);
  if (!st) st = im_par_agree(comm, cst);
  free(hits);
  free(im);
  free(pnl);
  free(apc);
  free(rows);
  free(sub);
  free(all);
  free(counts);
  free(displs);
  return st;
}
