/* The verdict rule (core/verdict.c) on hand-worked summaries, and the zone
 * counts of the summary for h > 1 (overlap-corrected, plain ones kept apart).
 *
 * Band limits: python3 -c "from fractions import Fraction as F; from math import comb
 *   def q(l,n,p):
 *     c=F(0)
 *     for k in range(n+1):
 *       c+=comb(n,k)*p**k*(1-p)**(n-k)
 *       if c>=l: return k
 *   for n in (17,1000): print(n, q(F(39,40),n,F(1,10000)), q(F(39,40),n,F(1,20)))"
 * prints "17 0 3" and "1000 1 64": with 17 evaluated portfolios a correct
 * model shows at most 0 red and 3 non-green portfolios (and 3 rejections at
 * 5%) in 95% of backtests; with 1000, 1 red and 64 non-green. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "backtest.h"
#include "summary.h"
#include "verdict.h"

/* A summary of n evaluated portfolios with the given counts; the rejection
 * band is the hand-computed one (3 at n = 17, 64 at n = 1000). */
static im_bt_summary summ(int64_t n, int64_t yellow, int64_t red, int64_t rej_uc, int64_t rej_cc) {
  im_bt_summary s;
  memset(&s, 0, sizeof s);
  s.n_portfolios = s.n_evaluated = n;
  s.n_red = red;
  s.n_yellow = yellow;
  s.n_green = n - yellow - red;
  s.n_reject_uc = rej_uc;
  s.n_reject_cc = rej_cc;
  s.reject_band_hi = n == 17 ? 3 : 64;
  return s;
}

static im_verdict_state verdict(im_bt_summary s, int h) {
  im_verdict v;
  im_verdict_of(&s, h, &v);
  return v.state;
}

static void test_bands(void **state) {
  (void)state;
  im_verdict v;
  im_bt_summary s = summ(17, 0, 0, 0, 0);
  im_verdict_of(&s, 1, &v);
  assert_true(v.red_band == 0.0 && v.nongreen_band == 3.0);
  s = summ(1000, 0, 0, 0, 0);
  im_verdict_of(&s, 1, &v);
  assert_true(v.red_band == 1.0 && v.nongreen_band == 64.0);
  assert_string_equal(v.crit[0].key, "red");
  assert_string_equal(v.crit[1].key, "nongreen");
  assert_string_equal(v.crit[2].key, "kupiec");
  assert_string_equal(v.crit[3].key, "cc");
}

/* 1-day horizon: every criterion counts; a count at its limit is met. */
static void test_one_day(void **state) {
  (void)state;
  assert_int_equal(verdict(summ(17, 3, 0, 3, 3), 1), IM_VERDICT_PASS);
  assert_int_equal(verdict(summ(17, 4, 0, 0, 0), 1), IM_VERDICT_ATTENTION); /* 4 > 3 non-green */
  assert_int_equal(verdict(summ(17, 2, 1, 0, 0), 1), IM_VERDICT_FAIL);      /* 1 > 0 red */
  assert_int_equal(verdict(summ(17, 0, 0, 4, 0), 1), IM_VERDICT_FAIL);      /* Kupiec 4 > 3 */
  assert_int_equal(verdict(summ(17, 0, 0, 0, 4), 1), IM_VERDICT_ATTENTION); /* CC 4 > 3 */
  /* the worst criterion wins */
  assert_int_equal(verdict(summ(17, 5, 0, 0, 9), 1), IM_VERDICT_ATTENTION);
  assert_int_equal(verdict(summ(17, 5, 0, 9, 9), 1), IM_VERDICT_FAIL);
  assert_int_equal(verdict(summ(1000, 63, 1, 64, 64), 1), IM_VERDICT_PASS);
  assert_int_equal(verdict(summ(1000, 63, 2, 0, 0), 1), IM_VERDICT_FAIL);
  assert_int_equal(verdict(summ(1000, 64, 1, 0, 0), 1), IM_VERDICT_ATTENTION); /* 65 > 64 */
}

/* h > 1: Kupiec and CC are information only; zones still decide. */
static void test_overlapping(void **state) {
  (void)state;
  im_verdict v;
  im_bt_summary s = summ(17, 0, 0, 9, 9);
  im_verdict_of(&s, 2, &v);
  assert_int_equal(v.state, IM_VERDICT_PASS);
  assert_int_equal(v.crit[2].severity, IM_VERDICT_INFO);
  assert_int_equal(v.crit[3].severity, IM_VERDICT_INFO);
  assert_false(v.crit[2].met);
  assert_int_equal(verdict(summ(17, 4, 0, 9, 9), 2), IM_VERDICT_ATTENTION);
  assert_int_equal(verdict(summ(17, 0, 1, 0, 0), 10), IM_VERDICT_FAIL);
}

