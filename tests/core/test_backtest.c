/* Backtest statistics against hand-worked numbers, published tables and
 * brute-force re-derivations from the definitions.
 *
 * Golden numbers were computed outside this code base; the command that
 * produced each one sits next to it. Tolerances: 1e-12 relative against a
 * closed form evaluated in a different way, 1e-9 absolute against the
 * pair-by-pair brute force (it sums a thousand logarithms one at a time), and
 * half a unit of the last printed digit against published tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "backtest.h"

#define REL 1e-12
#define BRUTE_ABS 1e-9

#define assert_near(got, want, tol) assert_near_at((got), (want), (tol), __FILE__, __LINE__)
#define assert_rel(got, want, rel) assert_near((got), (want), (rel) * fabs(want))

static void assert_near_at(double got, double want, double tol, const char *file, int line) {
  if (!(fabs(got - want) <= tol)) {
    print_error("%s:%d: got %.17g, want %.17g (tolerance %g)\n", file, line, got, want, tol);
    fail();
  }
}

/* Kupiec (1995) LR_uc as printed, term by term with plain log; a term whose
 * count is zero is dropped, which is the 0 ln 0 = 0 convention. */
static double kupiec_by_formula(double n, double x, double p) {
  const double q = x / n;
  double ll_null = 0.0, ll_fit = 0.0;
  if (n - x > 0) {
    ll_null += (n - x) * log(1.0 - p);
    ll_fit += (n - x) * log(1.0 - q);
  }
  if (x > 0) {
    ll_null += x * log(p);
    ll_fit += x * log(q);
  }
  return -2.0 * (ll_null - ll_fit);
}

/* Christoffersen (1998) LR_ind from its definition rather than from the
 * counts formula: count the transitions, then walk the pairs of consecutive
 * observed days once more and add each second day's log-probability under the
 * fitted Markov chain and under the fitted iid model. Only transitions that
 * occur are ever logged, so no 0 ln 0 convention is needed. */
static double lr_ind_brute_force(const int8_t *h, size_t n) {
  double cnt[2][2] = {{0.0, 0.0}, {0.0, 0.0}};
  for (size_t t = 1; t < n; t++)
    if (h[t - 1] >= 0 && h[t] >= 0) cnt[h[t - 1]][h[t]] += 1.0;
  const double pairs = cnt[0][0] + cnt[0][1] + cnt[1][0] + cnt[1][1];
  if (pairs == 0.0) return NAN;
  const double pi = (cnt[0][1] + cnt[1][1]) / pairs;
  double ll_markov = 0.0, ll_iid = 0.0;
  for (size_t t = 1; t < n; t++) {
    if (h[t - 1] < 0 || h[t] < 0) continue;
    const int i = h[t - 1], j = h[t];
    ll_markov += log(cnt[i][j] / (cnt[i][0] + cnt[i][1]));
    ll_iid += log(j ? pi : 1.0 - pi);
  }
  return 2.0 * (ll_markov - ll_iid);
}

/* Binomial(n, p) cdf at k by summing the pmf, each term from the previous
 * one: pmf(0) = (1-p)^n, pmf(i+1) = pmf(i) * (n-i)/(i+1) * p/(1-p). */
static double binomial_cdf_brute_force(int k, int n, double p) {
  double pmf = pow(1.0 - p, n), cdf = pmf;
  for (int i = 0; i < k; i++) {
    pmf *= (double)(n - i) / (double)(i + 1) * p / (1.0 - p);
    cdf += pmf;
  }
  return cdf;
}

static void fill(int8_t *h, size_t n, int8_t v) {
  for (size_t t = 0; t < n; t++) h[t] = v;
}

static im_bt_stats compute_ok(const int8_t *h, size_t n, double p) {
  im_bt_stats s;
  im_err e = {{0}};
  const im_status rc = im_bt_stats_compute(h, n, p, &s, &e);
  if (rc != IM_OK) {
    print_error("unexpected failure: %s\n", e.msg);
    fail();
  }
  return s;
}

