/* The margin pipeline of one tile: everything a model produces for a block of
 * portfolios times a block of dates, as a list of named layers.
 *
 * A layer is one [portfolio][date] array of results.h5 (/models/<m>/<name>):
 * the core margin, the realised P&L, the exceedance flags, and the layers a
 * model adds on top of its core margin (the anti-procyclicality layer, the
 * add-ons) with the flags of the total margin. The layers and which model has
 * which are described here, in core, once: par/ evaluates tiles with
 * im_tile_eval and io/ writes and reads whatever layers the tile carries, so
 * neither names a layer and a new layer touches neither (see tile.c: a row of
 * the catalog and, if it needs new arithmetic, a step of the pipeline).
 *
 * The margin a model is judged by (im_tile_judged) is the total, core plus
 * every layer marked in_total, with the total's flags, when the model has a
 * layer of role IM_ROLE_TOTAL_FLAGS; otherwise the core margin and its flags.
 * Validation (from results.h5) and calibration (in memory) both read it here. */
#ifndef IM_TILE_H
#define IM_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"
#include "model.h"

typedef enum { IM_ELEM_F64 = 0, IM_ELEM_I8 = 1 } im_elem;

typedef enum {
  IM_ROLE_MARGIN = 0,      /* the core margin (one slab per level) */
  IM_ROLE_PNL = 1,         /* realised P&L over the horizon */
  IM_ROLE_FLAGS = 2,       /* exceedance flags of the core margin (one slab per level) */
  IM_ROLE_LAYER = 3,       /* a margin layer on top of the core (in_total: part of the total) */
  IM_ROLE_TOTAL_FLAGS = 4, /* exceedance flags of the total margin */
} im_layer_role;

typedef struct {
  const char *name;      /* the dataset name under /models/<model>/ */
  im_elem elem;          /* float64 (NaN = not observed) or int8 (-1 = not observed) */
  im_layer_role role;
  int in_total;          /* summed into the total margin */
  const char *units;     /* "USD"; NULL for flags */
  const char *long_name; /* one line saying what the values are */
  int (*present)(const im_model *m); /* whether model m produces it */
} im_layer;

/* Most layers a model can have (the catalog's length). */
#define IM_TILE_MAX_LAYERS 16

/* Every layer known, in file order; *n gets their number. io/ discovers the
 * layers of an existing results file by looking for these names. */
const im_layer *im_layer_catalog(size_t *n);

/* The layers model m produces, in file order, into out[IM_TILE_MAX_LAYERS];
 * returns their number. */
size_t im_tile_layers(const im_model *m, const im_layer **out);

size_t im_elem_size(im_elem e);

typedef struct {
  const im_layer *desc;
  void *data; /* [n_lev][np][nt] (margin and flags) or [np][nt] of desc->elem */
} im_tile_layer;

/* A tile's layers. Buffers are reserved once (im_tile_reserve) for the
 * largest tile and every layer of the models to be evaluated, then reused:
 * evaluation does not allocate. */
typedef struct {
  size_t np, nt, n_lev; /* the shape of the tile last evaluated or bound */
  size_t n_layers;      /* its layers, in file order */
  im_tile_layer layer[IM_TILE_MAX_LAYERS];
  /* private */
  size_t cap, cap_lev;          /* elements per level of each buffer; levels */
  void *buf[IM_TILE_MAX_LAYERS]; /* by catalog index, NULL until reserved */
  double *total;                 /* the judged total margin [np][nt] */
} im_tile;

/* An empty tile for up to cap = np x nt cells and n_lev levels. */
void im_tile_init(im_tile *t, size_t cap, size_t n_lev);
/* Allocates the buffers of these layers not yet allocated. */
im_status im_tile_reserve(im_tile *t, const im_layer *const *layers, size_t n, im_err *err);
void im_tile_free(im_tile *t);

/* Sets the tile's layer list and shape (np x nt <= cap, n_lev <= the
 * reserved levels) over the reserved buffers, for a reader that fills them.
 * IM_EINTERNAL when a layer was not reserved. */
im_status im_tile_bind(im_tile *t, const im_layer *const *layers, size_t n, size_t np, size_t nt,
                       size_t n_lev, im_err *err);

/* The tile's layer of a role (the first one), or NULL. */
const im_tile_layer *im_tile_find(const im_tile *t, im_layer_role role);

/* Evaluates model m (state s, scratch w) on portfolios [p0,p1) x market days
 * [d0,d1): its core margin at n_lev levels lev (lev NULL: n_lev 1 at the
 * model's own level), the P&L and flags, then every layer the model has, read
 * off level 0 (a model with layers is evaluated at its own level only). The
 * tile must have been reserved for m's layers and this shape (else
 * IM_EINTERNAL). */
im_status im_tile_eval(im_tile *t, const im_model *m, const im_model_state *s, im_model_scratch *w,
                       size_t p0, size_t p1, size_t d0, size_t d1, size_t n_lev,
                       const im_level *lev, im_err *err);

/* Whether a tile has a total margin beyond the core. */
int im_tile_has_total(const im_tile *t);

/* Whether model m has no layer beyond the core margin, P&L and flags, so
 * that it can be evaluated at several levels at once (calibration groups). */
int im_tile_core_only(const im_model *m);

/* The margin a tile is judged by at level l and its flags ([np][nt]): with
 * total and a total margin, core + the in_total layers (their sum first,
 * in file order; NaN where any is NaN) and the total's flags; otherwise the
 * core margin and flags of level l. */
void im_tile_judged(im_tile *t, size_t l, int total, const double **margin, const int8_t **flags);

#endif
