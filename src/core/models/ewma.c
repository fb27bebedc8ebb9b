/* EWMA parametric (kinds "ewma_normal", "ewma_t", RiskMetrics): the VaR or
 * ES of a normal or Student-t P&L with the EWMA covariance of daily
 * log-moves, delta-gamma-vega for books with options (model.c and model.h
 * have the definitions). */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>

#include "kind.h"
#include "risk.h"

/* The VaR or ES of a unit-variance normal P&L at the level. */
static double q_normal(const im_model *m, const im_level *l) {
  (void)m;
  const double a = l->confidence, z = gsl_cdf_ugaussian_Pinv(a);
  return l->measure == IM_MEASURE_ES ? gsl_ran_ugaussian_pdf(z) / (1 - a) : z;
}

/* The same of a Student-t scaled to unit variance: X = T sqrt((nu-2)/nu). */
static double q_t(const im_model *m, const im_level *l) {
  const double a = l->confidence, v = m->nu, tq = gsl_cdf_tdist_Pinv(a, v);
  const double sc = sqrt((v - 2) / v);
  return l->measure == IM_MEASURE_ES
             ? sc * gsl_ran_tdist_pdf(tq, v) / (1 - a) * (v + tq * tq) / (v - 1)
             : sc * tq;
}

/* E' Sigma E of portfolio p at day t. */
static double ewma_variance(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                            size_t k0) {
  const double *cov = im_ewma_cov(s, w, t, s->sig_of[p], k0);
  const size_t nf = s->nf;
  double var = 0;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++) {
    const size_t a = s->lin_und[i];
    const double ea = im_lin_exposure(s, i, t);
    for (size_t j = s->lin_start[p]; j < s->lin_start[p + 1]; j++) {
      const size_t b = s->lin_und[j];
      var += ea * im_lin_exposure(s, j, t) * (a <= b ? cov[a * nf + b] : cov[b * nf + a]);
    }
  }
  return var > 0 ? var : 0;
}

/* The quadratic P&L of p at t (model.h): b[pos[f]] the first-order
 * sensitivities, g the spot gammas and the ageing theta. */
static double dg_terms(const im_model_state *s, size_t p, size_t t, const size_t *pos, double *b,
                       double *g) {
  const size_t nu = s->mkt->n_und, nd = s->mkt->n_days;
  double theta = 0;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++)
    b[pos[s->lin_und[i]]] += im_lin_exposure(s, i, t);
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    const size_t u = in->und;
    const double q = s->opt_qty[j], s0 = s->mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
    const double k = in->money * s0, tau0 = in->tenor / 365.0;
    const double sm = im_smile_factor(&s->model.smile, k / s0, tau0);
    double delta, gamma, vega;
    im_black76_greeks(s0, k, atm0 * sm, tau0, in->kind == IM_CALL, &delta, &gamma, &vega);
    b[pos[u]] += q * delta * s0;            /* dV/d ln S */
    g[pos[u]] += q * gamma * s0 * s0;       /* S^2 d2V/dS2 */
    b[pos[nu + u]] += q * vega * sm * atm0; /* dV/d ln ATM, smile factor held */
    const double v0 = im_option_value(s, in, s0, atm0, k, tau0);
    theta += q * (im_option_aged(s, in, s0, atm0, k) - v0); /* ageing at unchanged spot and vol */
  }
  return theta;
}

/* Delta-gamma-vega VaR or ES of portfolio p at t (a portfolio holding
 * options): model.h, "Options under ewma_normal and ewma_t". */
static void ewma_dg(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, size_t k0,
                    size_t n_lev, const im_level *lev, const double *qs, double *v) {
  const size_t nu = s->mkt->n_und, nf = s->nf;
  const double *cov = im_ewma_cov(s, w, t, s->sig_of[p], k0);
  size_t idx[IM_DG_MAX], pos[IM_DG_MAX], m = im_sig_factors(s, s->sig_of[p], idx), ng = 0;
  for (size_t a = 0; a < m; a++) {
    pos[idx[a]] = a;
    ng += idx[a] < nu; /* spot factors come first: they carry the gamma */
  }
  double b[IM_DG_MAX] = {0}, g[IM_DG_MAX] = {0}, c[IM_DG_MAX * IM_DG_MAX], kap[4];
  const double theta = dg_terms(s, p, t, pos, b, g), h = (double)s->model.horizon;
  for (size_t a = 0; a < m; a++)
    for (size_t e = a; e < m; e++) c[a * m + e] = c[e * m + a] = h * cov[idx[a] * nf + idx[e]];
  im_dg_cumulants(m, c, b, g, ng, theta, kap);
  const double mean = -kap[0]; /* of the loss */
  const double sd = sqrt(kap[1]), skew = -kap[2] / (kap[1] * sd), exk = kap[3] / (kap[1] * kap[1]);
  for (size_t l = 0; l < n_lev; l++) {
    if (!(kap[1] > 0)) {
      v[l] = mean;
      continue;
    }
    const int es = lev[l].measure == IM_MEASURE_ES;
    const double z = gsl_cdf_ugaussian_Pinv(lev[l].confidence);
    const double f = (!es && fabs(z) < 1e-12) ? 1 : im_cf_factor(z, skew, exk, es);
    v[l] = mean + sd * qs[l] * f;
  }
}

static void ewma_eval(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, int64_t k0,
                      size_t n_lev, const im_level *lev, const double *qs, double *v) {
  if (s->opt_start[p + 1] > s->opt_start[p]) {
    ewma_dg(s, w, p, t, (size_t)k0, n_lev, lev, qs, v);
    for (size_t l = 0; l < n_lev; l++) v[l] = v[l] > 0 ? v[l] : 0;
    return;
  }
  const double sd = sqrt((double)s->model.horizon * ewma_variance(s, w, p, t, (size_t)k0));
  for (size_t l = 0; l < n_lev; l++) v[l] = qs[l] * sd > 0 ? qs[l] * sd : 0;
}

const struct im_kind_ops im_kind_ewma_normal = {
    .flags = IM_KF_COV,
    .prepare = im_prepare_log_moves,
    .level_aux = q_normal,
    .eval = ewma_eval,
};

const struct im_kind_ops im_kind_ewma_t = {
    .flags = IM_KF_COV,
    .prepare = im_prepare_log_moves,
    .level_aux = q_t,
    .eval = ewma_eval,
};
