#include "simp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "estest.h"
#include "rng.h"

/* ---- parametric families ------------------------------------------------ */

im_status im_es_dist_std(const im_es_dist *d, double a, double *q, double *e, im_err *err) {
  if (!(a > 0.0 && a < 1.0))
    return im_err_set(err, IM_EINVAL, "simp: level a = %g not in (0, 1)", a);
  if (d->kind == IM_ES_DIST_NORMAL) {
    *q = gsl_cdf_ugaussian_Qinv(a);
    *e = gsl_ran_ugaussian_pdf(*q) / a;
    return IM_OK;
  }
  if (d->kind != IM_ES_DIST_T || !(d->nu > 1.0) || !isfinite(d->nu))
    return im_err_set(err, IM_EINVAL, "simp: bad distribution (Student-t needs nu > 1)");
  *q = gsl_cdf_tdist_Qinv(a, d->nu);
  *e = gsl_ran_tdist_pdf(*q, d->nu) * (d->nu + *q * *q) / ((d->nu - 1.0) * a);
  return IM_OK;
}

double im_es_dist_tail(const im_es_dist *d, double a) {
  double q = NAN, e = NAN;
  if (im_es_dist_std(d, a, &q, &e, NULL) != IM_OK) return NAN;
  return d->kind == IM_ES_DIST_NORMAL ? gsl_cdf_ugaussian_Q(e) : gsl_cdf_tdist_Q(e, d->nu);
}

im_status im_simp_param_init(im_simp_param_ctx *c, const im_es_dist *d, double a,
                             const double *var, const double *es, size_t n, im_err *err) {
  c->dist = *d;
  c->var = var;
  c->es = es;
  for (size_t t = 0; t < n; t++)
    if (!isnan(var[t]) && !isnan(es[t]) && !(es[t] > var[t]))
      return im_err_set(err, IM_EINVAL, "simp: day %zu: ES %g <= VaR %g pins no distribution", t,
                        es[t], var[t]);
  return im_es_dist_std(d, a, &c->q, &c->e, err);
}

double im_simp_draw_param(const void *ctx, size_t t, gsl_rng *r) {
  const im_simp_param_ctx *c = ctx;
  const double sigma = (c->es[t] - c->var[t]) / (c->e - c->q), mu = c->var[t] - sigma * c->q;
  const double x = c->dist.kind == IM_ES_DIST_NORMAL ? gsl_ran_gaussian_ziggurat(r, 1.0)
                                                      : gsl_ran_tdist(r, c->dist.nu);
  return mu + sigma * x;
}

double im_simp_draw_scen(const void *ctx, size_t t, gsl_rng *r) {
  const im_simp_scen_ctx *c = ctx;
  return -c->scen_pnl[t * c->w + gsl_rng_uniform_int(r, c->w)];
}

/* ---- Z1/Z2 by simulation --------------------------------------------------- */

static int observed(const double *loss, const double *var, const double *es, size_t t) {
  return !isnan(loss[t]) && !isnan(var[t]) && !isnan(es[t]);
}

/* Z1 and Z2 of simulation i on the observed days of the data. */
static void simulate_z(const double *loss, const double *var, const double *es,
                       const uint32_t *date, size_t n, double a, im_simp_draw_fn draw,
                       const void *ctx, uint64_t seed, uint32_t i, gsl_rng *r, im_es_stats *z) {
  im_es_as_acc acc = {0};
  for (size_t t = 0; t < n; t++) {
    if (!observed(loss, var, es, t)) continue;
    im_rng_stream(r, seed, IM_SIMP_PURPOSE_Z, date[t], i);
    im_es_as_add(&acc, a, draw(ctx, t, r), var[t], es[t]);
  }
  im_es_as_finish(&acc, z);
}

im_status im_simp_z(const double *loss, const double *var, const double *es,
                    const uint32_t *date, size_t n, double a, im_simp_draw_fn draw,
                    const void *ctx, uint64_t seed, size_t m_sims, double *p_z1, double *p_z2,
                    im_err *err) {
  if (!(a > 0.0 && a < 1.0) || !draw || m_sims < 1 || m_sims > UINT32_MAX || !p_z1 || !p_z2 ||
      (n > 0 && (!loss || !var || !es || !date)))
    return im_err_set(err, IM_EINVAL, "simp: bad arguments to im_simp_z");
  for (size_t t = 0; t < n; t++)
    if (observed(loss, var, es, t) && !(es[t] > 0.0))
      return im_err_set(err, IM_EINVAL, "simp: day %zu: ES %g must be > 0", t, es[t]);
  im_es_stats obs;
  im_es_as(loss, var, es, n, a, &obs);
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  if (!r) return im_err_set(err, IM_ENOMEM, "simp: out of memory");
  size_t le1 = 0, le2 = 0;
  for (size_t i = 0; i < m_sims; i++) {
    im_es_stats z;
    simulate_z(loss, var, es, date, n, a, draw, ctx, seed, (uint32_t)i, r, &z);
    le1 += z.z1 <= obs.z1; /* NaN (no failure) never counts */
    le2 += z.z2 <= obs.z2;
  }
  gsl_rng_free(r);
  const double m1 = (double)m_sims + 1.0;
  *p_z1 = isnan(obs.z1) ? NAN : (1.0 + (double)le1) / m1;
  *p_z2 = isnan(obs.z2) ? NAN : (1.0 + (double)le2) / m1;
  return IM_OK;
}

