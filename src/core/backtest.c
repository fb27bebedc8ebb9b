#include "backtest.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>

#include <gsl/gsl_cdf.h>

/* ln(k/m) for 0 < k <= m. When k/m is close to 1 the rounded quotient has
 * already lost the digits of (m-k)/m that the logarithm depends on, so the
 * complement goes through log1p instead. */
static double ln_frac(int64_t k, int64_t m) {
  if (k <= m - k) return log((double)k / (double)m);
  return log1p(-(double)(m - k) / (double)m);
}

/* Both ratios are likelihood ratios of nested maximised models and hence
 * non-negative; a negative value is cancellation between nearly equal
 * log-likelihoods. */
static double nonneg(double lr) { return lr > 0.0 ? lr : 0.0; }

/* GSL documents no result for a NaN argument, so an undefined statistic
 * gets its undefined p-value here rather than by accident. */
static double chisq_pvalue(double lr, double df) {
  return isnan(lr) ? NAN : gsl_cdf_chisq_Q(lr, df);
}

double im_bt_lr_uc(int64_t n, int64_t x, double p) {
  if (n <= 0 || x < 0 || x > n || !(p > 0.0 && p < 1.0)) return NAN;
  /* Each outcome class contributes count * ln(fitted / hypothesised); a class
   * with count 0 is skipped, which is the 0 * ln 0 = 0 convention and keeps
   * x = 0 and x = n finite. */
  double half_lr = 0.0;
  if (x > 0) half_lr += (double)x * (ln_frac(x, n) - log(p));
  if (x < n) half_lr += (double)(n - x) * (ln_frac(n - x, n) - log1p(-p));
  return nonneg(2.0 * half_lr);
}

/* Markov-minus-iid log-likelihood of the transitions into state j from state
 * i: n_ij * ln(pi_ij / pi_j), with pi_ij = n_ij / row and pi_j = col / total.
 * n_ij > 0 implies row >= n_ij and col >= n_ij, so both logarithms are finite;
 * an empty row contributes nothing. */
static double transition_gain(int64_t nij, int64_t row, int64_t col, int64_t total) {
  if (nij == 0) return 0.0;
  return (double)nij * (ln_frac(nij, row) - ln_frac(col, total));
}

double im_bt_lr_ind(int64_t n00, int64_t n01, int64_t n10, int64_t n11) {
  if (n00 < 0 || n01 < 0 || n10 < 0 || n11 < 0) return NAN;
  const int64_t row0 = n00 + n01, row1 = n10 + n11;
  const int64_t col0 = n00 + n10, col1 = n01 + n11;
  const int64_t total = row0 + row1;
  if (total == 0) return NAN;
  const double half_lr = transition_gain(n00, row0, col0, total) +
                         transition_gain(n01, row0, col1, total) +
                         transition_gain(n10, row1, col0, total) +
                         transition_gain(n11, row1, col1, total);
  return nonneg(2.0 * half_lr);
}

/* A NaN probability lands in red: an undefined test must not pass. */
im_zone im_bt_zone(double cumprob) {
  if (cumprob <= 0.95) return IM_ZONE_GREEN;
  if (cumprob <= 0.9999) return IM_ZONE_YELLOW;
  return IM_ZONE_RED;
}

im_status im_bt_stats_compute(const int8_t *hits, size_t n, double p, im_bt_stats *out,
                              im_err *err) {
  if (!out) return im_err_set(err, IM_EINVAL, "backtest: output statistics pointer is NULL");
  if (!(p > 0.0 && p < 1.0))
    return im_err_set(err, IM_EINVAL,
                      "backtest: exceedance probability p = %g is not strictly inside (0, 1)", p);
  if (!hits && n > 0)
    return im_err_set(err, IM_EINVAL, "backtest: hits is NULL for a series of %zu days", n);

  im_bt_stats s = {0};
  int64_t trans[2][2] = {{0, 0}, {0, 0}};
  for (size_t t = 0; t < n; t++) {
    const int h = hits[t];
    if (h != -1 && h != 0 && h != 1)
      return im_err_set(err, IM_EINVAL, "backtest: hits[%zu] = %d is not -1, 0 or 1", t, h);
    if (h < 0) continue;
    s.n_obs++;
    s.n_exceed += h;
    if (t > 0 && hits[t - 1] >= 0) trans[hits[t - 1]][h]++;
  }
  /* GSL's binomial cdf takes unsigned int counts. */
  if (s.n_obs > (int64_t)UINT_MAX)
    return im_err_set(err, IM_EINVAL,
                      "backtest: %" PRId64 " observed days exceed the binomial cdf's limit of %u",
                      s.n_obs, UINT_MAX);

  s.expected = (double)s.n_obs * p;
  s.n00 = trans[0][0];
  s.n01 = trans[0][1];
  s.n10 = trans[1][0];
  s.n11 = trans[1][1];
  s.lr_uc = s.n_obs > 0 ? im_bt_lr_uc(s.n_obs, s.n_exceed, p) : NAN;
  s.lr_ind = im_bt_lr_ind(s.n00, s.n01, s.n10, s.n11);
  s.lr_cc = s.lr_uc + s.lr_ind;
  s.p_uc = chisq_pvalue(s.lr_uc, 1.0);
  s.p_ind = chisq_pvalue(s.lr_ind, 1.0);
  s.p_cc = chisq_pvalue(s.lr_cc, 2.0);
  if (s.n_obs > 0) {
    s.tl_cumprob =
        gsl_cdf_binomial_P((unsigned int)s.n_exceed, p, (unsigned int)s.n_obs);
    s.tl_zone = (int8_t)im_bt_zone(s.tl_cumprob);
  } else {
    s.tl_cumprob = NAN;
    s.tl_zone = -1;
  }
  *out = s;
  return IM_OK;
}
