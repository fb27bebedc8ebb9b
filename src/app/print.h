/* Printing a validated results file: a table per model, or JSON. */
#ifndef IM_PRINT_H
#define IM_PRINT_H

#include <stddef.h>

#include "backtest.h"
#include "im_status.h"

/* Every field of a statistics row as JSON members "key": value separated by
 * commas, without braces (NaN -> null, zones as names). */
void im_print_stats_fields(const im_bt_stats *r);

/* Serial (call on one rank). limit = most portfolio rows per model in the
 * table (0 = all); JSON always has every row. */
im_status im_print_results(const char *path, int json, size_t limit, im_err *err);

#endif
