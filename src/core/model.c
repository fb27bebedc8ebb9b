#include "model.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"
#include "rng.h"

/* Historical simulation (kind "hs").
 *
 * Scenario k is the h-day relative move of each underlying ending at day k,
 * close[k] / close[k-h], applied to today's close: full revaluation of each
 * instrument at s_t * close[k] / close[k-h]. A scenario day is usable for a
 * portfolio when the move of every underlying the portfolio holds is defined
 * (both closes present). The window at t is the last W usable days k <= t; on
 * gapless history that is simply days t-W+1 .. t.
 *
 * Filtered HS (kind "fhs", as Eurex Prisma, CME SPAN 2, LCH and ICE IRM do).
 * Daily log-moves r_k are devolatilised by their EWMA(lambda) volatility
 * forecast from the days before, z_k = r_k / sigma_k with
 * sigma_k^2 = lambda sigma_{k-1}^2 + (1 - lambda) r_{k-1}^2 (started as the
 * mean square of the first IM_FHS_BURN_IN returns, which no scenario uses),
 * summed to overlapping h-day moves Z_k = z_{k-h+1} + ... + z_k, and
 * revolatilised by the forecast for tomorrow made at t,
 * sigma_{t+1}^2 = lambda sigma_t^2 + (1 - lambda) r_t^2: scenario k moves
 * the underlying by exp(sigma_{t+1} Z_k) - 1. Everything at t uses days <= t.
 * The filter is seeded by the first IM_FHS_BURN_IN daily returns of the
 * market file (the days with both closes, from its first day, whatever the
 * backtest's start): they give the starting variance and are no scenario.
 * A missing close makes that day's return, and every h-day move containing
 * it, undefined (not a scenario) and leaves the variance where it was. The
 * volatility divided by and scaled with is floored at IM_FHS_VOL_FLOOR, so a
 * flat (pegged) stretch does not divide by zero.
 *
 * EWMA parametric (kinds "ewma_normal", "ewma_t", RiskMetrics). The covariance
 * of daily log-moves at t is sum_i w_i r_{t-i} r_{t-i}' over the last W days
 * usable for the portfolio, w_i = (1 - lambda) lambda^i / (1 - lambda^W)
 * (zero mean). A linear portfolio's P&L is delta E' r with E its USD exposure
 * per underlying, so sigma_h^2 = h E' Sigma E (square-root of time) and
 * VaR = q sigma_h, ES = e sigma_h with q, e the normal or unit-variance
 * Student-t quantile and tail mean at the confidence.
 *
 * Grid (kind "grid", as Deribit, OKX and Paradex portfolio margin): for each
 * underlying separately (no offsets across underlyings), the worst loss over
 * the core spot shocks 0, +-range/steps, ..., +-range and, with extended on,
 * the extended moves weighted by their dampeners; IM is the sum over the
 * underlyings. Instantaneous: no history, confidence or window is used.
 *
 * Monte Carlo t (kind "mc_t", after OCC STANS). With Sigma the EWMA
 * covariance above and L the Cholesky factor of h Sigma (over the
 * portfolio's underlyings; a ridge when it is only semi-definite), path i
 * moves the underlyings by the simple return max(X_i, -1),
 * X_i = L z_i sqrt((nu - 2) / c_i): multivariate Student-t with covariance
 * h Sigma, z_i standard normal per underlying and c_i chi-square with nu
 * degrees of freedom, floored at -100% (a price cannot go below zero). Simple
 * rather than log returns so that the ES exists: under exp(X) - 1 a short's
 * expected loss is infinite for any t. Every portfolio is fully revalued on
 * every path; VaR/ES over the paths. Draws are keyed by the calendar date d
 * (days since 1970-01-01) and by names, never by a row of the market file:
 * c_i comes from the Philox stream (seed, hash(model name), d, i) and z_i's
 * normal for underlying U from (seed, hash(model name, U), d, i) (the vol
 * factor's from hash(model name, U, "ivol")), so a margin depends on the
 * seed, the model's name, the date, the path and the data it uses only: the
 * same on any rank, whatever other coins the file holds or where it starts.
 *
 * Options (hs, fhs, grid). An option with N days to expiry and strike
 * K = moneyness x s_t is worth Black-76 at zero rates with vol
 * atm_t x smile(K/S, tau), atm_t the underlying's ATM implied vol (DVOL/100).
 * A scenario day k moves spot as the model says and the ATM vol by the same
 * day's relative change ivol[k]/ivol[k-h] (spot and vol jointly, so their
 * correlation is kept; fhs filters spot only), and ages the option by h days;
 * one expiring within the horizon pays its intrinsic value. The realised P&L
 * revalues at t+h with that day's spot and ATM vol. A scenario or date
 * without implied vol is not usable for a portfolio holding options.
 *
 * Funding (with funding on and a funding history in the market). A long
 * perpetual of USD notional E pays E f_d on each day d of the horizon (f the
 * day's rate): the realised P&L from t to t+h includes
 * -E (f_{t+1} + ... + f_{t+h}), and in hs and fhs scenario k includes
 * -E (f_{k-h+1} + ... + f_k), the funding of the same historical days as its
 * moves. A P&L that needs a rate the market file lacks is not observed: the
 * realised P&L of a portfolio holding a perpetual on U is NaN when a rate of
 * U over t+1 .. t+h is unknown, and in hs and fhs a day k whose h rates are
 * not all known is not a scenario for it (its window reaches back over such
 * days like over price gaps). An inverse perpetual pays the same rates (the
 * market holds one funding series per underlying, the linear one) on its USD
 * notional. The parametric, Monte Carlo and grid margins leave funding out.
 *
 * A dated future (at zero rates and with no basis history, its price is the
 * spot) moves like spot and pays no funding; one must not expire within the
 * horizon. */

struct im_model_state {
  im_model model;
  const im_market *mkt;
  const im_book *book;
  double *ratio;    /* [n_und][n_days] NaN if undefined. hs: close[k]/close[k-h];
                       fhs: the devolatilised h-day move Z_k; ewma: log-move r_k */
  double *sigf;     /* fhs: [n_und][n_days] volatility forecast for day t+1 made at t */
  double *vratio;   /* [n_und][n_days] options: hs, fhs ivol[k]/ivol[k-h]; ewma_*, mc_t the
                       daily log-change ln(ivol[k]/ivol[k-1]); NaN if undefined */
  double *ivol;     /* [n_und][n_days] ATM implied vol the model uses: the market's, with
                       the proxy filled in where it has none (ivol_proxy); NULL if no options */
  size_t nf;        /* covariance factors (ewma_*, mc_t): n_und spot log-moves, then, when
                       the book holds options, n_und implied-vol log-changes */
  size_t n_opt;     /* option instruments of the book */
  uint32_t *opt_list; /* [n_opt] their book instrument indices */
  size_t *opt_start;  /* [n_port+1] option positions of each portfolio */
  uint32_t *opt_row;  /* [n_optpos] row (index into opt_list) of each option position */
  double *opt_qty;    /* [n_optpos] coins */
  size_t n_sig;     /* distinct underlying sets among the portfolios */
  uint64_t *sig;    /* [n_sig] */
  uint64_t *fsig;   /* [n_sig] hs, fhs with funding: bit u when the portfolios pay funding on u
                       (a scenario day then needs its funding known); 0 otherwise */
  uint32_t *sig_of; /* [n_port] index into sig */
  uint32_t *cum;    /* [n_sig][n_days+1] usable days before day k */
  size_t lmax;      /* longest span t-k0+1 of any window */
  /* Every instrument so far is linear in the underlying's relative move:
   * unit P&L = a (s1/s0 - 1) with a = s0 for spot and linear perpetuals and
   * a = 1 for a 1-USD inverse contract. So a portfolio is, exactly, its USD
   * exposure per underlying, E_u = qs_u s0_u + qi_u, and its scenario P&L is
   * sum_u E_u (R_u - 1): a few vector operations instead of one per position. */
  size_t *lin_start; /* [n_port+1] */
  uint32_t *lin_und; /* [n_lin] sorted by underlying within a portfolio */
  double *lin_qs;    /* coins of spot and linear perpetuals */
  double *lin_qi;    /* USD contracts of inverse perpetuals */
  double *lin_pf;    /* coins of linear perpetuals (they pay funding) */
  double *lin_pfi;   /* USD contracts of inverse perpetuals (funding on the USD notional) */
  double *fsum;      /* [n_und][n_days] funding over the h days ending at k, or NULL */
  double *adv;       /* add-ons: [n_und][n_days] ADV30 at day t, NaN if unknown; or NULL */
};

