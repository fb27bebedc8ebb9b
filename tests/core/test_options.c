/* Black-76, the smile and option positions in the hs model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "options.h"

/* Hull, Options, Futures and Other Derivatives: F = K = 100, sigma = 20%,
 * T = 1, r = 0 -> d1 = 0.1, d2 = -0.1, C = P = 100 (N(0.1) - N(-0.1))
 * = 7.965567455405798 (python3: 100*erf(0.1/sqrt(2))). */
static void test_black76_known(void **state) {
  (void)state;
  assert_true(fabs(im_black76(100, 100, 0.2, 1, 1) - 7.965567455405798) < 1e-12);
  assert_true(fabs(im_black76(100, 100, 0.2, 1, 0) - 7.965567455405798) < 1e-12);
  /* F = 72011.29 (the 2024-03-12 BTC index), K = 65000, sigma = 0.62, 45
   * days: 10085.763946968, from python3 -c "from math import *;
   * N=lambda x:0.5*(1+erf(x/sqrt(2))); F,K,s,T=72011.29,65000,0.62,45/365;
   * d1=log(F/K)/(s*sqrt(T))+s*sqrt(T)/2; print(F*N(d1)-K*N(d1-s*sqrt(T)))". */
  const double c = im_black76(72011.29, 65000, 0.62, 45 / 365.0, 1);
  assert_true(fabs(c - 10085.763946968) < 1e-6);
  /* Intrinsic at expiry and with no vol. */
  assert_true(im_black76(110, 100, 0.5, 0, 1) == 10 && im_black76(90, 100, 0.5, 0, 1) == 0);
  assert_true(im_black76(90, 100, 0, 0.5, 0) == 10);
}

/* Put-call parity at zero rates: C - P = F - K, over a grid of inputs. */
static void test_put_call_parity(void **state) {
  (void)state;
  for (double f = 20000; f <= 80000; f += 7300)
    for (double k = 15000; k <= 90000; k += 9100)
      for (double sig = 0.25; sig < 1.6; sig += 0.37)
        for (double tau = 1 / 365.0; tau < 1.5; tau *= 3.1) {
          const double diff = im_black76(f, k, sig, tau, 1) - im_black76(f, k, sig, tau, 0);
          if (fabs(diff - (f - k)) > 1e-9 * f)
            fail_msg("parity f=%g k=%g s=%g t=%g: %.12g vs %.12g", f, k, sig, tau, diff, f - k);
        }
}

static void test_smile(void **state) {
  (void)state;
  /* ATM: factor 1; flat smile: 1 everywhere; floor on far wings. */
  assert_true(im_smile_factor(&im_smile_deribit, 1.0, 0.1) == 1.0);
  assert_true(im_smile_factor(&im_smile_flat, 0.5, 0.1) == 1.0);
  const im_smile steep = {.a = -2, .b = 0};
  assert_true(im_smile_factor(&steep, 3.0, 0.01) == IM_SMILE_FLOOR);
  /* The fit recovers known coefficients from exact points. */
  double x[7], r[7];
  for (int i = 0; i < 7; i++) {
    x[i] = -1.5 + 0.5 * i;
    r[i] = 1 + 0.05 * x[i] + 0.1 * x[i] * x[i];
  }
  im_smile got;
  double rms;
  im_err err;
  assert_int_equal(im_smile_fit(x, r, 7, &got, &rms, &err), IM_OK);
  assert_true(fabs(got.a - 0.05) < 1e-12 && fabs(got.b - 0.1) < 1e-12 && rms < 1e-12);
  assert_int_equal(im_smile_fit(x, r, 2, &got, &rms, &err), IM_EINVAL);
}

/* A short 30-day 90% put and a long spot position in the hs model against a
 * brute force written here: each scenario day k moves spot by c[k]/c[k-h]
 * and the ATM vol by v[k]/v[k-h], the put ages h days, VaR by a full sort. */
#define ND 120
static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

static void test_hs_option_book(void **state) {
  (void)state;
  static char und[1][IM_NAME_LEN] = {"BTC"};
  static double close[ND], ivol[ND];
  for (size_t k = 0; k < ND; k++) {
    close[k] = 40000 * exp(0.06 * sin(0.43 * (double)k) + 0.0013 * (double)k);
    ivol[k] = 0.55 + 0.1 * cos(0.31 * (double)k);
  }
  im_market mkt = {.n_und = 1, .n_days = ND, .day0 = 19000, .und = und, .close = close, .ivol = ivol};
  im_instrument instr[2] = {{0, IM_PUT, 30, 0.90}, {0, IM_SPOT, 0, 0}};
  char ids[1][IM_PORT_ID_LEN] = {"short_put_hedged"};
  size_t start[2] = {0, 2};
  uint32_t pi[2] = {0, 1};
  double qty[2] = {-3, 0.4};
  im_book book = {.n_instr = 2, .instr = instr, .n_port = 1, .id = ids, .pos_start = start,
                  .pos_instr = pi, .pos_qty = qty};
  const int32_t W = 50, h = 2;
  for (int sm = 0; sm < 2; sm++) {
    im_model md = {.kind = IM_MODEL_HS, .confidence = 0.95, .horizon = h, .window = W,
                   .smile = sm ? im_smile_deribit : im_smile_flat};
    im_model_state *s = NULL;
    im_err err;
    assert_int_equal(im_model_prepare(&md, &mkt, &book, &s, &err), IM_OK);
    im_model_scratch *w = im_model_scratch_alloc(s);
    double im[ND], pnl[ND];
    int8_t ex[ND];
    im_model_eval_tile(s, w, 0, 1, 0, ND, im, pnl, ex);
    im_model_scratch_free(w);
    im_model_state_free(s);
    for (size_t t = (size_t)(W + h - 1); t + (size_t)h < ND; t++) {
      const double s0 = close[t], k = 0.9 * s0;
      const double v0 = im_black76(s0, k, ivol[t] * im_smile_factor(&md.smile, k / s0, 30 / 365.0),
                                   30 / 365.0, 0);
      double loss[64];
      for (int32_t i = 0; i < W; i++) {
        size_t d = t - (size_t)i;
        double s1 = s0 * (close[d] / close[d - (size_t)h]), a1 = ivol[t] * (ivol[d] / ivol[d - (size_t)h]);
        double v1 = im_black76(s1, k, a1 * im_smile_factor(&md.smile, k / s1, 28 / 365.0), 28 / 365.0, 0);
        loss[i] = -(-3 * (v1 - v0) + 0.4 * (s1 - s0));
      }
      qsort(loss, (size_t)W, sizeof *loss, cmp_desc);
      double want = fmax(loss[(size_t)floor(W * 0.05 + 1e-9)], 0); /* k = floor(W(1-a)) + 1 */
      if (fabs(im[t] - want) > 1e-9 * fabs(want) + 1e-9)
        fail_msg("smile %d t=%zu: im %.12g, brute force %.12g", sm, t, im[t], want);
      const double s2 = close[t + (size_t)h];
      const double v2 = im_black76(s2, k, ivol[t + (size_t)h] * im_smile_factor(&md.smile, k / s2, 28 / 365.0),
                                   28 / 365.0, 0);
      const double want_pnl = -3 * (v2 - v0) + 0.4 * (s2 - s0);
      if (fabs(pnl[t] - want_pnl) > 1e-9 * fabs(want_pnl) + 1e-9)
        fail_msg("pnl t=%zu: %.12g vs %.12g", t, pnl[t], want_pnl);
    }
  }
}

