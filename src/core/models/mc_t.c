/* Monte Carlo t (kind "mc_t", after OCC STANS): paths of a multivariate
 * Student-t on the EWMA covariance, every portfolio fully revalued on every
 * path (model.c has the definition, the stream keys and why simple returns). */
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "kind.h"
#include "rng.h"

/* Cached simulated moves: a few signatures per date. */
#define MC_SLOTS 8

typedef struct {
  gsl_rng *rng;
  double *z;       /* [nf][paths] standard normals of the current date (spot, then vol) */
  int8_t *z_tag;   /* [nf] 1: z holds factor f's normals of z_date */
  double *chi;     /* [paths] chi-square draws of the current date */
  int64_t z_date;  /* the date z and chi hold, -1 none */
  double *mv;      /* [MC_SLOTS][nf][paths] simulated moves (spot, then vol) */
  int64_t *mv_tag; /* [MC_SLOTS] (date * n_sig + signature) held, -1 none */
  double *orow;    /* [n_opt][paths] unit P&L of each option instrument on the paths */
  int64_t *otag;   /* [n_opt] (date * n_sig + signature) orow holds, -1 none */
  double *chol;    /* [nf][nf] Cholesky factor */
} mc_scratch;

static void mc_scratch_free(im_model_scratch *w) {
  mc_scratch *m = w->priv;
  if (!m) return;
  if (m->rng) gsl_rng_free(m->rng);
  void *owned[] = {m->z, m->z_tag, m->chi, m->mv, m->mv_tag, m->orow, m->otag, m->chol, m};
  for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) free(owned[i]);
  w->priv = NULL;
}

static int mc_scratch_alloc(const im_model_state *s, im_model_scratch *w) {
  const size_t np = (size_t)s->model.paths, nf = s->nf, no = s->n_opt ? s->n_opt : 1;
  mc_scratch *m = calloc(1, sizeof *m);
  if (!(w->priv = m)) return -1;
  m->rng = gsl_rng_alloc(im_rng_philox);
  m->z = malloc(np * nf * sizeof *m->z);
  m->z_tag = malloc(nf);
  m->chi = malloc(np * sizeof *m->chi);
  m->mv = malloc(MC_SLOTS * nf * np * sizeof *m->mv);
  m->mv_tag = malloc(MC_SLOTS * sizeof *m->mv_tag);
  m->orow = malloc(no * np * sizeof *m->orow);
  m->otag = malloc(no * sizeof *m->otag);
  m->chol = malloc(nf * nf * sizeof *m->chol);
  if (!m->rng || !m->z || !m->z_tag || !m->chi || !m->mv || !m->mv_tag || !m->orow || !m->otag ||
      !m->chol)
    return -1;
  m->z_date = -1;
  for (size_t i = 0; i < MC_SLOTS; i++) m->mv_tag[i] = -1;
  for (size_t i = 0; i < s->n_opt; i++) m->otag[i] = -1;
  if (np > w->loss_len) { /* the losses over the paths */
    double *loss = realloc(w->loss, np * sizeof *loss);
    if (!loss) return -1;
    w->loss = loss;
    w->loss_len = np;
  }
  return 0;
}

/* The stream purpose of covariance factor f of a model: its name joined with
 * the underlying's name (and "ivol" for the vol factor). Keyed by names, the
 * draws of a factor do not depend on which other underlyings the market file
 * holds, nor on their order. */
static uint32_t mc_purpose(const im_model_state *s, size_t f) {
  const size_t nu = s->mkt->n_und;
  const uint32_t h = im_rng_hash_join(im_rng_hash(s->model.name), s->mkt->und[f < nu ? f : f - nu]);
  return f < nu ? h : im_rng_hash_join(h, "ivol");
}