static void assert_counts(const im_bt_stats *s, int64_t n00, int64_t n01, int64_t n10,
                          int64_t n11) {
  assert_int_equal(s->n00, n00);
  assert_int_equal(s->n01, n01);
  assert_int_equal(s->n10, n10);
  assert_int_equal(s->n11, n11);
}

static void assert_pvalue(double pv) {
  assert_true(isfinite(pv));
  assert_true(pv >= 0.0 && pv <= 1.0);
}

/* Every statistic that is defined for the series is finite and every
 * p-value a probability; the p-values also equal the chi-square upper tails in
 * closed form, erfc(sqrt(x/2)) for one degree of freedom and exp(-x/2) for
 * two. */
static void assert_all_defined_stats_sane(const im_bt_stats *s) {
  assert_true(isfinite(s->lr_uc) && s->lr_uc >= 0.0);
  assert_true(isfinite(s->lr_ind) && s->lr_ind >= 0.0);
  assert_true(isfinite(s->lr_cc));
  assert_pvalue(s->p_uc);
  assert_pvalue(s->p_ind);
  assert_pvalue(s->p_cc);
  assert_pvalue(s->tl_cumprob);
  assert_rel(s->lr_cc, s->lr_uc + s->lr_ind, REL);
  assert_near(s->p_uc, erfc(sqrt(s->lr_uc / 2.0)), 1e-12);
  assert_near(s->p_ind, erfc(sqrt(s->lr_ind / 2.0)), 1e-12);
  assert_near(s->p_cc, exp(-s->lr_cc / 2.0), 1e-12);
}

/* ---- Kupiec POF ------------------------------------------------------- */

static void test_kupiec_zero_exceedances(void **state) {
  (void)state;
  /* x = 0 leaves -2 n ln(1-p).
   * echo 'scale=30; -2*250*l(0.99)' | bc -l  ->  5.025167926750720591774428779 */
  const double golden = 5.025167926750720591774428779;
  assert_rel(im_bt_lr_uc(250, 0, 0.01), golden, REL);
  assert_rel(kupiec_by_formula(250, 0, 0.01), golden, REL);
  assert_rel(im_bt_lr_uc(250, 0, 0.01), 2.0 * 250.0 * -log(0.99), REL);
}

static void test_kupiec_all_exceedances(void **state) {
  (void)state;
  /* x = n leaves -2 n ln p.
   * echo 'scale=30; -2*250*l(0.01)' | bc -l  ->  2302.585092994045684017991454684 */
  const double golden = 2302.585092994045684017991454684;
  assert_rel(im_bt_lr_uc(250, 250, 0.01), golden, REL);
  assert_rel(kupiec_by_formula(250, 250, 0.01), golden, REL);
}

static void test_kupiec_middle(void **state) {
  (void)state;
  /* echo 'scale=30; n=250; x=10; p=0.01; q=x/n;
   *       -2*((n-x)*l(1-p) + x*l(p) - (n-x)*l(1-q) - x*l(q))' | bc -l
   *   ->  12.955491062356041958595745211760 */
  const double golden = 12.955491062356041958595745211760;
  assert_rel(im_bt_lr_uc(250, 10, 0.01), golden, REL);
  assert_rel(kupiec_by_formula(250, 10, 0.01), golden, REL);

  /* python3 -c "import math; print(repr(math.erfc(math.sqrt(
   *   12.955491062356041958595745211760/2))))"  ->  0.00031898450821337966 */
  int8_t h[250];
  fill(h, 250, 0);
  for (size_t t = 0; t < 10; t++) h[25 * t + 7] = 1;
  const im_bt_stats s = compute_ok(h, 250, 0.01);
  assert_rel(s.lr_uc, golden, REL);
  assert_rel(s.p_uc, 0.00031898450821337966, 1e-10);
}

static void test_kupiec_undefined(void **state) {
  (void)state;
  assert_true(isnan(im_bt_lr_uc(0, 0, 0.01)));
  assert_true(isnan(im_bt_lr_uc(10, 11, 0.01)));
}

