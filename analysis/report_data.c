/* imvar report: reading a validated results file and aggregating it. */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "report.h"
#include "results_io.h"

const char *rp_zone_name(int z) {
  const char *n = an_zone_name(z);
  return n ? n : "n/a";
}

/* ---- aggregation ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median and max (with its index) of a field over portfolios with a finite value. */
static void dist_of(const im_bt_stats *rows, size_t P, size_t off, double *work, rp_dist *d) {
  d->n = 0;
  d->median = d->max = NAN;
  d->argmax = 0;
  size_t n = 0;
  for (size_t i = 0; i < P; i++) {
    double v;
    memcpy(&v, (const char *)&rows[i] + off, sizeof v);
    if (!isfinite(v))
      continue;
    if (n == 0 || v > d->max) {
      d->max = v;
      d->argmax = i;
    }
    work[n++] = v;
  }
  if (!n)
    return;
  qsort(work, n, sizeof *work, cmp_double);
  d->n = (int64_t)n;
  d->median = n % 2 ? work[n / 2] : 0.5 * (work[n / 2 - 1] + work[n / 2]);
}

/* Worst first: evaluated before not evaluated; applicable zone (red first);
 * traffic-light cumulative probability (higher = more exceedances than a
 * correct model would give); observed / expected exceedances; Kupiec p
 * (smaller first); then file order. */
static const rp_model *sort_ctx;
static int nan_last_desc(double a, double b) {
  if (isnan(a) || isnan(b))
    return isnan(a) - isnan(b);
  return a > b ? -1 : a < b;
}
static int cmp_worst(const void *pa, const void *pb) {
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  const im_bt_stats *x = &sort_ctx->rows[a], *y = &sort_ctx->rows[b];
  int ex = x->n_obs > 0, ey = y->n_obs > 0;
  if (ex != ey)
    return ey - ex;
  int zx = sort_ctx->zone[a], zy = sort_ctx->zone[b];
  if (zx != zy)
    return zy - zx;
  int c = nan_last_desc(x->tl_cumprob, y->tl_cumprob);
  if (c)
    return c;
  double rx = x->expected > 0 ? (double)x->n_exceed / x->expected : NAN;
  double ry = y->expected > 0 ? (double)y->n_exceed / y->expected : NAN;
  if ((c = nan_last_desc(rx, ry)))
    return c;
  if ((c = nan_last_desc(-x->p_uc, -y->p_uc)))
    return c;
  return a < b ? -1 : a > b;
}

static const struct {
  const char *key, *name;
  size_t off; /* offset of the p-value; SIZE_MAX for zones */
} test_defs[RP_N_TESTS] = {
    {"p_uc", "Kupiec POF (unconditional coverage)", offsetof(im_bt_stats, p_uc)},
    {"p_tuff", "Kupiec TUFF (time until first failure)", offsetof(im_bt_stats, p_tuff)},
    {"p_ind", "Christoffersen independence", offsetof(im_bt_stats, p_ind)},
    {"p_cc", "Christoffersen conditional coverage", offsetof(im_bt_stats, p_cc)},
    {"p_tbfi", "Haas time between failures, independence (TBFI)", offsetof(im_bt_stats, p_tbfi)},
    {"p_tbf", "Haas time between failures (TBF)", offsetof(im_bt_stats, p_tbf)},
    {"dur_p", "Christoffersen-Pelletier Weibull duration", offsetof(im_bt_stats, dur_p)},
    {"dq_p", "Engle-Manganelli dynamic quantile (DQ)", offsetof(im_bt_stats, dq_p)},
    {"bin_p", "binomial z", offsetof(im_bt_stats, bin_p)},
    {"zone", "traffic light (green)", SIZE_MAX},
    {"basel_zone", "Basel 1996 zone, last 250 days (green)", SIZE_MAX - 1},
};

