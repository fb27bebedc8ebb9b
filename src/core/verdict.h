/* The verdict of one model over its portfolios: pass, attention or fail.
 * imvar validate (text and --json), the report and its summary.json all take
 * it from here, so they cannot disagree.
 *
 * The rule compares counts with what a correct model would show in 95% of
 * backtests: the upper end (97.5% quantile) of a Binomial(n_evaluated, prob)
 * band, portfolios taken as independent. A criterion is met when its count is
 * at most its limit. The model
 * - fails when more portfolios are red than Binomial(n, 1e-4) allows (a
 *   correct model is red with probability 1 - 0.9999), or, for a 1-day
 *   horizon, when the Kupiec test rejects at the summary's level more often
 *   than Binomial(n, level) allows (reject_band_hi of the summary);
 * - needs attention when more portfolios are yellow or red than
 *   Binomial(n, 0.05) allows (a correct model is not green with probability
 *   1 - 0.95), or, for a 1-day horizon, when conditional coverage rejects more
 *   often than reject_band_hi;
 * - passes otherwise. With no evaluated portfolio the verdict is n/a.
 * Zones are the applicable zones of the summary (overlap-corrected for h > 1).
 * For h > 1 the Kupiec and conditional-coverage criteria are information only:
 * overlapping exceedances are dependent and those tests over-reject. */
#ifndef IM_VERDICT_H
#define IM_VERDICT_H

#include "summary.h"

/* Verdicts and criterion severities, worst verdict last before INFO. */
typedef enum {
  IM_VERDICT_PASS = 0,
  IM_VERDICT_ATTENTION = 1,
  IM_VERDICT_FAIL = 2,
  IM_VERDICT_INFO = 3, /* a criterion shown, not counted */
  IM_VERDICT_NA = 4    /* no evaluated portfolio */
} im_verdict_state;

/* "pass", "attention", "fail", "info", "n/a". */
const char *im_verdict_state_name(im_verdict_state s);

/* Probabilities of a correct model's portfolio being red, and not green. */
#define IM_VERDICT_P_RED 1e-4
#define IM_VERDICT_P_NONGREEN 0.05
/* The quantile of the bands. */
#define IM_VERDICT_BAND 0.975

typedef struct {
  const char *key;  /* "red", "nongreen", "kupiec", "cc" */
  const char *name; /* for people */
  int met;          /* value <= limit */
  im_verdict_state severity; /* FAIL, ATTENTION or INFO */
  double value;     /* the observed count */
  double limit;     /* the band's upper end (NaN when nothing is evaluated) */
} im_criterion;

#define IM_VERDICT_N_CRITERIA 4

typedef struct {
  im_verdict_state state;
  double red_band, nongreen_band; /* limits of the zone criteria */
  im_criterion crit[IM_VERDICT_N_CRITERIA];
} im_verdict;

/* The verdict of a summary (im_bt_summarise) of an h-day model. */
void im_verdict_of(const im_bt_summary *s, int horizon, im_verdict *out);

#endif