/* ---- null tables ----------------------------------------------------------- */

void im_simp_null_free(im_simp_null *nt) {
  free(nt->stat);
  free(nt->tie);
  nt->stat = nt->tie = NULL;
}

static uint64_t bits_of(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/* Fills sample with n draws from r: hits (int8_t, uniform < a) or PITs. */
typedef void (*sample_fn)(gsl_rng *r, double a, size_t n, void *sample);

static void sample_hits(gsl_rng *r, double a, size_t n, void *sample) {
  int8_t *h = sample;
  for (size_t t = 0; t < n; t++) h[t] = gsl_rng_uniform(r) < a;
}

static void sample_pits(gsl_rng *r, double a, size_t n, void *sample) {
  (void)a;
  double *u = sample;
  for (size_t t = 0; t < n; t++) u[t] = gsl_rng_uniform(r);
}

static im_status build_null(im_simp_null *nt, size_t n, double a, uint32_t test_id,
                            size_t m_sims, size_t n_stats, im_simp_stat_fn fn, void *ctx,
                            sample_fn draw, size_t elem, im_err *err) {
  *nt = (im_simp_null){.n = n, .m_sims = m_sims, .n_stats = n_stats, .a = a, .test_id = test_id};
  if (n < 1 || n > UINT32_MAX || m_sims < 1 || m_sims > UINT32_MAX || n_stats < 1 || !fn ||
      !(a > 0.0 && a < 1.0))
    return im_err_set(err, IM_EINVAL, "simp: bad null-table arguments (n %zu, M %zu, a %g)", n,
                      m_sims, a);
  nt->stat = malloc(n_stats * m_sims * sizeof *nt->stat);
  nt->tie = malloc(m_sims * sizeof *nt->tie);
  void *sample = malloc(n * elem);
  double *stats = malloc(n_stats * sizeof *stats);
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  im_status st = IM_OK;
  if (!nt->stat || !nt->tie || !sample || !stats || !r)
    st = im_err_set(err, IM_ENOMEM, "simp: out of memory for a null table of %zu sims", m_sims);
  for (size_t i = 0; st == IM_OK && i < m_sims; i++) {
    im_rng_stream(r, bits_of(a), test_id, (uint32_t)n, (uint32_t)i);
    nt->tie[i] = gsl_rng_uniform(r);
    draw(r, a, n, sample);
    st = fn(sample, n, a, ctx, stats, err);
    for (size_t k = 0; st == IM_OK && k < n_stats; k++) nt->stat[k * m_sims + i] = stats[k];
  }
  if (r) gsl_rng_free(r);
  free(stats);
  free(sample);
  return st;
}

im_status im_simp_null_hits(im_simp_null *nt, size_t n, double a, uint32_t test_id, size_t m_sims,
                            size_t n_stats, im_simp_stat_fn fn, void *ctx, im_err *err) {
  return build_null(nt, n, a, test_id, m_sims, n_stats, fn, ctx, sample_hits, sizeof(int8_t),
                    err);
}

im_status im_simp_null_pit(im_simp_null *nt, size_t n, double a, uint32_t test_id, size_t m_sims,
                           size_t n_stats, im_simp_stat_fn fn, void *ctx, im_err *err) {
  return build_null(nt, n, a, test_id, m_sims, n_stats, fn, ctx, sample_pits, sizeof(double),
                    err);
}

double im_simp_pvalue(const im_simp_null *nt, size_t k, double observed, double tie_u) {
  if (isnan(observed) || k >= nt->n_stats) return NAN;
  const double *s = nt->stat + k * nt->m_sims;
  size_t ge = 0;
  for (size_t i = 0; i < nt->m_sims; i++)
    ge += s[i] > observed || (s[i] == observed && nt->tie[i] >= tie_u);
  return (1.0 + (double)ge) / ((double)nt->m_sims + 1.0);
}

double im_simp_tie_u(const void *bytes, size_t len) {
  const unsigned char *b = bytes;
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 1099511628211ull;
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  if (!r) return NAN;
  im_rng_stream(r, h, IM_SIMP_PURPOSE_TIE, 0, 0);
  const double u = gsl_rng_uniform(r);
  gsl_rng_free(r);
  return u;
}

/* ---- the VaR battery --------------------------------------------------------- */

/* The battery's statistics: minus the asymptotic p-values (NaN stays NaN). */
static void bt_stats(const im_bt_stats *b, double *s) {
  const double p[IM_SIMP_BT_N] = {b->p_uc,   b->p_ind, b->p_cc, b->p_tuff, b->p_tbfi,
                                  b->p_tbf, b->dur_p, b->dq_p, b->bin_p};
  for (size_t k = 0; k < IM_SIMP_BT_N; k++) s[k] = -p[k];
}

static im_status bt_stat_fn(const void *sample, size_t n, double a, void *ctx, double *stats,
                            im_err *err) {
  im_bt_stats b;
  im_status st = im_bt_compute(sample, NULL, NULL, n, a, ctx, &b, err);
  if (st == IM_OK) bt_stats(&b, stats);
  return st;
}

im_status im_simp_bt_null(im_simp_null *nt, size_t n, double a, size_t m_sims,
                          const im_bt_opts *opts, im_err *err) {
  im_bt_opts o = opts ? *opts : im_bt_opts_default();
  return im_simp_null_hits(nt, n, a, IM_SIMP_TEST_BATTERY, m_sims, IM_SIMP_BT_N, bt_stat_fn, &o,
                           err);
}

im_status im_simp_bt_pvalues(const im_simp_null *nt, const int8_t *hits, size_t n_days,
                             const im_bt_opts *opts, im_simp_bt_p *out, im_err *err) {
  im_bt_stats b;
  im_status st = im_bt_compute(hits, NULL, NULL, n_days, nt->a, opts, &b, err);
  if (st != IM_OK) return st;
  if ((size_t)b.n_obs != nt->n || nt->n_stats != IM_SIMP_BT_N)
    return im_err_set(err, IM_EINVAL, "simp: %lld observed days, null table for %zu",
                      (long long)b.n_obs, nt->n);
  double s[IM_SIMP_BT_N], p[IM_SIMP_BT_N];
  bt_stats(&b, s);
  const double tie = im_simp_tie_u(hits, n_days);
  for (size_t k = 0; k < IM_SIMP_BT_N; k++) p[k] = im_simp_pvalue(nt, k, s[k], tie);
  *out = (im_simp_bt_p){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]};
  return IM_OK;
}

