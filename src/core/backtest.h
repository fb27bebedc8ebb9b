/* Backtest statistics on an exceedance series (and, optionally, the P&L and
 * margin behind it): coverage tests, independence tests, duration tests, the
 * dynamic quantile test, traffic lights, exceedance magnitudes and margin
 * procyclicality. Pure numerics: no I/O, no printing.
 *
 * Conventions (README "Backtest statistics" repeats them for users):
 * - hits[t] is 1 (exceedance), 0 (covered) or -1 (not observed). Not-observed
 *   days are skipped: n_obs and n_exceed count observed days only.
 * - p = 1 - confidence is the expected exceedance probability.
 * - Christoffersen transition counts n_ij use the pairs (t-1, t) of
 *   consecutive series positions where both days are observed; a pair
 *   straddling a not-observed day is not counted.
 * - Every other sequential statistic (first failure, TUFF, TBF, durations,
 *   DQ lags, the Basel window) works on the OBSERVED days in series order,
 *   i.e. on the series with its not-observed days removed: "position" means
 *   the 1-based rank of a day among the observed days.
 * - Likelihoods are evaluated in log space with 0 * ln 0 = 0, so zero and all
 *   exceedances give finite statistics.
 * - A statistic that is undefined for the data is NaN; a statistic that is
 *   defined is finite (never NaN or +-Inf). Integer fields say individually
 *   what they hold when undefined (tl_zone, basel_*: -1; dq_n, dq_df: 0;
 *   first_failure: 0 = no exceedance). p-values are GSL's chi-square or
 *   normal upper tails.
 * - Traffic light: F = Binomial(n_obs, p) cdf at n_exceed; green F <= 0.95,
 *   yellow 0.95 < F <= 0.9999, red F > 0.9999 (MATLAB varbacktest, Basel 1996).
 *
 * The individual statistics:
 * - first_failure: position (1-based among observed days) of the first
 *   exceedance; 0 when there is none (also when n_obs == 0).
 * - TUFF (Kupiec 1995; MATLAB varbacktest/tuff): with n = first_failure,
 *   LR = -2[ln p + (n-1) ln(1-p) + n ln n - (n-1) ln(n-1)], chi2(1); n = 1
 *   gives -2 ln p. No exceedance: MATLAB's rule. If n_obs > 1/p and the test
 *   at n = n_obs + 1 (the earliest possible first failure) rejects at
 *   opts->test_level (chi2 cdf of LR >= test_level), LR and p of n_obs + 1 are
 *   reported (any later first failure would be rejected too, since LR grows in
 *   n beyond 1/p); otherwise the test cannot decide yet and LR = p = NaN
 *   (MATLAB: "accept" with NaN), which a p < level rule reads as no rejection.
 * - TBFI (Haas 2001; MATLAB tbfi): n_1 = t_1, n_i = t_i - t_{i-1} for the
 *   positions t_1 < ... < t_x of the x exceedances; LR = sum LR_TUFF(n_i),
 *   chi2(x). No exceedance: handled as TUFF (lr_tbfi = lr_tuff,
 *   p_tbfi = p_tuff), as MATLAB documents.
 * - TBF (MATLAB tbf): LR = lr_uc + lr_tbfi, chi2(x + 1). No exceedance: NaN
 *   (MATLAB: undefined; its decision is then "accept iff POF and TBFI both
 *   accept", which the caller can read off p_uc and p_tbfi).
 * - Duration test (Christoffersen & Pelletier 2004, as rugarch VaRDurTest):
 *   durations between consecutive exceedances are uncensored; when the first
 *   observed day is not an exceedance the spell up to the first exceedance
 *   (length t_1) is added as censored, and when the last observed day is not
 *   an exceedance the spell after the last one (length n_obs - t_x) is added
 *   as censored. Weibull hazard: an uncensored d contributes
 *   ln f(d) = b ln a + ln b + (b-1) ln d - (a d)^b, a censored one
 *   ln S(d) = -(a d)^b. a is profiled out (a^b = U / sum over all spells of
 *   d^b, U = number of uncensored durations = x - 1) and b maximises the
 *   profiled log-likelihood on [0.001, 10]; LR = 2[l(b) - l(1)], chi2(1).
 *   The profiled log-likelihood is strictly concave in b, so its maximiser is
 *   found by bisection on the sign of its derivative (to machine precision;
 *   rugarch's L-BFGS-B stops at its tolerance). U is counted, not inferred
 *   from the censoring flags at the ends (rugarch miscounts with exactly 2
 *   spells), and all counts are taken after the spells are formed (vartests
 *   keeps a stale N). Undefined (NaN) when x < 2 (no uncensored duration).
 *   dur_b = 10 or 0.001 means the maximum is on that bound.
 * - DQ (Engle & Manganelli 2004, as GAS DQOOStest): over the observed days in
 *   order, Hit_t = hit_t - p; regress Hit_t for t = s+1..n_obs on
 *   X_t = [1, margin_t, Hit_{t-1}, ..., Hit_{t-L}, pnl_{t-1}^2] with pnl and
 *   margin (s = max(L, 1)), or X_t = [1, Hit_{t-1}, ..., Hit_{t-L}] without
 *   (s = L), L = opts->dq_lags. DQ = Hit' X (X'X)^+ X' Hit / (p(1-p)), chi2
 *   with rank(X) degrees of freedom (GAS uses the column count, which
 *   over-counts when a column is constant, e.g. a constant margin). Computed
 *   as |U_r' Hit|^2 / (p(1-p)) from the SVD of X with unit-norm columns
 *   (the statistic is invariant to column scaling; scaling makes the rank
 *   decision independent of units); singular values <= max(rows, cols) *
 *   DBL_EPSILON * largest are treated as zero (the MATLAB pinv/rank rule).
 *   dq_n = rows used, dq_df = rank. NaN when rows <= number of columns.
 * - bin_z = (x - n p) / sqrt(n p (1-p)), bin_p = 2 (1 - Phi(|z|)) (MATLAB bin).
 * - Basel (1996) zones on the LAST 250 observed days at 99%: basel_n = 250,
 *   basel_exceed = exceedances among them, basel_zone green 0-4, yellow 5-9,
 *   red >= 10, basel_plus 0 (green), 0.40/0.50/0.65/0.75/0.85 (5..9), 1.00
 *   (red). Only when |p - 0.01| <= 1e-12 and n_obs >= 250; otherwise -1, -1,
 *   -1, NaN.
 * - Magnitudes (need pnl and margin; loss = -pnl, over days with hit = 1):
 *   largest_exceedance = max(loss - margin), mean_exceedance =
 *   mean(loss - margin) (USD); mean_loss_to_margin = mean(loss / margin) over
 *   exceedances with margin > 0 (a zero margin has no ratio and is left out).
 *   NaN when there is no (such) exceedance or no pnl/margin. The hit flags
 *   are taken as given, not recomputed from pnl and margin.
 * - coverage = 1 - n_exceed / n_obs (NaN when n_obs == 0).
 * - Procyclicality (need margin; over observed days): peak_to_trough =
 *   max over observed t with M_t > 0 of (max over observed s <= t of M_s) / M_t,
 *   the largest fall of margin from an earlier peak, as a ratio (>= 1);
 *   max_incr_kd = max over t of M_{t+k} / M_t - 1 over series positions t and
 *   t+k both observed with M_t > 0 (k = 1, 5, 10, 30 series positions, i.e.
 *   calendar days on imvar's gapless calendar); it is negative when margin
 *   only ever falls over k days. NaN when no day or pair qualifies. Ratios
 *   saturate at +-DBL_MAX instead of overflowing (reachable only with margins
 *   below about 1e-150 USD).
 *
 * Horizons h > 1: consecutive h-day exceedances overlap and are dependent,
 * so every test above that assumes independence (all but the exceedance
 * count itself) over-rejects on the full series, and the DQ regressors
 * Hit_{t-1} and pnl_{t-1} are not yet known at t. im_bt_subsample runs the
 * battery on every h-th day, where neither problem arises;
 * im_bt_overlap_bounds gives traffic-light bounds for the full overlapping
 * count by simulation. */
