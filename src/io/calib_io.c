#include "calib_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "h5util.h"

typedef im_calib_set_rec set_rec;
typedef im_calib_period_rec period_rec;
typedef im_calib_sens_rec sens_rec;

static hid_t metrics_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(im_cal_metrics));
#define I64(f) H5Tinsert(t, #f, HOFFSET(im_cal_metrics, f), H5T_NATIVE_INT64);
#define F64(f) H5Tinsert(t, #f, HOFFSET(im_cal_metrics, f), H5T_NATIVE_DOUBLE);
#define I8(f) H5Tinsert(t, #f, HOFFSET(im_cal_metrics, f), H5T_NATIVE_INT8);
  IM_CAL_METRICS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
  return t;
}

static hid_t set_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(set_rec));
  hid_t sn = im_h5_str_type(IM_NAME_LEN), sk = im_h5_str_type(16), sm = im_h5_str_type(4);
  H5Tinsert(t, "name", HOFFSET(set_rec, name), sn);
  H5Tinsert(t, "kind", HOFFSET(set_rec, kind), sk);
  H5Tinsert(t, "measure", HOFFSET(set_rec, measure), sm);
#define D(f) H5Tinsert(t, #f, HOFFSET(set_rec, f), H5T_NATIVE_DOUBLE);
#define I(f) H5Tinsert(t, #f, HOFFSET(set_rec, f), H5T_NATIVE_INT32);
  D(confidence) I(horizon) I(window) D(lambda) D(nu) I(paths) D(range) I(steps) I(extended)
  I(apc_buffer) I(apc_stress) I(apc_floor) I(stress_start) I(stress_end) I(liquidity) D(liq_k)
  D(liq_threshold) I(concentration) D(conc_share)
#undef D
#undef I
  H5Tclose(sn);
  H5Tclose(sk);
  H5Tclose(sm);
  return t;
}

static hid_t period_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(period_rec)), sn = im_h5_str_type(IM_NAME_LEN);
  H5Tinsert(t, "name", HOFFSET(period_rec, name), sn);
  H5Tinsert(t, "start", HOFFSET(period_rec, start), H5T_NATIVE_INT32);
  H5Tinsert(t, "end", HOFFSET(period_rec, end), H5T_NATIVE_INT32);
  H5Tclose(sn);
  return t;
}

static hid_t sens_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sens_rec)), sp = im_h5_str_type(16);
  H5Tinsert(t, "parameter", HOFFSET(sens_rec, parameter), sp);
  H5Tinsert(t, "value", HOFFSET(sens_rec, value), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "set", HOFFSET(sens_rec, set), H5T_NATIVE_INT64);
  H5Tinsert(t, "mean_margin", HOFFSET(sens_rec, mean_margin), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "exceed_rate", HOFFSET(sens_rec, exceed_rate), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "rel_change", HOFFSET(sens_rec, rel_change), H5T_NATIVE_DOUBLE);
  H5Tclose(sp);
  return t;
}

static herr_t write_1d(hid_t f, const char *name, hid_t type, size_t n, const void *buf) {
  hsize_t d[1] = {n};
  hid_t t = H5Tcopy(type);
  herr_t e = t < 0 ? -1 : im_h5_write(f, name, t, 1, d, buf);
  if (t >= 0) H5Tclose(t);
  return e;
}

void im_calib_set_of(const im_model *m, im_calib_set_rec *r) {
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", m->name);
  snprintf(r->kind, sizeof r->kind, "%s", im_model_kind_name(m->kind));
  snprintf(r->measure, sizeof r->measure, "%s", im_measure_name(m->measure));
  r->confidence = m->confidence;
  r->horizon = m->horizon;
  r->window = m->window;
  r->lambda = m->lambda;
  r->nu = m->nu;
  r->paths = m->paths;
  r->range = m->grid_range;
  r->steps = m->grid_steps;
  r->extended = m->grid_extended;
  r->apc_buffer = m->apc_buffer;
  r->apc_stress = m->apc_stress;
  r->apc_floor = m->apc_floor;
  r->stress_start = m->stress_start;
  r->stress_end = m->stress_end;
  r->liquidity = m->liquidity;
  r->liq_k = m->liq_k;
  r->liq_threshold = m->liq_threshold;
  r->concentration = m->concentration;
  r->conc_share = m->conc_share;
}