static void test_nothing_evaluated(void **state) {
  (void)state;
  im_bt_summary s;
  memset(&s, 0, sizeof s);
  s.reject_band_hi = NAN;
  im_verdict v;
  im_verdict_of(&s, 1, &v);
  assert_int_equal(v.state, IM_VERDICT_NA);
  assert_true(isnan(v.red_band) && isnan(v.nongreen_band));
  assert_string_equal(im_verdict_state_name(v.state), "n/a");
  assert_string_equal(im_verdict_state_name(IM_VERDICT_ATTENTION), "attention");
}

/* The summary counts the zone each row is judged by: rows 0-2 carry the
 * overlap-corrected zone, row 3 is not observed, row 4's overlap zone was
 * never filled (im_bt_compute alone). Plain counts are tl_zone's. */
static void test_summary_zones_by_hand(void **state) {
  (void)state;
  im_bt_stats rows[5];
  memset(rows, 0, sizeof rows);
  const int8_t tl[5] = {IM_ZONE_GREEN, IM_ZONE_YELLOW, IM_ZONE_RED, -1, IM_ZONE_YELLOW};
  const int8_t ov[5] = {IM_ZONE_GREEN, IM_ZONE_GREEN, IM_ZONE_YELLOW, -1, -1};
  for (int i = 0; i < 5; i++) {
    rows[i].n_obs = i == 3 ? 0 : 500;
    rows[i].tl_zone = tl[i];
    rows[i].tl_zone_overlap = ov[i];
    rows[i].p_uc = rows[i].p_ind = rows[i].p_cc = NAN;
  }
  im_bt_summary s;
  im_bt_summarise(rows, 5, 0.05, &s);
  assert_int_equal(s.n_green, 2);
  assert_int_equal(s.n_yellow, 2);
  assert_int_equal(s.n_red, 0);
  assert_int_equal(s.n_green_plain, 1);
  assert_int_equal(s.n_yellow_plain, 2);
  assert_int_equal(s.n_red_plain, 1);
}

/* Random walk of the test's own (xorshift64), not the library's. */
static uint64_t rs = 88172645463325252ULL;
static double uniform(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}

/* As the backtest does for a 2-day model: im_bt_compute, then
 * im_bt_fill_overlap, then im_bt_summarise. The counts must be those of
 * tl_zone_overlap (the report's), and the plain ones those of tl_zone. */
static void test_summary_h2_counts_overlap_zones(void **state) {
  (void)state;
  enum { P = 40, T = 1000 };
  static int8_t hits[T];
  im_bt_stats rows[P];
  const im_bt_opts o = im_bt_opts_default();
  im_err err;
  for (int i = 0; i < P; i++) {
    /* 2-day exceedances come in pairs: a loss day flags t-1 and t */
    const double rate = 0.004 + 0.0002 * i;
    memset(hits, 0, sizeof hits);
    for (int t = 1; t < T; t++)
      if (uniform() < rate) hits[t - 1] = hits[t] = 1;
    assert_int_equal(im_bt_compute(hits, NULL, NULL, T, 0.01, &o, &rows[i], &err), IM_OK);
  }
  assert_int_equal(im_bt_fill_overlap(rows, P, 2, 0.01, 7, 4000, &err), IM_OK);
  int64_t z[3] = {0}, plain[3] = {0}, differ = 0;
  for (int i = 0; i < P; i++) {
    z[rows[i].tl_zone_overlap]++;
    plain[rows[i].tl_zone]++;
    differ += rows[i].tl_zone_overlap != rows[i].tl_zone;
  }
  assert_true(differ > 0); /* the case where the two traffic lights disagree */
  im_bt_summary s;
  im_bt_summarise(rows, P, 0.05, &s);
  assert_int_equal(s.n_green, z[0]);
  assert_int_equal(s.n_yellow, z[1]);
  assert_int_equal(s.n_red, z[2]);
  assert_int_equal(s.n_green_plain, plain[0]);
  assert_int_equal(s.n_yellow_plain, plain[1]);
  assert_int_equal(s.n_red_plain, plain[2]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bands),
      cmocka_unit_test(test_one_day),
      cmocka_unit_test(test_overlapping),
      cmocka_unit_test(test_nothing_evaluated),
      cmocka_unit_test(test_summary_zones_by_hand),
      cmocka_unit_test(test_summary_h2_counts_overlap_zones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
