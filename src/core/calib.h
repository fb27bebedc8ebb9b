/* Calibration: the verdicts of one parameter set over one period, the
 * selection of the recommended set, its Pareto frontier and sensitivities.
 *
 * A parameter set is an im_model. Its backtest over a period reduces, per
 * portfolio, to an im_cal_row (im_cal_row_compute), the rows of all
 * portfolios to an im_cal_metrics (im_cal_summarise), and the metrics of all
 * sets in the calibration period to a ranking (im_cal_rank).
 *
 * Definitions (p = 1 - confidence, level = criteria.test_level):
 * - A portfolio passes Kupiec (conditional coverage) when its p_uc (p_cc) is
 *   >= level. For h = 1 that is the test on the whole series. For h > 1 the
 *   overlapping h-day flags are dependent, so the test runs on each of the h
 *   non-overlapping sub-samples (positions k, k+h, ...; im_bt_subsample) and
 *   the p-value is the Bonferroni combination min(1, h min_k p_k): a
 *   level-alpha test of "no sub-sample rejects".
 * - Its zone is the traffic-light zone of its exceedance count: binomial for
 *   h = 1 (tl_zone), from the simulated overlap bounds for h > 1
 *   (tl_zone_overlap, im_bt_overlap_bounds with the run's seed): the zones
 *   imvar validate reports.
 * - mean_margin = sum of margin / number of observed portfolio-days (USD): the
 *   collateral the set demands on an average day.
 * - procyclicality = mean over portfolios of peak_to_trough (the largest fall
 *   of margin from an earlier peak, as a ratio; ESMA's APC guidelines use the
 *   peak-to-trough ratio).
 * - A set is eligible when, in the calibration period, coverage >= criteria
 *   coverage (NaN: the set's own confidence), and the shares of evaluated
 *   portfolios passing Kupiec, passing conditional coverage and with a zone no
 *   worse than criteria.zone are each >= criteria.pass_share. */
#ifndef IM_CALIB_H
#define IM_CALIB_H

#include <stddef.h>
#include <stdint.h>

#include "backtest.h"
#include "im_status.h"
#include "model.h"

typedef struct {
  double coverage;   /* minimum pooled coverage; NaN = each set's own confidence */
  int zone;          /* worst acceptable zone of a portfolio (IM_ZONE_GREEN) */
  double test_level; /* Kupiec and conditional coverage rejection level (0.05) */
  double pass_share; /* minimum share of portfolios passing each test and the zone (0.95) */
} im_cal_criteria;

im_cal_criteria im_cal_criteria_default(void);

/* One portfolio over one period. */
typedef struct {
  int64_t n_obs, n_exceed;
  double p_uc, p_cc;      /* whole series (h = 1) or Bonferroni over sub-samples */
  double margin_sum;      /* sum of margin over the observed days */
  double peak_to_trough;  /* NaN when undefined */
  int8_t zone;            /* im_zone; -1 when n_obs == 0 or not yet known (h > 1) */
} im_cal_row;

/* The row of a series of n days with horizon h at tail probability p. The
 * zone is tl_zone for h = 1 and left -1 for h > 1 (see im_cal_zone).
 * Errors as im_bt_compute. */
im_status im_cal_row_compute(const int8_t *hits, const double *pnl, const double *margin, size_t n,
                             size_t h, double p, im_cal_row *out, im_err *err);

/* The zone of n_exceed exceedances in n_obs days between the traffic-light
 * bounds of that length (im_bt_overlap_bounds_multi for h > 1; the bounds
 * of a length do not depend on which other lengths one simulation serves);
 * -1 when n_obs == 0. */
int8_t im_cal_zone(int64_t n_obs, int64_t n_exceed, int64_t green_max, int64_t yellow_max);

/* A parameter set over one period: the aggregate of its portfolios' rows. */
typedef struct {
  int64_t n_portfolios; /* evaluated: n_obs > 0 */
  int64_t n_obs, n_exceed;
  double expected;      /* n_obs * p */
  double exceed_rate;   /* n_exceed / n_obs; NaN when n_obs == 0 */
  double coverage;      /* 1 - exceed_rate */
  double share_pass_uc, share_pass_cc, share_zone_ok; /* of n_portfolios; NaN when 0 */
  double mean_margin;   /* USD per observed portfolio-day */
  double procyclicality; /* mean peak_to_trough over the portfolios where defined */
  int8_t ok_coverage, ok_uc, ok_cc, ok_zone, eligible;
} im_cal_metrics;

#define IM_CAL_METRICS_FIELDS(I64, F64, I8)                                               \
  I64(n_portfolios) I64(n_obs) I64(n_exceed) F64(expected) F64(exceed_rate) F64(coverage) \
  F64(share_pass_uc) F64(share_pass_cc) F64(share_zone_ok) F64(mean_margin)               \
  F64(procyclicality) I8(ok_coverage) I8(ok_uc) I8(ok_cc) I8(ok_zone) I8(eligible)

/* Sums rows[0..n) in order for a set at confidence conf. */
void im_cal_summarise(const im_cal_row *rows, size_t n, double conf, const im_cal_criteria *c,
                      im_cal_metrics *out);

/* Ranks n sets by their calibration-period metrics: order[0] is the best.
 * Eligible sets first, by mean_margin, then procyclicality (NaN last), then
 * index; then the others by the number of criteria they fail, then
 * mean_margin, then index. Sets with no observation come last. */
void im_cal_rank(const im_cal_metrics *m, size_t n, size_t *order);

/* on[i] = 1 when no set j has mean_margin_j <= mean_margin_i and
 * exceed_rate_j <= exceed_rate_i with one of them strict (both defined):
 * the frontier of margin against exceedances. */
void im_cal_pareto(const im_cal_metrics *m, size_t n, uint8_t *on);

/* The parameters a set is made of, for sensitivities and for writing a set
 * out. Values are doubles; kind and measure are their enum values. */
#define IM_CAL_N_PARAMS 21
extern const char *const im_cal_param_name[IM_CAL_N_PARAMS];
double im_cal_param(const im_model *m, int param);

/* Whether a and b have the same parameters, ignoring param skip (-1: none). */
int im_cal_same_params(const im_model *a, const im_model *b, int skip);

/* The parameters that differ among sets[0..n): varies[j] = 1 for those. */
void im_cal_varying(const im_model *sets, size_t n, uint8_t varies[IM_CAL_N_PARAMS]);

/* One row of the sensitivity table: set `set` differs from the reference
 * set only in parameter `param`, which has `value` there. */
typedef struct {
  int32_t param;
  double value;
  int64_t set;
  double mean_margin, exceed_rate;
  double rel_change; /* mean_margin / the reference's - 1 */
} im_cal_sens;

/* One-at-a-time sensitivities around set ref: for every parameter that
 * varies among sets[0..n), the sets equal to ref in every other parameter
 * (ref itself included, rel_change 0), by parameter then set index. m[i] are
 * the calibration-period metrics of set i. out needs room for
 * n * IM_CAL_N_PARAMS rows; returns the number written. */
size_t im_cal_sensitivity(const im_model *sets, const im_cal_metrics *m, size_t n, size_t ref,
                          im_cal_sens *out);

#endif
