/* The machinery every model kind shares: preparing a book against a market
 * (exposures, option rows, signatures and their usable days, implied vols,
 * funding, ADV), windows and scenario losses, the realised P&L and flags, and
 * the tile walk that calls a kind's evaluation. What each kind computes is in
 * its own file; model.c describes the definitions.
 *
 * A scenario day is usable for a portfolio when the kind's series of every
 * underlying it holds is defined there (and, for options, the implied-vol
 * move; for perpetuals under historical scenarios with funding, the funding
 * of the h days). The window at t is the last W usable days k <= t; on
 * gapless history that is simply days t-W+1 .. t. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "risk.h"

/* First day k0 of the window of signature sig at day t, or -1 when fewer than
 * W usable days precede t. cum is non-decreasing, so binary search for the
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

void im_log_moves(const double *c, size_t nd, double *r) {
  for (size_t k = 0; k < nd; k++) r[k] = k >= 1 ? log(c[k] / c[k - 1]) : NAN;
}

im_status im_prepare_log_moves(im_model_state *s) {
  const size_t nd = s->mkt->n_days;
  for (size_t u = 0; u < s->mkt->n_und; u++)
    im_log_moves(s->mkt->close + u * nd, nd, s->series + u * nd);
  return IM_OK;
}

void im_ewma_vol(const double *c, size_t nd, double lambda, double *out) {
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
  if (s->ops && s->ops->state_free) s->ops->state_free(s);
  void *owned[] = {s->series, s->vratio,  s->ivol,    s->opt_list, s->opt_start, s->opt_row,
                   s->opt_qty, s->sig,    s->fsig,    s->sig_of,   s->cum,       s->lin_start,
                   s->lin_und, s->lin_qs, s->lin_qi,  s->lin_pf,   s->lin_pfi,   s->fsum,
                   s->adv};
  for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) free(owned[i]);
  free(s);
}

/* Option positions: the book's option instruments and each portfolio's rows. */
static im_status prep_options(im_model_state *s) {
  const im_book *book = s->book;
  const size_t np = book->n_port, n_pos = np ? book->pos_start[np] : 0;
  s->opt_list = malloc((book->n_instr ? book->n_instr : 1) * sizeof *s->opt_list);
  s->opt_start = calloc(np + 1, sizeof *s->opt_start);
  s->opt_row = malloc((n_pos ? n_pos : 1) * sizeof *s->opt_row);
  s->opt_qty = malloc((n_pos ? n_pos : 1) * sizeof *s->opt_qty);
  if (!s->opt_list || !s->opt_start || !s->opt_row || !s->opt_qty) return IM_ENOMEM;
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
  return IM_OK;
}

/* The implied vols options are revalued with (the proxy filled in where the
 * market has none, days <= k only) and their moves: the h-day ratio for
 * scenario kinds, the daily log-change for covariance kinds. */
