#include "portfolio_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"

typedef struct {
  const char *path;
  const im_market *mkt;
  long col[3]; /* portfolio, instrument, quantity */
  size_t ncols;
  /* positions in file order, grouped afterwards */
  size_t n, cap;
  uint32_t *port, *instr;
  double *qty;
  size_t port_cap, instr_cap;
  /* Open-addressing hash of portfolio ids -> index + 1 (0 = empty slot). */
  size_t *slot;
  size_t nslot;
  im_book *b;
} book_ctx;

static uint64_t hash_id(const char *s) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* Index of portfolio id, adding it if new; -1 when out of memory. */
static long port_index(book_ctx *c, const char *id) {
  im_book *b = c->b;
  if (2 * (b->n_port + 1) > c->nslot) { /* keep the load factor under 1/2 */
    size_t n = c->nslot ? 2 * c->nslot : 1024;
    size_t *slot = calloc(n, sizeof *slot);
    if (!slot) return -1;
    for (size_t p = 0; p < b->n_port; p++) {
      size_t i = hash_id(b->id[p]) & (n - 1);
      while (slot[i]) i = (i + 1) & (n - 1);
      slot[i] = p + 1;
    }
    free(c->slot);
    c->slot = slot;
    c->nslot = n;
  }
  size_t i = hash_id(id) & (c->nslot - 1);
  for (; c->slot[i]; i = (i + 1) & (c->nslot - 1))
    if (strcmp(b->id[c->slot[i] - 1], id) == 0) return (long)(c->slot[i] - 1);
  if (b->n_port == c->port_cap) {
    size_t cap = c->port_cap ? 2 * c->port_cap : 64;
    char(*ids)[IM_PORT_ID_LEN] = realloc(b->id, cap * sizeof *ids);
    if (!ids) return -1;
    b->id = ids;
    c->port_cap = cap;
  }
  memset(b->id[b->n_port], 0, IM_PORT_ID_LEN);
  strcpy(b->id[b->n_port], id);
  c->slot[i] = b->n_port + 1;
  return (long)b->n_port++;
}

static const char *const cols[3] = {"portfolio", "instrument", "quantity"};

/* Ids end up in terminals, JSON and HTML: printable UTF-8 only. */
static const char *id_problem(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    if (*p < 0x20 || *p == 0x7f) return "contains a control character";
    size_t n = *p < 0x80            ? 1
               : (*p & 0xe0) == 0xc0 ? 2
               : (*p & 0xf0) == 0xe0 ? 3
               : (*p & 0xf8) == 0xf0 ? 4
                                     : 0;
    if (n == 0 || (n == 2 && *p < 0xc2) || (n == 4 && *p > 0xf4)) return "is not valid UTF-8";
    for (size_t k = 1; k < n; k++)
      if ((p[k] & 0xc0) != 0x80) return "is not valid UTF-8";
    if ((n == 3 && *p == 0xe0 && p[1] < 0xa0) || (n == 3 && *p == 0xed && p[1] > 0x9f) ||
        (n == 4 && *p == 0xf0 && p[1] < 0x90) || (n == 4 && *p == 0xf4 && p[1] > 0x8f))
      return "is not valid UTF-8";
    p += n;
  }
  return NULL;
}

static im_status grow(book_ctx *c, size_t line, im_err *err) {
  size_t cap = c->cap ? 2 * c->cap : 256;
  uint32_t *p = realloc(c->port, cap * sizeof *p);
  if (p) c->port = p;
  uint32_t *i = realloc(c->instr, cap * sizeof *i);
  if (i) c->instr = i;
  double *q = realloc(c->qty, cap * sizeof *q);
  if (q) c->qty = q;
  if (!p || !i || !q) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
  c->cap = cap;
  return IM_OK;
}

