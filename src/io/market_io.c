#include "market_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "calendar.h"
#include "csvfile.h"
#include "h5util.h"

#define MARKET_FORMAT "imvar-market"
#define MARKET_FORMAT_VERSION 1

/* The columns a CSV's header may name, by role. */
enum { R_DATE, R_VALUE, R_VOL, R_HIGH, R_LOW, R_OPEN, R_PLAIN_VOL, N_ROLES };

/* Date columns in order of preference (CryptoDataDownload has unix and date). */
static const char *const date_names[] = {"date", "timestamp", "time", "unix"};
/* Quote volume as Binance and CryptoDataDownload name it. */
static const char *const quote_names[] = {"volume_quote", "volume usdt", "volume usd"};

typedef struct {
  const char *path;
  im_series *s;
  const char *column; /* the value column: "close", or "funding_rate_mean" */
  int positive;       /* values must be > 0 (prices, vols); funding may be any sign */
  int prices;         /* a price CSV: volume, high, low and open are read too */
  im_price_opts opt;
  long col[N_ROLES];  /* index of each role's column, or -1 */
  char cname[N_ROLES][48]; /* each column's name as the header spells it */
  int date_pref;      /* index into date_names of the date column taken */
  size_t ncols;       /* 0 until the header is read */
  char title[48];     /* a skipped first line, or "" */
  size_t rows, cap;   /* data rows read (gaps included); capacity of s's arrays */
  int32_t last_day;   /* the previous row's day, line and date cell, gaps included */
  size_t last_line;
  char last_cell[48];
  size_t first_line;  /* the first data row's line */
  int dir;            /* +1 oldest first, -1 newest first, 0 not yet known */
} series_ctx;

/* Whether a header field is name: case-insensitive, blanks around ignored. */
static int name_is(const char *field, const char *name) {
  while (*field == ' ' || *field == '\t') field++;
  size_t len = strlen(name);
  if (strncasecmp(field, name, len) != 0) return 0;
  for (field += len; *field; field++)
    if (*field != ' ' && *field != '\t') return 0;
  return 1;
}

static long find_name(const char *field, const char *const *names, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (name_is(field, names[k])) return (long)k;
  return -1;
}

/* The role of a header field, or -1; *pref: its date_names index. */
static int field_role(const series_ctx *c, const char *f, long *pref) {
  *pref = find_name(f, date_names, sizeof date_names / sizeof *date_names);
  if (*pref >= 0) return R_DATE;
  if (name_is(f, c->column)) return R_VALUE;
  if (!c->prices) return -1;
  if (find_name(f, quote_names, sizeof quote_names / sizeof *quote_names) >= 0) return R_VOL;
  if (name_is(f, "high")) return R_HIGH;
  if (name_is(f, "low")) return R_LOW;
  if (name_is(f, "open")) return R_OPEN;
  if (name_is(f, "volume")) return R_PLAIN_VOL;
  return -1;
}

/* Takes column i for role, keeping its name as spelt, blanks around removed. */
static void set_col(series_ctx *c, int role, long i, const char *f) {
  c->col[role] = i;
  f += strspn(f, " \t");
  size_t len = strlen(f);
  while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '\t')) len--;
  snprintf(c->cname[role], sizeof c->cname[role], "%.*s", (int)len, f);
}

/* A plain 'volume': the quote volume when the options say so, otherwise
 * ignored with a warning, unless the file has a quote volume as well. */