static im_status prep_ivol(im_model_state *s) {
  const im_market *mkt = s->mkt;
  const size_t nu = mkt->n_und, nd = mkt->n_days, h = (size_t)s->model.horizon;
  s->vratio = malloc(nu * nd * sizeof *s->vratio);
  s->ivol = malloc(nu * nd * sizeof *s->ivol);
  if (!s->vratio || !s->ivol) return IM_ENOMEM;
  for (size_t i = 0; i < nu * nd; i++) s->ivol[i] = mkt->ivol ? mkt->ivol[i] : NAN;
  for (size_t u = 0; u < nu && s->model.ivol_proxy; u++) {
    double *iv = s->ivol + u * nd, *vol = s->vratio + u * nd; /* vratio as workspace */
    im_ewma_vol(mkt->close + u * nd, nd, IM_IVOL_PROXY_LAMBDA, vol);
    for (size_t k = 0; k < nd; k++)
      if (isnan(iv[k])) iv[k] = s->model.ivol_scale * sqrt(365.0) * vol[k];
  }
  const int cov = s->ops->flags & IM_KF_COV;
  for (size_t u = 0; u < nu; u++) {
    const double *iv = s->ivol + u * nd;
    double *vr = s->vratio + u * nd;
    for (size_t k = 0; k < nd; k++)
      vr[k] = cov ? (k >= 1 ? log(iv[k] / iv[k - 1]) : NAN) : (k >= h ? iv[k] / iv[k - h] : NAN);
  }
  return IM_OK;
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

/* Distinct signatures in order of first appearance (deterministic). */
static im_status prep_signatures(im_model_state *s) {
  const im_book *book = s->book;
  const size_t np = book->n_port;
  const int scen_funding = s->fsum && (s->ops->flags & IM_KF_SCENARIOS);
  s->sig = malloc((np ? np : 1) * sizeof *s->sig);
  s->fsig = malloc((np ? np : 1) * sizeof *s->fsig);
  s->sig_of = malloc((np ? np : 1) * sizeof *s->sig_of);
  if (!s->sig || !s->fsig || !s->sig_of) return IM_ENOMEM;
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
  return IM_OK;
}

/* Whether day k is usable for signature j. */
static int usable(const im_model_state *s, size_t j, size_t k) {
  const size_t nu = s->mkt->n_und, nd = s->mkt->n_days;
  const int vol = !(s->ops->flags & IM_KF_INSTANT);
  for (size_t u = 0; u < nu; u++) {
    if ((s->sig[j] >> u & 1) && isnan(s->series[u * nd + k])) return 0;
    if (vol && (s->sig[j] >> (32 + u) & 1) && isnan(s->vratio[u * nd + k])) return 0;
    if ((s->fsig[j] >> u & 1) && isnan(s->fsum[u * nd + k])) return 0;
  }
  return 1;
}

static im_status prep_cum(im_model_state *s) {
  const size_t nd = s->mkt->n_days;
  s->cum = malloc((s->n_sig ? s->n_sig : 1) * (nd + 1) * sizeof *s->cum);
  if (!s->cum) return IM_ENOMEM;
  for (size_t j = 0; j < s->n_sig; j++) {
    uint32_t *cum = s->cum + j * (nd + 1);
    cum[0] = 0;
    for (size_t k = 0; k < nd; k++) cum[k + 1] = cum[k] + (uint32_t)usable(s, j, k);
  }
  return IM_OK;
}

/* Exposures per (portfolio, underlying), underlyings in increasing order. */
static im_status prep_linear(im_model_state *s) {
  const im_book *book = s->book;
  const size_t np = book->n_port, nu = s->mkt->n_und, npos = np ? book->pos_start[np] : 0;
  s->lin_start = calloc(np + 1, sizeof *s->lin_start);
  s->lin_und = malloc((npos ? npos : 1) * sizeof *s->lin_und);
  s->lin_qs = calloc(npos ? npos : 1, sizeof *s->lin_qs);
  s->lin_qi = calloc(npos ? npos : 1, sizeof *s->lin_qi);
  s->lin_pf = calloc(npos ? npos : 1, sizeof *s->lin_pf);
  s->lin_pfi = calloc(npos ? npos : 1, sizeof *s->lin_pfi);
  if (!s->lin_start || !s->lin_und || !s->lin_qs || !s->lin_qi || !s->lin_pf || !s->lin_pfi)
    return IM_ENOMEM;
  size_t n = 0;
  for (size_t p = 0; p < np; p++) {
    const uint64_t mask = s->sig[s->sig_of[p]];
    for (size_t u = 0; u < nu; u++) {
      if (!(mask >> u & 1)) continue;
      for (size_t k = book->pos_start[p]; k < book->pos_start[p + 1]; k++) {
        const im_instrument in = book->instr[book->pos_instr[k]];
        const double q = book->pos_qty[k];
        if (in.und != u || im_is_option(in.kind)) continue;
        *(in.kind == IM_INVPERP ? &s->lin_qi[n] : &s->lin_qs[n]) += q;
        if (in.kind == IM_PERP) s->lin_pf[n] += q;
        if (in.kind == IM_INVPERP) s->lin_pfi[n] += q;
      }
      s->lin_und[n++] = (uint32_t)u;
    }
    s->lin_start[p + 1] = n;
  }
  return IM_OK;
}

/* Whether the market has a funding rate of underlying u on some day. */
static int has_funding(const im_market *mkt, size_t u) {
  for (size_t k = 0; k < mkt->n_days; k++)
    if (!isnan(mkt->funding[u * mkt->n_days + k])) return 1;
  return 0;
}

/* fsum[u][k]: the funding of the h days k-h+1 .. k, NaN when one of them is
 * unknown (the market file lacks it: a P&L that needs it is not observed);
 * 0 for an underlying without any funding history (its perpetuals are
 * margined and revalued without funding). */
static im_status prep_funding(im_model_state *s) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, h = (size_t)s->model.horizon;
  if (!s->model.funding || !mkt->funding) return IM_OK;
  if (!(s->fsum = malloc(mkt->n_und * nd * sizeof *s->fsum))) return IM_ENOMEM;
  for (size_t u = 0; u < mkt->n_und; u++) {
    const int known = has_funding(mkt, u);
    for (size_t k = 0; k < nd; k++) {
      double f = k + 1 >= h || !known ? 0 : NAN;
      for (size_t j = 0; j < h && j <= k && known; j++) f += mkt->funding[u * nd + k - j];
      s->fsum[u * nd + k] = f;
    }
  }
  return IM_OK;
}

