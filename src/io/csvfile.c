#include "csvfile.h"

#include <csv.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  const char *path;
  im_csv_row_fn fn;
  void *ctx;
  im_err *err;
  im_status st;
  size_t line;
  char **fields;
  size_t n, cap;
} reader;

static void on_field(void *s, size_t len, void *data) {
  reader *r = data;
  if (r->st) return;
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 16;
    char **f = realloc(r->fields, cap * sizeof *f);
    if (!f) {
      r->st = im_err_set(r->err, IM_ENOMEM, "%s:%zu: out of memory", r->path, r->line);
      return;
    }
    r->fields = f;
    r->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) {
    r->st = im_err_set(r->err, IM_ENOMEM, "%s:%zu: out of memory", r->path, r->line);
    return;
  }
  if (len) memcpy(copy, s, len);
  copy[len] = '\0';
  if (strlen(copy) != len) {
    free(copy);
    r->st = im_err_set(r->err, IM_EDATA, "%s:%zu: a field contains a NUL byte", r->path, r->line);
    return;
  }
  r->fields[r->n++] = copy;
}

static void clear_fields(reader *r) {
  for (size_t i = 0; i < r->n; i++) free(r->fields[i]);
  r->n = 0;
}

static void on_row(int term, void *data) {
  (void)term;
  reader *r = data;
  if (!r->st) r->st = r->fn(r->ctx, r->fields, r->n, r->line, r->err);
  clear_fields(r);
}

void im_path_looked_for(const char *path, char *buf, size_t len) {
  char cwd[2048];
  buf[0] = '\0';
  if (path[0] != '/' && getcwd(cwd, sizeof cwd)) snprintf(buf, len, " (looked for %s/%s)", cwd, path);
}

im_status im_csv_read(const char *path, im_csv_row_fn fn, void *ctx, im_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    const int e = errno;
    char where[4200];
    im_path_looked_for(path, where, sizeof where);
    return im_err_set(err, IM_EIO, "%s: cannot open: %s%s", path, strerror(e), where);
  }
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
    fclose(f);
    return im_err_set(err, IM_ENOMEM, "%s: cannot initialise the CSV parser", path);
  }
  reader r = {.path = path, .fn = fn, .ctx = ctx, .err = err};
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  /* Feeding libcsv one physical line at a time gives every record its line. */
  while (!r.st && (len = getline(&buf, &cap, f)) > 0) {
    r.line++;
    const char *s = buf;
    if (r.line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
      s += 3;
      len -= 3;
    }
    if (csv_parse(&p, s, (size_t)len, on_field, on_row, &r) != (size_t)len && !r.st)
      r.st = im_err_set(err, IM_EDATA, "%s:%zu: malformed CSV: %s", path, r.line,
                        csv_strerror(csv_error(&p)));
  }
  if (!r.st && ferror(f)) r.st = im_err_set(err, IM_EIO, "%s: read error: %s", path, strerror(errno));
  if (!r.st && csv_fini(&p, on_field, on_row, &r) != 0 && !r.st)
    r.st = im_err_set(err, IM_EDATA, "%s:%zu: malformed CSV at end of file: %s", path, r.line,
                      csv_strerror(csv_error(&p)));
  clear_fields(&r);
  free(r.fields);
  free(buf);
  csv_free(&p);
  fclose(f);
  return r.st;
}

int im_parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  while (*s == ' ') s++;
  /* strtod also takes hexadecimal ("0x10" = 16): not a decimal number. */
  if (*s == '\0' || strpbrk(s, "xX")) return 0;
  double v = strtod(s, &end);
  while (*end == ' ') end++;
  if (*end != '\0' || errno == ERANGE || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

int im_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  while (*s == ' ') s++;
  if (*s == '\0') return 0;
  long v = strtol(s, &end, 10);
  while (*end == ' ') end++;
  if (*end != '\0' || errno == ERANGE || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}