static im_status resolve_plain_volume(series_ctx *c, size_t line, im_err *err) {
  const long plain = c->col[R_PLAIN_VOL];
  if (c->opt.volume_is_quote) {
    if (plain < 0)
      return im_err_set(err, IM_EDATA,
                        "%s:%zu: header has no plain 'volume' column to take as quote volume",
                        c->path, line);
    if (c->col[R_VOL] >= 0)
      return im_err_set(err, IM_EDATA,
                        "%s:%zu: header has two quote volumes: '%s' and '%s' (taken as quote "
                        "volume by the import option)",
                        c->path, line, c->cname[R_VOL], c->cname[R_PLAIN_VOL]);
    set_col(c, R_VOL, plain, c->cname[R_PLAIN_VOL]);
  } else if (plain >= 0 && c->col[R_VOL] < 0) {
    snprintf(c->s->warning, sizeof c->s->warning,
             "%s: column '%s' ignored: a plain volume is base volume in some exports (Binance, "
             "Coinbase) and USD in others (Yahoo); if it is the quote volume in USD, give "
             "--quote-volume %s or name the column volume_quote",
             c->path, c->cname[R_PLAIN_VOL], c->s->name);
  }
  return IM_OK;
}

static im_status read_header(series_ctx *c, char **f, size_t n, size_t line, im_err *err) {
  for (int r = 0; r < N_ROLES; r++) c->col[r] = -1;
  for (size_t i = 0; i < n; i++) {
    long pref;
    const int role = field_role(c, f[i], &pref);
    if (role < 0) continue;
    /* A column named twice is ambiguous: refuse it rather than pick one. */
    const int taken = c->col[role] >= 0 && (role != R_DATE || pref == c->date_pref);
    if (taken && role == R_VOL && !name_is(f[i], c->cname[R_VOL]))
      return im_err_set(err, IM_EDATA, "%s:%zu: header has two quote volumes: '%s' and '%.40s'",
                        c->path, line, c->cname[R_VOL], f[i]);
    if (taken)
      return im_err_set(err, IM_EDATA, "%s:%zu: header names column '%.40s' twice", c->path,
                        line, f[i]);
    if (role == R_DATE && c->col[R_DATE] >= 0 && pref > c->date_pref) continue;
    if (role == R_DATE) c->date_pref = (int)pref;
    set_col(c, role, (long)i, f[i]);
  }
  const char *after = c->title[0] ? " (line 1 was skipped as a title: one field naming no column)" : "";
  if (c->col[R_DATE] < 0)
    return im_err_set(err, IM_EDATA, "%s:%zu: header has no 'date', 'timestamp', 'time' or 'unix' column%s",
                      c->path, line, after);
  if (c->col[R_VALUE] < 0)
    return im_err_set(err, IM_EDATA, "%s:%zu: header has no '%s' column%s", c->path, line,
                      c->column, after);
  im_status st = c->prices ? resolve_plain_volume(c, line, err) : IM_OK;
  c->ncols = n;
  return st;
}

/* A Unix time in seconds, milliseconds or microseconds, told apart by its
 * magnitude (9-11, 12-14 or 15-17 digits; fewer digits would be before
 * 1973-03-03 and could be a YYYYMMDD date), as a day; fractions ignored. */
static int parse_unix_day(const char *s, int32_t *day) {
  while (*s == ' ') s++;
  size_t nd = strspn(s, "0123456789");
  const char *end = s + nd;
  if (*end == '.') end += 1 + strspn(end + 1, "0123456789");
  while (*end == ' ') end++;
  if (nd < 9 || nd > 17 || *end != '\0') return 0;
  long long v = strtoll(s, NULL, 10);
  long long secs = nd <= 11 ? v : nd <= 14 ? v / 1000 : v / 1000000;
  if (secs / 86400 > im_days_from_civil(9999, 12, 31)) return 0;
  *day = (int32_t)(secs / 86400);
  return 1;
}

/* An empty or null cell: no value (Yahoo writes null). */
static int is_null(const char *s) {
  while (*s == ' ') s++;
  return *s == '\0' || name_is(s, "null");
}

