#include "series_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csvfile.h"

typedef struct {
  const char *path;
  im_user_series *s;
  long col_pnl, col_margin, col_hit;
  size_t ncols, cap;
} ctx;

static int is_missing(const char *v) {
  while (*v == ' ') v++;
  return *v == '\0' || strcasecmp(v, "nan") == 0;
}

static im_status row(void *vc, char **f, size_t n, size_t line, im_err *err) {
  ctx *c = vc;
  im_user_series *s = c->s;
  if (c->ncols == 0) {
    c->col_pnl = c->col_margin = c->col_hit = -1;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(f[i], "pnl") == 0) c->col_pnl = (long)i;
      if (strcmp(f[i], "margin") == 0) c->col_margin = (long)i;
      if (strcmp(f[i], "hit") == 0) c->col_hit = (long)i;
    }
    if ((c->col_pnl < 0) != (c->col_margin < 0))
      return im_err_set(err, IM_EDATA, "%s:%zu: header has '%s' but no '%s' column", c->path,
                        line, c->col_pnl >= 0 ? "pnl" : "margin", c->col_pnl >= 0 ? "margin" : "pnl");
    if (c->col_pnl < 0 && c->col_hit < 0)
      return im_err_set(err, IM_EDATA, "%s:%zu: header needs 'pnl' and 'margin' columns, or a 'hit' column",
                        c->path, line);
    c->ncols = n;
    return IM_OK;
  }
  if (n == 1 && f[0][0] == '\0') return IM_OK;
  if (n != c->ncols)
    return im_err_set(err, IM_EDATA, "%s:%zu: %zu fields, the header has %zu", c->path, line, n, c->ncols);
  if (s->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 1024;
    int8_t *h = realloc(s->hits, cap);
    if (h) s->hits = h;
    double *p = realloc(s->pnl, cap * sizeof *p);
    if (p) s->pnl = p;
    double *m = realloc(s->margin, cap * sizeof *m);
    if (m) s->margin = m;
    if (!h || !p || !m) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
    c->cap = cap;
  }
  size_t i = s->n++;
  if (c->col_pnl >= 0) {
    const char *a = f[c->col_pnl], *b = f[c->col_margin];
    s->pnl[i] = s->margin[i] = NAN;
    s->hits[i] = -1;
    if (is_missing(a) || is_missing(b)) return IM_OK;
    if (!im_parse_double(a, &s->pnl[i]))
      return im_err_set(err, IM_EDATA, "%s:%zu: pnl '%.40s' is not a finite number", c->path, line, a);
    if (!im_parse_double(b, &s->margin[i]) || s->margin[i] < 0)
      return im_err_set(err, IM_EDATA, "%s:%zu: margin '%.40s' is not a finite number >= 0",
                        c->path, line, b);
    s->hits[i] = -s->pnl[i] > s->margin[i];
    return IM_OK;
  }
  const char *h = f[c->col_hit];
  long v;
  if (is_missing(h)) {
    s->hits[i] = -1;
    return IM_OK;
  }
  if (!im_parse_long(h, 0, 1, &v))
    return im_err_set(err, IM_EDATA, "%s:%zu: hit '%.40s' is not 0 or 1", c->path, line, h);
  s->hits[i] = (int8_t)v;
  return IM_OK;
}

im_status im_user_series_read_csv(const char *path, im_user_series *out, im_err *err) {
  memset(out, 0, sizeof *out);
  ctx c = {.path = path, .s = out};
  im_status st = im_csv_read(path, row, &c, err);
  if (!st && c.ncols == 0) st = im_err_set(err, IM_EDATA, "%s: empty file (no header)", path);
  if (!st && out->n == 0) st = im_err_set(err, IM_EDATA, "%s: no data rows after the header", path);
  if (!st && c.col_pnl < 0) { /* a hit series carries no P&L or margin */
    free(out->pnl);
    free(out->margin);
    out->pnl = out->margin = NULL;
  }
  if (st) im_user_series_clear(out);
  return st;
}

void im_user_series_clear(im_user_series *s) {
  free(s->hits);
  free(s->pnl);
  free(s->margin);
  memset(s, 0, sizeof *s);
}
