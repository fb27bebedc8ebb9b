#include "results_io.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calendar.h"
#include "h5util.h"

/* The datasets of a model's tile layers, in file order. */
typedef struct {
  size_t n;
  const im_layer *desc[IM_TILE_MAX_LAYERS];
  hid_t d[IM_TILE_MAX_LAYERS];
} layer_set;

struct im_results {
  hid_t file;
  char path[4096];
  size_t n_port, n_dates, n_models;
  im_model *models;
  char (*ids)[IM_PORT_ID_LEN];
  layer_set *lay; /* [n_models] */
  hid_t d_done;   /* /checkpoint/done, or -1 */
  uint64_t seed;  /* the run's seed (root attribute) */
};

static hid_t stats_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(im_bt_stats));
#define I64(f) H5Tinsert(t, #f, HOFFSET(im_bt_stats, f), H5T_NATIVE_INT64);
#define F64(f) H5Tinsert(t, #f, HOFFSET(im_bt_stats, f), H5T_NATIVE_DOUBLE);
#define I8(f) H5Tinsert(t, #f, HOFFSET(im_bt_stats, f), H5T_NATIVE_INT8);
  IM_BT_STATS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
  return t;
}

static hid_t summary_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(im_bt_summary));
#define I64(f) H5Tinsert(t, #f, HOFFSET(im_bt_summary, f), H5T_NATIVE_INT64);
#define F64(f) H5Tinsert(t, #f, HOFFSET(im_bt_summary, f), H5T_NATIVE_DOUBLE);
  IM_BT_SUMMARY_FIELDS(I64, F64)
#undef I64
#undef F64
  return t;
}

/* The file types are packed copies: no padding bytes on disk. */
static hid_t packed(hid_t t) {
  hid_t c = H5Tcopy(t);
  H5Tpack(c);
  return c;
}

static hid_t mpio_fapl(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
    H5Pclose(fapl);
    return -1;
  }
  return fapl;
}

static im_results *alloc_handle(size_t n_models) {
  im_results *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->file = -1;
  r->d_done = -1;
  size_t n = n_models ? n_models : 1;
  r->models = calloc(n, sizeof *r->models);
  r->lay = calloc(n, sizeof *r->lay);
  if (!r->models || !r->lay) {
    free(r->models);
    free(r->lay);
    free(r);
    return NULL;
  }
  r->n_models = n_models;
  return r;
}

static void free_handle(im_results *r) {
  if (r->d_done >= 0) H5Dclose(r->d_done);
  for (size_t m = 0; m < r->n_models; m++)
    for (size_t i = 0; i < r->lay[m].n; i++) H5Dclose(r->lay[m].d[i]);
  free(r->models);
  free(r->ids);
  free(r->lay);
  free(r);
}

static hid_t elem_type(im_elem e) { return e == IM_ELEM_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT8; }

