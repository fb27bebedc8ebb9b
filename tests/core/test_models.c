/* The fhs and ewma models against independent references written here. */
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

#include "model.h"

#define ND 400

/* One underlying; an optional second one for the covariance test. */
typedef struct {
  char und[2][IM_NAME_LEN];
  double close[2 * ND];
  im_market mkt;
  im_instrument instr[2];
  char ids[1][IM_PORT_ID_LEN];
  size_t start[2];
  uint32_t pi[2];
  double qty[2];
  im_book book;
} fixture;

static void setup(fixture *f, size_t nu, size_t npos) {
  memset(f, 0, sizeof *f);
  strcpy(f->und[0], "BTC");
  strcpy(f->und[1], "ETH");
  f->mkt = (im_market){.n_und = nu, .n_days = ND, .day0 = 19000, .und = f->und, .close = f->close};
  f->instr[0] = (im_instrument){.und = 0, .kind = IM_SPOT};
  f->instr[1] = (im_instrument){.und = 1, .kind = IM_SPOT};
  strcpy(f->ids[0], "p");
  f->start[1] = npos;
  f->pi[0] = 0;
  f->pi[1] = 1;
  f->book = (im_book){.n_instr = npos, .instr = f->instr, .n_port = 1, .id = f->ids,
                      .pos_start = f->start, .pos_instr = f->pi, .pos_qty = f->qty};
}

