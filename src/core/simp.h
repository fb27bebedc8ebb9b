/* Simulated (Monte Carlo) p-values: the Acerbi-Szekely Z1/Z2 tests by
 * simulation from each day's predictive distribution, and finite-sample
 * p-values under the null for the VaR battery (backtest.h) and the
 * Du-Escanciano tests (estest.h). Pure numerics; random numbers are
 * Philox4x32-10 streams through GSL (rng.h), so every draw is a pure
 * function of its key and the results are the same at any rank split.
 *
 * 1. Z1/Z2 by simulation (Acerbi & Szekely 2014, sec. 3; MATLAB
 *    esbacktestbysim). Simulation i (0 <= i < M) draws one loss for each
 *    observed day t from that day's predictive distribution, with the stream
 *    im_rng_stream(seed, IM_SIMP_PURPOSE_Z, date[t], i): the draw of a day
 *    depends on (seed, date, i) only, never on which days or ranks share
 *    the call. Z1_i, Z2_i are computed with the day's own VaR_t and ES_t on
 *    the same observed days as the data. Left-tailed p-values:
 *      p = (1 + #{i: Z_i <= Z_obs}) / (M + 1);
 *    a simulation with no VaR failure has no Z1 and does not count for Z1.
 *    NaN when Z_obs is NaN. Memory: O(1) per call (one gsl_rng; the
 *    simulated losses are accumulated, never stored), time O(M N).
 *    Day samplers: a scenario set (each day's loss drawn uniformly from its W
 *    scenarios) or a parametric family pinned by the day's (VaR, ES): with X
 *    standard normal or standard Student-t(nu) (unit scale, nu > 1) and
 *    q = F_X^{-1}(1 - a), e = E[X | X > q] (normal: phi(q)/a; t:
 *    f_nu(q)(nu + q^2)/((nu - 1) a)), the day's loss is L = mu + sigma X
 *    with sigma = (ES - VaR)/(e - q), mu = VaR - sigma q, which reproduces
 *    VaR_t and ES_t exactly (requires ES_t > VaR_t).
 *
 * 2. Finite-sample p-values under the null (Dufour 2006, "Monte Carlo tests
 *    with nuisance parameters", J. Econometrics 133). A null table holds M
 *    simulated values of one or more statistics ("larger = more extreme")
 *    on samples of length n: iid Bernoulli(a) hit series for the VaR tests,
 *    iid U(0,1) PIT series for Du-Escanciano. Simulation i uses the stream
 *    im_rng_stream(bits of a as uint64, test_id, n, i), first one uniform
 *    V_i (its tie-breaker) and then the n sample values (hit = uniform < a;
 *    PIT = uniform): the table depends on (n, a, test_id, M) only, and its
 *    first M' rows are the table for M' (split the sims any way: same rows).
 *    p-value of an observed S_0 with tie-breaker V_0:
 *      p = (1 + #{i: S_i > S_0} + #{i: S_i = S_0 and V_i >= V_0}) / (M + 1),
 *    i.e. the (1 + #{sim >= observed})/(M + 1) with ties broken by
 *    the lottery of Dufour (2006, sec. 2.2). Without the lottery a discrete
 *    statistic (Kupiec at T = 1000, a = 0.01 takes a few dozen values) gives
 *    a test whose size is well below its level; with it, P(p <= alpha) =
 *    alpha exactly under the null when alpha (M + 1) is an integer. V_0 is
 *    the first uniform of the stream (FNV-1a 64 of the observed series'
 *    bytes, IM_SIMP_PURPOSE_TIE, 0, 0), so identical inputs still give
 *    identical p-values. A NaN simulated statistic is less extreme than any
 *    number; a NaN observed statistic has a NaN p-value.
 *    The battery's statistics are the asymptotic p-values of backtest.h
 *    negated (for chi2 tests with a fixed df the same order as the LR; for
 *    TBFI and TBF, whose df is the exceedance count, the order that makes
 *    different counts comparable), computed by im_bt_compute on the hit
 *    series alone: the DQ p-value is for the hit-only DQ (regressors
 *    [1, Hit lags]); a DQ with margin and P&L regressors has no null that
 *    depends on (n, a) only. The null is for n consecutive observed days;
 *    the hits' not-observed days are removed before n is taken (gaps change
 *    the transition counts slightly; the table ignores them).
 *    Memory: (n_stats + 1) M doubles per table plus one sample of n;
 *    time M x (one statistic evaluation); im_bt_compute allocates inside
 *    (backtest.c, not owned here) once per simulation. */
#ifndef IM_SIMP_H
#define IM_SIMP_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "backtest.h"
#include "im_status.h"

#define IM_SIMP_PURPOSE_Z 0x45535a53u   /* "ESZS" */
#define IM_SIMP_PURPOSE_TIE 0x54494555u /* "TIEU" */
#define IM_SIMP_TEST_BATTERY 0x42545259u /* "BTRY" */
#define IM_SIMP_TEST_DE 0x44455054u      /* "DEPT" */

/* ---- 1. Z1/Z2 by simulation --------------------------------------------- */

typedef enum { IM_ES_DIST_NORMAL = 0, IM_ES_DIST_T = 1 } im_es_dist_kind;
typedef struct {
  im_es_dist_kind kind;
  double nu; /* degrees of freedom of IM_ES_DIST_T, > 1 */
} im_es_dist;

/* q and e of the standard member at level a. IM_EINVAL for bad a or nu. */
im_status im_es_dist_std(const im_es_dist *d, double a, double *q, double *e, im_err *err);

/* P(L > ES) of every member of the family at level a: 1 - F_X(e). */
double im_es_dist_tail(const im_es_dist *d, double a);

/* One simulated loss of day t (0-based position in the series) from the
 * stream r, which the caller has already positioned. */
