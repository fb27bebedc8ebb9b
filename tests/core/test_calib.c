/* Calibration: multi-level evaluation (im_model_eval_levels) against the
 * models' definitions written out here (hs, ewma_normal, ewma_t), against
 * the order-statistic identities every scenario model obeys (hs, fhs, mc_t),
 * and against each level read alone; and the
 * selection logic (summary, ranking, frontier) on constructed inputs whose
 * answers are worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "calib.h"

#define ND 700

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

typedef struct {
  char und[2][IM_NAME_LEN];
  double close[2 * ND];
  im_market mkt;
  im_instrument instr[2];
  char ids[2][IM_PORT_ID_LEN];
  size_t start[3];
  uint32_t pi[3];
  double qty[3];
  im_book book;
} fixture;

/* Two underlyings with deterministic, irregular paths; portfolio a is long
 * BTC, portfolio b long BTC and short ETH. */
static void setup(fixture *f) {
  memset(f, 0, sizeof *f);
  strcpy(f->und[0], "BTC");
  strcpy(f->und[1], "ETH");
  for (size_t k = 0; k < ND; k++) {
    f->close[k] = 30000 * exp(0.05 * sin(0.37 * (double)k) + 0.03 * cos(1.9 * (double)k));
    f->close[ND + k] = 2000 * exp(0.06 * sin(0.41 * (double)k + 0.4) - 0.02 * sin(2.3 * (double)k));
  }
  f->mkt = (im_market){.n_und = 2, .n_days = ND, .day0 = 19000, .und = f->und, .close = f->close};
  f->instr[0] = (im_instrument){.und = 0, .kind = IM_SPOT};
  f->instr[1] = (im_instrument){.und = 1, .kind = IM_SPOT};
  strcpy(f->ids[0], "a");
  strcpy(f->ids[1], "b");
  f->start[1] = 1;
  f->start[2] = 3;
  f->pi[0] = 0;
  f->pi[1] = 0;
  f->pi[2] = 1;
  f->qty[0] = 1;
  f->qty[1] = 2;
  f->qty[2] = -20;
  f->book = (im_book){.n_instr = 2, .instr = f->instr, .n_port = 2, .id = f->ids,
                      .pos_start = f->start, .pos_instr = f->pi, .pos_qty = f->qty};
}

enum { D0 = 300, NT = 200, NP = 2, NV = NP * NT };

static im_model model_of(im_model_kind kind) {
  im_model md = {.kind = kind, .confidence = 0.5, .horizon = 2, .window = 250, .lambda = 0.94,
                 .nu = 5, .paths = 2000, .seed = 7};
  strcpy(md.name, "im");
  return md;
}

/* Margins of both portfolios at dates [D0, D0 + NT) at n levels at once:
 * im [n][NP][NT]. */
