#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static im_status flatten(yaml_document_t *doc, yaml_node_t *node, const char *prefix,
                         const char *path, int depth, kvlist *l, im_err *err) {
  char where[IM_PATH_LEN + 300];
  snprintf(where, sizeof where, "%s:%zu", path, (size_t)node->start_mark.line + 1);
  if (depth > 8) return im_err_set(err, IM_EINVAL, "%s: '%s' is nested too deeply", where, prefix);
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
  m->kind = IM_MODEL_HS;
  m->measure = IM_MEASURE_VAR;
  m->confidence = 0.99;
  m->horizon = 2;
  m->window = 500;
  m->lambda = 0.94; /* RiskMetrics daily decay */
  m->nu = 4;
  m->grid_range = 0.16; /* Paradex/Deribit core range */
  m->grid_steps = 4;
  m->grid_extended = 1;
  m->paths = 10000;
  /* The default stressed period: May to December 2022 (Terra/Luna, Three
   * Arrows, FTX), the crypto market's worst stretch in the shipped history. */
  m->stress_start = im_days_from_civil(2022, 5, 1);
  m->stress_end = im_days_from_civil(2022, 12, 31);
  m->liq_k = IM_LIQ_K;
  m->liq_threshold = IM_LIQ_THRESHOLD;
  m->conc_share = IM_CONC_SHARE;
  return m;
}

/* The parameters only some kinds take, in param_where order; -1 otherwise. */
#define N_KIND_PARAMS 11
static const char *const kind_params[N_KIND_PARAMS] = {
    "lambda",     "nu",         "range",     "steps",        "extended",  "paths",
    "apc_buffer", "apc_stress", "apc_floor", "stress_start", "stress_end"};

static int kind_param(const char *name) {
  for (int i = 0; i < N_KIND_PARAMS; i++)
    if (strcmp(name, kind_params[i]) == 0) return i;
  return -1;
}

/* Whether kind k takes kind parameter i. */
static int kind_takes(im_model_kind k, int i) {
  if (i == 0)
    return k == IM_MODEL_FHS || k == IM_MODEL_EWMA_NORMAL || k == IM_MODEL_EWMA_T || k == IM_MODEL_MC_T;
  if (i == 1) return k == IM_MODEL_EWMA_T || k == IM_MODEL_MC_T;
  if (i == 5) return k == IM_MODEL_MC_T;
  if (i >= 6) return k == IM_MODEL_HS || k == IM_MODEL_FHS;
  return k == IM_MODEL_GRID;
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
    if (k < 0)
      return im_err_set(err, IM_EINVAL,
                        "%s: %s: unknown model kind '%s' (known: hs, fhs, ewma_normal, ewma_t, grid, mc_t)",
                        e->where, e->key, e->val);
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
  } else if ((pi = kind_param(param)) >= 0) {
    if ((st = need_value(e, err))) return st;
    double d = 0;
    if (pi <= 2 && !im_parse_double(e->val, &d))
      return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a number", e->where, e->key, e->val);
    switch (pi) {
      case 0: m->lambda = d; break;
      case 1: m->nu = d; break;
      case 2:
        if (!(d > 0 && d < 1))
          return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not a fraction in (0,1)", e->where,
                            e->key, e->val);
        m->grid_range = d;
        break;
      case 3:
        if ((st = get_long(e, 1, 1000, &v, err))) return st;
        m->grid_steps = (int32_t)v;
        break;
      case 5:
        if ((st = get_long(e, 100, 10000000, &v, err))) return st;
        m->paths = (int32_t)v;
        break;
      case 9:
      case 10:
        if ((st = get_date(e, pi == 9 ? &m->stress_start : &m->stress_end, 0, err))) return st;
        break;
      default: /* the booleans: extended, apc_buffer, apc_stress, apc_floor */
        if (strcmp(e->val, "true") != 0 && strcmp(e->val, "false") != 0)
          return im_err_set(err, IM_EINVAL, "%s: %s: '%s' is not true or false", e->where, e->key,
                            e->val);
        *(pi == 4 ? &m->grid_extended : pi == 6 ? &m->apc_buffer : pi == 7 ? &m->apc_stress
                                                                     : &m->apc_floor) =
            e->val[0] == 't';
    }
    /* Checked against the kind once all keys are read. */
    char *w = c->param_where[m - c->models][pi];
    size_t len = strlen(e->where);
    if (len > sizeof c->param_where[0][0] - 1) len = sizeof c->param_where[0][0] - 1;
    memcpy(w, e->where, len);
    w[len] = '\0';
  } else {
    return im_err_set(err, IM_EINVAL,
                      "%s: unknown key '%s' (a model takes kind, measure, confidence, horizon, "
                      "window, lambda, nu, range, steps, extended, paths, apc_buffer, apc_stress, "
                      "apc_floor, stress_start, stress_end, liquidity, liq_k, liq_threshold, "
                      "concentration, conc_share)",
                      e->where, e->key);
  }
  return IM_OK;
}