/* ADV30 of every underlying and day: the mean traded volume of the
 * IM_ADV_DAYS days t-29 .. t that have one (NaN when none has). */
static im_status prep_adv(im_model_state *s) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days;
  if (!(s->adv = malloc(mkt->n_und * nd * sizeof *s->adv))) return IM_ENOMEM;
  for (size_t u = 0; u < mkt->n_und; u++)
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
  return IM_OK;
}

/* The longest span of any window (the APC's long windows: every day). */
static void prep_lmax(im_model_state *s) {
  const size_t nd = s->mkt->n_days;
  s->lmax = im_model_has_apc(&s->model) ? nd : (size_t)s->model.window;
  for (size_t j = 0; j < s->n_sig; j++)
    for (size_t t = 0; t < nd; t++) {
      int64_t k0 = window_start(s, j, t);
      if (k0 >= 0 && t - (size_t)k0 + 1 > s->lmax) s->lmax = t - (size_t)k0 + 1;
    }
}

/* What the book asks of the market that it cannot give; IM_OK if nothing. */
static im_status check_book(const im_model_state *s, im_err *err) {
  const im_model *model = &s->model;
  const im_book *book = s->book;
  for (size_t i = 0; i < book->n_instr; i++)
    if (book->instr[i].kind == IM_FUT && book->instr[i].tenor < model->horizon) {
      char nm[64];
      im_instrument_name(s->mkt, book->instr[i], nm, sizeof nm);
      return im_err_set(err, IM_EINVAL,
                        "horizon: %s expires within the %d-day horizon; futures must have at "
                        "least h days to expiry",
                        nm, (int)model->horizon);
    }
  if (s->n_opt > 0 && !s->mkt->ivol && !model->ivol_proxy)
    return im_err_set(err, IM_EINVAL,
                      "the portfolios hold options but the market file has no implied vols "
                      "(imvar import --ivol BTC=btc_dvol_daily.csv ..., or ivol_proxy: ewma)");
  if (im_model_has_addons(model) && !s->mkt->volume)
    return im_err_set(err, IM_EINVAL,
                      "%s: the add-ons need traded volumes and the market file has none "
                      "(import price CSVs with a volume_quote column)",
                      model->liquidity ? "liquidity" : "concentration");
  return IM_OK;
}

/* Everything after the kind's series, in dependency order. */
static im_status prep_shared(im_model_state *s, im_err *err) {
  im_status st = prep_options(s);
  if (st == IM_OK && (st = check_book(s, err)) != IM_OK) return st;
  if (st == IM_OK && s->n_opt > 0) st = prep_ivol(s);
  s->nf = (s->ops->flags & IM_KF_COV) && s->n_opt > 0 ? 2 * s->mkt->n_und : s->mkt->n_und;
  if (st == IM_OK) st = prep_funding(s);
  if (st == IM_OK) st = prep_signatures(s);
  if (st == IM_OK) st = prep_cum(s);
  if (st == IM_OK) st = prep_linear(s);
  if (st == IM_OK && im_model_has_addons(&s->model)) st = prep_adv(s);
  if (st == IM_OK) prep_lmax(s);
  return st == IM_OK ? IM_OK : im_err_set(err, st, "out of memory preparing model %s", s->model.name);
}

