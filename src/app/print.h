/* Printing a validated results file: a table per model, or JSON. */
#ifndef IM_PRINT_H
#define IM_PRINT_H

#include <stddef.h>

#include "im_status.h"

/* Serial (call on one rank). limit = most portfolio rows per model in the
 * table (0 = all); JSON always has every row. */
im_status im_print_results(const char *path, int json, size_t limit, im_err *err);

#endif