/* Whether kind (a name) takes the parameter of configuration key. */
static int takes(const char *kind, const char *key) {
  const int k = im_model_kind_parse(kind);
  return k >= 0 && im_model_takes((im_model_kind)k, (size_t)im_model_param_find(key));
}

void im_calib_set_label(const im_calib_set_rec *s, char *buf, size_t len) {
  int n = snprintf(buf, len, "%s %s %g%% h%d W%d", s->kind, s->measure, 100 * s->confidence,
                   (int)s->horizon, (int)s->window);
  if (n > 0 && (size_t)n < len && takes(s->kind, "lambda"))
    n += snprintf(buf + n, len - (size_t)n, " l%g", s->lambda);
  if (n > 0 && (size_t)n < len && takes(s->kind, "nu"))
    n += snprintf(buf + n, len - (size_t)n, " nu%g", s->nu);
  if (n > 0 && (size_t)n < len && (s->apc_buffer || s->apc_stress || s->apc_floor))
    n += snprintf(buf + n, len - (size_t)n, " apc%s%s%s", s->apc_buffer ? "B" : "",
                  s->apc_stress ? "S" : "", s->apc_floor ? "F" : "");
  if (n > 0 && (size_t)n < len && s->liquidity) n += snprintf(buf + n, len - (size_t)n, " liq");
  if (n > 0 && (size_t)n < len && s->concentration) snprintf(buf + n, len - (size_t)n, " conc");
}

im_status im_calib_write(const char *path, const im_calib_file *f, im_err *err) {
  const im_calib *cal = f->cal;
  const size_t S = cal->n_sets, Q = cal->n_periods;
  char tmp[IM_PATH_LEN + 64];
  im_tmp_path(path, (long)getpid(), tmp, sizeof tmp);
  set_rec *sets = calloc(S ? S : 1, sizeof *sets);
  period_rec per[IM_MAX_PERIODS];
  sens_rec *sens = calloc(f->n_sens ? f->n_sens : 1, sizeof *sens);
  int64_t *rank = calloc(S ? S : 1, sizeof *rank);
  if (!sets || !sens || !rank) {
    free(sets);
    free(sens);
    free(rank);
    return im_err_set(err, IM_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < S; i++) {
    im_calib_set_of(&cal->sets[i], &sets[i]);
    if (f->ranking) rank[i] = (int64_t)f->ranking[i];
  }
  for (size_t q = 0; q < Q; q++) {
    memset(&per[q], 0, sizeof per[q]);
    snprintf(per[q].name, sizeof per[q].name, "%s", cal->periods[q].name);
    per[q].start = cal->periods[q].start_day == INT32_MIN ? 0 : im_days_to_yyyymmdd(cal->periods[q].start_day);
    per[q].end = cal->periods[q].end_day == INT32_MAX ? 99991231 : im_days_to_yyyymmdd(cal->periods[q].end_day);
  }
  for (size_t k = 0; k < f->n_sens; k++) {
    const im_cal_sens *s = &f->sens[k];
    snprintf(sens[k].parameter, sizeof sens[k].parameter, "%s", im_cal_param_name[s->param]);
    sens[k].value = s->value;
    sens[k].set = s->set;
    sens[k].mean_margin = s->mean_margin;
    sens[k].exceed_rate = s->exceed_rate;
    sens[k].rel_change = s->rel_change;
  }
  im_status st = IM_OK;
  hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) {
    st = im_err_set(err, IM_EIO, "%s: cannot create the calibration file", path);
  } else {
    herr_t e = im_h5_attr_provenance(file, IM_CALIB_FORMAT, IM_CALIB_FORMAT_VERSION);
    e |= im_h5_attr_str(file, "config", f->config_text);
    e |= im_h5_attr_str(file, "created", f->created);
    e |= im_h5_attr_int(file, "seed", (long)f->seed);
    e |= im_h5_attr_int(file, "chunk", f->chunk);
    e |= im_h5_attr_int(file, "n_chunks", f->n_chunks);
    e |= im_h5_attr_int(file, "recommended", f->recommended);
    e |= im_h5_attr_double(file, "criteria_coverage", cal->criteria.coverage);
    e |= im_h5_attr_int(file, "criteria_zone", cal->criteria.zone);
    e |= im_h5_attr_double(file, "criteria_test_level", cal->criteria.test_level);
    e |= im_h5_attr_double(file, "criteria_pass_share", cal->criteria.pass_share);
    hid_t ts = set_type(), tp = period_type(), tm = metrics_type(), tz = sens_type();
    e |= write_1d(file, "sets", ts, S, sets);
    e |= write_1d(file, "periods", tp, Q, per);
    e |= write_1d(file, "computed", H5T_NATIVE_UINT8, S, f->computed);
    hsize_t d2[2] = {S, Q};
    e |= im_h5_write(file, "metrics", tm, 2, d2, f->metrics);
    if (f->ranking) {
      e |= write_1d(file, "ranking", H5T_NATIVE_INT64, S, rank);
      e |= write_1d(file, "pareto", H5T_NATIVE_UINT8, S, f->pareto);
      e |= write_1d(file, "sensitivity", tz, f->n_sens, sens);
    }
    H5Tclose(ts);
    H5Tclose(tp);
    H5Tclose(tm);
    H5Tclose(tz);
    if (im_h5_fclose(file) < 0 || e < 0)
      st = im_err_set(err, IM_EIO, "%s: writing the calibration file failed (disk full?)", path);
  }
  if (!st && rename(tmp, path) != 0)
    st = im_err_set(err, IM_EIO, "%s: cannot move the calibration file into place", path);
  if (st) remove(tmp);
  free(sets);
  free(sens);
  free(rank);
  return st;
}

