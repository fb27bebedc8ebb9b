/* The margin pipeline of one tile (tile.h).
 *
 * A new layer is a row of the catalog below (its dataset name, element type,
 * role, whether it is part of the total margin, units, description and which
 * models have it) and, when it needs arithmetic no step does yet, a step of
 * the pipeline (steps[]). par/ and io/ pick it up from here. */
#include "tile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int always(const im_model *m) {
  (void)m;
  return 1;
}
static int has_liquidity(const im_model *m) { return m->liquidity != 0; }
static int has_concentration(const im_model *m) { return m->concentration != 0; }

/* Catalog indices, in file order. */
enum { L_IM, L_PNL, L_EXCEED, L_APC, L_LIQ, L_CONC, L_EXTOT, L_N };

static const im_layer catalog[L_N] = {
    [L_IM] = {"im", IM_ELEM_F64, IM_ROLE_MARGIN, 0, "USD",
              "core initial margin (max(measure, 0); NaN = not observed)", always},
    [L_PNL] = {"pnl", IM_ELEM_F64, IM_ROLE_PNL, 0, "USD",
               "realised P&L over the horizon (full revaluation; NaN = not observed)", always},
    [L_EXCEED] = {"exceed", IM_ELEM_I8, IM_ROLE_FLAGS, 0, NULL,
                  "1: loss > im (strict), 0: covered, -1: not observed", always},
    [L_APC] = {"apc", IM_ELEM_F64, IM_ROLE_LAYER, 1, "USD",
               "anti-procyclicality layer: APC margin minus the core margin", im_model_has_apc},
    [L_LIQ] = {"addon_liquidity", IM_ELEM_F64, IM_ROLE_LAYER, 1, "USD", "liquidity add-on",
               has_liquidity},
    [L_CONC] = {"addon_concentration", IM_ELEM_F64, IM_ROLE_LAYER, 1, "USD",
                "concentration add-on", has_concentration},
    [L_EXTOT] = {"exceed_total", IM_ELEM_I8, IM_ROLE_TOTAL_FLAGS, 0, NULL,
                 "1: loss > total margin (core + layers, strict), 0: covered, -1: not observed",
                 im_model_has_total},
};

_Static_assert(L_N <= IM_TILE_MAX_LAYERS, "IM_TILE_MAX_LAYERS too small for the catalog");

const im_layer *im_layer_catalog(size_t *n) {
  *n = L_N;
  return catalog;
}

size_t im_tile_layers(const im_model *m, const im_layer **out) {
  size_t n = 0;
  for (size_t i = 0; i < L_N; i++)
    if (catalog[i].present(m)) out[n++] = &catalog[i];
  return n;
}

size_t im_elem_size(im_elem e) { return e == IM_ELEM_F64 ? sizeof(double) : sizeof(int8_t); }

/* Slabs per buffer: the margin and its flags have one per level. */
static size_t levels_of(const im_layer *l, size_t n_lev) {
  return l->role == IM_ROLE_MARGIN || l->role == IM_ROLE_FLAGS ? n_lev : 1;
}

void im_tile_init(im_tile *t, size_t cap, size_t n_lev) {
  memset(t, 0, sizeof *t);
  t->cap = cap ? cap : 1;
  t->cap_lev = n_lev ? n_lev : 1;
}

im_status im_tile_reserve(im_tile *t, const im_layer *const *layers, size_t n, im_err *err) {
  for (size_t i = 0; i < n; i++) {
    const size_t k = (size_t)(layers[i] - catalog);
    if (t->buf[k]) continue;
    t->buf[k] = malloc(t->cap * levels_of(layers[i], t->cap_lev) * im_elem_size(layers[i]->elem));
    if (!t->buf[k]) return im_err_set(err, IM_ENOMEM, "out of memory for the tile's %s", layers[i]->name);
  }
  if (!t->total && !(t->total = malloc(t->cap * sizeof *t->total)))
    return im_err_set(err, IM_ENOMEM, "out of memory for the tile's total margin");
  return IM_OK;
}

void im_tile_free(im_tile *t) {
  for (size_t k = 0; k < L_N; k++) free(t->buf[k]);
  free(t->total);
  memset(t, 0, sizeof *t);
}

im_status im_tile_bind(im_tile *t, const im_layer *const *layers, size_t n, size_t np, size_t nt,
                       size_t n_lev, im_err *err) {
  if (np * nt > t->cap || n_lev > t->cap_lev || n > IM_TILE_MAX_LAYERS)
    return im_err_set(err, IM_EINTERNAL, "tile of %zu x %zu at %zu levels exceeds its buffers", np,
                      nt, n_lev);
  t->np = np;
  t->nt = nt;
  t->n_lev = n_lev;
  t->n_layers = n;
  for (size_t i = 0; i < n; i++) {
    void *b = t->buf[layers[i] - catalog];
    if (!b) return im_err_set(err, IM_EINTERNAL, "tile layer %s not reserved", layers[i]->name);
    t->layer[i] = (im_tile_layer){layers[i], b};
  }
  return IM_OK;
}