struct im_model_scratch {
  double *d;         /* [n_und][lmax] relative moves R - 1 over the tile's span */
  double *loss;      /* [window] */
  double *top;       /* [IM_TOPK_MAX + 1] tail buffer of the selection */
  uint32_t *gather;  /* [n_sig][window] scenario columns of windows with gaps */
  int64_t *k0;       /* [n_sig] window start day per signature, -1 if none */
  int8_t *gathered;  /* [n_sig] gather list built for the current date */
  int64_t kmin;      /* the first scenario day of the current tile date's span */
  double *cov;       /* ewma, mc_t: [n_sig][nf][nf] covariance of the current date */
  double *orow;      /* [n_opt][lmax] unit scenario P&L of each option instrument */
  /* mc_t */
  gsl_rng *rng;
  double *z;         /* [nf][paths] standard normals of the current date (spot, then vol) */
  int8_t *z_tag;     /* [nf] 1: z holds factor f's normals of z_date */
  double *chi;       /* [paths] chi-square draws of the current date */
  int64_t z_date;    /* the date z and chi hold, -1 none */
  double *mv;        /* [MC_SLOTS][nf][paths] simulated moves exp(X) - 1 (spot, then vol) */
  double *mc_orow;   /* [n_opt][paths] unit P&L of each option instrument on the paths */
  int64_t *mc_otag;  /* [n_opt] (date * n_sig + signature) mc_orow holds, -1 none */
  int64_t *mv_tag;   /* [MC_SLOTS] (date * n_sig + signature) held, -1 none */
  double *chol;      /* [nf][nf] Cholesky factor */
};

static const char *const kind_names[IM_MODEL_KINDS] = {"hs", "fhs", "ewma_normal", "ewma_t",
                                                        "grid", "mc_t"};

const double im_grid_ext_move[IM_GRID_N_EXTENDED] = {-0.66, -0.33, 0.5, 1, 2, 3, 4, 5};
const double im_grid_ext_weight[IM_GRID_N_EXTENDED] = {0.24, 0.48, 0.32, 0.16, 0.08, 0.0533, 0.04, 0.032};

const char *im_model_kind_name(im_model_kind k) {
  return (unsigned)k < IM_MODEL_KINDS ? kind_names[k] : "?";
}

int im_model_kind_parse(const char *name) {
  for (int k = 0; k < IM_MODEL_KINDS; k++)
    if (strcmp(name, kind_names[k]) == 0) return k;
  return -1;
}

static int is_parametric(im_model_kind k) { return k == IM_MODEL_EWMA_NORMAL || k == IM_MODEL_EWMA_T; }

/* Kinds built on the EWMA covariance of daily log-moves. */
static int uses_cov(im_model_kind k) { return is_parametric(k) || k == IM_MODEL_MC_T; }

/* The signature bit of covariance factor f: spot of u = f, or the implied
 * vol of u = f - nu. */
static unsigned factor_bit(size_t f, size_t nu) { return (unsigned)(f < nu ? f : 32 + (f - nu)); }

/* Cached simulated moves of mc_t: a few signatures per date. */
#define MC_SLOTS 8

static double option_value(const im_model_state *s, const im_instrument *in, double sp,
                           double atm, double k, double tau);

/* Loss of portfolio p's positions on underlying u (USD exposure e of the
 * linear ones, plus its options fully revalued) when spot moves by x and
 * the ATM vol by vx, instantaneously. */
static double grid_loss(const im_model_state *s, size_t p, size_t u, size_t t, double e, double x,
                        double vx) {
  double loss = -e * x;
  const size_t nd = s->mkt->n_days;
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    if (in->und != u) continue;
    const double s0 = s->mkt->close[u * nd + t], atm = s->ivol[u * nd + t];
    const double k = in->money * s0, tau = in->tenor / 365.0;
    loss -= s->opt_qty[j] * (option_value(s, in, s0 * (1 + x), atm * (1 + vx), k, tau) -
                             option_value(s, in, s0, atm, k, tau));
  }
  return loss;
}

/* Worst weighted loss on underlying u over the grid: core spot shocks x each
 * vol shock (none, down, up), then the extended moves with vol up, dampened. */
static double grid_worst(const im_model_state *s, size_t p, size_t u, size_t t, double e) {
  const im_model *md = &s->model;
  const int opts = s->opt_start[p + 1] > s->opt_start[p];
  const double vols[3] = {0, IM_GRID_VOL_DOWN, IM_GRID_VOL_UP};
  double worst = 0;
  for (int32_t i = -md->grid_steps; i <= md->grid_steps; i++)
    for (int v = 0; v < (opts ? 3 : 1); v++)
      worst = fmax(worst, grid_loss(s, p, u, t, e, md->grid_range * i / md->grid_steps, vols[v]));
  for (int i = 0; i < IM_GRID_N_EXTENDED && md->grid_extended; i++)
    worst = fmax(worst, im_grid_ext_weight[i] *
                            grid_loss(s, p, u, t, e, im_grid_ext_move[i], opts ? IM_GRID_VOL_UP : 0));
  return worst;
}

const char *im_measure_name(im_measure m) { return m == IM_MEASURE_ES ? "es" : "var"; }

im_status im_model_check(const im_model *md, const im_market *mkt, im_err *err) {
  if (!(md->confidence > 0.0 && md->confidence < 1.0))
    return im_err_set(err, IM_EINVAL, "confidence: %g is not strictly between 0 and 1",
                      md->confidence);
  if (md->horizon < 1)
    return im_err_set(err, IM_EINVAL, "horizon: %d days; it must be at least 1", (int)md->horizon);
  if (md->window < 1)
    return im_err_set(err, IM_EINVAL, "window: %d scenarios; it must be at least 1",
                      (int)md->window);
  if (md->kind == IM_MODEL_GRID && !(md->grid_range > 0 && md->grid_range < 1 && md->grid_steps >= 1))
    return im_err_set(err, IM_EINVAL, "range/steps: the grid needs 0 < range < 1 and steps >= 1");
  if (md->kind != IM_MODEL_HS && md->kind != IM_MODEL_GRID && !(md->lambda > 0.0 && md->lambda < 1.0))
    return im_err_set(err, IM_EINVAL, "lambda: %g is not strictly between 0 and 1", md->lambda);
  if (md->kind == IM_MODEL_MC_T && !(md->paths >= 100 && md->paths <= 10000000))
    return im_err_set(err, IM_EINVAL, "paths: %d; mc_t needs 100 to 1e7 paths", (int)md->paths);
  if ((md->kind == IM_MODEL_EWMA_T || md->kind == IM_MODEL_MC_T) && !(md->nu > 2.0 && md->nu <= 1e6))
    return im_err_set(err, IM_EINVAL, "nu: %g degrees of freedom; the t needs nu > 2 (finite variance)",
                      md->nu);
  if (uses_cov(md->kind) && md->window < 2)
    return im_err_set(err, IM_EINVAL, "window: %d daily returns; the covariance needs at least 2",
                      (int)md->window);
  if (im_model_has_apc(md) && md->kind != IM_MODEL_HS && md->kind != IM_MODEL_FHS)
    return im_err_set(err, IM_EINVAL, "apc_*: anti-procyclicality layers need kind hs or fhs");
  if (md->ivol_proxy && !(md->ivol_scale > 0 && md->ivol_scale < 100))
    return im_err_set(err, IM_EINVAL, "ivol_proxy_scale: %g is not a positive ratio", md->ivol_scale);
  if (md->liquidity && !(md->liq_k >= 0 && md->liq_k <= 100 && md->liq_threshold >= 0))
    return im_err_set(err, IM_EINVAL, "liq_k, liq_threshold: need 0 <= liq_k <= 100, threshold >= 0");
  if (md->concentration && !(md->conc_share > 0 && md->conc_share <= 1))
    return im_err_set(err, IM_EINVAL, "conc_share: %g is not a share of ADV in (0, 1]", md->conc_share);
  if (md->apc_stress && md->stress_start > md->stress_end)
    return im_err_set(err, IM_EINVAL, "stress_start: after stress_end");
  const size_t burn = md->kind == IM_MODEL_FHS ? IM_FHS_BURN_IN + 1 : 0;
  if ((size_t)md->window + (size_t)md->horizon + burn > mkt->n_days)
    return im_err_set(err, IM_EINVAL,
                      "window: %d scenarios of %d-day moves need %lld days of history, "
                      "longer than the market's %zu days",
                      (int)md->window, (int)md->horizon,
                      (long long)md->window + (long long)md->horizon, mkt->n_days);
  return IM_OK;
}