#ifndef IM_BACKTEST_H
#define IM_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

typedef enum { IM_ZONE_GREEN = 0, IM_ZONE_YELLOW = 1, IM_ZONE_RED = 2 } im_zone;

typedef struct {
  int64_t n_obs;     /* observed days */
  int64_t n_exceed;  /* exceedances among them */
  double expected;   /* n_obs * p */
  int64_t n00, n01, n10, n11; /* transition counts, n_ij = #{h(t-1)=i, h(t)=j} */
  double lr_uc, p_uc;   /* Kupiec POF, chi2(1) */
  double lr_ind, p_ind; /* Christoffersen independence, chi2(1) */
  double lr_cc, p_cc;   /* conditional coverage = lr_uc + lr_ind, chi2(2) */
  double tl_cumprob;    /* Binomial(n_obs, p) cdf at n_exceed */
  int8_t tl_zone;       /* im_zone, or -1 when n_obs == 0 */
  /* ---- filled by im_bt_compute (see the conventions above) ---- */
  int64_t first_failure;     /* 1-based among observed days; 0 = none */
  double lr_tuff, p_tuff;    /* time until first failure, chi2(1) */
  double lr_tbfi, p_tbfi;    /* Haas time between failures independence, chi2(x) */
  double lr_tbf, p_tbf;      /* lr_uc + lr_tbfi, chi2(x + 1) */
  double dur_b, dur_lr, dur_p; /* Weibull duration test: shape, LR, chi2(1) */
  double dq_stat, dq_p;      /* dynamic quantile test, chi2(dq_df) */
  int64_t dq_n, dq_df;       /* DQ regression rows and rank(X); 0 when undefined */
  double bin_z, bin_p;       /* binomial z and two-sided normal p */
  int64_t basel_n;           /* 250, or -1 when not applicable */
  int64_t basel_exceed;      /* exceedances in the last 250 observed days, or -1 */
  int8_t basel_zone;         /* im_zone by the Basel 1996 table, or -1 */
  double basel_plus;         /* Basel plus factor, or NaN */
  double largest_exceedance; /* USD, max(loss - margin) over exceedances */
  double mean_exceedance;    /* USD, mean(loss - margin) over exceedances */
  double mean_loss_to_margin; /* mean(loss / margin) over exceedances, margin > 0 */
  double coverage;           /* 1 - n_exceed / n_obs */
  double peak_to_trough;     /* max_{s<=t} M_s / M_t, observed M_t > 0 */
  double max_incr_1d, max_incr_5d, max_incr_10d, max_incr_30d; /* max M_{t+k}/M_t - 1 */
  /* Traffic light for overlapping h-day exceedances (h > 1): the bounds of
   * im_bt_overlap_bounds for n_obs and the zone of n_exceed between them.
   * im_bt_compute leaves them -1 (not computed); callers that know h fill
   * them (for h = 1 the zone is tl_zone). */
  int64_t overlap_green_max, overlap_yellow_max;
  int8_t tl_zone_overlap;
} im_bt_stats;