static hid_t create_2d(hid_t g, const char *name, hid_t type, size_t np, size_t nt,
                       const void *fill) {
  hsize_t dims[2] = {np, nt};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_fill_value(dcpl, type, fill);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
  hid_t d = H5Dcreate2(g, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  return d;
}

/* The [n_port][n_dates] datasets of a model's layers, filled with "not
 * observed", each with its units and description. */
static herr_t create_layers(hid_t g, const im_model *md, size_t np, size_t nt, layer_set *ls) {
  static const double nan = NAN;
  static const int8_t not_obs = -1;
  ls->n = im_tile_layers(md, ls->desc);
  herr_t e = 0;
  for (size_t i = 0; i < ls->n; i++) {
    const im_layer *l = ls->desc[i];
    ls->d[i] = create_2d(g, l->name, elem_type(l->elem), np, nt,
                         l->elem == IM_ELEM_F64 ? (const void *)&nan : (const void *)&not_obs);
    if (ls->d[i] < 0) {
      ls->n = i; /* the handles to close */
      return -1;
    }
    if (l->units) e |= im_h5_attr_str(ls->d[i], "units", l->units);
    e |= im_h5_attr_str(ls->d[i], "long_name", l->long_name);
  }
  return e < 0 ? -1 : 0;
}

/* The attribute of kind parameter i of m, as its type is written. */
static herr_t write_param_attr(hid_t g, const im_model *m, size_t i) {
  const im_param *p = &im_params[i];
  const double v = im_model_param_get(m, i);
  char date[11];
  switch (p->type) {
    case IM_PARAM_NUMBER: return im_h5_attr_double(g, p->attr, v);
    case IM_PARAM_DATE: im_date_format((int32_t)v, date); return im_h5_attr_str(g, p->attr, date);
    default: return im_h5_attr_int(g, p->attr, (long)v);
  }
}

static herr_t write_model_attrs(hid_t g, const im_model *m) {
  herr_t e = 0;
  e |= im_h5_attr_str(g, "kind", im_model_kind_name(m->kind));
  e |= im_h5_attr_str(g, "measure", im_measure_name(m->measure));
  e |= im_h5_attr_double(g, "confidence", m->confidence);
  e |= im_h5_attr_int(g, "horizon_days", m->horizon);
  e |= im_h5_attr_int(g, "window", m->window);
  for (size_t i = 0; i < IM_N_PARAMS; i++) /* the parameters the kind takes (descriptors) */
    if (im_model_takes(m->kind, i) && (!im_params[i].applies || im_params[i].applies(m)))
      e |= write_param_attr(g, m, i);
  if (m->ivol_proxy) e |= im_h5_attr_double(g, "ivol_proxy_scale", m->ivol_scale);
  if (m->liquidity) {
    e |= im_h5_attr_double(g, "liq_k", m->liq_k);
    e |= im_h5_attr_double(g, "liq_threshold", m->liq_threshold);
  }
  if (m->concentration) e |= im_h5_attr_double(g, "conc_share", m->conc_share);
  e |= im_h5_attr_str(g, "exceedance_rule", "loss > im (strict); -1 = not observed");
  e |= im_h5_attr_str(g, "overlapping", m->horizon > 1 ? "yes: h-day horizons overlap, so "
                                                         "exceedances are serially dependent"
                                                       : "no");
  return e < 0 ? -1 : 0;
}

/* The root attributes, /dates and /portfolios/id (rank 0 writes the small
 * arrays, the others select nothing). */
static herr_t write_root(hid_t file, const im_results_meta *meta, int rank) {
  herr_t e = im_h5_attr_provenance(file, IM_RESULTS_FORMAT, IM_RESULTS_FORMAT_VERSION);
  e |= im_h5_attr_str(file, "config", meta->config_text);
  e |= im_h5_attr_int(file, "ranks", meta->ranks);
  e |= im_h5_attr_int(file, "seed", (long)meta->seed);
  e |= im_h5_attr_str(file, "created", meta->created);
  hsize_t dt[1] = {meta->n_dates}, dp[1] = {meta->n_port};
  hid_t sp_t = H5Screate_simple(1, dt, NULL), sp_p = H5Screate_simple(1, dp, NULL);
  hid_t d_dates = H5Dcreate2(file, "dates", H5T_NATIVE_INT32, sp_t, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
  hid_t gp = H5Gcreate2(file, "portfolios", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t tid = im_h5_str_type(IM_PORT_ID_LEN);
  hid_t d_ids = gp < 0 ? -1 : H5Dcreate2(gp, "id", tid, sp_p, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d_dates >= 0 && d_ids >= 0) {
    if (rank != 0) {
      H5Sselect_none(sp_t);
      H5Sselect_none(sp_p);
    }
    e |= H5Dwrite(d_dates, H5T_NATIVE_INT32, sp_t, sp_t, H5P_DEFAULT, meta->dates);
    e |= H5Dwrite(d_ids, tid, sp_p, sp_p, H5P_DEFAULT, meta->ids);
  } else {
    e = -1;
  }
  if (d_dates >= 0) H5Dclose(d_dates);
  if (d_ids >= 0) H5Dclose(d_ids);
  if (gp >= 0) H5Gclose(gp);
  if (tid >= 0) H5Tclose(tid);
  H5Sclose(sp_t);
  H5Sclose(sp_p);
  return e < 0 ? -1 : 0;
}

/* /models/<name> for every model (in creation order): attributes and layers. */
static herr_t create_models(im_results *r, const im_results_meta *meta) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  hid_t gm = H5Gcreate2(r->file, "models", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  herr_t e = gm < 0 ? -1 : 0;
  for (size_t m = 0; m < meta->n_models && gm >= 0; m++) {
    hid_t g = H5Gcreate2(gm, meta->models[m].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || write_model_attrs(g, &meta->models[m]) < 0 ||
        create_layers(g, &meta->models[m], meta->n_port, meta->n_dates, &r->lay[m]) < 0)
      e = -1;
    if (g >= 0) H5Gclose(g);
  }
  if (gm >= 0) H5Gclose(gm);
  H5Pclose(gcpl);
  return e;
}

/* /checkpoint: which tiles are finished (written after each tile's data),
 * the tiling and the inputs' hash. */
static herr_t create_checkpoint(im_results *r, const im_results_meta *meta) {
  hid_t gc = H5Gcreate2(r->file, "checkpoint", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (gc < 0) return -1;
  hsize_t dn[1] = {meta->n_tiles ? meta->n_tiles : 1};
  hid_t sp = H5Screate_simple(1, dn, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const uint8_t zero = 0;
  H5Pset_fill_value(dcpl, H5T_NATIVE_UINT8, &zero);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
  r->d_done = H5Dcreate2(gc, "done", H5T_NATIVE_UINT8, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  herr_t e = r->d_done < 0 ? -1 : 0;
  e |= im_h5_attr_int(gc, "n_tiles", (long)meta->n_tiles);
  e |= im_h5_attr_int(gc, "tile_portfolios", (long)meta->tile_portfolios);
  e |= im_h5_attr_int(gc, "tile_dates", (long)meta->tile_dates);
  char hash[32];
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)meta->inputs_hash);
  e |= im_h5_attr_str(gc, "inputs_hash", hash);
  H5Gclose(gc);
  return e < 0 ? -1 : 0;
}

im_status im_results_create(MPI_Comm comm, const char *path, const im_results_meta *meta,
                            im_results **out, im_err *err) {
  *out = NULL;
  int rank = 0;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
    return im_err_set(err, IM_EMPI, "MPI_Comm_rank failed in im_results_create");
  im_results *r = alloc_handle(meta->n_models);
  if (!r) return im_err_set(err, IM_ENOMEM, "out of memory");
  snprintf(r->path, sizeof r->path, "%s", path);
  r->n_port = meta->n_port;
  r->n_dates = meta->n_dates;
  memcpy(r->models, meta->models, meta->n_models * sizeof *r->models);
  im_status st = IM_OK;
  hid_t fapl = mpio_fapl(comm);
  r->file = fapl < 0 ? -1 : H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (r->file < 0) {
    st = im_err_set(err, IM_EIO, "%s: cannot create the results file (is the directory writable?)",
                    path);
  } else {
    herr_t e = write_root(r->file, meta, rank); /* statements: the same order on every rank */
    e |= create_models(r, meta);
    e |= create_checkpoint(r, meta);
    if (e < 0)
      st = im_err_set(err, IM_EIO, "%s: cannot write the results layout (disk full?)", path);
    /* All metadata on disk now: tiles only write raw data into space
     * allocated above, so a run killed at any point can be resumed. */
    else if (H5Fflush(r->file, H5F_SCOPE_GLOBAL) < 0)
      st = im_err_set(err, IM_EIO, "%s: flush failed (disk full?)", path);
  }
  if (st) {
    if (r->file >= 0) im_h5_fclose(r->file);
    free_handle(r);
    return st;
  }
  *out = r;
  return IM_OK;
}

im_status im_results_resume(MPI_Comm comm, const char *path, const im_results_meta *meta,
                            im_results **out, uint8_t *done, im_err *err) {
  im_results *r = NULL;
  im_status st = im_results_open(comm, path, 1, &r, err);
  if (st) return st;
  char *cfg = malloc(strlen(meta->config_text) + 2);
  char hash[32], want[32];
  long nt = -1, tp = -1, td = -1;
  snprintf(want, sizeof want, "%016llx", (unsigned long long)meta->inputs_hash);
  hid_t gc = H5Lexists(r->file, "checkpoint", H5P_DEFAULT) > 0
                 ? H5Gopen2(r->file, "checkpoint", H5P_DEFAULT)
                 : -1;
  if (!cfg) {
    st = im_err_set(err, IM_ENOMEM, "out of memory");
  } else if (gc < 0 || im_h5_attr_read_int(gc, "n_tiles", &nt) < 0 ||
             im_h5_attr_read_int(gc, "tile_portfolios", &tp) < 0 ||
             im_h5_attr_read_int(gc, "tile_dates", &td) < 0 ||
             im_h5_attr_read_str(gc, "inputs_hash", hash, sizeof hash) < 0) {
    st = im_err_set(err, IM_EDATA, "%s: no checkpoint to resume from", path);
  } else if (im_h5_attr_read_str(r->file, "config", cfg, strlen(meta->config_text) + 2) < 0 ||
             strcmp(cfg, meta->config_text) != 0) {
    st = im_err_set(err, IM_EINVAL,
                    "%s: the configuration differs from the interrupted run's; resume with the "
                    "same configuration and --set options, or start afresh without --resume",
                    path);
  } else if (strcmp(hash, want) != 0) {
    st = im_err_set(err, IM_EINVAL,
                    "%s: the market or portfolio data differ from the interrupted run's", path);
  } else if ((size_t)nt != meta->n_tiles || (size_t)tp != meta->tile_portfolios ||
             (size_t)td != meta->tile_dates || r->n_port != meta->n_port ||
             r->n_dates != meta->n_dates || r->n_models != meta->n_models) {
    st = im_err_set(err, IM_EINVAL, "%s: the tiling or shapes differ from the interrupted run's",
                    path);
  } else if ((r->d_done = H5Dopen2(gc, "done", H5P_DEFAULT)) < 0 ||
             H5Dread(r->d_done, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) < 0) {
    st = im_err_set(err, IM_EDATA, "%s: cannot read /checkpoint/done", path);
  }
  if (gc >= 0) H5Gclose(gc);
  free(cfg);
  if (st) {
    im_results_close(r, NULL);
    return st;
  }
  *out = r;
  return IM_OK;
}

im_status im_results_read_tiling(const char *path, size_t *tile_portfolios, size_t *tile_dates,
                                 im_err *err) {
  hid_t f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
  long tp = -1, td = -1;
  hid_t gc = f >= 0 && H5Lexists(f, "checkpoint", H5P_DEFAULT) > 0
                 ? H5Gopen2(f, "checkpoint", H5P_DEFAULT)
                 : -1;
  int ok = gc >= 0 && im_h5_attr_read_int(gc, "tile_portfolios", &tp) >= 0 &&
           im_h5_attr_read_int(gc, "tile_dates", &td) >= 0 && tp > 0 && td > 0;
  if (gc >= 0) H5Gclose(gc);
  if (f >= 0) H5Fclose(f);
  if (!ok) return im_err_set(err, IM_EDATA, "%s: not a checkpoint of an interrupted backtest", path);
  *tile_portfolios = (size_t)tp;
  *tile_dates = (size_t)td;
  return IM_OK;
}

im_status im_results_mark_done(im_results *r, size_t tile, im_err *err) {
  hsize_t start[1] = {tile}, count[1] = {1};
  const uint8_t one = 1;
  hid_t fs = H5Dget_space(r->d_done), ms = H5Screate_simple(1, count, NULL);
  herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  if (e >= 0) e = H5Dwrite(r->d_done, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, &one);
  H5Sclose(ms);
  H5Sclose(fs);
  if (e < 0) return im_err_set(err, IM_EIO, "%s: recording tile %zu failed", r->path, tile);
  return IM_OK;
}

/* A double attribute into *v when the group has it (v kept otherwise). */
static herr_t read_double_if(hid_t g, const char *name, double *v) {
  if (H5Aexists(g, name) <= 0) return 0;
  hid_t a = H5Aopen(g, name, H5P_DEFAULT);
  if (a < 0) return -1;
  herr_t e = H5Aread(a, H5T_NATIVE_DOUBLE, v);
  H5Aclose(a);
  return e;
}

/* Kind parameter i of m from its attribute, when the group has it (the
 * counterpart of write_param_attr). */
static herr_t read_param_attr(hid_t g, im_model *m, size_t i) {
  const im_param *p = &im_params[i];
  if (H5Aexists(g, p->attr) <= 0) return 0;
  double v = NAN;
  char date[16];
  int32_t days;
  if (p->type == IM_PARAM_DATE) {
    if (im_h5_attr_read_str(g, p->attr, date, sizeof date) < 0 || !im_date_parse(date, &days)) return -1;
    v = days;
  } else if (read_double_if(g, p->attr, &v) < 0) {
    return -1;
  }
  im_model_param_set(m, i, v);
  return 0;
}

static herr_t read_model_attrs(hid_t g, const char *name, im_model *m) {
  char kind[32], measure[16];
  long h, w;
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "%s", name);
  if (im_h5_attr_read_str(g, "kind", kind, sizeof kind) < 0 ||
      im_h5_attr_read_str(g, "measure", measure, sizeof measure) < 0 ||
      im_h5_attr_read_int(g, "horizon_days", &h) < 0 || im_h5_attr_read_int(g, "window", &w) < 0)
    return -1;
  m->confidence = NAN;
  const int k = im_model_kind_parse(kind);
  if (read_double_if(g, "confidence", &m->confidence) < 0 || k < 0 ||
      !(m->confidence > 0 && m->confidence < 1))
    return -1;
  m->kind = (im_model_kind)k;
  m->lambda = m->nu = NAN;
  herr_t e = 0;
  for (size_t i = 0; i < IM_N_PARAMS; i++) e |= read_param_attr(g, m, i);
  /* The add-ons' parameters are written only for a model that has them. */
  m->liquidity = H5Aexists(g, "liq_k") > 0;
  m->concentration = H5Aexists(g, "conc_share") > 0;
  m->ivol_proxy = H5Aexists(g, "ivol_proxy_scale") > 0;
  e |= read_double_if(g, "liq_k", &m->liq_k);
  e |= read_double_if(g, "liq_threshold", &m->liq_threshold);
  e |= read_double_if(g, "conc_share", &m->conc_share);
  e |= read_double_if(g, "ivol_proxy_scale", &m->ivol_scale);
  m->measure = strcmp(measure, "es") == 0 ? IM_MEASURE_ES : IM_MEASURE_VAR;
  m->horizon = (int32_t)h;
  m->window = (int32_t)w;
  return e < 0 ? -1 : 0;
}

/* Opens a [n_port][n_dates] dataset; -1 if missing or of another shape. */
static hid_t open_pt(hid_t g, const char *name, const im_results *r) {
  hsize_t d[2];
  hid_t id = im_h5_open_checked(g, name, 2, d);
  if (id >= 0 && (d[0] != r->n_port || d[1] != r->n_dates)) {
    H5Dclose(id);
    return -1;
  }
  return id;
}

static const im_layer *find_role(const layer_set *ls, im_layer_role role, hid_t *d) {
  for (size_t i = 0; i < ls->n; i++)
    if (ls->desc[i]->role == role) {
      if (d) *d = ls->d[i];
      return ls->desc[i];
    }
  return NULL;
}

/* Opens the layers of the catalog a model group holds. The core margin, the
 * P&L and the flags must be there, and the total's flags with any layer
 * that is part of the total. */
static herr_t open_layers(hid_t g, const im_results *r, layer_set *ls) {
  size_t n_cat, in_total = 0;
  const im_layer *cat = im_layer_catalog(&n_cat);
  for (size_t k = 0; k < n_cat; k++) {
    if (H5Lexists(g, cat[k].name, H5P_DEFAULT) <= 0) continue;
    hid_t d = open_pt(g, cat[k].name, r);
    if (d < 0) return -1;
    ls->desc[ls->n] = &cat[k];
    ls->d[ls->n++] = d;
    in_total += cat[k].in_total != 0;
  }
  const im_layer_role need[3] = {IM_ROLE_MARGIN, IM_ROLE_PNL, IM_ROLE_FLAGS};
  for (int i = 0; i < 3; i++)
    if (!find_role(ls, need[i], NULL)) return -1;
  return in_total && !find_role(ls, IM_ROLE_TOTAL_FLAGS, NULL) ? -1 : 0;
}

static im_status check_format(hid_t f, const char *path, im_err *err) {
  char fmt[64] = "";
  long ver = 0;
  if (im_h5_attr_read_str(f, "format", fmt, sizeof fmt) < 0 || strcmp(fmt, IM_RESULTS_FORMAT) ||
      im_h5_attr_read_int(f, "format_version", &ver) < 0 || ver != IM_RESULTS_FORMAT_VERSION)
    return im_err_set(err, IM_EDATA,
                      "%s: not an imvar results file of this version (format '%s' version %ld; "
                      "expected '%s' version %d)",
                      path, fmt, ver, IM_RESULTS_FORMAT, IM_RESULTS_FORMAT_VERSION);
  return IM_OK;
}

/* The models of /models (gm), in creation order: parameters and layers. */
static im_status open_models(im_results *r, hid_t gm, im_err *err) {
  for (size_t m = 0; m < r->n_models; m++) {
    char name[IM_NAME_LEN + 1] = "";
    ssize_t len = H5Lget_name_by_idx(gm, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, m, name,
                                     sizeof name, H5P_DEFAULT);
    hid_t g = len > 0 && len < IM_NAME_LEN ? H5Gopen2(gm, name, H5P_DEFAULT) : -1;
    const int ok = g >= 0 && read_model_attrs(g, name, &r->models[m]) >= 0 &&
                   open_layers(g, r, &r->lay[m]) >= 0;
    if (g >= 0) H5Gclose(g);
    if (!ok)
      return im_err_set(err, IM_EDATA, "%s: /models/%s is incomplete or mis-shaped", r->path, name);
  }
  return IM_OK;
}

static im_status open_file(MPI_Comm comm, const char *path, int writable, im_results **out,
                           im_err *err) {
  *out = NULL;
  hid_t fapl = mpio_fapl(comm);
  hid_t f = H5Fis_hdf5(path) > 0 && fapl >= 0
                ? H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl)
                : -1;
  if (fapl >= 0) H5Pclose(fapl);
  if (f < 0) return im_err_set(err, IM_EIO, "%s: cannot open as an HDF5 file%s", path,
                               writable ? " for writing" : "");
  im_status st = check_format(f, path, err);
  if (st) {
    H5Fclose(f);
    return st;
  }
  hsize_t dt[1], dp[1];
  hid_t dd = im_h5_open_checked(f, "dates", 1, dt);
  hid_t di = im_h5_open_checked(f, "portfolios/id", 1, dp);
  hid_t gm = H5Lexists(f, "models", H5P_DEFAULT) > 0 ? H5Gopen2(f, "models", H5P_DEFAULT) : -1;
  H5G_info_t info;
  im_results *r = NULL;
  if (dd < 0 || di < 0 || gm < 0 || H5Gget_info(gm, &info) < 0 || info.nlinks == 0) {
    st = im_err_set(err, IM_EDATA, "%s: /dates, /portfolios/id or /models missing", path);
    goto done;
  }
  if (dt[0] > 3000000) { /* more days than 1970-01-01 .. 9999-12-31: a damaged file */
    st = im_err_set(err, IM_EDATA, "%s: /dates has %llu entries, more than any calendar", path,
                    (unsigned long long)dt[0]);
    goto done;
  }
  r = alloc_handle(info.nlinks);
  if (!r) {
    st = im_err_set(err, IM_ENOMEM, "out of memory");
    goto done;
  }
  r->file = f;
  snprintf(r->path, sizeof r->path, "%s", path);
  long seed = 1;
  im_h5_attr_read_int(f, "seed", &seed);
  r->seed = (uint64_t)seed;
  r->n_dates = dt[0];
  r->n_port = dp[0];
  r->ids = calloc(r->n_port ? r->n_port : 1, sizeof *r->ids);
  hid_t tid = im_h5_str_type(IM_PORT_ID_LEN);
  if (!r->ids || H5Dread(di, tid, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->ids) < 0)
    st = im_err_set(err, IM_EDATA, "%s: cannot read /portfolios/id", path);
  H5Tclose(tid);
  if (!st) st = open_models(r, gm, err);
done:
  if (dd >= 0) H5Dclose(dd);
  if (di >= 0) H5Dclose(di);
  if (gm >= 0) H5Gclose(gm);
  if (st) {
    if (r) free_handle(r);
    H5Fclose(f);
    return st;
  }
  *out = r;
  return IM_OK;
}

im_status im_results_open(MPI_Comm comm, const char *path, int writable, im_results **out,
                          im_err *err) {
  *out = NULL;
  if (!writable) return open_file(comm, path, 0, out, err);
  /* Parallel HDF5 allocates the whole storage of a dataset opened for writing:
   * a damaged file claiming huge dimensions would fill the disk, and a failed
   * check would still have rewritten it. So check the file read-only first,
   * including that it holds the data its shapes claim (imvar allocates them
   * when it creates the file). */
  im_results *r = NULL;
  im_status st = open_file(comm, path, 0, &r, err);
  if (st) return st;
  double claimed = 0;
  for (size_t m = 0; m < r->n_models; m++)
    for (size_t i = 0; i < r->lay[m].n; i++)
      claimed += (double)r->n_port * (double)r->n_dates * (double)im_elem_size(r->lay[m].desc[i]->elem);
  struct stat sb;
  if (stat(path, &sb) == 0 && (double)sb.st_size < claimed)
    st = im_err_set(err, IM_EDATA, "%s: damaged: its datasets claim %.0f bytes, the file has %lld",
                    path, claimed, (long long)sb.st_size);
  im_results_close(r, NULL);
  if (st) return st;
  return open_file(comm, path, writable, out, err);
}

im_status im_results_close(im_results *r, im_err *err) {
  if (!r) return IM_OK;
  hid_t f = r->file;
  char path[4096];
  snprintf(path, sizeof path, "%s", r->path);
  free_handle(r);
  if (im_h5_fclose(f) < 0) return im_err_set(err, IM_EIO, "%s: close failed (disk full?)", path);
  return IM_OK;
}

size_t im_results_n_port(const im_results *r) { return r->n_port; }
uint64_t im_results_seed(const im_results *r) { return r->seed; }

size_t im_results_n_dates(const im_results *r) { return r->n_dates; }
size_t im_results_n_models(const im_results *r) { return r->n_models; }
const im_model *im_results_model(const im_results *r, size_t m) { return &r->models[m]; }
const char (*im_results_ids(const im_results *r))[IM_PORT_ID_LEN] { return (const char(*)[IM_PORT_ID_LEN])r->ids; }

/* Reads or writes the block [p0,p0+np) x [t0,t0+nt) of a 2-D dataset. */
static herr_t block_io(hid_t d, hid_t type, size_t p0, size_t np, size_t t0, size_t nt, void *buf,
                       int write) {
  hsize_t start[2] = {p0, t0}, count[2] = {np, nt};
  hid_t fs = H5Dget_space(d);
  hid_t ms = H5Screate_simple(2, count, NULL);
  herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  if (e >= 0)
    e = write ? H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf) : H5Dread(d, type, ms, fs, H5P_DEFAULT, buf);
  H5Sclose(ms);
  H5Sclose(fs);
  return e;
}

int im_results_has_total(const im_results *r, size_t m) {
  return find_role(&r->lay[m], IM_ROLE_TOTAL_FLAGS, NULL) != NULL;
}

size_t im_results_layers(const im_results *r, size_t m, const im_layer **out) {
  memcpy(out, r->lay[m].desc, r->lay[m].n * sizeof *out);
  return r->lay[m].n;
}

im_status im_results_write_tile(im_results *r, size_t model, size_t p0, size_t t0,
                                const im_tile *t, im_err *err) {
  const layer_set *ls = &r->lay[model];
  for (size_t i = 0; i < ls->n; i++) { /* every dataset, from the tile's layer */
    size_t k = 0;
    while (k < t->n_layers && t->layer[k].desc != ls->desc[i]) k++;
    if (k == t->n_layers)
      return im_err_set(err, IM_EINTERNAL, "%s: the tile of model %s has no layer %s", r->path,
                        r->models[model].name, ls->desc[i]->name);
    if (block_io(ls->d[i], elem_type(ls->desc[i]->elem), p0, t->np, t0, t->nt, t->layer[k].data, 1) < 0)
      return im_err_set(err, IM_EIO, "%s: writing a tile of model %s failed (disk full?)", r->path,
                        r->models[model].name);
  }
  return IM_OK;
}

im_status im_results_read_tile(im_results *r, size_t model, size_t p0, size_t np, im_tile *t,
                               im_err *err) {
  const layer_set *ls = &r->lay[model];
  im_status st = im_tile_bind(t, ls->desc, ls->n, np, r->n_dates, 1, err);
  for (size_t i = 0; i < ls->n && !st; i++)
    if (block_io(ls->d[i], elem_type(ls->desc[i]->elem), p0, np, 0, r->n_dates, t->layer[i].data,
                 0) < 0)
      st = im_err_set(err, IM_EIO, "%s: reading /models/%s/%s failed", r->path,
                      r->models[model].name, ls->desc[i]->name);
  return st;
}

/* Reads rows [p0, p0+np) x all dates of the layer of a role into buf. */
static im_status read_role(im_results *r, size_t model, im_layer_role role, size_t p0, size_t np,
                           void *buf, im_err *err) {
  hid_t d = -1;
  const im_layer *l = find_role(&r->lay[model], role, &d);
  if (block_io(d, elem_type(l->elem), p0, np, 0, r->n_dates, buf, 0) < 0)
    return im_err_set(err, IM_EIO, "%s: reading /models/%s/%s failed", r->path,
                      r->models[model].name, l->name);
  return IM_OK;
}

im_status im_results_read_exceed(im_results *r, size_t model, size_t p0, size_t np,
                                 int8_t *exceed, im_err *err) {
  return read_role(r, model, IM_ROLE_FLAGS, p0, np, exceed, err);
}

im_status im_results_read_rows(im_results *r, size_t model, size_t p0, size_t np, double *im,
                               double *pnl, im_err *err) {
  im_status st = read_role(r, model, IM_ROLE_MARGIN, p0, np, im, err);
  return st ? st : read_role(r, model, IM_ROLE_PNL, p0, np, pnl, err);
}

static hid_t model_group(im_results *r, size_t m) {
  char p[IM_NAME_LEN + 16];
  snprintf(p, sizeof p, "models/%s", r->models[m].name);
  return H5Gopen2(r->file, p, H5P_DEFAULT);
}

/* Tiles of /checkpoint/done not yet computed (0 when the file has none). */
static long tiles_missing(hid_t file, long *total) {
  *total = 0;
  if (H5Lexists(file, "checkpoint", H5P_DEFAULT) <= 0 ||
      H5Lexists(file, "checkpoint/done", H5P_DEFAULT) <= 0)
    return 0;
  hsize_t n[1];
  hid_t d = im_h5_open_checked(file, "checkpoint/done", 1, n);
  uint8_t *done = d >= 0 ? malloc(n[0] ? n[0] : 1) : NULL;
  long missing = -1;
  if (done && H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) >= 0) {
    missing = 0;
    for (hsize_t i = 0; i < n[0]; i++) missing += done[i] != 1;
    *total = (long)n[0];
  }
  free(done);
  if (d >= 0) H5Dclose(d);
  return missing;
}

