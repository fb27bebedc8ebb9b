/* The calibration sweep: parameter sets x portfolio blocks as work items on
 * the dynamic schedule of the backtest; per-portfolio rows gathered to rank
 * 0, which sums them into metrics in portfolio order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"
#include "par_internal.h"

/* Sets that differ only in confidence and measure share one model state and
 * one set of scenarios (im_tile_eval at several levels). Sets with layers
 * beyond the core margin are evaluated alone: the layers read the model's own
 * level. */
typedef struct {
  size_t n_lev;
  size_t set[IM_MAX_LEVELS]; /* indices into cal->sets */
} group;

static int groupable(const im_model *a, const im_model *b) {
  if (!im_tile_core_only(a) || !im_tile_core_only(b)) return 0;
  im_model x = *a, y = *b;
  x.confidence = y.confidence;
  x.measure = y.measure;
  return im_cal_same_params(&x, &y, -1);
}

static size_t make_groups(const im_calib *cal, size_t chunk, size_t n_chunks, group *g) {
  size_t n = 0;
  for (size_t i = 0; i < cal->n_sets; i++) {
    if (i % n_chunks != chunk) continue;
    size_t j = 0;
    while (j < n && !(g[j].n_lev < IM_MAX_LEVELS && groupable(&cal->sets[g[j].set[0]], &cal->sets[i])))
      j++;
    if (j == n) g[n++].n_lev = 0;
    g[j].set[g[j].n_lev++] = i;
  }
  return n;
}

im_status im_par_bcast_calib(MPI_Comm comm, im_calib *cal, im_err *err) {
  int rank = 0, ok = 1, all = 0;
  im_model *sets = cal->sets;
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &rank));
  if (!st) st = IM_MPI(err, MPI_Bcast, (cal, sizeof *cal, MPI_BYTE, 0, comm));
  st = im_par_agree(comm, st);
  if (st) return st;
  if (rank != 0) ok = (cal->sets = malloc(cal->n_sets * sizeof *cal->sets)) != NULL;
  else cal->sets = sets;
  st = IM_MPI(err, MPI_Allreduce, (&ok, &all, 1, MPI_INT, MPI_MIN, comm));
  if (!st && !all) st = im_err_set(err, IM_ENOMEM, "out of memory for the parameter sets");
  if (!st)
    st = IM_MPI(err, MPI_Bcast, (cal->sets, (int)(cal->n_sets * sizeof *cal->sets), MPI_BYTE, 0, comm));
  return im_par_agree(comm, st);
}

/* Market day range [a, b) of period p within the job's dates [d0, d1)
 * (a == b: none). Both ends are clamped to the job's dates: a period wholly
 * after them once gave a start past the market's end, and the sweep ran its
 * tiles off the end of the price arrays. */
static void period_days(const im_job *job, const im_period *p, size_t *a, size_t *b) {
  const int64_t lo = job->mkt.day0 + (int64_t)job->d0, hi = job->mkt.day0 + (int64_t)job->d1 - 1;
  int64_t s = p->start_day == INT32_MIN ? lo : p->start_day;
  int64_t e = p->end_day == INT32_MAX ? hi : p->end_day;
  if (s < lo) s = lo;
  if (s > hi + 1) s = hi + 1;
  if (e > hi) e = hi;
  *a = (size_t)(s - job->mkt.day0);
  *b = e >= s ? (size_t)(e - job->mkt.day0) + 1 : *a;
}

/* Growable buffer of this rank's results: per item, its rows. */
typedef struct {
  long *items;
  im_cal_row *rows;
  size_t n_items, n_rows, cap_items, cap_rows;
} results;

static int results_add(results *r, long item, const im_cal_row *rows, size_t n) {
  if (r->n_items == r->cap_items) {
    size_t cap = r->cap_items ? 2 * r->cap_items : 64;
    long *p = realloc(r->items, cap * sizeof *p);
    if (!p) return -1;
    r->items = p;
    r->cap_items = cap;
  }
  if (r->n_rows + n > r->cap_rows) {
    size_t cap = r->cap_rows ? 2 * r->cap_rows : 1024;
    while (cap < r->n_rows + n) cap *= 2;
    im_cal_row *p = realloc(r->rows, cap * sizeof *p);
    if (!p) return -1;
    r->rows = p;
    r->cap_rows = cap;
  }
  r->items[r->n_items++] = item;
  memcpy(r->rows + r->n_rows, rows, n * sizeof *rows);
  r->n_rows += n;
  return 0;
}