/* ---- Traffic light ---------------------------------------------------- */

/* Basel Committee (1996), "Supervisory framework for the use of backtesting
 * in conjunction with the internal models approach to market risk capital
 * requirements", Table 2: cumulative probability in percent of 0..10
 * exceptions in 250 days of a 99% VaR. Zones there: green 0-4, yellow 5-9,
 * red 10 or more. 9 exceptions (99.97%) is yellow and 10 (printed 99.99%,
 * exactly 0.99994610) red: the printed 99.99 is rounded, the exact value is
 * above the 0.9999 cut. */
static const double basel_cum_percent[] = {8.11,  28.58, 54.32, 75.81, 89.22, 95.88,
                                           98.63, 99.60, 99.89, 99.97, 99.99};

static void test_traffic_light_basel_1996(void **state) {
  (void)state;
  int8_t h[250];
  for (int k = 0; k <= 250; k++) {
    fill(h, 250, 0);
    for (int t = 0; t < k; t++) h[t] = 1;
    const im_bt_stats s = compute_ok(h, 250, 0.01);
    assert_int_equal(s.n_exceed, k);
    assert_rel(s.tl_cumprob, binomial_cdf_brute_force(k, 250, 0.01), REL);
    if (k < 11) assert_near(100.0 * s.tl_cumprob, basel_cum_percent[k], 0.005);
    const int zone = k <= 4 ? IM_ZONE_GREEN : k <= 9 ? IM_ZONE_YELLOW : IM_ZONE_RED;
    assert_int_equal(s.tl_zone, zone);
  }
  /* python3 -c "from fractions import Fraction as F; from math import comb;
   *   print(float(sum(comb(250,k)*F(1,100)**k*F(99,100)**(250-k) for k in range(11))))"
   *   ->  0.999946101370953 */
  fill(h, 250, 0);
  for (int t = 0; t < 10; t++) h[t] = 1;
  assert_rel(compute_ok(h, 250, 0.01).tl_cumprob, 0.999946101370953, REL);
}

static void test_zone_boundaries(void **state) {
  (void)state;
  assert_int_equal(im_bt_zone(0.0), IM_ZONE_GREEN);
  assert_int_equal(im_bt_zone(0.95), IM_ZONE_GREEN);
  assert_int_equal(im_bt_zone(nextafter(0.95, 1.0)), IM_ZONE_YELLOW);
  assert_int_equal(im_bt_zone(0.9999), IM_ZONE_YELLOW);
  assert_int_equal(im_bt_zone(nextafter(0.9999, 1.0)), IM_ZONE_RED);
  assert_int_equal(im_bt_zone(1.0), IM_ZONE_RED);
}

/* ---- Christoffersen --------------------------------------------------- */

static void test_christoffersen_counts_with_gaps(void **state) {
  (void)state;
  /* index:            0  1  2   3  4  5  6  7   8   9 10 11 12 13 */
  const int8_t h[] = {0, 1, 1, -1, 0, 0, 1, 0, -1, -1, 1, 0, 0, 1};
  /* Pairs (t-1, t) with both days observed, by hand:
   *   (0,1) 0->1  (1,2) 1->1  (4,5) 0->0  (5,6) 0->1  (6,7) 1->0
   *   (10,11) 1->0  (11,12) 0->0  (12,13) 0->1
   * Pairs touching index 3, 8 or 9 are skipped.
   * n00 = 2, n01 = 3, n10 = 2, n11 = 1; 11 observed days, 5 exceedances. */
  const im_bt_stats s = compute_ok(h, sizeof h, 0.05);
  assert_int_equal(s.n_obs, 11);
  assert_int_equal(s.n_exceed, 5);
  assert_counts(&s, 2, 3, 2, 1);

  /* echo 'scale=40; a=2;b=3;c=2;d=1; p01=b/(a+b); p11=d/(c+d); pi=(b+d)/(a+b+c+d);
   *   -2*((a+c)*l(1-pi)+(b+d)*l(pi)-a*l(1-p01)-b*l(p01)-c*l(1-p11)-d*l(p11))' | bc -l
   *   ->  .5411532090976836800059775827343612385564 */
  const double golden = 0.5411532090976836800059775827343612385564;
  assert_rel(s.lr_ind, golden, REL);
  assert_rel(im_bt_lr_ind(2, 3, 2, 1), golden, REL);
  assert_near(s.lr_ind, lr_ind_brute_force(h, sizeof h), BRUTE_ABS);
  assert_rel(s.lr_uc, kupiec_by_formula(11, 5, 0.05), REL);
  assert_all_defined_stats_sane(&s);
}

