#include "summary.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

double im_bt_binom_quantile(double level, int64_t n, double prob) {
  if (n < 0 || n > (int64_t)UINT_MAX || !(prob > 0.0 && prob < 1.0) ||
      !(level >= 0.0 && level <= 1.0))
    return NAN;
  /* The cdf is non-decreasing in k and 1 at k = n: bisect for the first k
   * where it reaches level. */
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (gsl_cdf_binomial_P((unsigned int)mid, prob, (unsigned int)n) >= level)
      hi = mid;
    else
      lo = mid + 1;
  }
  return (double)lo;
}

/* The p-values come either from a plain array or from a field of the rows;
 * get(ctx, i) returns NaN for an entry that takes no part. */
typedef double (*pvalue_get)(const void *ctx, size_t i);

static double bh_threshold(int64_t i, double q, int64_t m) { return (double)i * q / (double)m; }

static int64_t bh_generic(pvalue_get get, const void *ctx, size_t n, double q, int64_t *work) {
  int64_t m = 0;
  for (size_t i = 0; i < n; i++) m += !isnan(get(ctx, i));
  if (m == 0) return 0;
  if (!work) {
    /* #{p <= thr(i)} >= i is the same as p_(i) <= thr(i). */
    for (int64_t i = m; i >= 1; i--) {
      const double thr = bh_threshold(i, q, m);
      int64_t c = 0;
      for (size_t j = 0; j < n; j++) {
        const double pv = get(ctx, j);
        c += !isnan(pv) && pv <= thr;
      }
      if (c >= i) return i;
    }
    return 0;
  }
  /* Bucket each p-value at the smallest i with p <= thr(i) (m + 1: none),
   * using the very same threshold expression, so that the running bucket sum
   * at i is #{p <= thr(i)} exactly. */
  memset(work, 0, (size_t)(m + 2) * sizeof *work);
  for (size_t j = 0; j < n; j++) {
    const double pv = get(ctx, j);
    if (isnan(pv)) continue;
    double guess = q > 0.0 ? ceil(pv * (double)m / q) : (double)(m + 1);
    if (!(guess >= 1.0)) guess = 1.0;
    if (guess > (double)(m + 1)) guess = (double)(m + 1);
    int64_t i = (int64_t)guess;
    while (i > 1 && pv <= bh_threshold(i - 1, q, m)) i--;
    while (i <= m && !(pv <= bh_threshold(i, q, m))) i++;
    work[i]++;
  }
  int64_t best = 0, cum = 0;
  for (int64_t i = 1; i <= m; i++) {
    cum += work[i];
    if (cum >= i) best = i;
  }
  return best;
}

static double array_get(const void *ctx, size_t i) { return ((const double *)ctx)[i]; }

int64_t im_bt_bh_count(const double *pvalues, size_t n, double q, int64_t *work) {
  if (!pvalues || n == 0) return 0;
  return bh_generic(array_get, pvalues, n, q, work);
}

static double row_p_uc(const void *ctx, size_t i) {
  const im_bt_stats *r = (const im_bt_stats *)ctx + i;
  return r->n_obs > 0 ? r->p_uc : NAN;
}

static double row_p_cc(const void *ctx, size_t i) {
  const im_bt_stats *r = (const im_bt_stats *)ctx + i;
  return r->n_obs > 0 ? r->p_cc : NAN;
}

int im_bt_applicable_zone(const im_bt_stats *r) {
  if (r->n_obs <= 0) return -1;
  return r->tl_zone_overlap >= 0 ? r->tl_zone_overlap : r->tl_zone;
}

void im_bt_summarise(const im_bt_stats *rows, size_t n, double level, im_bt_summary *out) {
  memset(out, 0, sizeof *out);
  out->n_portfolios = (int64_t)n;
  for (size_t i = 0; i < n; i++) {
    const im_bt_stats *r = &rows[i];
    if (r->n_obs == 0) continue;
    out->n_evaluated++;
    out->n_obs += r->n_obs;
    out->n_exceed += r->n_exceed;
    out->expected += r->expected;
    out->n_reject_uc += r->p_uc < level;   /* NaN compares false: not a rejection */
    out->n_reject_ind += r->p_ind < level;
    out->n_reject_cc += r->p_cc < level;
    const int z = im_bt_applicable_zone(r);
    out->n_green += z == IM_ZONE_GREEN;
    out->n_yellow += z == IM_ZONE_YELLOW;
    out->n_red += z == IM_ZONE_RED;
    out->n_green_plain += r->tl_zone == IM_ZONE_GREEN;
    out->n_yellow_plain += r->tl_zone == IM_ZONE_YELLOW;
    out->n_red_plain += r->tl_zone == IM_ZONE_RED;
  }
  out->exceed_rate = out->n_obs ? (double)out->n_exceed / (double)out->n_obs : NAN;

  const int level_ok = level > 0.0 && level < 1.0;
  const double ne = (double)out->n_evaluated;
  out->share_reject_uc = out->n_evaluated ? (double)out->n_reject_uc / ne : NAN;
  out->share_reject_cc = out->n_evaluated ? (double)out->n_reject_cc / ne : NAN;
  out->expected_rejections = level_ok ? level * ne : NAN;
  out->reject_band_lo = level_ok ? im_bt_binom_quantile(0.025, out->n_evaluated, level) : NAN;
  out->reject_band_hi = level_ok ? im_bt_binom_quantile(0.975, out->n_evaluated, level) : NAN;

  /* O(n) with scratch; if there is no memory for it, the O(n^2) count gives
   * the same integer. */
  int64_t *work = n ? malloc((n + 2) * sizeof *work) : NULL;
  out->n_bh_reject_uc = bh_generic(row_p_uc, rows, n, level, work);
  out->n_bh_reject_cc = bh_generic(row_p_cc, rows, n, level, work);
  free(work);
}
