#include "json.h"

#include <inttypes.h>
#include <math.h>

void an_json_init(an_json *j, FILE *f) {
  *j = (an_json){.f = f};
}

void an_json_ws(an_json *j, const char *ws) { j->ws = ws; }

/* Comma and whitespace before a value or key, unless it follows its key. */
static void item(an_json *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->depth > 0 && j->has_item[j->depth]) {
    fputc(',', j->f);
    fputs(j->ws ? j->ws : " ", j->f);
  } else if (j->ws) {
    fputs(j->ws, j->f);
  }
  j->ws = NULL;
  j->has_item[j->depth] = 1;
}

static void raw_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    const unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

void an_json_key(an_json *j, const char *key) {
  item(j);
  raw_str(j->f, key);
  fputs(": ", j->f);
  j->after_key = 1;
}

static void open_container(an_json *j, char o, char c) {
  item(j);
  fputc(o, j->f);
  if (j->depth + 1 < AN_JSON_DEPTH) j->depth++;
  j->close[j->depth] = c;
  j->has_item[j->depth] = 0;
}

void an_json_obj(an_json *j) { open_container(j, '{', '}'); }
void an_json_arr(an_json *j) { open_container(j, '[', ']'); }

void an_json_end(an_json *j) {
  if (j->ws) fputs(j->ws, j->f);
  j->ws = NULL;
  fputc(j->close[j->depth], j->f);
  if (j->depth > 0) j->depth--;
}

void an_json_str(an_json *j, const char *s) {
  item(j);
  if (s)
    raw_str(j->f, s);
  else
    fputs("null", j->f);
}

/* %.17g round-trips a double; JSON has no NaN or infinity. */
void an_json_num(an_json *j, double v) {
  item(j);
  if (isfinite(v))
    fprintf(j->f, "%.17g", v);
  else
    fputs("null", j->f);
}

void an_json_int(an_json *j, int64_t v) {
  item(j);
  fprintf(j->f, "%" PRId64, v);
}

void an_json_bool(an_json *j, int v) {
  item(j);
  fputs(v ? "true" : "false", j->f);
}

void an_json_null(an_json *j) {
  item(j);
  fputs("null", j->f);
}

void an_json_kstr(an_json *j, const char *key, const char *s) {
  an_json_key(j, key);
  an_json_str(j, s);
}

void an_json_knum(an_json *j, const char *key, double v) {
  an_json_key(j, key);
  an_json_num(j, v);
}

void an_json_kint(an_json *j, const char *key, int64_t v) {
  an_json_key(j, key);
  an_json_int(j, v);
}

void an_json_kbool(an_json *j, const char *key, int v) {
  an_json_key(j, key);
  an_json_bool(j, v);
}