const im_tile_layer *im_tile_find(const im_tile *t, im_layer_role role) {
  for (size_t i = 0; i < t->n_layers; i++)
    if (t->layer[i].desc->role == role) return &t->layer[i];
  return NULL;
}

int im_tile_has_total(const im_tile *t) { return im_tile_find(t, IM_ROLE_TOTAL_FLAGS) != NULL; }

int im_tile_core_only(const im_model *m) {
  const im_layer *l[IM_TILE_MAX_LAYERS];
  const size_t n = im_tile_layers(m, l);
  for (size_t i = 0; i < n; i++)
    if (l[i]->role != IM_ROLE_MARGIN && l[i]->role != IM_ROLE_PNL && l[i]->role != IM_ROLE_FLAGS)
      return 0;
  return 1;
}

/* The pipeline. Each step runs for the models it applies to, in order, on
 * the buffers of the catalog (NULL where the model lacks the layer); a step
 * reads what the steps before it wrote. */
typedef struct {
  const im_model *m;
  const im_model_state *s;
  im_model_scratch *w;
  size_t p0, p1, d0, d1, n_lev;
  const im_level *lev;
  void *const *buf; /* by catalog index */
} step_ctx;

static void core_step(const step_ctx *c) {
  if (c->lev)
    im_model_eval_levels(c->s, c->w, c->p0, c->p1, c->d0, c->d1, c->n_lev, c->lev, c->buf[L_IM],
                         c->buf[L_PNL], c->buf[L_EXCEED]);
  else
    im_model_eval_tile(c->s, c->w, c->p0, c->p1, c->d0, c->d1, c->buf[L_IM], c->buf[L_PNL],
                       c->buf[L_EXCEED]);
}

/* The APC layer and the flags of core + APC. */
static void apc_step(const step_ctx *c) {
  im_model_apc_tile(c->s, c->w, c->p0, c->p1, c->d0, c->d1, c->buf[L_IM], c->buf[L_PNL],
                    c->buf[L_APC], c->buf[L_EXTOT]);
}

/* The add-ons on the core, and the flags of the total with the APC layer. */
static void addon_step(const step_ctx *c) {
  im_model_addon_tile(c->s, c->p0, c->p1, c->d0, c->d1, c->buf[L_IM], c->buf[L_PNL], c->buf[L_APC],
                      c->buf[L_LIQ], c->buf[L_CONC], c->buf[L_EXTOT]);
}

static const struct {
  int (*applies)(const im_model *m);
  void (*run)(const step_ctx *c);
} steps[] = {
    {always, core_step},
    {im_model_has_apc, apc_step},
    {im_model_has_addons, addon_step}, /* after the APC layer: the total includes it */
};

im_status im_tile_eval(im_tile *t, const im_model *m, const im_model_state *s, im_model_scratch *w,
                       size_t p0, size_t p1, size_t d0, size_t d1, size_t n_lev,
                       const im_level *lev, im_err *err) {
  const im_layer *mine[IM_TILE_MAX_LAYERS];
  const size_t n = im_tile_layers(m, mine);
  if (!lev) n_lev = 1;
  im_status st = im_tile_bind(t, mine, n, p1 - p0, d1 - d0, n_lev, err);
  if (st) return st;
  void *buf[L_N] = {0}; /* only the model's own layers: the steps test NULL */
  for (size_t i = 0; i < n; i++) buf[mine[i] - catalog] = t->layer[i].data;
  const step_ctx c = {m, s, w, p0, p1, d0, d1, n_lev, lev, buf};
  for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
    if (steps[k].applies(m)) steps[k].run(&c);
  return IM_OK;
}

void im_tile_judged(im_tile *t, size_t l, int total, const double **margin, const int8_t **flags) {
  const size_t n = t->np * t->nt;
  const double *core = (const double *)im_tile_find(t, IM_ROLE_MARGIN)->data + l * n;
  const im_tile_layer *tf = total ? im_tile_find(t, IM_ROLE_TOTAL_FLAGS) : NULL;
  if (!tf) {
    *margin = core;
    *flags = (const int8_t *)im_tile_find(t, IM_ROLE_FLAGS)->data + l * n;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double add = 0;
    for (size_t k = 0; k < t->n_layers; k++)
      if (t->layer[k].desc->in_total) add += ((const double *)t->layer[k].data)[i];
    t->total[i] = core[i] + add;
  }
  *margin = t->total;
  *flags = tf->data;
}
