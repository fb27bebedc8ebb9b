/* results.h5 round trips through the public io API (results_io.h), on one
 * rank: a file created with its meta, tiles written in pieces at offsets,
 * validation rows, sub-samples and summaries read back equal, and the model
 * parameters recorded as attributes read back as they were written. The
 * values written are made up here (with NaN and the -1 "not observed" flag
 * among them); the test checks only that what goes in comes out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "results_io.h"
#include "tile.h"

enum { P = 3, T = 5, M = 4 };

static char path[1024];
static im_model models[M];
static const int32_t dates[T] = {20240227, 20240228, 20240229, 20240301, 20240302};
static const char ids[P][IM_PORT_ID_LEN] = {"alpha", "beta_2", "a much longer portfolio id"};

/* Model 0: hs with APC layers and the liquidity add-on (a total margin);
 * 1: fhs ES at h = 2 (sub-samples); 2: mc_t; 3: grid with the
 * concentration add-on. */
static void make_models(void) {
  memset(models, 0, sizeof models);
  models[0] = (im_model){.kind = IM_MODEL_HS, .measure = IM_MEASURE_VAR, .confidence = 0.99,
                         .horizon = 1, .window = 250, .apc_buffer = 1, .apc_stress = 1,
                         .stress_start = 18322, .stress_end = 18443, .liquidity = 1,
                         .liq_k = 1.5, .liq_threshold = 0.2, .conc_share = 0.1, .seed = 11};
  models[1] = (im_model){.kind = IM_MODEL_FHS, .measure = IM_MEASURE_ES, .confidence = 0.975,
                         .horizon = 2, .window = 300, .lambda = 0.97, .seed = 11};
  models[2] = (im_model){.kind = IM_MODEL_MC_T, .measure = IM_MEASURE_VAR, .confidence = 0.995,
                         .horizon = 3, .window = 200, .lambda = 0.95, .nu = 5, .paths = 5000,
                         .seed = 11};
  models[3] = (im_model){.kind = IM_MODEL_GRID, .measure = IM_MEASURE_VAR, .confidence = 0.99,
                         .horizon = 1, .window = 1, .grid_range = 0.2, .grid_steps = 5,
                         .grid_extended = 1, .concentration = 1, .conc_share = 0.07, .seed = 11};
  strcpy(models[0].name, "hs_total");
  strcpy(models[1].name, "fhs_es");
  strcpy(models[2].name, "mc");
  strcpy(models[3].name, "grid_conc");
}

/* The value of array a of model m at (p, t): distinct everywhere, NaN at
 * one point. */
static double value(int a, size_t m, size_t p, size_t t) {
  if (p == 1 && t == 3) return NAN;
  return (double)(a + 1) * 1000.5 + (double)m * 100.25 + (double)p * 10.125 + (double)t / 3.0;
}

static int8_t flag(size_t m, size_t p, size_t t) { return (int8_t)((m + p + t) % 3) - 1; }

static void fill(size_t m, double *im, double *pnl, int8_t *ex, double *apc, double *liq,
                 double *conc, int8_t *ext) {
  for (size_t p = 0; p < P; p++)
    for (size_t t = 0; t < T; t++) {
      const size_t i = p * T + t;
      im[i] = value(0, m, p, t);
      pnl[i] = -value(1, m, p, t);
      apc[i] = value(2, m, p, t);
      liq[i] = value(3, m, p, t);
      conc[i] = value(4, m, p, t);
      ex[i] = flag(m, p, t);
      ext[i] = flag(m + 1, p, t);
    }
}

/* Rows [p0, p0+np) x dates [t0, t0+nt) of a [P][T] array, packed. */
static void cut(const double *a, size_t p0, size_t np, size_t t0, size_t nt, double *out) {
  for (size_t p = 0; p < np; p++) memcpy(out + p * nt, a + (p0 + p) * T + t0, nt * sizeof *a);
}

static void cut8(const int8_t *a, size_t p0, size_t np, size_t t0, size_t nt, int8_t *out) {
  for (size_t p = 0; p < np; p++) memcpy(out + p * nt, a + (p0 + p) * T + t0, nt);
}

static void check(im_status st, const im_err *err, const char *what) {
  if (st != IM_OK) fail_msg("%s: %s", what, err->msg);
}