static void eval_levels(const fixture *f, const im_model *md, size_t n, const im_level *lev,
                        double *im) {
  im_model_state *s = NULL;
  im_err err;
  assert_int_equal(im_model_prepare(md, &f->mkt, &f->book, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  double pnl[NV];
  int8_t *ex = malloc(n * NV);
  im_model_eval_levels(s, w, 0, NP, D0, D0 + NT, n, lev, im, pnl, ex);
  free(ex);
  im_model_scratch_free(w);
  im_model_state_free(s);
}

static void assert_close(double got, double want, double rel, const char *what, size_t i) {
  if (!(fabs(got - want) <= rel * fabs(want)))
    fail_msg("%s [%zu]: %.17g, expected %.17g", what, i, got, want);
}

/* Scenario kinds (hs, fhs, mc_t), W scenarios: read at the levels whose VaR
 * ranks are 1..5 (W (1 - a) = k - 1/2, DESIGN.md "Quantile": VaR = L(k)) the
 * levels return the five largest scenario losses L(1) >= ... >= L(5); ES
 * with W (1 - a) = 5 is then their mean, and with 4.5 (L(1) + ... + L(4) +
 * L(5) / 2) / 4.5. ES and VaR come out of different code (a tail sum and an
 * order statistic), so the identity fails if a level is read at another
 * level's confidence or measure, or from another level's scenarios. */
static void check_order_statistics(const fixture *f, im_model_kind kind, double w) {
  im_level lev[7];
  for (int k = 1; k <= 5; k++) lev[k - 1] = (im_level){1 - (k - 0.5) / w, IM_MEASURE_VAR};
  lev[5] = (im_level){1 - 5 / w, IM_MEASURE_ES};
  lev[6] = (im_level){1 - 4.5 / w, IM_MEASURE_ES};
  double *im = malloc(7 * NV * sizeof *im);
  eval_levels(f, (im_model[]){model_of(kind)}, 7, lev, im);
  size_t distinct = 0;
  for (size_t i = 0; i < NV; i++) {
    double v[5], sum = 0;
    for (int k = 0; k < 5; k++) sum += v[k] = im[(size_t)k * NV + i];
    for (int k = 1; k < 5; k++)
      if (!(v[k] <= v[k - 1]))
        fail_msg("%s [%zu]: VaR rank %d above rank %d", im_model_kind_name(kind), i, k + 1, k);
    distinct += v[4] < v[0];
    assert_close(im[5 * NV + i], sum / 5, 1e-13, "ES, W(1-a) = 5", i);
    assert_close(im[6 * NV + i], (sum - v[4] / 2) / 4.5, 1e-13, "ES, W(1-a) = 4.5", i);
  }
  assert_true(distinct > NV / 2); /* the five order statistics are not all one value */
  free(im);
}

static void test_levels_order_statistics(void **state) {
  (void)state;
  fixture f;
  setup(&f);
  check_order_statistics(&f, IM_MODEL_HS, 250);
  check_order_statistics(&f, IM_MODEL_FHS, 250);
  check_order_statistics(&f, IM_MODEL_MC_T, 2000);
}

/* hs from its definition, computed here from the closes: scenario k =
 * t-W+1 .. t loses -sum_u E_u (close_u[k] / close_u[k-h] - 1), E_u = qty x
 * close_u[t]; VaR = L(floor(W(1-a)) + 1), ES the mean of the worst W(1-a)
 * with the boundary weighted (250 x 0.025 = 6.25, 250 x 0.01 = 2.5). */
static double hs_reference(const fixture *f, size_t p, size_t t, const im_level *lv) {
  double loss[250];
  const double *c = f->close;
  double e_btc = p == 0 ? c[t] : 2 * c[t], e_eth = p == 0 ? 0 : -20 * c[ND + t];
  for (size_t j = 0; j < 250; j++) {
    size_t k = t - j;
    loss[j] = -e_btc * (c[k] / c[k - 2] - 1) - e_eth * (c[ND + k] / c[ND + k - 2] - 1);
  }
  qsort(loss, 250, sizeof *loss, cmp_desc);
  const double m = lv->confidence == 0.975 ? 6.25 : 2.5;
  const size_t whole = (size_t)m;
  if (lv->measure == IM_MEASURE_VAR) return loss[whole];
  double s = (m - (double)whole) * loss[whole];
  for (size_t j = 0; j < whole; j++) s += loss[j];
  return s / m;
}

static void test_levels_hs_reference(void **state) {
  (void)state;
  fixture f;
  setup(&f);
  const im_level lev[4] = {{0.99, IM_MEASURE_ES}, {0.975, IM_MEASURE_VAR},
                           {0.99, IM_MEASURE_VAR}, {0.975, IM_MEASURE_ES}};
  double *im = malloc(4 * NV * sizeof *im);
  eval_levels(&f, (im_model[]){model_of(IM_MODEL_HS)}, 4, lev, im);
  for (size_t l = 0; l < 4; l++)
    for (size_t p = 0; p < NP; p++)
      for (size_t d = 0; d < NT; d++)
        assert_close(im[(l * NP + p) * NT + d], hs_reference(&f, p, D0 + d, &lev[l]), 1e-12,
                     "hs level against its definition", (l * NP + p) * NT + d);
  free(im);
}

/* The EWMA covariance margin written out (model.h): daily log-moves r_k,
 * weights (1 - lambda) lambda^i / (1 - lambda^W) on r_{t-i}, i < W, zero
 * mean; sigma_h = sqrt(h E' Sigma E); VaR = q sigma_h, ES = e sigma_h with
 * q, e the quantile and tail mean of the unit-variance normal or Student-t
 * (t: x_a = t_nu^-1(a), q = s x_a, e = s f_nu(x_a) (nu + x_a^2) / ((nu - 1)
 * (1 - a)), s = sqrt((nu - 2) / nu)). */
static double ewma_reference(const fixture *f, const im_model *md, size_t p, size_t t,
                             const im_level *lv) {
  const double *c = f->close, lam = md->lambda;
  const double e[2] = {p == 0 ? c[t] : 2 * c[t], p == 0 ? 0 : -20 * c[ND + t]};
  double cov[2][2] = {{0, 0}, {0, 0}}, wgt = (1 - lam) / (1 - pow(lam, md->window));
  for (int i = 0; i < md->window; i++, wgt *= lam) {
    const size_t k = t - (size_t)i;
    const double r[2] = {log(c[k] / c[k - 1]), log(c[ND + k] / c[ND + k - 1])};
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++) cov[a][b] += wgt * r[a] * r[b];
  }
  double var = 0;
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) var += e[a] * e[b] * cov[a][b];
  const double sig = sqrt(md->horizon * var), a = lv->confidence;
  double q, es;
  if (md->kind == IM_MODEL_EWMA_NORMAL) {
    q = gsl_cdf_ugaussian_Pinv(a);
    es = gsl_ran_ugaussian_pdf(q) / (1 - a);
  } else {
    const double nu = md->nu, x = gsl_cdf_tdist_Pinv(a, nu), s = sqrt((nu - 2) / nu);
    q = s * x;
    es = s * gsl_ran_tdist_pdf(x, nu) * (nu + x * x) / ((nu - 1) * (1 - a));
  }
  return sig * (lv->measure == IM_MEASURE_ES ? es : q);
}

