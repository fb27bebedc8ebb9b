#include "backtest.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <Random123/philox.h>
#pragma GCC diagnostic pop

/* ---- small numerical helpers ------------------------------------------- */

/* ln(k/m) for 0 < k <= m. When k/m is close to 1 the rounded quotient has
 * already lost the digits of (m-k)/m that the logarithm depends on, so the
 * complement goes through log1p instead. */
static double ln_frac(int64_t k, int64_t m) {
  if (k <= m - k) return log((double)k / (double)m);
  return log1p(-(double)(m - k) / (double)m);
}

/* Likelihood ratios of nested maximised models are non-negative; a negative
 * value is cancellation between nearly equal log-likelihoods. */
static double nonneg(double lr) { return lr > 0.0 ? lr : 0.0; }

/* GSL documents no result for a NaN argument, so an undefined statistic
 * gets its undefined p-value here rather than by accident. */
static double chisq_pvalue(double lr, double df) {
  return isnan(lr) || !(df > 0.0) ? NAN : gsl_cdf_chisq_Q(lr, df);
}

/* A ratio of USD amounts that overflowed is reported as the largest finite
 * double of its sign: a defined statistic is never infinite. */
static double saturate(double x) {
  if (x > DBL_MAX) return DBL_MAX;
  if (x < -DBL_MAX) return -DBL_MAX;
  return x;
}

static int p_ok(double p) { return p > 0.0 && p < 1.0; }

/* ---- the closed-form ratios -------------------------------------------- */