/* ---- reading files back: chunks (--merge), complete files (imvar report) ---- */

static herr_t attr_double(hid_t obj, const char *name, double *v) {
  hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1;
  if (a < 0) return -1;
  herr_t e = H5Aread(a, H5T_NATIVE_DOUBLE, v);
  H5Aclose(a);
  return e;
}

/* Opens a calibration file and checks its format and version; *chunk is its
 * chunk attribute (-1: a complete file). */
static im_status open_calib(const char *path, hid_t *out, long *chunk, im_err *err) {
  *out = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
  if (*out < 0) return im_err_set(err, IM_EIO, "%s: cannot open as an HDF5 file", path);
  char format[64] = "";
  long version = 0;
  im_status st = IM_OK;
  if (im_h5_attr_read_str(*out, "format", format, sizeof format) < 0 ||
      strcmp(format, IM_CALIB_FORMAT) != 0)
    st = im_err_set(err, IM_EDATA,
                    "%s: not an imvar calibration file (format '%s'; imvar calibrate writes one)",
                    path, format);
  else if (im_h5_attr_read_int(*out, "format_version", &version) < 0 ||
           version != IM_CALIB_FORMAT_VERSION)
    st = im_err_set(err, IM_EDATA, "%s: calibration format version %ld; this imvar reads %d", path,
                    version, IM_CALIB_FORMAT_VERSION);
  else if (im_h5_attr_read_int(*out, "chunk", chunk) < 0)
    st = im_err_set(err, IM_EDATA, "%s: the chunk attribute is missing", path);
  if (st) {
    H5Fclose(*out);
    *out = -1;
  }
  return st;
}

/* /metrics [S][Q] into a fresh buffer; NULL if missing or of another shape. */
static im_cal_metrics *read_metrics(hid_t f, size_t S, size_t Q) {
  hsize_t d[2] = {0, 0};
  hid_t ds = H5Lexists(f, "metrics", H5P_DEFAULT) > 0 ? im_h5_open_checked(f, "metrics", 2, d) : -1;
  im_cal_metrics *m = ds >= 0 && d[0] == S && d[1] == Q ? calloc(S * Q + 1, sizeof *m) : NULL;
  hid_t tm = metrics_type();
  if (m && S && Q && H5Dread(ds, tm, H5S_ALL, H5S_ALL, H5P_DEFAULT, m) < 0) {
    free(m);
    m = NULL;
  }
  H5Tclose(tm);
  if (ds >= 0) H5Dclose(ds);
  return m;
}