/* The distinct (horizon, confidence) pairs of the h > 1 sets of this chunk
 * and, per pair k, the distinct observation counts of their rows:
 * len[off[k] .. off[k+1]). */
typedef struct {
  long n_pairs, n_len;
  long *ph, *off, *len;
  double *pc;
} zone_pairs;

static void zone_pairs_free(zone_pairs *z) {
  free(z->ph);
  free(z->pc);
  free(z->off);
  free(z->len);
}

static im_status zone_pairs_alloc(zone_pairs *z, size_t n_pairs, size_t n_len, im_err *err) {
  z->ph = malloc((n_pairs + 1) * sizeof *z->ph);
  z->pc = malloc((n_pairs + 1) * sizeof *z->pc);
  z->off = malloc((n_pairs + 2) * sizeof *z->off);
  z->len = malloc((n_len + 1) * sizeof *z->len);
  if (!z->ph || !z->pc || !z->off || !z->len) return im_err_set(err, IM_ENOMEM, "out of memory for the zones");
  return IM_OK;
}

/* Whether set m is the first of its pair not yet listed. */
static int new_pair(const zone_pairs *z, const im_model *m) {
  for (long j = 0; j < z->n_pairs; j++)
    if (z->ph[j] == m->horizon && z->pc[j] == m->confidence) return 0;
  return 1;
}

/* Rank 0: lists the pairs in set order, and their lengths from the rows. */
static im_status list_pairs(const im_calib *cal, const uint8_t *mine, size_t P,
                            const im_cal_row *all, zone_pairs *z, im_err *err) {
  const size_t S = cal->n_sets, Q = cal->n_periods;
  im_status st = zone_pairs_alloc(z, S, S * Q * P, err);
  for (size_t first = 0; !st && first < S; first++) {
    const im_model *m = &cal->sets[first];
    if (!mine[first] || m->horizon <= 1 || !new_pair(z, m)) continue;
    const long k = z->n_pairs++;
    z->ph[k] = m->horizon;
    z->pc[k] = m->confidence;
    z->off[k] = z->n_len;
    for (size_t i = first; i < S; i++) {
      if (!mine[i] || cal->sets[i].horizon != z->ph[k] || cal->sets[i].confidence != z->pc[k]) continue;
      for (size_t r = 0; r < Q * P; r++) {
        const long n = (long)all[i * Q * P + r].n_obs;
        int seen = n <= 0;
        for (long j = z->off[k]; j < z->n_len && !seen; j++) seen = z->len[j] == n;
        if (!seen) z->len[z->n_len++] = n;
      }
    }
  }
  if (!st) z->off[z->n_pairs] = z->n_len;
  return st;
}

/* Everyone gets rank 0's list. */
static im_status share_pairs(MPI_Comm comm, int rank, zone_pairs *z, im_err *err) {
  long counts[2] = {z->n_pairs, z->n_len};
  im_status st = im_par_agree(comm, IM_MPI(err, MPI_Bcast, (counts, 2, MPI_LONG, 0, comm)));
  if (st) return st;
  z->n_pairs = counts[0];
  z->n_len = counts[1];
  if (rank != 0) st = zone_pairs_alloc(z, (size_t)z->n_pairs, (size_t)z->n_len, err);
  st = im_par_agree(comm, st);
  if (st || !z->n_pairs) return st;
  st = IM_MPI(err, MPI_Bcast, (z->ph, (int)z->n_pairs, MPI_LONG, 0, comm));
  if (!st) st = IM_MPI(err, MPI_Bcast, (z->pc, (int)z->n_pairs, MPI_DOUBLE, 0, comm));
  if (!st) st = IM_MPI(err, MPI_Bcast, (z->off, (int)z->n_pairs + 1, MPI_LONG, 0, comm));
  if (!st) st = IM_MPI(err, MPI_Bcast, (z->len, (int)z->n_len, MPI_LONG, 0, comm));
  return im_par_agree(comm, st);
}

/* The simulated bounds of every (pair, length), one pair per rank in turn,
 * summed on rank 0 into g0, y0 (each entry computed by one rank, zero
 * elsewhere: the sum is exact). */
