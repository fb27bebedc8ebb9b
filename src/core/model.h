/* Margin models: what IM a model demands of each portfolio on each date, the
 * realised P&L over the horizon and the exceedance flag.
 *
 * A model is prepared once per run from the market and the book (read-only
 * state that every tile shares), then evaluated tile by tile: a block of
 * portfolios times a block of dates. Each (portfolio, date) result is a pure
 * function of the market, the portfolio and the model, so the results do not
 * depend on how the work is cut into tiles or spread over ranks.
 *
 * Conventions: IM(t) uses closes at days <= t only (no look-ahead) and covers
 * the loss from the close of t to the close of t+h. Realised pnl is the full
 * revaluation of the unchanged portfolio from t to t+h. exceed is 1 when
 * -pnl > im strictly, 0 when covered, -1 when either cannot be evaluated
 * (then the missing one is NaN). */
#ifndef IM_MODEL_H
#define IM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"
#include "market.h"
#include "options.h"

typedef enum {
  IM_MODEL_HS = 0,          /* historical simulation */
  IM_MODEL_FHS = 1,         /* filtered HS: EWMA-devolatilised, revolatilised by today's vol */
  IM_MODEL_EWMA_NORMAL = 2, /* parametric, EWMA covariance, normal */
  IM_MODEL_EWMA_T = 3,      /* parametric, EWMA covariance, Student-t with nu dof */
  IM_MODEL_GRID = 4,        /* exchange portfolio margin: worst loss over a shock grid */
  IM_MODEL_MC_T = 5,        /* Monte Carlo: multivariate t on the EWMA covariance */
  IM_MODEL_KINDS = 6
} im_model_kind;
typedef enum { IM_MEASURE_VAR = 0, IM_MEASURE_ES = 1 } im_measure;

typedef struct {
  char name[IM_NAME_LEN];
  im_model_kind kind;
  im_measure measure;
  double confidence; /* in (0,1) */
  int32_t horizon;   /* margin period of risk h, days >= 1 */
  int32_t window;    /* W scenarios >= 1 (ewma: the W latest daily returns) */
  double lambda;     /* EWMA decay in (0,1): fhs, ewma_normal, ewma_t */
  double nu;         /* Student-t degrees of freedom > 2: ewma_t */
  double grid_range; /* grid: largest core spot shock (0.16 = +-16%) */
  int32_t grid_steps;   /* grid: core shocks per side (4: 0, +-4, ..., +-16%) */
  int32_t grid_extended; /* grid: 1 = add the dampened extended moves */
  int32_t paths;     /* mc_t: simulated paths per date */
  uint64_t seed;     /* mc_t: the run's seed (streams keyed by seed, model name, calendar date,
                        underlying name, path: model.c) */
  im_smile smile;    /* options: the smile on the ATM implied vol */
  int32_t funding;   /* 1: perpetuals accrue funding where the market has its history */
  int32_t ivol_proxy; /* 1: days without implied vol take the EWMA realised-vol proxy */
  double ivol_scale;  /* ivol_proxy: implied / realised vol ratio (IM_IVOL_PROXY_SCALE) */
  /* Anti-procyclicality (EMIR RTS 153/2013 art. 28; hs and fhs): */
  int32_t apc_buffer; /* 25% buffer, released as margin rises above its 10-year level */
  int32_t apc_stress; /* 25% weight on the stressed period [stress_start, stress_end] */
  int32_t apc_floor;  /* margin at least the 10-year-window margin */
  int32_t stress_start, stress_end; /* days since 1970-01-01 */
  /* Add-ons (every kind), reported apart from the core margin: */
  int32_t liquidity;     /* 1: liquidity add-on (needs the market's /volume) */
  double liq_k;          /* its multiplier k_liq (IM_LIQ_K) */
  double liq_threshold;  /* its threshold on sqrt(|position| / ADV30) (IM_LIQ_THRESHOLD) */
  int32_t concentration; /* 1: concentration add-on (needs the market's /volume) */
  double conc_share;     /* share of ADV30 that can be liquidated per day (IM_CONC_SHARE) */
} im_model;

/* Whether a model has an anti-procyclicality layer. */
static inline int im_model_has_apc(const im_model *m) {
  return m->apc_buffer || m->apc_stress || m->apc_floor;
}

/* Whether a model has add-ons, and whether it has a total margin (core plus
 * the APC layer and add-ons) judged apart from the core. */
static inline int im_model_has_addons(const im_model *m) { return m->liquidity || m->concentration; }
static inline int im_model_has_total(const im_model *m) {
  return im_model_has_apc(m) || im_model_has_addons(m);
}