/* Parses the value of column role into *v: NaN when null and allow_null. */
static im_status parse_cell(const series_ctx *c, char **f, int role, int allow_null,
                            size_t line, double *v, im_err *err) {
  const char *cell = f[c->col[role]], *name = c->cname[role];
  *v = NAN;
  if (allow_null && is_null(cell)) return IM_OK;
  const int positive = role != R_VALUE || c->positive;
  if (role == R_VOL) {
    if (!im_parse_double(cell, v) || *v < 0 || *v > IM_MAX_VALUE)
      return im_err_set(err, IM_EDATA, "%s:%zu: %s '%.40s' is not a number in [0, %g]", c->path,
                        line, name, cell, IM_MAX_VALUE);
    return IM_OK;
  }
  if (!im_parse_double(cell, v))
    return im_err_set(err, IM_EDATA, "%s:%zu: %s '%.40s' is not a finite number", c->path, line,
                      name, cell);
  if (positive && *v <= 0)
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %g is not positive", c->path, line, name, *v);
  /* Bounds that keep every scenario move, P&L and statistic finite. */
  if (fabs(*v) > IM_MAX_VALUE || (positive && *v < 1 / IM_MAX_VALUE))
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %g is out of range (%g .. %g)", c->path, line,
                      name, *v, positive ? 1 / IM_MAX_VALUE : -IM_MAX_VALUE, IM_MAX_VALUE);
  return IM_OK;
}

/* low <= x <= high for the close and the open, where the cells are given. */
static im_status check_range(const series_ctx *c, int role, double x, double hi, double lo,
                             size_t line, im_err *err) {
  if (x > hi)
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %.15g is above %s %.15g", c->path, line,
                      c->cname[role], x, c->cname[R_HIGH], hi);
  if (x < lo)
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %.15g is below %s %.15g", c->path, line,
                      c->cname[role], x, c->cname[R_LOW], lo);
  return IM_OK;
}

/* Reads a row's optional price cells into v[R_VOL..R_OPEN] (NaN when absent)
 * and checks the day's prices against its high and low. */
static im_status price_cells(const series_ctx *c, char **f, size_t line, double close, double *v,
                             im_err *err) {
  for (int r = R_VOL; r <= R_OPEN; r++) {
    v[r] = NAN;
    im_status st = c->col[r] >= 0 ? parse_cell(c, f, r, 1, line, &v[r], err) : IM_OK;
    if (st) return st;
  }
  const double hi = isnan(v[R_HIGH]) ? INFINITY : v[R_HIGH], lo = isnan(v[R_LOW]) ? 0 : v[R_LOW];
  if (hi < lo)
    return im_err_set(err, IM_EDATA, "%s:%zu: %s %.15g is below %s %.15g", c->path, line,
                      c->cname[R_HIGH], hi, c->cname[R_LOW], lo);
  im_status st = check_range(c, R_VALUE, close, hi, lo, line, err);
  if (!st && !isnan(v[R_OPEN])) st = check_range(c, R_OPEN, v[R_OPEN], hi, lo, line, err);
  return st;
}

/* Rows are oldest first or newest first throughout, one per UTC day. */
static im_status check_order(series_ctx *c, int32_t day, const char *cell, size_t line,
                             im_err *err) {
  if (c->rows > 0) {
    char a[11], b[11];
    im_date_format(day, a);
    im_date_format(c->last_day, b);
    if (day == c->last_day && strcmp(cell, c->last_cell) != 0)
      return im_err_set(err, IM_EDATA,
                        "%s:%zu: duplicate date %s (also on line %zu: '%.40s' and '%s' fall on "
                        "the same UTC day; a daily file has one row a day)",
                        c->path, line, a, c->last_line, cell, c->last_cell);
    if (day == c->last_day)
      return im_err_set(err, IM_EDATA, "%s:%zu: duplicate date %s (also on line %zu)", c->path,
                        line, a, c->last_line);
    const int dir = day > c->last_day ? 1 : -1;
    if (c->dir == 0) c->dir = dir;
    if (dir != c->dir)
      return im_err_set(err, IM_EDATA,
                        "%s:%zu: dates are not sorted: %s comes after %s, but lines %zu to %zu "
                        "run %s",
                        c->path, line, a, b, c->first_line, c->last_line,
                        c->dir > 0 ? "oldest first" : "newest first");
  } else {
    c->first_line = line;
  }
  c->last_day = day;
  c->last_line = line;
  snprintf(c->last_cell, sizeof c->last_cell, "%s", cell);
  c->rows++;
  return IM_OK;
}

