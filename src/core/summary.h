/* Aggregate verdicts of one model over all portfolios. */
#ifndef IM_SUMMARY_H
#define IM_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "backtest.h"

typedef struct {
  int64_t n_portfolios;
  int64_t n_evaluated;   /* portfolios with at least one observed day */
  int64_t n_obs;         /* observed portfolio-days */
  int64_t n_exceed;
  double expected;       /* sum of n_obs * p */
  double exceed_rate;    /* n_exceed / n_obs, NaN if n_obs == 0 */
  int64_t n_reject_uc;   /* portfolios whose Kupiec p-value < level */
  int64_t n_reject_ind;  /* ... Christoffersen independence */
  int64_t n_reject_cc;   /* ... conditional coverage */
  int64_t n_green, n_yellow, n_red;
} im_bt_summary;

/* Sums the rows in index order (the same result whatever produced them). A
 * test rejects when its p-value is below level (e.g. 0.05). */
void im_bt_summarise(const im_bt_stats *rows, size_t n, double level, im_bt_summary *out);

#endif
