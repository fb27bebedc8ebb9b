/* Simulated p-values (simp.h) against exact answers and independent
 * simulations written here:
 * - the parametric families' (q, e) against numerical integration of the
 *   density (GSL's pdfs, Simpson's rule), and the pinned (mu, sigma) against
 *   the empirical VaR/ES of 400,000 draws;
 * - Z1/Z2 simulated p-values against a re-implementation of the documented
 *   stream scheme, hand cases with a one-scenario set (deterministic
 *   simulations), and invariance to where the observed days sit;
 * - null tables: the Kupiec p-value of the battery and the p-value of a
 *   count statistic equal the exact binomial tails (with Dufour's lottery,
 *   P(S > S0) + P(S = S0)(1 - V0)) within 4 Monte Carlo standard errors;
 *   Du-Escanciano's p-values match an independent MT19937 simulation of the
 *   reference statistics; tables are identical across calls and splits. */
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

#include "es_ref.h"
#include "estest.h"
#include "rng.h"
#include "simp.h"

static void near(double got, double want, double tol, int line) {
  if (!(fabs(got - want) <= tol))
    fail_msg("line %d: got %.17g want %.17g (tol %g)", line, got, want, tol);
}
#define NEAR(g, w, t) near((g), (w), (t), __LINE__)

static int cmp_dbl(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* e = (1/a) int_q^inf x f(x) dx by x = q / w, w in (0, 1], Simpson. */
static double tail_mean_ref(double q, double a, double nu) {
  const int K = 20000;
  double s = 0;
  for (int i = 0; i <= K; i++) {
    const double w = (double)i / K;
    double g = 0;
    if (w > 0) {
      const double x = q / w;
      const double f = nu > 0 ? gsl_ran_tdist_pdf(x, nu) : gsl_ran_ugaussian_pdf(x);
      g = x * f * q / (w * w);
    }
    s += g * (i == 0 || i == K ? 1 : (i % 2 ? 4 : 2));
  }
  return s / (3.0 * K) / a;
}

static void test_param_family(void **state) {
  (void)state;
  const double a = 0.025;
  const im_es_dist dists[3] = {{IM_ES_DIST_NORMAL, 0}, {IM_ES_DIST_T, 3}, {IM_ES_DIST_T, 5}};
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  enum { D = 400000 };
  double *loss = malloc(D * sizeof *loss);
  for (int k = 0; k < 3; k++) {
    double q, e;
    assert_int_equal(im_es_dist_std(&dists[k], a, &q, &e, NULL), IM_OK);
    const double nu = dists[k].kind == IM_ES_DIST_T ? dists[k].nu : 0;
    NEAR(q, nu > 0 ? gsl_cdf_tdist_Qinv(a, nu) : 1.959963984540054, 1e-9);
    NEAR(e, tail_mean_ref(q, a, nu), 1e-6);
    /* A day with VaR 2, ES 3: draws reproduce them. */
    const double var[1] = {2}, es[1] = {3};
    im_simp_param_ctx c;
    assert_int_equal(im_simp_param_init(&c, &dists[k], a, var, es, 1, NULL), IM_OK);
    for (size_t i = 0; i < D; i++) {
      im_rng_stream(r, 7, 1, 0, (uint32_t)i);
      loss[i] = im_simp_draw_param(&c, 0, r);
    }
    qsort(loss, D, sizeof *loss, cmp_dbl);
    const size_t nt = (size_t)(a * D);
    double tail = 0, above_es = 0;
    for (size_t i = D - nt; i < D; i++) tail += loss[i] / (double)nt;
    for (size_t i = 0; i < D; i++) above_es += loss[i] > 3.0;
    NEAR(loss[D - nt], 2.0, 0.03);
    NEAR(tail, 3.0, nu == 3 ? 0.12 : 0.05);
    NEAR(im_es_dist_tail(&dists[k], a), above_es / D, 4 * sqrt(0.01 / D));
  }
  /* A normal ES_97.5 is exceeded with probability about 0.97% (issue 14). */
  NEAR(im_es_dist_tail(&dists[0], a), 0.0097, 0.00005);
  free(loss);
  gsl_rng_free(r);
  im_simp_param_ctx c;
  const double v[1] = {3}, e1[1] = {3};
  const im_es_dist bad = {IM_ES_DIST_T, 1.0};
  assert_int_equal(im_simp_param_init(&c, &dists[0], a, v, e1, 1, NULL), IM_EINVAL);
  assert_int_equal(im_simp_param_init(&c, &bad, a, v, v, 0, NULL), IM_EINVAL);
}

/* The scenario simulation re-implemented from the header's description. */
static void z_sim_ref(const double *loss, const double *var, const double *es,
                      const uint32_t *date, size_t n, double a, const double *scen, size_t w,
                      uint64_t seed, size_t m, double *p1, double *p2) {
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  double *ls = malloc(n * sizeof *ls);
  im_es_stats obs;
  im_es_as(loss, var, es, n, a, &obs);
  size_t c1 = 0, c2 = 0;
  for (size_t i = 0; i < m; i++) {
    for (size_t t = 0; t < n; t++) {
      ls[t] = NAN;
      if (isnan(loss[t]) || isnan(var[t]) || isnan(es[t])) continue;
      im_rng_stream(r, seed, IM_SIMP_PURPOSE_Z, date[t], (uint32_t)i);
      ls[t] = -scen[t * w + gsl_rng_uniform_int(r, w)];
    }
    /* Z by hand on the simulated losses. */
    double s = 0;
    size_t nobs = 0, nf = 0;
    for (size_t t = 0; t < n; t++) {
      if (isnan(ls[t])) continue;
      nobs++;
      if (ls[t] > var[t]) nf++, s += ls[t] / es[t];
    }
    if (nf && 1 - s / (double)nf <= obs.z1) c1++;
    if (1 - s / ((double)nobs * a) <= obs.z2) c2++;
  }
  *p1 = (1.0 + (double)c1) / (double)(m + 1);
  *p2 = (1.0 + (double)c2) / (double)(m + 1);
  free(ls);
  gsl_rng_free(r);
}

enum { ZN = 300, ZW = 50 };

/* A series of ZN days, each with ZW normal scenarios of scale sd_t; the
 * realised loss is mult times a loss drawn from the day's scenarios (mult = 1:
 * the scenario set is the true distribution); VaR/ES from the scenarios. */
static void z_data(double mult, double *scen, double *loss, double *var, double *es,
                   uint32_t *date) {
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double s[ZW];
  for (size_t t = 0; t < ZN; t++) {
    const double sd = 1 + 0.3 * sin((double)t / 20);
    for (size_t k = 0; k < ZW; k++) scen[t * ZW + k] = s[k] = gsl_ran_gaussian(r, sd);
    qsort(s, ZW, sizeof *s, cmp_dbl); /* pnl ascending: s[0] the largest loss */
    var[t] = -s[2];                   /* a = 0.05 of 50: the 3rd largest loss */
    es[t] = -(s[0] + s[1]) / 2 * 0.6 + var[t] * 0.4; /* between VaR and the top losses */
    loss[t] = t % 37 == 5 ? NAN : -mult * scen[t * ZW + gsl_rng_uniform_int(r, ZW)];
    date[t] = 19000 + (uint32_t)t;
  }
  gsl_rng_free(r);
}

static void test_z_scenarios(void **state) {
  (void)state;
  static double scen[ZN * ZW], loss[ZN], var[ZN], es[ZN];
  static uint32_t date[ZN];
  const size_t M = 400;
  for (int k = 0; k < 2; k++) {
    z_data(k ? 2.0 : 1.0, scen, loss, var, es, date);
    const im_simp_scen_ctx c = {scen, ZW};
    double p1, p2, r1, r2;
    assert_int_equal(im_simp_z(loss, var, es, date, ZN, 0.05, im_simp_draw_scen, &c, 11, M, &p1,
                               &p2, NULL),
                     IM_OK);
    z_sim_ref(loss, var, es, date, ZN, 0.05, scen, ZW, 11, M, &r1, &r2);
    NEAR(p1, r1, 0);
    NEAR(p2, r2, 0);
    if (k) { /* losses twice the model's scale: far in the left tail */
      NEAR(p2, 1.0 / (double)(M + 1), 0);
    } else {
      assert_true(p2 > 0.05 && p1 > 0.01);
    }
  }
  /* The draws are keyed by date, not position: the same days behind ten
   * extra not-observed days (other dates) give the same p-values. */
  static double scen2[(ZN + 10) * ZW], loss2[ZN + 10], var2[ZN + 10], es2[ZN + 10];
  static uint32_t date2[ZN + 10];
  z_data(1.0, scen, loss, var, es, date);
  for (size_t t = 0; t < ZN + 10; t++) {
    const int pad = t < 10;
    const size_t s = t - 10;
    loss2[t] = pad ? NAN : loss[s];
    var2[t] = pad ? 1 : var[s];
    es2[t] = pad ? 2 : es[s];
    date2[t] = pad ? (uint32_t)t : date[s];
    for (size_t k = 0; k < ZW; k++) scen2[t * ZW + k] = pad ? 0 : scen[s * ZW + k];
  }
  const im_simp_scen_ctx c1 = {scen, ZW}, c2 = {scen2, ZW};
  double a1, a2, b1, b2;
  im_simp_z(loss, var, es, date, ZN, 0.05, im_simp_draw_scen, &c1, 3, 200, &a1, &a2, NULL);
  im_simp_z(loss2, var2, es2, date2, ZN + 10, 0.05, im_simp_draw_scen, &c2, 3, 200, &b1, &b2,
            NULL);
  NEAR(b1, a1, 0);
  NEAR(b2, a2, 0);
}

/* One scenario per day: every simulation is the same series, so the p-value
 * is 1 (simulated = observed, ties count) or 1/(M+1) (simulated milder). */
static void test_z_one_scenario(void **state) {
  (void)state;
  const double loss[4] = {3, 1, 5, 0}, var[4] = {2, 2, 2, 2}, es[4] = {4, 4, 4, 4};
  const uint32_t date[4] = {1, 2, 3, 4};
  double same[4], milder[4];
  for (int t = 0; t < 4; t++) same[t] = -loss[t], milder[t] = -0.9 * loss[t];
  double p1, p2;
  const im_simp_scen_ctx cs = {same, 1}, cm = {milder, 1};
  im_simp_z(loss, var, es, date, 4, 0.25, im_simp_draw_scen, &cs, 1, 99, &p1, &p2, NULL);
  NEAR(p1, 1.0, 0);
  NEAR(p2, 1.0, 0);
  im_simp_z(loss, var, es, date, 4, 0.25, im_simp_draw_scen, &cm, 1, 99, &p1, &p2, NULL);
  NEAR(p1, 0.01, 1e-15);
  NEAR(p2, 0.01, 1e-15);
  /* No observed failure: Z1 has no p-value. */
  const double l0[4] = {0, 0, 0, 0};
  im_simp_z(l0, var, es, date, 4, 0.25, im_simp_draw_scen, &cs, 1, 99, &p1, &p2, NULL);
  assert_true(isnan(p1));
  NEAR(p2, 1.0, 0); /* Z2 = 1 and every simulation ties */
}

/* The parametric sampler: a correct normal model is not rejected, data
 * with t3 tails of the same variance under a normal model are. */
static void test_z_param(void **state) {
  (void)state;
  enum { N = 1000 };
  static double loss[N], var[N], es[N];
  static uint32_t date[N];
  const double a = 0.025;
  const im_es_dist nd = {IM_ES_DIST_NORMAL, 0};
  double q, e;
  im_es_dist_std(&nd, a, &q, &e, NULL);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  for (int k = 0; k < 2; k++) {
    for (size_t t = 0; t < N; t++) {
      var[t] = q, es[t] = e, date[t] = (uint32_t)t;
      loss[t] = k ? gsl_ran_tdist(r, 3) / sqrt(3.0) : gsl_ran_gaussian(r, 1);
    }
    im_simp_param_ctx c;
    assert_int_equal(im_simp_param_init(&c, &nd, a, var, es, N, NULL), IM_OK);
    double p1, p2;
    assert_int_equal(
        im_simp_z(loss, var, es, date, N, a, im_simp_draw_param, &c, 5, 199, &p1, &p2, NULL),
        IM_OK);
    if (k) assert_true(p1 < 0.05);
    else assert_true(p1 > 0.05 && p2 > 0.05);
  }
  gsl_rng_free(r);
}

/* ---- null tables ---------------------------------------------------------- */

static double binom_pmf(size_t n, size_t k, double a) { return gsl_ran_binomial_pdf((unsigned)k, a, (unsigned)n); }

/* Kupiec LR written out (0 ln 0 = 0). */
static double lr_uc_ref(size_t n, size_t x, double a) {
  const double ph = (double)x / (double)n;
  double l1 = 0, l0 = (double)(n - x) * log(1 - a) + (double)x * log(a);
  if (x) l1 += (double)x * log(ph);
  if (x < n) l1 += (double)(n - x) * log(1 - ph);
  return 2 * (l1 - l0);
}

/* The lottery's expectation: P(S > S0) + P(S = S0)(1 - V0), S = stat(k). */
static double exact_lottery(size_t n, double a, double s0, double v0, double (*stat)(size_t, size_t, double)) {
  double gt = 0, eq = 0;
  for (size_t k = 0; k <= n; k++) {
    const double s = stat(n, k, a);
    if (fabs(s - s0) <= 1e-9 * fmax(1, fabs(s0))) eq += binom_pmf(n, k, a);
    else if (s > s0) gt += binom_pmf(n, k, a);
  }
  return gt + eq * (1 - v0);
}

static void hits_with(int8_t *h, size_t n, size_t x) {
  for (size_t t = 0; t < n; t++) h[t] = (t * 7 + 3) % n < x; /* x hits, spread out */
}

static void test_kupiec_exact(void **state) {
  (void)state;
  const size_t n = 60, M = 20000;
  const double a = 0.05;
  im_simp_null nt;
  assert_int_equal(im_simp_bt_null(&nt, n, a, M, NULL, NULL), IM_OK);
  int8_t h[60];
  const size_t xs[] = {0, 1, 3, 5, 7, 9};
  for (size_t j = 0; j < sizeof xs / sizeof *xs; j++) {
    hits_with(h, n, xs[j]);
    im_simp_bt_p p;
    assert_int_equal(im_simp_bt_pvalues(&nt, h, n, NULL, &p, NULL), IM_OK);
    const double want = exact_lottery(n, a, lr_uc_ref(n, xs[j], a), im_simp_tie_u(h, n), lr_uc_ref);
    NEAR(p.p_uc, want, 4 * sqrt(want * (1 - want) / (double)M) + 1.0 / (double)M);
  }
  im_simp_null_free(&nt);
}

/* A caller-supplied statistic: the number of hits (or of PITs <= 0.1); its
 * exact null is Binomial(n, a) (or Binomial(n, 0.1)). */
static im_status count_hits(const void *s, size_t n, double a, void *ctx, double *out, im_err *e) {
  (void)a, (void)ctx, (void)e;
  const int8_t *h = s;
  double c = 0;
  for (size_t t = 0; t < n; t++) c += h[t];
  out[0] = c;
  return IM_OK;
}
static im_status count_low(const void *s, size_t n, double a, void *ctx, double *out, im_err *e) {
  (void)a, (void)ctx, (void)e;
  const double *u = s;
  double c = 0;
  for (size_t t = 0; t < n; t++) c += u[t] <= 0.1;
  out[0] = c;
  return IM_OK;
}
static double count_stat(size_t n, size_t k, double a) { (void)n, (void)a; return (double)k; }

static void test_generic_exact(void **state) {
  (void)state;
  const size_t n = 40, M = 20000;
  im_simp_null th, tp;
  assert_int_equal(im_simp_null_hits(&th, n, 0.1, 77, M, 1, count_hits, NULL, NULL), IM_OK);
  assert_int_equal(im_simp_null_pit(&tp, n, 0.3, 77, M, 1, count_low, NULL, NULL), IM_OK);
  for (size_t x = 0; x <= 12; x += 2) {
    const double v0 = (double)x / 13.0; /* any tie-breaker in [0, 1) */
    const double want = exact_lottery(n, 0.1, (double)x, v0, count_stat);
    const double tol = 4 * sqrt(want * (1 - want) / (double)M) + 1.0 / (double)M;
    NEAR(im_simp_pvalue(&th, 0, (double)x, v0), want, tol);
    NEAR(im_simp_pvalue(&tp, 0, (double)x, v0), want, tol);
  }
  assert_true(isnan(im_simp_pvalue(&th, 0, NAN, 0.5)));
  im_simp_null_free(&th);
  im_simp_null_free(&tp);
}

static void test_null_deterministic(void **state) {
  (void)state;
  const size_t n = 250;
  im_simp_null t1, t2, t3, t4;
  assert_int_equal(im_simp_bt_null(&t1, n, 0.01, 300, NULL, NULL), IM_OK);
  assert_int_equal(im_simp_bt_null(&t2, n, 0.01, 300, NULL, NULL), IM_OK);
  assert_int_equal(im_simp_bt_null(&t3, n, 0.01, 100, NULL, NULL), IM_OK);
  assert_int_equal(im_simp_bt_null(&t4, n, 0.02, 300, NULL, NULL), IM_OK);
  assert_memory_equal(t1.stat, t2.stat, 300 * IM_SIMP_BT_N * sizeof(double));
  assert_memory_equal(t1.tie, t2.tie, 300 * sizeof(double));
  for (size_t k = 0; k < IM_SIMP_BT_N; k++) /* the first 100 sims are the 100-sim table */
    assert_memory_equal(t1.stat + k * 300, t3.stat + k * 100, 100 * sizeof(double));
  assert_true(memcmp(t1.stat, t4.stat, 300 * sizeof(double)) != 0); /* a enters the seed */
  int8_t h[250];
  for (size_t t = 0; t < n; t++) h[t] = t % 97 == 3;
  im_simp_bt_p p1, p2;
  assert_int_equal(im_simp_bt_pvalues(&t1, h, n, NULL, &p1, NULL), IM_OK);
  assert_int_equal(im_simp_bt_pvalues(&t2, h, n, NULL, &p2, NULL), IM_OK);
  assert_memory_equal(&p1, &p2, sizeof p1);
  assert_true(p1.p_uc > 0 && p1.p_uc <= 1 && p1.p_dur > 0 && p1.p_dq > 0);
  /* A series with an other number of observed days is refused. */
  h[0] = -1;
  assert_int_equal(im_simp_bt_pvalues(&t1, h, n, NULL, &p1, NULL), IM_EINVAL);
  im_simp_null_free(&t1);
  im_simp_null_free(&t2);
  im_simp_null_free(&t3);
  im_simp_null_free(&t4);
}

/* Du-Escanciano: the library's simulated p-values against a simulation of
 * the reference statistics with MT19937 (two independent Monte Carlo
 * estimates of the same probability). */
static void test_de_sim(void **state) {
  (void)state;
  const size_t n = 250, M = 4000;
  const double a = 0.05;
  im_simp_null nt;
  assert_int_equal(im_simp_de_null(&nt, n, a, 5, M, NULL), IM_OK);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double *u = malloc(n * sizeof *u), *su = malloc(M * sizeof *su), *sc = malloc(M * sizeof *sc);
  for (size_t i = 0; i < M; i++) {
    for (size_t t = 0; t < n; t++) u[t] = gsl_rng_uniform(r);
    de_ref(u, n, a, 5, &su[i], &sc[i]);
  }
  for (int rep = 0; rep < 6; rep++) {
    for (size_t t = 0; t < n; t++) u[t] = pow(gsl_rng_uniform(r), 1 + 0.08 * rep);
    double pu, pc, ou, oc;
    assert_int_equal(im_simp_de_pvalues(&nt, u, n, 5, &pu, &pc, NULL), IM_OK);
    de_ref(u, n, a, 5, &ou, &oc);
    double gu = 0, gc = 0;
    for (size_t i = 0; i < M; i++) gu += fabs(su[i]) >= fabs(ou), gc += sc[i] >= oc;
    const double ru = (1 + gu) / (double)(M + 1), rc = (1 + gc) / (double)(M + 1);
    NEAR(pu, ru, 4 * sqrt(2 * ru * (1 - ru) / (double)M) + 2.0 / (double)M);
    NEAR(pc, rc, 4 * sqrt(2 * rc * (1 - rc) / (double)M) + 2.0 / (double)M);
  }
  free(u), free(su), free(sc);
  gsl_rng_free(r);
  im_simp_null_free(&nt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_param_family),  cmocka_unit_test(test_z_scenarios),
      cmocka_unit_test(test_z_one_scenario), cmocka_unit_test(test_z_param),
      cmocka_unit_test(test_kupiec_exact),  cmocka_unit_test(test_generic_exact),
      cmocka_unit_test(test_null_deterministic), cmocka_unit_test(test_de_sim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