/* Liquidity and concentration add-ons (after the liquidity-cost add-ons of
 * CME SPAN 2, ICE IRM 2, LCH and Nodal and Coinbase International's
 * IM = RP sqrt(CoH) with CoH the position as a share of 30-day ADV; and the
 * concentration charges of CME (ADV thresholds), dYdX and GMX (open-interest
 * scaling): /work notes "margin-models", [C11][C23][C31][C33][C43][C44]).
 *
 * For portfolio p at t and each underlying u it holds: the delta-equivalent
 * USD position P_u = E_u + sum over its options of q Delta S_u (Black-76
 * delta at t, as in the delta-gamma model), and ADV30_u = the mean traded
 * quote volume of the IM_ADV_DAYS days t-29 .. t that have one (days <= t
 * only; NaN when none has). With C the core margin and h the horizon:
 *   liquidity:     k_liq C max(0, max_u sqrt(|P_u| / ADV30_u) - threshold)
 *                  (the square-root market-impact law: close-out cost grows
 *                  with the square root of size over volume; Coinbase's
 *                  sqrt(CoH));
 *   concentration: C max(0, sqrt(D / h) - 1), D = max_u |P_u| /
 *                  (conc_share ADV30_u) the days needed to close the largest
 *                  position trading conc_share of the day's volume: the
 *                  margin period of risk stretched from h to D days by the
 *                  square root of time, so it starts when a position
 *                  exceeds h x conc_share of ADV (EMIR RTS 153/2013 art. 26:
 *                  a longer MPOR for concentrated positions).
 * Each add-on is NaN where C is, or an ADV it needs is unknown. */
#define IM_ADV_DAYS 30
#define IM_LIQ_K 1.0
#define IM_LIQ_THRESHOLD 0.1
#define IM_CONC_SHARE 0.1

/* Days of the long-run look-back of the APC floor and buffer. */
#define IM_APC_YEARS_DAYS 3650

/* Grid vol shocks (relative to the ATM vol): core scenarios take each,
 * extended moves only the up shock (Paradex: +40% / -22%; Deribit: vol up
 * only on extended moves). */
#define IM_GRID_VOL_UP 0.40
#define IM_GRID_VOL_DOWN -0.22

/* The grid model's extended moves and their dampener weights (Deribit's
 * extended table -66% ... +500% with Paradex's published weights; each
 * weighted move is about 16% of notional, so they bind for convex books). */
#define IM_GRID_N_EXTENDED 8
extern const double im_grid_ext_move[IM_GRID_N_EXTENDED];
extern const double im_grid_ext_weight[IM_GRID_N_EXTENDED];

/* Options under the parametric kinds (ewma_normal, ewma_t): delta-gamma-vega.
 *
 * Factors: f = (x, y), x_u the h-day log-move of the spot of each underlying u
 * the portfolio holds and y_u the h-day log-change of its ATM implied vol
 * (ln DVOL_t+h/DVOL_t, for underlyings it holds options on), f ~ N(0, h Sigma)
 * with Sigma the EWMA covariance of the daily moves (x and y together, over
 * the same W usable days: spot-vol correlation kept).
 *
 * Greeks at t, per option (Black-76 at zero rates, vol sigma = atm x
 * smile(K/S_t, tau), the smile factor held at its as-of value, i.e. sticky
 * strike for the Greeks): Delta = N(d1) (call) or N(d1) - 1 (put),
 * Gamma = phi(d1) / (S sigma sqrt(tau)), vega = S phi(d1) sqrt(tau) per unit
 * of sigma. The P&L of the portfolio over h days is the quadratic form
 *   Q = theta + sum_u b_u x_u + 1/2 sum_u G_u x_u^2 + sum_u V_u y_u,
 *   b_u = E_u + sum q Delta S_u   (E_u the linear USD exposure, as the linear
 *                                  model has it; q coins of each option),
 *   G_u = sum q Gamma S_u^2,
 *   V_u = sum q vega x smile x atm_u  (dV/d ln atm: vol log-change y),
 *   theta = sum q [V(S, atm, tau - h) - V(S, atm, tau)]  (exact ageing at
 *          unchanged spot and vol; the intrinsic value when tau <= h).
 * Its cumulants k1..k4 are exact for normal f (im_dg_cumulants, risk.h). The
 * loss L = -Q has mean -k1, s.d. sqrt(k2), skewness -k3/k2^1.5 and excess
 * kurtosis k4/k2^2, and
 *   VaR = -k1 + sqrt(k2) q_a (z_cf / z),  ES = -k1 + sqrt(k2) e_a m_cf
 * with z = Phi^-1(a), z_cf the Cornish-Fisher quantile and m_cf the modified
 * ES factor (im_cf_factor); q_a, e_a are the quantile and tail mean of the
 * model's unit-variance distribution (normal, or Student-t for ewma_t: the t
 * enters as the ratio of its quantile to the normal's, as in the linear case).
 * Without options (G = V = theta = 0) this is exactly the linear result.
 *
 * Limits: second order in the moves (no vanna, volga or higher terms; the
 * smile's move with spot is left out of Delta and Gamma), so large h-day
 * moves of short-dated or near-expiry options are poorly captured (an option
 * expiring within the horizon contributes its intrinsic value through theta
 * but its Greeks are those at t); the Cornish-Fisher expansion is accurate
 * for moderate skewness and kurtosis only, is not monotone in a for large
 * ones (roughly |skew| > 1 or excess kurtosis > 6), and under-states the
 * tail of a strongly short-gamma book; mc_t with full revaluation is the
 * reference (tests/core: small-vol, short-horizon agreement). At a
 * confidence of 0.5 (z = 0) the VaR correction is not applied.
 *
 * mc_t with options: the same factors (x, y) drawn as a multivariate t with
 * covariance h Sigma; each path moves spot to S max(1 + x, 0) and the ATM vol
 * to atm e^y and revalues every option with Black-76 aged h days (intrinsic
 * at expiry). The vol normals of underlying U come from their own stream
 * (seed, model and U's name and "ivol", date, path), so a linear book's draws
 * do not depend on whether the book holds options.
 *
 * Implied-vol proxy (ivol_proxy): where the market has no implied vol for an
 * underlying on a day k, atm_k = ivol_scale x sqrt(365) x sigma_k, sigma_k the
 * EWMA(IM_IVOL_PROXY_LAMBDA) volatility of the daily log-moves of days <= k
 * (the fhs filter: started on the first IM_FHS_BURN_IN returns, NaN before).
 * Days with implied vol keep it; where proxy and implied days meet, the
 * implied-vol move of that day mixes the two. */
