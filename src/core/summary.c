#include "summary.h"

#include <math.h>
#include <string.h>

void im_bt_summarise(const im_bt_stats *rows, size_t n, double level, im_bt_summary *out) {
  memset(out, 0, sizeof *out);
  out->n_portfolios = (int64_t)n;
  for (size_t i = 0; i < n; i++) {
    const im_bt_stats *r = &rows[i];
    if (r->n_obs == 0) continue;
    out->n_evaluated++;
    out->n_obs += r->n_obs;
    out->n_exceed += r->n_exceed;
    out->expected += r->expected;
    out->n_reject_uc += r->p_uc < level;   /* NaN compares false: not a rejection */
    out->n_reject_ind += r->p_ind < level;
    out->n_reject_cc += r->p_cc < level;
    out->n_green += r->tl_zone == IM_ZONE_GREEN;
    out->n_yellow += r->tl_zone == IM_ZONE_YELLOW;
    out->n_red += r->tl_zone == IM_ZONE_RED;
  }
  out->exceed_rate = out->n_obs ? (double)out->n_exceed / (double)out->n_obs : NAN;
}
