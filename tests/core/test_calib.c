/* Calibration: multi-level evaluation against single-level runs, and the
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

#include "calib.h"

#define ND 700

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

/* Level l of im_model_eval_levels equals im_model_eval_tile with the model
 * at that level, bit for bit, for every kind that has levels. */
static void test_levels_equal_single(void **state) {
  (void)state;
  fixture f;
  setup(&f);
  const im_level lev[4] = {
      {0.975, IM_MEASURE_VAR}, {0.99, IM_MEASURE_VAR}, {0.99, IM_MEASURE_ES}, {0.999, IM_MEASURE_VAR}};
  const im_model_kind kinds[4] = {IM_MODEL_HS, IM_MODEL_FHS, IM_MODEL_EWMA_T, IM_MODEL_MC_T};
  const size_t d0 = 300, nt = 200, P = 2, n = P * nt;
  double *im = malloc(4 * n * sizeof *im), *pnl = malloc(n * sizeof *pnl);
  double *im1 = malloc(n * sizeof *im1), *pnl1 = malloc(n * sizeof *pnl1);
  int8_t *ex = malloc(4 * n), *ex1 = malloc(n);
  for (int k = 0; k < 4; k++) {
    im_model md = {.kind = kinds[k], .confidence = 0.5, .horizon = 2, .window = 250,
                   .lambda = 0.94, .nu = 5, .paths = 2000, .seed = 7};
    strcpy(md.name, "im");
    im_model_state *s = NULL;
    im_err err;
    assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
    im_model_scratch *w = im_model_scratch_alloc(s);
    im_model_eval_levels(s, w, 0, P, d0, d0 + nt, 4, lev, im, pnl, ex);
    im_model_scratch_free(w);
    im_model_state_free(s);
    for (int l = 0; l < 4; l++) {
      md.confidence = lev[l].confidence;
      md.measure = lev[l].measure;
      assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
      w = im_model_scratch_alloc(s);
      im_model_eval_tile(s, w, 0, P, d0, d0 + nt, im1, pnl1, ex1);
      im_model_scratch_free(w);
      im_model_state_free(s);
      assert_memory_equal(im + (size_t)l * n, im1, n * sizeof *im1);
      assert_memory_equal(ex + (size_t)l * n, ex1, n);
      assert_memory_equal(pnl, pnl1, n * sizeof *pnl1);
    }
    /* Higher confidence, larger margin (same scenarios): a sanity check that
     * the levels are not all the same value. */
    assert_true(im[3 * n + 5] > im[1 * n + 5] && im[1 * n + 5] > im[5]);
  }
  free(im);
  free(pnl);
  free(im1);
  free(pnl1);
  free(ex);
  free(ex1);
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
      cmocka_unit_test(test_levels_equal_single), cmocka_unit_test(test_row_bonferroni),
      cmocka_unit_test(test_zones),          cmocka_unit_test(test_summarise),
      cmocka_unit_test(test_rank),                cmocka_unit_test(test_pareto),
      cmocka_unit_test(test_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
