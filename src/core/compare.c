#include "compare.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "rng.h"

/* floor(N^(1/3)) in integers: cbrt of a perfect cube may round below it. */
static size_t icbrt(size_t n) {
  size_t l = (size_t)cbrt((double)n);
  while ((l + 1) * (l + 1) * (l + 1) <= n) l++;
  while (l > 0 && l * l * l > n) l--;
  return l;
}

/* ---- Diebold-Mariano ------------------------------------------------------ */

static double newey_west(const double *x, size_t n, double mean, size_t lags) {
  double lrv = 0.0;
  for (size_t k = 0; k <= lags; k++) {
    double g = 0.0;
    for (size_t t = k; t < n; t++) g += (x[t] - mean) * (x[t - k] - mean);
    g /= (double)n;
    lrv += k == 0 ? g : 2.0 * (1.0 - (double)k / (double)(lags + 1)) * g;
  }
  return lrv;
}

im_status im_cmp_dm(const double *d, size_t n, size_t h, im_dm_result *out, im_err *err) {
  if (!out || h < 1 || (n > 0 && !d))
    return im_err_set(err, IM_EINVAL, "compare: bad arguments to im_cmp_dm");
  double *x = malloc((n ? n : 1) * sizeof *x);
  if (!x) return im_err_set(err, IM_ENOMEM, "compare: out of memory (%zu days)", n);
  size_t m = 0;
  double sum = 0.0;
  for (size_t t = 0; t < n; t++)
    if (!isnan(d[t])) sum += x[m++] = d[t];
  im_dm_result r = {.n = (int64_t)m, .mean = NAN, .lrv = NAN, .dm = NAN, .dm_hln = NAN, .p = NAN};
  if (m >= 2) {
    const double N = (double)m, hh = (double)h;
    size_t lags = icbrt(m) > h - 1 ? icbrt(m) : h - 1;
    if (lags > m - 1) lags = m - 1;
    r.lags = (int64_t)lags;
    r.mean = sum / N;
    r.lrv = newey_west(x, m, r.mean, lags);
    const double hln = (N + 1.0 - 2.0 * hh + hh * (hh - 1.0) / N) / N;
    if (r.lrv > 0.0 && hln > 0.0) {
      r.dm = r.mean / sqrt(r.lrv / N);
      r.dm_hln = r.dm * sqrt(hln);
      r.p = 2.0 * gsl_cdf_tdist_Q(fabs(r.dm_hln), N - 1.0);
    }
  }
  free(x);
  *out = r;
  return IM_OK;
}

/* ---- Model Confidence Set --------------------------------------------------- */

im_mcs_opts im_mcs_opts_default(void) {
  return (im_mcs_opts){.alpha = IM_CMP_MCS_ALPHA_DEFAULT, .block = 0,
                       .n_boot = IM_CMP_MCS_BOOT_DEFAULT, .seed = 1};
}

/* Model means over the days idx[0..T-1] into mean[0..m-1]. */
static void model_means(const double *loss, size_t m, size_t T, const size_t *idx, double *mean) {
  for (size_t i = 0; i < m; i++) {
    double s = 0.0;
    for (size_t t = 0; t < T; t++) s += loss[i * T + (idx ? idx[t] : t)];
    mean[i] = s / (double)T;
  }
}

/* Moving-block day indices of replication b. */
static void block_indices(gsl_rng *r, uint64_t seed, size_t b, size_t T, size_t l, size_t *idx) {
  im_rng_stream(r, seed, IM_CMP_PURPOSE_MCS, (uint32_t)b, 0);
  for (size_t t = 0; t < T;) {
    const size_t s = gsl_rng_uniform_int(r, T - l + 1);
    for (size_t j = 0; j < l && t < T; j++) idx[t++] = s + j;
  }
}

/* (1/k) sum_{j alive} (v_i - v_j): exactly 0 for identical models. */
static double dev_from_set(const double *v, const int8_t *alive, size_t m, size_t k, size_t i) {
  double s = 0.0;
  for (size_t j = 0; j < m; j++)
    if (alive[j]) s += v[i] - v[j];
  return s / (double)k;
}

