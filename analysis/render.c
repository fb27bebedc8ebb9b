#include "render.h"

#include <string.h>

const char *an_zone_name(int z) {
  return z == IM_ZONE_GREEN ? "green" : z == IM_ZONE_YELLOW ? "yellow" : z == IM_ZONE_RED ? "red" : NULL;
}

void an_json_stats_fields(an_json *j, const im_bt_stats *r) {
#define I64(f) an_json_kint(j, #f, r->f);
#define F64(f) an_json_knum(j, #f, r->f);
/* zones as names (null when undefined), the other small fields as numbers */
#define I8(f)                                                  \
  if (strstr(#f, "zone"))                                      \
    an_json_kstr(j, #f, r->f >= 0 ? an_zone_name(r->f) : NULL); \
  else                                                         \
    an_json_kint(j, #f, r->f);
  IM_BT_STATS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
}

void an_json_summary_fields(an_json *j, const im_bt_summary *s) {
#define I64(f) an_json_kint(j, #f, s->f);
#define F64(f) an_json_knum(j, #f, s->f);
  IM_BT_SUMMARY_FIELDS(I64, F64)
#undef I64
#undef F64
}

void an_json_verdict(an_json *j, const im_verdict *v, int horizon, const char *ws) {
  an_json_ws(j, ws);
  an_json_kstr(j, "verdict", im_verdict_state_name(v->state));
  an_json_kstr(j, "zone_kind", horizon > 1 ? "overlap" : "binomial");
  an_json_ws(j, ws);
  an_json_key(j, "criteria");
  an_json_arr(j);
  for (int k = 0; k < IM_VERDICT_N_CRITERIA; k++) {
    const im_criterion *c = &v->crit[k];
    an_json_obj(j);
    an_json_kstr(j, "key", c->key);
    an_json_kstr(j, "name", c->name);
    an_json_knum(j, "value", c->value);
    an_json_knum(j, "limit", c->limit);
    an_json_kbool(j, "met", c->met);
    an_json_kstr(j, "severity", im_verdict_state_name(c->severity));
    an_json_end(j);
  }
  an_json_end(j);
}
