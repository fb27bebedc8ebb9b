/* ES tests and scores (estest.h) against hand-worked cases (the arithmetic is
 * written out next to each number) and against references written here from
 * the published definitions, deliberately differently from the library:
 * PIT by sorting and binary search, Z1/Z2 and Du-Escanciano on compacted
 * arrays with explicit H vectors, FZ0 in its loss-side form, the
 * Poisson-binomial tail by brute-force enumeration of all 2^N outcomes. Random
 * data come from GSL's MT19937, not from the Philox streams of the library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "backtest.h"
#include "estest.h"
#include "es_ref.h"

static void near(double got, double want, double tol, int line) {
  if (!(fabs(got - want) <= tol)) fail_msg("line %d: got %.17g want %.17g (tol %g)", line, got, want, tol);
}
#define NEAR(g, w, t) near((g), (w), (t), __LINE__)

static int cmp_dbl(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Mid-rank PIT by sorting: lower and upper bounds by bisection. */
static double pit_ref(const double *scen, size_t w, double pnl) {
  double *s = malloc(w * sizeof *s);
  memcpy(s, scen, w * sizeof *s);
  qsort(s, w, sizeof *s, cmp_dbl);
  size_t lo = 0, hi = w;
  while (lo < hi) { /* first index with s >= pnl */
    size_t mid = (lo + hi) / 2;
    if (s[mid] < pnl) lo = mid + 1; else hi = mid;
  }
  size_t lo2 = lo, hi2 = w;
  while (lo2 < hi2) { /* first index with s > pnl */
    size_t mid = (lo2 + hi2) / 2;
    if (s[mid] <= pnl) lo2 = mid + 1; else hi2 = mid;
  }
  free(s);
  return ((double)lo + 0.5 * (double)(lo2 - lo)) / (double)w;
}

static void test_pit(void **state) {
  (void)state;
  /* Hand: {1, 2, 2, 3} at 2: one below, two ties -> (1 + 1) / 4. */
  const double s[] = {1, 2, 2, 3};
  NEAR(im_es_pit_scen(s, 4, 2.0), 0.5, 0);
  NEAR(im_es_pit_scen(s, 4, 0.0), 0.0, 0);
  NEAR(im_es_pit_scen(s, 4, 3.0), 0.875, 0); /* (3 + 0.5) / 4 */
  const double sn[] = {1, NAN, 3};
  NEAR(im_es_pit_scen(sn, 3, 2.0), 0.5, 0); /* NaN scenario skipped: 1 of 2 */
  assert_true(isnan(im_es_pit_scen(s, 4, NAN)));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double scen[200];
  for (int rep = 0; rep < 50; rep++) {
    for (size_t i = 0; i < 200; i++) scen[i] = floor(gsl_ran_gaussian(r, 3.0)); /* ties */
    const double pnl = floor(gsl_ran_gaussian(r, 3.0));
    NEAR(im_es_pit_scen(scen, 200, pnl), pit_ref(scen, 200, pnl), 1e-15);
  }
  gsl_rng_free(r);
}

/* Kolmogorov-Smirnov distance of a sample from U(0,1). */
static double ks_uniform(double *u, size_t n) {
  qsort(u, n, sizeof *u, cmp_dbl);
  double d = 0.0;
  for (size_t i = 0; i < n; i++) {
    d = fmax(d, fabs((double)(i + 1) / (double)n - u[i]));
    d = fmax(d, fabs(u[i] - (double)i / (double)n));
  }
  return d;
}

/* A correct model's PITs are U(0,1): each day's 1,000 scenarios and the
 * realised P&L are draws of the same distribution (its scale changing by day);
 * a model with half the true scale is rejected. KS 1% critical value
 * 1.628 / sqrt(n) (Kolmogorov's asymptotic quantile). */
