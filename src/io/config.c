#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "calendar.h"
#include "csvfile.h"

/* The YAML tree is flattened to dotted keys with their origin, the overrides
 * are applied to that list, and only then is it interpreted: so a value set on
 * the command line is checked exactly like one in the file. */
typedef struct {
  char key[256];
  char *val; /* NULL for a mapping (or a YAML null) */
  int is_map;
  char where[IM_PATH_LEN + 300];
} kv;

typedef struct {
  kv *v;
  size_t n, cap;
} kvlist;

/* Far above any real configuration (64 models of a dozen keys); YAML aliases
 * of mappings could otherwise expand a few lines into millions of keys. */
#define MAX_KEYS 4096

static im_status kv_add(kvlist *l, const char *key, const char *val, int is_map, const char *where,
                        im_err *err) {
  if (l->n == MAX_KEYS)
    return im_err_set(err, IM_EINVAL, "%s: more than %d keys (aliases expanding?)", where, MAX_KEYS);
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].key, key) == 0)
      return im_err_set(err, IM_EINVAL, "%s: duplicate key '%s' (first at %s)", where, key,
                        l->v[i].where);
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    kv *v = realloc(l->v, cap * sizeof *v);
    if (!v) return im_err_set(err, IM_ENOMEM, "out of memory reading the configuration");
    l->v = v;
    l->cap = cap;
  }
  kv *e = &l->v[l->n];
  memset(e, 0, sizeof *e);
  snprintf(e->key, sizeof e->key, "%s", key);
  snprintf(e->where, sizeof e->where, "%s", where);
  e->is_map = is_map;
  if (val && !(e->val = strdup(val))) return im_err_set(err, IM_ENOMEM, "out of memory");
  l->n++;
  return IM_OK;
}

static void kv_free(kvlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].val);
  free(l->v);
}

static int is_yaml_null(const yaml_node_t *n) {
  const char *s = (const char *)n->data.scalar.value;
  return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
          strcmp(s, "NULL") == 0);
}

/* The values a calibration grid takes for one parameter: a list of scalars,
 * kept as one comma-separated value (the form --set gives it). */
static im_status flatten_list(yaml_document_t *doc, yaml_node_t *node, const char *prefix,
                              const char *where, kvlist *l, im_err *err) {
  char val[4096] = "";
  size_t at = 0;
  for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top;
       it++) {
    yaml_node_t *v = yaml_document_get_node(doc, *it);
    if (v->type != YAML_SCALAR_NODE || strchr((const char *)v->data.scalar.value, ','))
      return im_err_set(err, IM_EINVAL, "%s: '%s': a list of single values without ',' is expected",
                        where, prefix);
    const int n = snprintf(val + at, sizeof val - at, "%s%s", at ? "," : "",
                           (const char *)v->data.scalar.value);
    if (n < 0 || (size_t)n >= sizeof val - at)
      return im_err_set(err, IM_EINVAL, "%s: '%s': the list is too long", where, prefix);
    at += (size_t)n;
  }
  if (!at) return im_err_set(err, IM_EINVAL, "%s: '%s': the list is empty", where, prefix);
  return kv_add(l, prefix, val, 0, where, err);
}

static im_status flatten(yaml_document_t *doc, yaml_node_t *node, const char *prefix,
                         const char *path, int depth, kvlist *l, im_err *err) {
  char where[IM_PATH_LEN + 300];
  snprintf(where, sizeof where, "%s:%zu", path, (size_t)node->start_mark.line + 1);
  if (depth > 8) return im_err_set(err, IM_EINVAL, "%s: '%s' is nested too deeply", where, prefix);
  if (node->type == YAML_SEQUENCE_NODE && strncmp(prefix, "calibrate.grid.", 15) == 0)
    return flatten_list(doc, node, prefix, where, l, err);
  if (node->type == YAML_SEQUENCE_NODE)
    return im_err_set(err, IM_EINVAL, "%s: '%s' is a list; a single value or a mapping is expected",
                      where, prefix);
  if (node->type == YAML_SCALAR_NODE)
    return kv_add(l, prefix, is_yaml_null(node) ? NULL : (const char *)node->data.scalar.value, 0,
                  where, err);
  if (prefix[0]) {
    im_status st = kv_add(l, prefix, NULL, 1, where, err);
    if (st) return st;
  }
  for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    snprintf(where, sizeof where, "%s:%zu", path, (size_t)k->start_mark.line + 1);
    if (k->type != YAML_SCALAR_NODE)
      return im_err_set(err, IM_EINVAL, "%s: a key must be a plain name", where);
    const char *ks = (const char *)k->data.scalar.value;
    if (ks[0] == '\0' || strchr(ks, '.') || strchr(ks, '='))
      return im_err_set(err, IM_EINVAL, "%s: key '%s' must be non-empty without '.' or '='", where,
                        ks);
    char key[256];
    if ((size_t)snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", ks) >= sizeof key)
      return im_err_set(err, IM_EINVAL, "%s: key too long", where);
    im_status st = flatten(doc, v, key, path, depth + 1, l, err);
    if (st) return st;
  }
  return IM_OK;
}