/* Options need implied vols (or the proxy, test_dgamma.c), for every kind. */
static void test_option_errors(void **state) {
  (void)state;
  static char und[1][IM_NAME_LEN] = {"BTC"};
  static double close[ND];
  for (size_t k = 0; k < ND; k++) close[k] = 30000 + (double)k;
  im_market mkt = {.n_und = 1, .n_days = ND, .day0 = 19000, .und = und, .close = close};
  im_instrument instr[1] = {{0, IM_CALL, 7, 1.1}};
  char ids[1][IM_PORT_ID_LEN] = {"c"};
  size_t start[2] = {0, 1};
  uint32_t pi[1] = {0};
  double qty[1] = {1};
  im_book book = {.n_instr = 1, .instr = instr, .n_port = 1, .id = ids, .pos_start = start,
                  .pos_instr = pi, .pos_qty = qty};
  im_model md = {.kind = IM_MODEL_HS, .confidence = 0.99, .horizon = 1, .window = 20};
  im_model_state *s = NULL;
  im_err err;
  assert_int_equal(im_model_prepare(&md, &mkt, &book, &s, &err), IM_EINVAL);
  assert_non_null(strstr(err.msg, "implied vol"));
  md.kind = IM_MODEL_EWMA_NORMAL;
  md.lambda = 0.94;
  assert_int_equal(im_model_prepare(&md, &mkt, &book, &s, &err), IM_EINVAL);
  assert_non_null(strstr(err.msg, "option"));
  /* Names. */
  im_instrument in;
  assert_int_equal(im_instrument_parse(&mkt, "BTC-P-30D-0.90", &in, &err), IM_OK);
  assert_true(in.kind == IM_PUT && in.tenor == 30 && fabs(in.money - 0.9) < 1e-15);
  assert_int_equal(im_instrument_parse(&mkt, "BTC-C-0D-1", &in, &err), IM_EDATA);
  assert_int_equal(im_instrument_parse(&mkt, "BTC-C-30-1", &in, &err), IM_EDATA);
  assert_int_equal(im_instrument_parse(&mkt, "BTC-X-30D-1", &in, &err), IM_EDATA);
  /* Dated futures: parsed, and refused when they expire within the horizon. */
  assert_int_equal(im_instrument_parse(&mkt, "BTC-FUT-90D", &in, &err), IM_OK);
  assert_true(in.kind == IM_FUT && in.tenor == 90);
  assert_int_equal(im_instrument_parse(&mkt, "BTC-FUT-90", &in, &err), IM_EDATA);
  im_instrument fut[1] = {{0, IM_FUT, 1, 0}};
  book.instr = fut;
  md.kind = IM_MODEL_HS;
  md.horizon = 2;
  assert_int_equal(im_model_prepare(&md, &mkt, &book, &s, &err), IM_EINVAL);
  assert_non_null(strstr(err.msg, "BTC-FUT-1D expires within the 2-day horizon"));
  fut[0].tenor = 2; /* a future like spot: the same margin and P&L */
  im_instrument spot[1] = {{0, IM_SPOT, 0, 0}};
  double a[ND], b[ND], pa[ND], pb[ND];
  int8_t ea[ND], eb[ND];
  for (int i = 0; i < 2; i++) {
    book.instr = i ? spot : fut;
    assert_int_equal(im_model_prepare(&md, &mkt, &book, &s, &err), IM_OK);
    im_model_scratch *w = im_model_scratch_alloc(s);
    im_model_eval_tile(s, w, 0, 1, 0, ND, i ? b : a, i ? pb : pa, i ? eb : ea);
    im_model_scratch_free(w);
    im_model_state_free(s);
  }
  assert_memory_equal(a, b, sizeof a);
  assert_memory_equal(pa, pb, sizeof pa);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_black76_known),     cmocka_unit_test(test_put_call_parity),
      cmocka_unit_test(test_smile),             cmocka_unit_test(test_hs_option_book),
      cmocka_unit_test(test_option_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