static im_status simulate_bounds(MPI_Comm comm, int rank, int size, const zone_pairs *z,
                                 uint64_t seed, int64_t *g0, int64_t *y0, im_err *err) {
  int64_t *g = calloc((size_t)z->n_len + 1, sizeof *g), *y = calloc((size_t)z->n_len + 1, sizeof *y);
  size_t *l = malloc(((size_t)z->n_len + 1) * sizeof *l);
  im_status st = g && y && l ? IM_OK : im_err_set(err, IM_ENOMEM, "out of memory for the zones");
  for (long k = rank; k < z->n_pairs && !st; k += size) {
    const size_t m = (size_t)(z->off[k + 1] - z->off[k]);
    for (size_t j = 0; j < m; j++) l[j] = (size_t)z->len[z->off[k] + (long)j];
    if (m)
      st = im_bt_overlap_bounds_multi(l, m, (size_t)z->ph[k], 1 - z->pc[k], seed, IM_PAR_OVERLAP_SIMS,
                                      g + z->off[k], y + z->off[k], err);
  }
  st = im_par_agree(comm, st);
  if (!st) st = IM_MPI(err, MPI_Reduce, (g, g0, (int)z->n_len, MPI_INT64_T, MPI_SUM, 0, comm));
  if (!st) st = IM_MPI(err, MPI_Reduce, (y, y0, (int)z->n_len, MPI_INT64_T, MPI_SUM, 0, comm));
  free(g);
  free(y);
  free(l);
  return im_par_agree(comm, st);
}

/* Rank 0: each h > 1 row's zone from the bounds of its pair and length. */
static void assign_zones(const im_calib *cal, const uint8_t *mine, size_t P, const zone_pairs *z,
                         const int64_t *g0, const int64_t *y0, im_cal_row *all) {
  const size_t S = cal->n_sets, Q = cal->n_periods;
  for (size_t i = 0; i < S; i++) {
    const im_model *m = &cal->sets[i];
    if (!mine[i] || m->horizon <= 1) continue;
    long k = 0;
    while (z->ph[k] != m->horizon || z->pc[k] != m->confidence) k++;
    for (size_t r = 0; r < Q * P; r++) {
      im_cal_row *row = &all[i * Q * P + r];
      long j = z->off[k];
      while (j < z->off[k + 1] && z->len[j] != (long)row->n_obs) j++;
      row->zone = j < z->off[k + 1] ? im_cal_zone(row->n_obs, row->n_exceed, g0[j], y0[j]) : -1;
    }
  }
}

/* Sets the zones of the rows of horizon h > 1 (all[set][period][P]) from the
 * simulated overlap bounds: one simulation per distinct (h, confidence),
 * shared out among the ranks. Collective; the rows live on rank 0. */
static im_status fill_zones(MPI_Comm comm, const im_calib *cal, const uint8_t *mine, size_t P,
                            uint64_t seed, im_cal_row *all, im_err *err) {
  int rank = 0, size = 1;
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &rank));
  if (!st) st = IM_MPI(err, MPI_Comm_size, (comm, &size));
  zone_pairs z = {0};
  if (!st && rank == 0) st = list_pairs(cal, mine, P, all, &z, err);
  st = im_par_agree(comm, st);
  if (!st) st = share_pairs(comm, rank, &z, err);
  int64_t *g0 = NULL, *y0 = NULL;
  if (!st && rank == 0) {
    g0 = calloc((size_t)z.n_len + 1, sizeof *g0);
    y0 = calloc((size_t)z.n_len + 1, sizeof *y0);
    if (!g0 || !y0) st = im_err_set(err, IM_ENOMEM, "out of memory for the zones");
  }
  st = im_par_agree(comm, st);
  if (!st && z.n_pairs) st = simulate_bounds(comm, rank, size, &z, seed, g0, y0, err);
  if (!st && rank == 0) assign_zones(cal, mine, P, &z, g0, y0, all);
  zone_pairs_free(&z);
  free(g0);
  free(y0);
  return st;
}