static char *slurp(const char *path, size_t *len, im_err *err, im_status *st) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *st = im_err_set(err, IM_EIO, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (cap - n - 1 == 0) {
      char *b = realloc(buf, cap * 2);
      if (!b) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = b;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) {
    *st = im_err_set(err, IM_ENOMEM, "%s: out of memory", path);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* libyaml takes time quadratic in the nesting depth (100,000 nested '[' of a
 * 200 KB file: 23 s), so the event stream is checked for depth first, which
 * stops as soon as it is exceeded. Syntax errors are left to the loader. */
static im_status check_depth(const char *path, const char *text, size_t len, im_err *err) {
  yaml_parser_t p;
  yaml_event_t ev;
  if (!yaml_parser_initialize(&p)) return im_err_set(err, IM_ENOMEM, "out of memory");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  im_status st = IM_OK;
  int depth = 0;
  while (!st && yaml_parser_parse(&p, &ev)) {
    const yaml_event_type_t t = ev.type;
    if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) && ++depth > 32)
      st = im_err_set(err, IM_EINVAL, "%s:%zu: YAML nested more than 32 levels deep", path,
                      (size_t)ev.start_mark.line + 1);
    if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) depth--;
    yaml_event_delete(&ev);
    if (t == YAML_STREAM_END_EVENT) break;
  }
  yaml_parser_delete(&p);
  return st;
}

static im_status parse_yaml(const char *path, const char *text, size_t len, kvlist *l,
                            im_err *err) {
  yaml_parser_t parser;
  yaml_document_t doc;
  im_status dst = check_depth(path, text, len, err);
  if (dst) return dst;
  if (!yaml_parser_initialize(&parser)) return im_err_set(err, IM_ENOMEM, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  im_status st = IM_OK;
  if (!yaml_parser_load(&parser, &doc)) {
    st = im_err_set(err, IM_EINVAL, "%s:%zu: YAML error: %s%s%s", path,
                    (size_t)parser.problem_mark.line + 1, parser.problem ? parser.problem : "?",
                    parser.context ? " " : "", parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    return st;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root || root->type != YAML_MAPPING_NODE)
    st = im_err_set(err, IM_EINVAL, "%s: the configuration must be a YAML mapping of keys", path);
  else
    st = flatten(&doc, root, "", path, 0, l, err);
  yaml_document_delete(&doc);
  /* A second document ("---") would be silently ignored: refuse it. */
  if (!st) {
    if (!yaml_parser_load(&parser, &doc))
      st = im_err_set(err, IM_EINVAL, "%s:%zu: YAML error: %s", path,
                      (size_t)parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
    else if ((root = yaml_document_get_root_node(&doc)) &&
             !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
      st = im_err_set(err, IM_EINVAL, "%s:%zu: a second YAML document; the configuration is one",
                      path, (size_t)doc.start_mark.line + 1);
      yaml_document_delete(&doc);
    } else
      yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  return st;
}

static im_status apply_override(kvlist *l, const char *ov, im_err *err) {
  char where[512];
  snprintf(where, sizeof where, "--set %.400s", ov);
  const char *eq = strchr(ov, '=');
  if (!eq || eq == ov)
    return im_err_set(err, IM_EINVAL, "%s: expected key=value", where);
  char key[256];
  size_t klen = (size_t)(eq - ov);
  if (klen >= sizeof key) return im_err_set(err, IM_EINVAL, "%s: key too long", where);
  memcpy(key, ov, klen);
  key[klen] = '\0';
  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->v[i].key, key) != 0) continue;
    if (l->v[i].is_map)
      return im_err_set(err, IM_EINVAL, "%s: '%s' is a mapping, not a scalar", where, key);
    free(l->v[i].val);
    l->v[i].val = strdup(eq + 1);
    snprintf(l->v[i].where, sizeof l->v[i].where, "%s", where);
    return l->v[i].val ? IM_OK : im_err_set(err, IM_ENOMEM, "out of memory");
  }
  /* A new key: its parent mappings come into being, so that, e.g.,
   * --set models.hs995.confidence=0.995 adds a model. */
  for (char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
    *dot = '\0';
    int found = 0;
    for (size_t i = 0; i < l->n && !found; i++)
      if (strcmp(l->v[i].key, key) == 0) {
        if (!l->v[i].is_map)
          return im_err_set(err, IM_EINVAL, "%s: '%s' is a scalar, not a mapping", where, key);
        found = 1;
      }
    if (!found) {
      im_status st = kv_add(l, key, NULL, 1, where, err);
      if (st) return st;
    }
    *dot = '.';
  }
  return kv_add(l, key, eq + 1, 0, where, err);
}

static im_status need_value(const kv *e, im_err *err) {
  if (!e->val || e->is_map)
    return im_err_set(err, IM_EINVAL, "%s: '%s' needs a value", e->where, e->key);
  return IM_OK;
}

static im_status get_path(const kv *e, char *out, im_err *err) {
  im_status st = need_value(e, err);
  if (st) return st;
  if (strlen(e->val) >= IM_PATH_LEN)
    return im_err_set(err, IM_EINVAL, "%s: '%s': path too long", e->where, e->key);
  strcpy(out, e->val);
  return IM_OK;
}

static im_status get_date(const kv *e, int32_t *out, int32_t open, im_err *err) {
  if (!e->val) {
    *out = open;
    return IM_OK;
  }
  if (e->is_map || !im_date_parse(e->val, out) || strlen(e->val) != 10)
    return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a date (YYYY-MM-DD)", e->where, e->key,
                      e->val ? e->val : "");
  return IM_OK;
}