/* MathWorks documentation of varbacktest/cci and varbacktest/cc (Risk
 * Management Toolbox), example "load VaRBacktestData; vbt =
 * varbacktest(EquityIndex,Normal95)": 1043 observations, 57 failures, N00 =
 * 932, N10 = 53, N01 = 53, N11 = 4, VaRLevel 0.95; printed LRatioCCI 0.25866,
 * PValueCCI 0.61104, LRatioPOF 0.46147, PValuePOF 0.49694, LRatioCC 0.72013,
 * PValueCC 0.69763. The series below has exactly those counts: 53 runs of
 * exceedances (4 of length 2, 49 of length 1) each after 18 covered days,
 * then 32 covered days, so it starts and ends covered. */
static void test_christoffersen_matlab_example(void **state) {
  (void)state;
  int8_t h[1043];
  size_t t = 0;
  for (int run = 0; run < 53; run++) {
    for (int i = 0; i < 18; i++) h[t++] = 0;
    for (int i = 0; i < (run < 4 ? 2 : 1); i++) h[t++] = 1;
  }
  while (t < sizeof h) h[t++] = 0;

  const im_bt_stats s = compute_ok(h, sizeof h, 0.05);
  assert_int_equal(s.n_obs, 1043);
  assert_int_equal(s.n_exceed, 57);
  assert_counts(&s, 932, 53, 53, 4);

  /* echo 'scale=40; a=932;b=53;c=53;d=4; p01=b/(a+b); p11=d/(c+d); pi=(b+d)/(a+b+c+d);
   *   -2*((a+c)*l(1-pi)+(b+d)*l(pi)-a*l(1-p01)-b*l(p01)-c*l(1-p11)-d*l(p11))' | bc -l
   *   ->  .2586631525859759832946617968909277137070 */
  const double golden_ind = 0.2586631525859759832946617968909277137070;
  assert_true(isfinite(s.lr_ind) && s.lr_ind > 0.0);
  assert_rel(s.lr_ind, golden_ind, REL);
  assert_near(s.lr_ind, lr_ind_brute_force(h, sizeof h), BRUTE_ABS);

  /* echo 'scale=40; n=1043; x=57; p=0.05; q=x/n;
   *   -2*((n-x)*l(1-p) + x*l(p) - (n-x)*l(1-q) - x*l(q))' | bc -l
   *   ->  .4614663953290618964666214842272689735604 */
  const double golden_uc = 0.4614663953290618964666214842272689735604;
  assert_rel(s.lr_uc, golden_uc, REL);

  /* MathWorks' printed values, to half a unit of their fifth decimal. */
  assert_near(s.lr_ind, 0.25866, 5e-6);
  assert_near(s.p_ind, 0.61104, 5e-6);
  assert_near(s.lr_uc, 0.46147, 5e-6);
  assert_near(s.p_uc, 0.49694, 5e-6);
  assert_near(s.lr_cc, 0.72013, 5e-6);
  assert_near(s.p_cc, 0.69763, 5e-6);
  assert_all_defined_stats_sane(&s);
}