/* First day k0 of the window of signature s at day t, or -1 when fewer than W
 * usable days precede t. cum is non-decreasing, so binary search for the
 * first k with cum[k+1] > c - W, i.e. the (c-W+1)-th usable day. */
static int64_t window_start(const im_model_state *s, size_t sig, size_t t) {
  const uint32_t *cum = s->cum + sig * (s->mkt->n_days + 1);
  uint32_t c = cum[t + 1], w = (uint32_t)s->model.window;
  if (c < w) return -1;
  uint32_t need = c - w + 1;
  size_t lo = 0, hi = t;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cum[mid + 1] >= need)
      hi = mid;
    else
      lo = mid + 1;
  }
  return (int64_t)lo;
}

/* The fhs filter of one underlying: drv[k] = Z_k, the sum of the h
 * devolatilised daily moves ending at k (NaN if any is undefined), and
 * fore[t] = sigma_{t+1}, the volatility forecast made at t (NaN before the
 * filter has started). */
static void fhs_filter(const double *c, size_t nd, size_t h, double lambda, double *drv,
                       double *fore) {
  double var = NAN, sum = 0;
  size_t seen = 0;
  for (size_t k = 0; k < nd; k++) {
    const double r = k >= 1 ? log(c[k] / c[k - 1]) : NAN;
    double z = NAN;
    if (!isnan(r)) {
      if (seen < IM_FHS_BURN_IN) { /* burn-in: no scenario yet */
        sum += r * r;
        if (++seen == IM_FHS_BURN_IN) var = sum / IM_FHS_BURN_IN;
      } else {
        z = r / fmax(sqrt(var), IM_FHS_VOL_FLOOR); /* sigma_k from days before k */
        var = lambda * var + (1 - lambda) * r * r;
      }
    }
    fore[k] = isnan(var) ? NAN : fmax(sqrt(var), IM_FHS_VOL_FLOOR);
    drv[k] = z; /* the running sum below turns z into Z */
  }
  /* Z_k = z_{k-h+1} + ... + z_k, NaN if any is NaN; done from the end so
   * that drv can hold z and Z in place. */
  for (size_t k = nd; k-- > 0;) {
    double zs = 0;
    for (size_t j = 0; j < h; j++) zs = (k >= j) ? zs + drv[k - j] : NAN;
    drv[k] = zs;
  }
}

/* EWMA(lambda) volatility of the daily log-moves at the close of each day k,
 * from the returns of days <= k: the fhs filter's forecast (started as the
 * mean square of the first IM_FHS_BURN_IN returns; NaN before; a missing
 * close leaves it where it was). */
static void ewma_vol(const double *c, size_t nd, double lambda, double *out) {
  double var = NAN, sum = 0;
  size_t seen = 0;
  for (size_t k = 0; k < nd; k++) {
    const double r = k >= 1 ? log(c[k] / c[k - 1]) : NAN;
    if (!isnan(r)) {
      if (seen < IM_FHS_BURN_IN) {
        sum += r * r;
        if (++seen == IM_FHS_BURN_IN) var = sum / IM_FHS_BURN_IN;
      } else {
        var = lambda * var + (1 - lambda) * r * r;
      }
    }
    out[k] = sqrt(var);
  }
}

void im_model_state_free(im_model_state *s) {
  if (!s) return;
  free(s->ratio);
  free(s->sigf);
  free(s->vratio);
  free(s->ivol);
  free(s->opt_list);
  free(s->opt_start);
  free(s->opt_row);
  free(s->opt_qty);
  free(s->sig);
  free(s->fsig);
  free(s->sig_of);
  free(s->cum);
  free(s->lin_start);
  free(s->lin_und);
  free(s->lin_qs);
  free(s->lin_qi);
  free(s->lin_pf);
  free(s->lin_pfi);
  free(s->fsum);
  free(s->adv);
  free(s);
}

/* ewma: the VaR or ES of a unit-variance P&L at confidence a. */
static double q_scale(const im_model *model, double a, im_measure measure) {
  if (model->kind == IM_MODEL_EWMA_NORMAL) {
    const double z = gsl_cdf_ugaussian_Pinv(a);
    return measure == IM_MEASURE_ES ? gsl_ran_ugaussian_pdf(z) / (1 - a) : z;
  }
  /* Student-t scaled to unit variance: X = T sqrt((nu-2)/nu). */
  const double v = model->nu, tq = gsl_cdf_tdist_Pinv(a, v), sc = sqrt((v - 2) / v);
  return measure == IM_MEASURE_ES ? sc * gsl_ran_tdist_pdf(tq, v) / (1 - a) * (v + tq * tq) / (v - 1)
                                  : sc * tq;
}

/* Underlyings on which portfolio p holds perpetuals (they pay funding). */
static uint64_t funded(const im_book *book, size_t p) {
  uint64_t m = 0;
  for (size_t k = book->pos_start[p]; k < book->pos_start[p + 1]; k++) {
    const im_instrument in = book->instr[book->pos_instr[k]];
    if ((in.kind == IM_PERP || in.kind == IM_INVPERP) && book->pos_qty[k] != 0)
      m |= UINT64_C(1) << in.und;
  }
  return m;
}

/* fsum[u][k]: the funding of the h days k-h+1 .. k, NaN when one of them is
 * unknown (the market file lacks it: a P&L that needs it is not observed). */
static void funding_sums(const im_market *mkt, size_t h, double *fsum) {
  const size_t nd = mkt->n_days;
  for (size_t u = 0; u < mkt->n_und; u++)
    for (size_t k = 0; k < nd; k++) {
      double f = k + 1 >= h ? 0 : NAN;
      for (size_t j = 0; j < h && j <= k; j++) f += mkt->funding[u * nd + k - j];
      fsum[u * nd + k] = f;
    }
}

