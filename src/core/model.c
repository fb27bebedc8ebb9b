#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"

/* Historical simulation (kind "hs").
 *
 * Scenario k is the h-day relative move of each underlying ending at day k,
 * close[k] / close[k-h], applied to today's close: full revaluation of each
 * instrument at s_t * close[k] / close[k-h]. A scenario day is usable for a
 * portfolio when the move of every underlying the portfolio holds is defined
 * (both closes present). The window at t is the last W usable days k <= t; on
 * gapless history that is simply days t-W+1 .. t. */

struct im_model_state {
  im_model model;
  const im_market *mkt;
  const im_book *book;
  double *ratio;    /* [n_und][n_days] close[k]/close[k-h], NaN if undefined */
  size_t n_sig;     /* distinct underlying sets among the portfolios */
  uint64_t *sig;    /* [n_sig] */
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
};

struct im_model_scratch {
  double *d;         /* [n_und][lmax] relative moves R - 1 over the tile's span */
  double *loss;      /* [window] */
  double *top;       /* [IM_TOPK_MAX + 1] tail buffer of the selection */
  uint32_t *gather;  /* [n_sig][window] scenario columns of windows with gaps */
  int64_t *k0;       /* [n_sig] window start day per signature, -1 if none */
  int8_t *gathered;  /* [n_sig] gather list built for the current date */
};

const char *im_model_kind_name(im_model_kind k) {
  switch (k) {
    case IM_MODEL_HS:
      return "hs";
  }
  return "?";
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
  if ((size_t)md->window + (size_t)md->horizon > mkt->n_days)
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

void im_model_state_free(im_model_state *s) {
  if (!s) return;
  free(s->ratio);
  free(s->sig);
  free(s->sig_of);
  free(s->cum);
  free(s->lin_start);
  free(s->lin_und);
  free(s->lin_qs);
  free(s->lin_qi);
  free(s);
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
  if (!s->ratio || !s->sig || !s->sig_of) goto nomem;

  for (size_t u = 0; u < nu; u++) {
    const double *c = mkt->close + u * nd;
    double *r = s->ratio + u * nd;
    for (size_t k = 0; k < nd; k++) r[k] = k >= h ? c[k] / c[k - h] : NAN; /* NaN propagates gaps */
  }

  /* Distinct signatures in order of first appearance (deterministic). */
  for (size_t p = 0; p < np; p++) {
    uint64_t m = im_book_underlyings(book, p);
    size_t j = 0;
    while (j < s->n_sig && s->sig[j] != m) j++;
    if (j == s->n_sig) s->sig[s->n_sig++] = m;
    s->sig_of[p] = (uint32_t)j;
  }
  s->cum = malloc((s->n_sig ? s->n_sig : 1) * (nd + 1) * sizeof *s->cum);
  if (!s->cum) goto nomem;
  for (size_t j = 0; j < s->n_sig; j++) {
    uint32_t *cum = s->cum + j * (nd + 1);
    cum[0] = 0;
    for (size_t k = 0; k < nd; k++) {
      int usable = 1;
      for (size_t u = 0; u < nu && usable; u++)
        if ((s->sig[j] >> u & 1) && isnan(s->ratio[u * nd + k])) usable = 0;
      cum[k + 1] = cum[k] + (uint32_t)usable;
    }
  }
  /* Exposures per (portfolio, underlying), underlyings in increasing order. */
  size_t npos = np ? book->pos_start[np] : 0;
  s->lin_start = calloc(np + 1, sizeof *s->lin_start);
  s->lin_und = malloc((npos ? npos : 1) * sizeof *s->lin_und);
  s->lin_qs = malloc((npos ? npos : 1) * sizeof *s->lin_qs);
  s->lin_qi = malloc((npos ? npos : 1) * sizeof *s->lin_qi);
  if (!s->lin_start || !s->lin_und || !s->lin_qs || !s->lin_qi) goto nomem;
  size_t n_lin = 0;
  for (size_t p = 0; p < np; p++) {
    uint64_t mask = s->sig[s->sig_of[p]];
    for (size_t u = 0; u < nu; u++) {
      if (!(mask >> u & 1)) continue;
      double qs = 0, qi = 0;
      for (size_t k = book->pos_start[p]; k < book->pos_start[p + 1]; k++) {
        im_instrument in = book->instr[book->pos_instr[k]];
        if (in.und != u) continue;
        if (in.kind == IM_INVPERP)
          qi += book->pos_qty[k];
        else
          qs += book->pos_qty[k];
      }
      s->lin_und[n_lin] = (uint32_t)u;
      s->lin_qs[n_lin] = qs;
      s->lin_qi[n_lin] = qi;
      n_lin++;
    }
    s->lin_start[p + 1] = n_lin;
  }
  s->lmax = (size_t)model->window;
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
  if (!w->d || !w->loss || !w->top || !w->gather || !w->k0 || !w->gathered) {
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
  free(w);
}

/* Underlyings with a close at day t. */
static uint64_t present_at(const im_market *mkt, size_t t) {
  uint64_t m = 0;
  for (size_t u = 0; u < mkt->n_und; u++)
    if (!isnan(mkt->close[u * mkt->n_days + t])) m |= UINT64_C(1) << u;
  return m;
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
  }
  return pnl;
}

/* Scenario losses of portfolio p over its window: loss[j] = -sum_u E_u d_u[col j]. */
static void window_losses(const im_model_state *s, im_model_scratch *w, size_t p, size_t t,
                          const double *col0, const uint32_t *gather) {
  const im_market *mkt = s->mkt;
  const size_t win = (size_t)s->model.window, nd = mkt->n_days;
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
  }
}

void im_model_eval_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                        size_t d0, size_t d1, double *im, double *pnl, int8_t *exceed) {
  const im_market *mkt = s->mkt;
  const size_t nd = mkt->n_days, nt = d1 - d0, win = (size_t)s->model.window;
  for (size_t t = d0; t < d1; t++) {
    const uint64_t present = present_at(mkt, t);
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
    const size_t span = (size_t)((int64_t)t + 1 - kmin);
    /* Relative moves of every underlying the tile uses, over days kmin..t. */
    for (size_t u = 0; u < mkt->n_und && span > 0; u++) {
      if (!(used >> u & 1)) continue;
      const double *r = s->ratio + u * nd + (size_t)kmin;
      double *d = w->d + u * s->lmax;
      for (size_t j = 0; j < span; j++) d[j] = r[j] - 1.0;
    }
    for (size_t p = p0; p < p1; p++) {
      const size_t o = (p - p0) * nt + (t - d0);
      const uint32_t sj = s->sig_of[p];
      const int64_t k0 = w->k0[sj];
      double v = NAN;
      if (k0 >= 0) {
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
        window_losses(s, w, p, t, w->d + (size_t)(k0 - kmin), gather);
        v = s->model.measure == IM_MEASURE_ES ? im_es(w->loss, win, s->model.confidence, w->top)
                                              : im_var(w->loss, win, s->model.confidence, w->top);
        if (v < 0) v = 0; /* margin is never negative */
      }
      const double r = realised_pnl(s, p, t);
      im[o] = v;
      pnl[o] = r;
      exceed[o] = (isnan(v) || isnan(r)) ? -1 : (-r > v ? 1 : 0);
    }
  }
}