/* ---- Du-Escanciano ------------------------------------------------------------ */

static void de_stats(const im_es_stats *s, double *out) {
  out[0] = fabs(s->de_u);
  out[1] = s->de_c;
}

static im_status de_stat_fn(const void *sample, size_t n, double a, void *ctx, double *stats,
                            im_err *err) {
  (void)err;
  im_es_stats s;
  im_es_de(sample, n, a, *(const int64_t *)ctx, &s);
  de_stats(&s, stats);
  return IM_OK;
}

im_status im_simp_de_null(im_simp_null *nt, size_t n, double a, int64_t lags, size_t m_sims,
                          im_err *err) {
  if (lags < 1 || lags > IM_ES_DE_LAGS_MAX) {
    *nt = (im_simp_null){0};
    return im_err_set(err, IM_EINVAL, "simp: lags %lld not in 1..%d", (long long)lags,
                      IM_ES_DE_LAGS_MAX);
  }
  return im_simp_null_pit(nt, n, a, IM_SIMP_TEST_DE + (uint32_t)lags, m_sims, 2, de_stat_fn,
                          &lags, err);
}

im_status im_simp_de_pvalues(const im_simp_null *nt, const double *pit, size_t n_days,
                             int64_t lags, double *p_u, double *p_c, im_err *err) {
  im_es_stats s;
  im_es_de(pit, n_days, nt->a, lags, &s);
  if ((size_t)s.de_n != nt->n || nt->n_stats != 2 || nt->test_id != IM_SIMP_TEST_DE + (uint32_t)lags)
    return im_err_set(err, IM_EINVAL, "simp: %lld observed PITs / lags %lld do not match the table",
                      (long long)s.de_n, (long long)lags);
  double st[2];
  de_stats(&s, st);
  const double tie = im_simp_tie_u(pit, n_days * sizeof *pit);
  *p_u = im_simp_pvalue(nt, 0, st[0], tie);
  *p_c = im_simp_pvalue(nt, 1, st[1], tie);
  return IM_OK;
}
