/* Risk measures on a set of scenario losses (loss = -pnl, positive = loss).
 *
 * Quantile convention: with the W losses sorted L(1) >= L(2) >= ... >= L(W),
 * VaR_conf = L(k) with k = floor(W (1 - conf)) + 1, the smallest loss exceeded
 * by at most a fraction 1 - conf of the scenarios. ES_conf is the average of the
 * worst m = W (1 - conf) losses, the boundary loss L(floor(m)+1) weighted by
 * the fractional part of m. W (1 - conf) is rounded to 1e-9 before taking the
 * floor, so that 1000 * (1 - 0.99), which is 10.000000000000009 in binary
 * floating point, counts as 10 and a value just below an integer does too. */
#ifndef IM_RISK_H
#define IM_RISK_H

#include <stddef.h>

/* The rank k of the VaR order statistic, 1 <= k <= w. */
size_t im_var_rank(size_t w, double conf);

/* The k largest of x[0..w-1], in descending order, into top[0..k-1], by one
 * pass with insertion into a sorted buffer: O(w) when k is small, as it is
 * for margin (k = 11 for W = 1000 at 99%). x is not modified. */
void im_top_k(const double *x, size_t w, size_t k, double *top);

/* VaR and ES from the losses, using top[] (capacity im_var_rank(w, conf) + 1)
 * as scratch when the tail is short and reordering loss[] otherwise. These are
 * what the models call. */
double im_var(double *loss, size_t w, double conf, double *top);
double im_es(double *loss, size_t w, double conf, double *top);

/* Largest tail rank for which im_var/im_es use the insertion buffer. */
#define IM_TOPK_MAX 64

/* VaR by selection: reorders loss[0..w-1] (partially) and returns L(k).
 * O(w) expected; no allocation. */
double im_var_select(double *loss, size_t w, double conf);

/* ES by selection: reorders loss[0..w-1]; no allocation. */
double im_es_select(double *loss, size_t w, double conf);

/* References by a full descending sort of a copy in scratch[w]: slow, obvious,
 * used by the tests to check the selection versions. */
double im_var_sorted_ref(const double *loss, size_t w, double conf, double *scratch);
double im_es_sorted_ref(const double *loss, size_t w, double conf, double *scratch);

/* Delta-gamma(-vega) moments. The P&L Q = theta + b'f + 1/2 f'Af of factor
 * moves f ~ N(0, C) (n factors, C symmetric row-major n x n), A = diag(g) on
 * the first ng factors and zero elsewhere. Its cumulants (Mathai and Provost,
 * Quadratic Forms in Random Variables, 1992, thm 3.2b.2), M = AC:
 *   k1 = theta + tr(M) / 2
 *   k2 = b'Cb + tr(M^2) / 2
 *   k3 = 3 (Cb)'A(Cb) + tr(M^3)
 *   k4 = 12 (Cb)'ACA(Cb) + 3 tr(M^4)
 * (k_r = (r-1)!/2 tr(M^r) + r!/2 b'C M^(r-2) b). n <= IM_DG_MAX. */
#define IM_DG_MAX 64
void im_dg_cumulants(size_t n, const double *c, const double *b, const double *g, size_t ng,
                     double theta, double k[4]);

/* Cornish-Fisher multiplier of the standardised VaR or ES of a distribution
 * with skewness s and excess kurtosis x, at the normal quantile z = Phi^-1(a):
 *   VaR: z_cf / z, z_cf = z + (z^2-1) s/6 + (z^3-3z) x/24 - (2z^3-5z) s^2/36
 *        (Cornish and Fisher 1938; the third-order expansion);
 *   ES:  1 + s z/6 + x (z^2-1)/24 - s^2 (2z^2-1)/36, the tail mean of z_cf(Z)
 *        over Z > z divided by the normal's phi(z)/(1-a) (Boudt, Peterson and
 *        Croux 2008, "modified ES", from the normal's partial moments).
 * Both are 1 when s = x = 0. z must not be 0 for VaR. */
double im_cf_factor(double z, double s, double x, int es);

#endif