static im_status get_long(const kv *e, long lo, long hi, long *out, im_err *err) {
  im_status st = need_value(e, err);
  if (st) return st;
  if (!im_parse_long(e->val, lo, hi, out))
    return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a whole number in [%ld, %ld]", e->where,
                      e->key, e->val, lo, hi);
  return IM_OK;
}

static im_model *find_model(im_config *c, const char *name, const kv *e, im_err *err,
                            im_status *st) {
  for (size_t i = 0; i < c->n_models; i++)
    if (strcmp(c->models[i].name, name) == 0) return &c->models[i];
  size_t len = strlen(name);
  if (len == 0 || len >= IM_NAME_LEN || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len) {
    *st = im_err_set(err, IM_EINVAL,
                     "%s: model name '%s' must be 1 to %d letters, digits, '_' or '-'", e->where,
                     name, IM_NAME_LEN - 1);
    return NULL;
  }
  if (c->n_models == IM_MAX_MODELS) {
    *st = im_err_set(err, IM_EINVAL, "%s: more than %d models", e->where, IM_MAX_MODELS);
    return NULL;
  }
  im_model *m = &c->models[c->n_models++];
  memset(m, 0, sizeof *m);
  strcpy(m->name, name);
  m->kind = (im_model_kind)0; /* the first kind of the table: hs */
  m->measure = IM_MEASURE_VAR;
  m->confidence = 0.99;
  m->horizon = 2;
  m->window = 500;
  im_model_param_defaults(m);
  m->liq_k = IM_LIQ_K;
  m->liq_threshold = IM_LIQ_THRESHOLD;
  m->conc_share = IM_CONC_SHARE;
  return m;
}

/* The keys every model takes besides the kind parameters. */
static const char *const common_keys[] = {"kind",      "measure", "confidence",    "horizon",
                                          "window",    "liquidity", "liq_k",       "liq_threshold",
                                          "concentration", "conc_share"};
#define N_COMMON_KEYS (sizeof common_keys / sizeof *common_keys)

/* Whether key is a model key; writes the list of them into keys (for messages). */
static int is_model_key(const char *key, char *keys, size_t len) {
  int found = 0;
  size_t n = 0;
  keys[0] = '\0';
  for (size_t i = 0; i < N_COMMON_KEYS + IM_N_PARAMS && n < len; i++) {
    const char *k = i < N_COMMON_KEYS ? common_keys[i] : im_params[i - N_COMMON_KEYS].key;
    found |= strcmp(key, k) == 0;
    n += (size_t)snprintf(keys + n, len - n, "%s%s", i ? ", " : "", k);
  }
  return found;
}

/* A kind parameter's value (im_params[pi]) as its type reads it; ranges of
 * numbers are checked against the kind in check_model, once all keys are read. */
static im_status kind_param_value(const kv *e, int pi, im_model *m, im_err *err) {
  const im_param *p = &im_params[pi];
  im_status st = need_value(e, err);
  double d = 0;
  long v;
  int32_t day;
  if (st) return st;
  switch (p->type) {
    case IM_PARAM_NUMBER:
      if (!im_parse_double(e->val, &d))
        return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a number", e->where, e->key, e->val);
      break;
    case IM_PARAM_COUNT:
      if ((st = get_long(e, (long)p->lo, (long)p->hi, &v, err))) return st;
      d = (double)v;
      break;
    case IM_PARAM_DATE:
      if ((st = get_date(e, &day, 0, err))) return st;
      d = day;
      break;
    case IM_PARAM_FLAG:
      if (strcmp(e->val, "true") != 0 && strcmp(e->val, "false") != 0)
        return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not true or false", e->where, e->key,
                          e->val);
      d = e->val[0] == 't';
  }
  im_model_param_set(m, (size_t)pi, d);
  return IM_OK;
}

