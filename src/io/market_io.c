#include "market_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "csvfile.h"
#include "h5util.h"

#define MARKET_FORMAT "imvar-market"
#define MARKET_FORMAT_VERSION 1

typedef struct {
  const char *path;
  im_series *s;
  const char *column; /* the value column: "close", or "funding_rate_mean" */
  int positive;       /* values must be > 0 (prices, vols); funding may be any sign */
  long col_date, col_close, col_vol; /* col_vol: volume_quote of a price CSV, or -1 */
  size_t ncols, cap;
  size_t prev_line;
} series_ctx;

static im_status series_row(void *vctx, char **f, size_t n, size_t line, im_err *err) {
  series_ctx *c = vctx;
  im_series *s = c->s;
  if (c->ncols == 0) {
    c->col_date = c->col_close = c->col_vol = -1;
    for (size_t i = 0; i < n; i++) {
      /* A column named twice is ambiguous: refuse it rather than pick one. */
      const int want_vol = strcmp(c->column, "close") == 0 && strcmp(f[i], "volume_quote") == 0;
      const int used = strcmp(f[i], "date") == 0 || strcmp(f[i], "timestamp") == 0 ||
                       strcmp(f[i], c->column) == 0 || want_vol;
      for (size_t j = 0; used && j < i; j++)
        if (strcmp(f[i], f[j]) == 0)
          return im_err_set(err, IM_EDATA, "%s:%zu: header names column '%s' twice", c->path,
                            line, f[i]);
      if (strcmp(f[i], "date") == 0 || (strcmp(f[i], "timestamp") == 0 && c->col_date < 0))
        c->col_date = (long)i;
      else if (strcmp(f[i], c->column) == 0)
        c->col_close = (long)i;
      else if (want_vol)
        c->col_vol = (long)i;
    }
    if (c->col_date < 0)
      return im_err_set(err, IM_EDATA, "%s:%zu: header has no 'date' or 'timestamp' column",
                        c->path, line);
    if (c->col_close < 0)
      return im_err_set(err, IM_EDATA, "%s:%zu: header has no '%s' column", c->path, line, c->column);
    c->ncols = n;
    return IM_OK;
  }
  if (n == 1 && f[0][0] == '\0') return IM_OK; /* blank line */
  if (n != c->ncols)
    return im_err_set(err, IM_EDATA, "%s:%zu: %zu fields, the header has %zu", c->path, line, n,
                      c->ncols);
  int32_t day;
  double close;
  if (!im_date_parse(f[c->col_date], &day))
    return im_err_set(err, IM_EDATA, "%s:%zu: '%.40s' is not a date (YYYY-MM-DD)", c->path, line,
                      f[c->col_date]);
  if (!im_parse_double(f[c->col_close], &close))
    return im_err_set(err, IM_EDATA, "%s:%zu: %s '%.40s' is not a finite number", c->path, line,
                      c->column, f[c->col_close]);
  if (c->positive && close <= 0)
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %g is not positive", c->path, line, c->column, close);
  /* Bounds that keep every scenario move, P&L and statistic finite. */
  if (fabs(close) > IM_MAX_VALUE || (c->positive && close < 1 / IM_MAX_VALUE))
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %g is out of range (%g .. %g)", c->path, line,
                      c->column, close, c->positive ? 1 / IM_MAX_VALUE : -IM_MAX_VALUE,
                      IM_MAX_VALUE);
  double vol = NAN; /* an empty cell: unknown */
  if (c->col_vol >= 0 && f[c->col_vol][0] != '\0' &&
      (!im_parse_double(f[c->col_vol], &vol) || vol < 0 || vol > IM_MAX_VALUE))
    return im_err_set(err, IM_EDATA, "%s:%zu: volume_quote '%.40s' is not a number in [0, %g]",
                      c->path, line, f[c->col_vol], IM_MAX_VALUE);
  if (s->n > 0) {
    int32_t last = s->day[s->n - 1];
    char a[11], b[11];
    im_date_format(day, a);
    if (day == last)
      return im_err_set(err, IM_EDATA, "%s:%zu: duplicate date %s (also on line %zu)", c->path,
                        line, a, c->prev_line);
    if (day < last) {
      im_date_format(last, b);
      return im_err_set(err, IM_EDATA, "%s:%zu: dates are not sorted: %s comes after %s",
                        c->path, line, a, b);
    }
  }
  if (s->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 1024;
    int32_t *d = realloc(s->day, cap * sizeof *d);
    if (d) s->day = d;
    double *v = realloc(s->close, cap * sizeof *v);
    if (v) s->close = v;
    double *q = c->col_vol >= 0 ? realloc(s->volume, cap * sizeof *q) : NULL;
    if (q) s->volume = q;
    if (!d || !v || (c->col_vol >= 0 && !q))
      return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
    c->cap = cap;
  }
  s->day[s->n] = day;
  s->close[s->n] = close;
  if (s->volume) s->volume[s->n] = vol;
  s->n++;
  c->prev_line = line;
  return IM_OK;
}