static void test_levels_ewma_reference(void **state) {
  (void)state;
  fixture f;
  setup(&f);
  const im_level lev[5] = {{0.99, IM_MEASURE_VAR}, {0.975, IM_MEASURE_ES},
                           {0.999, IM_MEASURE_VAR}, {0.975, IM_MEASURE_VAR},
                           {0.99, IM_MEASURE_ES}};
  const im_model_kind kinds[2] = {IM_MODEL_EWMA_NORMAL, IM_MODEL_EWMA_T};
  double *im = malloc(5 * NV * sizeof *im);
  for (int k = 0; k < 2; k++) {
    const im_model md = model_of(kinds[k]);
    eval_levels(&f, &md, 5, lev, im);
    for (size_t l = 0; l < 5; l++)
      for (size_t p = 0; p < NP; p++)
        for (size_t d = 0; d < NT; d++)
          assert_close(im[(l * NP + p) * NT + d], ewma_reference(&f, &md, p, D0 + d, &lev[l]),
                       1e-10, im_model_kind_name(kinds[k]), (l * NP + p) * NT + d);
  }
  free(im);
}

/* A level's values do not depend on the other levels read with it: each of
 * the order-statistics levels alone, as the model's own level through
 * im_model_eval_tile, gives the same bits. */
static void test_levels_alone(void **state) {
  (void)state;
  fixture f;
  setup(&f);
  const im_level lev[3] = {{0.99, IM_MEASURE_ES}, {0.975, IM_MEASURE_VAR}, {0.999, IM_MEASURE_VAR}};
  const im_model_kind kinds[5] = {IM_MODEL_HS, IM_MODEL_FHS, IM_MODEL_EWMA_NORMAL, IM_MODEL_EWMA_T,
                                  IM_MODEL_MC_T};
  double *im = malloc(3 * NV * sizeof *im), im1[NV], pnl[NV];
  int8_t ex[NV];
  for (int k = 0; k < 5; k++) {
    im_model md = model_of(kinds[k]);
    eval_levels(&f, &md, 3, lev, im);
    for (int l = 0; l < 3; l++) {
      md.confidence = lev[l].confidence;
      md.measure = lev[l].measure;
      im_model_state *s = NULL;
      im_err err;
      assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
      im_model_scratch *w = im_model_scratch_alloc(s);
      im_model_eval_tile(s, w, 0, NP, D0, D0 + NT, im1, pnl, ex);
      im_model_scratch_free(w);
      im_model_state_free(s);
      assert_memory_equal(im + (size_t)l * NV, im1, sizeof im1);
    }
  }
  free(im);
}

