/* im_top_k, the SIMD tail selection every model's margin goes through, and
 * im_var / im_es built on it, against definitions written out here:
 *
 *  - the k largest of x = the first k of a full descending qsort of a copy;
 *  - DESIGN.md "Quantile": with the W losses sorted L(1) >= L(2) >= ...,
 *    VaR_a = L(floor(W(1-a)) + 1) and ES_a = the mean of the worst W(1-a)
 *    losses, the boundary loss L(floor(W(1-a)) + 1) weighted by the
 *    fractional part. The confidences are a = 1 - num/den with small
 *    integers, so W(1-a) = W num / den is computed exactly in integers here
 *    (floor = W num div den, fraction = (W num mod den) / den), independent
 *    of how risk.c rounds its floating-point tail mass.
 *
 * Every W from 1 to 3,000, on random, tie-heavy, sorted and lane-aligned
 * inputs (the SIMD pass keeps per-lane maxima of 16 or 64 interleaved
 * lanes and skips blocks of 8 below a cut: the patterns put the tail in one
 * lane, in the remainder after the last full block, and on the cut value). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"

enum { W_MAX = 3000, GUARD = 4 };
static const double SENTINEL = -12345.678;

static uint64_t rng_state;

/* xorshift64 (Marsaglia 2003): deterministic inputs. */
static uint64_t next_u64(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  rng_state = x;
  return x;
}

static double uniform_pm1000(void) {
  return (double)(next_u64() >> 11) * (2000.0 / 9007199254740992.0) - 1000.0;
}

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

enum { PAT_RANDOM, PAT_TIES, PAT_FEW_TIES_TOP, PAT_ASC, PAT_DESC, PAT_LANE16, PAT_LANE64,
       PAT_TAIL_END, N_PAT };
static const char *const pat_name[N_PAT] = {"random",    "ties(3 values)", "ties at top",
                                            "ascending", "descending",     "lane 0 of 16",
                                            "lane 5 of 64", "tail in last block"};

static void fill(double *x, size_t w, int pat) {
  static const double three[3] = {-2.5, 0.0, 7.25};
  for (size_t i = 0; i < w; i++) {
    double u = uniform_pm1000();
    switch (pat) {
      case PAT_TIES: x[i] = three[next_u64() % 3]; break;
      /* Most values equal to the maximum: the cut equals many elements. */
      case PAT_FEW_TIES_TOP: x[i] = next_u64() % 4 ? 100.0 : u; break;
      case PAT_ASC: x[i] = (double)i; break;
      case PAT_DESC: x[i] = (double)(w - i); break;
      /* Every large value in one lane, so the lane maxima hold one of them. */
      case PAT_LANE16: x[i] = i % 16 == 0 ? 2000.0 + u : u; break;
      case PAT_LANE64: x[i] = i % 64 == 5 ? 2000.0 + u : u; break;
      /* The largest values in the last (possibly partial) block of 8. */
      case PAT_TAIL_END: x[i] = i + 8 >= w ? 5000.0 + u : u; break;
      default: x[i] = u; break;
    }
  }
}

/* The k values the tests read for a given W: the boundaries of each path of
 * im_top_k (1, the 16- and 64-lane limits, IM_TOPK_MAX) and W itself.
 * k = 0 has its own test (test_k_zero). */
static size_t ks_for(size_t w, size_t *ks) {
  const size_t cand[] = {1, 2, 8, 15, 16, 17, 63, IM_TOPK_MAX - 1, IM_TOPK_MAX,
                         IM_TOPK_MAX + 1, w - 1, w};
  size_t n = 0;
  for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
    if (cand[i] == 0 || cand[i] > w) continue;
    int dup = 0;
    for (size_t j = 0; j < n; j++) dup |= ks[j] == cand[i];
    if (!dup) ks[n++] = cand[i];
  }
  return n;
}

/* im_top_k(x, w, k) equals the first k of the full sort; nothing past k is
 * written. */
static void check_top_k(const double *x, const double *sorted, size_t w, size_t k, int pat,
                        double *top) {
  for (size_t i = 0; i < k + GUARD; i++) top[i] = SENTINEL;
  im_top_k(x, w, k, top);
  for (size_t i = 0; i < k; i++)
    if (!(top[i] == sorted[i]))
      fail_msg("im_top_k %s W=%zu k=%zu: top[%zu] = %.17g, full sort %.17g", pat_name[pat], w, k,
               i, top[i], sorted[i]);
  for (size_t i = k; i < k + GUARD; i++)
    if (top[i] != SENTINEL)
      fail_msg("im_top_k %s W=%zu k=%zu wrote top[%zu] past k", pat_name[pat], w, k, i);
}