static void aggregate(rp_model *mo, size_t P, double *work) {
  const im_bt_stats *rows = mo->rows;
  const int h = mo->md.horizon;
  im_bt_summarise(rows, P, RP_TEST_LEVEL, &mo->sum);
  for (size_t i = 0; i < P; i++)
    mo->zone[i] = (int8_t)im_bt_applicable_zone(&rows[i]);
  mo->n_zone[0] = mo->sum.n_green;
  mo->n_zone[1] = mo->sum.n_yellow;
  mo->n_zone[2] = mo->sum.n_red;
  mo->n_zone_na = (int64_t)P - mo->sum.n_green - mo->sum.n_yellow - mo->sum.n_red;
  for (size_t i = 0; i < P; i++)
    mo->order[i] = i;
  sort_ctx = mo;
  qsort(mo->order, P, sizeof *mo->order, cmp_worst);
  sort_ctx = NULL;
  for (size_t k = 0; k < P; k++)
    mo->rank[mo->order[k]] = k + 1;

  for (int t = 0; t < RP_N_TESTS; t++) {
    rp_test *ts = &mo->tests[t];
    ts->key = test_defs[t].key;
    ts->name = test_defs[t].name;
    ts->defined = ts->passed = 0;
    for (size_t i = 0; i < P; i++) {
      if (rows[i].n_obs <= 0)
        continue;
      if (test_defs[t].off == SIZE_MAX || test_defs[t].off == SIZE_MAX - 1) {
        int z = test_defs[t].off == SIZE_MAX ? mo->zone[i] : rows[i].basel_zone;
        if (z < 0)
          continue;
        ts->defined++;
        ts->passed += z == IM_ZONE_GREEN;
      } else {
        double p;
        memcpy(&p, (const char *)&rows[i] + test_defs[t].off, sizeof p);
        if (isnan(p))
          continue;
        ts->defined++;
        ts->passed += p >= RP_TEST_LEVEL;
      }
    }
  }

  im_verdict_of(&mo->sum, h, &mo->verdict);

  /* Magnitude: the largest shortfall, the mean over all exceedances of all
   * portfolios (exact: each row's mean weighted by its count), and the spread
   * of the per-portfolio mean loss-to-margin. */
  mo->largest = NAN;
  mo->largest_at = 0;
  double sx = 0;
  int64_t nx = 0;
  for (size_t i = 0; i < P; i++) {
    const im_bt_stats *r = &rows[i];
    if (isfinite(r->largest_exceedance) &&
        (isnan(mo->largest) || r->largest_exceedance > mo->largest)) {
      mo->largest = r->largest_exceedance;
      mo->largest_at = i;
    }
    if (isfinite(r->mean_exceedance) && r->n_exceed > 0) {
      sx += r->mean_exceedance * (double)r->n_exceed;
      nx += r->n_exceed;
    }
  }
  mo->pooled_mean_exceedance = nx ? sx / (double)nx : NAN;
  dist_of(rows, P, offsetof(im_bt_stats, mean_loss_to_margin), work, &mo->loss_to_margin);
  dist_of(rows, P, offsetof(im_bt_stats, coverage), work, &mo->coverage_dist);
  mo->coverage_min = NAN;
  mo->coverage_min_at = 0;
  for (size_t i = 0; i < P; i++)
    if (isfinite(rows[i].coverage) &&
        (isnan(mo->coverage_min) || rows[i].coverage < mo->coverage_min)) {
      mo->coverage_min = rows[i].coverage;
      mo->coverage_min_at = i;
    }
  const size_t pc[5] = {offsetof(im_bt_stats, peak_to_trough), offsetof(im_bt_stats, max_incr_1d),
                        offsetof(im_bt_stats, max_incr_5d), offsetof(im_bt_stats, max_incr_10d),
                        offsetof(im_bt_stats, max_incr_30d)};
  for (int k = 0; k < 5; k++)
    dist_of(rows, P, pc[k], work, &mo->procyc[k]);
}

/* Largest k in 0..n with Binomial(n, p) cdf at k <= level, or -1. */
int64_t rp_binom_bound(int64_t n, double p, double level) {
  int64_t k = -1;
  while (k < n && gsl_cdf_binomial_P((unsigned)(k + 1), p, (unsigned)n) <= level)
    k++;
  return k;
}

static im_status roll_bounds(rp_model *mo, uint64_t seed, im_err *err) {
  const double p = 1.0 - mo->md.confidence;
  if (mo->md.horizon <= 1) {
    mo->roll_green_max = rp_binom_bound(RP_ROLL_DAYS, p, 0.95);
    mo->roll_yellow_max = rp_binom_bound(RP_ROLL_DAYS, p, 0.9999);
    mo->roll_rule =
        "Binomial(250, 1 - confidence) cdf: green <= 0.95, yellow <= 0.9999 "
        "(at 99% the Basel 1996 table: 0-4 green, 5-9 yellow, 10 or more red)";
    return IM_OK;
  }
  mo->roll_rule =
      "bounds simulated for overlapping h-day exceedances (20,000 seeded paths, "
      "as tl_zone_overlap)";
  return im_bt_overlap_bounds(RP_ROLL_DAYS, (size_t)mo->md.horizon, p, seed, RP_OVERLAP_SIMS,
                              &mo->roll_green_max, &mo->roll_yellow_max, err);
}

