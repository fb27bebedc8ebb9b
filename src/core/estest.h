/* Expected-shortfall backtests and scores: per-day pieces (PIT of a scenario
 * set, quantile score, Fissler-Ziegel FZ0), the ES tests on a series
 * (Acerbi-Szekely Z1/Z2, Du-Escanciano unconditional and conditional, the
 * Costanzino-Curran zone, MATLAB's severity ratios) and the exact
 * Poisson-binomial p-value of a count of ES exceedances. Pure numerics.
 *
 * Notation (issue 14): a = 1 - confidence in (0, 1); pnl_t the day's P&L,
 * loss L_t = -pnl_t; VaR_t, ES_t at level a are positive numbers on the loss
 * side; u_t = F_t(pnl_t) the PIT of the P&L under the day's predictive
 * distribution (small u = large loss). A NaN input marks a day as not
 * observed; not-observed days are skipped and the sequential statistic C(m)
 * works on the observed days in series order (as backtest.h does).
 *
 * Definitions:
 * - PIT of a scenario set pnl_1..pnl_W (the mid-rank, randomisation-free
 *   form of the issue): u = (#{s: pnl_s < pnl} + 1/2 #{s: pnl_s = pnl}) / W.
 * - Quantile (tick) score of the VaR: QS = (a - 1{L > VaR})(VaR - L)
 *   (Koenker-Bassett loss on the loss side; >= 0, 0 iff L = VaR; the
 *   strict hit rule of backtest.h).
 * - FZ0 (Patton, Ziegel & Chen 2019, eq. (6)) of (VaR, ES) with v = -VaR,
 *   e = -ES < 0, y = pnl: FZ0 = -(1/(a e)) 1{y <= v}(v - y) + v/e + ln(-e) - 1.
 *   Undefined (NaN) unless ES > 0. Lower is better for both scores.
 * - Acerbi & Szekely (2014), over days with finite L, VaR, ES:
 *   I_t = 1{L_t > VaR_t}, N = observed days, N_F = sum I_t,
 *   Z1 = 1 - (1/N_F) sum I_t L_t / ES_t (NaN when N_F = 0),
 *   Z2 = 1 - sum I_t L_t / (N a ES_t) (NaN when N = 0).
 *   Both have expectation 0 under a correct model; negative = risk
 *   underestimated (p-values are left-tailed, see simp.h).
 * - Du & Escanciano (2017), over days with finite u:
 *   H_t = (1 - u_t/a) 1{u_t <= a}, E H = a/2, Var H = a(4 - 3a)/12 under
 *   u ~ U(0,1). U = sqrt(N)(mean H - a/2) / sqrt(a(4 - 3a)/12), p = 2(1 -
 *   Phi(|U|)) (NaN when N = 0).
 *   C(m) = N sum_{j=1..m} rho_j^2 (Box-Pierce), rho_j = gamma_j / gamma_0,
 *   gamma_j = (1/(N-j)) sum_{t=j+1..N} (H_t - a/2)(H_{t-j} - a/2) with t the
 *   rank among observed days; p = chi2_m upper tail. The centring is the null
 *   mean a/2, as Du-Escanciano and MATLAB esbacktestbyde do. NaN when
 *   N <= m or gamma_0 = 0 (no PIT at or below a).
 * - Costanzino & Curran (2018) ES traffic light: sum H_t is approximately
 *   N(N a/2, N a(4-3a)/12) under the null, so its cumulative probability is
 *   Phi(U); the zone is im_bt_zone(Phi(U)) -- green Phi(U) <= 0.95, yellow
 *   0.95 < Phi(U) <= 0.9999, red above -- the same one-sided (too much tail
 *   risk) 95% / 99.99% convention as the VaR traffic light's binomial cdf.
 * - Severity (MATLAB esbacktest/esbacktestbysim summary: "the average ratio
 *   of ES to VaR over the periods with VaR failures" and "of loss to VaR
 *   over the periods with VaR failures", NaN without failures): over days
 *   with finite L, VaR, ES, I_t = 1 and VaR_t > 0 (a ratio to a VaR <= 0 is
 *   undefined and left out), expected = mean ES_t / VaR_t, observed = mean
 *   L_t / VaR_t.
 * - Scores per series: qs_mean = mean QS over days with finite L and VaR;
 *   fz0_mean = mean FZ0 over days with finite L, VaR and ES.
 * - Poisson-binomial: X = sum of independent Bernoulli(p_t), p-value
 *   P(X >= x) by the exact convolution P_k(j) = P_{k-1}(j)(1-p_k) +
 *   P_{k-1}(j-1) p_k (O(N x) time with the tail folded into one cell). For ES
 *   exceedances x = #{t: L_t > ES_t} (the strict hit rule of backtest.h)
 *   and p_t = P_t(L > ES_t) (im_es_tail_prob_scen, or im_es_dist_tail for
 *   the parametric families of simp.h). */