#define IM_IVOL_PROXY_LAMBDA 0.94
/* The default ivol_scale: mean DVOL / mean EWMA(0.94) realised vol (x sqrt(365))
 * over the 3,664 BTC and ETH days with both, 2021-03-24 .. 2026-03-29, of the
 * shipped data (scripts/ivol_proxy_scale.py: BTC 1.1519, ETH 1.0496, pooled
 * 1.0932). */
#define IM_IVOL_PROXY_SCALE 1.0932

/* Parses a kind name ("hs", "fhs", "ewma_normal", "ewma_t", "grid", "mc_t"); -1 if unknown. */
int im_model_kind_parse(const char *name);

const char *im_model_kind_name(im_model_kind k);
const char *im_measure_name(im_measure m);

/* ---- Descriptors: what each kind takes, read by config parsing, the
 * checks, results attributes, calibration grids and help texts. ---------- */

typedef enum {
  IM_PARAM_NUMBER, /* a double field */
  IM_PARAM_COUNT,  /* an int32_t field, a whole number */
  IM_PARAM_FLAG,   /* an int32_t field, true (1) or false (0) */
  IM_PARAM_DATE    /* an int32_t field, days since 1970-01-01, written YYYY-MM-DD */
} im_param_type;

/* A parameter that only some kinds take. */
typedef struct {
  const char *key;  /* configuration key (models.<name>.<key>) */
  const char *attr; /* results.h5 attribute of /models/<name> */
  im_param_type type;
  size_t offset;    /* of its field in im_model */
  double def;       /* the default */
  double lo, hi;    /* valid values: lo <= v <= hi, or strictly where open */
  int lo_open, hi_open;
  const char *rule; /* the valid values in words, for messages ("the t needs nu > 2") */
  const char *help; /* one line for --help and the docs */
  /* Whether the parameter means anything for m (written out only then), or
   * NULL: always for the kinds that take it. */
  int (*applies)(const im_model *m);
} im_param;

#define IM_N_PARAMS 11
extern const im_param im_params[IM_N_PARAMS];

struct im_kind_ops; /* the kind's operations: core-internal (models/kind.h) */

typedef struct {
  const char *name;    /* as in configurations and results.h5 */
  const char *summary; /* one line for --help and the docs */
  uint32_t params;     /* bit i: the kind takes im_params[i] */
  const struct im_kind_ops *ops;
} im_kind_desc;

/* The descriptor of kind k, or NULL when k is not a kind. */
const im_kind_desc *im_model_kind_desc(im_model_kind k);

/* Whether kind k takes parameter i (an index into im_params). */
int im_model_takes(im_model_kind k, size_t i);

/* Index into im_params of a configuration key, or -1. */
int im_model_param_find(const char *key);

/* The value of parameter i of m as a double, and setting it. */
double im_model_param_get(const im_model *m, size_t i);
void im_model_param_set(im_model *m, size_t i, double v);

/* Whether v is a valid value of parameter i. */
int im_model_param_valid(size_t i, double v);

