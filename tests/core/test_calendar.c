/* Unit tests for src/core/calendar.c: civil dates as day numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"

static void test_days_from_civil_golden(void **state) {
  (void)state;
  /* The epoch by definition. */
  assert_int_equal(im_days_from_civil(1970, 1, 1), 0);
  /* `date -u -d 2000-03-01 +%s` = 951868800 (GNU coreutils, run on the dev
   * machine); 951868800 / 86400 = 11017. */
  assert_int_equal(im_days_from_civil(2000, 3, 1), 11017);
  /* `date -u -d 2024-02-29 +%s` = 1709164800; / 86400 = 19782. */
  assert_int_equal(im_days_from_civil(2024, 2, 29), 19782);
  /* `date -u -d 2100-12-31 +%s` = 4133894400; / 86400 = 47846. */
  assert_int_equal(im_days_from_civil(2100, 12, 31), 47846);
  assert_int_equal(im_days_to_yyyymmdd(0), 19700101);
  assert_int_equal(im_days_to_yyyymmdd(11017), 20000301);
  assert_int_equal(im_days_to_yyyymmdd(47846), 21001231);
}

/* Independent leap-year rule (Gregorian: divisible by 4, except centuries not
 * divisible by 400). */
static int month_len(int y, int m) {
  static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return len[m - 1];
}

/* Every day 1970-01-01 .. 2100-12-31: day numbers are consecutive from 0, and
 * converting back (to YYYYMMDD, to text, and parsing the text) is exact. */
static void test_round_trip_every_day(void **state) {
  (void)state;
  int32_t expect = 0;
  for (int y = 1970; y <= 2100; y++)
    for (int m = 1; m <= 12; m++)
      for (int d = 1; d <= month_len(y, m); d++) {
        const int32_t n = im_days_from_civil(y, m, d);
        if (n != expect) fail_msg("%04d-%02d-%02d -> %d, expected %d", y, m, d, (int)n, (int)expect);
        const int32_t ymd = im_days_to_yyyymmdd(n);
        if (ymd != y * 10000 + m * 100 + d)
          fail_msg("day %d -> %d, expected %04d%02d%02d", (int)n, (int)ymd, y, m, d);
        char txt[11], want[48];
        im_date_format(n, txt);
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
        if (strcmp(txt, want) != 0) fail_msg("day %d formats as %s, expected %s", (int)n, txt, want);
        int32_t back = -1;
        if (!im_date_parse(txt, &back) || back != n)
          fail_msg("parse(%s) failed or gave %d, expected %d", txt, (int)back, (int)n);
        expect++;
      }
  /* 131 years 1970..2100 hold 32 leap years (1972..2096 every 4th; 2100 is
   * not leap): 131 * 365 + 32 = 47847 days. */
  assert_int_equal(expect, 47847);
}

static void test_date_parse(void **state) {
  (void)state;
  int32_t d;
  /* 2024-02-29 = day 19782 (`date -u -d 2024-02-29 +%s` / 86400). */
  d = -1;
  assert_true(im_date_parse("2024-02-29", &d));
  assert_int_equal(d, 19782);
  d = -1;
  assert_true(im_date_parse("2024-02-29T13:45:00Z", &d));
  assert_int_equal(d, 19782);
  d = -1;
  assert_true(im_date_parse("2024-02-29 00:00:00", &d));
  assert_int_equal(d, 19782);
  d = -1;
  assert_true(im_date_parse("1970-01-01", &d));
  assert_int_equal(d, 0);

  static const char *const bad[] = {
      "2023-02-29",  /* not a leap year */
      "2024-13-01",  /* month 13 */
      "2024-1-01",   /* one-digit month */
      "",            /* empty */
      "abcd-ef-gh",  /* not digits */
      "2024-02-29X", /* trailing junk */
      "2024-02-30",  /* February never has 30 days */
      "2024-04-31",  /* April has 30 */
      "2024-00-10",  /* month 0 */
      "2024-01-00",  /* day 0 */
      "2100-02-29",  /* century, not leap */
      "2024/02/29",  /* wrong separator */
      "2024-02-2",   /* too short */
      "2024-02-29Tgarbage",          /* not a time of day */
      "2024-02-29 ",                 /* separator without a time */
      "2024-02-29T24:00",            /* hour 24 */
      "2024-02-29T23:00:00-05:00",   /* another UTC offset: 2024-03-01 in UTC */
      "2024-02-29T23:00:00.Z",       /* empty fraction */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    d = 12345;
    if (im_date_parse(bad[i], &d)) fail_msg("im_date_parse accepted \"%s\" as day %d", bad[i], (int)d);
  }
  /* Times of day that stay on the same UTC day. */
  assert_true(im_date_parse("2022-11-03T08:00:00.016Z", &d));
  assert_int_equal(d, im_days_from_civil(2022, 11, 3));
  assert_true(im_date_parse("2022-11-03T08:00+00:00", &d));
  assert_int_equal(d, im_days_from_civil(2022, 11, 3));
  /* 2000 is a leap year (divisible by 400). */
  assert_true(im_date_parse("2000-02-29", &d));
  assert_int_equal(d, im_days_from_civil(2000, 2, 29));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_days_from_civil_golden),
      cmocka_unit_test(test_round_trip_every_day),
      cmocka_unit_test(test_date_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
