/* Reading CSV files row by row through libcsv, with line numbers for error
 * messages. A UTF-8 byte-order mark is skipped; LF and CRLF line ends work. */
#ifndef IM_CSVFILE_H
#define IM_CSVFILE_H

#include <stddef.h>

#include "im_status.h"

/* Called once per record. fields[i] are NUL-terminated and valid only during
 * the call; line is the 1-based line on which the record ends. A non-zero
 * return stops the reading and is returned by im_csv_read (the callback sets
 * err itself). */
typedef im_status (*im_csv_row_fn)(void *ctx, char **fields, size_t n, size_t line, im_err *err);

/* Reads path, calling fn for every record (header included). A file that
 * cannot be opened is reported with the path it resolved to. */
im_status im_csv_read(const char *path, im_csv_row_fn fn, void *ctx, im_err *err);

/* For not-found messages: " (looked for /cwd/path)" when path is relative,
 * "" when it is absolute (the user sees where a file was looked for). */
void im_path_looked_for(const char *path, char *buf, size_t len);

/* The largest magnitude accepted for a price, quantity or rate (and 1/it the
 * smallest price): beyond it P&L and statistics could overflow. */
#define IM_MAX_VALUE 1e15

/* Parses a whole field as a finite double (no trailing text, no NaN/Inf). */
int im_parse_double(const char *s, double *out);

/* Parses a whole field as a long in [lo, hi]. */
int im_parse_long(const char *s, long lo, long hi, long *out);

#endif