/* Makes room for one more row in every array the series keeps. */
static im_status grow(series_ctx *c, size_t line, im_err *err) {
  im_series *s = c->s;
  if (s->n < c->cap) return IM_OK;
  const size_t cap = c->cap ? 2 * c->cap : 1024;
  int32_t *d = realloc(s->day, cap * sizeof *d);
  if (d) s->day = d;
  int ok = d != NULL;
  double **arr[] = {&s->close, &s->volume, &s->high, &s->low};
  const int keep[] = {1, c->col[R_VOL] >= 0, c->col[R_HIGH] >= 0, c->col[R_LOW] >= 0};
  for (size_t k = 0; k < sizeof arr / sizeof *arr; k++) {
    double *v = keep[k] ? realloc(*arr[k], cap * sizeof *v) : NULL;
    if (v) *arr[k] = v;
    ok = ok && (v || !keep[k]);
  }
  if (!ok) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
  c->cap = cap;
  return IM_OK;
}

static im_status series_row(void *vctx, char **f, size_t n, size_t line, im_err *err) {
  series_ctx *c = vctx;
  im_series *s = c->s;
  if (c->ncols == 0) {
    long pref;
    /* CryptoDataDownload's URL line above the header: one field, no column. */
    if (line == 1 && n == 1 && field_role(c, f[0], &pref) < 0) {
      snprintf(c->title, sizeof c->title, "%s", f[0]);
      return IM_OK;
    }
    return read_header(c, f, n, line, err);
  }
  if (n == 1 && f[0][0] == '\0') return IM_OK; /* blank line */
  if (n != c->ncols)
    return im_err_set(err, IM_EDATA, "%s:%zu: %zu fields, the header has %zu", c->path, line, n,
                      c->ncols);
  int32_t day;
  const char *cell = f[c->col[R_DATE]];
  if (!im_date_parse(cell, &day) && !parse_unix_day(cell, &day))
    return im_err_set(err, IM_EDATA,
                      "%s:%zu: '%.40s' is not a date (column '%s': YYYY-MM-DD, an ISO 8601 UTC "
                      "time, or Unix seconds, milliseconds or microseconds)",
                      c->path, line, cell, c->cname[R_DATE]);
  double close, v[N_ROLES] = {0};
  im_status st = parse_cell(c, f, R_VALUE, 1, line, &close, err);
  if (!st) st = check_order(c, day, cell, line, err);
  if (st || isnan(close)) return st; /* an empty or null close: a gap */
  if (c->prices && (st = price_cells(c, f, line, close, v, err))) return st;
  if ((st = grow(c, line, err))) return st;
  s->day[s->n] = day;
  s->close[s->n] = close;
  if (s->volume) s->volume[s->n] = v[R_VOL];
  if (s->high) s->high[s->n] = v[R_HIGH];
  if (s->low) s->low[s->n] = v[R_LOW];
  s->n++;
  return IM_OK;
}

static void reverse(void *base, size_t n, size_t size) {
  char tmp[sizeof(double)], *p = base;
  for (size_t i = 0, j = n - 1; n > 1 && i < j; i++, j--) {
    memcpy(tmp, p + i * size, size);
    memcpy(p + i * size, p + j * size, size);
    memcpy(p + j * size, tmp, size);
  }
}

/* Newest-first files: put the rows oldest first. */
static void reorder(im_series *s) {
  reverse(s->day, s->n, sizeof *s->day);
  double *arr[] = {s->close, s->volume, s->high, s->low};
  for (size_t k = 0; k < sizeof arr / sizeof *arr; k++)
    if (arr[k]) reverse(arr[k], s->n, sizeof *arr[k]);
}