im_status im_model_prepare(const im_model *model, const im_market *mkt, const im_book *book,
                           im_model_state **out, im_err *err) {
  *out = NULL;
  im_status st = im_model_check(model, mkt, err);
  if (st) return st;
  size_t nu = mkt->n_und, nd = mkt->n_days, np = book->n_port, h = (size_t)model->horizon;
  im_model_state *s = calloc(1, sizeof *s);
  if (!s) return im_err_set(err, IM_ENOMEM, "out of memory preparing model %s", model->name);
  s->model = *model;
  s->mkt = mkt;
  s->book = book;
  s->ratio = malloc(nu * nd * sizeof *s->ratio);
  s->sig = malloc((np ? np : 1) * sizeof *s->sig);
  s->sig_of = malloc((np ? np : 1) * sizeof *s->sig_of);
  s->fsig = malloc((np ? np : 1) * sizeof *s->fsig);
  if (!s->ratio || !s->sig || !s->sig_of || !s->fsig) goto nomem;

  if (model->kind == IM_MODEL_FHS && !(s->sigf = malloc(nu * nd * sizeof *s->sigf))) goto nomem;
  for (size_t u = 0; u < nu; u++) {
    const double *c = mkt->close + u * nd;
    double *r = s->ratio + u * nd;
    switch (model->kind) {
      case IM_MODEL_HS:
        for (size_t k = 0; k < nd; k++) r[k] = k >= h ? c[k] / c[k - h] : NAN; /* NaN: a gap */
        break;
      case IM_MODEL_FHS:
        fhs_filter(c, nd, h, model->lambda, r, s->sigf + u * nd);
        break;
      default: /* ewma_*, mc_t: daily log-moves */
        for (size_t k = 0; k < nd; k++) r[k] = k >= 1 ? log(c[k] / c[k - 1]) : NAN;
    }
  }

  /* Option positions, and the implied-vol moves they are revalued with. */
  s->opt_list = malloc((book->n_instr ? book->n_instr : 1) * sizeof *s->opt_list);
  s->opt_start = calloc(np + 1, sizeof *s->opt_start);
  size_t n_pos = np ? book->pos_start[np] : 0;
  s->opt_row = malloc((n_pos ? n_pos : 1) * sizeof *s->opt_row);
  s->opt_qty = malloc((n_pos ? n_pos : 1) * sizeof *s->opt_qty);
  if (!s->opt_list || !s->opt_start || !s->opt_row || !s->opt_qty) goto nomem;
  for (size_t i = 0; i < book->n_instr; i++)
    if (im_is_option(book->instr[i].kind)) s->opt_list[s->n_opt++] = (uint32_t)i;
  for (size_t p = 0, n = 0; p < np; p++) {
    for (size_t k = book->pos_start[p]; k < book->pos_start[p + 1]; k++) {
      if (!im_is_option(book->instr[book->pos_instr[k]].kind)) continue;
      size_t r = 0;
      while (s->opt_list[r] != book->pos_instr[k]) r++;
      s->opt_row[n] = (uint32_t)r;
      s->opt_qty[n++] = book->pos_qty[k];
    }
    s->opt_start[p + 1] = n;
  }
  for (size_t i = 0; i < book->n_instr; i++)
    if (book->instr[i].kind == IM_FUT && book->instr[i].tenor < model->horizon) {
      char nm[64];
      im_instrument_name(mkt, book->instr[i], nm, sizeof nm);
      st = im_err_set(err, IM_EINVAL,
                      "horizon: %s expires within the %d-day horizon; futures must have at "
                      "least h days to expiry",
                      nm, (int)model->horizon);
      im_model_state_free(s);
      return st;
    }
  if (s->n_opt > 0) {
    if (!mkt->ivol && !model->ivol_proxy) {
      st = im_err_set(err, IM_EINVAL,
                      "the portfolios hold options but the market file has no implied vols "
                      "(imvar import --ivol BTC=btc_dvol_daily.csv ..., or ivol_proxy: ewma)");
      im_model_state_free(s);
      return st;
    }
    s->vratio = malloc(nu * nd * sizeof *s->vratio);
    s->ivol = malloc(nu * nd * sizeof *s->ivol);
    if (!s->vratio || !s->ivol) goto nomem;
    for (size_t i = 0; i < nu * nd; i++) s->ivol[i] = mkt->ivol ? mkt->ivol[i] : NAN;
    if (model->ivol_proxy) { /* fill the days without implied vol; days <= k only */
      for (size_t u = 0; u < nu; u++) {
        ewma_vol(mkt->close + u * nd, nd, IM_IVOL_PROXY_LAMBDA, s->vratio + u * nd);
        for (size_t k = 0; k < nd; k++)
          if (isnan(s->ivol[u * nd + k]))
            s->ivol[u * nd + k] = model->ivol_scale * sqrt(365.0) * s->vratio[u * nd + k];
      }
    }
    const double *iv = s->ivol;
    for (size_t u = 0; u < nu; u++)
      for (size_t k = 0; k < nd; k++)
        s->vratio[u * nd + k] = uses_cov(model->kind)
                                    ? (k >= 1 ? log(iv[u * nd + k] / iv[u * nd + k - 1]) : NAN)
                                    : (k >= h ? iv[u * nd + k] / iv[u * nd + k - h] : NAN);
  }
  s->nf = uses_cov(model->kind) && s->n_opt > 0 ? 2 * nu : nu;

  /* Distinct signatures in order of first appearance (deterministic). */
  const int scen_funding = model->funding && mkt->funding &&
                           (model->kind == IM_MODEL_HS || model->kind == IM_MODEL_FHS);
  for (size_t p = 0; p < np; p++) {
    const uint64_t m = im_book_underlyings(book, p), fm = scen_funding ? funded(book, p) : 0;
    size_t j = 0;
    while (j < s->n_sig && (s->sig[j] != m || s->fsig[j] != fm)) j++;
    if (j == s->n_sig) {
      s->sig[s->n_sig] = m;
      s->fsig[s->n_sig++] = fm;
    }
    s->sig_of[p] = (uint32_t)j;
  }
  s->cum = malloc((s->n_sig ? s->n_sig : 1) * (nd + 1) * sizeof *s->cum);
  if (!s->cum) goto nomem;
  if (model->funding && mkt->funding) {
    if (!(s->fsum = malloc(nu * nd * sizeof *s->fsum))) goto nomem;
    funding_sums(mkt, h, s->fsum);
  }
  for (size_t j = 0; j < s->n_sig; j++) {
    uint32_t *cum = s->cum + j * (nd + 1);
    cum[0] = 0;
    for (size_t k = 0; k < nd; k++) {
      int usable = 1;
      for (size_t u = 0; u < nu && usable; u++) {
        if ((s->sig[j] >> u & 1) && isnan(s->ratio[u * nd + k])) usable = 0;
        if ((s->sig[j] >> (32 + u) & 1) && model->kind != IM_MODEL_GRID &&
            isnan(s->vratio[u * nd + k]))
          usable = 0;
        if ((s->fsig[j] >> u & 1) && isnan(s->fsum[u * nd + k])) usable = 0;
      }
      cum[k + 1] = cum[k] + (uint32_t)usable;
    }
  }
  /* Exposures per (portfolio, underlying), underlyings in increasing order. */
  size_t npos = np ? book->pos_start[np] : 0;
  s->lin_start = calloc(np + 1, sizeof *s->lin_start);
  s->lin_und = malloc((npos ? npos : 1) * sizeof *s->lin_und);
  s->lin_qs = malloc((npos ? npos : 1) * sizeof *s->lin_qs);
  s->lin_qi = malloc((npos ? npos : 1) * sizeof *s->lin_qi);
  s->lin_pf = calloc(npos ? npos : 1, sizeof *s->lin_pf);
  s->lin_pfi = calloc(npos ? npos : 1, sizeof *s->lin_pfi);
  if (!s->lin_start || !s->lin_und || !s->lin_qs || !s->lin_qi || !s->lin_pf || !s->lin_pfi) goto nomem;
  size_t n_lin = 0;
  for (size_t p = 0; p < np; p++) {
    uint64_t mask = s->sig[s->sig_of[p]];
    for (size_t u = 0; u < nu; u++) {
      if (!(mask >> u & 1)) continue;
      double qs = 0, qi = 0;
      for (size_t k = book->pos_start[p]; k < book->pos_start[p + 1]; k++) {
        im_instrument in = book->instr[book->pos_instr[k]];
        if (in.und != u || im_is_option(in.kind)) continue;
        if (in.kind == IM_INVPERP)
          qi += book->pos_qty[k];
        else
          qs += book->pos_qty[k];
        if (in.kind == IM_PERP) s->lin_pf[n_lin] += book->pos_qty[k];
        if (in.kind == IM_INVPERP) s->lin_pfi[n_lin] += book->pos_qty[k];
      }
      s->lin_und[n_lin] = (uint32_t)u;
      s->lin_qs[n_lin] = qs;
      s->lin_qi[n_lin] = qi;
      n_lin++;
    }
    s->lin_start[p + 1] = n_lin;
  }
  if (im_model_has_addons(model)) {
    if (!mkt->volume) {
      st = im_err_set(err, IM_EINVAL,
                      "%s: the add-ons need traded volumes and the market file has none "
                      "(import price CSVs with a volume_quote column)",
                      model->liquidity ? "liquidity" : "concentration");
      im_model_state_free(s);
      return st;
    }
    if (!(s->adv = malloc(nu * nd * sizeof *s->adv))) goto nomem;
    for (size_t u = 0; u < nu; u++)
      for (size_t t = 0; t < nd; t++) {
        double sum = 0;
        size_t n = 0;
        for (size_t k = t + 1 >= IM_ADV_DAYS ? t + 1 - IM_ADV_DAYS : 0; k <= t; k++)
          if (!isnan(mkt->volume[u * nd + k])) {
            sum += mkt->volume[u * nd + k];
            n++;
          }
        s->adv[u * nd + t] = n ? sum / (double)n : NAN;
      }
  }
  s->lmax = im_model_has_apc(model) ? nd : (size_t)model->window;
  for (size_t j = 0; j < s->n_sig; j++)
    for (size_t t = 0; t < nd; t++) {
      int64_t k0 = window_start(s, j, t);
      if (k0 >= 0 && t - (size_t)k0 + 1 > s->lmax) s->lmax = t - (size_t)k0 + 1;
    }
  *out = s;
  return IM_OK;
nomem:
  im_model_state_free(s);
  return im_err_set(err, IM_ENOMEM, "out of memory preparing model %s", model->name);
}

