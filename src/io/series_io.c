#include "series_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csvfile.h"

/* The columns read; hit is read only without pnl/margin. */
enum { C_PNL, C_MARGIN, C_HIT, C_VAR, C_ES, C_PIT, C_N };
static const char *const col_name[C_N] = {"pnl", "margin", "hit", "var", "es", "pit"};

typedef struct {
  const char *path;
  im_user_series *s;
  long col[C_N]; /* field index, -1 absent or unused */
  size_t ncols, cap;
} ctx;

static double **values(im_user_series *s, int k) {
  double **v[C_N] = {&s->pnl, &s->margin, NULL, &s->var, &s->es, &s->pit};
  return v[k];
}

static int is_missing(const char *v) {
  while (*v == ' ') v++;
  return *v == '\0' || strcasecmp(v, "nan") == 0;
}

static im_status header(ctx *c, char **f, size_t n, size_t line, im_err *err) {
  for (int k = 0; k < C_N; k++) c->col[k] = -1;
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < C_N; k++)
      if (strcmp(f[i], col_name[k]) == 0) c->col[k] = (long)i;
  if ((c->col[C_PNL] < 0) != (c->col[C_MARGIN] < 0))
    return im_err_set(err, IM_EDATA, "%s:%zu: header has '%s' but no '%s' column", c->path, line,
                      c->col[C_PNL] >= 0 ? "pnl" : "margin", c->col[C_PNL] >= 0 ? "margin" : "pnl");
  if (c->col[C_PNL] < 0 && c->col[C_HIT] < 0)
    return im_err_set(err, IM_EDATA, "%s:%zu: header needs 'pnl' and 'margin' columns, or a 'hit' column",
                      c->path, line);
  if (c->col[C_PNL] >= 0) c->col[C_HIT] = -1; /* pnl/margin win */
  c->ncols = n;
  return IM_OK;
}

/* Room for one more row in every column read. */
static im_status grow(ctx *c, size_t line, im_err *err) {
  im_user_series *s = c->s;
  size_t cap = c->cap ? 2 * c->cap : 1024;
  int8_t *h = realloc(s->hits, cap);
  if (!h) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
  s->hits = h;
  for (int k = 0; k < C_N; k++) {
    if (c->col[k] < 0 || !values(s, k)) continue;
    double *v = realloc(*values(s, k), cap * sizeof *v);
    if (!v) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
    *values(s, k) = v;
  }
  c->cap = cap;
  return IM_OK;
}

/* One value of column k (not missing) with its range check. */
static im_status parse_value(const ctx *c, int k, const char *v, size_t line, double *out,
                             im_err *err) {
  static const char *const need[C_N] = {"a finite number", "a finite number >= 0", NULL,
                                        "a finite number", "a finite number > 0",
                                        "a number in [0, 1]"};
  long h;
  if (k == C_HIT) {
    if (!im_parse_long(v, 0, 1, &h))
      return im_err_set(err, IM_EDATA, "%s:%zu: hit '%.40s' is not 0 or 1", c->path, line, v);
    *out = (double)h;
    return IM_OK;
  }
  int ok = im_parse_double(v, out);
  if (k == C_MARGIN) ok = ok && *out >= 0;
  if (k == C_ES) ok = ok && *out > 0;
  if (k == C_PIT) ok = ok && *out >= 0 && *out <= 1;
  if (!ok)
    return im_err_set(err, IM_EDATA, "%s:%zu: %s '%.40s' is not %s", c->path, line, col_name[k], v,
                      need[k]);
  return IM_OK;
}

static im_status row(void *vc, char **f, size_t n, size_t line, im_err *err) {
  ctx *c = vc;
  im_user_series *s = c->s;
  if (c->ncols == 0) return header(c, f, n, line, err);
  if (n == 1 && f[0][0] == '\0') return IM_OK;
  if (n != c->ncols)
    return im_err_set(err, IM_EDATA, "%s:%zu: %zu fields, the header has %zu", c->path, line, n, c->ncols);
  im_status st = s->n == c->cap ? grow(c, line, err) : IM_OK;
  if (st) return st;
  size_t i = s->n++;
  double x[C_N];
  int missing = 0; /* then the day is not observed and its other cells are not read */
  for (int k = 0; k < C_N; k++) missing |= c->col[k] >= 0 && is_missing(f[c->col[k]]);
  for (int k = 0; k < C_N; k++) {
    x[k] = NAN;
    if (c->col[k] >= 0 && !missing && (st = parse_value(c, k, f[c->col[k]], line, &x[k], err)))
      return st;
  }
  if (!missing && x[C_ES] < x[C_VAR]) /* false when either is absent (NaN) */
    return im_err_set(err, IM_EDATA, "%s:%zu: es '%.40s' is below var '%.40s'", c->path, line,
                      f[c->col[C_ES]], f[c->col[C_VAR]]);
  for (int k = 0; k < C_N; k++)
    if (c->col[k] >= 0 && values(s, k)) (*values(s, k))[i] = missing ? NAN : x[k];
  if (missing)
    s->hits[i] = -1;
  else if (c->col[C_PNL] >= 0)
    s->hits[i] = -x[C_PNL] > x[C_MARGIN];
  else
    s->hits[i] = (int8_t)x[C_HIT];
  return IM_OK;
}

im_status im_user_series_read_csv(const char *path, im_user_series *out, im_err *err) {
  memset(out, 0, sizeof *out);
  ctx c = {.path = path, .s = out};
  im_status st = im_csv_read(path, row, &c, err);
  if (!st && c.ncols == 0) st = im_err_set(err, IM_EDATA, "%s: empty file (no header)", path);
  if (!st && out->n == 0) st = im_err_set(err, IM_EDATA, "%s: no data rows after the header", path);
  if (st) im_user_series_clear(out);
  return st;
}

void im_user_series_clear(im_user_series *s) {
  free(s->hits);
  free(s->pnl);
  free(s->margin);
  free(s->var);
  free(s->es);
  free(s->pit);
  memset(s, 0, sizeof *s);
}