typedef double (*im_simp_draw_fn)(const void *ctx, size_t t, gsl_rng *r);

/* Z1/Z2 p-values with any day sampler. loss, var, es, date: n days (NaN in
 * loss, var or es = not observed); date[t] keys day t's stream (e.g. days
 * since 1970-01-01; the caller may fold a portfolio key into seed so that
 * portfolios do not share their simulated draws). m_sims >= 1. Writes the
 * p-values to p_z1, p_z2 (the observed Z1, Z2 are im_es_as's). Errors:
 * IM_EINVAL (also an observed day with ES <= 0), IM_ENOMEM (the gsl_rng). */
im_status im_simp_z(const double *loss, const double *var, const double *es,
                    const uint32_t *date, size_t n, double a, im_simp_draw_fn draw,
                    const void *ctx, uint64_t seed, size_t m_sims, double *p_z1, double *p_z2,
                    im_err *err);

/* Sampler context of a scenario set: scen_pnl[t * w + s] is scenario s of
 * day t (w >= 1; finite on observed days, or the day drops out of that
 * simulation); the simulated loss is -scen_pnl[t*w + s] for s uniform in
 * 0..w-1 (gsl_rng_uniform_int). */
typedef struct {
  const double *scen_pnl;
  size_t w;
} im_simp_scen_ctx;
double im_simp_draw_scen(const void *ctx, size_t t, gsl_rng *r);

/* Sampler context of a parametric family: fill with im_simp_param_init,
 * which checks ES_t > VaR_t on every day where both are numbers
 * (IM_EINVAL otherwise: the family cannot be pinned). */
typedef struct {
  im_es_dist dist;
  double q, e;
  const double *var, *es;
} im_simp_param_ctx;
im_status im_simp_param_init(im_simp_param_ctx *c, const im_es_dist *d, double a,
                             const double *var, const double *es, size_t n, im_err *err);
double im_simp_draw_param(const void *ctx, size_t t, gsl_rng *r);

/* ---- 2. null tables --------------------------------------------------------- */

typedef struct {
  size_t n, m_sims, n_stats;
  double a;
  uint32_t test_id;
  double *stat; /* stat[k * m_sims + i]: statistic k of simulation i */
  double *tie;  /* V_i */
} im_simp_null;

/* Writes n_stats statistics ("larger = more extreme", NaN = undefined) of
 * one sample of n values (int8_t hits 0/1, or double PITs) to stats.
 * Returns IM_OK or an error. */
typedef im_status (*im_simp_stat_fn)(const void *sample, size_t n, double a, void *ctx,
                                     double *stats, im_err *err);

/* Build a table from hit series (Bernoulli(a)) or PIT series (U(0,1)).
 * 1 <= n <= UINT32_MAX, 1 <= m_sims <= UINT32_MAX. Free with
 * im_simp_null_free (also after an error). */
im_status im_simp_null_hits(im_simp_null *nt, size_t n, double a, uint32_t test_id, size_t m_sims,
                            size_t n_stats, im_simp_stat_fn fn, void *ctx, im_err *err);
im_status im_simp_null_pit(im_simp_null *nt, size_t n, double a, uint32_t test_id, size_t m_sims,
                           size_t n_stats, im_simp_stat_fn fn, void *ctx, im_err *err);
void im_simp_null_free(im_simp_null *nt);

/* The p-value of statistic k (defined above). */
double im_simp_pvalue(const im_simp_null *nt, size_t k, double observed, double tie_u);

/* V_0 of an observed series: the first uniform of the stream keyed by the
 * FNV-1a 64 hash of its len bytes. */
double im_simp_tie_u(const void *bytes, size_t len);

/* ---- the VaR battery and Du-Escanciano ----------------------------------- */

enum {
  IM_SIMP_BT_UC, IM_SIMP_BT_IND, IM_SIMP_BT_CC, IM_SIMP_BT_TUFF, IM_SIMP_BT_TBFI,
  IM_SIMP_BT_TBF, IM_SIMP_BT_DUR, IM_SIMP_BT_DQ, IM_SIMP_BT_BIN, IM_SIMP_BT_N
};

/* Simulated p-values beside p_uc, p_ind, p_cc, p_tuff, p_tbfi, p_tbf, dur_p,
 * dq_p (hit-only DQ) and bin_p of im_bt_stats. */
typedef struct {
  double p_uc, p_ind, p_cc, p_tuff, p_tbfi, p_tbf, p_dur, p_dq, p_bin;
} im_simp_bt_p;

/* The battery's null table for n observed days (test_id
 * IM_SIMP_TEST_BATTERY); opts NULL = im_bt_opts_default(). */
im_status im_simp_bt_null(im_simp_null *nt, size_t n, double a, size_t m_sims,
                          const im_bt_opts *opts, im_err *err);

/* The simulated p-values of a hit series (-1 = not observed) of n_days
 * days, whose observed-day count must equal nt->n; opts must be the ones
 * the table was built with. */
im_status im_simp_bt_pvalues(const im_simp_null *nt, const int8_t *hits, size_t n_days,
                             const im_bt_opts *opts, im_simp_bt_p *out, im_err *err);

/* Du-Escanciano's null table (statistics |U| and C(lags); test_id
 * IM_SIMP_TEST_DE combined with lags) and the p-values of a PIT series
 * (NaN = not observed) whose observed-day count must equal nt->n. */
im_status im_simp_de_null(im_simp_null *nt, size_t n, double a, int64_t lags, size_t m_sims,
                          im_err *err);
im_status im_simp_de_pvalues(const im_simp_null *nt, const double *pit, size_t n_days,
                             int64_t lags, double *p_u, double *p_c, im_err *err);

#endif