static im_status model_key(im_config *c, const kv *e, const char *rest, im_err *err) {
  char name[256];
  const char *dot = strchr(rest, '.');
  size_t n = dot ? (size_t)(dot - rest) : strlen(rest);
  if (n >= sizeof name) n = sizeof name - 1;
  memcpy(name, rest, n);
  name[n] = '\0';
  im_status st = IM_OK;
  im_model *m = find_model(c, name, e, err, &st);
  if (!m) return st;
  if (!dot) {
    if (!e->is_map)
      return im_err_set(err, IM_EINVAL, "%s: %s: a model must be a mapping of parameters",
                        e->where, e->key);
    return IM_OK;
  }
  const char *param = dot + 1;
  long v;
  int pi;
  if (strcmp(param, "kind") == 0) {
    if ((st = need_value(e, err))) return st;
    int k = im_model_kind_parse(e->val);
    char known[256];
    im_model_kind_list(known, sizeof known);
    if (k < 0)
      return im_err_set(err, IM_EINVAL, "%s: %s: unknown model kind '%s' (known: %s)", e->where,
                        e->key, e->val, known);
    m->kind = (im_model_kind)k;
  } else if (strcmp(param, "measure") == 0) {
    if ((st = need_value(e, err))) return st;
    if (strcmp(e->val, "var") == 0)
      m->measure = IM_MEASURE_VAR;
    else if (strcmp(e->val, "es") == 0)
      m->measure = IM_MEASURE_ES;
    else
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not var or es", e->where, e->key, e->val);
  } else if (strcmp(param, "confidence") == 0) {
    if ((st = need_value(e, err))) return st;
    double d;
    if (!im_parse_double(e->val, &d) || !(d > 0 && d < 1))
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a number strictly between 0 and 1",
                        e->where, e->key, e->val);
    m->confidence = d;
  } else if (strcmp(param, "horizon") == 0) {
    if ((st = get_long(e, 1, 365, &v, err))) return st;
    m->horizon = (int32_t)v;
  } else if (strcmp(param, "window") == 0) {
    if ((st = get_long(e, 1, 100000, &v, err))) return st;
    m->window = (int32_t)v;
  } else if (strcmp(param, "liquidity") == 0 || strcmp(param, "concentration") == 0) {
    if ((st = need_value(e, err))) return st;
    if (strcmp(e->val, "true") != 0 && strcmp(e->val, "false") != 0)
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not true or false", e->where, e->key, e->val);
    *(param[0] == 'l' ? &m->liquidity : &m->concentration) = e->val[0] == 't';
  } else if (strcmp(param, "liq_k") == 0 || strcmp(param, "liq_threshold") == 0 ||
             strcmp(param, "conc_share") == 0) {
    if ((st = need_value(e, err))) return st;
    double d;
    const int share = param[0] == 'c';
    if (!im_parse_double(e->val, &d) || !(share ? d > 0 && d <= 1 : d >= 0 && d <= 100))
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a number in %s", e->where, e->key,
                        e->val, share ? "(0, 1]" : "[0, 100]");
    *(share ? &m->conc_share : strcmp(param, "liq_k") == 0 ? &m->liq_k : &m->liq_threshold) = d;
  } else if ((pi = im_model_param_find(param)) >= 0) {
    if ((st = kind_param_value(e, pi, m, err))) return st;
    /* Checked against the kind once all keys are read. */
    char *w = c->param_where[m - c->models][pi];
    size_t len = strlen(e->where);
    if (len > sizeof c->param_where[0][0] - 1) len = sizeof c->param_where[0][0] - 1;
    memcpy(w, e->where, len);
    w[len] = '\0';
  } else {
    char keys[512];
    is_model_key(param, keys, sizeof keys);
    return im_err_set(err, IM_EINVAL, "%s: unknown key '%s' (a model takes %s)", e->where, e->key,
                      keys);
  }
  return IM_OK;
}

/* The checks of model i that need all its keys read; fills the run-wide fields. */
static im_status check_model(im_config *c, size_t i, im_err *err) {
  im_model *m = &c->models[i];
  m->seed = (uint64_t)c->seed;
  m->smile = c->smile;
  m->funding = (int32_t)c->funding;
  m->ivol_proxy = (int32_t)c->ivol_proxy;
  m->ivol_scale = c->ivol_proxy_scale;
  for (size_t j = 0; j < IM_N_PARAMS; j++) {
    const char *key = im_params[j].key, *where = c->param_where[i][j];
    if (where[0] && !im_model_takes(m->kind, j))
      return im_err_set(err, IM_EINVAL, "%s: models.%s.%s: kind %s takes no %s", where, m->name,
                        key, im_model_kind_name(m->kind), key);
    const double v = im_model_param_get(m, j);
    if (im_model_takes(m->kind, j) && !im_model_param_valid(j, v))
      return im_err_set(err, IM_EINVAL, "%s: models.%s.%s: %g; %s", where, m->name, key, v,
                        im_params[j].rule);
  }
  return IM_OK;
}

/* ---- imvar calibrate: the calibrate section ------------------------------ */

static im_status get_fraction(const kv *e, double lo, double hi, double *out, im_err *err) {
  im_status st = need_value(e, err);
  if (st) return st;
  if (!im_parse_double(e->val, out) || !(*out >= lo && *out <= hi))
    return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a number in [%g, %g]", e->where, e->key,
                      e->val, lo, hi);
  return IM_OK;
}