#ifndef IM_ESTEST_H
#define IM_ESTEST_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

/* The largest lag count m of the conditional Du-Escanciano test (the lagged
 * H values live in a fixed ring so the test allocates nothing). */
#define IM_ES_DE_LAGS_MAX 64
#define IM_ES_DE_LAGS_DEFAULT 5

typedef struct {
  int64_t n_obs;      /* days with finite L, VaR, ES */
  int64_t n_fail;     /* N_F: VaR exceedances among them */
  double z1, z2;      /* Acerbi-Szekely */
  double sev_expected, sev_observed; /* mean ES/VaR, mean L/VaR on failures */
  int64_t de_n;       /* days with finite u */
  double de_u, de_u_p; /* unconditional DE and its two-sided normal p-value */
  double de_c, de_c_p; /* conditional DE C(m), chi2_m p-value */
  int64_t de_c_lags;  /* m */
  int8_t cc_es_zone;  /* im_zone of Phi(de_u), -1 when de_u is NaN */
  int64_t qs_n, fz0_n; /* days with loss and VaR / loss, VaR and ES */
  double qs_mean, fz0_mean; /* mean QS and FZ0 over them (NaN when none) */
} im_es_stats;

/* Per-day pieces; NaN when an input is NaN (or ES <= 0 for FZ0, W = 0 for
 * the PIT). The scenario PIT skips NaN scenarios (W counts finite ones). */
double im_es_pit_scen(const double *scen_pnl, size_t w, double pnl);
double im_es_qs(double a, double var, double loss);
double im_es_fz0(double a, double var, double es, double pnl);

/* Share of a scenario set's losses above a threshold: P_t(L > es) of a
 * scenario set (NaN scenarios skipped; NaN when none is finite). */
double im_es_tail_prob_scen(const double *scen_pnl, size_t w, double es);

/* Z1, Z2 and the severity ratios; loss, var, es are arrays of n days. */
void im_es_as(const double *loss, const double *var, const double *es, size_t n, double a,
              im_es_stats *out);

/* The same, one day at a time (simp.c adds simulated days without storing
 * them): start from {0}, add each day, finish into out's n_obs, n_fail, z1,
 * z2, sev_expected, sev_observed. A day with a NaN input is skipped. */
typedef struct {
  int64_t n_obs, n_fail, n_sev;
  double sum_ratio, sum_ratio_a, sev_e, sev_o;
} im_es_as_acc;
void im_es_as_add(im_es_as_acc *acc, double a, double loss, double var, double es);
void im_es_as_finish(const im_es_as_acc *acc, im_es_stats *out);

/* H_t of one PIT (NaN for NaN). */
double im_es_de_h(double u, double a);

/* U and its p-value, C(m) and its p-value on the PIT series (1 <= m <=
 * IM_ES_DE_LAGS_MAX, else all NaN); allocation-free. Fills de_* and cc_es_zone. */
void im_es_de(const double *pit, size_t n, double a, int64_t lags, im_es_stats *out);

/* Everything: loss, var, es and pit are arrays of n days or NULL (es needs
 * var); a statistic whose inputs are missing is NaN / -1 / count 0: QS
 * needs loss and var, Z1/Z2, severity and FZ0 loss, var and es, DE pit. A
 * day whose loss and VaR are numbers must have them finite and its ES, if a
 * number, finite and > 0; a PIT that is a number must lie in [0, 1]. lags 0
 * means the default 5. Errors: IM_EINVAL (a, lags, NULL out, bad values). */
im_status im_es_compute(const double *loss, const double *var, const double *es,
                        const double *pit, size_t n, double a, int64_t lags, im_es_stats *out,
                        im_err *err);

/* The same on the non-overlapping sub-sample of positions k, k + h, k + 2h,
 * ... (1 <= h, k < h) of an h-day series, as im_bt_subsample does for the
 * VaR battery: every statistic computed on that sub-series as if it were
 * the whole series. im_es_compute is h = 1, k = 0. */
im_status im_es_subsample(const double *loss, const double *var, const double *es,
                          const double *pit, size_t n, size_t h, size_t k, double a,
                          int64_t lags, im_es_stats *out, im_err *err);

/* P(X >= x) for X = sum of independent Bernoulli(p[t]) over the t with
 * finite p[t] (NaN days skipped; each finite p in [0, 1]). work holds
 * x + 1 doubles (untouched when x <= 0). Returns 1 for x <= 0, 0 when x
 * exceeds the number of finite p, NaN when a finite p is outside [0, 1]. */
double im_es_pbinom_sf(const double *p, size_t n, int64_t x, double *work);

#endif
