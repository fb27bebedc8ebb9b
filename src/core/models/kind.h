/* The interface between the shared model machinery (common.c) and the model
 * kinds (one file each: hs.c, fhs.c, ewma.c, mc_t.c, grid.c), core-internal.
 *
 * A kind is one row of kinds[] in model.c: its descriptor (name, the
 * parameters it takes) and a fixed table of operations. The shared code
 * prepares what every kind needs (portfolios as exposures and option rows,
 * signatures and their usable days, funding, ADV, implied vols), walks the
 * tile's dates and portfolios, computes the realised P&L, flags, APC and
 * add-ons; a kind supplies its daily series and the margin of one portfolio
 * on one date. Adding a kind: one file with its operations, one row of
 * kinds[] in model.c, its enum value in model.h, its tests. */
#ifndef IM_MODELS_KIND_H
#define IM_MODELS_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* What a kind is made of, as far as the shared machinery must know. */
enum {
  IM_KF_SCENARIOS = 1, /* historical scenarios: windows of h-day moves (w->d), option scenario
                          rows, funding paid on scenario days, APC layers */
  IM_KF_COV = 2,       /* the EWMA covariance of daily log-moves: the vol factor is the daily
                          log-change of the implied vol; needs a window of at least 2 */
  IM_KF_INSTANT = 4    /* instantaneous (no history): evaluated wherever today's data exist */
};

struct im_kind_ops {
  unsigned flags;
  size_t burn_in; /* days of history needed beyond window + horizon */
  /* Fills s->series (allocated, [n_und][n_days]) and the kind's private
   * state; IM_ENOMEM on failure. */
  im_status (*prepare)(im_model_state *s);
  void (*state_free)(im_model_state *s);
  /* IM_KF_SCENARIOS: relative moves d[0..span) of underlying u over the days
   * kmin.. of series r, as seen at date t. */
  void (*moves)(const im_model_state *s, size_t u, size_t t, const double *r, size_t span,
                double *d);
  /* A per-level constant the evaluation reads (e.g. the quantile of a unit
   * distribution), computed once per tile; NULL if none. */
  double (*level_aux)(const im_model *m, const im_level *l);
  /* The margin v[0..n_lev) of portfolio p at date t at each level; k0 is the
   * window start of p's signature (-1: none), w->kmin the tile date's first
   * scenario day. Called only where the kind can evaluate (a window, or for
   * instantaneous kinds today's data). */
  void (*eval)(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, int64_t k0,
               size_t n_lev, const im_level *lev, const double *aux, double *v);
  /* The kind's scratch (w->priv), 0 or -1 when out of memory; NULL if none. */
  int (*scratch_alloc)(const im_model_state *s, im_model_scratch *w);
  void (*scratch_free)(im_model_scratch *w);
};

struct im_model_state {
  im_model model;
  const im_kind_desc *kind;
  const struct im_kind_ops *ops;
  const im_market *mkt;
  const im_book *book;
  double *series;   /* [n_und][n_days] the kind's daily series of each underlying (its h-day
                       moves, or daily log-moves); NaN marks a day that is no scenario */
  double *vratio;   /* [n_und][n_days] options: the implied-vol move, ivol[k]/ivol[k-h] for
                       scenario kinds, the daily log-change for IM_KF_COV; NaN if undefined */
  double *ivol;     /* [n_und][n_days] ATM implied vol the model uses: the market's, with
                       the proxy filled in where it has none (ivol_proxy); NULL if no options */
  size_t nf;        /* covariance factors (IM_KF_COV): n_und spot log-moves, then, when
                       the book holds options, n_und implied-vol log-changes */
  size_t n_opt;     /* option instruments of the book */
  uint32_t *opt_list; /* [n_opt] their book instrument indices */
  size_t *opt_start;  /* [n_port+1] option positions of each portfolio */
  uint32_t *opt_row;  /* [n_optpos] row (index into opt_list) of each option position */
  double *opt_qty;    /* [n_optpos] coins */
  size_t n_sig;     /* distinct (underlyings, funded underlyings) pairs among the portfolios */
  uint64_t *sig;    /* [n_sig] risk factors (im_book_underlyings) */
  uint64_t *fsig;   /* [n_sig] scenario kinds with funding: bit u when the portfolios pay
                       funding on u (a scenario day then needs its funding known); else 0 */
  uint32_t *sig_of; /* [n_port] index into sig */
  uint32_t *cum;    /* [n_sig][n_days+1] usable days before day k */
  size_t lmax;      /* longest span t-k0+1 of any window */
  /* Every linear instrument is linear in the underlying's relative move:
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
  double *fsum;      /* [n_und][n_days] funding over the h days ending at k (NaN if one is
                        unknown), or NULL */
  double *adv;       /* add-ons: [n_und][n_days] ADV30 at day t, NaN if unknown; or NULL */
  void *priv;        /* the kind's own state */
};