static int valid_name(const char *s) {
  size_t len = strlen(s);
  return len > 0 && len < IM_NAME_LEN &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

/* The test period named name (the calibration period is periods[0]). */
static im_period *find_period(im_calib *cal, const char *name, const kv *e, im_err *err,
                              im_status *st) {
  for (size_t i = 1; i < cal->n_periods; i++)
    if (strcmp(cal->periods[i].name, name) == 0) return &cal->periods[i];
  if (!valid_name(name) || strcmp(name, "calibration") == 0) {
    *st = im_err_set(err, IM_EINVAL, "%s: %s: a test period's name must be 1 to %d letters, "
                     "digits, '_' or '-' (and not 'calibration')", e->where, e->key, IM_NAME_LEN - 1);
    return NULL;
  }
  if (cal->n_periods == IM_MAX_PERIODS) {
    *st = im_err_set(err, IM_EINVAL, "%s: more than %d test periods", e->where, IM_MAX_PERIODS - 1);
    return NULL;
  }
  im_period *p = &cal->periods[cal->n_periods++];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->start_day = INT32_MIN;
  p->end_day = INT32_MAX;
  return p;
}

static im_status calib_key(im_calib *cal, const kv *e, im_err *err) {
  const char *k = e->key + strlen("calibrate");
  im_status st = IM_OK;
  if (!k[0] || strcmp(k, ".grid") == 0 || strcmp(k, ".criteria") == 0 ||
      strcmp(k, ".calibration") == 0 || strcmp(k, ".tests") == 0) {
    if (!e->is_map) return im_err_set(err, IM_EINVAL, "%s: '%s' must be a mapping", e->where, e->key);
  } else if (strcmp(k, ".name") == 0) {
    if ((st = need_value(e, err))) return st;
    if (!valid_name(e->val))
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' must be 1 to %d letters, digits, '_' or '-'",
                        e->where, e->key, e->val, IM_NAME_LEN - 1);
    snprintf(cal->name, sizeof cal->name, "%s", e->val);
  } else if (strncmp(k, ".grid.", 6) == 0) {
    return need_value(e, err); /* expanded once every key is read */
  } else if (strcmp(k, ".calibration.start") == 0 || strcmp(k, ".calibration.end") == 0) {
    im_period *p = &cal->periods[0];
    return get_date(e, k[13] == 's' ? &p->start_day : &p->end_day, k[13] == 's' ? INT32_MIN : INT32_MAX,
                    err);
  } else if (strncmp(k, ".tests.", 7) == 0) {
    char name[256];
    const char *dot = strchr(k + 7, '.');
    snprintf(name, sizeof name, "%.*s", dot ? (int)(dot - k - 7) : (int)strlen(k + 7), k + 7);
    im_period *p = find_period(cal, name, e, err, &st);
    if (!p) return st;
    if (!dot) {
      if (!e->is_map)
        return im_err_set(err, IM_EINVAL, "%s: %s: a test period is a mapping of start and end",
                          e->where, e->key);
    } else if (strcmp(dot, ".start") == 0 || strcmp(dot, ".end") == 0) {
      return get_date(e, dot[1] == 's' ? &p->start_day : &p->end_day,
                      dot[1] == 's' ? INT32_MIN : INT32_MAX, err);
    } else {
      return im_err_set(err, IM_EINVAL, "%s: unknown key '%s' (a period takes start and end)",
                        e->where, e->key);
    }
  } else if (strcmp(k, ".criteria.coverage") == 0) {
    if ((st = need_value(e, err))) return st;
    if (strcmp(e->val, "target") == 0) cal->criteria.coverage = NAN;
    else if ((st = get_fraction(e, 0, 1, &cal->criteria.coverage, err))) return st;
  } else if (strcmp(k, ".criteria.zone") == 0) {
    if ((st = need_value(e, err))) return st;
    const char *z[3] = {"green", "yellow", "red"};
    cal->criteria.zone = -1;
    for (int i = 0; i < 3; i++)
      if (strcmp(e->val, z[i]) == 0) cal->criteria.zone = i;
    if (cal->criteria.zone < 0)
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not green, yellow or red", e->where,
                        e->key, e->val);
  } else if (strcmp(k, ".criteria.test_level") == 0) {
    if ((st = get_fraction(e, 1e-9, 0.5, &cal->criteria.test_level, err))) return st;
  } else if (strcmp(k, ".criteria.pass_share") == 0) {
    if ((st = get_fraction(e, 0, 1, &cal->criteria.pass_share, err))) return st;
  } else {
    return im_err_set(err, IM_EINVAL,
                      "%s: unknown key '%s' (calibrate takes name, grid.*, calibration.start/end, "
                      "tests.<name>.start/end, criteria.coverage/zone/test_level/pass_share)",
                      e->where, e->key);
  }
  return IM_OK;
}

/* Adds set m unless an equal one is there already. */
static im_status add_set(im_calib *cal, const im_model *m, const char *where, im_err *err) {
  for (size_t i = 0; i < cal->n_sets; i++)
    if (im_cal_same_params(&cal->sets[i], m, -1)) return IM_OK;
  if (cal->n_sets == IM_MAX_SETS)
    return im_err_set(err, IM_EINVAL, "%s: more than %d parameter sets", where, IM_MAX_SETS);
  if (cal->n_sets % 64 == 0) {
    im_model *s = realloc(cal->sets, (cal->n_sets + 64) * sizeof *s);
    if (!s) return im_err_set(err, IM_ENOMEM, "out of memory for the parameter sets");
    cal->sets = s;
  }
  cal->sets[cal->n_sets++] = *m;
  return IM_OK;
}