im_status im_model_prepare(const im_model *model, const im_market *mkt, const im_book *book,
                           im_model_state **out, im_err *err) {
  *out = NULL;
  im_status st = im_model_check(model, mkt, err);
  if (st) return st;
  im_model_state *s = calloc(1, sizeof *s);
  if (!s) return im_err_set(err, IM_ENOMEM, "out of memory preparing model %s", model->name);
  s->model = *model;
  s->kind = im_model_kind_desc(model->kind);
  s->ops = s->kind->ops;
  s->mkt = mkt;
  s->book = book;
  s->series = malloc(mkt->n_und * mkt->n_days * sizeof *s->series);
  st = s->series ? s->ops->prepare(s) : IM_ENOMEM;
  if (st != IM_OK) im_err_set(err, st, "out of memory preparing model %s", model->name);
  if (st == IM_OK) st = prep_shared(s, err);
  if (st != IM_OK) {
    im_model_state_free(s);
    return st;
  }
  *out = s;
  return IM_OK;
}

im_model_scratch *im_model_scratch_alloc(const im_model_state *s) {
  im_model_scratch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->ops = s->ops;
  const size_t nsig = s->n_sig ? s->n_sig : 1, nf = s->nf;
  const size_t win = im_model_has_apc(&s->model) ? s->lmax : (size_t)s->model.window;
  w->loss_len = win;
  w->d = malloc(s->mkt->n_und * s->lmax * sizeof *w->d);
  w->loss = malloc(win * sizeof *w->loss);
  w->top = malloc((IM_TOPK_MAX + 1) * sizeof *w->top);
  w->gather = malloc(nsig * win * sizeof *w->gather);
  w->k0 = malloc(nsig * sizeof *w->k0);
  w->gathered = malloc(nsig);
  w->orow = malloc((s->n_opt ? s->n_opt : 1) * s->lmax * sizeof *w->orow);
  const int cov = s->ops->flags & IM_KF_COV;
  if (cov) w->cov = malloc(nsig * nf * nf * sizeof *w->cov);
  if (!w->d || !w->loss || !w->top || !w->gather || !w->k0 || !w->gathered || !w->orow ||
      (cov && !w->cov) || (s->ops->scratch_alloc && s->ops->scratch_alloc(s, w) != 0)) {
    im_model_scratch_free(w);
    return NULL;
  }
  return w;
}

void im_model_scratch_free(im_model_scratch *w) {
  if (!w) return;
  if (w->ops && w->ops->scratch_free) w->ops->scratch_free(w);
  free(w->d);
  free(w->loss);
  free(w->top);
  free(w->gather);
  free(w->k0);
  free(w->gathered);
  free(w->cov);
  free(w->orow);
  free(w);
}

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

double im_option_value(const im_model_state *s, const im_instrument *in, double sp, double atm,
                       double k, double tau) {
  const double vol = atm * im_smile_factor(&s->model.smile, k / sp, tau);
  return im_black76(sp, k, vol, tau, in->kind == IM_CALL);
}

double im_option_aged(const im_model_state *s, const im_instrument *in, double s1, double atm1,
                      double k) {
  const double tau1 = (in->tenor - s->model.horizon) / 365.0;
  return tau1 > 0 ? im_option_value(s, in, s1, atm1, k, tau1)
                  : im_black76(s1, k, 0, 0, in->kind == IM_CALL);
}

double im_lin_exposure(const im_model_state *s, size_t i, size_t t) {
  return s->lin_qs[i] * s->mkt->close[s->lin_und[i] * s->mkt->n_days + t] + s->lin_qi[i];
}

double im_level_value(double *loss, size_t n, const im_level *l, double *top) {
  const double v = l->measure == IM_MEASURE_ES ? im_es(loss, n, l->confidence, top)
                                               : im_var(loss, n, l->confidence, top);
  return v > 0 ? v : 0;
}