/* a = 1 - num / den. */
typedef struct {
  int num, den;
} level;

static const level levels[] = {{1, 100}, {25, 1000}, {1, 200}, {1, 1000}, {1, 10}, {1, 2},
                               {1, 40},  {3, 7}};

static double var_def(const double *sorted, size_t w, level lv) {
  size_t whole = w * (size_t)lv.num / (size_t)lv.den;
  return sorted[whole < w ? whole : w - 1];
}

static double es_def(const double *sorted, size_t w, level lv) {
  size_t whole = w * (size_t)lv.num / (size_t)lv.den;
  double frac = (double)(w * (size_t)lv.num % (size_t)lv.den) / lv.den;
  double m = (double)w * lv.num / lv.den, s = 0;
  for (size_t i = 0; i < whole; i++) s += sorted[i];
  if (whole < w) s += frac * sorted[whole];
  return s / m;
}

/* im_var and im_es at each level against the definitions; counts the
 * levels whose VaR rank is IM_TOPK_MAX and IM_TOPK_MAX + 1 (the switch from
 * the top-k buffer to selection). */
static void check_levels(const double *x, const double *sorted, size_t w, int pat, double *loss,
                         double *top, size_t *at_max, size_t *past_max) {
  const double scale = fmax(fabs(sorted[0]), fabs(sorted[w - 1]));
  for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
    const level lv = levels[l];
    const double conf = 1.0 - (double)lv.num / lv.den;
    const size_t k = w * (size_t)lv.num / (size_t)lv.den + 1;
    *at_max += k == IM_TOPK_MAX;
    *past_max += k == IM_TOPK_MAX + 1;
    memcpy(loss, x, w * sizeof *x);
    double v = im_var(loss, w, conf, top), vd = var_def(sorted, w, lv);
    if (!(v == vd))
      fail_msg("im_var %s W=%zu a=1-%d/%d: %.17g, definition %.17g", pat_name[pat], w, lv.num,
               lv.den, v, vd);
    memcpy(loss, x, w * sizeof *x);
    double e = im_es(loss, w, conf, top), ed = es_def(sorted, w, lv);
    if (!(fabs(e - ed) <= 1e-12 * scale))
      fail_msg("im_es %s W=%zu a=1-%d/%d: %.17g, definition %.17g", pat_name[pat], w, lv.num,
               lv.den, e, ed);
  }
}

/* Inserts v into the descending sorted[0..n-1] (binary search, memmove). */
static void insert_sorted(double *sorted, size_t n, double v) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] >= v)
      lo = mid + 1;
    else
      hi = mid;
  }
  memmove(sorted + lo + 1, sorted + lo, (n - lo) * sizeof *sorted);
  sorted[lo] = v;
}

typedef struct {
  size_t calls, simd16, simd64, at_max, past_max;
} coverage;

/* im_top_k at every k of ks_for, then im_var / im_es at every level, on
 * x[0..w-1] whose descending sort is sorted. */
static void check_w(const double *x, const double *sorted, size_t w, int pat, double *copy,
                    double *top, coverage *cv) {
  size_t ks[16], nk = ks_for(w, ks);
  memcpy(copy, x, w * sizeof *x);
  for (size_t i = 0; i < nk; i++) {
    /* k near W on long inputs takes the plain insertion path (no SIMD),
     * quadratic in W: every W up to 400, then every 499th and W_MAX. */
    if (ks[i] > IM_TOPK_MAX + 1 && w > 400 && w % 499 != 0 && w != W_MAX) continue;
    check_top_k(x, sorted, w, ks[i], pat, top);
    cv->calls++;
    cv->simd16 += ks[i] <= 16 && w >= 64;
    cv->simd64 += ks[i] > 16 && ks[i] <= 64 && w >= 256;
  }
  if (memcmp(x, copy, w * sizeof *x) != 0)
    fail_msg("im_top_k modified its input: %s W=%zu", pat_name[pat], w);
  check_levels(x, sorted, w, pat, copy, top, &cv->at_max, &cv->past_max);
}