/* What the sweep shares. Items are (group, portfolio block) pairs. */
typedef struct {
  const im_job *job;
  const im_calib *cal;
  const group *groups;
  size_t G, pb, nb, n_items;
  size_t e0, e1, pa[IM_MAX_PERIODS], pz[IM_MAX_PERIODS]; /* market days */
  im_model_state **state;                                 /* [G], prepared when first needed */
  im_model_scratch **scratch;
  im_tile tile;
  im_cal_row *rows; /* one item's [level][period][portfolio] */
  results res;      /* this rank's items */
} sweep;

/* The rows of one item: each set of the group judged on its margin (the
 * total margin and its flags for a set with layers) over each period. */
static im_status one_item(sweep *sw, long item, im_err *err) {
  const size_t gi = (size_t)item / sw->nb, p0 = ((size_t)item % sw->nb) * sw->pb;
  const size_t P = sw->job->book.n_port, Q = sw->cal->n_periods, T = sw->e1 - sw->e0;
  const size_t np = p0 + sw->pb > P ? P - p0 : sw->pb;
  const group *g = &sw->groups[gi];
  const im_model *rep = &sw->cal->sets[g->set[0]];
  im_status st = IM_OK;
  if (!sw->state[gi])
    st = im_par_prepare(rep, sw->job, &sw->state[gi], &sw->scratch[gi], &sw->tile, err);
  im_level lev[IM_MAX_LEVELS];
  for (size_t l = 0; l < g->n_lev; l++)
    lev[l] = (im_level){sw->cal->sets[g->set[l]].confidence, sw->cal->sets[g->set[l]].measure};
  if (!st)
    st = im_tile_eval(&sw->tile, rep, sw->state[gi], sw->scratch[gi], p0, p0 + np, sw->e0, sw->e1,
                      g->n_lev, lev, err);
  const double *pnl = st ? NULL : im_tile_find(&sw->tile, IM_ROLE_PNL)->data;
  for (size_t l = 0; l < g->n_lev && !st; l++) {
    const im_model *m = &sw->cal->sets[g->set[l]];
    const double *margin;
    const int8_t *ex;
    im_tile_judged(&sw->tile, l, 1, &margin, &ex);
    for (size_t q = 0; q < Q && !st; q++)
      for (size_t i = 0; i < np && !st; i++) {
        const size_t o = i * T + (sw->pa[q] - sw->e0);
        st = im_cal_row_compute(ex + o, pnl + o, margin + o, sw->pz[q] - sw->pa[q],
                                (size_t)m->horizon, 1 - m->confidence,
                                &sw->rows[(l * Q + q) * np + i], err);
      }
  }
  if (!st && results_add(&sw->res, item, sw->rows, g->n_lev * Q * np))
    st = im_err_set(err, IM_ENOMEM, "out of memory for the calibration results");
  return st;
}

/* The items on the dynamic schedule of the backtest. When *stop is set,
 * every rank stops after its current item (*interrupted: not all done). */
static im_status sweep_items(MPI_Comm comm, sweep *sw, int rank, int size, int progress,
                             volatile sig_atomic_t *stop, int *interrupted, im_err *err) {
  im_par_queue queue;
  im_status st = im_par_queue_open(comm, &queue, err);
  if (st) return st;
  const double t_start = MPI_Wtime();
  double last = t_start;
  int stopped = 0;
  unsigned long done = 0, all_done = 0;
  const long past = (long)sw->n_items + size + 1;
  for (long item = 0; !st;) {
    st = im_par_queue_next(&queue, &item, err);
    if (st || item < 0 || (size_t)item >= sw->n_items) break;
    if (stop && *stop && !stopped) { /* every rank stops after its current item */
      stopped = 1;
      st = im_par_queue_stop(&queue, past, err);
      continue;
    }
    done++;
    st = one_item(sw, item, err);
    if (st) im_par_queue_stop(&queue, past, NULL); /* the others stop too; st says why */
    if (rank == 0 && progress && MPI_Wtime() - last >= 1.0) {
      const double el = MPI_Wtime() - t_start, started = (double)item + 1;
      fprintf(stderr, "\rimvar calibrate: items %ld/%zu, elapsed %.0f s, ETA %.0f s   ", item + 1,
              sw->n_items, el, el * ((double)sw->n_items - started) / started);
      fflush(stderr);
      last = MPI_Wtime();
    }
  }
  im_status cst = im_par_queue_close(&queue, err);
  st = im_par_agree(comm, st ? st : cst);
  if (!st)
    st = im_par_agree(comm, IM_MPI(err, MPI_Allreduce, (&done, &all_done, 1, MPI_UNSIGNED_LONG,
                                                        MPI_SUM, comm)));
  *interrupted = all_done < sw->n_items;
  if (!st && rank == 0 && progress && !*interrupted)
    fprintf(stderr, "\rimvar calibrate: items %zu/%zu done, %.1f s%20s\n", sw->n_items,
            sw->n_items, MPI_Wtime() - t_start, "");
  return st;
}