/* The test's array behind layer name (a, flags ex and ext), or NULL. */
static void *layer_src(const char *name, double (*a)[P * T], int8_t *ex, int8_t *ext) {
  static const char *const f64[5] = {"im", "pnl", "apc", "addon_liquidity", "addon_concentration"};
  for (int k = 0; k < 5; k++)
    if (strcmp(name, f64[k]) == 0) return a[k];
  if (strcmp(name, "exceed") == 0) return ex;
  if (strcmp(name, "exceed_total") == 0) return ext;
  return NULL;
}

/* Writes model m as four tiles (rows 0 and 1-2, dates 0-1 and 2-4), with
 * the layers the model has (core tile.h's list of them). */
static void write_model(im_results *r, size_t m) {
  const im_model *md = &models[m];
  double a[5][P * T];
  int8_t ex[P * T], ext[P * T];
  fill(m, a[0], a[1], ex, a[2], a[3], a[4], ext);
  const im_layer *lay[IM_TILE_MAX_LAYERS];
  const size_t nl = im_tile_layers(md, lay);
  im_tile t;
  im_tile_init(&t, P * T, 1);
  im_err err = {0};
  check(im_tile_reserve(&t, lay, nl, &err), &err, "tile_reserve");
  const size_t pr[2][2] = {{0, 1}, {1, 2}}, tr[2][2] = {{0, 2}, {2, 3}};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      const size_t p0 = pr[i][0], np = pr[i][1], t0 = tr[j][0], nt = tr[j][1];
      check(im_tile_bind(&t, lay, nl, np, nt, 1, &err), &err, "tile_bind");
      for (size_t l = 0; l < nl; l++) {
        const void *src = layer_src(lay[l]->name, a, ex, ext);
        if (!src) fail_msg("layer %s: the test has no data for it", lay[l]->name);
        if (lay[l]->elem == IM_ELEM_F64)
          cut(src, p0, np, t0, nt, t.layer[l].data);
        else
          cut8(src, p0, np, t0, nt, t.layer[l].data);
      }
      check(im_results_write_tile(r, m, p0, t0, &t, &err), &err, "write_tile");
    }
  im_tile_free(&t);
}

/* A validation row of model m, portfolio p, total or core: every field set
 * (by its type) to a value of its own, NaN in one. */
static im_bt_stats stats_row(size_t m, size_t p, int total) {
  im_bt_stats s;
  memset(&s, 0, sizeof s);
  double k = 1 + (double)m * 7 + (double)p * 3 + total * 0.5;
#define SET_I64(f) s.f = (int64_t)(k * 13) + (int64_t)offsetof(im_bt_stats, f);
#define SET_F64(f) s.f = k / 7 + (double)offsetof(im_bt_stats, f);
#define SET_I8(f) s.f = (int8_t)((int)offsetof(im_bt_stats, f) % 3 - 1);
  IM_BT_STATS_FIELDS(SET_I64, SET_F64, SET_I8)
#undef SET_I64
#undef SET_F64
#undef SET_I8
  s.dur_p = NAN;
  return s;
}

static im_bt_summary summary_of(size_t m, int total) {
  im_bt_summary s;
  memset(&s, 0, sizeof s);
  double k = 2 + (double)m + total * 0.25;
#define SET_I64(f) s.f = (int64_t)(k * 17) + (int64_t)offsetof(im_bt_summary, f);
#define SET_F64(f) s.f = k / 3 + (double)offsetof(im_bt_summary, f);
  IM_BT_SUMMARY_FIELDS(SET_I64, SET_F64)
#undef SET_I64
#undef SET_F64
  return s;
}

static void write_file(void) {
  make_models();
  const im_results_meta meta = {.config_text = "models:\n  hs_total: {kind: hs}\n",
                                .created = "2026-12-02T15:00:00Z",
                                .ranks = 1,
                                .n_dates = T,
                                .dates = dates,
                                .n_port = P,
                                .ids = ids,
                                .n_models = M,
                                .models = models,
                                .n_tiles = 4,
                                .tile_portfolios = 2,
                                .tile_dates = 2,
                                .inputs_hash = UINT64_C(0x0123456789abcdef),
                                .seed = 11};
  im_results *r = NULL;
  im_err err = {0};
  check(im_results_create(MPI_COMM_WORLD, path, &meta, &r, &err), &err, "create");
  for (size_t m = 0; m < M; m++) write_model(r, m);
  for (size_t t = 0; t < 4; t++) check(im_results_mark_done(r, t, &err), &err, "mark_done");
  check(im_results_close(r, &err), &err, "close");

  check(im_results_open(MPI_COMM_WORLD, path, 1, &r, &err), &err, "open writable");
  check(im_results_begin_validation(r, &err), &err, "begin_validation");
  for (size_t m = 0; m < M; m++)
    for (int total = 0; total <= im_model_has_total(&models[m]); total++) {
      im_bt_stats rows[P];
      for (size_t p = 0; p < P; p++) rows[p] = stats_row(m, p, total);
      /* In two pieces, the second first. */
      check(im_results_write_validation(r, m, total, 1, 2, rows + 1, &err), &err, "validation");
      check(im_results_write_validation(r, m, total, 0, 1, rows, &err), &err, "validation");
      const im_bt_summary s = summary_of(m, total);
      check(im_results_write_summary(r, m, total, &s, &err), &err, "summary");
    }
  im_bt_stats sub[P * 2];
  for (size_t i = 0; i < P * 2; i++) sub[i] = stats_row(9, i, 0);
  check(im_results_write_subsamples(r, 1, 0, P, sub, &err), &err, "subsamples");
  check(im_results_close(r, &err), &err, "close");
}