/* Options of im_bt_compute. Start from im_bt_opts_default(): a zeroed struct
 * is not the default (it asks for a DQ without lags). */
/* Every field of im_bt_stats in order, by type: for writers of tables
 * (HDF5 compound types, JSON) that must list them all. */
#define IM_BT_STATS_FIELDS(I64, F64, I8)                                                 \
  I64(n_obs) I64(n_exceed) F64(expected) I64(n00) I64(n01) I64(n10) I64(n11) F64(lr_uc) \
  F64(p_uc) F64(lr_ind) F64(p_ind) F64(lr_cc) F64(p_cc) F64(tl_cumprob) I8(tl_zone)     \
  I64(first_failure) F64(lr_tuff) F64(p_tuff) F64(lr_tbfi) F64(p_tbfi) F64(lr_tbf)      \
  F64(p_tbf) F64(dur_b) F64(dur_lr) F64(dur_p) F64(dq_stat) F64(dq_p) I64(dq_n)         \
  I64(dq_df) F64(bin_z) F64(bin_p) I64(basel_n) I64(basel_exceed) I8(basel_zone)        \
  F64(basel_plus) F64(largest_exceedance) F64(mean_exceedance)                          \
  F64(mean_loss_to_margin) F64(coverage) F64(peak_to_trough) F64(max_incr_1d)           \
  F64(max_incr_5d) F64(max_incr_10d) F64(max_incr_30d) I64(overlap_green_max)           \
  I64(overlap_yellow_max) I8(tl_zone_overlap)

typedef struct {
  int64_t dq_lags;   /* L, the Hit lags in the DQ regression, 0..IM_BT_DQ_LAGS_MAX */
  double test_level; /* MATLAB TestLevel (confidence, e.g. 0.95) for the TUFF/TBFI
                        no-exceedance rule only; strictly inside (0, 1) */
} im_bt_opts;

#define IM_BT_DQ_LAGS_DEFAULT 4
#define IM_BT_DQ_LAGS_MAX 64
#define IM_BT_TEST_LEVEL_DEFAULT 0.95
/* Basel 1996 window and level. */
#define IM_BT_BASEL_DAYS 250
#define IM_BT_BASEL_P 0.01
/* The Philox4x32 "purpose" word of the overlap simulation (ASCII "OVLP"). */
#define IM_BT_RNG_PURPOSE_OVERLAP 0x4f564c50u

im_bt_opts im_bt_opts_default(void);

/* Kupiec POF likelihood ratio for x exceedances in n observations. */
double im_bt_lr_uc(int64_t n, int64_t x, double p);

/* Christoffersen independence likelihood ratio from the transition counts. */
double im_bt_lr_ind(int64_t n00, int64_t n01, int64_t n10, int64_t n11);

/* TUFF likelihood ratio for a first failure on day n >= 1 (NaN otherwise);
 * also the per-duration term of TBFI. */
double im_bt_lr_tuff(int64_t n, double p);

