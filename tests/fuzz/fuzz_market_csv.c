/* libFuzzer harness: the market CSV import (im_series_read_csv and the
 * funding column, then the calendar alignment). Beyond "no crash, no leak,
 * no undefined behaviour" it checks what the reader promises: strictly
 * increasing dates, finite values in range, and an error message that names
 * the file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "csvfile.h"
#include "fuzz_util.h"
#include "market_io.h"

static void check(const char *path, const char *column, int positive) {
  im_series s;
  im_err err = {""};
  im_status st = im_series_read_csv_column(path, "BTC", column, positive, &s, &err);
  if (st) {
    if (!strstr(err.msg, path)) im_fuzz_fail("error message without the file name", err.msg);
    if (s.n != 0 || s.day || s.close) im_fuzz_fail("failed read left data", column);
    return;
  }
  if (s.n == 0) im_fuzz_fail("success without rows", column);
  for (size_t i = 0; i < s.n; i++) {
    const double v = s.close[i];
    if (!isfinite(v) || fabs(v) > IM_MAX_VALUE || (positive && v < 1 / IM_MAX_VALUE))
      im_fuzz_fail("value out of range", column);
    if (i > 0 && s.day[i] <= s.day[i - 1]) im_fuzz_fail("dates not strictly increasing", column);
  }
  if (positive) {
    im_market m;
    if (im_market_from_series(&s, 1, &m, &err) == IM_OK) {
      if (m.n_days != (size_t)(s.day[s.n - 1] - s.day[0]) + 1 || m.day0 != s.day[0])
        im_fuzz_fail("calendar does not span the series", "");
      size_t present = 0;
      for (size_t k = 0; k < m.n_days; k++) present += !isnan(m.close[k]);
      if (present != s.n) im_fuzz_fail("calendar lost or invented closes", "");
      im_market_clear(&m);
    }
  }
  im_series_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = im_fuzz_write("prices.csv", data, size);
  check(path, "close", 1);
  check(path, "funding_rate_mean", 0);
  return 0;
}