/* Fills the defaults of every parameter of m. */
void im_model_param_defaults(im_model *m);

/* The kind names, separated by ", ", into buf (for messages and help). */
void im_model_kind_list(char *buf, size_t len);

/* Every kind with its summary, then the parameters it takes with their help,
 * default and valid values, one per line (for --help and the docs); like
 * snprintf, returns the length it needs (truncated output when >= len). */
size_t im_model_help(char *buf, size_t len);

/* Daily returns the fhs volatility filter uses to start: the EWMA variance
 * begins as the mean square of the first IM_FHS_BURN_IN returns. */
#define IM_FHS_BURN_IN 30
/* The least daily volatility the fhs filter divides by or scales with: a
 * pegged or flat stretch (a stablecoin, a halted market) has a zero EWMA
 * variance, and dividing a later move by it would make that scenario
 * infinite. 0.1% a day (1.9% a year) is far below any traded coin's realised
 * volatility (the EWMA(0.94) volatility of the seven shipped coins never falls
 * below 1.07% a day, BTC's lowest), so it binds on flat series only. */
#define IM_FHS_VOL_FLOOR 1e-3

/* Checks the parameters against each other and against the market's length.
 * The message names the parameter ("window: ..."). */
im_status im_model_check(const im_model *model, const im_market *mkt, im_err *err);

typedef struct im_model_state im_model_state;
typedef struct im_model_scratch im_model_scratch;

/* Prepares a model for a market and a book. The state keeps pointers to mkt
 * and book, which must outlive it. */
im_status im_model_prepare(const im_model *model, const im_market *mkt, const im_book *book,
                           im_model_state **out, im_err *err);
void im_model_state_free(im_model_state *s);

/* Scratch memory for evaluating tiles of one model (one per concurrent
 * evaluation). Sized once; evaluation does not allocate. */
im_model_scratch *im_model_scratch_alloc(const im_model_state *s);
void im_model_scratch_free(im_model_scratch *w);

/* Evaluates portfolios [p0,p1) at market days [d0,d1). Outputs are row-major
 * [p1-p0][d1-d0]. im is the core margin. */
void im_model_eval_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                        size_t d0, size_t d1, double *im, double *pnl, int8_t *exceed);

/* A confidence level and measure at which a model's margin is read. */
typedef struct {
  double confidence;
  im_measure measure;
} im_level;
#define IM_MAX_LEVELS 16

/* im_model_eval_tile at n_lev (<= IM_MAX_LEVELS) levels at once, for
 * calibration sweeps: the scenarios (hs, fhs, mc_t) or the covariance (ewma)
 * of each portfolio and date are built once and read at every level, the
 * model's own confidence and measure being ignored. im and exceed are
 * [n_lev][p1-p0][d1-d0], pnl [p1-p0][d1-d0]. Level l's values are exactly
 * those of im_model_eval_tile with the model at that level (the grid has no
 * level: every level gets its worst case). */
void im_model_eval_levels(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                          size_t d0, size_t d1, size_t n_lev, const im_level *lev, double *im,
                          double *pnl, int8_t *exceed);

/* The anti-procyclicality layer of a tile whose core margin im and realised
 * pnl im_model_eval_tile produced (same shapes). With C the core margin, LR
 * the margin over all usable days of the last 10 years (IM_APC_YEARS_DAYS) and
 * S the margin over the usable days of the stressed period up to t:
 *   M1 = 0.75 C + 0.25 S with apc_stress (C when no stressed day is <= t),
 *   M2 = max(M1, LR) with apc_floor,
 *   total = M2 + B with apc_buffer, B = 0.25 M2 x clamp((1.25 LR - M2) /
 *   (0.25 LR), 0, 1): the full 25% while margin is at or below its long-run
 *   level, released linearly as it rises to 125% of it (ICE IRM 2's
 *   "buffer depleted linearly as stress rises").
 * apc = total - C (NaN where C is); exceed_total is the margin-adequacy flag
 * of the total (loss > total strictly; -1 not observed). */
void im_model_apc_tile(const im_model_state *s, im_model_scratch *w, size_t p0, size_t p1,
                       size_t d0, size_t d1, const double *im, const double *pnl, double *apc,
                       int8_t *exceed_total);

/* The add-ons of a tile (liq, conc: [p1-p0][d1-d0], each written only when
 * the model has it; NULL otherwise) and the margin-adequacy flag of the
 * total core + apc + add-ons (apc NULL when the model has no APC layer):
 * exceed_total = 1 when loss > total strictly, -1 when the core, a layer or
 * the P&L is NaN. */
void im_model_addon_tile(const im_model_state *s, size_t p0, size_t p1, size_t d0, size_t d1,
                         const double *im, const double *pnl, const double *apc, double *liq,
                         double *conc, int8_t *exceed_total);

#endif
