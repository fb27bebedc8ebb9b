/* Unit tests for src/core/tile.c, the margin pipeline of a tile.
 *
 * Every value is checked against a recomputation written here from the
 * formulas of model.h alone (not from model.c): historical simulation on spot
 * positions (scenario k: today's close times close[k] / close[k-h]; the VaR is
 * the k-th largest of the W window losses, k = floor(W (1 - conf)) + 1, floored
 * at 0), the realised P&L over h days, the APC floor (the same VaR over every
 * usable day of the last IM_APC_YEARS_DAYS), the liquidity and concentration
 * add-ons from the delta-equivalent positions and the 30-day ADV, the total
 * margin (core + layers) and its exceedance flags. The layer names per model
 * configuration are those of the results.h5 contract (DESIGN.md, "results.h5";
 * README "results.h5" layout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tile.h"

enum { NU = 2, ND = 90, NP = 4, NPOS = 6, W = 20, MAXN = ND };

static char und_names[NU][IM_NAME_LEN] = {"BTC", "ETH"};
static double close_[NU * ND], volume_[NU * ND];
static im_instrument instr_[NU] = {{0, IM_SPOT, 0, 0}, {1, IM_SPOT, 0, 0}};
static char ids_[NP][IM_PORT_ID_LEN] = {"btc", "eth-short", "pair", "small-btc"};
static size_t start_[NP + 1] = {0, 1, 2, 4, 6};
static uint32_t pos_instr_[NPOS] = {0, 1, 0, 1, 0, 1};
static double pos_qty_[NPOS] = {1.0, -30.0, 2.0, -50.0, 0.5, 3.0};

/* Closes with irregular moves (a sharp fall mid-sample so that the long-run
 * VaR of the APC floor binds on some days), and quote volumes small enough for
 * the add-ons to bind, with a few unknown days. */
static im_market make_market(void) {
  for (int k = 0; k < ND; k++) {
    close_[k] = 100.0 * exp(0.04 * sin(1.7 * k) + 0.001 * k - (k > 40 && k < 46 ? 0.05 * (k - 40) : 0));
    close_[ND + k] = 37.0 * exp(0.05 * sin(0.9 * k + 0.4) - 0.002 * k);
    volume_[k] = 400.0 * (1.2 + sin(0.3 * k));
    volume_[ND + k] = k % 17 == 5 ? NAN : 900.0 * (1.1 + cos(0.2 * k));
  }
  im_market m = {0};
  m.n_und = NU;
  m.n_days = ND;
  m.day0 = 19723;
  m.und = und_names;
  m.close = close_;
  m.volume = volume_;
  return m;
}

static im_book make_book(void) {
  im_book b = {NU, instr_, NP, ids_, start_, pos_instr_, pos_qty_};
  return b;
}

static im_model base_model(void) {
  im_model m = {0};
  strcpy(m.name, "t");
  m.kind = IM_MODEL_HS;
  m.measure = IM_MEASURE_VAR;
  m.confidence = 0.9;
  m.horizon = 1;
  m.window = W;
  m.liq_k = IM_LIQ_K;
  m.liq_threshold = IM_LIQ_THRESHOLD;
  m.conc_share = IM_CONC_SHARE;
  return m;
}

/* ---- the independent recomputation ------------------------------------ */

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Max(VaR, 0) at conf of the n losses (sorted here). */
static double ref_var(double *loss, size_t n, double conf) {
  qsort(loss, n, sizeof *loss, cmp_desc);
  double mass = (double)n * (1.0 - conf), r = floor(mass + 0.5);
  if (fabs(mass - r) < 1e-9) mass = r;
  const double v = loss[(size_t)floor(mass)];
  return v > 0 ? v : 0;
}

/* The HS loss of portfolio p at t in scenario day k. */
static double ref_loss(size_t p, size_t t, size_t k, size_t h) {
  double pnl = 0;
  for (size_t i = start_[p]; i < start_[p + 1]; i++) {
    const double *c = close_ + instr_[pos_instr_[i]].und * ND;
    pnl += pos_qty_[i] * (c[t] * (c[k] / c[k - h]) - c[t]);
  }
  return -pnl;
}

