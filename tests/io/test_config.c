/* The positive meaning of every configuration key documented in
 * data/configs/default.yaml: parsed from YAML text (and from --set style
 * overrides), each key sets the right im_config / im_model field to the
 * right value. Expected values are the ones written in the YAML of each test
 * or, for defaults, the "default" column of default.yaml's comments; dates
 * are converted to days since 1970-01-01 here (days_from_civil below), not
 * by imvar's calendar code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static int32_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (int32_t)(era * 146097 + doe - 719468);
}

static const char *write_yaml(const char *name, const char *text) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", IMVAR_TEST_DIR, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static const im_model *find_model(const im_config *c, const char *name) {
  for (size_t i = 0; i < c->n_models; i++)
    if (strcmp(c->models[i].name, name) == 0) return &c->models[i];
  fail_msg("model %s not in the configuration", name);
  return NULL;
}

static void load(const char *name, const char *text, char *const *set, size_t n, im_config *c) {
  im_err err = {0};
  memset(c, 0, sizeof *c);
  if (im_config_load(write_yaml(name, text), set, n, c, &err) != IM_OK)
    fail_msg("%s: %s", name, err.msg);
}

/* Every run-wide key and every model key at a value other than its default. */
static const char every_key[] =
    "market: some/market.h5\n"
    "portfolios: some/book.csv\n"
    "output: some/out.h5\n"
    "seed: 4242\n"
    "smile: flat\n"
    "funding: false\n"
    "ivol_proxy: ewma\n"
    "ivol_proxy_scale: 1.25\n"
    "start: 2022-01-02\n"
    "end: 2024-02-29\n"
    "tiles:\n  portfolios: 7\n  dates: 11\n"
    "models:\n"
    "  f:\n    kind: fhs\n    measure: es\n    confidence: 0.975\n    horizon: 3\n"
    "    window: 300\n    lambda: 0.97\n"
    "    apc_buffer: true\n    apc_stress: true\n    apc_floor: true\n"
    "    stress_start: 2020-03-01\n    stress_end: 2020-06-30\n"
    "  t:\n    kind: ewma_t\n    lambda: 0.9\n    nu: 6\n"
    "    liquidity: true\n    liq_k: 2.5\n    liq_threshold: 0.3\n"
    "    concentration: true\n    conc_share: 0.05\n"
    "  n:\n    kind: ewma_normal\n    lambda: 0.8\n"
    "  mc:\n    kind: mc_t\n    lambda: 0.95\n    nu: 7\n    paths: 5000\n"
    "  g:\n    kind: grid\n    range: 0.2\n    steps: 5\n    extended: false\n";