/* pnl plus the realised P&L of the option positions of p from t to t+h; NaN
 * where an implied vol it needs is missing (Black-76 at a NaN vol would fall
 * back to the intrinsic value). */
static double realised_options(const im_model_state *s, size_t p, size_t t, size_t t1, double pnl) {
  const size_t nd = s->mkt->n_days;
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    const size_t u = in->und;
    const double s0 = s->mkt->close[u * nd + t], s1 = s->mkt->close[u * nd + t1];
    const double k = in->money * s0, alive = in->tenor > s->model.horizon;
    if (isnan(s->ivol[u * nd + t]) || (alive && isnan(s->ivol[u * nd + t1]))) return NAN;
    const double v0 = im_option_value(s, in, s0, s->ivol[u * nd + t], k, in->tenor / 365.0);
    pnl += s->opt_qty[j] * (im_option_aged(s, in, s1, s->ivol[u * nd + t1], k) - v0);
  }
  return pnl;
}

/* Realised P&L of portfolio p from the close of t to the close of t+h. */
static double realised_pnl(const im_model_state *s, size_t p, size_t t) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, t1 = t + (size_t)s->model.horizon;
  if (t1 >= nd) return NAN;
  double pnl = 0;
  for (size_t j = s->lin_start[p]; j < s->lin_start[p + 1]; j++) {
    const double s0 = mkt->close[s->lin_und[j] * nd + t], s1 = mkt->close[s->lin_und[j] * nd + t1];
    pnl += im_lin_exposure(s, j, t) * (s1 / s0 - 1.0); /* NaN if a close is missing */
    const double ef = s->fsum ? s->lin_pf[j] * s0 + s->lin_pfi[j] : 0;
    if (ef != 0) /* the funding of days t+1 .. t+h: NaN (not observed) if one is unknown */
      pnl -= ef * s->fsum[s->lin_und[j] * nd + t1];
  }
  return realised_options(s, p, t, t1, pnl);
}

/* loss[i] (+)= e x[col i] over the window: contiguous, or through gather. */
static void add_scaled(double *restrict loss, size_t win, double e, const double *restrict x,
                       const uint32_t *gather, int first) {
  if (gather) {
    for (size_t i = 0; i < win; i++) loss[i] = (first ? 0.0 : loss[i]) + e * x[gather[i]];
  } else if (first) {
    for (size_t i = 0; i < win; i++) loss[i] = e * x[i];
  } else {
    for (size_t i = 0; i < win; i++) loss[i] += e * x[i];
  }
}

/* Scenario losses of portfolio p over its window: loss[j] = -sum_u E_u d_u[col j]
 * plus the funding of the scenario's days and minus its options' P&L. col0
 * is the window's first column in w->d (ignored with gather). */
static void window_losses(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                          size_t win, const double *col0, const uint32_t *gather) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, off = gather ? 0 : (size_t)(col0 - w->d);
  double *restrict loss = w->loss;
  for (size_t j = s->lin_start[p]; j < s->lin_start[p + 1]; j++) {
    const uint32_t u = s->lin_und[j];
    add_scaled(loss, win, -im_lin_exposure(s, j, t), w->d + u * s->lmax + off, gather,
               j == s->lin_start[p]);
    const double ef = s->fsum ? s->lin_pf[j] * mkt->close[u * nd + t] + s->lin_pfi[j] : 0;
    if (ef != 0) /* funding paid over the same historical days */
      add_scaled(loss, win, ef, s->fsum + u * nd + (size_t)w->kmin + off, gather, 0);
  }
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++)
    add_scaled(loss, win, -s->opt_qty[j], w->orow + (size_t)s->opt_row[j] * s->lmax + off, gather,
               0);
}

/* Unit scenario P&L of option instrument o over the span: spot by the moves
 * in w->d, ATM vol by the same day's change, aged by h days. */