/* The parameter sets: the models named under models, then the product of the
 * grid's lists (the last list varying fastest), each built through the same
 * keys models.<name>.<param> a backtest reads and checked the same way; a
 * grid parameter that a set's kind does not take is left out of that set,
 * and sets equal to an earlier one are dropped. */
static im_status calib_finish(const kvlist *l, im_config *c, im_calib *cal, im_err *err) {
  im_status st = IM_OK;
  for (size_t i = 0; i < c->n_models && !st; i++) st = add_set(cal, &c->models[i], "models", err);
  enum { MAX_AXES = 24, MAX_VALUES = 64 };
  const kv *axis[MAX_AXES];
  char vals[MAX_AXES][MAX_VALUES][64];
  size_t n_axes = 0, n_val[MAX_AXES], kind_axis = MAX_AXES;
  double combos = 1;
  for (size_t i = 0; i < l->n && !st; i++) {
    const kv *e = &l->v[i];
    if (strncmp(e->key, "calibrate.grid.", 15) != 0) continue;
    const char *param = e->key + 15;
    char keys[512];
    if (!is_model_key(param, keys, sizeof keys))
      return im_err_set(err, IM_EINVAL, "%s: unknown grid parameter '%s' (a model takes %s)",
                        e->where, param, keys);
    if (n_axes == MAX_AXES) return im_err_set(err, IM_EINVAL, "%s: too many grid parameters", e->where);
    if (strcmp(param, "kind") == 0) kind_axis = n_axes;
    n_val[n_axes] = 0;
    for (const char *v = e->val; *v;) {
      size_t len = strcspn(v, ",");
      if (n_val[n_axes] == MAX_VALUES || len == 0 || len >= 64)
        return im_err_set(err, IM_EINVAL, "%s: %s: '%s': at most %d values of 1 to 63 characters",
                          e->where, e->key, e->val, MAX_VALUES);
      snprintf(vals[n_axes][n_val[n_axes]++], 64, "%.*s", (int)len, v);
      v += len + (v[len] == ',');
    }
    combos *= (double)n_val[n_axes];
    axis[n_axes++] = e;
  }
  if (combos > IM_MAX_SETS)
    return im_err_set(err, IM_EINVAL, "calibrate.grid: %.0f combinations, more than %d", combos,
                      IM_MAX_SETS);
  im_config *tmp = n_axes ? malloc(sizeof *tmp) : NULL;
  if (n_axes && !tmp) return im_err_set(err, IM_ENOMEM, "out of memory");
  size_t pos[MAX_AXES] = {0};
  for (size_t n = 0; n_axes && !st && n < (size_t)combos; n++) {
    memset(tmp, 0, sizeof *tmp);
    tmp->seed = c->seed;
    tmp->smile = c->smile;
    tmp->funding = c->funding;
    tmp->ivol_proxy = c->ivol_proxy;
    tmp->ivol_proxy_scale = c->ivol_proxy_scale;
    /* The kind first: whether the other parameters apply depends on it. */
    for (size_t j = 0; j <= n_axes && !st; j++) {
      const size_t a = j == 0 ? kind_axis : j - 1;
      if (a >= n_axes || (j > 0 && a == kind_axis)) continue;
      const char *param = axis[a]->key + 15;
      int pi = im_model_param_find(param);
      if (tmp->n_models && pi >= 0 && !im_model_takes(tmp->models[0].kind, (size_t)pi)) continue;
      kv e = *axis[a];
      e.val = vals[a][pos[a]];
      snprintf(e.key, sizeof e.key, "models.%s.%s", cal->name, param);
      st = model_key(tmp, &e, e.key + 7, err);
    }
    if (!st) st = check_model(tmp, 0, err);
    if (!st) st = add_set(cal, &tmp->models[0], "calibrate.grid", err);
    for (size_t a = n_axes; a-- > 0;) { /* the next combination */
      if (++pos[a] < n_val[a]) break;
      pos[a] = 0;
    }
  }
  free(tmp);
  if (st) return st;
  if (cal->n_sets == 0)
    return im_err_set(err, IM_EINVAL,
                      "configuration: no parameter set: give calibrate.grid lists or models");
  for (size_t i = 0; i < cal->n_periods; i++) {
    im_period *p = &cal->periods[i];
    if (p->start_day == INT32_MIN) p->start_day = c->start_day;
    if (p->end_day == INT32_MAX) p->end_day = c->end_day;
    if (p->start_day != INT32_MIN && p->end_day != INT32_MAX && p->start_day > p->end_day)
      return im_err_set(err, IM_EINVAL, "configuration: calibrate period '%s': start is after end",
                        p->name);
  }
  return IM_OK;
}