im_model_scratch *im_model_scratch_alloc(const im_model_state *s) {
  im_model_scratch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  size_t win = (size_t)s->model.window, nsig = s->n_sig ? s->n_sig : 1;
  w->d = malloc(s->mkt->n_und * s->lmax * sizeof *w->d);
  w->loss = malloc(win * sizeof *w->loss);
  w->top = malloc((IM_TOPK_MAX + 1) * sizeof *w->top);
  w->gather = malloc(nsig * win * sizeof *w->gather);
  w->k0 = malloc(nsig * sizeof *w->k0);
  w->gathered = malloc(nsig);
  if (im_model_has_apc(&s->model)) { /* long and stressed windows */
    free(w->loss);
    free(w->gather);
    w->loss = malloc(s->lmax * sizeof *w->loss);
    w->gather = malloc(nsig * s->lmax * sizeof *w->gather);
  }
  const size_t nf = s->nf;
  w->cov = uses_cov(s->model.kind) ? malloc(nsig * nf * nf * sizeof *w->cov) : NULL;
  w->z_date = -1;
  w->orow = malloc((s->n_opt ? s->n_opt : 1) * s->lmax * sizeof *w->orow);
  if (s->model.kind == IM_MODEL_MC_T) {
    const size_t np = (size_t)s->model.paths;
    w->rng = gsl_rng_alloc(im_rng_philox);
    w->z = malloc(np * nf * sizeof *w->z);
    w->chi = malloc(np * sizeof *w->chi);
    w->mv = malloc(MC_SLOTS * nf * np * sizeof *w->mv);
    w->mv_tag = malloc(MC_SLOTS * sizeof *w->mv_tag);
    w->chol = malloc(nf * nf * sizeof *w->chol);
    w->z_tag = malloc(nf);
    w->mc_orow = malloc((s->n_opt ? s->n_opt : 1) * np * sizeof *w->mc_orow);
    w->mc_otag = malloc((s->n_opt ? s->n_opt : 1) * sizeof *w->mc_otag);
    if (w->mc_otag)
      for (size_t i = 0; i < s->n_opt; i++) w->mc_otag[i] = -1;
    free(w->loss);
    w->loss = malloc((np > win ? np : win) * sizeof *w->loss);
    if (w->mv_tag)
      for (size_t i = 0; i < MC_SLOTS; i++) w->mv_tag[i] = -1;
  }
  if (!w->d || !w->loss || !w->top || !w->gather || !w->k0 || !w->gathered || !w->orow ||
      (uses_cov(s->model.kind) && !w->cov) ||
      (s->model.kind == IM_MODEL_MC_T && (!w->rng || !w->z || !w->chi || !w->mv || !w->mv_tag || !w->chol || !w->z_tag ||
                                            !w->mc_orow || !w->mc_otag))) {
    im_model_scratch_free(w);
    return NULL;
  }
  return w;
}

void im_model_scratch_free(im_model_scratch *w) {
  if (!w) return;
  free(w->d);
  free(w->loss);
  free(w->top);
  free(w->gather);
  free(w->k0);
  free(w->gathered);
  free(w->cov);
  free(w->orow);
  if (w->rng) gsl_rng_free(w->rng);
  free(w->z);
  free(w->chi);
  free(w->mv);
  free(w->mv_tag);
  free(w->mc_orow);
  free(w->mc_otag);
  free(w->chol);
  free(w->z_tag);
  free(w);
}

/* Underlyings with a close at day t. */
/* Risk factors with a value at day t: spot closes, and implied vols. */
static uint64_t present_at(const im_model_state *s, size_t t) {
  const im_market *mkt = s->mkt;
  uint64_t m = 0;
  for (size_t u = 0; u < mkt->n_und; u++) {
    if (!isnan(mkt->close[u * mkt->n_days + t])) m |= UINT64_C(1) << u;
    if (s->ivol && !isnan(s->ivol[u * mkt->n_days + t])) m |= UINT64_C(1) << (32 + u);
  }
  return m;
}

/* Value of one option instrument (per coin) at spot sp, ATM vol atm and
 * tau years to expiry, strike k. */
static double option_value(const im_model_state *s, const im_instrument *in, double sp,
                           double atm, double k, double tau) {
  const double vol = atm * im_smile_factor(&s->model.smile, k / sp, tau);
  return im_black76(sp, k, vol, tau, in->kind == IM_CALL);
}

/* Realised P&L of portfolio p from the close of t to the close of t+h. */
static double realised_pnl(const im_model_state *s, size_t p, size_t t) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, t1 = t + (size_t)s->model.horizon;
  if (t1 >= nd) return NAN;
  double pnl = 0;
  for (size_t j = s->lin_start[p]; j < s->lin_start[p + 1]; j++) {
    const double s0 = mkt->close[s->lin_und[j] * nd + t], s1 = mkt->close[s->lin_und[j] * nd + t1];
    pnl += (s->lin_qs[j] * s0 + s->lin_qi[j]) * (s1 / s0 - 1.0); /* NaN if a close is missing */
    const double ef = s->fsum ? s->lin_pf[j] * s0 + s->lin_pfi[j] : 0;
    if (ef != 0) /* the funding of days t+1 .. t+h: NaN (not observed) if one is unknown */
      pnl -= ef * s->fsum[s->lin_und[j] * nd + t1];
  }
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    const size_t u = in->und;
    const double s0 = mkt->close[u * nd + t], s1 = mkt->close[u * nd + t1];
    const double k = in->money * s0, tau0 = in->tenor / 365.0;
    const double tau1 = (in->tenor - s->model.horizon) / 365.0;
    /* No implied vol at t (or at t+h before expiry): not observed (Black-76
     * at a NaN vol would fall back to the intrinsic value). */
    if (isnan(s->ivol[u * nd + t]) || (tau1 > 0 && isnan(s->ivol[u * nd + t1]))) return NAN;
    const double v0 = option_value(s, in, s0, s->ivol[u * nd + t], k, tau0);
    /* Expired within the horizon: intrinsic value, no vol needed. */
    const double v1 = tau1 > 0 ? option_value(s, in, s1, s->ivol[u * nd + t1], k, tau1)
                               : im_black76(s1, k, 0, 0, in->kind == IM_CALL);
    pnl += s->opt_qty[j] * (v1 - v0);
  }
  return pnl;
}

static int64_t kmin_of(const im_model_scratch *w) { return w->kmin; }

/* Scenario losses of portfolio p over its window: loss[j] = -sum_u E_u d_u[col j]. */
static void window_losses(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                          size_t win, const double *col0, const uint32_t *gather) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days;
  double *restrict loss = w->loss;
  for (size_t j = s->lin_start[p]; j < s->lin_start[p + 1]; j++) {
    const uint32_t u = s->lin_und[j];
    const double e = -(s->lin_qs[j] * mkt->close[u * nd + t] + s->lin_qi[j]);
    const double *restrict d = gather ? w->d + u * s->lmax : col0 + u * s->lmax;
    const int first = j == s->lin_start[p];
    if (gather) {
      for (size_t i = 0; i < win; i++) loss[i] = (first ? 0.0 : loss[i]) + e * d[gather[i]];
    } else if (first) {
      for (size_t i = 0; i < win; i++) loss[i] = e * d[i];
    } else {
      for (size_t i = 0; i < win; i++) loss[i] += e * d[i];
    }
    const double ef = s->fsum ? s->lin_pf[j] * mkt->close[u * nd + t] + s->lin_pfi[j] : 0;
    if (ef != 0) { /* funding paid over the same historical days */
      const double *f = s->fsum + u * nd + (size_t)(kmin_of(w) + (gather ? 0 : col0 - w->d));
      if (gather)
        for (size_t i = 0; i < win; i++) loss[i] += ef * f[gather[i]];
      else
        for (size_t i = 0; i < win; i++) loss[i] += ef * f[i];
    }
  }
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const double q = s->opt_qty[j];
    const double *restrict row = w->orow + (size_t)s->opt_row[j] * s->lmax;
    if (gather) {
      for (size_t i = 0; i < win; i++) loss[i] -= q * row[gather[i]];
    } else {
      const double *restrict r0 = row + (col0 - w->d); /* the same offset as the spot moves */
      for (size_t i = 0; i < win; i++) loss[i] -= q * r0[i];
    }
  }
}

