#include "chain_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "csvfile.h"

typedef struct {
  const char *path;
  im_chain *c;
  double min_days;
  long col_name, col_f, col_iv, col_ts, col_bid, col_ask;
  size_t ncols, cap;
  int32_t expiries[256];
  int n_exp;
} ctx;

/* "29MAR24" -> days since 1970-01-01. */
static int expiry_day(const char *s, int32_t *day) {
  static const char *const mon[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  int d = 0, i = 0;
  while (s[i] >= '0' && s[i] <= '9') d = d * 10 + (s[i++] - '0');
  if (i < 1 || i > 2 || strlen(s + i) != 5) return 0;
  for (int m = 0; m < 12; m++)
    if (strncmp(s + i, mon[m], 3) == 0) {
      int y = 2000 + (s[i + 3] - '0') * 10 + (s[i + 4] - '0');
      *day = im_days_from_civil(y, m + 1, d);
      return d >= 1 && d <= 31;
    }
  return 0;
}

static im_status row(void *vc, char **fl, size_t n, size_t line, im_err *err) {
  ctx *x = vc;
  im_chain *c = x->c;
  if (x->ncols == 0) {
    x->col_name = x->col_f = x->col_iv = x->col_ts = x->col_bid = x->col_ask = -1;
    for (size_t i = 0; i < n; i++) {
      if (!strcmp(fl[i], "instrument_name")) x->col_name = (long)i;
      if (!strcmp(fl[i], "underlying_price")) x->col_f = (long)i;
      if (!strcmp(fl[i], "mark_iv")) x->col_iv = (long)i;
      if (!strcmp(fl[i], "creation_timestamp")) x->col_ts = (long)i;
      if (!strcmp(fl[i], "bid_price")) x->col_bid = (long)i;
      if (!strcmp(fl[i], "ask_price")) x->col_ask = (long)i;
    }
    if (x->col_name < 0 || x->col_f < 0 || x->col_iv < 0 || x->col_ts < 0 || (x->col_bid < 0) != (x->col_ask < 0))
      return im_err_set(err, IM_EDATA,
                        "%s:%zu: header needs instrument_name, underlying_price, mark_iv and "
                        "creation_timestamp",
                        x->path, line);
    x->ncols = n;
    return IM_OK;
  }
  if (n != x->ncols)
    return im_err_set(err, IM_EDATA, "%s:%zu: %zu fields, the header has %zu", x->path, line, n,
                      x->ncols);
  char name[128];
  snprintf(name, sizeof name, "%s", fl[x->col_name]);
  char *p1 = strchr(name, '-'), *p2 = p1 ? strchr(p1 + 1, '-') : NULL, *p3 = p2 ? strchr(p2 + 1, '-') : NULL;
  if (!p3) return im_err_set(err, IM_EDATA, "%s:%zu: instrument '%s' is not U-DDMMMYY-K-C|P", x->path, line, name);
  *p2 = *p3 = '\0';
  if (strcmp(p3 + 1, "C") != 0) return IM_OK; /* calls only: puts repeat the same mark_iv */
  /* Only strikes quoted on both sides: unquoted marks sit at Deribit's cap. */
  if (x->col_bid >= 0 && (fl[x->col_bid][0] == '\0' || fl[x->col_ask][0] == '\0')) return IM_OK;
  int32_t day;
  double f, iv, ts, k;
  if (!expiry_day(p1 + 1, &day) || !im_parse_double(p2 + 1, &k) || !im_parse_double(fl[x->col_f], &f) ||
      !im_parse_double(fl[x->col_iv], &iv) || !im_parse_double(fl[x->col_ts], &ts) || k <= 0 ||
      f <= 0 || iv <= 0)
    return im_err_set(err, IM_EDATA, "%s:%zu: bad expiry, strike, price, iv or timestamp", x->path, line);
  double tau_days = ((double)day * 86400e3 + 8 * 3600e3 - ts) / 86400e3; /* expiry 08:00 UTC */
  if (tau_days < x->min_days) return IM_OK;
  int g = 0;
  while (g < x->n_exp && x->expiries[g] != day) g++;
  if (g == x->n_exp) {
    if (x->n_exp == 256) return im_err_set(err, IM_EDATA, "%s:%zu: more than 256 expiries", x->path, line);
    x->expiries[x->n_exp++] = day;
  }
  if (c->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 256;
    int *gg = realloc(c->group, cap * sizeof *gg);
    if (gg) c->group = gg;
    double *a = realloc(c->tau, cap * sizeof *a);
    if (a) c->tau = a;
    double *b = realloc(c->f, cap * sizeof *b);
    if (b) c->f = b;
    double *d = realloc(c->k, cap * sizeof *d);
    if (d) c->k = d;
    double *e = realloc(c->iv, cap * sizeof *e);
    if (e) c->iv = e;
    if (!gg || !a || !b || !d || !e) return im_err_set(err, IM_ENOMEM, "out of memory");
    x->cap = cap;
  }
  c->group[c->n] = g;
  c->tau[c->n] = tau_days / 365.0;
  c->f[c->n] = f;
  c->k[c->n] = k;
  c->iv[c->n] = iv / 100;
  c->n++;
  return IM_OK;
}

im_status im_chain_read_csv(const char *path, double min_days, im_chain *out, im_err *err) {
  memset(out, 0, sizeof *out);
  ctx x = {.path = path, .c = out, .min_days = min_days};
  im_status st = im_csv_read(path, row, &x, err);
  if (!st && out->n == 0) st = im_err_set(err, IM_EDATA, "%s: no calls at least %g days out", path, min_days);
  if (st) im_chain_clear(out);
  return st;
}

void im_chain_clear(im_chain *c) {
  free(c->group);
  free(c->tau);
  free(c->f);
  free(c->k);
  free(c->iv);
  memset(c, 0, sizeof *c);
}