static void test_every_key(void **state) {
  (void)state;
  im_config c;
  load("every_key.yaml", every_key, NULL, 0, &c);
  assert_string_equal(c.market, "some/market.h5");
  assert_string_equal(c.portfolios, "some/book.csv");
  assert_string_equal(c.output, "some/out.h5");
  assert_int_equal(c.seed, 4242);
  assert_memory_equal(&c.smile, &im_smile_flat, sizeof c.smile);
  assert_int_equal(c.funding, 0);
  assert_int_equal(c.ivol_proxy, 1);
  assert_true(c.ivol_proxy_scale == 1.25);
  assert_int_equal(c.start_day, days_from_civil(2022, 1, 2));
  assert_int_equal(c.end_day, days_from_civil(2024, 2, 29));
  assert_int_equal(c.tile_portfolios, 7);
  assert_int_equal(c.tile_dates, 11);
  assert_int_equal(c.n_models, 5);

  const im_model *f = find_model(&c, "f");
  assert_int_equal(f->kind, IM_MODEL_FHS);
  assert_int_equal(f->measure, IM_MEASURE_ES);
  assert_true(f->confidence == 0.975);
  assert_int_equal(f->horizon, 3);
  assert_int_equal(f->window, 300);
  assert_true(f->lambda == 0.97);
  assert_int_equal(f->apc_buffer, 1);
  assert_int_equal(f->apc_stress, 1);
  assert_int_equal(f->apc_floor, 1);
  assert_int_equal(f->stress_start, days_from_civil(2020, 3, 1));
  assert_int_equal(f->stress_end, days_from_civil(2020, 6, 30));
  /* Run-wide keys reach every model. */
  assert_int_equal(f->seed, 4242);
  assert_int_equal(f->funding, 0);
  assert_int_equal(f->ivol_proxy, 1);
  assert_true(f->ivol_scale == 1.25);
  assert_memory_equal(&f->smile, &im_smile_flat, sizeof f->smile);

  const im_model *t = find_model(&c, "t");
  assert_int_equal(t->kind, IM_MODEL_EWMA_T);
  assert_true(t->lambda == 0.9);
  assert_true(t->nu == 6);
  assert_int_equal(t->liquidity, 1);
  assert_true(t->liq_k == 2.5);
  assert_true(t->liq_threshold == 0.3);
  assert_int_equal(t->concentration, 1);
  assert_true(t->conc_share == 0.05);

  const im_model *n = find_model(&c, "n");
  assert_int_equal(n->kind, IM_MODEL_EWMA_NORMAL);
  assert_true(n->lambda == 0.8);

  const im_model *mc = find_model(&c, "mc");
  assert_int_equal(mc->kind, IM_MODEL_MC_T);
  assert_true(mc->lambda == 0.95);
  assert_true(mc->nu == 7);
  assert_int_equal(mc->paths, 5000);
  assert_int_equal(mc->seed, 4242);

  const im_model *g = find_model(&c, "g");
  assert_int_equal(g->kind, IM_MODEL_GRID);
  assert_true(g->grid_range == 0.2);
  assert_int_equal(g->grid_steps, 5);
  assert_int_equal(g->grid_extended, 0);
  im_config_clear(&c);
}

/* Keys left out take the defaults default.yaml documents: output
 * results.h5, seed 1, smile
 * deribit, funding true, ivol_proxy none, ivol_proxy_scale 1.0932, start/end
 * open, tiles 0/0; a model: kind hs, measure var, confidence 0.99, horizon 2,
 * window 500, lambda 0.94, nu 4, paths 10000, grid 0.16/4/true, no add-ons
 * (liq_k 1, liq_threshold 0.1, conc_share 0.1). */
static void test_defaults(void **state) {
  (void)state;
  im_config c;
  load("defaults.yaml",
       "market: m.h5\nportfolios: p.csv\n"
       "models:\n  h: {}\n  t: {kind: ewma_t}\n  mc: {kind: mc_t}\n  g: {kind: grid}\n",
       NULL, 0, &c);
  assert_string_equal(c.output, "results.h5");
  assert_int_equal(c.seed, 1);
  assert_memory_equal(&c.smile, &im_smile_deribit, sizeof c.smile);
  assert_int_equal(c.funding, 1);
  assert_int_equal(c.ivol_proxy, 0);
  assert_true(c.ivol_proxy_scale == 1.0932);
  assert_int_equal(c.start_day, INT32_MIN);
  assert_int_equal(c.end_day, INT32_MAX);
  assert_int_equal(c.tile_portfolios, 0);
  assert_int_equal(c.tile_dates, 0);
  const im_model *h = find_model(&c, "h");
  assert_int_equal(h->kind, IM_MODEL_HS);
  assert_int_equal(h->measure, IM_MEASURE_VAR);
  assert_true(h->confidence == 0.99);
  assert_int_equal(h->horizon, 2);
  assert_int_equal(h->window, 500);
  assert_int_equal(h->liquidity + h->concentration, 0);
  assert_int_equal(h->apc_buffer + h->apc_stress + h->apc_floor, 0);
  assert_true(h->liq_k == 1 && h->liq_threshold == 0.1 && h->conc_share == 0.1);
  const im_model *t = find_model(&c, "t");
  assert_true(t->lambda == 0.94);
  assert_true(t->nu == 4);
  assert_int_equal(find_model(&c, "mc")->paths, 10000);
  const im_model *g = find_model(&c, "g");
  assert_true(g->grid_range == 0.16);
  assert_int_equal(g->grid_steps, 4);
  assert_int_equal(g->grid_extended, 1);
  im_config_clear(&c);
}