static void test_christoffersen_degenerate_counts(void **state) {
  (void)state;
  assert_true(isnan(im_bt_lr_ind(0, 0, 0, 0)));
  /* Only row 0 has pairs: pi01 = 2/7 = pi, so the two models coincide. */
  assert_near(im_bt_lr_ind(5, 2, 0, 0), 0.0, 1e-15);
  /* Only row 1 has pairs: pi11 = 3/4 = pi. */
  assert_near(im_bt_lr_ind(0, 0, 1, 3), 0.0, 1e-15);
}

/* Pseudo-random series with gaps at several exceedance rates, each checked
 * against the definitions: transition counts by a second counting loop,
 * LR_ind by the pair-by-pair brute force, LR_uc by the printed formula. */
static void test_random_series_match_definitions(void **state) {
  (void)state;
  static const double rates[] = {0.005, 0.05, 0.3, 0.7, 0.97};
  uint32_t rng = 12345u;
  int8_t h[600];
  for (size_t r = 0; r < sizeof rates / sizeof *rates; r++) {
    for (size_t t = 0; t < sizeof h; t++) {
      /* Numerical Recipes' 32-bit LCG: reproducible, no library state. */
      rng = rng * 1664525u + 1013904223u;
      const double u = (double)(rng >> 8) / 16777216.0;
      h[t] = u < 0.1 ? -1 : (u - 0.1) / 0.9 < rates[r] ? 1 : 0;
    }
    int64_t cnt[2][2] = {{0, 0}, {0, 0}}, n_obs = 0, x = 0;
    for (size_t t = 0; t < sizeof h; t++) {
      if (h[t] < 0) continue;
      n_obs++;
      x += h[t];
      if (t > 0 && h[t - 1] >= 0) cnt[h[t - 1]][h[t]]++;
    }
    const im_bt_stats s = compute_ok(h, sizeof h, 0.01);
    assert_int_equal(s.n_obs, n_obs);
    assert_int_equal(s.n_exceed, x);
    assert_counts(&s, cnt[0][0], cnt[0][1], cnt[1][0], cnt[1][1]);
    assert_rel(s.expected, (double)n_obs * 0.01, REL);
    assert_rel(s.lr_uc, kupiec_by_formula((double)n_obs, (double)x, 0.01), 1e-10);
    assert_near(s.lr_ind, lr_ind_brute_force(h, sizeof h), BRUTE_ABS);
    assert_all_defined_stats_sane(&s);
  }
}

/* ---- Edge cases ------------------------------------------------------- */

static void test_edge_zero_exceedances(void **state) {
  (void)state;
  int8_t h[250];
  fill(h, 250, 0);
  const im_bt_stats s = compute_ok(h, 250, 0.01);
  assert_int_equal(s.n_obs, 250);
  assert_int_equal(s.n_exceed, 0);
  assert_rel(s.expected, 2.5, REL);
  assert_counts(&s, 249, 0, 0, 0);
  assert_rel(s.lr_uc, 5.025167926750720591774428779, REL); /* bc golden above */
  /* pi = pi01 = 0 and row 1 is empty: every term is 0 ln 0 or ln 1. */
  assert_near(s.lr_ind, 0.0, 1e-15);
  assert_near(s.p_ind, 1.0, 1e-15);
  /* python3 -c "print(repr(0.99**250))"  ->  0.08105851616218146 */
  assert_rel(s.tl_cumprob, 0.08105851616218146, REL);
  assert_int_equal(s.tl_zone, IM_ZONE_GREEN);
  assert_all_defined_stats_sane(&s);
}

static void test_edge_all_exceedances(void **state) {
  (void)state;
  int8_t h[250];
  fill(h, 250, 1);
  const im_bt_stats s = compute_ok(h, 250, 0.01);
  assert_int_equal(s.n_exceed, 250);
  assert_counts(&s, 0, 0, 0, 249);
  assert_rel(s.lr_uc, 2302.585092994045684017991454684, REL); /* bc golden above */
  /* pi = pi11 = 1 and row 0 is empty. */
  assert_near(s.lr_ind, 0.0, 1e-15);
  assert_near(s.tl_cumprob, 1.0, 1e-15);
  assert_int_equal(s.tl_zone, IM_ZONE_RED);
  assert_all_defined_stats_sane(&s);
}

