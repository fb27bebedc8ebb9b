#include "verdict.h"

#include <math.h>

const char *im_verdict_state_name(im_verdict_state s) {
  switch (s) {
    case IM_VERDICT_PASS: return "pass";
    case IM_VERDICT_ATTENTION: return "attention";
    case IM_VERDICT_FAIL: return "fail";
    case IM_VERDICT_INFO: return "info";
    default: return "n/a";
  }
}

static im_criterion criterion(const char *key, const char *name, im_verdict_state severity,
                              int64_t value, double limit) {
  return (im_criterion){key, name, !((double)value > limit), severity, (double)value, limit};
}

void im_verdict_of(const im_bt_summary *s, int horizon, im_verdict *out) {
  const int64_t ne = s->n_evaluated;
  /* Tests that assume independent exceedances over-reject for h > 1. */
  const im_verdict_state indep = horizon > 1 ? IM_VERDICT_INFO : IM_VERDICT_FAIL;
  const im_verdict_state indep_att = horizon > 1 ? IM_VERDICT_INFO : IM_VERDICT_ATTENTION;
  out->red_band = ne > 0 ? im_bt_binom_quantile(IM_VERDICT_BAND, ne, IM_VERDICT_P_RED) : NAN;
  out->nongreen_band =
      ne > 0 ? im_bt_binom_quantile(IM_VERDICT_BAND, ne, IM_VERDICT_P_NONGREEN) : NAN;
  im_criterion *c = out->crit;
  c[0] = criterion("red", "portfolios in the red zone", IM_VERDICT_FAIL, s->n_red, out->red_band);
  c[1] = criterion("nongreen", "portfolios in the yellow or red zone", IM_VERDICT_ATTENTION,
                   s->n_yellow + s->n_red, out->nongreen_band);
  c[2] = criterion("kupiec", "Kupiec POF rejections at 5%", indep, s->n_reject_uc, s->reject_band_hi);
  c[3] = criterion("cc", "conditional-coverage rejections at 5%", indep_att, s->n_reject_cc,
                   s->reject_band_hi);
  out->state = ne > 0 ? IM_VERDICT_PASS : IM_VERDICT_NA;
  for (int k = 0; k < IM_VERDICT_N_CRITERIA && ne > 0; k++)
    if (!c[k].met && c[k].severity != IM_VERDICT_INFO && c[k].severity > out->state)
      out->state = c[k].severity;
}