/* The EWMA covariance (upper triangle, [n_und][n_und]) of the daily log-moves
 * over the window of signature sj starting at k0, computed once per signature
 * and date. */
static const double *ewma_cov(const im_model_state *s, im_model_scratch *w, size_t t, uint32_t sj,
                              size_t k0) {
  const im_market *mkt = s->mkt;
  const size_t nu = mkt->n_und, nd = mkt->n_days, win = (size_t)s->model.window, nf = s->nf;
  double *cov = w->cov + (size_t)sj * nf * nf;
  if (!w->gathered[sj]) {
    const uint32_t *cum = s->cum + sj * (nd + 1);
    const uint64_t sig = s->sig[sj];
    const double lam = s->model.lambda, norm = (1 - lam) / (1 - pow(lam, (double)win));
    memset(cov, 0, nf * nf * sizeof *cov);
    /* The signature's factors: spot log-moves (bit u), vol log-changes (bit 32 + u). */
    size_t idx[2 * IM_MAX_UNDERLYINGS], m = 0;
    const double *row[2 * IM_MAX_UNDERLYINGS];
    for (size_t f = 0; f < nf; f++)
      if (sig >> factor_bit(f, nu) & 1) {
        row[m] = f < nu ? s->ratio + f * nd : s->vratio + (f - nu) * nd;
        idx[m++] = f;
      }
    double wgt = norm;
    for (size_t k = t + 1; k-- > k0;) { /* most recent first: weight norm lambda^i */
      if (cum[k + 1] == cum[k]) continue; /* not usable */
      for (size_t a = 0; a < m; a++) {
        const double ra = row[a][k];
        for (size_t b = a; b < m; b++) cov[idx[a] * nf + idx[b]] += wgt * ra * row[b][k];
      }
      wgt *= lam;
    }
    w->gathered[sj] = 1;
  }
  return cov;
}

/* E' Sigma E of portfolio p at day t. */
static double ewma_variance(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                            uint32_t sj, size_t k0) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days;
  const double *cov = ewma_cov(s, w, t, sj, k0);
  const size_t nf = s->nf;
  double var = 0;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++) {
    const size_t a = s->lin_und[i];
    const double ea = s->lin_qs[i] * mkt->close[a * nd + t] + s->lin_qi[i];
    for (size_t j = s->lin_start[p]; j < s->lin_start[p + 1]; j++) {
      const size_t b = s->lin_und[j];
      const double eb = s->lin_qs[j] * mkt->close[b * nd + t] + s->lin_qi[j];
      var += ea * eb * (a <= b ? cov[a * nf + b] : cov[b * nf + a]);
    }
  }
  return var > 0 ? var : 0;
}

/* Delta-gamma-vega VaR or ES of portfolio p at t (ewma kinds, a portfolio
 * holding options): model.h, "Options under ewma_normal and ewma_t". */
static void ewma_dg(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                    uint32_t sj, size_t k0, size_t n_lev, const im_level *lev, const double *qs,
                    double *v) {
  const im_market *mkt = s->mkt;
  const size_t nu = mkt->n_und, nd = mkt->n_days, nf = s->nf;
  const double *cov = ewma_cov(s, w, t, sj, k0);
  const uint64_t sig = s->sig[sj];
  size_t idx[IM_DG_MAX], pos[IM_DG_MAX], m = 0, ng = 0;
  for (size_t f = 0; f < nf; f++)
    if (sig >> factor_bit(f, nu) & 1) {
      pos[f] = m;
      idx[m++] = f;
      ng += f < nu; /* spot factors come first: they carry the gamma */
    }
  double b[IM_DG_MAX] = {0}, g[IM_DG_MAX] = {0}, theta = 0;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++) {
    const size_t u = s->lin_und[i];
    b[pos[u]] += s->lin_qs[i] * mkt->close[u * nd + t] + s->lin_qi[i];
  }
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    const size_t u = in->und;
    const double q = s->opt_qty[j], s0 = mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
    const double k = in->money * s0, tau0 = in->tenor / 365.0;
    const double tau1 = (in->tenor - s->model.horizon) / 365.0;
    const double sm = im_smile_factor(&s->model.smile, k / s0, tau0);
    double delta, gamma, vega;
    im_black76_greeks(s0, k, atm0 * sm, tau0, in->kind == IM_CALL, &delta, &gamma, &vega);
    b[pos[u]] += q * delta * s0;              /* dV/d ln S */
    g[pos[u]] += q * gamma * s0 * s0;         /* S^2 d2V/dS2 */
    b[pos[nu + u]] += q * vega * sm * atm0;   /* dV/d ln ATM, smile factor held */
    const double v0 = option_value(s, in, s0, atm0, k, tau0);
    const double v1 = tau1 > 0 ? option_value(s, in, s0, atm0, k, tau1)
                               : im_black76(s0, k, 0, 0, in->kind == IM_CALL);
    theta += q * (v1 - v0); /* ageing by h days at unchanged spot and vol */
  }
  double c[IM_DG_MAX * IM_DG_MAX], kap[4];
  const double h = (double)s->model.horizon;
  for (size_t a = 0; a < m; a++)
    for (size_t e = a; e < m; e++)
      c[a * m + e] = c[e * m + a] = h * cov[idx[a] * nf + idx[e]];
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

/* Unit P&L on the mc_t paths of option instrument o (its underlying's spot
 * moved to s e^x, its ATM vol to atm e^y, aged h days; intrinsic at expiry),
 * for the moves mv of signature sj at date t; computed once per (t, sj). */
static const double *mc_option_row(const im_model_state *s, im_model_scratch *w, size_t t,
                                   uint32_t sj, size_t o, const double *mv) {
  const int64_t tag = (int64_t)t * (int64_t)s->n_sig + sj;
  const size_t np = (size_t)s->model.paths, nu = s->mkt->n_und, nd = s->mkt->n_days;
  double *row = w->mc_orow + o * np;
  if (w->mc_otag[o] == tag) return row;
  const im_instrument *in = &s->book->instr[s->opt_list[o]];
  const size_t u = in->und;
  const double s0 = s->mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
  const double k = in->money * s0, tau0 = in->tenor / 365.0;
  const double tau1 = (in->tenor - s->model.horizon) / 365.0;
  const double v0 = option_value(s, in, s0, atm0, k, tau0);
  const double *dx = mv + u * np, *dy = mv + (nu + u) * np;
  for (size_t j = 0; j < np; j++) {
    const double s1 = s0 * (1 + dx[j]);
    const double v1 = tau1 > 0 ? option_value(s, in, s1, atm0 * (1 + dy[j]), k, tau1)
                               : im_black76(s1, k, 0, 0, in->kind == IM_CALL);
    row[j] = v1 - v0;
  }
  w->mc_otag[o] = tag;
  return row;
}

/* Scenario moves over days kmin..t of every underlying in `used` (relative
 * spot moves in w->d) and the unit scenario P&L of every option instrument
 * the tile needs (w->orow): spot from those moves, ATM vol by the same day's
 * change, aged by h days. */