/* Every W from 1 to W_MAX and every pattern. The input at W is the first W
 * values of one array, so its sort is kept by one insertion per W; it is
 * checked against qsort of the same prefix every 100th W. The tail-in-the-
 * last-block pattern depends on W: regenerated and sorted with qsort at
 * every W. */
static void test_every_w(void **state) {
  (void)state;
  double *x = malloc(W_MAX * sizeof *x), *copy = malloc(W_MAX * sizeof *copy);
  double *sorted = malloc(W_MAX * sizeof *sorted);
  double *top = malloc((W_MAX + GUARD) * sizeof *top);
  coverage cv = {0};
  rng_state = UINT64_C(0x2545F4914F6CDD1D);
  for (int pat = 0; pat < N_PAT; pat++) {
    if (pat != PAT_TAIL_END) fill(x, W_MAX, pat);
    for (size_t w = 1; w <= W_MAX; w++) {
      if (pat == PAT_TAIL_END) {
        fill(x, w, pat);
        memcpy(sorted, x, w * sizeof *x);
        qsort(sorted, w, sizeof *sorted, cmp_desc);
      } else {
        insert_sorted(sorted, w - 1, x[w - 1]);
        if (w % 100 == 0) {
          memcpy(copy, x, w * sizeof *x);
          qsort(copy, w, sizeof *copy, cmp_desc);
          if (memcmp(copy, sorted, w * sizeof *x) != 0) fail_msg("insert_sorted at W=%zu", w);
        }
      }
      check_w(x, sorted, w, pat, copy, top, &cv);
    }
  }
  /* The lane paths (16 lanes: k <= 16, W >= 64; 64 lanes: 16 < k <= 64,
   * W >= 256) ran at every W where they apply, and im_var / im_es crossed
   * from the top-k buffer to selection. */
  assert_true(cv.simd16 == (size_t)N_PAT * (W_MAX - 63) * 5);
  assert_true(cv.simd64 == (size_t)N_PAT * (W_MAX - 255) * 3);
  assert_true(cv.calls > cv.simd16 + cv.simd64);
  assert_true(cv.at_max > 0 && cv.past_max > 0);
  free(x);
  free(copy);
  free(sorted);
  free(top);
}

/* Worked by hand: losses 1..10 shuffled; a = 0.75: W(1-a) = 2.5, VaR =
 * L(3) = 8, ES = (10 + 9 + 0.5 x 8) / 2.5 = 9.2; a = 0.95: 0.5, VaR = L(1)
 * = 10, ES = 10. Checks the definition above as much as the library. */
static void test_hand(void **state) {
  (void)state;
  const double base[10] = {3, 10, 1, 8, 6, 9, 2, 7, 5, 4};
  double sorted[10], loss[10], top[IM_TOPK_MAX + 2];
  memcpy(sorted, base, sizeof base);
  qsort(sorted, 10, sizeof *sorted, cmp_desc);
  const level q = {1, 4}, h = {1, 20};
  assert_true(var_def(sorted, 10, q) == 8.0);
  assert_float_equal(es_def(sorted, 10, q), 9.2, 1e-15);
  assert_true(var_def(sorted, 10, h) == 10.0);
  assert_float_equal(es_def(sorted, 10, h), 10.0, 1e-15);
  memcpy(loss, base, sizeof base);
  assert_true(im_var(loss, 10, 0.75, top) == 8.0);
  memcpy(loss, base, sizeof base);
  assert_float_equal(im_es(loss, 10, 0.75, top), 9.2, 1e-15);
}

/* k = 0 selects nothing: no element of top (nor before it) may be touched.
 * Before the fix im_top_k wrote top[k - 1] = top[-1]. */
static void test_k_zero(void **state) {
  (void)state;
  static double x[3000];
  for (size_t i = 0; i < 3000; i++) x[i] = (double)((i * 7919) % 3001);
  const size_t ws[] = {1, 7, 63, 64, 256, 3000};
  for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
    double buf[8];
    for (size_t j = 0; j < 8; j++) buf[j] = -999.5;
    im_top_k(x, ws[i], 0, buf + 4);
    for (size_t j = 0; j < 8; j++) assert_true(buf[j] == -999.5);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand),
      cmocka_unit_test(test_k_zero),
      cmocka_unit_test(test_every_w),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
