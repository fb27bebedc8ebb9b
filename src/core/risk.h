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

#endif