struct im_model_scratch {
  const struct im_kind_ops *ops; /* of the state it was allocated for */
  double *d;         /* [n_und][lmax] relative moves R - 1 over the tile's span */
  double *loss;      /* [max(window, lmax with APC, the kind's paths)] */
  size_t loss_len;
  double *top;       /* [IM_TOPK_MAX + 1] tail buffer of the selection */
  uint32_t *gather;  /* [n_sig][window] scenario columns of windows with gaps */
  int64_t *k0;       /* [n_sig] window start day per signature, -1 if none */
  int8_t *gathered;  /* [n_sig] gather list (or covariance) built for the current date */
  int64_t kmin;      /* the first scenario day of the current tile date's span */
  double *cov;       /* IM_KF_COV: [n_sig][nf][nf] covariance of the current date */
  double *orow;      /* [n_opt][lmax] unit scenario P&L of each option instrument */
  void *priv;        /* the kind's own scratch */
};

/* The kinds' operations (one file each). */
extern const struct im_kind_ops im_kind_hs, im_kind_fhs, im_kind_ewma_normal, im_kind_ewma_t,
    im_kind_grid, im_kind_mc_t;

/* ---- Shared machinery (common.c) ---------------------------------------- */

/* Daily log-moves ln(c[k]/c[k-1]) of one underlying (NaN on day 0 and gaps). */
void im_log_moves(const double *c, size_t nd, double *r);

/* A kind's prepare that sets its series to the daily log-moves. */
im_status im_prepare_log_moves(im_model_state *s);

/* EWMA(lambda) volatility at the close of each day from the returns of days
 * <= k, started as the mean square of the first IM_FHS_BURN_IN returns (NaN
 * before); a missing close leaves it where it was. */
void im_ewma_vol(const double *c, size_t nd, double lambda, double *out);

/* Value of one option instrument (per coin) at spot sp, ATM vol atm, tau
 * years to expiry and strike k, with the model's smile. */
double im_option_value(const im_model_state *s, const im_instrument *in, double sp, double atm,
                       double k, double tau);

/* Value at the horizon of an option worth v at t when spot goes to s1 and
 * the ATM vol to atm1: Black-76 aged h days, intrinsic at expiry. */
double im_option_aged(const im_model_state *s, const im_instrument *in, double s1, double atm1,
                      double k);

/* USD exposure E_u of linear position i (index into lin_*) at day t. */
double im_lin_exposure(const im_model_state *s, size_t i, size_t t);

/* The VaR or ES of level l over n scenario losses (never negative). */
double im_level_value(double *loss, size_t n, const im_level *l, double *top);

/* The signature bit of covariance factor f: spot of u = f, or the implied
 * vol of u = f - nu. */
static inline unsigned im_factor_bit(size_t f, size_t nu) {
  return (unsigned)(f < nu ? f : 32 + (f - nu));
}

/* The factors idx[0..m) of signature sj; returns m. */
size_t im_sig_factors(const im_model_state *s, uint32_t sj, size_t *idx);

/* The EWMA covariance ([nf][nf], upper triangle) of the daily log-moves over
 * the window of signature sj starting at k0, once per signature and date. */
const double *im_ewma_cov(const im_model_state *s, im_model_scratch *w, size_t t, uint32_t sj,
                          size_t k0);

/* Historical-scenario margin of portfolio p at t (IM_KF_SCENARIOS): its
 * losses over its window of moves in w->d, at each level. */
void im_scen_eval(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, int64_t k0,
                  size_t n_lev, const im_level *lev, const double *aux, double *v);

#endif