/* The HS margin over the last n_max scenario days <= t (all of them with
 * n_max 0); NaN when fewer than `need` exist. */
static double ref_hs(size_t p, size_t t, size_t h, size_t n_max, size_t need, double conf) {
  double loss[MAXN];
  size_t n = 0;
  for (size_t k = t + 1; k-- > h && (n_max == 0 || n < n_max);) loss[n++] = ref_loss(p, t, k, h);
  return n < need ? NAN : ref_var(loss, n, conf);
}

static double ref_pnl(size_t p, size_t t, size_t h) {
  if (t + h >= ND) return NAN;
  double pnl = 0;
  for (size_t i = start_[p]; i < start_[p + 1]; i++) {
    const double *c = close_ + instr_[pos_instr_[i]].und * ND;
    pnl += pos_qty_[i] * (c[t + h] - c[t]);
  }
  return pnl;
}

/* max_u |P_u| / ADV30_u over the underlyings p holds (NaN if an ADV is). */
static double ref_ratio(size_t p, size_t t) {
  double ratio = 0;
  for (size_t u = 0; u < NU; u++) {
    double pos = 0;
    bool held = false;
    for (size_t i = start_[p]; i < start_[p + 1]; i++)
      if (instr_[pos_instr_[i]].und == u) {
        pos += pos_qty_[i] * close_[u * ND + t];
        held = true;
      }
    if (!held) continue;
    double sum = 0;
    size_t n = 0;
    for (size_t k = t >= IM_ADV_DAYS - 1 ? t - (IM_ADV_DAYS - 1) : 0; k <= t; k++)
      if (!isnan(volume_[u * ND + k])) {
        sum += volume_[u * ND + k];
        n++;
      }
    const double r = n ? fabs(pos) / (sum / (double)n) : NAN;
    ratio = isnan(r) || isnan(ratio) ? NAN : fmax(ratio, r);
  }
  return ratio;
}

static int8_t ref_flag(double margin, double pnl) {
  return isnan(margin) || isnan(pnl) ? -1 : -pnl > margin;
}

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
  im_market mkt;
  im_book book;
  im_model_state *s;
  im_model_scratch *w;
  im_tile tile;
} fixture;

static void setup_fixture(fixture *f, const im_model *m, size_t n_lev, const im_level *lev) {
  f->mkt = make_market();
  f->book = make_book();
  im_err err;
  assert_int_equal(im_model_prepare(m, &f->mkt, &f->book, &f->s, &err), IM_OK);
  assert_non_null(f->w = im_model_scratch_alloc(f->s));
  im_tile_init(&f->tile, NP * ND, n_lev);
  const im_layer *l[IM_TILE_MAX_LAYERS];
  assert_int_equal(im_tile_reserve(&f->tile, l, im_tile_layers(m, l), &err), IM_OK);
  assert_int_equal(im_tile_eval(&f->tile, m, f->s, f->w, 0, NP, 0, ND, lev ? n_lev : 1, lev, &err), IM_OK);
}

static void teardown_fixture(fixture *f) {
  im_tile_free(&f->tile);
  im_model_scratch_free(f->w);
  im_model_state_free(f->s);
}

static const double *layer(const im_tile *t, const char *name) {
  for (size_t i = 0; i < t->n_layers; i++)
    if (strcmp(t->layer[i].desc->name, name) == 0) return t->layer[i].data;
  return NULL;
}

static void assert_close(double got, double want) {
  if (isnan(want)) {
    assert_true(isnan(got));
    return;
  }
  assert_false(isnan(got));
  assert_true(fabs(got - want) <= 1e-9 * (1 + fabs(want)));
}

/* ---- tests ---------------------------------------------------------------- */

