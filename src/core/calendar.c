#include "calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil / civil_from_days (public-domain
 * algorithms, exact over the whole int32 range used here). */
int32_t im_days_from_civil(int32_t y, int32_t m, int32_t d) {
  y -= m <= 2;
  const int32_t era = (y >= 0 ? y : y - 399) / 400;
  const int32_t yoe = y - era * 400;
  const int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int32_t *y, int32_t *m, int32_t *d) {
  z += 719468;
  const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int32_t doe = z - era * 146097;
  const int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int32_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

int32_t im_days_to_yyyymmdd(int32_t days) {
  int32_t y, m, d;
  civil_from_days(days, &y, &m, &d);
  return y * 10000 + m * 100 + d;
}

static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static int days_in_month(int y, int m) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : mdays[m - 1];
}

/* An optional time of day after the date: [T ]HH:MM[:SS[.fff]] and then
 * nothing, 'Z' or "+00:00". Other offsets are refused rather than silently
 * attributed to the wrong UTC day. */
static bool time_ok(const char *s) {
  if (*s == '\0') return true;
  if (*s != 'T' && *s != ' ') return false;
  s++;
  int hh = digits(s, 2);
  if (hh < 0 || hh > 23 || s[2] != ':') return false;
  int mm = digits(s + 3, 2);
  if (mm < 0 || mm > 59) return false;
  s += 5;
  if (*s == ':') {
    int ss = digits(s + 1, 2);
    if (ss < 0 || ss > 60) return false;
    s += 3;
    if (*s == '.') {
      s++;
      if (!isdigit((unsigned char)*s)) return false;
      while (isdigit((unsigned char)*s)) s++;
    }
  }
  return strcmp(s, "") == 0 || strcmp(s, "Z") == 0 || strcmp(s, "+00:00") == 0;
}

bool im_date_parse(const char *s, int32_t *days) {
  if (strlen(s) < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!time_ok(s + 10)) return false;
  int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
  *days = im_days_from_civil(y, m, d);
  return true;
}

void im_date_format(int32_t days, char out[11]) {
  int32_t y, m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[40];
  snprintf(buf, sizeof buf, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
  memcpy(out, buf, 10);
  out[10] = '\0';
}