static im_status read_series(const char *path, const char *name, const char *column,
                             int positive, const im_price_opts *opt, im_series *out,
                             im_err *err) {
  memset(out, 0, sizeof *out);
  if (strlen(name) == 0 || strlen(name) >= IM_NAME_LEN || strchr(name, '-'))
    return im_err_set(err, IM_EINVAL,
                      "underlying name '%s' must be 1 to %d characters without '-'", name,
                      IM_NAME_LEN - 1);
  snprintf(out->name, sizeof out->name, "%s", name);
  snprintf(out->source, sizeof out->source, "%s", path);
  series_ctx c = {.path = path, .s = out, .column = column, .positive = positive,
                  .prices = strcmp(column, "close") == 0};
  if (opt) c.opt = *opt;
  im_status st = im_csv_read(path, series_row, &c, err);
  if (!st && c.ncols == 0 && c.title[0])
    st = im_err_set(err, IM_EDATA, "%s: no header after the title line '%s'", path, c.title);
  if (!st && c.ncols == 0) st = im_err_set(err, IM_EDATA, "%s: empty file (no header)", path);
  if (!st && c.rows == 0) st = im_err_set(err, IM_EDATA, "%s: no data rows after the header", path);
  if (!st && out->n == 0)
    st = im_err_set(err, IM_EDATA, "%s: no %s: every row's %s is empty or null", path, column,
                    c.cname[R_VALUE]);
  if (!st && c.dir < 0) reorder(out);
  if (st) im_series_clear(out);
  return st;
}

im_status im_series_read_prices(const char *path, const char *name, const im_price_opts *opt,
                                im_series *out, im_err *err) {
  return read_series(path, name, "close", 1, opt, out, err);
}

im_status im_series_read_csv(const char *path, const char *name, im_series *out, im_err *err) {
  return read_series(path, name, "close", 1, NULL, out, err);
}

im_status im_series_read_csv_column(const char *path, const char *name, const char *column,
                                    int positive, im_series *out, im_err *err) {
  return read_series(path, name, column, positive, NULL, out, err);
}

void im_series_clear(im_series *s) {
  free(s->day);
  free(s->close);
  free(s->volume);
  free(s->high);
  free(s->low);
  s->day = NULL;
  s->close = NULL;
  s->volume = s->high = s->low = NULL;
  s->n = 0;
}

/* The optional per-day columns of a price series. */
typedef enum { F_VOLUME, F_HIGH, F_LOW } optional_field;

static const double *series_field(const im_series *s, optional_field f) {
  return f == F_VOLUME ? s->volume : f == F_HIGH ? s->high : s->low;
}

/* Puts field f of the series on m's calendar into *dest ([n_und][n_days],
 * NaN where unknown), allocated only when some series has the field. */
static im_status align_optional(im_market *m, const im_series *s, size_t n, optional_field f,
                                double **dest, im_err *err) {
  for (size_t i = 0; i < n; i++) {
    const double *v = series_field(&s[i], f);
    if (!v) continue;
    if (!*dest) {
      if (!(*dest = malloc(n * m->n_days * sizeof **dest)))
        return im_err_set(err, IM_ENOMEM, "out of memory aligning %zu days", m->n_days);
      for (size_t k = 0; k < n * m->n_days; k++) (*dest)[k] = NAN;
    }
    for (size_t k = 0; k < s[i].n; k++) (*dest)[i * m->n_days + (size_t)(s[i].day[k] - m->day0)] = v[k];
  }
  return IM_OK;
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
  im_status st = align_optional(out, s, n, F_VOLUME, &out->volume, err);
  if (!st) st = align_optional(out, s, n, F_HIGH, &out->high, err);
  if (!st) st = align_optional(out, s, n, F_LOW, &out->low, err);
  if (st) im_market_clear(out);
  return st;
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
  free(m->high);
  free(m->low);
  memset(m, 0, sizeof *m);
}