static void build_moves(const im_model_state *s, im_model_scratch *w, size_t t, int64_t kmin,
                        uint64_t used, uint64_t present) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days;
    const size_t span = (size_t)((int64_t)t + 1 - kmin);
    w->kmin = kmin;
    /* Relative moves of every underlying the tile uses. */
    for (size_t u = 0; u < mkt->n_und && span > 0 && !uses_cov(s->model.kind); u++) {
      if (!(used >> u & 1)) continue;
      const double *r = s->ratio + u * nd + (size_t)kmin;
      double *d = w->d + u * s->lmax;
      if (s->model.kind == IM_MODEL_FHS) {
        const double vol = s->sigf[u * nd + t];
        for (size_t j = 0; j < span; j++) d[j] = expm1(vol * r[j]);
      } else {
        for (size_t j = 0; j < span; j++) d[j] = r[j] - 1.0;
      }
    }
    /* Unit scenario P&L of every option instrument the tile needs: spot from
     * the moves above, ATM vol by the same day's change, aged by h days. */
    for (size_t o = 0; o < s->n_opt && span > 0 && s->model.kind != IM_MODEL_GRID &&
                       !uses_cov(s->model.kind); o++) {
      const im_instrument *in = &s->book->instr[s->opt_list[o]];
      const size_t u = in->und;
      if (!(used >> u & 1) || !(used >> (32 + u) & 1) || !(present >> (32 + u) & 1)) continue;
      const double s0 = mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
      const double k = in->money * s0, tau0 = in->tenor / 365.0;
      const double tau1 = (in->tenor - s->model.horizon) / 365.0;
      const double v0 = option_value(s, in, s0, atm0, k, tau0);
      const double *d = w->d + u * s->lmax, *vr = s->vratio + u * nd + (size_t)kmin;
      double *row = w->orow + o * s->lmax;
      for (size_t j = 0; j < span; j++) {
        const double s1 = s0 * (1 + d[j]);
        const double v1 = tau1 > 0 ? option_value(s, in, s1, atm0 * vr[j], k, tau1)
                                   : im_black76(s1, k, 0, 0, in->kind == IM_CALL);
        row[j] = v1 - v0; /* NaN on days the portfolio cannot use */
      }
    }
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

/* The draws of factor f (standard normals) and the chi-square of every path
 * at date t, once per date. Each (factor, path) and each path's chi-square
 * has its own stream keyed by the calendar date (days since 1970-01-01), not
 * by the market row: a margin depends on (seed, model, date, path) and the
 * data it uses only. */
static const double *mc_normals(const im_model_state *s, im_model_scratch *w, size_t t, size_t f) {
  const size_t np = (size_t)s->model.paths;
  const uint32_t date = (uint32_t)(s->mkt->day0 + (int64_t)t);
  if (w->z_date != (int64_t)t) {
    const uint32_t purpose = im_rng_hash(s->model.name);
    for (size_t i = 0; i < np; i++) {
      im_rng_stream(w->rng, s->model.seed, purpose, date, (uint32_t)i);
      w->chi[i] = gsl_ran_chisq(w->rng, s->model.nu);
    }
    for (size_t g = 0; g < s->nf; g++) w->z_tag[g] = 0;
    w->z_date = (int64_t)t;
  }
  double *z = w->z + f * np;
  if (!w->z_tag[f]) {
    const uint32_t purpose = mc_purpose(s, f);
    for (size_t i = 0; i < np; i++) {
      im_rng_stream(w->rng, s->model.seed, purpose, date, (uint32_t)i);
      z[i] = gsl_ran_ugaussian(w->rng);
    }
    w->z_tag[f] = 1;
  }
  return z;
}

/* Simulated moves [nf][paths] of signature sj at date t: a spot factor's
 * simple return X floored at -100% (a price cannot fall below zero; a
 * short's expected loss E X exists, where under exp(X) - 1 it would not), a
 * vol factor's relative change exp(Y) - 1 (a vol stays positive; option
 * values are bounded in vol, so their ES exists too). */
static const double *mc_moves(const im_model_state *s, im_model_scratch *w, size_t t, uint32_t sj,
                              size_t k0) {
  const size_t nu = s->mkt->n_und, nf = s->nf, np = (size_t)s->model.paths;
  const int64_t tag = (int64_t)t * (int64_t)s->n_sig + sj;
  double *mv = w->mv + (sj % MC_SLOTS) * nf * np;
  if (w->mv_tag[sj % MC_SLOTS] == tag) return mv;
  const double *cov = ewma_cov(s, w, t, sj, k0);
  const uint64_t sig = s->sig[sj];
  size_t idx[2 * IM_MAX_UNDERLYINGS], m = 0;
  const double *z[2 * IM_MAX_UNDERLYINGS];
  for (size_t f = 0; f < nf; f++)
    if (sig >> factor_bit(f, nu) & 1) idx[m++] = f;
  for (size_t r = 0; r < m; r++) z[r] = mc_normals(s, w, t, idx[r]);
  double *l = w->chol;
  mc_cholesky(s, cov, idx, m, l);
  const double dof = s->model.nu;
  for (size_t i = 0; i < np; i++) {
    const double scale = sqrt((dof - 2) / w->chi[i]);
    for (size_t r = 0; r < m; r++) {
      double x = 0;
      for (size_t c = 0; c <= r; c++) x += l[r * m + c] * z[c][i];
      x *= scale;
      mv[idx[r] * np + i] = idx[r] < nu ? fmax(x, -1.0) : expm1(x);
    }
  }
  w->mv_tag[sj % MC_SLOTS] = tag;
  return mv;
}

/* The VaR or ES of level l over n scenario losses (never negative). */
static double level_value(double *loss, size_t n, const im_level *l, double *top) {
  const double v = l->measure == IM_MEASURE_ES ? im_es(loss, n, l->confidence, top)
                                               : im_var(loss, n, l->confidence, top);
  return v > 0 ? v : 0;
}

void im_model_eval_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                        size_t d0, size_t d1, double *im, double *pnl, int8_t *exceed) {
  const im_level own = {s->model.confidence, s->model.measure};
  im_model_eval_levels(s, w, p0, p1, d0, d1, 1, &own, im, pnl, exceed);
}