/* Traffic-light zone of a cumulative probability. */
im_zone im_bt_zone(double cumprob);

/* Basel 1996 zone and plus factor of x exceptions in 250 days at 99%
 * (x >= 0; x < 0 gives -1 / NaN). */
int8_t im_bt_basel_zone(int64_t x);
double im_bt_basel_plus(int64_t x);

/* The whole battery on one series of n days. pnl and margin are either both
 * NULL (a hit-only series: magnitudes, procyclicality and the DQ's margin and
 * P&L regressors are left out, as documented above) or both arrays of n days
 * whose observed days hold finite values with margin >= 0 (not-observed days
 * are never read). opts may be NULL for im_bt_opts_default().
 * Errors: IM_EINVAL (p not in (0,1), a hit not -1/0/1, bad pnl/margin, bad
 * opts, NULL pointers), IM_ENOMEM. out is written only on success. */
im_status im_bt_compute(const int8_t *hits, const double *pnl, const double *margin, size_t n,
                        double p, const im_bt_opts *opts, im_bt_stats *out, im_err *err);

/* im_bt_compute(hits, NULL, NULL, n, p, NULL, out, err). */
im_status im_bt_stats_compute(const int8_t *hits, size_t n, double p, im_bt_stats *out,
                              im_err *err);

/* The battery on the non-overlapping sub-sample of positions k, k+h, k+2h, ...
 * (1 <= h, k < h) of an h-day series: every statistic is computed on that
 * sub-series as if it were the whole series, except procyclicality
 * (peak_to_trough, max_incr_*), which describes the margin path and is taken
 * from the full series so that max_incr_1d still means one calendar day. */
im_status im_bt_subsample(const int8_t *hits, const double *pnl, const double *margin, size_t n,
                          size_t h, size_t k, double p, const im_bt_opts *opts, im_bt_stats *out,
                          im_err *err);

/* Distribution of the number of exceedances among n_obs overlapping h-day
 * sums of iid N(0,1) daily moves, S_t = X_t + ... + X_{t+h-1} for
 * t = 0..n_obs-1, an exceedance being S_t > sqrt(h) * z_{1-p} (each S_t then
 * exceeds with probability p exactly). Estimated from n_sims simulations:
 * cdf[k] = share of simulations with at most k exceedances, k = 0..n_obs
 * (cdf has n_obs + 1 entries). Simulation i draws its n_obs + h - 1 moves from
 * Philox4x32-10 with key (seed low 32 bits, seed high 32 bits) and counter
 * (block, IM_BT_RNG_PURPOSE_OVERLAP, i low 32 bits, i high 32 bits), block
 * j = 0, 1, ... giving moves 2j and 2j+1 by Box-Muller from two 53-bit
 * uniforms in (0, 1). The integers are the same on every platform; the moves
 * go through libm's log, sqrt, cos and sin, so results are bit-identical
 * for a given libm. Limits: n_obs + h - 1 <= 2^33 moves, 1 <= n_sims <= 1e12.
 * Errors: IM_EINVAL, IM_ENOMEM. */
im_status im_bt_overlap_cdf(size_t n_obs, size_t h, double p, uint64_t seed, size_t n_sims,
                            double *cdf, im_err *err);

/* Traffic-light bounds from that simulated distribution F: green_max = the
 * largest k with F(k) <= 0.95, yellow_max = the largest k with F(k) <= 0.9999
 * (compared exactly on the counts). An exceedance count x is green if
 * x <= green_max, yellow if green_max < x <= yellow_max, red above: the same
 * rule as tl_zone. -1 when even 0 exceedances is beyond the level (tiny
 * n_obs). With h = 1 this estimates the binomial bounds. */
im_status im_bt_overlap_bounds(size_t n_obs, size_t h, double p, uint64_t seed, size_t n_sims,
                               int64_t *green_max, int64_t *yellow_max, im_err *err);

/* Fills overlap_green_max, overlap_yellow_max and tl_zone_overlap of rows
 * [0..n) of an h-day model (one simulation for all their lengths). For h = 1
 * the zone is tl_zone and the bounds stay -1. */
im_status im_bt_fill_overlap(im_bt_stats *rows, size_t n, size_t h, double p, uint64_t seed,
                             size_t n_sims, im_err *err);

/* The same bounds for several lengths n_obs[0..m-1] from one set of n_sims
 * simulated paths of the longest length (each length uses the prefix of every
 * path): m simulations' worth of answers for the price of one. */
im_status im_bt_overlap_bounds_multi(const size_t *n_obs, size_t m, size_t h, double p,
                                     uint64_t seed, size_t n_sims, int64_t *green_max,
                                     int64_t *yellow_max, im_err *err);

#endif