static im_status interpret(const kvlist *l, im_config *c, im_err *err) {
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
    } else {
      st = im_err_set(err, IM_EINVAL,
                      "%s: unknown key '%s' (known: market, portfolios, output, seed, smile, funding, ivol_proxy, "
                      "ivol_proxy_scale, start, end, "
                      "tiles.*, models.*)",
                      e->where, k);
    }
  }
  if (st) return st;
  for (size_t i = 0; i < c->n_models; i++) {
    const im_model *m = &c->models[i];
    c->models[i].seed = (uint64_t)c->seed;
    c->models[i].smile = c->smile;
    c->models[i].funding = (int32_t)c->funding;
    c->models[i].ivol_proxy = (int32_t)c->ivol_proxy;
    c->models[i].ivol_scale = c->ivol_proxy_scale;
    for (int j = 0; j < N_KIND_PARAMS; j++)
      if (c->param_where[i][j][0] && !kind_takes(m->kind, j))
        return im_err_set(err, IM_EINVAL, "%s: models.%s.%s: kind %s takes no %s",
                          c->param_where[i][j], m->name, kind_params[j],
                          im_model_kind_name(m->kind), kind_params[j]);
    if (kind_takes(m->kind, 0) && !(m->lambda > 0 && m->lambda < 1))
      return im_err_set(err, IM_EINVAL, "%s: models.%s.lambda: %g is not strictly between 0 and 1",
                        c->param_where[i][0], m->name, m->lambda);
    if ((m->kind == IM_MODEL_EWMA_T || m->kind == IM_MODEL_MC_T) && !(m->nu > 2))
      return im_err_set(err, IM_EINVAL, "%s: models.%s.nu: %g; the t needs nu > 2",
                        c->param_where[i][1], m->name, m->nu);
  }
  if (!have_market) return im_err_set(err, IM_EINVAL, "configuration: 'market' is required");
  if (!have_port) return im_err_set(err, IM_EINVAL, "configuration: 'portfolios' is required");
  if (c->n_models == 0)
    return im_err_set(err, IM_EINVAL, "configuration: 'models' must name at least one model");
  if (c->start_day != INT32_MIN && c->end_day != INT32_MAX && c->start_day > c->end_day)
    return im_err_set(err, IM_EINVAL, "configuration: start is after end");
  return IM_OK;
}

im_status im_config_load(const char *path, char *const *overrides, size_t n, im_config *out,
                         im_err *err) {
  memset(out, 0, sizeof *out);
  im_status st = IM_OK;
  size_t len = 0;
  char *text = slurp(path, &len, err, &st);
  if (!text) return st;
  kvlist l = {0};
  st = parse_yaml(path, text, len, &l, err);
  for (size_t i = 0; i < n && !st; i++) st = apply_override(&l, overrides[i], err);
  if (!st) st = interpret(&l, out, err);
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

void im_config_clear(im_config *c) {
  free(c->text);
  memset(c, 0, sizeof *c);
}
