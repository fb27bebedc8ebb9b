/* The model kinds: their definitions (below), their descriptors (the table
 * at the end: one row per kind) and the checks every caller runs through.
 * Each kind's computation is in models/<kind>.c behind the operations of
 * models/kind.h; what they share is in models/common.c. */
#include "model.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "models/kind.h"

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

static int applies_apc(const im_model *m) { return im_model_has_apc(m); }
static int applies_stress(const im_model *m) { return m->apc_stress; }

/* The parameters only some kinds take; bit i of a kind's params is row i.
 * Ranges as the configuration and im_model_check enforce them. */
#define P_(field) offsetof(im_model, field)
const im_param im_params[IM_N_PARAMS] = {
    {"lambda", "lambda", IM_PARAM_NUMBER, P_(lambda), 0.94, 0, 1, 1, 1,
     "it must be strictly between 0 and 1", "EWMA decay (RiskMetrics daily 0.94)", NULL},
    {"nu", "nu", IM_PARAM_NUMBER, P_(nu), 4, 2, 1e6, 1, 0, "the t needs nu > 2 (at most 1e6)",
     "Student-t degrees of freedom", NULL},
    {"range", "grid_range", IM_PARAM_NUMBER, P_(grid_range), 0.16, 0, 1, 1, 1,
     "it must be a fraction strictly between 0 and 1", "largest core spot shock (0.16: +-16%)",
     NULL},
    {"steps", "grid_steps", IM_PARAM_COUNT, P_(grid_steps), 4, 1, 1000, 0, 0,
     "it must be 1 to 1000", "core spot shocks per side", NULL},
    {"extended", "grid_extended", IM_PARAM_FLAG, P_(grid_extended), 1, 0, 1, 0, 0,
     "true or false", "add the dampened extended moves", NULL},
    {"paths", "paths", IM_PARAM_COUNT, P_(paths), 10000, 100, 1e7, 0, 0,
     "it must be 100 to 1e7", "simulated paths per date", NULL},
    {"apc_buffer", "apc_buffer", IM_PARAM_FLAG, P_(apc_buffer), 0, 0, 1, 0, 0, "true or false",
     "25% buffer released in stress (EMIR RTS 153/2013 art. 28)", applies_apc},
    {"apc_stress", "apc_stress", IM_PARAM_FLAG, P_(apc_stress), 0, 0, 1, 0, 0, "true or false",
     "25% weight on the stressed period", applies_apc},
    {"apc_floor", "apc_floor", IM_PARAM_FLAG, P_(apc_floor), 0, 0, 1, 0, 0, "true or false",
     "margin at least its 10-year level", applies_apc},
    /* The default stressed period: May to December 2022 (Terra/Luna, Three
     * Arrows, FTX), the crypto market's worst stretch in the shipped history. */
    {"stress_start", "stress_start", IM_PARAM_DATE, P_(stress_start), 19113 /* 2022-05-01 */,
     -1e7, 1e7, 0, 0, "a date", "first day of the stressed period", applies_stress},
    {"stress_end", "stress_end", IM_PARAM_DATE, P_(stress_end), 19357 /* 2022-12-31 */, -1e7,
     1e7, 0, 0, "a date", "last day of the stressed period", applies_stress},
};
#undef P_

#define P_LAMBDA (1u << 0)
#define P_NU (1u << 1)
#define P_GRID (7u << 2) /* range, steps, extended */
#define P_PATHS (1u << 5)
#define P_APC (31u << 6) /* apc_buffer, apc_stress, apc_floor, stress_start, stress_end */

/* One row per kind, in im_model_kind order. */
static const im_kind_desc kinds[IM_MODEL_KINDS] = {
    {"hs", "historical simulation over the last W overlapping h-day moves", P_APC, &im_kind_hs},
    {"fhs", "filtered HS: moves devolatilised by their EWMA vol, revolatilised by today's",
     P_LAMBDA | P_APC, &im_kind_fhs},
    {"ewma_normal", "parametric delta(-gamma) VaR/ES, EWMA covariance, normal", P_LAMBDA,
     &im_kind_ewma_normal},
    {"ewma_t", "parametric delta(-gamma) VaR/ES, EWMA covariance, Student-t", P_LAMBDA | P_NU,
     &im_kind_ewma_t},
    {"grid", "exchange portfolio margin: worst loss over a spot x vol shock grid", P_GRID,
     &im_kind_grid},
    {"mc_t", "Monte Carlo multivariate t on the EWMA covariance, full revaluation",
     P_LAMBDA | P_NU | P_PATHS, &im_kind_mc_t},
};

const im_kind_desc *im_model_kind_desc(im_model_kind k) {
  return (unsigned)k < IM_MODEL_KINDS ? &kinds[k] : NULL;
}

const char *im_model_kind_name(im_model_kind k) {
  return (unsigned)k < IM_MODEL_KINDS ? kinds[k].name : "?";
}

int im_model_kind_parse(const char *name) {
  for (int k = 0; k < IM_MODEL_KINDS; k++)
    if (strcmp(name, kinds[k].name) == 0) return k;
  return -1;
}

void im_model_kind_list(char *buf, size_t len) {
  size_t n = 0;
  buf[0] = '\0';
  for (int k = 0; k < IM_MODEL_KINDS && n < len; k++)
    n += (size_t)snprintf(buf + n, len - n, "%s%s", k ? ", " : "", kinds[k].name);
}

const char *im_measure_name(im_measure m) { return m == IM_MEASURE_ES ? "es" : "var"; }

int im_model_takes(im_model_kind k, size_t i) {
  return (unsigned)k < IM_MODEL_KINDS && i < IM_N_PARAMS && (kinds[k].params >> i & 1);
}