/* echo 'scale=40; n=250; x=1; p=0.01; q=x/n;
 *   -2*((n-x)*l(1-p) + x*l(p) - (n-x)*l(1-q) - x*l(q))' | bc -l
 *   ->  1.1764911353210760413415315010447576578798 */
static const double golden_uc_250_1 = 1.1764911353210760413415315010447576578798;

static void test_edge_single_exceedance_first_day(void **state) {
  (void)state;
  int8_t h[250];
  fill(h, 250, 0);
  h[0] = 1;
  const im_bt_stats s = compute_ok(h, 250, 0.01);
  assert_int_equal(s.n_exceed, 1);
  assert_counts(&s, 248, 0, 1, 0);
  assert_rel(s.lr_uc, golden_uc_250_1, REL);
  /* No pair ends in an exceedance: pi = pi01 = pi11 = 0, so LR_ind = 0. */
  assert_near(s.lr_ind, 0.0, 1e-15);
  assert_near(s.lr_ind, lr_ind_brute_force(h, 250), BRUTE_ABS);
  assert_int_equal(s.tl_zone, IM_ZONE_GREEN);
  assert_all_defined_stats_sane(&s);
}

static void test_edge_single_exceedance_last_day(void **state) {
  (void)state;
  int8_t h[250];
  fill(h, 250, 0);
  h[249] = 1;
  const im_bt_stats s = compute_ok(h, 250, 0.01);
  assert_int_equal(s.n_exceed, 1);
  assert_counts(&s, 248, 1, 0, 0);
  assert_rel(s.lr_uc, golden_uc_250_1, REL);
  /* Row 1 has no pairs and pi01 = pi = 1/249, so LR_ind = 0. */
  assert_near(s.lr_ind, 0.0, 1e-15);
  assert_near(s.lr_ind, lr_ind_brute_force(h, 250), BRUTE_ABS);
  assert_all_defined_stats_sane(&s);
}

static void assert_nothing_observed(const im_bt_stats *s) {
  assert_int_equal(s->n_obs, 0);
  assert_int_equal(s->n_exceed, 0);
  assert_counts(s, 0, 0, 0, 0);
  assert_true(s->expected == 0.0);
  assert_true(isnan(s->lr_uc) && isnan(s->p_uc));
  assert_true(isnan(s->lr_ind) && isnan(s->p_ind));
  assert_true(isnan(s->lr_cc) && isnan(s->p_cc));
  assert_true(isnan(s->tl_cumprob));
  assert_int_equal(s->tl_zone, -1);
}

static void test_edge_nothing_observed(void **state) {
  (void)state;
  int8_t h[250];
  fill(h, 250, -1);
  im_bt_stats s = compute_ok(h, 250, 0.01);
  assert_nothing_observed(&s);
  s = compute_ok(NULL, 0, 0.01);
  assert_nothing_observed(&s);
}

/* One observed day: coverage is testable, independence is not. */
static void test_edge_no_transition_pairs(void **state) {
  (void)state;
  const int8_t h[] = {-1, 1, -1, -1};
  const im_bt_stats s = compute_ok(h, sizeof h, 0.01);
  assert_int_equal(s.n_obs, 1);
  assert_counts(&s, 0, 0, 0, 0);
  /* x = n = 1 leaves -2 ln p. */
  assert_rel(s.lr_uc, -2.0 * log(0.01), REL);
  assert_pvalue(s.p_uc);
  assert_true(isnan(s.lr_ind) && isnan(s.p_ind));
  assert_true(isnan(s.lr_cc) && isnan(s.p_cc));
  assert_pvalue(s.tl_cumprob);
}