static int setup(void **state) {
  (void)state;
  snprintf(path, sizeof path, "%s/roundtrip.h5", IMVAR_TEST_DIR);
  write_file();
  return 0;
}

static void assert_stats_equal(const im_bt_stats *a, const im_bt_stats *b, const char *what) {
#define CMP(f)                                                              \
  if (memcmp(&a->f, &b->f, sizeof a->f) != 0) fail_msg("%s: field %s differs", what, #f);
  IM_BT_STATS_FIELDS(CMP, CMP, CMP)
#undef CMP
}

static void test_meta_and_models(void **state) {
  (void)state;
  im_results *r = NULL;
  im_err err = {0};
  check(im_results_open(MPI_COMM_WORLD, path, 0, &r, &err), &err, "open");
  assert_int_equal(im_results_n_port(r), P);
  assert_int_equal(im_results_n_dates(r), T);
  assert_int_equal(im_results_n_models(r), M);
  assert_int_equal(im_results_seed(r), 11);
  for (size_t p = 0; p < P; p++) assert_string_equal(im_results_ids(r)[p], ids[p]);
  for (size_t m = 0; m < M; m++) {
    const im_model *a = im_results_model(r, m), *b = &models[m];
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->measure, b->measure);
    assert_true(a->confidence == b->confidence);
    assert_int_equal(a->horizon, b->horizon);
    assert_int_equal(a->window, b->window);
    if (b->kind != IM_MODEL_HS && b->kind != IM_MODEL_GRID) assert_true(a->lambda == b->lambda);
    if (b->kind == IM_MODEL_MC_T) assert_true(a->nu == b->nu);
    /* Every parameter the kind takes and the layers' parameters come back. */
    for (size_t i = 0; i < IM_N_PARAMS; i++)
      if (im_model_takes(b->kind, i) && (!im_params[i].applies || im_params[i].applies(b)))
        if (im_model_param_get(a, i) != im_model_param_get(b, i))
          fail_msg("%s: %s read back %g, written %g", b->name, im_params[i].key,
                   im_model_param_get(a, i), im_model_param_get(b, i));
    assert_int_equal(a->apc_buffer, b->apc_buffer);
    assert_int_equal(a->apc_stress, b->apc_stress);
    assert_int_equal(a->apc_floor, b->apc_floor);
    assert_int_equal(a->liquidity, b->liquidity);
    assert_int_equal(a->concentration, b->concentration);
    if (b->liquidity) assert_true(a->liq_k == b->liq_k && a->liq_threshold == b->liq_threshold);
    if (b->concentration) assert_true(a->conc_share == b->conc_share);
    assert_int_equal(im_results_has_total(r, m), im_model_has_total(b));
  }
  check(im_results_close(r, &err), &err, "close");
  /* /dates as written (YYYYMMDD, results_io.h). */
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "dates", H5P_DEFAULT);
  int32_t got[T];
  assert_true(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
  assert_memory_equal(got, dates, sizeof got);
  H5Dclose(d);
  H5Fclose(f);
}

/* Attribute name of model m read with HDF5 directly, as a double (integer
 * attributes convert) or a string. */
static double attr_num(size_t m, const char *name) {
  char g[IM_NAME_LEN + 16];
  snprintf(g, sizeof g, "models/%.20s", models[m].name);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t a = H5Aopen_by_name(f, g, name, H5P_DEFAULT, H5P_DEFAULT);
  double v = NAN;
  if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) fail_msg("%s: no attribute %s", g, name);
  H5Aclose(a);
  H5Fclose(f);
  return v;
}