/* Kupiec p-value of x exceedances in n days at p, from the likelihood ratio
 * written out (the reference of test_backtest). */
static double kupiec_p(double n, double x, double p) {
  double ph = x / n;
  double l0 = (n - x) * log(1 - p) + x * log(p);
  double l1 = (n - x) * (ph < 1 ? log(1 - ph) : 0) + (x > 0 ? x * log(ph) : 0);
  return gsl_cdf_chisq_Q(-2 * (l0 - l1), 1);
}

/* h = 2: the sub-samples are the even and the odd days. 200 days, p = 0.05,
 * exceedances on even days 0, 20, ..., 180 (10 of 100) and on odd days 1 and
 * 51 (2 of 100): p_uc = min(1, 2 min(P(10/100), P(2/100))). */
static void test_row_bonferroni(void **state) {
  (void)state;
  enum { N = 200 };
  int8_t hits[N] = {0};
  double pnl[N], margin[N];
  for (int i = 0; i < N; i++) {
    margin[i] = 100 + i;
    pnl[i] = -50;
  }
  for (int i = 0; i < 200; i += 20) hits[i] = 1;
  hits[1] = hits[51] = 1;
  for (int i = 0; i < N; i++)
    if (hits[i]) pnl[i] = -margin[i] - 1;
  im_cal_row r;
  im_err err;
  assert_int_equal(im_cal_row_compute(hits, pnl, margin, N, 2, 0.05, &r, &err), IM_OK);
  const double pe = kupiec_p(100, 10, 0.05), po = kupiec_p(100, 2, 0.05);
  assert_float_equal(r.p_uc, fmin(1, 2 * fmin(pe, po)), 1e-12);
  assert_int_equal(r.n_obs, N);
  assert_int_equal(r.n_exceed, 12);
  assert_int_equal(r.zone, -1); /* h > 1: set from the overlap bounds (im_cal_zone) */
  /* sum of 100..299 */
  assert_float_equal(r.margin_sum, 200 * 199.5, 1e-9);
  /* h = 1: the whole series. */
  assert_int_equal(im_cal_row_compute(hits, pnl, margin, N, 1, 0.05, &r, &err), IM_OK);
  assert_float_equal(r.p_uc, kupiec_p(200, 12, 0.05), 1e-12);
  assert_int_equal(r.zone, IM_ZONE_GREEN); /* Binomial(200, .05) cdf(12) = 0.78 < 0.95 */
}

/* One simulation serves several lengths (what the sweep relies on to share
 * it among sets): the bounds of each length equal those of a simulation of
 * that length alone; and the zone between the bounds. */
