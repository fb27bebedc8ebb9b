#include "options.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multifit.h>
#include <math.h>

/* Printed by `imvar smile fit data/market/btc_options_deribit_chain_snapshot_
 * 2024-03-12.csv` (287 two-sided-quoted calls of the 9 expiries at least 2
 * days out, |x| <= 2; rms error of iv/ATM 0.074): README, "Options". */
const im_smile im_smile_deribit = {.a = 0.047253, .b = 0.096269};
const im_smile im_smile_flat = {.a = 0, .b = 0};

double im_black76(double f, double k, double sigma, double tau, int call) {
  if (!(tau > 0) || !(sigma > 0)) return call ? fmax(f - k, 0) : fmax(k - f, 0);
  const double sd = sigma * sqrt(tau), d1 = log(f / k) / sd + 0.5 * sd, d2 = d1 - sd;
  return call ? f * gsl_cdf_ugaussian_P(d1) - k * gsl_cdf_ugaussian_P(d2)
              : k * gsl_cdf_ugaussian_P(-d2) - f * gsl_cdf_ugaussian_P(-d1);
}

void im_black76_greeks(double f, double k, double sigma, double tau, int call, double *delta,
                       double *gamma, double *vega) {
  if (!(tau > 0) || !(sigma > 0)) {
    *delta = call ? (f > k ? 1 : 0) : (f < k ? -1 : 0);
    *gamma = *vega = 0;
    return;
  }
  const double sd = sigma * sqrt(tau), d1 = log(f / k) / sd + 0.5 * sd;
  const double pdf = 0.39894228040143268 * exp(-0.5 * d1 * d1); /* phi(d1) */
  *delta = call ? gsl_cdf_ugaussian_P(d1) : gsl_cdf_ugaussian_P(d1) - 1;
  *gamma = pdf / (f * sd);
  *vega = f * pdf * sqrt(tau);
}

double im_smile_factor(const im_smile *s, double k_over_f, double tau) {
  if (!(tau > 0)) return 1;
  const double x = log(k_over_f) / sqrt(tau);
  return fmax(IM_SMILE_FLOOR, 1 + s->a * x + s->b * x * x);
}

im_status im_smile_fit(const double *x, const double *ratio, size_t n, im_smile *out, double *rms,
                       im_err *err) {
  if (n < 3) return im_err_set(err, IM_EINVAL, "smile fit: %zu points; at least 3 needed", n);
  gsl_matrix *X = gsl_matrix_alloc(n, 2);
  gsl_vector *y = gsl_vector_alloc(n), *c = gsl_vector_alloc(2);
  gsl_matrix *cov = gsl_matrix_alloc(2, 2);
  gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, 2);
  im_status st = IM_OK;
  if (!X || !y || !c || !cov || !w) {
    st = im_err_set(err, IM_ENOMEM, "smile fit: out of memory");
  } else {
    for (size_t i = 0; i < n; i++) {
      gsl_matrix_set(X, i, 0, x[i]);
      gsl_matrix_set(X, i, 1, x[i] * x[i]);
      gsl_vector_set(y, i, ratio[i] - 1);
    }
    double chisq;
    if (gsl_multifit_linear(X, y, c, cov, &chisq, w) != 0) {
      st = im_err_set(err, IM_EINVAL, "smile fit: the least-squares problem is singular");
    } else {
      out->a = gsl_vector_get(c, 0);
      out->b = gsl_vector_get(c, 1);
      *rms = sqrt(chisq / (double)n);
    }
  }
  if (w) gsl_multifit_linear_free(w);
  gsl_matrix_free(X);
  gsl_vector_free(y);
  gsl_vector_free(c);
  gsl_matrix_free(cov);
  return st;
}

void im_smile_points(const int *group, const double *tau, const double *f, const double *k,
                     const double *iv, size_t n, double *x, double *ratio, size_t *m) {
  *m = 0;
  for (size_t i = 0; i < n; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = group[j] == group[i];
    if (seen) continue; /* each group once, at its first row */
    /* The strikes just below and just above the forward. */
    long lo = -1, hi = -1;
    for (size_t j = i; j < n; j++) {
      if (group[j] != group[i]) continue;
      if (k[j] <= f[i] && (lo < 0 || k[j] > k[lo])) lo = (long)j;
      if (k[j] >= f[i] && (hi < 0 || k[j] < k[hi])) hi = (long)j;
    }
    if (lo < 0 || hi < 0) continue;
    double atm = iv[lo];
    if (k[hi] > k[lo]) {
      const double wgt = log(f[i] / k[lo]) / log(k[hi] / k[lo]);
      atm = (1 - wgt) * iv[lo] + wgt * iv[hi];
    }
    if (!(atm > 0)) continue;
    for (size_t j = i; j < n; j++) {
      if (group[j] != group[i]) continue;
      x[*m] = log(k[j] / f[i]) / sqrt(tau[i]);
      ratio[*m] = iv[j] / atm;
      (*m)++;
    }
  }
}
