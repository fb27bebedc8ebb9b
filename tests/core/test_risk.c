/* Unit tests for src/core/risk.c: the quantile convention of risk.h.
 *
 * risk.h: with the W losses sorted L(1) >= ... >= L(W), VaR = L(k) with
 * k = floor(W (1 - conf)) + 1, W (1 - conf) rounded to 1e-9 before the floor;
 * ES = average of the worst m = W (1 - conf) losses, L(floor(m)+1) weighted by
 * the fractional part of m. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"

/* ---- deterministic generator (xorshift64, Marsaglia 2003) ---- */

static uint64_t rng_state;

static uint64_t xorshift64(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  rng_state = x;
  return x;
}

/* Uniform in [-1, 1) with 53 random bits. */
static double rnd_unit(void) {
  return (double)(xorshift64() >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static int cmp_asc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- (a) im_var_rank, hand-worked ---- */

static void test_var_rank_hand(void **state) {
  (void)state;
  /* 500 * (1 - 0.99) = 5.000000000000004 in binary (python3 repr); counts as
   * 5 -> k = 5 + 1 = 6. */
  assert_int_equal(im_var_rank(500, 0.99), 6);
  /* 1000 * (1 - 0.99) = 10.000000000000009 in binary (python3 repr); risk.h
   * says it counts as 10 -> k = 11. */
  assert_int_equal(im_var_rank(1000, 0.99), 11);
  /* 250 * 0.01 = 2.5 -> floor 2 -> k = 3. */
  assert_int_equal(im_var_rank(250, 0.99), 3);
  /* 100 * (1 - 0.975) = 2.500000000000002 -> floor 2 -> k = 3. */
  assert_int_equal(im_var_rank(100, 0.975), 3);
  /* W = 1: W (1 - conf) < 1 for every conf in (0,1) -> k = 1. */
  assert_int_equal(im_var_rank(1, 0.5), 1);
  assert_int_equal(im_var_rank(1, 0.9), 1);
  assert_int_equal(im_var_rank(1, 0.99), 1);
  assert_int_equal(im_var_rank(1, 0.999999), 1);
  assert_int_equal(im_var_rank(1, 1e-6), 1);
  /* A value just below an integer: 10 * (1 - 0.9) = 0.9999999999999998 in
   * binary (python3 repr); risk.h says it counts as 1 -> k = 2 (a plain floor
   * would give 1). */
  assert_int_equal(im_var_rank(10, 0.9), 2);
  /* 10 * (1 - 0.75) = 2.5 exactly -> k = 3. */
  assert_int_equal(im_var_rank(10, 0.75), 3);
  /* 10 * (1 - 0.01) = 9.9 -> floor 9 -> k = 10 = W. */
  assert_int_equal(im_var_rank(10, 0.01), 10);
  /* conf -> 0: W (1 - conf) rounds to W, k = W + 1 is clamped to W. */
  assert_int_equal(im_var_rank(10, 1e-12), 10);
}

/* ---- (b) selection == sorted reference on many arrays ---- */

enum { PAT_RANDOM, PAT_TIES3, PAT_ASC, PAT_DESC, PAT_EQUAL, PAT_TIES2_PIPE, N_PAT };

static const char *const pat_name[N_PAT] = {"random", "ties3", "ascending", "descending",
                                            "all-equal", "organ-pipe"};

static void fill(double *x, size_t n, int pat) {
  static const double set3[3] = {-1.25, 0.0, 3.5};
  switch (pat) {
    case PAT_RANDOM:
      for (size_t i = 0; i < n; i++) x[i] = rnd_unit() * 1000.0;
      break;
    case PAT_TIES3:
      for (size_t i = 0; i < n; i++) x[i] = set3[xorshift64() % 3];
      break;
    case PAT_ASC:
      for (size_t i = 0; i < n; i++) x[i] = rnd_unit() * 1000.0;
      qsort(x, n, sizeof *x, cmp_asc);
      break;
    case PAT_DESC:
      for (size_t i = 0; i < n; i++) x[i] = rnd_unit() * 1000.0;
      qsort(x, n, sizeof *x, cmp_asc);
      for (size_t i = 0; i < n / 2; i++) {
        double t = x[i];
        x[i] = x[n - 1 - i];
        x[n - 1 - i] = t;
      }
      break;
    case PAT_EQUAL: {
      double v = rnd_unit() * 10.0;
      for (size_t i = 0; i < n; i++) x[i] = v;
      break;
    }
    case PAT_TIES2_PIPE: /* rising then falling, with repeated values */
      for (size_t i = 0; i < n; i++) x[i] = (double)(i < n / 2 ? i / 2 : (n - i) / 2);
      break;
    default:
      break;
  }
}

static void test_select_matches_sorted_ref(void **state) {
  (void)state;
  static const double confs[] = {0.9, 0.95, 0.975, 0.99, 0.995};
  enum { NMAX = 600 };
  double orig[NMAX], work[NMAX], scratch[NMAX], a[NMAX], b[NMAX];
  rng_state = UINT64_C(0x9E3779B97F4A7C15); /* fixed seed */
  size_t cases = 0;
  for (int pat = 0; pat < N_PAT; pat++)
    for (size_t n = 1; n <= NMAX; n++)
      for (size_t c = 0; c < sizeof confs / sizeof confs[0]; c++) {
        const double conf = confs[c];
        fill(orig, n, pat);

        /* VaR is an order statistic: exact equality. */
        const double vref = im_var_sorted_ref(orig, n, conf, scratch);
        memcpy(work, orig, n * sizeof *work);
        const double v = im_var_select(work, n, conf);
        if (!(v == vref))
          fail_msg("VaR mismatch: pattern %s n=%zu conf=%g: select %.17g, sorted %.17g",
                   pat_name[pat], n, conf, v, vref);
        /* The selection only reorders: same multiset. */
        memcpy(a, orig, n * sizeof *a);
        memcpy(b, work, n * sizeof *b);
        qsort(a, n, sizeof *a, cmp_asc);
        qsort(b, n, sizeof *b, cmp_asc);
        if (memcmp(a, b, n * sizeof *a) != 0)
          fail_msg("im_var_select lost values: pattern %s n=%zu conf=%g", pat_name[pat], n,
                   conf);

        /* ES: summation order differs, so within 1e-12 relative to the
         * larger of |ES| and the largest |loss| (the scale of the terms). */
        const double eref = im_es_sorted_ref(orig, n, conf, scratch);
        memcpy(work, orig, n * sizeof *work);
        const double e = im_es_select(work, n, conf);
        double scale = fabs(eref);
        for (size_t i = 0; i < n; i++)
          if (fabs(orig[i]) > scale) scale = fabs(orig[i]);
        if (!(fabs(e - eref) <= 1e-12 * scale))
          fail_msg("ES mismatch: pattern %s n=%zu conf=%g: select %.17g, sorted %.17g",
                   pat_name[pat], n, conf, e, eref);
        /* ES >= VaR for every W, conf (average over a tail that ends at or
         * before the VaR rank). */
        if (!(eref >= vref - 1e-12 * scale))
          fail_msg("ES < VaR: pattern %s n=%zu conf=%g: ES %.17g VaR %.17g", pat_name[pat], n,
                   conf, eref, vref);
        cases++;
      }
  assert_int_equal(cases, (size_t)N_PAT * NMAX * 5);
}

/* ---- (c) ES / VaR hand-worked ---- */

static void test_es_hand(void **state) {
  (void)state;
  double scratch[10];
  /* Losses 10, 9, ..., 1 (W = 10), given in a scrambled order so that the
   * selection has work to do. */
  const double base[10] = {3, 10, 1, 8, 6, 9, 2, 7, 5, 4};
  double x[10];

  /* conf 0.75: m = 10 * 0.25 = 2.5 exactly -> ES = (10 + 9 + 0.5 * 8) / 2.5
   * = 23 / 2.5 = 9.2 (hand computation). */
  memcpy(x, base, sizeof x);
  assert_true(fabs(im_es_select(x, 10, 0.75) - 9.2) <= 1e-12 * 9.2);
  assert_true(fabs(im_es_sorted_ref(base, 10, 0.75, scratch) - 9.2) <= 1e-12 * 9.2);
  /* VaR at 0.75: k = floor(2.5) + 1 = 3 -> third largest = 8 (exact). */
  memcpy(x, base, sizeof x);
  assert_true(im_var_select(x, 10, 0.75) == 8.0);
  assert_true(im_var_sorted_ref(base, 10, 0.75, scratch) == 8.0);

  /* conf 0.8: m = 10 * (1 - 0.8) = 1.9999999999999996 counts as 2 ->
   * ES = (10 + 9) / 2 = 9.5; VaR k = 3 -> 8 (hand computation). */
  memcpy(x, base, sizeof x);
  assert_true(fabs(im_es_select(x, 10, 0.8) - 9.5) <= 1e-12 * 9.5);
  memcpy(x, base, sizeof x);
  assert_true(im_var_select(x, 10, 0.8) == 8.0);

  /* conf 0.95: m = 0.5 < 1 -> the worst half scenario: ES = 10; VaR k = 1
   * -> 10 (hand computation). */
  memcpy(x, base, sizeof x);
  assert_true(fabs(im_es_select(x, 10, 0.95) - 10.0) <= 1e-12 * 10.0);
  memcpy(x, base, sizeof x);
  assert_true(im_var_select(x, 10, 0.95) == 10.0);

  /* conf 0.5: m = 5 -> ES = (10+9+8+7+6)/5 = 8; VaR k = 6 -> 5. */
  memcpy(x, base, sizeof x);
  assert_true(fabs(im_es_select(x, 10, 0.5) - 8.0) <= 1e-12 * 8.0);
  memcpy(x, base, sizeof x);
  assert_true(im_var_select(x, 10, 0.5) == 5.0);

  /* W = 1: both measures are the single loss. */
  x[0] = -2.5;
  assert_true(im_var_select(x, 1, 0.99) == -2.5);
  assert_true(fabs(im_es_select(x, 1, 0.99) - -2.5) <= 1e-12 * 2.5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_var_rank_hand),
      cmocka_unit_test(test_select_matches_sorted_ref),
      cmocka_unit_test(test_es_hand),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