static void test_zones(void **state) {
  (void)state;
  const size_t len[3] = {300, 500, 120};
  int64_t g[3], y[3];
  im_err err;
  assert_int_equal(im_bt_overlap_bounds_multi(len, 3, 3, 0.01, 5, 4000, g, y, &err), IM_OK);
  for (int i = 0; i < 3; i++) {
    int64_t g1, y1;
    assert_int_equal(im_bt_overlap_bounds(len[i], 3, 0.01, 5, 4000, &g1, &y1, &err), IM_OK);
    assert_int_equal(g[i], g1);
    assert_int_equal(y[i], y1);
  }
  /* 3 expected in 300 days: 3 is green; one past each bound is the next zone. */
  assert_int_equal(im_cal_zone(300, 3, g[0], y[0]), IM_ZONE_GREEN);
  assert_int_equal(im_cal_zone(300, g[0] + 1, g[0], y[0]), IM_ZONE_YELLOW);
  assert_int_equal(im_cal_zone(300, y[0] + 1, g[0], y[0]), IM_ZONE_RED);
  assert_int_equal(im_cal_zone(0, 0, g[0], y[0]), -1);
}

/* Three portfolios at 99%: (n_obs, n_exceed, p_uc, p_cc, margin_sum, ptt, zone)
 * = (100, 1, .8, .7, 1000, 2, green), (100, 3, .04, .3, 3000, 4, yellow),
 * (0, ...) not evaluated. Pooled: 200 obs, 4 exceedances, rate .02, coverage
 * .98 < .99; Kupiec passes 1 of 2, CC 2 of 2, green 1 of 2; mean margin
 * 4000 / 200 = 20; procyclicality (2 + 4) / 2 = 3. */
static void test_summarise(void **state) {
  (void)state;
  const im_cal_row rows[3] = {{100, 1, 0.8, 0.7, 1000, 2, IM_ZONE_GREEN},
                              {100, 3, 0.04, 0.3, 3000, 4, IM_ZONE_YELLOW},
                              {0, 0, NAN, NAN, 0, NAN, -1}};
  im_cal_criteria c = im_cal_criteria_default();
  im_cal_metrics m;
  im_cal_summarise(rows, 3, 0.99, &c, &m);
  assert_int_equal(m.n_portfolios, 2);
  assert_int_equal(m.n_obs, 200);
  assert_int_equal(m.n_exceed, 4);
  assert_float_equal(m.expected, 2, 1e-12);
  assert_float_equal(m.exceed_rate, 0.02, 1e-15);
  assert_float_equal(m.share_pass_uc, 0.5, 0);
  assert_float_equal(m.share_pass_cc, 1, 0);
  assert_float_equal(m.share_zone_ok, 0.5, 0);
  assert_float_equal(m.mean_margin, 20, 1e-12);
  assert_float_equal(m.procyclicality, 3, 1e-12);
  assert_int_equal(m.ok_coverage, 0);
  assert_int_equal(m.ok_uc, 0);
  assert_int_equal(m.ok_cc, 1);
  assert_int_equal(m.ok_zone, 0);
  assert_int_equal(m.eligible, 0);
  /* Looser criteria: coverage 0.975, yellow accepted, half the portfolios. */
  c = (im_cal_criteria){.coverage = 0.975, .zone = IM_ZONE_YELLOW, .test_level = 0.05, .pass_share = 0.5};
  im_cal_summarise(rows, 3, 0.99, &c, &m);
  assert_int_equal(m.ok_coverage + m.ok_uc + m.ok_cc + m.ok_zone, 4);
  assert_int_equal(m.eligible, 1);
  /* A set with no observation fails everything. */
  im_cal_summarise(rows + 2, 1, 0.99, &c, &m);
  assert_int_equal(m.eligible, 0);
  assert_true(isnan(m.mean_margin));
}

