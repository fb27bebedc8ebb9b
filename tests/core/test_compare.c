/* Model comparison (compare.h): Diebold-Mariano against a hand-worked case
 * and an implementation written here from Diebold & Mariano (1995), Newey &
 * West (1987) and Harvey, Leybourne & Newbold (1997) (full autocovariance
 * matrix form, lags by counting cubes); the Model Confidence Set on
 * constructed cases whose answer is known: one clearly worse model among
 * equal ones, identical models, and a constant-offset model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "compare.h"

static void near(double got, double want, double tol, int line) {
  if (!(fabs(got - want) <= tol))
    fail_msg("line %d: got %.17g want %.17g (tol %g)", line, got, want, tol);
}
#define NEAR(g, w, t) near((g), (w), (t), __LINE__)

/* Reference DM: Var(mean d) = (1/N^2) sum_s sum_t w(|s-t|) c_s c_t with
 * Bartlett weights w(k) = 1 - k/(L+1) for k <= L (the quadratic form of the
 * Newey-West estimator), L from the definition by counting. */
static void dm_ref(const double *d, size_t n, size_t h, double *dm_hln, double *p) {
  size_t L = 0;
  while ((L + 1) * (L + 1) * (L + 1) <= n) L++;
  if (h - 1 > L) L = h - 1;
  double mean = 0;
  for (size_t t = 0; t < n; t++) mean += d[t] / (double)n;
  double q = 0;
  for (size_t s = 0; s < n; s++)
    for (size_t t = 0; t < n; t++) {
      const size_t k = s > t ? s - t : t - s;
      if (k <= L) q += (1 - (double)k / (double)(L + 1)) * (d[s] - mean) * (d[t] - mean);
    }
  const double N = (double)n, var_mean = q / (N * N);
  const double dm = mean / sqrt(var_mean);
  *dm_hln = dm * sqrt((N + 1 - 2 * (double)h + (double)h * ((double)h - 1) / N) / N);
  *p = 2 * gsl_cdf_tdist_Q(fabs(*dm_hln), N - 1);
}

static void test_dm_hand(void **state) {
  (void)state;
  /* d = 1 2 3 4, h = 1: L = floor(4^(1/3)) = 1, mean 2.5, gamma_0 = 5/4,
   * gamma_1 = (0.75 - 0.25 + 0.75)/4 = 0.3125, LRV = 1.25 + 2 (1/2) 0.3125 =
   * 1.5625, DM = 2.5 / sqrt(1.5625/4) = 4, HLN factor sqrt(3/4). */
  const double d[] = {1, NAN, 2, 3, 4};
  im_dm_result r;
  assert_int_equal(im_cmp_dm(d, 5, 1, &r, NULL), IM_OK);
  assert_int_equal(r.n, 4);
  assert_int_equal(r.lags, 1);
  NEAR(r.mean, 2.5, 1e-15);
  NEAR(r.lrv, 1.5625, 1e-15);
  NEAR(r.dm, 4.0, 1e-14);
  NEAR(r.dm_hln, 4.0 * sqrt(0.75), 1e-14);
  NEAR(r.p, 2 * gsl_cdf_tdist_Q(sqrt(12.0), 3), 1e-14);
  /* Constant differences: no variance, no test. */
  const double c[] = {1, 1, 1};
  assert_int_equal(im_cmp_dm(c, 3, 1, &r, NULL), IM_OK);
  assert_true(isnan(r.dm) && isnan(r.p));
  assert_int_equal(im_cmp_dm(c, 3, 0, &r, NULL), IM_EINVAL);
}

static void test_dm_reference(void **state) {
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  const size_t ns[] = {27, 64, 200, 1000};
  const size_t hs[] = {1, 1, 10, 15};
  static double d[1000];
  for (size_t j = 0; j < 4; j++) {
    double prev = 0;
    for (size_t t = 0; t < ns[j]; t++) d[t] = prev = 0.6 * prev + gsl_ran_gaussian(r, 1) + 0.1;
    im_dm_result got;
    assert_int_equal(im_cmp_dm(d, ns[j], hs[j], &got, NULL), IM_OK);
    double dm, p;
    dm_ref(d, ns[j], hs[j], &dm, &p);
    NEAR(got.dm_hln, dm, 1e-10 * fabs(dm));
    NEAR(got.p, p, 1e-10);
  }
  /* Lag rule: floor(N^(1/3)) at perfect cubes, h - 1 when larger. */
  im_dm_result got;
  im_cmp_dm(d, 1000, 1, &got, NULL);
  assert_int_equal(got.lags, 10);
  im_cmp_dm(d, 999, 1, &got, NULL);
  assert_int_equal(got.lags, 9);
  im_cmp_dm(d, 1000, 15, &got, NULL);
  assert_int_equal(got.lags, 14);
  gsl_rng_free(r);
}