static void attr_str(size_t m, const char *name, char *out, size_t len) {
  char g[IM_NAME_LEN + 16];
  snprintf(g, sizeof g, "models/%.20s", models[m].name);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t a = H5Aopen_by_name(f, g, name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) fail_msg("%s: no attribute %s", g, name);
  hid_t t = H5Aget_type(a), mt = H5Tcopy(H5T_C_S1);
  memset(out, 0, len);
  if (H5Tis_variable_str(t) > 0) {
    char *s = NULL;
    H5Tset_size(mt, H5T_VARIABLE);
    assert_true(H5Aread(a, mt, &s) >= 0);
    snprintf(out, len, "%s", s);
    H5free_memory(s);
  } else {
    H5Tset_size(mt, len - 1);
    assert_true(H5Aread(a, mt, out) >= 0);
  }
  H5Tclose(mt);
  H5Tclose(t);
  H5Aclose(a);
  H5Fclose(f);
}

/* Every parameter a model was written with, recorded as an attribute of
 * /models/<name> (DESIGN.md, results.h5: kind, measure, confidence,
 * horizon_days, window, lambda, ...). */
static void test_model_attributes(void **state) {
  (void)state;
  char s[64];
  static const char *const kind[M] = {"hs", "fhs", "mc_t", "grid"};
  for (size_t m = 0; m < M; m++) {
    const im_model *b = &models[m];
    attr_str(m, "kind", s, sizeof s);
    assert_string_equal(s, kind[m]);
    attr_str(m, "measure", s, sizeof s);
    assert_string_equal(s, b->measure == IM_MEASURE_ES ? "es" : "var");
    assert_true(attr_num(m, "confidence") == b->confidence);
    assert_true(attr_num(m, "horizon_days") == b->horizon);
    if (b->kind != IM_MODEL_GRID) assert_true(attr_num(m, "window") == b->window);
  }
  assert_true(attr_num(1, "lambda") == 0.97);
  assert_true(attr_num(2, "lambda") == 0.95);
  assert_true(attr_num(2, "nu") == 5);
  assert_true(attr_num(2, "paths") == 5000);
  assert_true(attr_num(0, "apc_buffer") == 1);
  assert_true(attr_num(0, "apc_stress") == 1);
  assert_true(attr_num(0, "apc_floor") == 0);
  attr_str(0, "stress_start", s, sizeof s);
  assert_string_equal(s, "2020-03-01"); /* day 18322 (python3: date(1970,1,1) + 18322 days) */
  attr_str(0, "stress_end", s, sizeof s);
  assert_string_equal(s, "2020-06-30"); /* day 18443 */
  assert_true(attr_num(0, "liq_k") == 1.5);
  assert_true(attr_num(0, "liq_threshold") == 0.2);
  assert_true(attr_num(3, "conc_share") == 0.07);
  assert_true(attr_num(3, "grid_range") == 0.2);
  assert_true(attr_num(3, "grid_steps") == 5);
  assert_true(attr_num(3, "grid_extended") == 1);
}

static void test_tiles(void **state) {
  (void)state;
  im_results *r = NULL;
  im_err err = {0};
  check(im_results_open(MPI_COMM_WORLD, path, 0, &r, &err), &err, "open");
  for (size_t m = 0; m < M; m++) {
    const im_model *md = &models[m];
    double im[P * T], pnl[P * T], apc[P * T], liq[P * T], conc[P * T], gim[P * T], gpnl[P * T];
    int8_t ex[P * T], ext[P * T], gex[P * T];
    fill(m, im, pnl, ex, apc, liq, conc, ext);
    check(im_results_read_rows(r, m, 0, P, gim, gpnl, &err), &err, "read_rows");
    check(im_results_read_exceed(r, m, 0, P, gex, &err), &err, "read_exceed");
    assert_memory_equal(gim, im, sizeof im);
    assert_memory_equal(gpnl, pnl, sizeof pnl);
    assert_memory_equal(gex, ex, sizeof ex);
    /* A row range of its own. */
    check(im_results_read_rows(r, m, 2, 1, gim, gpnl, &err), &err, "read_rows");
    assert_memory_equal(gim, im + 2 * T, T * sizeof *im);
    if (!im_model_has_total(md)) continue;
    const im_layer *lay[IM_TILE_MAX_LAYERS];
    const size_t nl = im_results_layers(r, m, lay);
    im_tile tile;
    im_tile_init(&tile, P * T, 1);
    check(im_tile_reserve(&tile, lay, nl, &err), &err, "tile_reserve");
    check(im_results_read_tile(r, m, 0, P, &tile, &err), &err, "read_tile");
    const double *total;
    const int8_t *gext;
    im_tile_judged(&tile, 0, 1, &total, &gext);
    assert_memory_equal(gext, ext, sizeof ext);
    for (size_t i = 0; i < P * T; i++) {
      /* total = core + the layers the model has, their sum first, in this order. */
      double add = 0;
      if (im_model_has_apc(md)) add += apc[i];
      if (md->liquidity) add += liq[i];
      if (md->concentration) add += conc[i];
      const double want = im[i] + add;
      if (!(isnan(want) ? isnan(total[i]) : total[i] == want))
        fail_msg("%s: total at %zu: %.17g, want %.17g", md->name, i, total[i], want);
    }
    im_tile_free(&tile);
  }
  check(im_results_close(r, &err), &err, "close");
}