double im_bt_lr_uc(int64_t n, int64_t x, double p) {
  if (n <= 0 || x < 0 || x > n || !p_ok(p)) return NAN;
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

/* Fitted geometric model (1/n)(1 - 1/n)^(n-1) against p(1-p)^(n-1). The
 * textbook n ln n - (n-1) ln(n-1) cancels catastrophically for large n;
 * (n-1) log1p(-1/n) does not. */
double im_bt_lr_tuff(int64_t n, double p) {
  if (n < 1 || !p_ok(p)) return NAN;
  if (n == 1) return -2.0 * log(p);
  const double nd = (double)n;
  const double half_lr = -log(nd) + (nd - 1.0) * log1p(-1.0 / nd) - log(p) - (nd - 1.0) * log1p(-p);
  return nonneg(2.0 * half_lr);
}

/* A NaN probability lands in red: an undefined test must not pass. */
im_zone im_bt_zone(double cumprob) {
  if (cumprob <= 0.95) return IM_ZONE_GREEN;
  if (cumprob <= 0.9999) return IM_ZONE_YELLOW;
  return IM_ZONE_RED;
}

/* Basel Committee (1996), Table 2: plus factors of 5..9 exceptions. */
static const double basel_yellow_plus[5] = {0.40, 0.50, 0.65, 0.75, 0.85};

int8_t im_bt_basel_zone(int64_t x) {
  if (x < 0) return -1;
  if (x <= 4) return IM_ZONE_GREEN;
  if (x <= 9) return IM_ZONE_YELLOW;
  return IM_ZONE_RED;
}

double im_bt_basel_plus(int64_t x) {
  if (x < 0) return NAN;
  if (x <= 4) return 0.0;
  if (x <= 9) return basel_yellow_plus[x - 5];
  return 1.0;
}

im_bt_opts im_bt_opts_default(void) {
  im_bt_opts o;
  o.dq_lags = IM_BT_DQ_LAGS_DEFAULT;
  o.test_level = IM_BT_TEST_LEVEL_DEFAULT;
  return o;
}

/* ---- the series view --------------------------------------------------- */

/* The days a battery runs on: positions start, start + stride, ... of the
 * caller's arrays, len of them. The full series is start 0, stride 1. */
typedef struct {
  const int8_t *hits;
  const double *pnl, *margin; /* both NULL or both set */
  size_t start, stride, len;
} series;

static size_t series_pos(const series *s, size_t i) { return s->start + i * s->stride; }

/* Everything the public entry points check before computing anything. */
static im_status check_inputs(const int8_t *hits, const double *pnl, const double *margin,
                              size_t n, double p, const im_bt_opts *opts, const im_bt_stats *out,
                              im_err *err) {
  if (!out) return im_err_set(err, IM_EINVAL, "backtest: output statistics pointer is NULL");
  if (!p_ok(p))
    return im_err_set(err, IM_EINVAL,
                      "backtest: exceedance probability p = %g is not strictly inside (0, 1)", p);
  if (!hits && n > 0)
    return im_err_set(err, IM_EINVAL, "backtest: hits is NULL for a series of %zu days", n);
  if ((pnl == NULL) != (margin == NULL))
    return im_err_set(err, IM_EINVAL,
                      "backtest: pnl and margin must both be given or both be NULL (%s is NULL)",
                      pnl ? "margin" : "pnl");
  if (opts) {
    if (opts->dq_lags < 0 || opts->dq_lags > IM_BT_DQ_LAGS_MAX)
      return im_err_set(err, IM_EINVAL, "backtest: dq_lags = %" PRId64 " is not in 0..%d",
                        opts->dq_lags, IM_BT_DQ_LAGS_MAX);
    if (!(opts->test_level > 0.0 && opts->test_level < 1.0))
      return im_err_set(err, IM_EINVAL,
                        "backtest: test_level = %g is not strictly inside (0, 1)",
                        opts->test_level);
  }
  for (size_t t = 0; t < n; t++) {
    const int h = hits[t];
    if (h != -1 && h != 0 && h != 1)
      return im_err_set(err, IM_EINVAL, "backtest: hits[%zu] = %d is not -1, 0 or 1", t, h);
    if (h < 0 || !pnl) continue;
    if (!isfinite(pnl[t]))
      return im_err_set(err, IM_EINVAL, "backtest: pnl[%zu] = %g on an observed day", t, pnl[t]);
    if (!isfinite(margin[t]) || margin[t] < 0.0)
      return im_err_set(err, IM_EINVAL,
                        "backtest: margin[%zu] = %g on an observed day is not finite and >= 0",
                        t, margin[t]);
  }
  return IM_OK;
}

/* ---- time until first failure and time between failures ---------------- */

/* obs[i] is the caller's array position of the i-th observed day. */
static void tuff_tbf(const series *s, const size_t *obs, int64_t m, double p, double test_level,
                     im_bt_stats *st) {
  st->lr_tuff = st->p_tuff = st->lr_tbfi = st->p_tbfi = st->lr_tbf = st->p_tbf = NAN;
  if (m == 0) return;
  if (st->n_exceed == 0) {
    /* MATLAB's no-failure rule: decide only when even the earliest possible
     * first failure, day m + 1, beyond 1/p is rejected. */
    if ((double)m > 1.0 / p) {
      const double lr = im_bt_lr_tuff(m + 1, p);
      if (gsl_cdf_chisq_P(lr, 1.0) >= test_level) {
        st->lr_tuff = st->lr_tbfi = lr;
        st->p_tuff = st->p_tbfi = chisq_pvalue(lr, 1.0);
      }
    }
    return;
  }
  int64_t last = 0; /* 1-based position of the previous exceedance */
  double tbfi = 0.0;
  for (int64_t i = 0; i < m; i++) {
    if (s->hits[obs[i]] != 1) continue;
    tbfi += im_bt_lr_tuff(i + 1 - last, p);
    last = i + 1;
  }
  st->lr_tuff = im_bt_lr_tuff(st->first_failure, p);
  st->p_tuff = chisq_pvalue(st->lr_tuff, 1.0);
  st->lr_tbfi = tbfi;
  st->p_tbfi = chisq_pvalue(tbfi, (double)st->n_exceed);
  st->lr_tbf = st->lr_uc + tbfi;
  st->p_tbf = chisq_pvalue(st->lr_tbf, (double)st->n_exceed + 1.0);
}

/* ---- Weibull duration test --------------------------------------------- */

/* Spells as ln d (d >= 1, so ln d >= 0): all of them in lnd[0..k), with the
 * number u of uncensored ones and the sum s_unc of their ln d. */
typedef struct {
  const double *lnd;
  size_t k;
  double lnd_max;
  double u, s_unc;
} spells;

/* ln sum_j d_j^b and the d^b-weighted mean of ln d, scaled by the largest
 * term so that neither overflows for any b in the search interval. */
static void spell_sums(const spells *sp, double b, double *lse, double *wmean) {
  double sum = 0.0, wsum = 0.0;
  for (size_t j = 0; j < sp->k; j++) {
    const double w = exp(b * (sp->lnd[j] - sp->lnd_max));
    sum += w;
    wsum += w * sp->lnd[j];
  }
  *lse = b * sp->lnd_max + log(sum);
  *wmean = wsum / sum;
}

/* Profiled log-likelihood: with a^b = U / sum d^b the censored and
 * uncensored (a d)^b terms add up to U, leaving
 * l(b) = U ln U - U ln sum d^b + U ln b + (b - 1) sum_unc ln d - U. */
static double weibull_profile(const spells *sp, double b) {
  double lse, wmean;
  spell_sums(sp, b, &lse, &wmean);
  return sp->u * log(sp->u) - sp->u * lse + sp->u * log(b) + (b - 1.0) * sp->s_unc - sp->u;
}

/* l'(b) = -U wmean(b) + U / b + sum_unc ln d. l''(b) = -U Var_w(ln d) - U/b^2
 * < 0, so l' is strictly decreasing and its sign brackets the maximiser. */
static double weibull_slope(const spells *sp, double b) {
  double lse, wmean;
  spell_sums(sp, b, &lse, &wmean);
  return -sp->u * wmean + sp->u / b + sp->s_unc;
}

#define DUR_B_LO 0.001
#define DUR_B_HI 10.0

static double weibull_argmax(const spells *sp) {
  double lo = DUR_B_LO, hi = DUR_B_HI;
  if (weibull_slope(sp, lo) <= 0.0) return lo;
  if (weibull_slope(sp, hi) >= 0.0) return hi;
  for (int it = 0; it < 200; it++) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break; /* adjacent doubles: done */
    if (weibull_slope(sp, mid) > 0.0)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

static im_status duration_test(const series *s, const size_t *obs, int64_t m, im_bt_stats *st,
                               im_err *err) {
  st->dur_b = st->dur_lr = st->dur_p = NAN;
  const int64_t x = st->n_exceed;
  if (x < 2) return IM_OK; /* no uncensored duration: a and b are not identified */
  double *lnd = malloc((size_t)(x + 1) * sizeof *lnd);
  if (!lnd)
    return im_err_set(err, IM_ENOMEM, "backtest: no memory for %" PRId64 " durations", x + 1);
  spells sp = {lnd, 0, 0.0, 0.0, 0.0};
  int64_t prev = 0; /* 1-based position of the previous exceedance, 0 = none yet */
  for (int64_t i = 0; i < m; i++) {
    if (s->hits[obs[i]] != 1) continue;
    const int64_t t = i + 1;
    if (prev == 0) {
      if (t > 1) lnd[sp.k++] = log((double)t); /* censored first spell */
    } else {
      const double l = log((double)(t - prev));
      lnd[sp.k++] = l;
      sp.u += 1.0;
      sp.s_unc += l;
    }
    prev = t;
  }
  if (prev < m) lnd[sp.k++] = log((double)(m - prev)); /* censored last spell */
  for (size_t j = 0; j < sp.k; j++)
    if (lnd[j] > sp.lnd_max) sp.lnd_max = lnd[j];

  const double b = weibull_argmax(&sp);
  st->dur_b = b;
  st->dur_lr = nonneg(2.0 * (weibull_profile(&sp, b) - weibull_profile(&sp, 1.0)));
  st->dur_p = chisq_pvalue(st->dur_lr, 1.0);
  free(lnd);
  return IM_OK;
}

/* ---- dynamic quantile test --------------------------------------------- */

static im_status dq_test(const series *s, const size_t *obs, int64_t m, double p, int64_t lags,
                         im_bt_stats *st, im_err *err) {
  st->dq_stat = st->dq_p = NAN;
  st->dq_n = st->dq_df = 0;
  const int with_pm = s->pnl != NULL;
  const size_t L = (size_t)lags;
  const size_t cols = 1 + L + (with_pm ? 2 : 0);
  const size_t first = with_pm && L < 1 ? 1 : L; /* 0-based first regression day */
  if (m <= 0 || (size_t)m <= first) return IM_OK;
  const size_t rows = (size_t)m - first;
  if (rows <= cols) return IM_OK;

  double *a = malloc(rows * cols * sizeof *a);
  double *v = malloc(cols * cols * sizeof *v);
  double *sv = malloc(cols * sizeof *sv);
  double *y = malloc(rows * sizeof *y);
  im_status rc = IM_OK;
  if (!a || !v || !sv || !y) {
    rc = im_err_set(err, IM_ENOMEM, "backtest: no memory for a %zu x %zu DQ regression", rows,
                    cols);
    goto done;
  }
#define HIT(i) ((double)s->hits[obs[i]] - p)
  for (size_t r = 0; r < rows; r++) {
    const size_t t = first + r; /* index among observed days */
    double *row = a + r * cols;
    size_t c = 0;
    row[c++] = 1.0;
    if (with_pm) row[c++] = s->margin[obs[t]];
    for (size_t l = 1; l <= L; l++) row[c++] = HIT(t - l);
    if (with_pm) {
      const double q = s->pnl[obs[t - 1]];
      row[c++] = q * q;
    }
    y[r] = HIT(t);
  }
#undef HIT
  /* Unit-norm columns: DQ only depends on the column space, and scaling puts
   * USD margins, squared USD P&L and hit indicators on one footing for the
   * rank decision. An all-zero column stays zero and drops out of the rank. */
  for (size_t c = 0; c < cols; c++) {
    double ss = 0.0, big = 0.0;
    for (size_t r = 0; r < rows; r++) big = fmax(big, fabs(a[r * cols + c]));
    if (big == 0.0) continue;
    for (size_t r = 0; r < rows; r++) {
      const double z = a[r * cols + c] / big;
      ss += z * z;
    }
    const double norm = big * sqrt(ss);
    for (size_t r = 0; r < rows; r++) a[r * cols + c] /= norm;
  }
  gsl_matrix_view A = gsl_matrix_view_array(a, rows, cols);
  gsl_matrix_view V = gsl_matrix_view_array(v, cols, cols);
  gsl_vector_view S = gsl_vector_view_array(sv, cols);
  if (gsl_linalg_SV_decomp_jacobi(&A.matrix, &V.matrix, &S.vector) != 0) goto done; /* NaN */
  double smax = 0.0;
  for (size_t c = 0; c < cols; c++) smax = fmax(smax, sv[c]);
  const double tol = (double)rows * DBL_EPSILON * smax;
  double proj = 0.0;
  int64_t rank = 0;
  for (size_t c = 0; c < cols; c++) {
    if (!(sv[c] > tol)) continue;
    double dot = 0.0; /* column c of A now holds the left singular vector u_c */
    for (size_t r = 0; r < rows; r++) dot += a[r * cols + c] * y[r];
    proj += dot * dot;
    rank++;
  }
  st->dq_n = (int64_t)rows;
  st->dq_df = rank;
  st->dq_stat = proj / (p * (1.0 - p));
  st->dq_p = chisq_pvalue(st->dq_stat, (double)rank);
done:
  free(a);
  free(v);
  free(sv);
  free(y);
  return rc;
}

/* ---- margin procyclicality (always on the full series) ----------------- */

static void procyclicality(const int8_t *hits, const double *margin, size_t n, im_bt_stats *st) {
  st->peak_to_trough = NAN;
  st->max_incr_1d = st->max_incr_5d = st->max_incr_10d = st->max_incr_30d = NAN;
  if (!margin) return;
  double peak = -1.0, ptt = NAN;
  for (size_t t = 0; t < n; t++) {
    if (hits[t] < 0) continue;
    if (margin[t] > peak) peak = margin[t];
    if (margin[t] > 0.0) {
      const double r = saturate(peak / margin[t]);
      if (isnan(ptt) || r > ptt) ptt = r;
    }
  }
  st->peak_to_trough = ptt;
  static const size_t ks[4] = {1, 5, 10, 30};
  double *outs[4] = {&st->max_incr_1d, &st->max_incr_5d, &st->max_incr_10d, &st->max_incr_30d};
  for (size_t j = 0; j < 4; j++) {
    const size_t k = ks[j];
    double best = NAN;
    for (size_t t = 0; t + k < n; t++) {
      if (hits[t] < 0 || hits[t + k] < 0 || !(margin[t] > 0.0)) continue;
      const double r = saturate(margin[t + k] / margin[t] - 1.0);
      if (isnan(best) || r > best) best = r;
    }
    *outs[j] = best;
  }
}

/* ---- the battery ------------------------------------------------------- */

static im_status battery(const series *s, double p, const im_bt_opts *o, im_bt_stats *out,
                         im_err *err) {
  im_bt_stats st;
  memset(&st, 0, sizeof st);
  st.overlap_green_max = st.overlap_yellow_max = -1;
  st.tl_zone_overlap = -1;
  int64_t trans[2][2] = {{0, 0}, {0, 0}};
  for (size_t i = 0; i < s->len; i++) {
    const int h = s->hits[series_pos(s, i)];
    if (h < 0) continue;
    st.n_obs++;
    st.n_exceed += h;
    if (st.n_exceed == 1 && h == 1) st.first_failure = st.n_obs;
    if (i > 0) {
      const int hp = s->hits[series_pos(s, i - 1)];
      if (hp >= 0) trans[hp][h]++;
    }
  }
  /* GSL's binomial cdf takes unsigned int counts. */
  if (st.n_obs > (int64_t)UINT_MAX)
    return im_err_set(err, IM_EINVAL,
                      "backtest: %" PRId64 " observed days exceed the binomial cdf's limit of %u",
                      st.n_obs, UINT_MAX);
  const int64_t m = st.n_obs, x = st.n_exceed;
  size_t *obs = NULL;
  if (m > 0) {
    obs = malloc((size_t)m * sizeof *obs);
    if (!obs)
      return im_err_set(err, IM_ENOMEM, "backtest: no memory for %" PRId64 " observed days", m);
    size_t j = 0;
    for (size_t i = 0; i < s->len; i++)
      if (s->hits[series_pos(s, i)] >= 0) obs[j++] = series_pos(s, i);
  }

  /* Coverage and independence. */
  st.expected = (double)m * p;
  st.n00 = trans[0][0];
  st.n01 = trans[0][1];
  st.n10 = trans[1][0];
  st.n11 = trans[1][1];
  st.lr_uc = m > 0 ? im_bt_lr_uc(m, x, p) : NAN;
  st.lr_ind = im_bt_lr_ind(st.n00, st.n01, st.n10, st.n11);
  st.lr_cc = st.lr_uc + st.lr_ind;
  st.p_uc = chisq_pvalue(st.lr_uc, 1.0);
  st.p_ind = chisq_pvalue(st.lr_ind, 1.0);
  st.p_cc = chisq_pvalue(st.lr_cc, 2.0);
  if (m > 0) {
    st.tl_cumprob = gsl_cdf_binomial_P((unsigned int)x, p, (unsigned int)m);
    st.tl_zone = (int8_t)im_bt_zone(st.tl_cumprob);
    const double sd = sqrt((double)m * p * (1.0 - p));
    st.bin_z = ((double)x - st.expected) / sd;
    st.bin_p = 2.0 * gsl_cdf_ugaussian_Q(fabs(st.bin_z));
    st.coverage = (double)(m - x) / (double)m;
  } else {
    st.tl_cumprob = NAN;
    st.tl_zone = -1;
    st.bin_z = st.bin_p = st.coverage = NAN;
  }

  tuff_tbf(s, obs, m, p, o->test_level, &st);

  /* Basel 1996 on the last 250 observed days. */
  if (fabs(p - IM_BT_BASEL_P) <= 1e-12 && m >= IM_BT_BASEL_DAYS) {
    int64_t bx = 0;
    for (int64_t i = m - IM_BT_BASEL_DAYS; i < m; i++) bx += s->hits[obs[i]];
    st.basel_n = IM_BT_BASEL_DAYS;
    st.basel_exceed = bx;
    st.basel_zone = im_bt_basel_zone(bx);
    st.basel_plus = im_bt_basel_plus(bx);
  } else {
    st.basel_n = st.basel_exceed = -1;
    st.basel_zone = -1;
    st.basel_plus = NAN;
  }

  /* Exceedance magnitudes. */
  st.largest_exceedance = st.mean_exceedance = st.mean_loss_to_margin = NAN;
  if (s->pnl && x > 0) {
    double big = -INFINITY, sum = 0.0, ratio_sum = 0.0;
    int64_t n_ratio = 0;
    for (int64_t i = 0; i < m; i++) {
      const size_t t = obs[i];
      if (s->hits[t] != 1) continue;
      const double loss = -s->pnl[t], excess = loss - s->margin[t];
      if (excess > big) big = excess;
      sum += excess;
      if (s->margin[t] > 0.0) {
        ratio_sum += loss / s->margin[t];
        n_ratio++;
      }
    }
    st.largest_exceedance = saturate(big);
    st.mean_exceedance = saturate(sum / (double)x);
    if (n_ratio > 0) st.mean_loss_to_margin = saturate(ratio_sum / (double)n_ratio);
  }

  im_status rc = duration_test(s, obs, m, &st, err);
  if (rc == IM_OK) rc = dq_test(s, obs, m, p, o->dq_lags, &st, err);
  free(obs);
  if (rc != IM_OK) return rc;
  *out = st;
  return IM_OK;
}

im_status im_bt_compute(const int8_t *hits, const double *pnl, const double *margin, size_t n,
                        double p, const im_bt_opts *opts, im_bt_stats *out, im_err *err) {
  const im_status rc = check_inputs(hits, pnl, margin, n, p, opts, out, err);
  if (rc != IM_OK) return rc;
  const im_bt_opts o = opts ? *opts : im_bt_opts_default();
  const series s = {hits, pnl, margin, 0, 1, n};
  im_bt_stats st;
  const im_status brc = battery(&s, p, &o, &st, err);
  if (brc != IM_OK) return brc;
  procyclicality(hits, margin, n, &st);
  *out = st;
  return IM_OK;
}

im_status im_bt_stats_compute(const int8_t *hits, size_t n, double p, im_bt_stats *out,
                              im_err *err) {
  return im_bt_compute(hits, NULL, NULL, n, p, NULL, out, err);
}

im_status im_bt_subsample(const int8_t *hits, const double *pnl, const double *margin, size_t n,
                          size_t h, size_t k, double p, const im_bt_opts *opts, im_bt_stats *out,
                          im_err *err) {
  if (h < 1 || k >= h)
    return im_err_set(err, IM_EINVAL,
                      "backtest: sub-sample offset k = %zu is not in 0..h-1 for horizon h = %zu",
                      k, h);
  const im_status rc = check_inputs(hits, pnl, margin, n, p, opts, out, err);
  if (rc != IM_OK) return rc;
  const im_bt_opts o = opts ? *opts : im_bt_opts_default();
  const series s = {hits, pnl, margin, k, h, k < n ? (n - k - 1) / h + 1 : 0};
  im_bt_stats st;
  const im_status brc = battery(&s, p, &o, &st, err);
  if (brc != IM_OK) return brc;
  procyclicality(hits, margin, n, &st);
  *out = st;
  return IM_OK;
}

/* ---- overlapping h-day exceedance counts by simulation ----------------- */

/* Two N(0,1) moves from one Philox4x32-10 block: two 53-bit uniforms in
 * (0, 1) (never 0, so the logarithm is finite), then Box-Muller. */
static void philox_normal_pair(uint64_t seed, uint64_t sim, uint32_t block, double *z0,
                               double *z1) {
  const philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  const philox4x32_ctr_t ctr = {
      {block, IM_BT_RNG_PURPOSE_OVERLAP, (uint32_t)sim, (uint32_t)(sim >> 32)}};
  const philox4x32_ctr_t r = philox4x32(ctr, key);
  const uint64_t a = ((uint64_t)r.v[0] << 21) | (r.v[1] >> 11);
  const uint64_t b = ((uint64_t)r.v[2] << 21) | (r.v[3] >> 11);
  const double u1 = ((double)a + 0.5) * 0x1p-53, u2 = ((double)b + 0.5) * 0x1p-53;
  const double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586476925286766559 * u2;
  *z0 = rad * cos(ang);
  *z1 = rad * sin(ang);
}

#define OVERLAP_MAX_SIMS 1000000000000ull
#define OVERLAP_MAX_MOVES (1ull << 33)

/* counts[j][k] = simulations with exactly k exceedances among their first
 * n_obs[j] overlapping sums (k = 0..n_obs[j]; row j has n_max + 1 entries).
 * One path of n_max sums serves every length: the sums are stationary, so a
 * prefix of length n has the distribution of any n consecutive sums. */
static im_status overlap_counts(const size_t *n_obs, size_t m, size_t h, double p, uint64_t seed,
                                size_t n_sims, uint64_t *counts, im_err *err) {
  size_t n_max = 0;
  for (size_t j = 0; j < m; j++)
    if (n_obs[j] > n_max) n_max = n_obs[j];
  const size_t len = n_max + h - 1;
  double *prefix = malloc((len + 2) * sizeof *prefix);
  size_t *hits = malloc((n_max + 1) * sizeof *hits);
  if (!prefix || !hits) {
    free(prefix);
    free(hits);
    return im_err_set(err, IM_ENOMEM, "backtest: no memory for %zu simulated moves", len);
  }
  const double cut = sqrt((double)h) * gsl_cdf_ugaussian_Qinv(p);
  memset(counts, 0, m * (n_max + 1) * sizeof *counts);
  for (size_t sim = 0; sim < n_sims; sim++) {
    /* prefix[j] = X_0 + ... + X_{j-1}; S_t = prefix[t+h] - prefix[t]. */
    prefix[0] = 0.0;
    for (size_t j = 0; j < len; j += 2) {
      double z0, z1;
      philox_normal_pair(seed, (uint64_t)sim, (uint32_t)(j / 2), &z0, &z1);
      prefix[j + 1] = prefix[j] + z0;
      if (j + 1 < len) prefix[j + 2] = prefix[j + 1] + z1;
    }
    hits[0] = 0; /* hits[t] = exceedances among the first t sums */
    for (size_t t = 0; t < n_max; t++) hits[t + 1] = hits[t] + (prefix[t + h] - prefix[t] > cut);
    for (size_t j = 0; j < m; j++) counts[j * (n_max + 1) + hits[n_obs[j]]]++;
  }
  free(prefix);
  free(hits);
  return IM_OK;
}

static im_status overlap_check(size_t n_obs, size_t h, double p, size_t n_sims, im_err *err) {
  if (n_obs < 1) return im_err_set(err, IM_EINVAL, "backtest: overlap bounds need n_obs >= 1");
  if (h < 1) return im_err_set(err, IM_EINVAL, "backtest: overlap bounds need h >= 1");
  if (!p_ok(p))
    return im_err_set(err, IM_EINVAL,
                      "backtest: exceedance probability p = %g is not strictly inside (0, 1)", p);
  if (n_obs > OVERLAP_MAX_MOVES || h > OVERLAP_MAX_MOVES ||
      (unsigned long long)n_obs + h - 1 > OVERLAP_MAX_MOVES)
    return im_err_set(err, IM_EINVAL,
                      "backtest: n_obs + h - 1 = %zu + %zu - 1 moves exceed the limit of 2^33",
                      n_obs, h);
  if (n_sims < 1 || (unsigned long long)n_sims > OVERLAP_MAX_SIMS)
    return im_err_set(err, IM_EINVAL, "backtest: n_sims = %zu is not in 1..1e12", n_sims);
  return IM_OK;
}

im_status im_bt_overlap_cdf(size_t n_obs, size_t h, double p, uint64_t seed, size_t n_sims,
                            double *cdf, im_err *err) {
  im_status rc = overlap_check(n_obs, h, p, n_sims, err);
  if (rc != IM_OK) return rc;
  if (!cdf) return im_err_set(err, IM_EINVAL, "backtest: cdf output pointer is NULL");
  uint64_t *counts = malloc((n_obs + 1) * sizeof *counts);
  if (!counts)
    return im_err_set(err, IM_ENOMEM, "backtest: no memory for %zu count bins", n_obs + 1);
  rc = overlap_counts(&n_obs, 1, h, p, seed, n_sims, counts, err);
  if (rc == IM_OK) {
    uint64_t cum = 0;
    for (size_t k = 0; k <= n_obs; k++) {
      cum += counts[k];
      cdf[k] = (double)cum / (double)n_sims;
    }
  }
  free(counts);
  return rc;
}

im_status im_bt_overlap_bounds(size_t n_obs, size_t h, double p, uint64_t seed, size_t n_sims,
                               int64_t *green_max, int64_t *yellow_max, im_err *err) {
  return im_bt_overlap_bounds_multi(&n_obs, 1, h, p, seed, n_sims, green_max, yellow_max, err);
}

im_status im_bt_overlap_bounds_multi(const size_t *n_obs, size_t m, size_t h, double p,
                                     uint64_t seed, size_t n_sims, int64_t *green_max,
                                     int64_t *yellow_max, im_err *err) {
  if (m == 0) return IM_OK;
  if (!n_obs || !green_max || !yellow_max)
    return im_err_set(err, IM_EINVAL, "backtest: overlap bounds: NULL pointer");
  size_t n_max = 0;
  for (size_t j = 0; j < m; j++) {
    im_status rc = overlap_check(n_obs[j], h, p, n_sims, err);
    if (rc != IM_OK) return rc;
    if (n_obs[j] > n_max) n_max = n_obs[j];
  }
  uint64_t *counts = malloc(m * (n_max + 1) * sizeof *counts);
  if (!counts)
    return im_err_set(err, IM_ENOMEM, "backtest: no memory for %zu x %zu count bins", m, n_max + 1);
  im_status rc = overlap_counts(n_obs, m, h, p, seed, n_sims, counts, err);
  for (size_t j = 0; j < m && rc == IM_OK; j++) {
    /* F(k) <= 0.95 <=> 100 cum <= 95 S and F(k) <= 0.9999 <=> 10000 cum <=
     * 9999 S, exactly in integers (S <= 1e12, so no overflow). */
    const uint64_t S = (uint64_t)n_sims, *c = counts + j * (n_max + 1);
    int64_t g = -1, y = -1;
    uint64_t cum = 0;
    for (size_t k = 0; k <= n_obs[j]; k++) {
      cum += c[k];
      if (100 * cum <= 95 * S) g = (int64_t)k;
      if (10000 * cum <= 9999 * S) y = (int64_t)k;
    }
    green_max[j] = g;
    yellow_max[j] = y;
  }
  free(counts);
  return rc;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

im_status im_bt_fill_overlap(im_bt_stats *rows, size_t n, size_t h, double p, uint64_t seed,
                             size_t n_sims, im_err *err) {
  if (h <= 1) {
    for (size_t i = 0; i < n; i++) rows[i].tl_zone_overlap = rows[i].tl_zone;
    return IM_OK;
  }
  size_t *len = malloc((n ? n : 1) * sizeof *len), m = 0;
  if (!len) return im_err_set(err, IM_ENOMEM, "backtest: out of memory");
  for (size_t i = 0; i < n; i++)
    if (rows[i].n_obs > 0) len[m++] = (size_t)rows[i].n_obs;
  qsort(len, m, sizeof *len, cmp_size);
  size_t d = 0;
  for (size_t i = 0; i < m; i++)
    if (d == 0 || len[i] != len[d - 1]) len[d++] = len[i];
  int64_t *g = malloc((d ? d : 1) * sizeof *g), *y = malloc((d ? d : 1) * sizeof *y);
  im_status rc = g && y ? im_bt_overlap_bounds_multi(len, d, h, p, seed, n_sims, g, y, err)
                        : im_err_set(err, IM_ENOMEM, "backtest: out of memory");
  for (size_t i = 0; i < n && rc == IM_OK; i++) {
    if (rows[i].n_obs <= 0) continue;
    size_t key = (size_t)rows[i].n_obs;
    size_t *at = bsearch(&key, len, d, sizeof *len, cmp_size);
    size_t j = (size_t)(at - len);
    int64_t x = rows[i].n_exceed;
    rows[i].overlap_green_max = g[j];
    rows[i].overlap_yellow_max = y[j];
    rows[i].tl_zone_overlap = (int8_t)(x <= g[j] ? IM_ZONE_GREEN : x <= y[j] ? IM_ZONE_YELLOW : IM_ZONE_RED);
  }
  free(len);
  free(g);
  free(y);
  return rc;
}