/* Rank 0 gathers every item's rows into all[set][period][P] (allocated
 * there, zone -1 where no set of this chunk). */
static im_status gather_rows(MPI_Comm comm, const sweep *sw, int rank, int size, size_t n_mine,
                             im_cal_row **all_out, im_err *err) {
  const size_t S = sw->cal->n_sets, Q = sw->cal->n_periods, P = sw->job->book.n_port;
  im_cal_row *all = NULL, *gathered = NULL;
  long *items = NULL;
  int *cnt = NULL, *both = NULL;
  im_status st = IM_OK;
  if (rank == 0) {
    all = malloc((S * Q * P + 1) * sizeof *all);
    items = malloc((sw->n_items ? sw->n_items : 1) * sizeof *items);
    gathered = malloc((n_mine * Q * P + 1) * sizeof *gathered);
    cnt = malloc(4 * (size_t)size * sizeof *cnt);
    both = malloc(2 * (size_t)size * sizeof *both);
    if (!all || !items || !gathered || !cnt || !both) st = im_err_set(err, IM_ENOMEM, "out of memory");
  }
  st = im_par_agree(comm, st);
  int *dsp = NULL, *rcnt = NULL, *rdsp = NULL;
  if (cnt) {
    dsp = cnt + size;
    rcnt = cnt + 2 * size;
    rdsp = cnt + 3 * size;
  }
  int mine_n[2] = {(int)sw->res.n_items, (int)(sw->res.n_rows * sizeof(im_cal_row))};
  if (!st) st = im_par_agree(comm, IM_MPI(err, MPI_Gather, (mine_n, 2, MPI_INT, both, 2, MPI_INT, 0, comm)));
  if (!st && rank == 0)
    for (int r = 0, a = 0, b = 0; r < size; r++) {
      cnt[r] = both[2 * r];
      rcnt[r] = both[2 * r + 1];
      dsp[r] = a;
      rdsp[r] = b;
      a += cnt[r];
      b += rcnt[r];
    }
  if (!st)
    st = im_par_agree(comm, IM_MPI(err, MPI_Gatherv, (sw->res.items, (int)sw->res.n_items, MPI_LONG,
                                                      items, cnt, dsp, MPI_LONG, 0, comm)));
  if (!st)
    st = im_par_agree(comm, IM_MPI(err, MPI_Gatherv, (sw->res.rows, mine_n[1], MPI_BYTE, gathered,
                                                      rcnt, rdsp, MPI_BYTE, 0, comm)));
  if (!st && rank == 0) {
    for (size_t i = 0; i < S * Q * P; i++) all[i] = (im_cal_row){.zone = -1};
    size_t at = 0;
    for (size_t k = 0; k < sw->n_items; k++) {
      const size_t gi = (size_t)items[k] / sw->nb, p0 = ((size_t)items[k] % sw->nb) * sw->pb;
      const size_t np = p0 + sw->pb > P ? P - p0 : sw->pb;
      for (size_t l = 0; l < sw->groups[gi].n_lev; l++)
        for (size_t q = 0; q < Q; q++)
          for (size_t i = 0; i < np; i++) all[(sw->groups[gi].set[l] * Q + q) * P + p0 + i] = gathered[at++];
    }
  }
  free(items);
  free(gathered);
  free(cnt);
  free(both);
  if (st) free(all);
  *all_out = st ? NULL : all;
  return st;
}

/* The sweep's dates: the union of the periods within the job's (pa, pz per
 * period). Every period must hold a date (the caller checks it with the
 * configuration's name; this is the sweep's own guard). */
