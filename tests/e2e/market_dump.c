/* Test reader for import_exports.sh: prints what io reads back, one line per
 * value, %.17g (exact for a double), nan where unknown.
 *   market_dump MARKET.h5             im_market_read_h5: NAME DATE close high low volume
 *   market_dump --csv FILE [--quote]  im_series_read_prices (--quote: a plain
 *                                     volume is quote volume): the warning
 *                                     line, then DATE close high low volume */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "market_io.h"

static double at(const double *v, size_t i) { return v ? v[i] : NAN; }

static void line(const char *name, int32_t day, double c, double h, double l, double v) {
  char d[11];
  im_date_format(day, d);
  printf("%s%s%s %.17g %.17g %.17g %.17g\n", name, *name ? " " : "", d, c, h, l, v);
}

static int dump_market(const char *path) {
  im_market m;
  im_err err = {""};
  if (im_market_read_h5(path, &m, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  for (size_t u = 0; u < m.n_und; u++)
    for (size_t k = 0; k < m.n_days; k++) {
      const size_t i = u * m.n_days + k;
      line(m.und[u], m.day0 + (int32_t)k, m.close[i], at(m.high, i), at(m.low, i), at(m.volume, i));
    }
  im_market_clear(&m);
  return 0;
}

static int dump_csv(const char *path, int quote) {
  im_series s;
  im_err err = {""};
  const im_price_opts opt = {.volume_is_quote = quote};
  if (im_series_read_prices(path, "X", &opt, &s, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  printf("warning: %s\n", s.warning);
  for (size_t k = 0; k < s.n; k++)
    line("", s.day[k], s.close[k], at(s.high, k), at(s.low, k), at(s.volume, k));
  im_series_clear(&s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2) return dump_market(argv[1]);
  if (argc >= 3 && strcmp(argv[1], "--csv") == 0)
    return dump_csv(argv[2], argc == 4 && strcmp(argv[3], "--quote") == 0);
  fputs("usage: market_dump MARKET.h5 | market_dump --csv FILE [--quote]\n", stderr);
  return 2;
}