static void option_row(const im_model_state *s, im_model_scratch *w, size_t o, size_t t,
                       size_t span) {
  const size_t nd = s->mkt->n_days;
  const im_instrument *in = &s->book->instr[s->opt_list[o]];
  const size_t u = in->und;
  const double s0 = s->mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
  const double k = in->money * s0;
  const double v0 = im_option_value(s, in, s0, atm0, k, in->tenor / 365.0);
  const double *d = w->d + u * s->lmax, *vr = s->vratio + u * nd + (size_t)w->kmin;
  double *row = w->orow + o * s->lmax;
  for (size_t j = 0; j < span; j++) /* NaN on days the portfolio cannot use */
    row[j] = im_option_aged(s, in, s0 * (1 + d[j]), atm0 * vr[j], k) - v0;
}

/* Scenario moves over days kmin..t of every underlying in `used` (w->d, by
 * the kind) and the unit scenario P&L of every option instrument the tile
 * needs (w->orow). */
static void build_moves(const im_model_state *s, im_model_scratch *w, size_t t, int64_t kmin,
                        uint64_t used, uint64_t present) {
  const size_t nd = s->mkt->n_days, span = (size_t)((int64_t)t + 1 - kmin);
  w->kmin = kmin;
  if (!(s->ops->flags & IM_KF_SCENARIOS) || span == 0) return;
  for (size_t u = 0; u < s->mkt->n_und; u++)
    if (used >> u & 1)
      s->ops->moves(s, u, t, s->series + u * nd + (size_t)kmin, span, w->d + u * s->lmax);
  for (size_t o = 0; o < s->n_opt; o++) {
    const size_t u = s->book->instr[s->opt_list[o]].und;
    if ((used >> u & 1) && (used >> (32 + u) & 1) && (present >> (32 + u) & 1))
      option_row(s, w, o, t, span);
  }
}

size_t im_sig_factors(const im_model_state *s, uint32_t sj, size_t *idx) {
  size_t m = 0;
  for (size_t f = 0; f < s->nf; f++)
    if (s->sig[sj] >> im_factor_bit(f, s->mkt->n_und) & 1) idx[m++] = f;
  return m;
}

const double *im_ewma_cov(const im_model_state *s, im_model_scratch *w, size_t t, uint32_t sj,
                          size_t k0) {
  const size_t nu = s->mkt->n_und, nd = s->mkt->n_days, nf = s->nf;
  double *cov = w->cov + (size_t)sj * nf * nf;
  if (w->gathered[sj]) return cov;
  const uint32_t *cum = s->cum + sj * (nd + 1);
  const double lam = s->model.lambda;
  size_t idx[2 * IM_MAX_UNDERLYINGS];
  const size_t m = im_sig_factors(s, sj, idx);
  const double *row[2 * IM_MAX_UNDERLYINGS];
  for (size_t a = 0; a < m; a++)
    row[a] = idx[a] < nu ? s->series + idx[a] * nd : s->vratio + (idx[a] - nu) * nd;
  memset(cov, 0, nf * nf * sizeof *cov);
  double wgt = (1 - lam) / (1 - pow(lam, (double)s->model.window));
  for (size_t k = t + 1; k-- > k0;) { /* most recent first: weight norm lambda^i */
    if (cum[k + 1] == cum[k]) continue; /* not usable */
    for (size_t a = 0; a < m; a++)
      for (size_t b = a; b < m; b++) cov[idx[a] * nf + idx[b]] += wgt * row[a][k] * row[b][k];
    wgt *= lam;
  }
  w->gathered[sj] = 1;
  return cov;
}

/* The usable columns (relative to kmin) of signature sj's window from k0 to
 * t when it has gaps, once per signature and date; NULL when contiguous. */
static const uint32_t *window_gather(const im_model_state *s, im_model_scratch *w, size_t t,
                                     uint32_t sj, size_t k0) {
  const size_t win = (size_t)s->model.window, nd = s->mkt->n_days;
  if (t - k0 + 1 == win) return NULL;
  uint32_t *g = w->gather + sj * win;
  if (!w->gathered[sj]) {
    const uint32_t *cum = s->cum + sj * (nd + 1);
    size_t n = 0;
    for (size_t k = k0; k <= t; k++)
      if (cum[k + 1] > cum[k]) g[n++] = (uint32_t)(k - (size_t)w->kmin);
    w->gathered[sj] = 1;
  }
  return g;
}