im_status im_series_read_csv(const char *path, const char *name, im_series *out, im_err *err) {
  return im_series_read_csv_column(path, name, "close", 1, out, err);
}

im_status im_series_read_csv_column(const char *path, const char *name, const char *column,
                                    int positive, im_series *out, im_err *err) {
  memset(out, 0, sizeof *out);
  if (strlen(name) == 0 || strlen(name) >= IM_NAME_LEN || strchr(name, '-'))
    return im_err_set(err, IM_EINVAL,
                      "underlying name '%s' must be 1 to %d characters without '-'", name,
                      IM_NAME_LEN - 1);
  snprintf(out->name, sizeof out->name, "%s", name);
  snprintf(out->source, sizeof out->source, "%s", path);
  series_ctx c = {.path = path, .s = out, .column = column, .positive = positive};
  im_status st = im_csv_read(path, series_row, &c, err);
  if (!st && c.ncols == 0) st = im_err_set(err, IM_EDATA, "%s: empty file (no header)", path);
  if (!st && out->n == 0) st = im_err_set(err, IM_EDATA, "%s: no data rows after the header", path);
  if (st) im_series_clear(out);
  return st;
}

void im_series_clear(im_series *s) {
  free(s->day);
  free(s->close);
  free(s->volume);
  s->day = NULL;
  s->close = NULL;
  s->volume = NULL;
  s->n = 0;
}

im_status im_market_from_series(const im_series *s, size_t n, im_market *out, im_err *err) {
  memset(out, 0, sizeof *out);
  if (n == 0) return im_err_set(err, IM_EINVAL, "no underlyings to import");
  if (n > IM_MAX_UNDERLYINGS)
    return im_err_set(err, IM_EINVAL, "%zu underlyings; at most %d are supported", n,
                      IM_MAX_UNDERLYINGS);
  int32_t lo = s[0].day[0], hi = s[0].day[s[0].n - 1];
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++)
      if (strcmp(s[i].name, s[j].name) == 0)
        return im_err_set(err, IM_EINVAL, "underlying %s is given twice", s[i].name);
    if (s[i].day[0] < lo) lo = s[i].day[0];
    if (s[i].day[s[i].n - 1] > hi) hi = s[i].day[s[i].n - 1];
  }
  out->n_und = n;
  out->n_days = (size_t)(hi - lo) + 1;
  out->day0 = lo;
  out->und = calloc(n, sizeof *out->und);
  out->close = malloc(n * out->n_days * sizeof *out->close);
  if (!out->und || !out->close) {
    im_market_clear(out);
    return im_err_set(err, IM_ENOMEM, "out of memory aligning %zu days", out->n_days);
  }
  for (size_t i = 0; i < n; i++) {
    memcpy(out->und[i], s[i].name, IM_NAME_LEN);
    double *c = out->close + i * out->n_days;
    for (size_t k = 0; k < out->n_days; k++) c[k] = NAN;
    for (size_t k = 0; k < s[i].n; k++) c[s[i].day[k] - lo] = s[i].close[k];
  }
  for (size_t i = 0; i < n; i++) {
    if (!s[i].volume) continue;
    if (!out->volume) {
      if (!(out->volume = malloc(n * out->n_days * sizeof *out->volume))) {
        im_market_clear(out);
        return im_err_set(err, IM_ENOMEM, "out of memory aligning %zu days", out->n_days);
      }
      for (size_t k = 0; k < n * out->n_days; k++) out->volume[k] = NAN;
    }
    for (size_t k = 0; k < s[i].n; k++) out->volume[i * out->n_days + (size_t)(s[i].day[k] - lo)] = s[i].volume[k];
  }
  return IM_OK;
}

