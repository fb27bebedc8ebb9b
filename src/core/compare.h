/* Inference on model comparisons by their scores (lower = better): the
 * Diebold-Mariano test of a pair and the Model Confidence Set of a group.
 * Pure numerics.
 *
 * Diebold & Mariano (1995) with the Harvey, Leybourne & Newbold (1997)
 * small-sample correction, on a series of score differences d_t (e.g. the
 * cross-portfolio mean of QS_A - QS_B on day t; NaN = not observed, skipped,
 * the rest taken in order):
 *   dbar = mean d, gamma_k = (1/N) sum_{t=k+1..N} (d_t - dbar)(d_{t-k} - dbar),
 *   LRV = gamma_0 + 2 sum_{k=1..L} (1 - k/(L+1)) gamma_k (Newey-West 1987,
 *   Bartlett kernel), L = max(h - 1, floor(N^(1/3))) capped at N - 1,
 *   DM = dbar / sqrt(LRV / N),
 *   DM_HLN = DM sqrt((N + 1 - 2h + h(h-1)/N) / N),
 *   p = 2 P(T_{N-1} > |DM_HLN|) (Student-t with N - 1 df, two-sided).
 * DM > 0 means the first model's scores are higher (worse). Undefined (NaN)
 * when N < 2 or LRV <= 0 (e.g. identical scores).
 *
 * Model Confidence Set (Hansen, Lunde & Nason 2011, Econometrica 79, the
 * T_max statistic of their eq. (7) / sec. 3.1.2): loss[i * T + t] is the
 * score of model i on day t (finite). For the surviving set M with k models,
 *   dbar_i = (1/k) sum_{j in M} (Lbar_i - Lbar_j)   (Lbar = mean over days),
 *   t_i = dbar_i / sqrt(var_i), T_max = max_i t_i,
 * with var_i the bootstrap variance (1/B) sum_b (dbar*_{b,i} - dbar_i)^2 and
 * the bootstrap null T*_b = max_i (dbar*_{b,i} - dbar_i) / sqrt(var_i).
 * p = #{b: T*_b >= T_max} / B; the model with the largest t_i is removed
 * (lowest index on ties) and its MCS p-value is the running maximum of the
 * p's so far; this continues until one model is left, whose MCS p-value is 1.
 * The (1 - alpha) MCS is {i: p_i >= alpha}. var_i = 0 (a model whose
 * difference to the set's average is the same on every bootstrap day):
 * t_i = +inf, -inf or 0 by the sign of dbar_i and its bootstrap term 0, so
 * identical models get p = 1 and a model worse by a constant is removed.
 * Bootstrap: moving blocks of length l (Kuensch 1989): replication b draws
 * ceil(T/l) block starts uniform in 0..T-l from the stream
 * im_rng_stream(seed, IM_CMP_PURPOSE_MCS, b, 0) and keeps the first T days
 * of the concatenated blocks; the same day indices for every model, and the
 * same resamples at every elimination step (as HLN do). Memory: B m + 3 m
 * doubles and T indices. */
#ifndef IM_COMPARE_H
#define IM_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

#define IM_CMP_PURPOSE_MCS 0x4d435342u /* "MCSB" */
#define IM_CMP_MCS_ALPHA_DEFAULT 0.10
#define IM_CMP_MCS_BOOT_DEFAULT 1000

typedef struct {
  int64_t n;      /* observed days N */
  int64_t lags;   /* L */
  double mean;    /* dbar */
  double lrv;     /* Newey-West long-run variance */
  double dm;      /* DM */
  double dm_hln;  /* HLN-corrected statistic */
  double p;       /* two-sided Student-t(N-1) p-value of dm_hln */
} im_dm_result;

/* h >= 1 is the forecast horizon in days. Errors: IM_EINVAL, IM_ENOMEM. */
im_status im_cmp_dm(const double *d, size_t n, size_t h, im_dm_result *out, im_err *err);

typedef struct {
  double alpha;  /* MCS level, e.g. 0.10 */
  size_t block;  /* block length l, 1..T; 0 = max(1, floor(T^(1/3))) */
  size_t n_boot; /* B >= 1 */
  uint64_t seed;
} im_mcs_opts;

im_mcs_opts im_mcs_opts_default(void);

/* p_mcs[m] and in_set[m] (1 = in the (1 - alpha) MCS); m >= 1, T >= 2.
 * Errors: IM_EINVAL (bad sizes, options, a non-finite loss), IM_ENOMEM. */
im_status im_cmp_mcs(const double *loss, size_t m, size_t T, const im_mcs_opts *opts,
                     double *p_mcs, int8_t *in_set, im_err *err);

#endif