/* Per date, each portfolio's zone over its last RP_ROLL_DAYS observed days
 * (counted on days it is observed, once it has that many). */
static im_status rolling(im_results *r, size_t m, rp_model *mo, size_t P, size_t T, im_err *err) {
  mo->roll = calloc(T ? T : 1, sizeof *mo->roll);
  size_t blk = T ? (16u << 20) / T : 1;
  if (blk < 1)
    blk = 1;
  if (blk > P)
    blk = P ? P : 1;
  int8_t *x = malloc(blk * (T ? T : 1));
  if (!mo->roll || !x) {
    free(x);
    return im_err_set(err, IM_ENOMEM, "out of memory");
  }
  const int64_t g = mo->roll_green_max, y = mo->roll_yellow_max;
  im_status st = IM_OK;
  int8_t ring[RP_ROLL_DAYS];
  for (size_t p0 = 0; p0 < P && !st; p0 += blk) {
    size_t nb = p0 + blk > P ? P - p0 : blk;
    st = im_results_read_exceed(r, m, p0, nb, x, err);
    for (size_t i = 0; i < nb && !st; i++) {
      const int8_t *e = x + i * T;
      size_t nobs = 0;
      int64_t cnt = 0;
      for (size_t t = 0; t < T; t++) {
        if (e[t] < 0)
          continue;
        size_t slot = nobs % RP_ROLL_DAYS;
        if (nobs >= RP_ROLL_DAYS)
          cnt -= ring[slot];
        ring[slot] = e[t] > 0;
        cnt += ring[slot];
        if (++nobs >= RP_ROLL_DAYS)
          mo->roll[t][cnt <= g ? 0 : cnt <= y ? 1 : 2]++;
      }
    }
  }
  free(x);
  return st;
}

static im_status load_charted(im_results *r, size_t m, rp_model *mo, const rp_report *rep,
                              im_err *err) {
  const size_t T = rep->T;
  size_t cap = rep->worst + rep->n_named;
  mo->charted = malloc((cap ? cap : 1) * sizeof *mo->charted);
  if (!mo->charted)
    return im_err_set(err, IM_ENOMEM, "out of memory");
  mo->n_charted = 0;
  for (size_t k = 0; k < rep->P && mo->n_charted < rep->worst; k++) {
    size_t i = mo->order[k];
    if (mo->rows[i].n_obs <= 0)
      break; /* not evaluated: nothing to chart */
    mo->charted[mo->n_charted++] = i;
  }
  for (size_t k = 0; k < rep->n_named; k++) {
    int seen = 0;
    for (size_t j = 0; j < mo->n_charted; j++)
      seen |= mo->charted[j] == rep->named[k];
    if (!seen)
      mo->charted[mo->n_charted++] = rep->named[k];
  }
  size_t n = mo->n_charted ? mo->n_charted : 1;
  mo->ch_im = calloc(n, sizeof *mo->ch_im);
  mo->ch_pnl = calloc(n, sizeof *mo->ch_pnl);
  mo->ch_exc = calloc(n, sizeof *mo->ch_exc);
  if (!mo->ch_im || !mo->ch_pnl || !mo->ch_exc)
    return im_err_set(err, IM_ENOMEM, "out of memory");
  for (size_t j = 0; j < mo->n_charted; j++) {
    size_t t1 = T ? T : 1;
    mo->ch_im[j] = malloc(t1 * sizeof(double));
    mo->ch_pnl[j] = malloc(t1 * sizeof(double));
    mo->ch_exc[j] = malloc(t1);
    if (!mo->ch_im[j] || !mo->ch_pnl[j] || !mo->ch_exc[j])
      return im_err_set(err, IM_ENOMEM, "out of memory");
    im_status st = im_results_read_rows(r, m, mo->charted[j], 1, mo->ch_im[j], mo->ch_pnl[j], err);
    if (!st)
      st = im_results_read_exceed(r, m, mo->charted[j], 1, mo->ch_exc[j], err);
    if (st)
      return st;
  }
  return IM_OK;
}

static im_status resolve_named(rp_report *rep, const char *const *names, im_err *err) {
  size_t k = 0;
  while (names && names[k])
    k++;
  rep->named = malloc((k ? k : 1) * sizeof *rep->named);
  if (!rep->named)
    return im_err_set(err, IM_ENOMEM, "out of memory");
  rep->n_named = 0;
  for (size_t j = 0; j < k; j++) {
    size_t i = 0;
    while (i < rep->P && strncmp(rep->ids[i], names[j], IM_PORT_ID_LEN) != 0)
      i++;
    if (i == rep->P || strlen(names[j]) >= IM_PORT_ID_LEN)
      return im_err_set(err, IM_EDATA, "%s: --portfolios: no portfolio '%s' in this file",
                        rep->results_path, names[j]);
    int dup = 0;
    for (size_t q = 0; q < rep->n_named; q++)
      dup |= rep->named[q] == i;
    if (!dup)
      rep->named[rep->n_named++] = i;
  }
  return IM_OK;
}