/* Reads a 1-d dataset of n elements (n == (size_t)-1: any length, stored in
 * *n_out) into a fresh buffer of elem-sized records. */
static void *read_1d(hid_t f, const char *name, hid_t type, size_t elem, size_t n, size_t *n_out) {
  hsize_t d[1] = {0};
  hid_t ds = H5Lexists(f, name, H5P_DEFAULT) > 0 ? im_h5_open_checked(f, name, 1, d) : -1;
  if (ds < 0) return NULL;
  void *buf = NULL;
  if (n == (size_t)-1 || d[0] == n) {
    buf = calloc(d[0] ? d[0] : 1, elem);
    if (buf && d[0] && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
      free(buf);
      buf = NULL;
    }
  }
  H5Dclose(ds);
  if (buf && n_out) *n_out = d[0];
  return buf;
}

im_status im_calib_read_chunk(const char *path, const char *config_text, const im_calib *cal,
                              long *n_chunks, im_cal_metrics *metrics, uint8_t *computed,
                              im_err *err) {
  const size_t S = cal->n_sets, Q = cal->n_periods;
  hid_t f;
  long chunk = -1;
  im_status st = open_calib(path, &f, &chunk, err);
  if (st) return st;
  char *text = im_h5_attr_read_str_alloc(f, "config");
  im_cal_metrics *m = NULL;
  uint8_t *c = NULL;
  if (chunk < 0 || im_h5_attr_read_int(f, "n_chunks", n_chunks) < 0)
    st = im_err_set(err, IM_EDATA, "%s: not the file of a chunk (--chunk I/N)", path);
  else if (!text || strcmp(text, config_text) != 0)
    st = im_err_set(err, IM_EINVAL,
                    "%s: written for another configuration (the chunks and the merge need the "
                    "same -c file and --set options)", path);
  else if (!(m = read_metrics(f, S, Q)) ||
           !(c = read_1d(f, "computed", H5T_NATIVE_UINT8, 1, S, NULL)))
    st = im_err_set(err, IM_EDATA, "%s: /metrics or /computed missing or mis-shaped", path);
  for (size_t i = 0; i < S && !st; i++) {
    if (!c[i]) continue;
    if (computed[i]) {
      st = im_err_set(err, IM_EINVAL, "%s: set %zu is also in an earlier chunk file", path, i);
      break;
    }
    computed[i] = 1;
    memcpy(metrics + i * Q, m + i * Q, Q * sizeof *m);
  }
  H5Fclose(f);
  free(m);
  free(c);
  free(text);
  return st;
}

void im_calib_data_free(im_calib_data *d) {
  free(d->config);
  free(d->sets);
  free(d->periods);
  free(d->metrics);
  free(d->ranking);
  free(d->pareto);
  free(d->sens);
  memset(d, 0, sizeof *d);
}

