/* Backtest statistics on an exceedance series: Kupiec POF, Christoffersen
 * independence and conditional coverage, and the binomial traffic light.
 *
 * Conventions (see README "Backtest statistics"):
 * - hits[t] is 1 (exceedance), 0 (covered) or -1 (not observed). Not-observed
 *   days are skipped: n_obs and n_exceed count observed days only.
 * - p = 1 - confidence is the expected exceedance probability.
 * - Transition counts n_ij use the pairs (t-1, t) of consecutive series
 *   positions where both days are observed; a pair straddling a not-observed
 *   day is not counted.
 * - Likelihoods are evaluated in log space with 0 * ln 0 = 0, so zero and all
 *   exceedances give finite statistics.
 * - A statistic that is undefined for the data (e.g. no observations, no
 *   transition pairs) is NaN; a finite statistic is never NaN.
 * - Traffic light: F = Binomial(n_obs, p) cdf at n_exceed; green F <= 0.95,
 *   yellow 0.95 < F <= 0.9999, red F > 0.9999 (MATLAB varbacktest, Basel 1996).
 * p-values come from GSL's chi-square upper tail. */
#ifndef IM_BACKTEST_H
#define IM_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

typedef enum { IM_ZONE_GREEN = 0, IM_ZONE_YELLOW = 1, IM_ZONE_RED = 2 } im_zone;

typedef struct {
  int64_t n_obs;     /* observed days */
  int64_t n_exceed;  /* exceedances among them */
  double expected;   /* n_obs * p */
  int64_t n00, n01, n10, n11; /* transition counts, n_ij = #{h(t-1)=i, h(t)=j} */
  double lr_uc, p_uc;   /* Kupiec POF, chi2(1) */
  double lr_ind, p_ind; /* Christoffersen independence, chi2(1) */
  double lr_cc, p_cc;   /* conditional coverage = lr_uc + lr_ind, chi2(2) */
  double tl_cumprob;    /* Binomial(n_obs, p) cdf at n_exceed */
  int8_t tl_zone;       /* im_zone, or -1 when n_obs == 0 */
} im_bt_stats;

/* Kupiec POF likelihood ratio for x exceedances in n observations. */
double im_bt_lr_uc(int64_t n, int64_t x, double p);

/* Christoffersen independence likelihood ratio from the transition counts. */
double im_bt_lr_ind(int64_t n00, int64_t n01, int64_t n10, int64_t n11);

/* Traffic-light zone of a cumulative probability. */
im_zone im_bt_zone(double cumprob);

/* All statistics of one series. Returns IM_EINVAL if p is not in (0,1) or a
 * hit value is not -1, 0 or 1. */
im_status im_bt_stats_compute(const int8_t *hits, size_t n, double p, im_bt_stats *out,
                              im_err *err);

#endif
