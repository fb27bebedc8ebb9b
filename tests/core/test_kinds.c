/* The kind descriptors tell the truth: a parameter a kind does not take never
 * moves its margins, one it takes does; names and ranges as the checks
 * enforce them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"

#define ND 300

typedef struct {
  char und[2][IM_NAME_LEN];
  double close[2 * ND];
  im_market mkt;
  im_instrument instr[2];
  char ids[1][IM_PORT_ID_LEN];
  size_t start[2];
  uint32_t pi[2];
  double qty[2];
  im_book book;
} fixture;

/* Long 1 BTC, short 10 ETH on made-up closes. */
static void setup(fixture *f) {
  memset(f, 0, sizeof *f);
  strcpy(f->und[0], "BTC");
  strcpy(f->und[1], "ETH");
  for (size_t k = 0; k < ND; k++) {
    f->close[k] = 30000 * exp(0.04 * sin(0.7 * (double)k) + 0.02 * cos(0.13 * (double)k));
    f->close[ND + k] = 2000 * exp(0.05 * sin(0.5 * (double)k + 1) + 0.01 * cos(0.3 * (double)k));
  }
  f->mkt = (im_market){.n_und = 2, .n_days = ND, .day0 = 19000, .und = f->und, .close = f->close};
  f->instr[0] = (im_instrument){.und = 0, .kind = IM_SPOT};
  f->instr[1] = (im_instrument){.und = 1, .kind = IM_SPOT};
  strcpy(f->ids[0], "p");
  f->start[1] = 2;
  f->pi[0] = 0;
  f->pi[1] = 1;
  f->qty[0] = 1;
  f->qty[1] = -10;
  f->book = (im_book){.n_instr = 2, .instr = f->instr, .n_port = 1, .id = f->ids,
                      .pos_start = f->start, .pos_instr = f->pi, .pos_qty = f->qty};
}

static void margins(const im_model *md, const fixture *f, double *im) {
  im_model_state *s = NULL;
  im_err err;
  if (im_model_prepare(md, &f->mkt, &f->book, &s, &err) != IM_OK) fail_msg("%s", err.msg);
  im_model_scratch *w = im_model_scratch_alloc(s);
  assert_non_null(w);
  double pnl[ND];
  int8_t ex[ND];
  im_model_eval_tile(s, w, 0, 1, 0, ND, im, pnl, ex);
  im_model_scratch_free(w);
  im_model_state_free(s);
}

static im_model base(im_model_kind k) {
  im_model md = {.kind = k, .measure = IM_MEASURE_VAR, .confidence = 0.99, .horizon = 1,
                 .window = 100, .seed = 1};
  strcpy(md.name, "m");
  im_model_param_defaults(&md);
  md.paths = 1000;
  return md;
}

/* Another valid value of parameter i, far enough to move a margin that
 * depends on it (none of the anti-procyclicality flags: those are layers). */
static double other_value(size_t i) {
  const char *key = im_params[i].key;
  if (!strcmp(key, "lambda")) return 0.8;
  if (!strcmp(key, "nu")) return 3;
  if (!strcmp(key, "range")) return 0.3;
  if (!strcmp(key, "paths")) return 1500;
  return NAN; /* steps and extended do not bind on a linear book: its worst
                 grid loss is at the largest core shock */
}

static void test_params_taken_or_not(void **state) {
  (void)state;
  static fixture f;
  setup(&f);
  static double a[ND], b[ND];
  for (int k = 0; k < IM_MODEL_KINDS; k++) {
    const im_model md = base((im_model_kind)k);
    margins(&md, &f, a);
    for (size_t i = 0; i < IM_N_PARAMS; i++) {
      if (im_params[i].applies) continue; /* APC: checked in test_checks */
      im_model alt = md;
      const double v = other_value(i);
      const double cur = im_model_param_get(&md, i);
      im_model_param_set(&alt, i, !isnan(v) ? v : im_params[i].type == IM_PARAM_FLAG ? 1 - cur : cur + 1);
      margins(&alt, &f, b);
      const int moved = memcmp(a, b, sizeof a) != 0;
      const int takes = im_model_takes((im_model_kind)k, i);
      if (!takes && moved)
        fail_msg("%s takes no %s, yet its margins moved", im_model_kind_name(k), im_params[i].key);
      if (takes && !isnan(v) && !moved)
        fail_msg("%s takes %s, yet its margins did not move", im_model_kind_name(k),
                 im_params[i].key);
    }
  }
}