void im_scen_eval(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, int64_t k0,
                  size_t n_lev, const im_level *lev, const double *aux, double *v) {
  (void)aux;
  const size_t win = (size_t)s->model.window;
  const uint32_t *gather = window_gather(s, w, t, s->sig_of[p], (size_t)k0);
  /* One scenario vector serves every level. */
  window_losses(s, w, p, t, win, w->d + (size_t)(k0 - w->kmin), gather);
  for (size_t l = 0; l < n_lev; l++) v[l] = im_level_value(w->loss, win, &lev[l], w->top);
}

void im_model_eval_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                        size_t d0, size_t d1, double *im, double *pnl, int8_t *exceed) {
  const im_level own = {s->model.confidence, s->model.measure};
  im_model_eval_levels(s, w, p0, p1, d0, d1, 1, &own, im, pnl, exceed);
}

/* Window starts at t of the signatures of portfolios [p0,p1) (w->k0; -2 for
 * the others), the moves from the earliest, and the risk factors present. */
static uint64_t tile_date(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                          size_t t) {
  const uint64_t present = present_at(s, t);
  for (size_t j = 0; j < s->n_sig; j++) {
    w->k0[j] = -2; /* not needed by this tile */
    w->gathered[j] = 0;
  }
  int64_t kmin = (int64_t)t + 1;
  uint64_t used = 0;
  for (size_t p = p0; p < p1; p++) {
    const uint32_t j = s->sig_of[p];
    if (w->k0[j] != -2) continue;
    w->k0[j] = (s->sig[j] & ~present) ? -1 : window_start(s, j, t);
    if (w->k0[j] >= 0) {
      used |= s->sig[j];
      if (w->k0[j] < kmin) kmin = w->k0[j];
    }
  }
  build_moves(s, w, t, kmin, used, present);
  return present;
}

void im_model_eval_levels(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                          size_t d0, size_t d1, size_t n_lev, const im_level *lev, double *im,
                          double *pnl, int8_t *exceed) {
  const size_t nt = d1 - d0, stride = (p1 - p0) * nt; /* between levels of im and exceed */
  const int instant = s->ops->flags & IM_KF_INSTANT;
  double aux[IM_MAX_LEVELS];
  for (size_t l = 0; l < n_lev; l++) aux[l] = s->ops->level_aux ? s->ops->level_aux(&s->model, &lev[l]) : 0;
  for (size_t t = d0; t < d1; t++) {
    const uint64_t present = tile_date(s, w, p0, p1, t);
    for (size_t p = p0; p < p1; p++) {
      const size_t o = (p - p0) * nt + (t - d0);
      const uint32_t sj = s->sig_of[p];
      double v[IM_MAX_LEVELS];
      for (size_t l = 0; l < n_lev; l++) v[l] = NAN;
      if (instant ? !(s->sig[sj] & ~present) : w->k0[sj] >= 0)
        s->ops->eval(s, w, p, t, w->k0[sj], n_lev, lev, aux, v);
      const double r = realised_pnl(s, p, t);
      pnl[o] = r;
      for (size_t l = 0; l < n_lev; l++) {
        im[l * stride + o] = v[l];
        exceed[l * stride + o] = (isnan(v[l]) || isnan(r)) ? -1 : (-r > v[l] ? 1 : 0);
      }
    }
  }
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

/* The model's own measure of p's losses over the usable days [a, b]
 * (NaN when there is none). */
static double span_measure(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                           int64_t a, int64_t b) {
  const uint32_t sj = s->sig_of[p];
  uint32_t *cols = w->gather + (size_t)sj * s->lmax;
  const size_t n = usable_cols(s, sj, a, b, w->kmin, cols);
  if (n == 0) return NAN;
  window_losses(s, w, p, t, n, w->d, cols);
  const im_level own = {s->model.confidence, s->model.measure};
  return im_level_value(w->loss, n, &own, w->top);
}

/* The total margin of the APC layer on core margin `core` (model.h). */
static double apc_total(const im_model *md, double core, double lr, double stressed) {
  double m = isnan(stressed) ? core : 0.75 * core + 0.25 * stressed;
  if (md->apc_floor && lr > m) m = lr;
  if (md->apc_buffer) {
    double keep = lr > 0 ? (1.25 * lr - m) / (0.25 * lr) : 1;
    keep = keep < 0 ? 0 : keep > 1 ? 1 : keep;
    m += 0.25 * m * keep;
  }
  return m;
}

void im_model_apc_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                       size_t d0, size_t d1, const double *im, const double *pnl, double *apc,
                       int8_t *exceed_total) {
  const im_model *md = &s->model;
  const size_t nt = d1 - d0;
  const int64_t ss = md->stress_start - s->mkt->day0, se = md->stress_end - s->mkt->day0;
  for (size_t t = d0; t < d1; t++) {
    const int64_t lr0 = (int64_t)t - IM_APC_YEARS_DAYS + 1;
    const int stress_now = md->apc_stress && ss <= (int64_t)t;
    int64_t kmin = lr0 < 0 ? 0 : lr0;
    if (stress_now && ss < kmin) kmin = ss < 0 ? 0 : ss;
    uint64_t used = 0;
    for (size_t p = p0; p < p1; p++)
      if (!isnan(im[(p - p0) * nt + (t - d0)])) used |= s->sig[s->sig_of[p]];
    if (used) build_moves(s, w, t, kmin, used, present_at(s, t));
    for (size_t p = p0; p < p1; p++) {
      const size_t o = (p - p0) * nt + (t - d0);
      apc[o] = NAN;
      exceed_total[o] = -1;
      if (isnan(im[o])) continue;
      const double lr = span_measure(s, w, p, t, lr0, (int64_t)t);
      const double st = stress_now ? span_measure(s, w, p, t, ss, se < (int64_t)t ? se : (int64_t)t)
                                   : NAN;
      const double m = apc_total(md, im[o], lr, st);
      apc[o] = m - im[o];
      exceed_total[o] = isnan(pnl[o]) ? -1 : (-pnl[o] > m ? 1 : 0);
    }
  }
}