im_status im_calib_read(const char *path, im_calib_data *out, im_err *err) {
  memset(out, 0, sizeof *out);
  hid_t f;
  long chunk = -1, zone = 0;
  im_status st = open_calib(path, &f, &chunk, err);
  if (st) return st;
  hid_t ts = set_type(), tp = period_type(), tz = sens_type();
  H5E_BEGIN_TRY {
    if (chunk != -1) {
      st = im_err_set(err, IM_EDATA,
                      "%s: the file of one chunk (--chunk) of a calibration, not a complete one: "
                      "merge the chunks first (imvar calibrate --merge)", path);
    } else if (im_h5_attr_read_int(f, "recommended", &out->recommended) < 0 ||
               attr_double(f, "criteria_coverage", &out->criteria.coverage) < 0 ||
               im_h5_attr_read_int(f, "criteria_zone", &zone) < 0 ||
               attr_double(f, "criteria_test_level", &out->criteria.test_level) < 0 ||
               attr_double(f, "criteria_pass_share", &out->criteria.pass_share) < 0 ||
               im_h5_attr_read_int(f, "seed", &out->seed) < 0) {
      st = im_err_set(err, IM_EDATA, "%s: a root attribute of the calibration file is missing",
                      path);
    }
    out->criteria.zone = (int)zone;
    if (!st) {
      char *s = im_h5_attr_read_str_alloc(f, "imvar_version");
      snprintf(out->imvar_version, sizeof out->imvar_version, "%s", s ? s : "");
      free(s);
      s = im_h5_attr_read_str_alloc(f, "git_revision");
      snprintf(out->git_revision, sizeof out->git_revision, "%s", s ? s : "");
      free(s);
      s = im_h5_attr_read_str_alloc(f, "created");
      snprintf(out->created, sizeof out->created, "%s", s ? s : "");
      free(s);
      out->config = im_h5_attr_read_str_alloc(f, "config");
      if (!out->config) out->config = strdup("");
    }
    const char *missing = NULL;
    uint8_t *computed = NULL;
    if (!st && !(out->sets = read_1d(f, "sets", ts, sizeof *out->sets, (size_t)-1, &out->S)))
      missing = "/sets";
    if (!st && !missing &&
        !(out->periods = read_1d(f, "periods", tp, sizeof *out->periods, (size_t)-1, &out->Q)))
      missing = "/periods";
    if (!st && !missing && (out->Q == 0 || out->Q > IM_MAX_PERIODS)) missing = "/periods";
    if (!st && !missing &&
        !(computed = read_1d(f, "computed", H5T_NATIVE_UINT8, 1, out->S, NULL)))
      missing = "/computed";
    if (!st && !missing && !(out->metrics = read_metrics(f, out->S, out->Q))) missing = "/metrics";
    if (!st && !missing &&
        !(out->ranking = read_1d(f, "ranking", H5T_NATIVE_INT64, sizeof *out->ranking, out->S,
                                 NULL)))
      missing = "/ranking";
    if (!st && !missing &&
        !(out->pareto = read_1d(f, "pareto", H5T_NATIVE_UINT8, 1, out->S, NULL)))
      missing = "/pareto";
    if (!st && !missing &&
        !(out->sens = read_1d(f, "sensitivity", tz, sizeof *out->sens, (size_t)-1, &out->K)))
      missing = "/sensitivity";
    if (!st && missing)
      st = im_err_set(err, IM_EDATA,
                      "%s: %s is missing or mis-shaped (not a complete calibration file)", path,
                      missing);
    /* consistency: every set computed, the ranking a permutation, indices in range */
    for (size_t i = 0; i < out->S && !st; i++)
      if (!computed[i])
        st = im_err_set(err, IM_EDATA, "%s: set %zu has no metrics (an incomplete calibration)",
                        path, i);
    if (!st) {
      uint8_t *seen = calloc(out->S + 1, 1);
      if (!seen) st = im_err_set(err, IM_ENOMEM, "out of memory");
      for (size_t i = 0; i < out->S && !st; i++) {
        int64_t r = out->ranking[i];
        if (r < 0 || (uint64_t)r >= out->S || seen[r]++)
          st = im_err_set(err, IM_EDATA, "%s: /ranking is not a permutation of the sets", path);
      }
      free(seen);
    }
    if (!st && (out->recommended < -1 || out->recommended >= (long)out->S))
      st = im_err_set(err, IM_EDATA, "%s: recommended set %ld out of range", path,
                      out->recommended);
    for (size_t k = 0; k < out->K && !st; k++)
      if (out->sens[k].set < 0 || (uint64_t)out->sens[k].set >= out->S)
        st = im_err_set(err, IM_EDATA, "%s: /sensitivity row %zu names set %lld, out of range",
                        path, k, (long long)out->sens[k].set);
    if (!st && out->S == 0)
      st = im_err_set(err, IM_EDATA, "%s: the calibration has no parameter set", path);
    free(computed);
  }
  H5E_END_TRY;
  H5Tclose(ts);
  H5Tclose(tp);
  H5Tclose(tz);
  H5Fclose(f);
  if (st) im_calib_data_free(out);
  return st;
}
