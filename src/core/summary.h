/* Aggregate verdicts of one model over all portfolios. */
#ifndef IM_SUMMARY_H
#define IM_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "backtest.h"

typedef struct {
  int64_t n_portfolios;
  int64_t n_evaluated;   /* portfolios with at least one observed day */
  int64_t n_obs;         /* observed portfolio-days */
  int64_t n_exceed;
  double expected;       /* sum of n_obs * p */
  double exceed_rate;    /* n_exceed / n_obs, NaN if n_obs == 0 */
  int64_t n_reject_uc;   /* portfolios whose Kupiec p-value < level */
  int64_t n_reject_ind;  /* ... Christoffersen independence */
  int64_t n_reject_cc;   /* ... conditional coverage */
  /* Portfolios per applicable zone (im_bt_applicable_zone): for an h > 1 model
   * whose rows carry the overlap-corrected zone, that zone. */
  int64_t n_green, n_yellow, n_red;
  /* ---- multiple testing across portfolios ---- */
  double share_reject_uc;     /* n_reject_uc / n_evaluated, NaN if none evaluated */
  double share_reject_cc;     /* n_reject_cc / n_evaluated */
  double expected_rejections; /* level * n_evaluated: rejections of a correct model */
  double reject_band_lo;      /* 2.5% and 97.5% quantiles of Binomial(n_evaluated, level): */
  double reject_band_hi;      /* the 95% band of the rejection count of a correct model */
  int64_t n_bh_reject_uc;     /* Benjamini-Hochberg rejections at FDR = level, p_uc */
  int64_t n_bh_reject_cc;     /* ... on p_cc */
  /* ---- the plain binomial traffic light (tl_zone), whatever the horizon:
   * for h > 1 it ignores the overlap and is shown for comparison only ---- */
  int64_t n_green_plain, n_yellow_plain, n_red_plain;
} im_bt_summary;

/* Every field of im_bt_summary in order, by type (see IM_BT_STATS_FIELDS). */
#define IM_BT_SUMMARY_FIELDS(I64, F64)                                                   \
  I64(n_portfolios) I64(n_evaluated) I64(n_obs) I64(n_exceed) F64(expected)             \
  F64(exceed_rate) I64(n_reject_uc) I64(n_reject_ind) I64(n_reject_cc) I64(n_green)     \
  I64(n_yellow) I64(n_red) F64(share_reject_uc) F64(share_reject_cc)                    \
  F64(expected_rejections) F64(reject_band_lo) F64(reject_band_hi) I64(n_bh_reject_uc)  \
  I64(n_bh_reject_cc) I64(n_green_plain) I64(n_yellow_plain) I64(n_red_plain)

/* The zone a row is judged by: tl_zone_overlap once a caller that knows the
 * horizon has filled it (im_bt_fill_overlap: the overlap-corrected zone for
 * h > 1, tl_zone for h = 1), else tl_zone; -1 when the row has no observation. */
int im_bt_applicable_zone(const im_bt_stats *r);

/* Sums the rows in index order (the same result whatever produced them). A
 * test rejects when its p-value is below level (e.g. 0.05); level must be
 * strictly inside (0, 1) for the band (NaN otherwise).
 *
 * The band treats the portfolios' verdicts as independent; portfolios that
 * share underlyings are positively dependent, which widens the true band, so
 * a count outside it is a flag, not a proof. A rejection count of a row
 * whose p-value is NaN is no rejection (NaN < level is false), but the share
 * still divides by n_evaluated.
 *
 * Benjamini-Hochberg (1995): over the m evaluated portfolios whose p-value is
 * defined (not NaN), with p_(1) <= ... <= p_(m), the number of rejections is
 * the largest i with p_(i) <= i * level / m (0 if none). The threshold is
 * evaluated as (double)i * level / (double)m. */
void im_bt_summarise(const im_bt_stats *rows, size_t n, double level, im_bt_summary *out);

/* Benjamini-Hochberg rejection count at FDR q over pvalues[0..n), NaN entries
 * left out of m (see above). work is NULL or scratch for n + 2 int64_t: with
 * it the count takes O(n) time, without it O(n^2). Never allocates. */
int64_t im_bt_bh_count(const double *pvalues, size_t n, double q, int64_t *work);

/* Smallest k in 0..n with Binomial(n, prob) cdf at k >= level (R's qbinom);
 * NaN unless n <= UINT_MAX and prob, level are inside [0, 1] (prob in (0,1)). */
double im_bt_binom_quantile(double level, int64_t n, double prob);

#endif