/* The delta-equivalent USD position pos[u] of portfolio p at t (add-ons). */
static void delta_positions(const im_model_state *s, size_t p, size_t t, double *pos) {
  const size_t nd = s->mkt->n_days;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++)
    pos[s->lin_und[i]] += im_lin_exposure(s, i, t);
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    const size_t u = in->und;
    const double s0 = s->mkt->close[u * nd + t], atm0 = s->ivol[u * nd + t];
    const double k = in->money * s0, tau0 = in->tenor / 365.0;
    double delta, gamma, vega;
    im_black76_greeks(s0, k, atm0 * im_smile_factor(&s->model.smile, k / s0, tau0), tau0,
                      in->kind == IM_CALL, &delta, &gamma, &vega);
    pos[u] += s->opt_qty[j] * delta * s0;
  }
}

/* The largest |P_u| / ADV30_u over the underlyings p holds (NaN if an ADV is
 * unknown). */
static double adv_ratio(const im_model_state *s, size_t p, size_t t) {
  const size_t nd = s->mkt->n_days;
  double pos[IM_MAX_UNDERLYINGS] = {0}, ratio = 0;
  delta_positions(s, p, t, pos);
  const uint64_t sig = s->sig[s->sig_of[p]];
  for (size_t u = 0; u < s->mkt->n_und; u++)
    if (sig >> u & 1) {
      const double r = fabs(pos[u]) / s->adv[u * nd + t]; /* NaN if ADV unknown */
      ratio = (isnan(r) || isnan(ratio)) ? NAN : fmax(ratio, r);
    }
  return ratio;
}

void im_model_addon_tile(const im_model_state *s, size_t p0, size_t p1, size_t d0, size_t d1,
                         const double *im, const double *pnl, const double *apc, double *liq,
                         double *conc, int8_t *exceed_total) {
  const im_model *md = &s->model;
  const size_t nt = d1 - d0;
  for (size_t p = p0; p < p1; p++)
    for (size_t t = d0; t < d1; t++) {
      const size_t o = (p - p0) * nt + (t - d0);
      const double core = im[o], ratio = adv_ratio(s, p, t);
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