/* The chi-square draw of every path at date t, once per date. */
static void mc_chi(const im_model_state *s, mc_scratch *m, size_t t, uint32_t date) {
  if (m->z_date == (int64_t)t) return;
  const uint32_t purpose = im_rng_hash(s->model.name);
  for (size_t i = 0; i < (size_t)s->model.paths; i++) {
    im_rng_stream(m->rng, s->model.seed, purpose, date, (uint32_t)i);
    m->chi[i] = gsl_ran_chisq(m->rng, s->model.nu);
  }
  for (size_t f = 0; f < s->nf; f++) m->z_tag[f] = 0;
  m->z_date = (int64_t)t;
}

/* The standard normals of factor f on every path at date t (and the date's
 * chi-square draws), once per date. Each (factor, path) and each path's
 * chi-square has its own stream keyed by the calendar date (days since
 * 1970-01-01), not by the market row. */
static const double *mc_normals(const im_model_state *s, mc_scratch *m, size_t t, size_t f) {
  const size_t np = (size_t)s->model.paths;
  const uint32_t date = (uint32_t)(s->mkt->day0 + (int64_t)t);
  mc_chi(s, m, t, date);
  double *z = m->z + f * np;
  if (!m->z_tag[f]) {
    const uint32_t purpose = mc_purpose(s, f);
    for (size_t i = 0; i < np; i++) {
      im_rng_stream(m->rng, s->model.seed, purpose, date, (uint32_t)i);
      z[i] = gsl_ran_ugaussian(m->rng);
    }
    m->z_tag[f] = 1;
  }
  return z;
}

/* Cholesky factor l (row-major m x m, lower) of a symmetric matrix a; 0 on
 * success, -1 when a is not positive definite. Written here rather than
 * calling GSL so that a failure is a return value, whatever error handler the
 * caller has installed (GSL's default aborts the process). */
static int cholesky(size_t m, const double *a, double *l) {
  for (size_t j = 0; j < m; j++) {
    double d = a[j * m + j];
    for (size_t k = 0; k < j; k++) d -= l[j * m + k] * l[j * m + k];
    if (!(d > 0)) return -1;
    l[j * m + j] = sqrt(d);
    for (size_t i = j + 1; i < m; i++) {
      double v = a[i * m + j];
      for (size_t k = 0; k < j; k++) v -= l[i * m + k] * l[j * m + k];
      l[i * m + j] = v / l[j * m + j];
      l[j * m + i] = 0;
    }
  }
  return 0;
}

/* The Cholesky factor l of h Sigma over the factors idx[0..m); a ridge of
 * 1e-12 of the trace, growing 100-fold per attempt, when it is only
 * semi-definite (e.g. two underlyings with identical moves). */
static void mc_cholesky(const im_model_state *s, const double *cov, const size_t *idx, size_t m,
                        double *l) {
  const size_t nf = s->nf;
  const double h = (double)s->model.horizon;
  double a[4 * IM_MAX_UNDERLYINGS * IM_MAX_UNDERLYINGS], tr = 0, ridge = 0;
  for (size_t i = 0; i < m; i++) tr += h * cov[idx[i] * nf + idx[i]];
  for (int attempt = 0; attempt < 8; attempt++) {
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j <= i; j++)
        a[i * m + j] = a[j * m + i] = h * cov[idx[j] * nf + idx[i]] + (i == j ? ridge : 0);
    if (cholesky(m, a, l) == 0) return;
    ridge = ridge ? ridge * 100 : 1e-12 * (tr > 0 ? tr : 1);
  }
}

/* Simulated moves [nf][paths] of signature sj at date t: a spot factor's
 * simple return X floored at -100% (a price cannot fall below zero; a
 * short's expected loss E X exists, where under exp(X) - 1 it would not), a
 * vol factor's relative change exp(Y) - 1 (a vol stays positive; option
 * values are bounded in vol, so their ES exists too). */