static im_cal_metrics met(double margin, double rate, double ptt, int cov, int uc, int cc, int zone) {
  im_cal_metrics m = {.n_obs = 100, .mean_margin = margin, .exceed_rate = rate,
                      .procyclicality = ptt, .ok_coverage = (int8_t)cov, .ok_uc = (int8_t)uc,
                      .ok_cc = (int8_t)cc, .ok_zone = (int8_t)zone};
  m.eligible = (int8_t)(cov && uc && cc && zone);
  return m;
}

/* Sets 0..6, by hand: eligible are 1 (margin 50), 3 (40, ptt 3), 4 (40, ptt
 * 2) and 6 (40, ptt 2): by margin, then procyclicality, then index: 4, 6, 3,
 * 1. Ineligible: 0 fails one criterion (margin 30), 2 fails two (margin 10), 5
 * has no observation: 0, 2, 5. */
static void test_rank(void **state) {
  (void)state;
  im_cal_metrics m[7] = {met(30, .01, 1, 1, 1, 1, 0), met(50, .005, 1, 1, 1, 1, 1),
                         met(10, .03, 1, 0, 1, 1, 0), met(40, .008, 3, 1, 1, 1, 1),
                         met(40, .008, 2, 1, 1, 1, 1), met(NAN, NAN, NAN, 0, 0, 0, 0),
                         met(40, .009, 2, 1, 1, 1, 1)};
  m[5].n_obs = 0;
  size_t order[7];
  im_cal_rank(m, 7, order);
  const size_t want[7] = {4, 6, 3, 1, 0, 2, 5};
  for (int i = 0; i < 7; i++) assert_int_equal(order[i], want[i]);
}

/* (margin, rate): 0 (10, .03), 1 (20, .01), 2 (20, .02) dominated by 1,
 * 3 (30, .01) dominated by 1, 4 (40, .002), 5 (10, .03) ties 0 (neither
 * dominates), 6 undefined. */
static void test_pareto(void **state) {
  (void)state;
  im_cal_metrics m[7] = {met(10, .03, 1, 1, 1, 1, 1), met(20, .01, 1, 1, 1, 1, 1),
                         met(20, .02, 1, 1, 1, 1, 1), met(30, .01, 1, 1, 1, 1, 1),
                         met(40, .002, 1, 1, 1, 1, 1), met(10, .03, 1, 1, 1, 1, 1),
                         met(NAN, NAN, 1, 1, 1, 1, 1)};
  uint8_t on[7];
  im_cal_pareto(m, 7, on);
  const uint8_t want[7] = {1, 1, 0, 0, 1, 1, 0};
  assert_memory_equal(on, want, 7);
}

static void test_params(void **state) {
  (void)state;
  im_model a = {.kind = IM_MODEL_HS, .confidence = 0.99, .horizon = 2, .window = 500, .lambda = 0.94};
  im_model b = a, sets[3];
  b.confidence = 0.995;
  assert_false(im_cal_same_params(&a, &b, -1));
  assert_true(im_cal_same_params(&a, &b, 2)); /* all but confidence */
  assert_false(im_cal_same_params(&a, &b, 3));
  sets[0] = a;
  sets[1] = b;
  sets[2] = a;
  sets[2].window = 250;
  uint8_t v[IM_CAL_N_PARAMS];
  im_cal_varying(sets, 3, v);
  for (int i = 0; i < IM_CAL_N_PARAMS; i++) assert_int_equal(v[i], i == 2 || i == 4);
  assert_string_equal(im_cal_param_name[4], "window");
  assert_float_equal(im_cal_param(&sets[2], 4), 250, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_levels_order_statistics), cmocka_unit_test(test_levels_hs_reference),
      cmocka_unit_test(test_levels_ewma_reference), cmocka_unit_test(test_levels_alone),
      cmocka_unit_test(test_row_bonferroni),
      cmocka_unit_test(test_zones),          cmocka_unit_test(test_summarise),
      cmocka_unit_test(test_rank),                cmocka_unit_test(test_pareto),
      cmocka_unit_test(test_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