int im_model_param_find(const char *key) {
  for (int i = 0; i < IM_N_PARAMS; i++)
    if (strcmp(key, im_params[i].key) == 0) return i;
  return -1;
}

double im_model_param_get(const im_model *m, size_t i) {
  const char *f = (const char *)m + im_params[i].offset;
  return im_params[i].type == IM_PARAM_NUMBER ? *(const double *)f : *(const int32_t *)f;
}

void im_model_param_set(im_model *m, size_t i, double v) {
  char *f = (char *)m + im_params[i].offset;
  if (im_params[i].type == IM_PARAM_NUMBER)
    *(double *)f = v;
  else
    *(int32_t *)f = (int32_t)v;
}

int im_model_param_valid(size_t i, double v) {
  const im_param *p = &im_params[i];
  return (p->lo_open ? v > p->lo : v >= p->lo) && (p->hi_open ? v < p->hi : v <= p->hi);
}

void im_model_param_defaults(im_model *m) {
  for (size_t i = 0; i < IM_N_PARAMS; i++) im_model_param_set(m, i, im_params[i].def);
}

/* A parameter's value as a configuration writes it. */
static void param_text(size_t i, double v, char *buf, size_t len) {
  switch (im_params[i].type) {
    case IM_PARAM_NUMBER: snprintf(buf, len, "%g", v); break;
    case IM_PARAM_COUNT: snprintf(buf, len, "%d", (int)v); break;
    case IM_PARAM_FLAG: snprintf(buf, len, "%s", v != 0 ? "true" : "false"); break;
    case IM_PARAM_DATE: {
      char d[11];
      im_date_format((int32_t)v, d);
      snprintf(buf, len, "%s", d);
    }
  }
}

size_t im_model_help(char *buf, size_t len) {
  size_t n = 0;
  for (int k = 0; k < IM_MODEL_KINDS; k++) {
    n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "  %-12s %s\n",
                          kinds[k].name, kinds[k].summary);
    for (size_t i = 0; i < IM_N_PARAMS; i++) {
      if (!(kinds[k].params >> i & 1)) continue;
      char def[32];
      param_text(i, im_params[i].def, def, sizeof def);
      n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
                            "  %-12s   %s: %s (default %s; %s)\n", "", im_params[i].key,
                            im_params[i].help, def, im_params[i].rule);
    }
  }
  return n;
}

/* The parameters the kind takes, each in its range. */
static im_status check_params(const im_model *md, im_err *err) {
  for (size_t i = 0; i < IM_N_PARAMS; i++) {
    if (!im_model_takes(md->kind, i)) continue;
    const double v = im_model_param_get(md, i);
    if (!im_model_param_valid(i, v))
      return im_err_set(err, IM_EINVAL, "%s: %g; %s", im_params[i].key, v, im_params[i].rule);
  }
  return IM_OK;
}

/* The layers every kind may have. */
static im_status check_layers(const im_model *md, unsigned flags, im_err *err) {
  if (im_model_has_apc(md) && !(flags & IM_KF_SCENARIOS))
    return im_err_set(err, IM_EINVAL, "apc_*: anti-procyclicality layers need kind hs or fhs");
  if (md->ivol_proxy && !(md->ivol_scale > 0 && md->ivol_scale < 100))
    return im_err_set(err, IM_EINVAL, "ivol_proxy_scale: %g is not a positive ratio", md->ivol_scale);
  if (md->liquidity && !(md->liq_k >= 0 && md->liq_k <= 100 && md->liq_threshold >= 0))
    return im_err_set(err, IM_EINVAL, "liq_k, liq_threshold: need 0 <= liq_k <= 100, threshold >= 0");
  if (md->concentration && !(md->conc_share > 0 && md->conc_share <= 1))
    return im_err_set(err, IM_EINVAL, "conc_share: %g is not a share of ADV in (0, 1]", md->conc_share);
  if (md->apc_stress && md->stress_start > md->stress_end)
    return im_err_set(err, IM_EINVAL, "stress_start: after stress_end");
  return IM_OK;
}

im_status im_model_check(const im_model *md, const im_market *mkt, im_err *err) {
  const im_kind_desc *kd = im_model_kind_desc(md->kind);
  if (!kd) return im_err_set(err, IM_EINVAL, "kind: %d is not a model kind", (int)md->kind);
  if (!(md->confidence > 0.0 && md->confidence < 1.0))
    return im_err_set(err, IM_EINVAL, "confidence: %g is not strictly between 0 and 1",
                      md->confidence);
  if (md->horizon < 1)
    return im_err_set(err, IM_EINVAL, "horizon: %d days; it must be at least 1", (int)md->horizon);
  if (md->window < 1)
    return im_err_set(err, IM_EINVAL, "window: %d scenarios; it must be at least 1",
                      (int)md->window);
  im_status st = check_params(md, err);
  if (st) return st;
  if ((kd->ops->flags & IM_KF_COV) && md->window < 2)
    return im_err_set(err, IM_EINVAL, "window: %d daily returns; the covariance needs at least 2",
                      (int)md->window);
  if ((st = check_layers(md, kd->ops->flags, err))) return st;
  if ((size_t)md->window + (size_t)md->horizon + kd->ops->burn_in > mkt->n_days)
    return im_err_set(err, IM_EINVAL,
                      "window: %d scenarios of %d-day moves need %lld days of history, "
                      "longer than the market's %zu days",
                      (int)md->window, (int)md->horizon,
                      (long long)md->window + (long long)md->horizon, mkt->n_days);
  return IM_OK;
}