void im_model_eval_levels(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                          size_t d0, size_t d1, size_t n_lev, const im_level *lev, double *im,
                          double *pnl, int8_t *exceed) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, nt = d1 - d0, win = (size_t)s->model.window;
  const size_t stride = (p1 - p0) * nt; /* between levels of im and exceed */
  double qs[IM_MAX_LEVELS];
  for (size_t l = 0; l < n_lev && is_parametric(s->model.kind); l++)
    qs[l] = q_scale(&s->model, lev[l].confidence, lev[l].measure);
  for (size_t t = d0; t < d1; t++) {
    const uint64_t present = present_at(s, t);
    /* Window starts of the signatures in this tile, and the earliest. */
    for (size_t j = 0; j < s->n_sig; j++) {
      w->k0[j] = -2; /* not needed by this tile */
      w->gathered[j] = 0;
    }
    int64_t kmin = (int64_t)t + 1;
    uint64_t used = 0;
    for (size_t p = p0; p < p1; p++) {
      uint32_t j = s->sig_of[p];
      if (w->k0[j] != -2) continue;
      w->k0[j] = (s->sig[j] & ~present) ? -1 : window_start(s, j, t);
      if (w->k0[j] >= 0) {
        used |= s->sig[j];
        if (w->k0[j] < kmin) kmin = w->k0[j];
      }
    }
    build_moves(s, w, t, kmin, used, present);
    for (size_t p = p0; p < p1; p++) {
      const size_t o = (p - p0) * nt + (t - d0);
      const uint32_t sj = s->sig_of[p];
      const int64_t k0 = w->k0[sj];
      double v[IM_MAX_LEVELS];
      for (size_t l = 0; l < n_lev; l++) v[l] = NAN;
      if (s->model.kind == IM_MODEL_GRID) { /* the worst case: no confidence level */
        if (!(s->sig[sj] & ~present)) {
          double g = 0;
          for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++)
            g += grid_worst(s, p, s->lin_und[i], t,
                            s->lin_qs[i] * mkt->close[s->lin_und[i] * nd + t] + s->lin_qi[i]);
          for (size_t l = 0; l < n_lev; l++) v[l] = g;
        }
      } else if (k0 >= 0 && s->model.kind == IM_MODEL_MC_T) {
        const size_t np = (size_t)s->model.paths;
        const double *mv = mc_moves(s, w, t, sj, (size_t)k0);
        double *loss = w->loss;
        for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++) {
          const size_t u = s->lin_und[i];
          const double e = -(s->lin_qs[i] * mkt->close[u * nd + t] + s->lin_qi[i]);
          const double *d = mv + u * np;
          for (size_t j = 0; j < np; j++) loss[j] = (i == s->lin_start[p] ? 0.0 : loss[j]) + e * d[j];
        }
        for (size_t i = s->opt_start[p]; i < s->opt_start[p + 1]; i++) {
          const double q = s->opt_qty[i], *row = mc_option_row(s, w, t, sj, s->opt_row[i], mv);
          for (size_t j = 0; j < np; j++) loss[j] -= q * row[j];
        }
        for (size_t l = 0; l < n_lev; l++) v[l] = level_value(loss, np, &lev[l], w->top);
      } else if (k0 >= 0 && is_parametric(s->model.kind) && s->opt_start[p + 1] > s->opt_start[p]) {
        ewma_dg(s, w, p, t, sj, (size_t)k0, n_lev, lev, qs, v);
        for (size_t l = 0; l < n_lev; l++) v[l] = v[l] > 0 ? v[l] : 0;
      } else if (k0 >= 0 && is_parametric(s->model.kind)) {
        const double sd = sqrt((double)s->model.horizon * ewma_variance(s, w, p, t, sj, (size_t)k0));
        for (size_t l = 0; l < n_lev; l++) v[l] = qs[l] * sd > 0 ? qs[l] * sd : 0;
      } else if (k0 >= 0) {
        const uint32_t *gather = NULL;
        if (t - (size_t)k0 + 1 != win) {
          /* Gaps inside the span: the usable columns, once per signature. */
          gather = w->gather + sj * win;
          if (!w->gathered[sj]) {
            const uint32_t *cum = s->cum + sj * (nd + 1);
            uint32_t *g = w->gather + sj * win;
            size_t n = 0;
            for (size_t k = (size_t)k0; k <= t; k++)
              if (cum[k + 1] > cum[k]) g[n++] = (uint32_t)(k - (size_t)kmin);
            w->gathered[sj] = 1;
          }
        }
        /* One scenario vector serves every level. */
        window_losses(s, w, p, t, win, w->d + (size_t)(k0 - kmin), gather);
        for (size_t l = 0; l < n_lev; l++) v[l] = level_value(w->loss, win, &lev[l], w->top);
      }
      const double r = realised_pnl(s, p, t);
      pnl[o] = r;
      for (size_t l = 0; l < n_lev; l++) {
        im[l * stride + o] = v[l];
        exceed[l * stride + o] = (isnan(v[l]) || isnan(r)) ? -1 : (-r > v[l] ? 1 : 0);
      }
    }
  }
}

/* The VaR or ES of the model's measure over n scenario losses. */
static double measure(const im_model_state *s, im_model_scratch *w, size_t n) {
  const im_level own = {s->model.confidence, s->model.measure};
  return level_value(w->loss, n, &own, w->top);
}

/* Columns (relative to kmin) of the days in [a, b] usable for signature sj. */
static size_t usable_cols(const im_model_state *s, uint32_t sj, int64_t a, int64_t b, int64_t kmin,
                          uint32_t *cols) {
  const uint32_t *cum = s->cum + sj * (s->mkt->n_days + 1);
  size_t n = 0;
  for (int64_t k = a < 0 ? 0 : a; k <= b; k++)
    if (cum[k + 1] > cum[k]) cols[n++] = (uint32_t)(k - kmin);
  return n;
}

void im_model_apc_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                       size_t d0, size_t d1, const double *im, const double *pnl, double *apc,
                       int8_t *exceed_total) {
  const im_model *md = &s->model;
  const size_t nt = d1 - d0;
  for (size_t t = d0; t < d1; t++) {
    const uint64_t present = present_at(s, t);
    const int64_t lr0 = (int64_t)t - IM_APC_YEARS_DAYS + 1;
    const int64_t ss = md->stress_start - s->mkt->day0, se = md->stress_end - s->mkt->day0;
    const int stress_now = md->apc_stress && ss <= (int64_t)t;
    int64_t kmin = lr0 < 0 ? 0 : lr0;
    if (stress_now && ss < kmin) kmin = ss < 0 ? 0 : ss;
    uint64_t used = 0;
    for (size_t p = p0; p < p1; p++)
      if (!isnan(im[(p - p0) * nt + (t - d0)])) used |= s->sig[s->sig_of[p]];
    for (size_t j = 0; j < s->n_sig; j++) w->gathered[j] = 0;
    if (used) build_moves(s, w, t, kmin, used, present);
    for (size_t p = p0; p < p1; p++) {
      const size_t o = (p - p0) * nt + (t - d0);
      const double core = im[o];
      apc[o] = NAN;
      exceed_total[o] = -1;
      if (isnan(core)) continue;
      const uint32_t sj = s->sig_of[p];
      uint32_t *cols = w->gather + (size_t)sj * s->lmax;
      size_t n = usable_cols(s, sj, lr0, (int64_t)t, kmin, cols);
      window_losses(s, w, p, t, n, w->d, cols);
      const double lr = measure(s, w, n);
      double m = core;
      if (stress_now) {
        n = usable_cols(s, sj, ss, se < (int64_t)t ? se : (int64_t)t, kmin, cols);
        if (n > 0) {
          window_losses(s, w, p, t, n, w->d, cols);
          m = 0.75 * core + 0.25 * measure(s, w, n);
        }
      }
      if (md->apc_floor && lr > m) m = lr;
      if (md->apc_buffer) {
        double keep = lr > 0 ? (1.25 * lr - m) / (0.25 * lr) : 1;
        keep = keep < 0 ? 0 : keep > 1 ? 1 : keep;
        m += 0.25 * m * keep;
      }
      apc[o] = m - core;
      exceed_total[o] = isnan(pnl[o]) ? -1 : (-pnl[o] > m ? 1 : 0);
    }
  }
}

void im_model_addon_tile(const im_model_state *s, size_t p0, size_t p1, size_t d0, size_t d1,
                         const double *im, const double *pnl, const double *apc, double *liq,
                         double *conc, int8_t *exceed_total) {
  const im_model *md = &s->model;
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, nt = d1 - d0, nu = mkt->n_und;
  for (size_t p = p0; p < p1; p++)
    for (size_t t = d0; t < d1; t++) {
      const size_t o = (p - p0) * nt + (t - d0);
      const double core = im[o];
      double pos[IM_MAX_UNDERLYINGS] = {0};
      /* Delta-equivalent USD position per underlying. */
      for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++) {
        const size_t u = s->lin_und[i];
        pos[u] += s->lin_qs[i] * mkt->close[u * nd + t] + s->lin_qi[i];
      }
      for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
        const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
        const size_t u = in->und;
        const double s0 = mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
        const double k = in->money * s0, tau0 = in->tenor / 365.0;
        double delta, gamma, vega;
        im_black76_greeks(s0, k, atm0 * im_smile_factor(&md->smile, k / s0, tau0), tau0,
                          in->kind == IM_CALL, &delta, &gamma, &vega);
        pos[u] += s->opt_qty[j] * delta * s0;
      }
      /* The largest sqrt(|P| / ADV) and |P| / ADV over the underlyings held. */
      double ratio = 0;
      const uint64_t sig = s->sig[s->sig_of[p]];
      for (size_t u = 0; u < nu; u++)
        if (sig >> u & 1) {
          const double r = fabs(pos[u]) / s->adv[u * nd + t]; /* NaN if ADV unknown */
          ratio = (isnan(r) || isnan(ratio)) ? NAN : fmax(ratio, r);
        }
      double total = core + (apc ? apc[o] : 0);
      if (md->liquidity) {
        liq[o] = isnan(core) ? NAN : md->liq_k * core * fmax(0, sqrt(ratio) - md->liq_threshold);
        if (isnan(ratio)) liq[o] = NAN;
        total += liq[o];
      }
      if (md->concentration) {
        const double days = ratio / md->conc_share;
        conc[o] = (isnan(core) || isnan(days)) ? NAN
                                               : core * fmax(0, sqrt(days / (double)md->horizon) - 1);
        total += conc[o];
      }
      exceed_total[o] = (isnan(total) || isnan(pnl[o])) ? -1 : (-pnl[o] > total ? 1 : 0);
    }
}