/* /models/<m>/validation, summary (and _total with a total margin), and
 * validation_subsamples (h > 1), replacing earlier ones. fs, fsum: the
 * packed file types of the rows. */
static herr_t create_validation(im_results *r, size_t m, hid_t fs, hid_t fsum) {
  hid_t g = model_group(r, m);
  if (g < 0) return -1;
  herr_t e = 0;
  const char *names[] = {"validation", "validation_subsamples", "summary", "validation_total",
                         "summary_total"};
  for (int i = 0; i < 5; i++)
    if (H5Lexists(g, names[i], H5P_DEFAULT) > 0) e |= H5Ldelete(g, names[i], H5P_DEFAULT);
  const hsize_t h = (hsize_t)r->models[m].horizon;
  hsize_t dp[1] = {r->n_port}, d1[1] = {1}, dsub[2] = {r->n_port, h};
  hid_t sp = H5Screate_simple(1, dp, NULL), s1 = H5Screate_simple(1, d1, NULL);
  hid_t dv = H5Dcreate2(g, "validation", fs, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t ds = H5Dcreate2(g, "summary", fsum, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (im_results_has_total(r, m)) { /* the same battery on the total margin: margin adequacy */
    hid_t a = H5Dcreate2(g, "validation_total", fs, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t b = H5Dcreate2(g, "summary_total", fsum, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || b < 0) e = -1;
    if (a >= 0) H5Dclose(a);
    if (b >= 0) H5Dclose(b);
  }
  if (dv < 0 || ds < 0) e = -1;
  if (h > 1) { /* the h non-overlapping sub-samples of each portfolio */
    hid_t s2 = H5Screate_simple(2, dsub, NULL);
    hid_t dsb = H5Dcreate2(g, "validation_subsamples", fs, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (dsb < 0) e = -1;
    else {
      e |= im_h5_attr_str(dsb, "rows", "[portfolio][k]: the battery on days k, k+h, k+2h, ... "
                                       "(non-overlapping h-day horizons)");
      H5Dclose(dsb);
    }
    H5Sclose(s2);
  }
  if (dv >= 0) {
    e |= im_h5_attr_str(dv, "tests", "see README.md, 'Backtest statistics'; tl_zone and "
                                     "basel_zone: 0 green, 1 yellow, 2 red, -1 not applicable");
    H5Dclose(dv);
  }
  if (ds >= 0) {
    e |= im_h5_attr_double(ds, "test_level", 0.05);
    H5Dclose(ds);
  }
  H5Sclose(sp);
  H5Sclose(s1);
  H5Gclose(g);
  return e < 0 ? -1 : 0;
}

im_status im_results_begin_validation(im_results *r, im_err *err) {
  /* An interrupted run's checkpoint holds tiles never computed (read as not
   * observed): validating it would make it look like a finished file. */
  long total, missing = tiles_missing(r->file, &total);
  if (missing < 0) return im_err_set(err, IM_EDATA, "%s: cannot read /checkpoint/done", r->path);
  if (missing > 0)
    return im_err_set(err, IM_EDATA,
                      "%s: an interrupted backtest (%ld of %ld tiles not computed); finish it with "
                      "'imvar backtest ... --resume' first",
                      r->path, missing, total);
  hid_t ts = stats_type(), tsum = summary_type();
  hid_t fs = packed(ts), fsum = packed(tsum);
  herr_t e = 0;
  for (size_t m = 0; m < r->n_models && e >= 0; m++) e = create_validation(r, m, fs, fsum);
  H5Tclose(ts);
  H5Tclose(tsum);
  H5Tclose(fs);
  H5Tclose(fsum);
  if (e < 0) return im_err_set(err, IM_EIO, "%s: cannot create the validation datasets", r->path);
  return IM_OK;
}

static herr_t rows_io(im_results *r, size_t m, const char *name, hid_t type, size_t p0, size_t np,
                      void *buf, int write) {
  hid_t g = model_group(r, m);
  if (g < 0) return -1;
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
  herr_t e = -1;
  if (d >= 0 && !write) { /* a table of another layout would leave fields unset */
    hid_t ft = H5Dget_type(d);
    for (int i = 0, n = H5Tget_nmembers(type); i < n && ft >= 0; i++) {
      char *field = H5Tget_member_name(type, (unsigned)i);
      if (!field || H5Tget_member_index(ft, field) < 0) {
        H5Dclose(d);
        d = -1;
      }
      H5free_memory(field);
      if (d < 0) break;
    }
    if (ft >= 0) H5Tclose(ft);
  }
  if (d >= 0) {
    hsize_t start[1] = {p0}, count[1] = {np};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, count, NULL);
    e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (e >= 0)
      e = write ? H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf) : H5Dread(d, type, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
  }
  H5Gclose(g);
  return e;
}

im_status im_results_write_validation(im_results *r, size_t model, int total, size_t p0, size_t np,
                                      const im_bt_stats *rows, im_err *err) {
  if (np == 0) return IM_OK;
  hid_t t = stats_type();
  herr_t e = rows_io(r, model, total ? "validation_total" : "validation", t, p0, np, (void *)rows, 1);
  H5Tclose(t);
  if (e < 0) return im_err_set(err, IM_EIO, "%s: writing validation rows failed", r->path);
  return IM_OK;
}

im_status im_results_write_subsamples(im_results *r, size_t model, size_t p0, size_t np,
                                      const im_bt_stats *rows, im_err *err) {
  const hsize_t h = (hsize_t)r->models[model].horizon;
  if (np == 0 || h <= 1) return IM_OK;
  hid_t t = stats_type(), g = model_group(r, model);
  hid_t d = g >= 0 ? H5Dopen2(g, "validation_subsamples", H5P_DEFAULT) : -1;
  herr_t e = -1;
  if (d >= 0) {
    hsize_t start[2] = {p0, 0}, count[2] = {np, h};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(2, count, NULL);
    e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (e >= 0) e = H5Dwrite(d, t, ms, fs, H5P_DEFAULT, rows);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
  }
  if (g >= 0) H5Gclose(g);
  H5Tclose(t);
  if (e < 0) return im_err_set(err, IM_EIO, "%s: writing sub-sample rows failed", r->path);
  return IM_OK;
}

im_status im_results_read_validation(im_results *r, size_t model, im_bt_stats *rows, im_err *err) {
  return im_results_read_validation_of(r, model, 0, rows, err);
}

im_status im_results_read_validation_of(im_results *r, size_t model, int total, im_bt_stats *rows,
                                        im_err *err) {
  hid_t t = stats_type();
  herr_t e = rows_io(r, model, total ? "validation_total" : "validation", t, 0, r->n_port, rows, 0);
  H5Tclose(t);
  if (e < 0)
    return im_err_set(err, IM_EDATA, "%s: /models/%s/validation missing (run 'imvar validate')",
                      r->path, r->models[model].name);
  return IM_OK;
}

im_status im_results_write_summary(im_results *r, size_t model, int total,
                                   const im_bt_summary *s, im_err *err) {
  hid_t t = summary_type();
  herr_t e = rows_io(r, model, total ? "summary_total" : "summary", t, 0, 1, (void *)s, 1);
  H5Tclose(t);
  if (e < 0) return im_err_set(err, IM_EIO, "%s: writing the summary failed", r->path);
  return IM_OK;
}