static im_status sweep_dates(const im_job *job, const im_calib *cal, sweep *sw, im_err *err) {
  sw->e0 = job->d1;
  sw->e1 = job->d0;
  for (size_t q = 0; q < cal->n_periods; q++) {
    period_days(job, &cal->periods[q], &sw->pa[q], &sw->pz[q]);
    if (sw->pa[q] >= sw->pz[q])
      return im_err_set(err, IM_EINVAL, "calibrate: period '%s' selects no backtest date",
                        cal->periods[q].name);
    if (sw->pa[q] < sw->e0) sw->e0 = sw->pa[q];
    if (sw->pz[q] > sw->e1) sw->e1 = sw->pz[q];
  }
  return IM_OK;
}

/* Portfolio blocks: up to 128 portfolios (a few tens of MB of margins at 16
 * levels and 10 years), cut until every rank has 4 items. */
static void sweep_blocks(sweep *sw, size_t P, int size) {
  size_t pb = P < 128 ? P : 128;
  while (pb > 1 && sw->G * ((P + pb - 1) / pb) < 4 * (size_t)size) pb = (pb + 1) / 2;
  sw->pb = pb ? pb : 1;
  sw->nb = (P + sw->pb - 1) / sw->pb;
  sw->n_items = sw->G * sw->nb;
}

static void sweep_free(sweep *sw) {
  for (size_t i = 0; i < sw->G && sw->state; i++) {
    im_model_state_free(sw->state[i]);
    if (sw->scratch) im_model_scratch_free(sw->scratch[i]);
  }
  free(sw->state);
  free(sw->scratch);
  im_tile_free(&sw->tile);
  free(sw->rows);
  free(sw->res.items);
  free(sw->res.rows);
}

im_status im_par_calibrate(MPI_Comm comm, const im_job *job, const im_calib *cal, size_t chunk,
                           size_t n_chunks, int progress, volatile sig_atomic_t *stop,
                           int *interrupted, im_cal_metrics *metrics, im_err *err) {
  *interrupted = 0;
  int rank = 0, size = 1;
  im_status st = IM_MPI(err, MPI_Comm_rank, (comm, &rank));
  if (!st) st = IM_MPI(err, MPI_Comm_size, (comm, &size));
  const size_t S = cal->n_sets, Q = cal->n_periods, P = job->book.n_port;
  sweep sw = {.job = job, .cal = cal};
  if (!st) st = sweep_dates(job, cal, &sw, err);
  group *groups = malloc((S ? S : 1) * sizeof *groups);
  uint8_t *mine = calloc(S ? S : 1, 1);
  if (!st && (!groups || !mine)) st = im_err_set(err, IM_ENOMEM, "out of memory");
  st = im_par_agree(comm, st);
  size_t n_mine = 0;
  for (size_t i = 0; i < S && !st; i++) n_mine += (mine[i] = (uint8_t)(i % n_chunks == chunk));
  if (!st) {
    sw.groups = groups;
    sw.G = make_groups(cal, chunk, n_chunks, groups);
    sweep_blocks(&sw, P, size);
    im_tile_init(&sw.tile, sw.pb * (sw.e1 - sw.e0), IM_MAX_LEVELS);
    sw.rows = malloc(IM_MAX_LEVELS * Q * sw.pb * sizeof *sw.rows);
    sw.state = calloc(sw.G ? sw.G : 1, sizeof *sw.state);
    sw.scratch = calloc(sw.G ? sw.G : 1, sizeof *sw.scratch);
    if (!sw.rows || !sw.state || !sw.scratch)
      st = im_err_set(err, IM_ENOMEM, "out of memory for the calibration buffers");
    st = im_par_agree(comm, st);
  }
  if (!st) st = sweep_items(comm, &sw, rank, size, progress, stop, interrupted, err);
  im_cal_row *all = NULL;
  /* Interrupted: nothing to gather, the caller writes nothing. */
  if (!st && !*interrupted) st = gather_rows(comm, &sw, rank, size, n_mine, &all, err);
  sweep_free(&sw);
  if (!st && !*interrupted) st = fill_zones(comm, cal, mine, P, (uint64_t)job->cfg.seed, all, err);
  if (!st && !*interrupted && rank == 0)
    for (size_t i = 0; i < S; i++)
      for (size_t q = 0; q < Q && mine[i]; q++)
        im_cal_summarise(all + (i * Q + q) * P, P, cal->sets[i].confidence, &cal->criteria,
                         &metrics[i * Q + q]);
  free(all);
  free(groups);
  free(mine);
  return st;
}