/* The summary dataset read with HDF5 directly (results_io.h has no reader):
 * the integer counts and the exceedance rate. */
static void read_summary(const char *name, im_bt_summary *s) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof *s);
  H5Tinsert(t, "n_portfolios", HOFFSET(im_bt_summary, n_portfolios), H5T_NATIVE_INT64);
  H5Tinsert(t, "n_obs", HOFFSET(im_bt_summary, n_obs), H5T_NATIVE_INT64);
  H5Tinsert(t, "n_exceed", HOFFSET(im_bt_summary, n_exceed), H5T_NATIVE_INT64);
  H5Tinsert(t, "exceed_rate", HOFFSET(im_bt_summary, exceed_rate), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "n_bh_reject_cc", HOFFSET(im_bt_summary, n_bh_reject_cc), H5T_NATIVE_INT64);
  memset(s, 0, sizeof *s);
  assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0);
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);
}

static void test_validation(void **state) {
  (void)state;
  im_results *r = NULL;
  im_err err = {0};
  check(im_results_open(MPI_COMM_WORLD, path, 0, &r, &err), &err, "open");
  for (size_t m = 0; m < M; m++)
    for (int total = 0; total <= im_model_has_total(&models[m]); total++) {
      im_bt_stats rows[P];
      check(im_results_read_validation_of(r, m, total, rows, &err), &err, "read_validation");
      for (size_t p = 0; p < P; p++) {
        const im_bt_stats want = stats_row(m, p, total);
        assert_stats_equal(&rows[p], &want, total ? "validation_total" : "validation");
      }
      char name[IM_NAME_LEN + 32];
      snprintf(name, sizeof name, "models/%.20s/%s", models[m].name,
               total ? "summary_total" : "summary");
      im_bt_summary s;
      read_summary(name, &s);
      const im_bt_summary want = summary_of(m, total);
      assert_int_equal(s.n_portfolios, want.n_portfolios);
      assert_int_equal(s.n_obs, want.n_obs);
      assert_int_equal(s.n_exceed, want.n_exceed);
      assert_true(s.exceed_rate == want.exceed_rate);
      assert_int_equal(s.n_bh_reject_cc, want.n_bh_reject_cc);
    }
  check(im_results_close(r, &err), &err, "close");
  /* validation_subsamples of the h = 2 model: [P][2]. */
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "models/fhs_es/validation_subsamples", H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t sp = H5Dget_space(d);
  hsize_t dims[2] = {0, 0};
  assert_int_equal(H5Sget_simple_extent_dims(sp, dims, NULL), 2);
  assert_int_equal(dims[0], P);
  assert_int_equal(dims[1], 2);
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(im_bt_stats));
  H5Tinsert(t, "n_obs", HOFFSET(im_bt_stats, n_obs), H5T_NATIVE_INT64);
  H5Tinsert(t, "p_uc", HOFFSET(im_bt_stats, p_uc), H5T_NATIVE_DOUBLE);
  im_bt_stats got[P * 2];
  memset(got, 0, sizeof got);
  assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
  for (size_t i = 0; i < P * 2; i++) {
    const im_bt_stats want = stats_row(9, i, 0);
    assert_int_equal(got[i].n_obs, want.n_obs);
    assert_true(got[i].p_uc == want.p_uc);
  }
  H5Tclose(t);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_meta_and_models),
      cmocka_unit_test(test_model_attributes),
      cmocka_unit_test(test_tiles),
      cmocka_unit_test(test_validation),
  };
  int rc = cmocka_run_group_tests(tests, setup, NULL);
  MPI_Finalize();
  return rc;
}