/* The margin adequacy of the total margin, from validation_total. */
static im_status load_total(im_results *r, size_t m, rp_model *mo, size_t P, im_err *err) {
  mo->has_total = im_results_has_total(r, m);
  mo->largest_total = NAN;
  if (!mo->has_total)
    return IM_OK;
  im_bt_stats *rows = malloc((P ? P : 1) * sizeof *rows);
  if (!rows)
    return im_err_set(err, IM_ENOMEM, "out of memory");
  im_status st = im_results_read_validation_of(r, m, 1, rows, err);
  if (!st) {
    im_bt_summarise(rows, P, RP_TEST_LEVEL, &mo->sum_total);
    for (size_t i = 0; i < P; i++)
      if (isfinite(rows[i].largest_exceedance) &&
          (isnan(mo->largest_total) || rows[i].largest_exceedance > mo->largest_total))
        mo->largest_total = rows[i].largest_exceedance;
  }
  free(rows);
  return st;
}

im_status rp_load(rp_report *rep, const char *const *named_ids, im_err *err) {
  im_results *r = NULL;
  im_status st = im_results_open(MPI_COMM_SELF, rep->results_path, 0, &r, err);
  if (st)
    return st;
  rep->P = im_results_n_port(r);
  rep->T = im_results_n_dates(r);
  rep->M = im_results_n_models(r);
  const size_t P = rep->P, P1 = P ? P : 1;
  rep->ids = malloc(P1 * sizeof *rep->ids);
  rep->models = calloc(rep->M ? rep->M : 1, sizeof *rep->models);
  double *work = malloc(P1 * sizeof *work);
  if (!rep->ids || !rep->models || !work) {
    st = im_err_set(err, IM_ENOMEM, "out of memory");
    goto out;
  }
  memcpy(rep->ids, im_results_ids(r), P * sizeof *rep->ids);
  for (size_t i = 0; i < P; i++)
    rep->ids[i][IM_PORT_ID_LEN - 1] = '\0';
  st = resolve_named(rep, named_ids, err);
  for (size_t m = 0; m < rep->M && !st; m++) {
    rp_model *mo = &rep->models[m];
    mo->md = *im_results_model(r, m);
    mo->rows = malloc(P1 * sizeof *mo->rows);
    mo->zone = malloc(P1);
    mo->order = malloc(P1 * sizeof *mo->order);
    mo->rank = malloc(P1 * sizeof *mo->rank);
    if (!mo->rows || !mo->zone || !mo->order || !mo->rank) {
      st = im_err_set(err, IM_ENOMEM, "out of memory");
      break;
    }
    st = im_results_read_validation(r, m, mo->rows, err);
    if (st)
      break;
    aggregate(mo, P, work);
    st = load_total(r, m, mo, P, err);
    if (!st)
      st = roll_bounds(mo, im_results_seed(r), err);
    if (!st)
      st = rolling(r, m, mo, P, rep->T, err);
    if (!st)
      st = load_charted(r, m, mo, rep, err);
  }
out:
  free(work);
  im_status cst = im_results_close(r, err);
  if (!st)
    st = cst;
  if (!st)
    st = im_results_run_read(rep->results_path, rep->T, &rep->run, err);
  return st;
}

void rp_free(rp_report *rep) {
  for (size_t m = 0; rep->models && m < rep->M; m++) {
    rp_model *mo = &rep->models[m];
    for (size_t j = 0; j < mo->n_charted; j++) {
      if (mo->ch_im)
        free(mo->ch_im[j]);
      if (mo->ch_pnl)
        free(mo->ch_pnl[j]);
      if (mo->ch_exc)
        free(mo->ch_exc[j]);
    }
    free(mo->ch_im);
    free(mo->ch_pnl);
    free(mo->ch_exc);
    free(mo->charted);
    free(mo->roll);
    free(mo->rows);
    free(mo->zone);
    free(mo->order);
    free(mo->rank);
  }
  free(rep->models);
  free(rep->ids);
  free(rep->named);
  im_results_run_clear(&rep->run);
  rep->models = NULL;
  rep->ids = NULL;
  rep->named = NULL;
}