/* Each parameter a kind takes is checked against its range: the default
 * passes, a value beyond each bound fails with a message naming it. */
static void test_checks(void **state) {
  (void)state;
  static fixture f;
  setup(&f);
  im_err err;
  for (int k = 0; k < IM_MODEL_KINDS; k++)
    for (size_t i = 0; i < IM_N_PARAMS; i++) {
      im_model md = base((im_model_kind)k);
      assert_int_equal(im_model_check(&md, &f.mkt, &err), IM_OK);
      if (!im_model_takes((im_model_kind)k, i) || im_params[i].type == IM_PARAM_FLAG ||
          im_params[i].type == IM_PARAM_DATE)
        continue;
      const double bad[2] = {im_params[i].lo - (im_params[i].lo_open ? 0 : 1),
                             im_params[i].hi + (im_params[i].hi_open ? 0 : 1)};
      for (int j = 0; j < 2; j++) {
        im_model_param_set(&md, i, bad[j]);
        assert_int_equal(im_model_check(&md, &f.mkt, &err), IM_EINVAL);
        if (!strstr(err.msg, im_params[i].key)) fail_msg("'%s' does not name %s", err.msg, im_params[i].key);
      }
    }
  im_model md = base((im_model_kind)0);
  md.apc_floor = 1;
  for (int k = 0; k < IM_MODEL_KINDS; k++) { /* APC only where the kind takes it */
    md.kind = (im_model_kind)k;
    const int ok = im_model_check(&md, &f.mkt, &err) == IM_OK;
    assert_int_equal(ok, im_model_takes(md.kind, (size_t)im_model_param_find("apc_floor")));
  }
}

static void test_names(void **state) {
  (void)state;
  char list[256];
  im_model_kind_list(list, sizeof list);
  for (int k = 0; k < IM_MODEL_KINDS; k++) {
    const char *n = im_model_kind_name((im_model_kind)k);
    assert_int_equal(im_model_kind_parse(n), k);
    assert_non_null(strstr(list, n));
    assert_non_null(im_model_kind_desc((im_model_kind)k)->summary);
  }
  assert_string_equal(im_model_kind_name(IM_MODEL_KINDS), "?");
  assert_string_equal(im_model_kind_name((im_model_kind)-1), "?");
  assert_null(im_model_kind_desc(IM_MODEL_KINDS));
  assert_int_equal(im_model_kind_parse("garch"), -1);
}

/* The help text names every kind and, after it, every parameter it takes. */
static void test_help(void **state) {
  (void)state;
  static char buf[8192];
  const size_t n = im_model_help(buf, sizeof buf);
  assert_true(n > 0 && n < sizeof buf);
  for (int k = 0; k < IM_MODEL_KINDS; k++) {
    char head[64];
    snprintf(head, sizeof head, "  %-12s ", im_model_kind_name((im_model_kind)k));
    const char *at = strstr(buf, head), *next = NULL;
    assert_non_null(at);
    for (int j = 0; j < IM_MODEL_KINDS; j++) { /* the end of this kind's block */
      snprintf(head, sizeof head, "\n  %-12s ", im_model_kind_name((im_model_kind)j));
      const char *o = strstr(at, head);
      if (j != k && o && (!next || o < next)) next = o;
    }
    for (size_t i = 0; i < IM_N_PARAMS; i++) {
      char key[64];
      snprintf(key, sizeof key, " %s: ", im_params[i].key);
      const char *p = strstr(at, key);
      const int listed = p && (!next || p < next);
      assert_int_equal(listed, im_model_takes((im_model_kind)k, i));
    }
  }
  assert_true(im_model_help(buf, 10) == n); /* truncated, same length needed */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_taken_or_not),
      cmocka_unit_test(test_checks),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_help),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