/* Puts series s[0..n) on m's calendar into *dest ([n_und][n_days], NaN
 * where no value; allocated on first use), each value times mul over div;
 * days outside the calendar are ignored. flag names the import option. */
static im_status add_series(im_market *m, const im_series *s, size_t n, double **dest,
                            double mul, double div, const char *flag, im_err *err) {
  if (n == 0) return IM_OK;
  if (!*dest) {
    *dest = malloc(m->n_und * m->n_days * sizeof **dest);
    if (!*dest) return im_err_set(err, IM_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_und * m->n_days; i++) (*dest)[i] = NAN;
  }
  for (size_t i = 0; i < n; i++) {
    long u = im_market_find(m, s[i].name);
    if (u < 0)
      return im_err_set(err, IM_EINVAL, "%s %s=%s: %s is not one of the imported underlyings",
                        flag, s[i].name, s[i].source, s[i].name);
    for (size_t k = 0; k < s[i].n; k++) {
      int64_t d = (int64_t)s[i].day[k] - m->day0;
      if (d >= 0 && d < (int64_t)m->n_days)
        (*dest)[(size_t)u * m->n_days + (size_t)d] = mul * s[i].close[k] / div;
    }
  }
  return IM_OK;
}

im_status im_market_add_ivol(im_market *m, const im_series *s, size_t n, im_err *err) {
  return add_series(m, s, n, &m->ivol, 1, 100, "--ivol", err); /* percent -> fraction */
}

im_status im_market_add_funding(im_market *m, const im_series *s, size_t n, im_err *err) {
  /* Three 8-hour fixings a day: the day's funding is 3 x their mean. */
  return add_series(m, s, n, &m->funding, 3, 1, "--funding", err);
}

void im_market_clear(im_market *m) {
  free(m->funding);
  free(m->und);
  free(m->close);
  free(m->ivol);
  free(m->volume);
  memset(m, 0, sizeof *m);
}

im_status im_market_write_h5(const char *path, const im_market *m, const im_series *src,
                             im_err *err) {
  char tmp[4096];
  im_tmp_path(path, (long)getpid(), tmp, sizeof tmp);
  size_t nu = m->n_und, nd = m->n_days;
  int32_t *dates = malloc(nd * sizeof *dates);
  int8_t *present = malloc(nu * nd * sizeof *present);
  char(*sources)[256] = calloc(nu, sizeof *sources);
  hid_t f = -1, tname = -1, tsrc = -1;
  im_status st = IM_OK;
  if (!dates || !present || !sources) {
    st = im_err_set(err, IM_ENOMEM, "out of memory writing %s", path);
    goto done;
  }
  for (size_t k = 0; k < nd; k++) dates[k] = im_days_to_yyyymmdd(m->day0 + (int32_t)k);
  for (size_t i = 0; i < nu * nd; i++) present[i] = (int8_t)!isnan(m->close[i]);
  for (size_t i = 0; i < nu; i++) snprintf(sources[i], sizeof sources[i], "%s", src[i].source);

  f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) {
    st = im_err_set(err, IM_EIO, "%s: cannot create (disk full, or the directory is not writable?)", tmp);
    goto done;
  }
  tname = im_h5_str_type(IM_NAME_LEN);
  tsrc = im_h5_str_type(256);
  hsize_t d1[1] = {nd}, du[1] = {nu}, d2[2] = {nu, nd};
  if (im_h5_attr_str(f, "format", MARKET_FORMAT) < 0 ||
      im_h5_attr_int(f, "format_version", MARKET_FORMAT_VERSION) < 0 ||
      im_h5_attr_str(f, "imvar_version", IMVAR_VERSION) < 0 ||
      im_h5_write(f, "dates", H5T_NATIVE_INT32, 1, d1, dates) < 0 ||
      im_h5_write(f, "underlyings", tname, 1, du, m->und) < 0 ||
      im_h5_write(f, "sources", tsrc, 1, du, sources) < 0 ||
      im_h5_write(f, "close", H5T_NATIVE_DOUBLE, 2, d2, m->close) < 0 ||
      im_h5_write(f, "present", H5T_NATIVE_INT8, 2, d2, present) < 0 ||
      (m->ivol && im_h5_write(f, "ivol", H5T_NATIVE_DOUBLE, 2, d2, m->ivol) < 0) ||
      (m->funding && im_h5_write(f, "funding", H5T_NATIVE_DOUBLE, 2, d2, m->funding) < 0) ||
      (m->volume && im_h5_write(f, "volume", H5T_NATIVE_DOUBLE, 2, d2, m->volume) < 0))
    st = im_err_set(err, IM_EIO, "%s: write failed (disk full?)", tmp);