static double tstat(double num, double var) {
  if (var > 0.0) return num / sqrt(var);
  return num > 0.0 ? INFINITY : (num < 0.0 ? -INFINITY : 0.0);
}

/* One elimination step on the k alive models: the T_max p-value and the
 * model to remove. dbar[] and var[] are scratch of m doubles. */
static double mcs_step(const double *lbar, const double *boot, size_t m, size_t B,
                       const int8_t *alive, size_t k, double *dbar, double *var, size_t *worst) {
  double tmax = -INFINITY;
  for (size_t i = 0; i < m; i++) {
    if (!alive[i]) continue;
    dbar[i] = dev_from_set(lbar, alive, m, k, i);
    double v = 0.0;
    for (size_t b = 0; b < B; b++) {
      const double e = dev_from_set(boot + b * m, alive, m, k, i) - dbar[i];
      v += e * e;
    }
    var[i] = v / (double)B;
    const double ti = tstat(dbar[i], var[i]);
    if (ti > tmax) tmax = ti, *worst = i;
  }
  size_t ge = 0;
  for (size_t b = 0; b < B; b++) {
    double tb = -INFINITY;
    for (size_t i = 0; i < m; i++) {
      if (!alive[i]) continue;
      const double e = dev_from_set(boot + b * m, alive, m, k, i) - dbar[i];
      const double ti = var[i] > 0.0 ? e / sqrt(var[i]) : 0.0;
      if (ti > tb) tb = ti;
    }
    ge += tb >= tmax;
  }
  return (double)ge / (double)B;
}

static im_status mcs_check(const double *loss, size_t m, size_t T, const im_mcs_opts *o,
                           im_err *err) {
  if (m < 1 || T < 2 || o->n_boot < 1 || o->block > T || o->n_boot > UINT32_MAX ||
      !(o->alpha > 0.0 && o->alpha < 1.0))
    return im_err_set(err, IM_EINVAL, "compare: bad MCS arguments (m %zu, T %zu)", m, T);
  for (size_t i = 0; i < m * T; i++)
    if (!isfinite(loss[i]))
      return im_err_set(err, IM_EINVAL, "compare: model %zu day %zu: loss not finite", i / T,
                        i % T);
  return IM_OK;
}

im_status im_cmp_mcs(const double *loss, size_t m, size_t T, const im_mcs_opts *opts,
                     double *p_mcs, int8_t *in_set, im_err *err) {
  const im_mcs_opts o = opts ? *opts : im_mcs_opts_default();
  im_status st = mcs_check(loss, m, T, &o, err);
  if (st != IM_OK) return st;
  const size_t l = o.block ? o.block : (icbrt(T) ? icbrt(T) : 1), B = o.n_boot;
  double *boot = malloc(B * m * sizeof *boot), *scratch = malloc(3 * m * sizeof *scratch);
  size_t *idx = malloc(T * sizeof *idx);
  int8_t *alive = malloc(m);
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  if (!boot || !scratch || !idx || !alive || !r) {
    st = im_err_set(err, IM_ENOMEM, "compare: out of memory for %zu bootstraps", B);
  } else {
    double *lbar = scratch, *dbar = scratch + m, *var = scratch + 2 * m;
    model_means(loss, m, T, NULL, lbar);
    for (size_t b = 0; b < B; b++) {
      block_indices(r, o.seed, b, T, l, idx);
      model_means(loss, m, T, idx, boot + b * m);
    }
    for (size_t i = 0; i < m; i++) alive[i] = 1;
    double p_run = 0.0;
    for (size_t k = m; k > 1; k--) {
      size_t worst = 0;
      const double p = mcs_step(lbar, boot, m, B, alive, k, dbar, var, &worst);
      p_run = p > p_run ? p : p_run;
      p_mcs[worst] = p_run;
      alive[worst] = 0;
    }
    for (size_t i = 0; i < m; i++) {
      if (alive[i]) p_mcs[i] = 1.0;
      in_set[i] = p_mcs[i] >= o.alpha;
    }
  }
  if (r) gsl_rng_free(r);
  free(alive);
  free(idx);
  free(scratch);
  free(boot);
  return st;
}