/* The layers of each model configuration, by name and in file order. */
static void test_layers_per_model(void **state) {
  (void)state;
  struct {
    int apc, liq, conc;
    const char *names;
  } cases[] = {
      {0, 0, 0, "im pnl exceed"},
      {1, 0, 0, "im pnl exceed apc exceed_total"},
      {0, 1, 0, "im pnl exceed addon_liquidity exceed_total"},
      {0, 0, 1, "im pnl exceed addon_concentration exceed_total"},
      {1, 1, 1, "im pnl exceed apc addon_liquidity addon_concentration exceed_total"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    im_model m = base_model();
    m.apc_floor = cases[c].apc;
    m.liquidity = cases[c].liq;
    m.concentration = cases[c].conc;
    const im_layer *l[IM_TILE_MAX_LAYERS];
    const size_t n = im_tile_layers(&m, l);
    char got[256] = "";
    for (size_t i = 0; i < n; i++) {
      strcat(got, i ? " " : "");
      strcat(got, l[i]->name);
      /* in_total exactly for the layers on top of the core */
      assert_int_equal(l[i]->in_total != 0, l[i]->role == IM_ROLE_LAYER);
      assert_int_equal(l[i]->elem, l[i]->role == IM_ROLE_FLAGS || l[i]->role == IM_ROLE_TOTAL_FLAGS
                                       ? IM_ELEM_I8
                                       : IM_ELEM_F64);
    }
    assert_string_equal(got, cases[c].names);
    assert_int_equal(im_tile_core_only(&m), n == 3); /* groupable at several levels */
  }
}

/* A plain model: core margin, P&L and flags as recomputed; no total. */
static void test_core_layers(void **state) {
  (void)state;
  im_model m = base_model();
  fixture f;
  setup_fixture(&f, &m, 1, NULL);
  assert_int_equal(f.tile.n_layers, 3);
  assert_false(im_tile_has_total(&f.tile));
  const double *im = layer(&f.tile, "im"), *pnl = layer(&f.tile, "pnl");
  const int8_t *ex = (const int8_t *)layer(&f.tile, "exceed");
  size_t covered = 0;
  for (size_t p = 0; p < NP; p++)
    for (size_t t = 0; t < ND; t++) {
      const size_t o = p * ND + t;
      const double want = ref_hs(p, t, 1, W, W, m.confidence);
      assert_close(im[o], want);
      assert_close(pnl[o], ref_pnl(p, t, 1));
      assert_int_equal(ex[o], ref_flag(want, ref_pnl(p, t, 1)));
      covered += ex[o] == 0;
    }
  assert_true(covered > NP * (ND - W) / 2); /* the comparison saw real values */
  /* Without layers the judged margin is the core's, even when the total is asked. */
  const double *margin;
  const int8_t *flags;
  im_tile_judged(&f.tile, 0, 1, &margin, &flags);
  assert_ptr_equal(margin, im);
  assert_ptr_equal(flags, ex);
  teardown_fixture(&f);
}

/* Every layer at once: APC floor, liquidity and concentration add-ons; the
 * total is core + layers and exceed_total is its flag against the P&L. */
static void test_total_layers(void **state) {
  (void)state;
  im_model m = base_model();
  m.horizon = 2;
  m.apc_floor = 1;
  m.liquidity = 1;
  m.concentration = 1;
  fixture f;
  setup_fixture(&f, &m, 1, NULL);
  assert_true(im_tile_has_total(&f.tile));
  const double *im = layer(&f.tile, "im"), *pnl = layer(&f.tile, "pnl");
  const double *apc = layer(&f.tile, "apc"), *liq = layer(&f.tile, "addon_liquidity");
  const double *conc = layer(&f.tile, "addon_concentration");
  const int8_t *extot = (const int8_t *)layer(&f.tile, "exceed_total");
  const double *total;
  const int8_t *flags;
  im_tile_judged(&f.tile, 0, 1, &total, &flags);
  assert_ptr_equal(flags, extot);
  size_t binding[3] = {0}, flagged = 0;
  for (size_t p = 0; p < NP; p++)
    for (size_t t = 0; t < ND; t++) {
      const size_t o = p * ND + t, h = 2;
      const double core = ref_hs(p, t, h, W, W, m.confidence);
      const double lr = isnan(core) ? NAN : ref_hs(p, t, h, 0, 1, m.confidence);
      const double want_apc = isnan(core) ? NAN : fmax(core, lr) - core;
      const double ratio = ref_ratio(p, t);
      const double want_liq = isnan(core) || isnan(ratio) ? NAN : core * fmax(0, sqrt(ratio) - IM_LIQ_THRESHOLD);
      const double days = ratio / IM_CONC_SHARE;
      const double want_conc = isnan(core) || isnan(days) ? NAN : core * fmax(0, sqrt(days / (double)h) - 1);
      assert_close(im[o], core);
      assert_close(pnl[o], ref_pnl(p, t, h));
      assert_close(apc[o], want_apc);
      assert_close(liq[o], want_liq);
      assert_close(conc[o], want_conc);
      const double want_total = core + want_apc + want_liq + want_conc;
      assert_close(total[o], want_total);
      const double loss = -ref_pnl(p, t, h);
      if (!isnan(want_total) && fabs(loss - want_total) < 1e-9 * (1 + fabs(want_total))) continue;
      assert_int_equal(extot[o], ref_flag(want_total, ref_pnl(p, t, h)));
      binding[0] += want_apc > 0;
      binding[1] += want_liq > 0;
      binding[2] += want_conc > 0;
      flagged += extot[o] == 1;
    }
  /* The data make every layer bind somewhere and the total be exceeded. */
  assert_true(binding[0] > 0 && binding[1] > 0 && binding[2] > 0 && flagged > 0);
  teardown_fixture(&f);
}

/* Several levels (calibration): each level's margin is the recomputed one. */
static void test_levels(void **state) {
  (void)state;
  im_model m = base_model();
  const im_level lev[2] = {{0.9, IM_MEASURE_VAR}, {0.95, IM_MEASURE_VAR}};
  fixture f;
  setup_fixture(&f, &m, 2, lev);
  for (size_t l = 0; l < 2; l++) {
    const double *margin;
    const int8_t *flags;
    im_tile_judged(&f.tile, l, 1, &margin, &flags);
    for (size_t p = 0; p < NP; p++)
      for (size_t t = 0; t < ND; t++) {
        const double want = ref_hs(p, t, 1, W, W, lev[l].confidence);
        assert_close(margin[p * ND + t], want);
        assert_int_equal(flags[p * ND + t], ref_flag(want, ref_pnl(p, t, 1)));
      }
  }
  teardown_fixture(&f);
}

/* A tile not reserved for the model's layers is refused, not written past. */
static void test_unreserved(void **state) {
  (void)state;
  im_model plain = base_model(), layered = base_model();
  layered.liquidity = 1;
  im_market mkt = make_market();
  im_book book = make_book();
  im_model_state *s;
  im_err err;
  assert_int_equal(im_model_prepare(&layered, &mkt, &book, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  im_tile t;
  im_tile_init(&t, NP * ND, 1);
  const im_layer *l[IM_TILE_MAX_LAYERS];
  assert_int_equal(im_tile_reserve(&t, l, im_tile_layers(&plain, l), &err), IM_OK);
  assert_int_equal(im_tile_eval(&t, &layered, s, w, 0, NP, 0, ND, 1, NULL, &err), IM_EINTERNAL);
  assert_non_null(strstr(err.msg, "addon_liquidity"));
  assert_int_equal(im_tile_eval(&t, &plain, s, w, 0, NP, 0, ND + 1, 1, NULL, &err), IM_EINTERNAL);
  im_tile_free(&t);
  im_model_scratch_free(w);
  im_model_state_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layers_per_model), cmocka_unit_test(test_core_layers),
      cmocka_unit_test(test_total_layers),     cmocka_unit_test(test_levels),
      cmocka_unit_test(test_unreserved),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