static const double *mc_moves(const im_model_state *s, im_model_scratch *w, size_t t, uint32_t sj,
                              size_t k0) {
  mc_scratch *ms = w->priv;
  const size_t nu = s->mkt->n_und, nf = s->nf, np = (size_t)s->model.paths;
  const int64_t tag = (int64_t)t * (int64_t)s->n_sig + sj;
  double *mv = ms->mv + (sj % MC_SLOTS) * nf * np;
  if (ms->mv_tag[sj % MC_SLOTS] == tag) return mv;
  const double *cov = im_ewma_cov(s, w, t, sj, k0);
  size_t idx[2 * IM_MAX_UNDERLYINGS];
  const size_t m = im_sig_factors(s, sj, idx);
  const double *z[2 * IM_MAX_UNDERLYINGS];
  for (size_t r = 0; r < m; r++) z[r] = mc_normals(s, ms, t, idx[r]);
  mc_cholesky(s, cov, idx, m, ms->chol);
  const double *l = ms->chol, dof = s->model.nu;
  for (size_t i = 0; i < np; i++) {
    const double scale = sqrt((dof - 2) / ms->chi[i]);
    for (size_t r = 0; r < m; r++) {
      double x = 0;
      for (size_t c = 0; c <= r; c++) x += l[r * m + c] * z[c][i];
      x *= scale;
      mv[idx[r] * np + i] = idx[r] < nu ? fmax(x, -1.0) : expm1(x);
    }
  }
  ms->mv_tag[sj % MC_SLOTS] = tag;
  return mv;
}

/* Unit P&L on the paths of option instrument o (its underlying's spot moved
 * to s (1 + x), its ATM vol to atm e^y, aged h days; intrinsic at expiry),
 * for the moves mv of signature sj at date t; once per (t, sj). */
static const double *mc_option_row(const im_model_state *s, mc_scratch *ms, size_t t, uint32_t sj,
                                   size_t o, const double *mv) {
  const int64_t tag = (int64_t)t * (int64_t)s->n_sig + sj;
  const size_t np = (size_t)s->model.paths, nu = s->mkt->n_und, nd = s->mkt->n_days;
  double *row = ms->orow + o * np;
  if (ms->otag[o] == tag) return row;
  const im_instrument *in = &s->book->instr[s->opt_list[o]];
  const size_t u = in->und;
  const double s0 = s->mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
  const double k = in->money * s0;
  const double v0 = im_option_value(s, in, s0, atm0, k, in->tenor / 365.0);
  const double *dx = mv + u * np, *dy = mv + (nu + u) * np;
  for (size_t j = 0; j < np; j++)
    row[j] = im_option_aged(s, in, s0 * (1 + dx[j]), atm0 * (1 + dy[j]), k) - v0;
  ms->otag[o] = tag;
  return row;
}

static void mc_eval(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, int64_t k0,
                    size_t n_lev, const im_level *lev, const double *aux, double *v) {
  (void)aux;
  const size_t np = (size_t)s->model.paths, sj = s->sig_of[p];
  const double *mv = mc_moves(s, w, t, (uint32_t)sj, (size_t)k0);
  double *loss = w->loss;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++) {
    const double e = -im_lin_exposure(s, i, t), *d = mv + s->lin_und[i] * np;
    for (size_t j = 0; j < np; j++) loss[j] = (i == s->lin_start[p] ? 0.0 : loss[j]) + e * d[j];
  }
  for (size_t i = s->opt_start[p]; i < s->opt_start[p + 1]; i++) {
    const double q = s->opt_qty[i];
    const double *row = mc_option_row(s, w->priv, t, (uint32_t)sj, s->opt_row[i], mv);
    for (size_t j = 0; j < np; j++) loss[j] -= q * row[j];
  }
  for (size_t l = 0; l < n_lev; l++) v[l] = im_level_value(loss, np, &lev[l], w->top);
}

const struct im_kind_ops im_kind_mc_t = {
    .flags = IM_KF_COV,
    .prepare = im_prepare_log_moves,
    .eval = mc_eval,
    .scratch_alloc = mc_scratch_alloc,
    .scratch_free = mc_scratch_free,
};