static im_status interpret(const kvlist *l, im_config *c, im_calib *cal, im_err *err) {
  c->start_day = INT32_MIN;
  c->end_day = INT32_MAX;
  strcpy(c->output, "results.h5");
  c->seed = 1;
  c->smile = im_smile_deribit;
  c->funding = 1;
  c->ivol_proxy_scale = IM_IVOL_PROXY_SCALE;
  int have_market = 0, have_port = 0;
  im_status st = IM_OK;
  for (size_t i = 0; i < l->n && !st; i++) {
    const kv *e = &l->v[i];
    const char *k = e->key;
    if (strcmp(k, "market") == 0) {
      st = get_path(e, c->market, err);
      have_market = 1;
    } else if (strcmp(k, "portfolios") == 0) {
      st = get_path(e, c->portfolios, err);
      have_port = 1;
    } else if (strcmp(k, "output") == 0) {
      st = get_path(e, c->output, err);
    } else if (strcmp(k, "funding") == 0) {
      if ((st = need_value(e, err))) break;
      if (strcmp(e->val, "true") && strcmp(e->val, "false"))
        st = im_err_set(err, IM_EINVAL, "%s: funding: '%s' is not true or false", e->where, e->val);
      c->funding = e->val[0] == 't';
    } else if (strcmp(k, "ivol_proxy") == 0) {
      if ((st = need_value(e, err))) break;
      if (strcmp(e->val, "none") && strcmp(e->val, "ewma"))
        st = im_err_set(err, IM_EINVAL, "%s: ivol_proxy: '%s' is not none or ewma", e->where, e->val);
      c->ivol_proxy = strcmp(e->val, "ewma") == 0;
    } else if (strcmp(k, "ivol_proxy_scale") == 0) {
      if ((st = need_value(e, err))) break;
      double d;
      if (!im_parse_double(e->val, &d) || !(d > 0 && d < 100))
        st = im_err_set(err, IM_EINVAL, "%s: ivol_proxy_scale: '%s' is not a number in (0, 100)",
                        e->where, e->val);
      else
        c->ivol_proxy_scale = d;
    } else if (strcmp(k, "smile") == 0) {
      if ((st = need_value(e, err))) break;
      if (strcmp(e->val, "deribit") == 0)
        c->smile = im_smile_deribit;
      else if (strcmp(e->val, "flat") == 0)
        c->smile = im_smile_flat;
      else
        st = im_err_set(err, IM_EINVAL, "%s: smile: '%s' is not deribit or flat", e->where, e->val);
    } else if (strcmp(k, "seed") == 0) {
      st = get_long(e, 0, 1L << 62, &c->seed, err);
    } else if (strcmp(k, "start") == 0) {
      st = get_date(e, &c->start_day, INT32_MIN, err);
    } else if (strcmp(k, "end") == 0) {
      st = get_date(e, &c->end_day, INT32_MAX, err);
    } else if (strcmp(k, "tiles") == 0 || strcmp(k, "models") == 0) {
      if (!e->is_map)
        st = im_err_set(err, IM_EINVAL, "%s: '%s' must be a mapping", e->where, k);
    } else if (strcmp(k, "tiles.portfolios") == 0) {
      st = get_long(e, 0, 1L << 30, &c->tile_portfolios, err);
    } else if (strcmp(k, "tiles.dates") == 0) {
      st = get_long(e, 0, 1L << 30, &c->tile_dates, err);
    } else if (strncmp(k, "models.", 7) == 0) {
      st = model_key(c, e, k + 7, err);
    } else if (cal && (strcmp(k, "calibrate") == 0 || strncmp(k, "calibrate.", 10) == 0)) {
      st = calib_key(cal, e, err);
    } else {
      st = im_err_set(err, IM_EINVAL,
                      "%s: unknown key '%s' (known: market, portfolios, output, seed, smile, funding, ivol_proxy, "
                      "ivol_proxy_scale, start, end, tiles.*, models.*%s)",
                      e->where, k, cal ? ", calibrate.*" : "");
    }
  }
  if (st) return st;
  for (size_t i = 0; i < c->n_models && !st; i++) st = check_model(c, i, err);
  if (st) return st;
  if (!have_market) return im_err_set(err, IM_EINVAL, "configuration: 'market' is required");
  if (!have_port) return im_err_set(err, IM_EINVAL, "configuration: 'portfolios' is required");
  if (c->start_day != INT32_MIN && c->end_day != INT32_MAX && c->start_day > c->end_day)
    return im_err_set(err, IM_EINVAL, "configuration: start is after end");
  if (cal) return calib_finish(l, c, cal, err);
  if (c->n_models == 0)
    return im_err_set(err, IM_EINVAL, "configuration: 'models' must name at least one model");
  return IM_OK;
}