static void eval(const im_model *md, const fixture *f, double *im) {
  im_model_state *s = NULL;
  im_err err;
  assert_int_equal(im_model_prepare(md, &f->mkt, &f->book, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  assert_non_null(w);
  double pnl[ND];
  int8_t ex[ND];
  im_model_eval_tile(s, w, 0, 1, 0, ND, im, pnl, ex);
  im_model_scratch_free(w);
  im_model_state_free(s);
}

/* ewma_normal and ewma_t against the closed form: sigma^2 = h E' Sigma E with
 * Sigma the normalised EWMA sum of products of daily log-moves over the last
 * W days, VaR = z sigma (normal) or t_nu^{-1} sqrt((nu-2)/nu) sigma. */
static void test_ewma_closed_form(void **state) {
  (void)state;
  fixture f;
  setup(&f, 2, 2);
  for (size_t k = 0; k < ND; k++) { /* two correlated, high-entropy paths */
    f.close[k] = 30000 * exp(0.02 * sin(0.37 * (double)k) + 0.013 * cos(1.9 * (double)k));
    f.close[ND + k] = 2000 * exp(0.03 * sin(0.37 * (double)k + 0.4) - 0.011 * sin(2.3 * (double)k));
  }
  f.qty[0] = 1.25;  /* long 1.25 BTC */
  f.qty[1] = -7.5;  /* short 7.5 ETH */
  const size_t W = 60, h = 3, t = 250;
  const double lam = 0.94;
  for (int kind = IM_MODEL_EWMA_NORMAL; kind <= IM_MODEL_EWMA_T; kind++)
    for (int measure = 0; measure < 2; measure++) {
      im_model md = {.kind = (im_model_kind)kind, .measure = (im_measure)measure,
                     .confidence = 0.99, .horizon = (int32_t)h, .window = (int32_t)W,
                     .lambda = lam, .nu = 5};
      double im[ND];
      eval(&md, &f, im);
      double c[2][2] = {{0, 0}, {0, 0}}, norm = (1 - lam) / (1 - pow(lam, (double)W));
      for (size_t i = 0; i < W; i++) {
        size_t k = t - i;
        double r[2] = {log(f.close[k] / f.close[k - 1]), log(f.close[ND + k] / f.close[ND + k - 1])};
        for (int a = 0; a < 2; a++)
          for (int b = 0; b < 2; b++) c[a][b] += norm * pow(lam, (double)i) * r[a] * r[b];
      }
      double e[2] = {f.qty[0] * f.close[t], f.qty[1] * f.close[ND + t]};
      double sigma = sqrt((double)h * (e[0] * e[0] * c[0][0] + 2 * e[0] * e[1] * c[0][1] +
                                       e[1] * e[1] * c[1][1]));
      double q;
      if (kind == IM_MODEL_EWMA_NORMAL) {
        double z = gsl_cdf_ugaussian_Pinv(0.99);
        q = measure ? gsl_ran_ugaussian_pdf(z) / 0.01 : z; /* ES: phi(z)/(1-a) */
      } else {
        double tq = gsl_cdf_tdist_Pinv(0.99, 5), sc = sqrt(3.0 / 5.0);
        q = measure ? sc * gsl_ran_tdist_pdf(tq, 5) / 0.01 * (5 + tq * tq) / 4 : sc * tq;
      }
      if (fabs(im[t] - q * sigma) > 1e-10 * q * sigma)
        fail_msg("kind %d measure %d: im %.17g, closed form %.17g", kind, measure, im[t], q * sigma);
      assert_true(isnan(im[W - 1]) && !isnan(im[W])); /* W daily returns need days 0..W */
    }
}

/* fhs on a constructed volatility regime: daily log-moves alternate +-s1 for
 * 150 days, then +-s2 = 4 s1. With fast decay the filter's variance settles
 * at s^2 and every z is +-1, so once a window lies wholly in one regime the
 * 1-day VaR of one coin is s0 (1 - exp(-s_regime)): fhs follows the regime,
 * while hs in the second regime still mixes in the first while its window
 * straddles the switch. */
static void test_fhs_volatility_regime(void **state) {
  (void)state;
  fixture f;
  setup(&f, 1, 1);
  const double s1 = 0.01, s2 = 0.04;
  double lc = log(20000.0);
  for (size_t k = 0; k < ND; k++) {
    if (k > 0) lc += (k % 2 ? 1 : -1) * (k < 150 ? s1 : s2);
    f.close[k] = exp(lc);
  }
  f.qty[0] = 1;
  im_model fhs = {.kind = IM_MODEL_FHS, .measure = IM_MEASURE_VAR, .confidence = 0.9,
                  .horizon = 1, .window = 40, .lambda = 0.5};
  im_model hs = fhs;
  hs.kind = IM_MODEL_HS;
  double a[ND], b[ND];
  eval(&fhs, &f, a);
  eval(&hs, &f, b);
  const size_t t1 = 140, t2 = 380, tmix = 170; /* windows: first regime, second, straddling */
  double want1 = f.close[t1] * -expm1(-s1), want2 = f.close[t2] * -expm1(-s2);
  if (fabs(a[t1] - want1) > 1e-9 * want1 || fabs(a[t2] - want2) > 1e-9 * want2)
    fail_msg("fhs: %.12g vs %.12g, %.12g vs %.12g", a[t1], want1, a[t2], want2);
  /* 20 days into the new regime hs's window (40 days) still holds 20 days of
   * s1 moves but its 5th-largest loss (k = floor(40 * 0.1) + 1) is already
   * an s2 loss; fhs has revolatilised every scenario: at least as large. */
  assert_true(a[tmix] >= b[tmix] * (1 - 1e-12));
  /* Before the filter's burn-in and window are complete: not observed. */
  assert_true(isnan(a[IM_FHS_BURN_IN + 40 - 1]));
}

/* No look-ahead for fhs and ewma: changing every close after t leaves IM at t. */
static void test_no_lookahead_filtered(void **state) {
  (void)state;
  fixture f;
  setup(&f, 2, 2);
  for (size_t k = 0; k < ND; k++) {
    f.close[k] = 100 * exp(0.05 * sin(0.7 * (double)k) + 0.0021 * (double)k);
    f.close[ND + k] = 50 * exp(0.04 * cos(0.45 * (double)k));
  }
  f.qty[0] = 3.3;
  f.qty[1] = -1.7;
  const im_model_kind kinds[] = {IM_MODEL_FHS, IM_MODEL_EWMA_NORMAL, IM_MODEL_EWMA_T};
  for (size_t i = 0; i < 3; i++) {
    im_model md = {.kind = kinds[i], .confidence = 0.99, .horizon = 2, .window = 100,
                   .lambda = 0.97, .nu = 4};
    double base[ND], alt[ND];
    eval(&md, &f, base);
    const size_t t0 = 300;
    fixture g = f;
    setup(&g, 2, 2);
    memcpy(g.close, f.close, sizeof g.close);
    memcpy(g.qty, f.qty, sizeof g.qty);
    for (size_t k = t0 + 1; k < ND; k++) {
      g.close[k] *= 3;
      g.close[ND + k] = k % 7 ? g.close[ND + k] * 0.2 : NAN;
    }
    eval(&md, &g, alt);
    if (memcmp(base, alt, (t0 + 1) * sizeof *base) != 0) fail_msg("kind %d looks ahead", kinds[i]);
    assert_false(isnan(base[t0]));
  }
}

/* grid against hand-computed worst cases. Long 2 coins at s0 (E = 2 s0),
 * range 10% in 2 steps: core worst 0.10 E; extended: -66% weighted 0.24 is
 * 0.1584 E, the worst. Short (E < 0): extended +50% x 0.32 = 0.16 |E| (and
 * +100% x 0.16, ... also 0.16); +300% x 0.0533 = 0.1599. Without extended:
 * 0.10 |E|. Two underlyings add (no offsets across underlyings). */
static void test_grid_hand(void **state) {
  (void)state;
  fixture f;
  setup(&f, 2, 2);
  for (size_t k = 0; k < ND; k++) {
    f.close[k] = 25000 + 10 * (double)k;
    f.close[ND + k] = 1500 - (double)k;
  }
  f.qty[0] = 2;
  f.qty[1] = -3;
  im_model md = {.kind = IM_MODEL_GRID, .confidence = 0.99, .horizon = 1, .window = 1,
                 .grid_range = 0.10, .grid_steps = 2, .grid_extended = 1};
  double im[ND];
  eval(&md, &f, im);
  const size_t t = 123;
  const double eb = 2 * f.close[t], ee = 3 * f.close[ND + t];
  double want = 0.66 * 0.24 * eb + 0.16 * ee;
  if (fabs(im[t] - want) > 1e-9 * want) fail_msg("grid extended: %.12g vs %.12g", im[t], want);
  md.grid_extended = 0;
  eval(&md, &f, im);
  want = 0.10 * (eb + ee);
  if (fabs(im[t] - want) > 1e-9 * want) fail_msg("grid core: %.12g vs %.12g", im[t], want);
  assert_false(isnan(im[0])); /* instantaneous: no history needed */
}

/* mc_t against the analytic Student-t quantile. One underlying with tiny
 * daily moves (log-moves ~1e-4, so exp(X) - 1 = X to 5e-5 relative):
 * VaR = E sqrt(h) sigma sqrt((nu-2)/nu) t_nu^{-1}(0.99) with sigma^2 the EWMA
 * variance. At 200,000 paths the 99% quantile of a t_4 has a standard error
 * of about 0.8% (sqrt(p(1-p)/N) / f(q) relative to q); the tolerance is 3%,
 * about 4 standard errors, at a fixed seed. */
static void test_mc_t_quantile(void **state) {
  (void)state;
  fixture f;
  setup(&f, 1, 1);
  for (size_t k = 0; k < ND; k++) f.close[k] = 40000 * exp(1e-4 * sin(0.9 * (double)k));
  f.qty[0] = 2;
  const size_t W = 80, h = 2, t = 200;
  const double lam = 0.97, nu = 4;
  im_model md = {.kind = IM_MODEL_MC_T, .confidence = 0.99, .horizon = (int32_t)h,
                 .window = (int32_t)W, .lambda = lam, .nu = nu, .paths = 200000, .seed = 42};
  strcpy(md.name, "mc");
  im_model_state *s = NULL;
  im_err err;
  assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  double im, pnl;
  int8_t ex;
  im_model_eval_tile(s, w, 0, 1, t, t + 1, &im, &pnl, &ex);
  im_model_scratch_free(w);
  im_model_state_free(s);
  double var = 0, norm = (1 - lam) / (1 - pow(lam, (double)W));
  for (size_t i = 0; i < W; i++) {
    double r = log(f.close[t - i] / f.close[t - i - 1]);
    var += norm * pow(lam, (double)i) * r * r;
  }
  double want = 2 * f.close[t] * sqrt((double)h * var) * sqrt((nu - 2) / nu) *
                gsl_cdf_tdist_Pinv(0.99, nu);
  if (fabs(im - want) > 0.03 * want) fail_msg("mc_t VaR %.8g, analytic %.8g", im, want);
}

/* Funding: a long linear perpetual of q coins with a constant daily rate f
 * pays q s_t h f over the horizon. Realised P&L: the spot P&L minus that;
 * hs VaR: shifted by exactly that amount (each scenario pays the funding of
 * its own h days, all equal here); a spot position pays none. */
static void test_funding(void **state) {
  (void)state;
  fixture f;
  setup(&f, 1, 1);
  static double fund[ND];
  for (size_t k = 0; k < ND; k++) {
    f.close[k] = 30000 * exp(0.04 * sin(0.61 * (double)k));
    fund[k] = 3e-4; /* 0.03% a day */
  }
  f.mkt.funding = fund;
  f.instr[0] = (im_instrument){.und = 0, .kind = IM_PERP};
  f.qty[0] = 2;
  const int32_t h = 3;
  im_model md = {.kind = IM_MODEL_HS, .confidence = 0.99, .horizon = h, .window = 60, .funding = 1};
  double with[ND], without[ND], pw[ND], po[ND];
  int8_t ex[ND];
  im_model_state *s = NULL;
  im_err err;
  for (int on = 1; on >= 0; on--) {
    md.funding = on;
    assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
    im_model_scratch *w = im_model_scratch_alloc(s);
    im_model_eval_tile(s, w, 0, 1, 0, ND, on ? with : without, on ? pw : po, ex);
    im_model_scratch_free(w);
    im_model_state_free(s);
  }
  const size_t t = 200;
  const double paid = 2 * f.close[t] * h * 3e-4;
  assert_true(fabs((with[t] - without[t]) - paid) < 1e-9 * paid);
  assert_true(fabs((po[t] - pw[t]) - paid) < 1e-9 * paid);
  f.instr[0].kind = IM_SPOT; /* spot pays no funding */
  md.funding = 1;
  assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  im_model_eval_tile(s, w, 0, 1, 0, ND, with, pw, ex);
  im_model_scratch_free(w);
  im_model_state_free(s);
  assert_true(with[t] == without[t] && pw[t] == po[t]);
}

/* VaR by a full sort of the losses of one coin over scenario days a..b. */
static double var_days(const double *c, size_t a, size_t b, size_t h, double conf, size_t t) {
  double loss[ND];
  size_t n = 0;
  for (size_t k = a; k <= b; k++) loss[n++] = -(c[t] * (c[k] / c[k - h]) - c[t]);
  for (size_t i = 0; i < n; i++) /* insertion sort, descending */
    for (size_t j = i; j > 0 && loss[j] > loss[j - 1]; j--) {
      double x = loss[j];
      loss[j] = loss[j - 1];
      loss[j - 1] = x;
    }
  double v = loss[(size_t)floor((double)n * (1 - conf) + 1e-9)];
  return v > 0 ? v : 0;
}

/* The anti-procyclicality layer against the definition, computed here with
 * full sorts: core C over the last 30 days, LR over every day (the market is
 * shorter than 10 years), S over the stressed days 60..90 (<= t). */
static void test_apc_layers(void **state) {
  (void)state;
  fixture f;
  setup(&f, 1, 1);
  for (size_t k = 0; k < ND; k++) /* calm, then a stressed stretch at days 60..90, then calm */
    f.close[k] = 20000 * exp((k >= 60 && k <= 90 ? 0.09 : 0.015) * sin(1.3 * (double)k) + 0.0004 * (double)k);
  f.qty[0] = 1;
  im_model md = {.kind = IM_MODEL_HS, .confidence = 0.9, .horizon = 1, .window = 30,
                 .apc_buffer = 1, .apc_stress = 1, .apc_floor = 1,
                 .stress_start = f.mkt.day0 + 60, .stress_end = f.mkt.day0 + 90};
  im_model_state *s = NULL;
  im_err err;
  assert_int_equal(im_model_prepare(&md, &f.mkt, &f.book, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  double im[ND], pnl[ND], apc[ND];
  int8_t ex[ND], tot[ND];
  im_model_eval_tile(s, w, 0, 1, 0, ND, im, pnl, ex);
  im_model_apc_tile(s, w, 0, 1, 0, ND, im, pnl, apc, tot);
  im_model_scratch_free(w);
  im_model_state_free(s);
  const size_t ts[] = {45, 75, 150, 300};
  for (size_t i = 0; i < 4; i++) {
    const size_t t = ts[i];
    const double c = var_days(f.close, t - 29, t, 1, 0.9, t);
    const double lr = var_days(f.close, 1, t, 1, 0.9, t);
    double m = c;
    if (t >= 60) m = 0.75 * c + 0.25 * var_days(f.close, 60, t < 90 ? t : 90, 1, 0.9, t);
    if (lr > m) m = lr;
    double keep = (1.25 * lr - m) / (0.25 * lr);
    keep = keep < 0 ? 0 : keep > 1 ? 1 : keep;
    m *= 1 + 0.25 * keep;
    if (fabs(im[t] - c) > 1e-9 * c || fabs(im[t] + apc[t] - m) > 1e-9 * m)
      fail_msg("t=%zu: core %.10g vs %.10g, total %.10g vs %.10g", t, im[t], c, im[t] + apc[t], m);
    assert_int_equal(tot[t], -pnl[t] > m);
  }
  assert_true(isnan(apc[10]) && tot[10] == -1); /* no core margin yet */
}

static void test_parameter_checks(void **state) {
  (void)state;
  fixture f;
  setup(&f, 1, 1);
  im_err err;
  im_model md = {.kind = IM_MODEL_FHS, .confidence = 0.99, .horizon = 1, .window = 50, .lambda = 1};
  assert_int_equal(im_model_check(&md, &f.mkt, &err), IM_EINVAL);
  assert_non_null(strstr(err.msg, "lambda"));
  md.kind = IM_MODEL_EWMA_T;
  md.lambda = 0.9;
  md.nu = 2;
  assert_int_equal(im_model_check(&md, &f.mkt, &err), IM_EINVAL);
  assert_non_null(strstr(err.msg, "nu"));
  md.nu = 4;
  md.window = 1;
  assert_int_equal(im_model_check(&md, &f.mkt, &err), IM_EINVAL);
  assert_int_equal(im_model_kind_parse("ewma_t"), IM_MODEL_EWMA_T);
  assert_int_equal(im_model_kind_parse("garch"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ewma_closed_form),
      cmocka_unit_test(test_fhs_volatility_regime),
      cmocka_unit_test(test_no_lookahead_filtered),
      cmocka_unit_test(test_grid_hand),
      cmocka_unit_test(test_mc_t_quantile),
      cmocka_unit_test(test_funding),
      cmocka_unit_test(test_apc_layers),
      cmocka_unit_test(test_parameter_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