static void test_pit_uniform(void **state) {
  (void)state;
  enum { N = 1000, W = 1000 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  static double scen[W], u_ok[N], u_thin[N];
  for (size_t t = 0; t < N; t++) {
    const double sd = 1.0 + 0.5 * sin((double)t / 40.0);
    for (size_t s = 0; s < W; s++) scen[s] = gsl_ran_gaussian(r, sd);
    const double pnl = gsl_ran_gaussian(r, sd);
    u_ok[t] = im_es_pit_scen(scen, W, pnl);
    for (size_t s = 0; s < W; s++) scen[s] *= 0.5;
    u_thin[t] = im_es_pit_scen(scen, W, pnl);
  }
  gsl_rng_free(r);
  const double crit = 1.628 / sqrt((double)N);
  assert_true(ks_uniform(u_ok, N) < crit);
  assert_true(ks_uniform(u_thin, N) > crit);
}

static void test_scores(void **state) {
  (void)state;
  /* QS hand: a = 0.05, VaR 10. Loss 12 (hit): (0.05 - 1)(10 - 12) = 1.9;
   * loss 5: 0.05 * 5 = 0.25; loss = VaR: 0. */
  NEAR(im_es_qs(0.05, 10, 12), 1.9, 1e-15);
  NEAR(im_es_qs(0.05, 10, 5), 0.25, 1e-15);
  NEAR(im_es_qs(0.05, 10, 10), 0.0, 0);
  /* FZ0 hand: a = 0.025, VaR 2, ES 3, pnl -4: v = -2, e = -3, v - y = 2:
   * -(1/(0.025 * -3)) * 2 + 2/3 + ln 3 - 1 = 80/3 + 2/3 - 1 + ln 3. */
  NEAR(im_es_fz0(0.025, 2, 3, -4), 82.0 / 3.0 - 1.0 + log(3.0), 1e-12);
  /* No hit: v/e + ln(-e) - 1 = 2/3 + ln 3 - 1. */
  NEAR(im_es_fz0(0.025, 2, 3, 1), 2.0 / 3.0 + log(3.0) - 1.0, 1e-15);
  assert_true(isnan(im_es_fz0(0.025, 2, 0, 1)));
  assert_true(isnan(im_es_fz0(0.025, 2, -1, 1)));
  /* Loss-side form (Patton-Ziegel-Chen 2019 with L = -y): 1{L >= VaR}(L -
   * VaR)/(a ES) + VaR/ES + ln ES - 1, on random inputs. */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  for (int i = 0; i < 1000; i++) {
    const double a = 0.01 + 0.1 * gsl_rng_uniform(r), var = gsl_rng_uniform(r) * 5;
    const double es = var + 0.01 + gsl_rng_uniform(r) * 3, loss = gsl_ran_gaussian(r, 3.0);
    const double want = (loss >= var ? (loss - var) / (a * es) : 0.0) + var / es + log(es) - 1.0;
    NEAR(im_es_fz0(a, var, es, -loss), want, 1e-12 * fmax(1.0, fabs(want)));
  }
  gsl_rng_free(r);
}

/* FZ0 is consistent for (VaR, ES): its sample mean over N(0,1) losses is
 * smallest near the true (1.96, 2.34) of a = 0.025 among a grid. */
static void test_fz0_consistent(void **state) {
  (void)state;
  enum { N = 200000 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double *pnl = malloc(N * sizeof *pnl);
  for (size_t t = 0; t < N; t++) pnl[t] = gsl_ran_gaussian(r, 1.0);
  double best = INFINITY, bv = 0, be = 0;
  for (double v = 1.5; v <= 2.45; v += 0.05)
    for (double e = v + 0.05; e <= 3.0; e += 0.05) {
      double s = 0;
      for (size_t t = 0; t < N; t++) s += im_es_fz0(0.025, v, e, pnl[t]);
      if (s < best) best = s, bv = v, be = e;
    }
  free(pnl);
  gsl_rng_free(r);
  NEAR(bv, 1.96, 0.11);
  NEAR(be, 2.34, 0.11);
}

/* Z1, Z2, severity on the compacted observed days, written out. */
static void as_ref(const double *l, const double *v, const double *e, size_t n, double a,
                   double *z1, double *z2, double *se, double *so) {
  double s1 = 0, s2 = 0, sev_e = 0, sev_o = 0;
  size_t nobs = 0, nf = 0;
  for (size_t t = 0; t < n; t++) {
    if (isnan(l[t]) || isnan(v[t]) || isnan(e[t])) continue;
    nobs++;
    const int hit = l[t] > v[t];
    s1 += hit * l[t] / e[t];
    s2 += hit * l[t] / e[t];
    if (hit) nf++, sev_e += e[t] / v[t], sev_o += l[t] / v[t];
  }
  *z1 = nf ? 1 - s1 / (double)nf : NAN;
  *z2 = 1 - s2 / ((double)nobs * a);
  *se = nf ? sev_e / (double)nf : NAN;
  *so = nf ? sev_o / (double)nf : NAN;
}

static void test_acerbi_szekely(void **state) {
  (void)state;
  /* Hand, a = 0.25: losses 3, 1, 5, 0 (and a not-observed day), VaR 2, ES 4:
   * failures on days 0 and 2; Z1 = 1 - (3/4 + 5/4)/2 = 0; Z2 = 1 - (3/4 +
   * 5/4)/(4 * 0.25) = -1; severity expected 4/2 = 2, observed (3/2 + 5/2)/2 = 2. */
  const double l[] = {3, 1, NAN, 5, 0}, v[] = {2, 2, 2, 2, 2}, e[] = {4, 4, 4, 4, 4};
  im_es_stats s;
  assert_int_equal(im_es_compute(l, v, e, NULL, 5, 0.25, 0, &s, NULL), IM_OK);
  assert_int_equal(s.n_obs, 4);
  assert_int_equal(s.n_fail, 2);
  NEAR(s.z1, 0.0, 1e-15);
  NEAR(s.z2, -1.0, 1e-15);
  NEAR(s.sev_expected, 2.0, 0);
  NEAR(s.sev_observed, 2.0, 0);
  assert_true(isnan(s.de_u) && s.cc_es_zone == -1); /* no PITs */
  /* No failure: Z1 undefined, Z2 = 1. */
  const double l0[] = {1, 1};
  assert_int_equal(im_es_compute(l0, v, e, NULL, 2, 0.25, 0, &s, NULL), IM_OK);
  assert_true(isnan(s.z1) && isnan(s.sev_observed));
  NEAR(s.z2, 1.0, 0);
  /* Random series against the reference. */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  enum { N = 500 };
  double L[N], V[N], E[N];
  for (int rep = 0; rep < 20; rep++) {
    for (size_t t = 0; t < N; t++) {
      V[t] = 1 + gsl_rng_uniform(r);
      E[t] = V[t] * (1.1 + 0.3 * gsl_rng_uniform(r));
      L[t] = gsl_rng_uniform(r) < 0.05 ? NAN : gsl_ran_tdist(r, 3.0);
    }
    double z1, z2, se, so;
    as_ref(L, V, E, N, 0.05, &z1, &z2, &se, &so);
    assert_int_equal(im_es_compute(L, V, E, NULL, N, 0.05, 0, &s, NULL), IM_OK);
    NEAR(s.z1, z1, 1e-12);
    NEAR(s.z2, z2, 1e-12);
    NEAR(s.sev_expected, se, 1e-12);
    NEAR(s.sev_observed, so, 1e-12);
  }
  gsl_rng_free(r);
}

static void test_du_escanciano(void **state) {
  (void)state;
  /* Hand, a = 0.5, m = 1: u = 0.1 0.6 0.25 0.9 0.5 0.05 -> H = 0.8 0 0.5 0 0
   * 0.9, mean 2.2/6; U = sqrt(6)(2.2/6 - 0.25)/sqrt(0.5 * 2.5 / 12).
   * Centred c = 0.55 -0.25 0.25 -0.25 -0.25 0.65: gamma_0 = 0.975/6, gamma_1
   * = (-0.1375 - 0.0625 - 0.0625 + 0.0625 - 0.1625)/5 = -0.0725, C = 6 rho^2. */
  const double u[] = {0.1, 0.6, 0.25, NAN, 0.9, 0.5, 0.05};
  im_es_stats s;
  assert_int_equal(im_es_compute(NULL, NULL, NULL, u, 7, 0.5, 1, &s, NULL), IM_OK);
  assert_int_equal(s.de_n, 6);
  const double uu = sqrt(6.0) * (2.2 / 6 - 0.25) / sqrt(0.5 * 2.5 / 12);
  NEAR(s.de_u, uu, 1e-14);
  NEAR(s.de_u_p, 2 * gsl_cdf_ugaussian_Q(uu), 1e-14);
  const double rho = -0.0725 / (0.975 / 6);
  NEAR(s.de_c, 6 * rho * rho, 1e-13);
  NEAR(s.de_c_p, gsl_cdf_chisq_Q(6 * rho * rho, 1), 1e-13);
  assert_true(isnan(s.z1) && isnan(s.z2));
  /* Random PIT series against the reference, m = 5 (default). */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  enum { N = 700 };
  double p[N];
  for (int rep = 0; rep < 20; rep++) {
    for (size_t t = 0; t < N; t++)
      p[t] = gsl_rng_uniform(r) < 0.03 ? NAN : pow(gsl_rng_uniform(r), 1 + rep * 0.05);
    double ur, cr;
    de_ref(p, N, 0.05, 5, &ur, &cr);
    assert_int_equal(im_es_compute(NULL, NULL, NULL, p, N, 0.05, 0, &s, NULL), IM_OK);
    assert_int_equal(s.de_c_lags, 5);
    NEAR(s.de_u, ur, 1e-11);
    NEAR(s.de_c, cr, 1e-9 * fmax(1, cr));
  }
  gsl_rng_free(r);
}

/* Costanzino-Curran zone: Phi(U) against 0.95 / 0.9999, the U thresholds
 * being the normal quantiles 1.6449 and 3.7190. */
static void test_cc_zone(void **state) {
  (void)state;
  const double a = 0.025, z95 = gsl_cdf_ugaussian_Pinv(0.95), z9999 = gsl_cdf_ugaussian_Pinv(0.9999);
  enum { N = 400 };
  double u[N];
  int seen[3] = {0};
  for (int k = 0; k <= 40; k++) { /* k PITs of 0.001, the rest 0.5 */
    for (size_t t = 0; t < N; t++) u[t] = (int)t < k ? 0.001 : 0.5;
    im_es_stats s;
    assert_int_equal(im_es_compute(NULL, NULL, NULL, u, N, a, 0, &s, NULL), IM_OK);
    const int want = s.de_u <= z95 ? 0 : (s.de_u <= z9999 ? 1 : 2);
    assert_int_equal(s.cc_es_zone, want);
    seen[want]++;
  }
  assert_true(seen[0] && seen[1] && seen[2]);
}

/* P(X >= x) by enumerating all 2^n outcomes. */
static double pbinom_brute(const double *p, size_t n, int64_t x) {
  double tail = 0;
  for (unsigned long mask = 0; mask < (1ul << n); mask++) {
    double pr = 1;
    int64_t k = 0;
    for (size_t t = 0; t < n; t++) {
      const int on = (int)((mask >> t) & 1ul);
      pr *= on ? p[t] : 1 - p[t];
      k += on;
    }
    if (k >= x) tail += pr;
  }
  return tail;
}

static void test_pbinom(void **state) {
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double p[14], work[16];
  for (size_t n = 1; n <= 14; n++)
    for (int rep = 0; rep < 3; rep++) {
      for (size_t t = 0; t < n; t++) p[t] = rep == 2 ? 0.02 * gsl_rng_uniform(r) : gsl_rng_uniform(r);
      for (int64_t x = 0; x <= (int64_t)n + 1; x++) {
        const double want = pbinom_brute(p, n, x);
        NEAR(im_es_pbinom_sf(p, n, x, work), want, 1e-14 + 1e-12 * want);
      }
    }
  /* NaN days are skipped: {0.5, NaN, 0.5}: P(X >= 1) = 3/4. */
  const double pn[] = {0.5, NAN, 0.5};
  NEAR(im_es_pbinom_sf(pn, 3, 1, work), 0.75, 1e-15);
  NEAR(im_es_pbinom_sf(pn, 3, 3, work), 0.0, 0);
  const double bad[] = {1.5};
  assert_true(isnan(im_es_pbinom_sf(bad, 1, 1, work)));
  /* Equal p: the binomial tail of GSL (n = 1000, p = 0.01, x = 15). */
  static double pe[1000];
  static double w2[16];
  for (size_t t = 0; t < 1000; t++) pe[t] = 0.01;
  NEAR(im_es_pbinom_sf(pe, 1000, 15, w2), gsl_cdf_binomial_Q(14, 0.01, 1000), 1e-13);
  gsl_rng_free(r);
}

static void test_tail_prob_and_errors(void **state) {
  (void)state;
  const double s[] = {-5, -1, 0, 2, NAN}; /* losses 5, 1, 0, -2 */
  NEAR(im_es_tail_prob_scen(s, 5, 0.5), 0.5, 0);
  NEAR(im_es_tail_prob_scen(s, 5, 1.0), 0.25, 0);
  im_es_stats st;
  const double l[] = {1}, v[] = {1}, e0[] = {0}, badu[] = {1.5};
  assert_int_equal(im_es_compute(l, v, e0, NULL, 1, 0.05, 0, &st, NULL), IM_EINVAL);
  assert_int_equal(im_es_compute(NULL, NULL, NULL, badu, 1, 0.05, 0, &st, NULL), IM_EINVAL);
  assert_int_equal(im_es_compute(l, v, v, NULL, 1, 1.0, 0, &st, NULL), IM_EINVAL);
  assert_int_equal(im_es_compute(l, v, v, NULL, 1, 0.05, 65, &st, NULL), IM_EINVAL);
  assert_int_equal(im_es_compute(l, NULL, v, NULL, 1, 0.05, 0, &st, NULL), IM_EINVAL);
  const double vinf[] = {INFINITY};
  assert_int_equal(im_es_compute(l, vinf, NULL, NULL, 1, 0.05, 0, &st, NULL), IM_EINVAL);
  assert_int_equal(im_es_subsample(l, v, v, NULL, 1, 2, 2, 0.05, 0, &st, NULL), IM_EINVAL);
}

/* Means of the scores: a = 0.05, VaR 10, ES 11, losses 12, 5 and a
 * not-observed day: QS (1.9 + 0.25) / 2 (the hand values of test_scores);
 * FZ0 by the loss-side form. A VaR model (no ES) has QS and no FZ0. */
static void test_score_means(void **state) {
  (void)state;
  const double l[] = {12, 5, NAN}, v[] = {10, 10, 10}, e[] = {11, 11, 11};
  im_es_stats s;
  assert_int_equal(im_es_compute(l, v, e, NULL, 3, 0.05, 0, &s, NULL), IM_OK);
  assert_int_equal(s.qs_n, 2);
  NEAR(s.qs_mean, 1.075, 1e-15);
  const double fz_hit = 2.0 / (0.05 * 11) + 10.0 / 11 + log(11.0) - 1, fz_no = 10.0 / 11 + log(11.0) - 1;
  assert_int_equal(s.fz0_n, 2);
  NEAR(s.fz0_mean, (fz_hit + fz_no) / 2, 1e-13);
  assert_int_equal(im_es_compute(l, v, NULL, NULL, 3, 0.05, 0, &s, NULL), IM_OK);
  NEAR(s.qs_mean, 1.075, 1e-15);
  assert_true(isnan(s.fz0_mean) && isnan(s.z2) && s.fz0_n == 0);
}

/* Bit-equal doubles (NaN equals NaN), field by field (no padding compared). */
static void same(double x, double y, int line) {
  if (memcmp(&x, &y, sizeof x)) fail_msg("line %d: %.17g != %.17g", line, x, y);
}
static void same_stats(const im_es_stats *a, const im_es_stats *b) {
  assert_int_equal(a->n_obs, b->n_obs);
  assert_int_equal(a->n_fail, b->n_fail);
  assert_int_equal(a->de_n, b->de_n);
  assert_int_equal(a->de_c_lags, b->de_c_lags);
  assert_int_equal(a->cc_es_zone, b->cc_es_zone);
  assert_int_equal(a->qs_n, b->qs_n);
  assert_int_equal(a->fz0_n, b->fz0_n);
  const double x[] = {a->z1, a->z2, a->sev_expected, a->sev_observed, a->de_u, a->de_u_p,
                      a->de_c, a->de_c_p, a->qs_mean, a->fz0_mean};
  const double y[] = {b->z1, b->z2, b->sev_expected, b->sev_observed, b->de_u, b->de_u_p,
                      b->de_c, b->de_c_p, b->qs_mean, b->fz0_mean};
  for (size_t i = 0; i < sizeof x / sizeof *x; i++) same(x[i], y[i], (int)i);
}

/* Sub-samples equal the statistics of the strided copy. */
static void test_subsample(void **state) {
  (void)state;
  enum { N = 900, H = 3 };
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  static double l[N], v[N], e[N], u[N], cl[N], cv[N], ce[N], cu[N];
  for (size_t t = 0; t < N; t++) {
    v[t] = 1 + gsl_rng_uniform(r), e[t] = 1.2 * v[t];
    l[t] = gsl_ran_tdist(r, 4), u[t] = gsl_rng_uniform(r) < 0.02 ? NAN : gsl_rng_uniform(r);
  }
  for (size_t k = 0; k < H; k++) {
    size_t m = 0;
    for (size_t t = k; t < N; t += H, m++) cl[m] = l[t], cv[m] = v[t], ce[m] = e[t], cu[m] = u[t];
    im_es_stats a, b;
    assert_int_equal(im_es_subsample(l, v, e, u, N, H, k, 0.05, 0, &a, NULL), IM_OK);
    assert_int_equal(im_es_compute(cl, cv, ce, cu, m, 0.05, 0, &b, NULL), IM_OK);
    same_stats(&a, &b);
    assert_int_equal(a.n_obs, N / H);
  }
  gsl_rng_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pit),          cmocka_unit_test(test_pit_uniform),
      cmocka_unit_test(test_scores),       cmocka_unit_test(test_fz0_consistent),
      cmocka_unit_test(test_acerbi_szekely), cmocka_unit_test(test_du_escanciano),
      cmocka_unit_test(test_cc_zone),      cmocka_unit_test(test_pbinom),
      cmocka_unit_test(test_tail_prob_and_errors),
      cmocka_unit_test(test_score_means),  cmocka_unit_test(test_subsample),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