static void test_edge_many_exceedances(void **state) {
  (void)state;
  static int8_t h[2000];
  /* Spread: every fourth day, from day 3 to day 1999. */
  fill(h, 2000, 0);
  for (size_t t = 3; t < 2000; t += 4) h[t] = 1;
  im_bt_stats s = compute_ok(h, 2000, 0.01);
  assert_int_equal(s.n_exceed, 500);
  /* 1999 pairs; 500 enter an exceedance, 499 leave one (day 1999 is last). */
  assert_counts(&s, 1000, 500, 499, 0);
  assert_int_equal(s.tl_zone, IM_ZONE_RED);
  assert_rel(s.lr_uc, kupiec_by_formula(2000, 500, 0.01), 1e-10);
  assert_near(s.lr_ind, lr_ind_brute_force(h, 2000), BRUTE_ABS);
  assert_all_defined_stats_sane(&s);

  /* Clustered: one block of 500 in the middle. */
  fill(h, 2000, 0);
  for (size_t t = 750; t < 1250; t++) h[t] = 1;
  s = compute_ok(h, 2000, 0.01);
  assert_counts(&s, 1498, 1, 1, 499);
  assert_near(s.lr_ind, lr_ind_brute_force(h, 2000), BRUTE_ABS);
  assert_all_defined_stats_sane(&s);
}

/* ---- Errors ----------------------------------------------------------- */

static void assert_einval(const int8_t *h, size_t n, double p, im_bt_stats *out,
                          const char *needle) {
  im_err e = {{0}};
  assert_int_equal(im_bt_stats_compute(h, n, p, out, &e), IM_EINVAL);
  assert_true(strlen(e.msg) > 0);
  if (!strstr(e.msg, needle)) {
    print_error("message \"%s\" does not mention \"%s\"\n", e.msg, needle);
    fail();
  }
}

static void test_error_bad_p(void **state) {
  (void)state;
  const int8_t h[] = {0, 1, 0};
  im_bt_stats s;
  static const double bad[] = {0.0, 1.0, NAN, -0.01, 1.5, INFINITY};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_einval(h, 3, bad[i], &s, "p =");
  /* A NULL err still gets the status. */
  assert_int_equal(im_bt_stats_compute(h, 3, 0.0, &s, NULL), IM_EINVAL);
}

static void test_error_bad_hit_value(void **state) {
  (void)state;
  im_bt_stats s;
  const int8_t two[] = {0, 1, -1, 2, 0};
  assert_einval(two, sizeof two, 0.01, &s, "hits[3] = 2");
  const int8_t minus_two[] = {-2};
  assert_einval(minus_two, sizeof minus_two, 0.01, &s, "hits[0] = -2");
}

static void test_error_null_pointers(void **state) {
  (void)state;
  const int8_t h[] = {0, 1, 0};
  assert_einval(h, 3, 0.01, NULL, "NULL");
  im_bt_stats s;
  assert_einval(NULL, 3, 0.01, &s, "NULL");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kupiec_zero_exceedances),
      cmocka_unit_test(test_kupiec_all_exceedances),
      cmocka_unit_test(test_kupiec_middle),
      cmocka_unit_test(test_kupiec_undefined),
      cmocka_unit_test(test_traffic_light_basel_1996),
      cmocka_unit_test(test_zone_boundaries),
      cmocka_unit_test(test_christoffersen_counts_with_gaps),
      cmocka_unit_test(test_christoffersen_matlab_example),
      cmocka_unit_test(test_christoffersen_degenerate_counts),
      cmocka_unit_test(test_random_series_match_definitions),
      cmocka_unit_test(test_edge_zero_exceedances),
      cmocka_unit_test(test_edge_all_exceedances),
      cmocka_unit_test(test_edge_single_exceedance_first_day),
      cmocka_unit_test(test_edge_single_exceedance_last_day),
      cmocka_unit_test(test_edge_nothing_observed),
      cmocka_unit_test(test_edge_no_transition_pairs),
      cmocka_unit_test(test_edge_many_exceedances),
      cmocka_unit_test(test_error_bad_p),
      cmocka_unit_test(test_error_bad_hit_value),
      cmocka_unit_test(test_error_null_pointers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