enum { M = 4, T = 500 };

static void losses(double *loss, const double *offset) {
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  for (size_t t = 0; t < T; t++) {
    const double common = gsl_ran_gaussian(r, 2.0);
    for (size_t i = 0; i < M; i++) loss[i * T + t] = common + gsl_ran_gaussian(r, 1.0) + offset[i];
  }
  gsl_rng_free(r);
}

static void test_mcs(void **state) {
  (void)state;
  static double loss[M * T];
  double p[M], p2[M];
  int8_t in[M];
  im_mcs_opts o = im_mcs_opts_default();
  /* Model 2 is worse by 0.5 a day (t about 0.5 / (1/sqrt(500)) = 11): out. */
  const double off1[M] = {0, 0, 0.5, 0};
  losses(loss, off1);
  assert_int_equal(im_cmp_mcs(loss, M, T, &o, p, in, NULL), IM_OK);
  assert_true(p[2] < 0.01 && !in[2]);
  for (int i = 0; i < M; i++)
    if (i != 2) assert_true(in[i] && p[i] >= 0.10);
  /* Deterministic for a seed. */
  assert_int_equal(im_cmp_mcs(loss, M, T, &o, p2, in, NULL), IM_OK);
  assert_memory_equal(p, p2, sizeof p);
  /* Equal models (same expected loss): none is excluded at 10% here, and the
   * best (index with the smallest mean) has p = 1. */
  const double off0[M] = {0, 0, 0, 0};
  losses(loss, off0);
  assert_int_equal(im_cmp_mcs(loss, M, T, &o, p, in, NULL), IM_OK);
  int ones = 0;
  for (int i = 0; i < M; i++) ones += p[i] == 1.0, assert_true(in[i]);
  assert_int_equal(ones, 1);
  /* Identical models: every p-value is 1. */
  for (size_t i = 1; i < M; i++)
    for (size_t t = 0; t < T; t++) loss[i * T + t] = loss[t];
  assert_int_equal(im_cmp_mcs(loss, M, T, &o, p, in, NULL), IM_OK);
  for (int i = 0; i < M; i++) NEAR(p[i], 1.0, 0), assert_true(in[i]);
  /* A model worse by exactly a constant (no variance of its difference):
   * removed first with p = 0; the identical rest stay with p = 1. */
  for (size_t t = 0; t < T; t++) loss[1 * T + t] = loss[t] + 0.25;
  assert_int_equal(im_cmp_mcs(loss, M, T, &o, p, in, NULL), IM_OK);
  NEAR(p[1], 0.0, 0);
  assert_false(in[1]);
  assert_true(in[0] && in[2] && in[3]);
  loss[5] = NAN;
  assert_int_equal(im_cmp_mcs(loss, M, T, &o, p, in, NULL), IM_EINVAL);
}

/* HLN stop at the first non-rejection: model 2 is pure noise (mean set to
 * +0.8 over A, s.d. 20) and is removed first without significance; model 1
 * is clearly worse than model 0 (+0.1 a day, s.d. 0.1) and would be removed
 * at the next step with p ~ 0, but its MCS p-value is the running maximum,
 * so it stays in the set with model 2's p-value. */
static void test_mcs_running_max(void **state) {
  (void)state;
  static double loss[3 * T];
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double eta[T], mean = 0;
  for (size_t t = 0; t < T; t++) eta[t] = gsl_ran_gaussian(r, 20.0), mean += eta[t] / T;
  for (size_t t = 0; t < T; t++) {
    const double base = gsl_ran_gaussian(r, 1.0);
    loss[t] = base;
    loss[T + t] = base + 0.1 + gsl_ran_gaussian(r, 0.1);
    loss[2 * T + t] = base + eta[t] - mean + 0.8;
  }
  gsl_rng_free(r);
  double p[3];
  int8_t in[3];
  im_mcs_opts o = im_mcs_opts_default();
  assert_int_equal(im_cmp_mcs(loss, 3, T, &o, p, in, NULL), IM_OK);
  assert_true(p[2] >= 0.10 && in[2]); /* removed first, not significant */
  NEAR(p[1], p[2], 0);                /* the running maximum */
  assert_true(in[1] && in[0]);
  NEAR(p[0], 1.0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dm_hand),
      cmocka_unit_test(test_dm_reference),
      cmocka_unit_test(test_mcs),
      cmocka_unit_test(test_mcs_running_max),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
