/* Civil dates as day numbers. Crypto trades every day, so the calendar is the
 * plain proleptic Gregorian one: day n+1 is the day after day n. */
#ifndef IM_CALENDAR_H
#define IM_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

/* Days since 1970-01-01 of a valid y-m-d. */
int32_t im_days_from_civil(int32_t y, int32_t m, int32_t d);

/* YYYYMMDD integer of a day number. */
int32_t im_days_to_yyyymmdd(int32_t days);

/* Parses "YYYY-MM-DD" (years 1970-9999), optionally followed by 'T' or ' '
 * and a UTC time of day HH:MM[:SS[.fff]][Z|+00:00] (an ISO 8601 timestamp is
 * truncated to its UTC date). Returns false on any other text, another UTC
 * offset, or an impossible date such as 2023-02-29. */
bool im_date_parse(const char *s, int32_t *days);

/* Writes "YYYY-MM-DD" (11 bytes with the terminator). */
void im_date_format(int32_t days, char out[11]);

#endif