static im_status book_row(void *vctx, char **f, size_t n, size_t line, im_err *err) {
  book_ctx *c = vctx;
  im_book *b = c->b;
  if (c->ncols == 0) {
    for (int k = 0; k < 3; k++) {
      c->col[k] = -1;
      for (size_t i = 0; i < n; i++)
        if (strcmp(f[i], cols[k]) == 0) {
          if (c->col[k] >= 0)
            return im_err_set(err, IM_EDATA, "%s:%zu: header names column '%s' twice", c->path,
                              line, cols[k]);
          c->col[k] = (long)i;
        }
      if (c->col[k] < 0)
        return im_err_set(err, IM_EDATA,
                          "%s:%zu: header has no '%s' column (expected portfolio,instrument,quantity)",
                          c->path, line, cols[k]);
    }
    c->ncols = n;
    return IM_OK;
  }
  if (n == 1 && f[0][0] == '\0') return IM_OK;
  if (n != c->ncols)
    return im_err_set(err, IM_EDATA, "%s:%zu: %zu fields, the header has %zu", c->path, line, n,
                      c->ncols);
  const char *id = f[c->col[0]], *iname = f[c->col[1]], *qs = f[c->col[2]];
  if (id[0] == '\0') return im_err_set(err, IM_EDATA, "%s:%zu: empty portfolio id", c->path, line);
  if (strlen(id) >= IM_PORT_ID_LEN)
    return im_err_set(err, IM_EDATA, "%s:%zu: portfolio id longer than %d characters", c->path,
                      line, IM_PORT_ID_LEN - 1);
  const char *why = id_problem(id);
  if (why) return im_err_set(err, IM_EDATA, "%s:%zu: portfolio id %s", c->path, line, why);
  double q;
  if (!im_parse_double(qs, &q))
    return im_err_set(err, IM_EDATA, "%s:%zu: quantity '%.40s' is not a finite number", c->path,
                      line, qs);
  if (fabs(q) > IM_MAX_VALUE)
    return im_err_set(err, IM_EDATA, "%s:%zu: quantity %g is out of range (-%g .. %g)", c->path,
                      line, q, IM_MAX_VALUE, IM_MAX_VALUE);
  im_instrument in;
  im_err ierr;
  if (im_instrument_parse(c->mkt, iname, &in, &ierr))
    return im_err_set(err, IM_EDATA, "%s:%zu: %s", c->path, line, ierr.msg);

  long pl = port_index(c, id);
  if (pl < 0) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
  size_t pi = (size_t)pl, ii = 0;
  while (ii < b->n_instr && !(b->instr[ii].und == in.und && b->instr[ii].kind == in.kind &&
                             b->instr[ii].tenor == in.tenor && b->instr[ii].money == in.money))
    ii++;
  if (ii == b->n_instr) {
    if (b->n_instr == c->instr_cap) {
      size_t cap = c->instr_cap ? 2 * c->instr_cap : 16;
      im_instrument *v = realloc(b->instr, cap * sizeof *v);
      if (!v) return im_err_set(err, IM_ENOMEM, "%s:%zu: out of memory", c->path, line);
      b->instr = v;
      c->instr_cap = cap;
    }
    b->instr[b->n_instr++] = in;
  }
  if (c->n == c->cap) {
    im_status st = grow(c, line, err);
    if (st) return st;
  }
  c->port[c->n] = (uint32_t)pi;
  c->instr[c->n] = (uint32_t)ii;
  c->qty[c->n] = q;
  c->n++;
  return IM_OK;
}

im_status im_book_read_csv(const char *path, const im_market *mkt, im_book *out, im_err *err) {
  memset(out, 0, sizeof *out);
  book_ctx c = {.path = path, .mkt = mkt, .b = out};
  im_status st = im_csv_read(path, book_row, &c, err);
  if (!st && c.ncols == 0) st = im_err_set(err, IM_EDATA, "%s: empty file (no header)", path);
  if (!st && c.n == 0) st = im_err_set(err, IM_EDATA, "%s: no positions after the header", path);
  if (!st) {
    /* Group positions by portfolio, keeping file order within each. */
    out->pos_start = calloc(out->n_port + 1, sizeof *out->pos_start);
    out->pos_instr = malloc(c.n * sizeof *out->pos_instr);
    out->pos_qty = malloc(c.n * sizeof *out->pos_qty);
    if (!out->pos_start || !out->pos_instr || !out->pos_qty) {
      st = im_err_set(err, IM_ENOMEM, "%s: out of memory", path);
    } else {
      for (size_t k = 0; k < c.n; k++) out->pos_start[c.port[k] + 1]++;
      for (size_t p = 0; p < out->n_port; p++) out->pos_start[p + 1] += out->pos_start[p];
      size_t *fill = calloc(out->n_port, sizeof *fill);
      if (!fill) {
        st = im_err_set(err, IM_ENOMEM, "%s: out of memory", path);
      } else {
        for (size_t k = 0; k < c.n; k++) {
          size_t at = out->pos_start[c.port[k]] + fill[c.port[k]]++;
          out->pos_instr[at] = c.instr[k];
          out->pos_qty[at] = c.qty[k];
        }
        free(fill);
      }
    }
  }
  free(c.slot);
  free(c.port);
  free(c.instr);
  free(c.qty);
  if (st) im_book_clear(out);
  return st;
}

void im_book_clear(im_book *b) {
  free(b->instr);
  free(b->id);
  free(b->pos_start);
  free(b->pos_instr);
  free(b->pos_qty);
  memset(b, 0, sizeof *b);
}
