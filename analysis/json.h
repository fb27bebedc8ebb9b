/* The one JSON writer of imvar: validate --json, stats --json and the
 * report's summary.json all go through it, so numbers (%.17g, NaN and
 * infinities as null) and strings (escaped) are written one way.
 *
 * Items are separated by ", "; an_json_ws sets the whitespace written before
 * the next item (after its comma) or the next closing bracket instead, which
 * is how the outputs keep their line layout. */
#ifndef AN_JSON_H
#define AN_JSON_H

#include <stdint.h>
#include <stdio.h>

#define AN_JSON_DEPTH 16

typedef struct {
  FILE *f;
  int depth;
  int after_key;
  const char *ws;
  char close[AN_JSON_DEPTH];          /* '}' or ']' per open container */
  unsigned char has_item[AN_JSON_DEPTH];
} an_json;

void an_json_init(an_json *j, FILE *f);
void an_json_ws(an_json *j, const char *ws);

void an_json_key(an_json *j, const char *key);
void an_json_obj(an_json *j);
void an_json_arr(an_json *j);
void an_json_end(an_json *j); /* closes the innermost object or array */

void an_json_str(an_json *j, const char *s); /* NULL: null */
void an_json_num(an_json *j, double v);      /* not finite: null */
void an_json_int(an_json *j, int64_t v);
void an_json_bool(an_json *j, int v);
void an_json_null(an_json *j);

/* A member: key then value. */
void an_json_kstr(an_json *j, const char *key, const char *s);
void an_json_knum(an_json *j, const char *key, double v);
void an_json_kint(an_json *j, const char *key, int64_t v);
void an_json_kbool(an_json *j, const char *key, int v);

#endif
