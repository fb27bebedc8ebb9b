/* Historical simulation (kind "hs"): scenario k is the h-day relative move of
 * each underlying ending at day k, close[k] / close[k-h], applied to today's
 * close (model.c has the definition). */
#include <math.h>

#include "kind.h"

/* The h-day ratio close[k] / close[k-h] of every underlying; NaN at a gap. */
static im_status hs_prepare(im_model_state *s) {
  const size_t nd = s->mkt->n_days, h = (size_t)s->model.horizon;
  for (size_t u = 0; u < s->mkt->n_und; u++) {
    const double *c = s->mkt->close + u * nd;
    double *r = s->series + u * nd;
    for (size_t k = 0; k < nd; k++) r[k] = k >= h ? c[k] / c[k - h] : NAN;
  }
  return IM_OK;
}

static void hs_moves(const im_model_state *s, size_t u, size_t t, const double *r, size_t span,
                     double *d) {
  (void)s;
  (void)u;
  (void)t;
  for (size_t j = 0; j < span; j++) d[j] = r[j] - 1.0;
}

const struct im_kind_ops im_kind_hs = {
    .flags = IM_KF_SCENARIOS,
    .prepare = hs_prepare,
    .moves = hs_moves,
    .eval = im_scen_eval,
};