/* The shipped default.yaml means what it says. */
static void test_shipped_default(void **state) {
  (void)state;
  im_config c;
  im_err err = {0};
  memset(&c, 0, sizeof c);
  if (im_config_load(IMVAR_SOURCE_DIR "/data/configs/default.yaml", NULL, 0, &c, &err) != IM_OK)
    fail_msg("default.yaml: %s", err.msg);
  assert_string_equal(c.market, "out/market.h5");
  assert_string_equal(c.portfolios, "data/portfolios/curated.csv");
  assert_string_equal(c.output, "results.h5");
  assert_int_equal(c.n_models, 2);
  const im_model *a = find_model(&c, "hs99_h2"), *b = find_model(&c, "hs99_h1");
  assert_int_equal(a->kind, IM_MODEL_HS);
  assert_int_equal(a->horizon, 2);
  assert_int_equal(a->window, 500);
  assert_int_equal(b->horizon, 1);
  assert_int_equal(b->window, 250);
  assert_true(a->confidence == 0.99 && b->confidence == 0.99);
  im_config_clear(&c);
}

/* --set key=value overrides a key of the file by its dotted path, run-wide,
 * under tiles and under a model, and may set a key the file leaves out. */
static void test_overrides(void **state) {
  (void)state;
  char *set[] = {"seed=99",
                 "funding=false",
                 "start=2021-12-31",
                 "tiles.dates=13",
                 "models.a.confidence=0.995",
                 "models.a.measure=es",
                 "models.a.window=750",
                 "models.b.lambda=0.97",
                 "market=elsewhere.h5"};
  im_config c;
  load("overrides.yaml",
       "market: m.h5\nportfolios: p.csv\nseed: 3\nfunding: true\ntiles:\n  dates: 5\nmodels:\n"
       "  a:\n    kind: hs\n    confidence: 0.99\n    window: 250\n"
       "  b:\n    kind: fhs\n    lambda: 0.9\n",
       set, sizeof set / sizeof set[0], &c);
  assert_int_equal(c.seed, 99);
  assert_int_equal(c.funding, 0);
  assert_int_equal(c.start_day, days_from_civil(2021, 12, 31));
  assert_int_equal(c.tile_dates, 13);
  assert_string_equal(c.market, "elsewhere.h5");
  const im_model *a = find_model(&c, "a"), *b = find_model(&c, "b");
  assert_true(a->confidence == 0.995);
  assert_int_equal(a->measure, IM_MEASURE_ES);
  assert_int_equal(a->window, 750);
  assert_int_equal(a->seed, 99);
  assert_true(b->lambda == 0.97);
  assert_int_equal(b->kind, IM_MODEL_FHS);
  im_config_clear(&c);
}

/* A key a kind does not take, and an unknown key, are refused with the
 * key named (so that a misspelt key never silently keeps its default). */
static void test_refused(void **state) {
  (void)state;
  const char *bad[][2] = {{"models:\n  a: {kind: hs, lambda: 0.9}\n", "lambda"},
                          {"models:\n  a: {kind: hs, windows: 300}\n", "windows"},
                          {"seeds: 3\nmodels:\n  a: {kind: hs}\n", "seeds"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    im_config c;
    im_err err = {0};
    memset(&c, 0, sizeof c);
    assert_int_not_equal(im_config_load(write_yaml("bad.yaml", bad[i][0]), NULL, 0, &c, &err),
                         IM_OK);
    if (!strstr(err.msg, bad[i][1])) fail_msg("message '%s' does not name %s", err.msg, bad[i][1]);
    im_config_clear(&c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_key),  cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_shipped_default), cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
