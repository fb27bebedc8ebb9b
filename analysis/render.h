/* JSON members of core's result structs, shared by validate --json,
 * stats --json and summary.json so that each is written one way. */
#ifndef AN_RENDER_H
#define AN_RENDER_H

#include "backtest.h"
#include "json.h"
#include "summary.h"
#include "verdict.h"

/* "green", "yellow", "red", or NULL for any other value. */
const char *an_zone_name(int z);

/* Every field of a statistics row as members (zones as names, NaN null). */
void an_json_stats_fields(an_json *j, const im_bt_stats *r);

/* Every field of a summary as members. */
void an_json_summary_fields(an_json *j, const im_bt_summary *s);

/* "verdict", "zone_kind" and "criteria" members of an h-day model's verdict;
 * ws (may be NULL) is the whitespace before "verdict" and before "criteria". */
void an_json_verdict(an_json *j, const im_verdict *v, int horizon, const char *ws);

#endif