static im_status load(const char *path, char *const *overrides, size_t n, im_config *out,
                      im_calib *cal, im_err *err) {
  memset(out, 0, sizeof *out);
  if (cal) {
    memset(cal, 0, sizeof *cal);
    snprintf(cal->name, sizeof cal->name, "im");
    cal->criteria = im_cal_criteria_default();
    /* The calibration period, by default the whole run. */
    cal->n_periods = 1;
    cal->periods[0] = (im_period){"calibration", INT32_MIN, INT32_MAX};
  }
  im_status st = IM_OK;
  size_t len = 0;
  char *text = slurp(path, &len, err, &st);
  if (!text) return st;
  kvlist l = {0};
  st = parse_yaml(path, text, len, &l, err);
  for (size_t i = 0; i < n && !st; i++) st = apply_override(&l, overrides[i], err);
  if (!st) st = interpret(&l, out, cal, err);
  if (!st) {
    /* The effective configuration: the file, then one comment per override. */
    size_t total = len + 1;
    for (size_t i = 0; i < n; i++) total += strlen(overrides[i]) + 16;
    out->text = malloc(total);
    if (!out->text) {
      st = im_err_set(err, IM_ENOMEM, "out of memory");
    } else {
      size_t at = (size_t)snprintf(out->text, total, "%s", text);
      for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(out->text + at, total - at, "%s# --set %s\n",
                               at && out->text[at - 1] != '\n' && i == 0 ? "\n" : "",
                               overrides[i]);
    }
  }
  kv_free(&l);
  free(text);
  if (st) im_config_clear(out);
  return st;
}

im_status im_config_load(const char *path, char *const *overrides, size_t n, im_config *out,
                         im_err *err) {
  return load(path, overrides, n, out, NULL, err);
}

im_status im_calib_load(const char *path, char *const *overrides, size_t n, im_config *cfg,
                        im_calib *cal, im_err *err) {
  im_status st = load(path, overrides, n, cfg, cal, err);
  if (st) im_calib_clear(cal);
  return st;
}

/* The shortest decimal that reads back as v. */
static void num(char *buf, size_t len, double v) {
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

im_status im_config_write_model(const char *path, const im_config *cfg, const im_model *m,
                                const char *comment, im_err *err) {
  char tmp[IM_PATH_LEN + 64], a[32], b[11];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return im_err_set(err, IM_EIO, "%s: cannot write: %s", path, strerror(errno));
  fputs(comment, f);
  fprintf(f, "market: %s\nportfolios: %s\nseed: %ld\nsmile: %s\nfunding: %s\n", cfg->market,
          cfg->portfolios, cfg->seed, cfg->smile.a == 0 && cfg->smile.b == 0 ? "flat" : "deribit",
          cfg->funding ? "true" : "false");
  if (cfg->ivol_proxy) {
    num(a, sizeof a, cfg->ivol_proxy_scale);
    fprintf(f, "ivol_proxy: ewma\nivol_proxy_scale: %s\n", a);
  }
  if (cfg->start_day != INT32_MIN) {
    im_date_format(cfg->start_day, b);
    fprintf(f, "start: %s\n", b);
  }
  if (cfg->end_day != INT32_MAX) {
    im_date_format(cfg->end_day, b);
    fprintf(f, "end: %s\n", b);
  }
  fprintf(f, "models:\n  %s:\n    kind: %s\n    measure: %s\n", m->name, im_model_kind_name(m->kind),
          im_measure_name(m->measure));
  num(a, sizeof a, m->confidence);
  fprintf(f, "    confidence: %s\n    horizon: %d\n    window: %d\n", a, (int)m->horizon,
          (int)m->window);
  for (size_t i = 0; i < IM_N_PARAMS; i++) {
    const im_param *p = &im_params[i];
    if (!im_model_takes(m->kind, i) || (p->applies && !p->applies(m))) continue;
    const double v = im_model_param_get(m, i);
    if (p->type == IM_PARAM_NUMBER)
      num(a, sizeof a, v);
    else if (p->type == IM_PARAM_DATE)
      im_date_format((int32_t)v, a);
    else if (p->type == IM_PARAM_FLAG)
      snprintf(a, sizeof a, "%s", v != 0 ? "true" : "false");
    else
      snprintf(a, sizeof a, "%d", (int)v);
    fprintf(f, "    %s: %s\n", p->key, a);
  }
  if (m->liquidity) {
    char k[32], th[32];
    num(k, sizeof k, m->liq_k);
    num(th, sizeof th, m->liq_threshold);
    fprintf(f, "    liquidity: true\n    liq_k: %s\n    liq_threshold: %s\n", k, th);
  }
  if (m->concentration) {
    num(a, sizeof a, m->conc_share);
    fprintf(f, "    concentration: true\n    conc_share: %s\n", a);
  }
  const int bad = ferror(f);
  if (fclose(f) != 0 || bad) {
    remove(tmp);
    return im_err_set(err, IM_EIO, "%s: write failed (disk full?)", path);
  }
  if (rename(tmp, path) != 0) {
    remove(tmp);
    return im_err_set(err, IM_EIO, "%s: cannot move into place: %s", path, strerror(errno));
  }
  return IM_OK;
}

void im_calib_clear(im_calib *cal) {
  free(cal->sets);
  memset(cal, 0, sizeof *cal);
}

void im_config_clear(im_config *c) {
  free(c->text);
  memset(c, 0, sizeof *c);
}