im_status im_market_check_target(const char *path, im_err *err) {
  if (H5Fis_hdf5(path) <= 0) return IM_OK;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  char fmt[64] = "";
  if (f >= 0) {
    if (H5Aexists(f, "format") > 0) im_h5_attr_read_str(f, "format", fmt, sizeof fmt);
    H5Fclose(f);
  }
  if (fmt[0] && strcmp(fmt, MARKET_FORMAT) != 0)
    return im_err_set(err, IM_EINVAL,
                      "-o %s: it is an %s file, not a market file; import does not replace it "
                      "(choose another output)",
                      path, fmt);
  return IM_OK;
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
      (m->volume && im_h5_write(f, "volume", H5T_NATIVE_DOUBLE, 2, d2, m->volume) < 0) ||
      (m->high && im_h5_write(f, "high", H5T_NATIVE_DOUBLE, 2, d2, m->high) < 0) ||
      (m->low && im_h5_write(f, "low", H5T_NATIVE_DOUBLE, 2, d2, m->low) < 0))
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

static int positive_or_nan(double v) { return isnan(v) || (isfinite(v) && v > 0); }
static int rate_or_nan(double v) { return isnan(v) || fabs(v) < 1; }
static int volume_or_nan(double v) { return isnan(v) || (v >= 0 && v <= IM_MAX_VALUE); }

/* Reads dataset name, if the file has it, into *dst ([n_und][n_days]);
 * -1 when it is mis-shaped, unreadable or holds a value ok() refuses. */
static int read_optional(hid_t f, const char *name, const im_market *m, double **dst,
                         int (*ok)(double)) {
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return 0;
  hsize_t dv[2];
  hid_t di = im_h5_open_checked(f, name, 2, dv);
  *dst = malloc(m->n_und * m->n_days * sizeof **dst);
  int good = di >= 0 && dv[0] == m->n_und && dv[1] == m->n_days && *dst &&
             H5Dread(di, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *dst) >= 0;
  if (di >= 0) H5Dclose(di);
  for (size_t i = 0; good && i < m->n_und * m->n_days; i++) good = ok((*dst)[i]);
  return good ? 0 : -1;
}

/* The optional datasets of market.h5, and a day's high and low bracketing
 * its close. */
static im_status read_optional_datasets(hid_t f, const char *path, im_market *m, im_err *err) {
  const struct {
    const char *name;
    double **dst;
    int (*ok)(double);
    const char *why;
  } opt[] = {
      {"ivol", &m->ivol, positive_or_nan, "holds a non-positive volatility"},
      {"funding", &m->funding, rate_or_nan, "holds a rate of 100% or more"},
      {"volume", &m->volume, volume_or_nan, "holds a negative volume"},
      {"high", &m->high, positive_or_nan, "holds a non-positive price"},
      {"low", &m->low, positive_or_nan, "holds a non-positive price"},
  };
  for (size_t k = 0; k < sizeof opt / sizeof *opt; k++)
    if (read_optional(f, opt[k].name, m, opt[k].dst, opt[k].ok) < 0)
      return im_err_set(err, IM_EDATA, "%s: /%s is mis-shaped or %s", path, opt[k].name,
                        opt[k].why);
  for (size_t i = 0; (m->high || m->low) && i < m->n_und * m->n_days; i++) {
    const double c = m->close[i], hi = m->high ? m->high[i] : NAN, lo = m->low ? m->low[i] : NAN;
    if (hi < c || c < lo || hi < lo) {
      char d[11];
      im_date_format(m->day0 + (int32_t)(i % m->n_days), d);
      return im_err_set(err, IM_EDATA,
                        "%s: %s on %s: /close %.15g, /low %.15g and /high %.15g are not in order "
                        "(low <= close <= high)",
                        path, m->und[i / m->n_days], d, c, lo, hi);
    }
  }
  return IM_OK;
}

im_status im_market_read_h5(const char *path, im_market *out, im_err *err) {
  memset(out, 0, sizeof *out);
  if (access(path, R_OK) != 0) {
    char where[4200];
    im_path_looked_for(path, where, sizeof where);
    return im_err_set(err, IM_EIO, "%s: market file not found or not readable%s", path, where);
  }
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
  if ((st = read_optional_datasets(f, path, out, err))) goto done;
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