done:
  if (tname >= 0) H5Tclose(tname);
  if (tsrc >= 0) H5Tclose(tsrc);
  if (f >= 0 && H5Fclose(f) < 0 && !st) st = im_err_set(err, IM_EIO, "%s: close failed", tmp);
  if (!st && rename(tmp, path) != 0)
    st = im_err_set(err, IM_EIO, "%s: cannot rename %s into place", path, tmp);
  if (st) remove(tmp); /* H5Fcreate may have left an empty file even when it failed */
  free(dates);
  free(present);
  free(sources);
  return st;
}

im_status im_market_read_h5(const char *path, im_market *out, im_err *err) {
  memset(out, 0, sizeof *out);
  if (access(path, R_OK) != 0)
    return im_err_set(err, IM_EIO, "%s: market file not found or not readable", path);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return im_err_set(err, IM_EDATA, "%s: not an HDF5 file", path);
  im_status st = IM_OK;
  hid_t dd = -1, du = -1, dc = -1, tname = -1;
  int32_t *dates = NULL;
  char fmt[64] = "";
  long ver = 0;
  if (im_h5_attr_read_str(f, "format", fmt, sizeof fmt) < 0 || strcmp(fmt, MARKET_FORMAT) != 0 ||
      im_h5_attr_read_int(f, "format_version", &ver) < 0 || ver != MARKET_FORMAT_VERSION) {
    st = im_err_set(err, IM_EDATA,
                    "%s: not an imvar market file (format '%s' version %ld; expected '%s' "
                    "version %d; make one with 'imvar import')",
                    path, fmt, ver, MARKET_FORMAT, MARKET_FORMAT_VERSION);
    goto done;
  }
  hsize_t nd[1], nu[1], dims[2];
  dd = im_h5_open_checked(f, "dates", 1, nd);
  du = im_h5_open_checked(f, "underlyings", 1, nu);
  dc = im_h5_open_checked(f, "close", 2, dims);
  if (dd < 0 || du < 0 || dc < 0 || dims[0] != nu[0] || dims[1] != nd[0] || nd[0] == 0 ||
      nu[0] == 0 || nu[0] > IM_MAX_UNDERLYINGS) {
    st = im_err_set(err, IM_EDATA, "%s: /dates, /underlyings or /close missing or mis-shaped",
                    path);
    goto done;
  }
  out->n_und = nu[0];
  out->n_days = nd[0];
  out->und = calloc(out->n_und, sizeof *out->und);
  out->close = malloc(out->n_und * out->n_days * sizeof *out->close);
  dates = malloc(out->n_days * sizeof *dates);
  tname = im_h5_str_type(IM_NAME_LEN);
  if (!out->und || !out->close || !dates) {
    st = im_err_set(err, IM_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  if (H5Dread(dd, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, dates) < 0 ||
      H5Dread(du, tname, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->und) < 0 ||
      H5Dread(dc, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->close) < 0) {
    st = im_err_set(err, IM_EDATA, "%s: cannot read the market datasets", path);
    goto done;
  }
  for (size_t u = 0; u < out->n_und; u++) out->und[u][IM_NAME_LEN - 1] = '\0';
  char buf[16];
  snprintf(buf, sizeof buf, "%08d", (int)dates[0]);
  char iso[11] = {buf[0], buf[1], buf[2], buf[3], '-', buf[4], buf[5], '-', buf[6], buf[7], 0};
  if (!im_date_parse(iso, &out->day0)) {
    st = im_err_set(err, IM_EDATA, "%s: /dates[0] = %d is not a date", path, (int)dates[0]);
    goto done;
  }
  for (size_t k = 0; k < out->n_days; k++)
    if (dates[k] != im_days_to_yyyymmdd(out->day0 + (int32_t)k)) {
      st = im_err_set(err, IM_EDATA, "%s: /dates[%zu] = %d breaks the daily calendar", path, k,
                      (int)dates[k]);
      goto done;
    }
  if (H5Lexists(f, "ivol", H5P_DEFAULT) > 0) {
    hsize_t dv[2];
    hid_t di = im_h5_open_checked(f, "ivol", 2, dv);
    out->ivol = malloc(out->n_und * out->n_days * sizeof *out->ivol);
    int ok = di >= 0 && dv[0] == nu[0] && dv[1] == nd[0] && out->ivol &&
             H5Dread(di, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->ivol) >= 0;
    if (di >= 0) H5Dclose(di);
    for (size_t i = 0; ok && i < out->n_und * out->n_days; i++)
      ok = isnan(out->ivol[i]) || (isfinite(out->ivol[i]) && out->ivol[i] > 0);
    if (!ok) {
      st = im_err_set(err, IM_EDATA, "%s: /ivol is mis-shaped or holds a non-positive volatility", path);
      goto done;
    }
  }
  if (H5Lexists(f, "funding", H5P_DEFAULT) > 0) {
    hsize_t dv[2];
    hid_t di = im_h5_open_checked(f, "funding", 2, dv);
    out->funding = malloc(out->n_und * out->n_days * sizeof *out->funding);
    int ok = di >= 0 && dv[0] == nu[0] && dv[1] == nd[0] && out->funding &&
             H5Dread(di, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->funding) >= 0;
    if (di >= 0) H5Dclose(di);
    for (size_t i = 0; ok && i < out->n_und * out->n_days; i++)
      ok = isnan(out->funding[i]) || fabs(out->funding[i]) < 1;
    if (!ok) {
      st = im_err_set(err, IM_EDATA, "%s: /funding is mis-shaped or holds a rate of 100%% or more", path);
      goto done;
    }
  }
  if (H5Lexists(f, "volume", H5P_DEFAULT) > 0) {
    hsize_t dv[2];
    hid_t di = im_h5_open_checked(f, "volume", 2, dv);
    out->volume = malloc(out->n_und * out->n_days * sizeof *out->volume);
    int ok = di >= 0 && dv[0] == nu[0] && dv[1] == nd[0] && out->volume &&
             H5Dread(di, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->volume) >= 0;
    if (di >= 0) H5Dclose(di);
    for (size_t i = 0; ok && i < out->n_und * out->n_days; i++)
      ok = isnan(out->volume[i]) || (out->volume[i] >= 0 && out->volume[i] <= IM_MAX_VALUE);
    if (!ok) {
      st = im_err_set(err, IM_EDATA, "%s: /volume is mis-shaped or holds a negative volume", path);
      goto done;
    }
  }
  for (size_t i = 0; i < out->n_und * out->n_days; i++)
    if (!(isnan(out->close[i]) || (isfinite(out->close[i]) && out->close[i] > 0))) {
      st = im_err_set(err, IM_EDATA, "%s: /close[%zu][%zu] = %g is not a positive price", path,
                      i / out->n_days, i % out->n_days, out->close[i]);
      goto done;
    }
done:
  if (dd >= 0) H5Dclose(dd);
  if (du >= 0) H5Dclose(du);
  if (dc >= 0) H5Dclose(dc);
  if (tname >= 0) H5Tclose(tname);
  H5Fclose(f);
  free(dates);
  if (st) im_market_clear(out);
  return st;
}
