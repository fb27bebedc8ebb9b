/* Unit tests for src/core/model.c and the instrument helpers of market.c.
 *
 * The HS model is checked against a slow brute force written here from the
 * conventions of model.h and risk.h alone: scenario k is the h-day relative
 * move close[k] / close[k-h] applied to today's close; the window at t is the
 * last W scenario days k <= t that are usable for the portfolio (both closes
 * present for every underlying it holds); loss = -pnl, VaR = L(k) of the
 * descending sort with k = floor(W (1 - conf)) + 1; IM = max(VaR, 0);
 * realised pnl from the close of t to the close of t+h; exceed = 1 iff
 * -pnl > IM strictly, -1 when either is NaN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "market.h"
#include "model.h"

/* ---------------------------------------------------------------------- */
/* (a) instrument P&L by hand                                              */

static void test_instrument_pnl_hand(void **state) {
  (void)state;
  /* Spot / linear perp, 1 coin, 20000 -> 21000: +1000 USD (hand). Exact in
   * binary. */
  assert_true(im_instrument_pnl(IM_SPOT, 20000.0, 21000.0) == 1000.0);
  assert_true(im_instrument_pnl(IM_PERP, 20000.0, 21000.0) == 1000.0);
  assert_true(im_instrument_pnl(IM_SPOT, 21000.0, 20000.0) == -1000.0);

  /* Inverse perp, one 1-USD contract: coin P&L 1/s0 - 1/s1, valued at exit
   * s1: (1/20000 - 1/21000) * 21000 = 21000/20000 - 1 = 0.05 (hand). */
  const double s0 = 20000.0, s1 = 21000.0;
  const double coin = 1.0 / s0 - 1.0 / s1;
  const double inv = im_instrument_pnl(IM_INVPERP, s0, s1);
  assert_true(fabs(inv - coin * s1) <= 1e-12);
  assert_true(fabs(inv - 0.05) <= 1e-12);

  /* Short 10000 contracts, 20000 -> 18000: coin P&L
   * -10000 * (1/20000 - 1/18000) = +0.0555... coin; times 18000 = +1000 USD
   * (hand: 10000 * (18000/20000 - 1) = -1000 per long). */
  const double q = -10000.0, e0 = 20000.0, e1 = 18000.0;
  const double coin_short = q * (1.0 / e0 - 1.0 / e1);
  assert_true(fabs(coin_short - 1.0 / 18.0) <= 1e-15); /* 0.0555... = 1/18 */
  assert_true(fabs(coin_short * e1 - 1000.0) <= 1e-9);
  assert_true(fabs(q * im_instrument_pnl(IM_INVPERP, e0, e1) - 1000.0) <= 1e-9);
}

/* ---------------------------------------------------------------------- */
/* The hand-built market and book                                          */

enum { NU = 2, ND = 40, NI = 6, NP = 6, NPOS = 11, MAXW = 64 };

static char und_names[NU][IM_NAME_LEN] = {"BTC", "ETH"};

/* Deterministic closes with high-entropy digits (no two moves alike, no
 * exactly representable ratios). */
static void make_closes(double *close) {
  for (int k = 0; k < ND; k++) {
    close[0 * ND + k] = 100.0 * exp(0.03 * sin(1.7 * k) + 0.001 * k);
    close[1 * ND + k] = 37.0 * exp(0.05 * sin(0.9 * k + 0.4) - 0.002 * k);
  }
}

static im_market make_market(double *close) {
  im_market m;
  m.n_und = NU;
  m.n_days = ND;
  m.day0 = 19723; /* 2024-01-01 (`date -u -d 2024-01-01 +%s` / 86400) */
  m.und = und_names;
  m.close = close;
  return m;
}

static im_instrument book_instr[NI] = {
    {0, IM_SPOT, 0, 0}, {0, IM_PERP, 0, 0}, {0, IM_INVPERP, 0, 0}, /* BTC-SPOT, -PERP, -INVPERP */
    {1, IM_SPOT, 0, 0}, {1, IM_PERP, 0, 0}, {1, IM_INVPERP, 0, 0}, /* ETH-SPOT, -PERP, -INVPERP */
};
static char book_ids[NP][IM_PORT_ID_LEN] = {"btc-spot",   "eth-perp-short", "btc-inv-hedged",
                                            "mixed-2",    "mixed-4",        "btc-perp"};
/* P0 BTC only, P1 ETH only, P2 BTC only (two kinds), P3 both, P4 both (four
 * positions), P5 BTC only. */
static size_t book_start[NP + 1] = {0, 1, 2, 4, 6, 10, 11};
static uint32_t book_pos_instr[NPOS] = {0, 4, 2, 0, 5, 1, 3, 5, 2, 0, 1};
static double book_pos_qty[NPOS] = {1.0,  -3.0,    -150.0, 2.0,  90.0, -0.7,
                                    1.5, -40.0,   25.0,   0.25, 0.3};

static im_book make_book(void) {
  im_book b;
  b.n_instr = NI;
  b.instr = book_instr;
  b.n_port = NP;
  b.id = book_ids;
  b.pos_start = book_start;
  b.pos_instr = book_pos_instr;
  b.pos_qty = book_pos_qty;
  return b;
}

static bool holds(const im_book *b, size_t p, size_t u) {
  for (size_t k = b->pos_start[p]; k < b->pos_start[p + 1]; k++)
    if (b->instr[b->pos_instr[k]].und == u) return true;
  return false;
}

/* ---------------------------------------------------------------------- */
/* Brute-force reference                                                   */

/* W (1 - conf) with the 1e-9 rounding of risk.h. */
static double ref_tail_mass(size_t w, double conf) {
  double m = (double)w * (1.0 - conf);
  double r = floor(m + 0.5);
  return fabs(m - r) < 1e-9 ? r : m;
}

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Scenario days used at t (most recent first), or 0 if the window cannot be
 * filled / today's close is missing. */
static size_t ref_window(const im_market *mkt, const im_book *b, size_t p, size_t t, size_t h,
                         size_t w, size_t *days) {
  const size_t nd = mkt->n_days;
  for (size_t u = 0; u < mkt->n_und; u++)
    if (holds(b, p, u) && isnan(mkt->close[u * nd + t])) return 0;
  size_t n = 0;
  for (size_t k = t + 1; k-- > h && n < w;) {
    bool usable = true;
    for (size_t u = 0; u < mkt->n_und; u++)
      if (holds(b, p, u) && (isnan(mkt->close[u * nd + k]) || isnan(mkt->close[u * nd + k - h])))
        usable = false;
    if (usable) days[n++] = k;
  }
  return n == w ? n : 0;
}

typedef struct {
  double im, pnl;
  int8_t exceed;
} ref_result;

static ref_result ref_eval(const im_market *mkt, const im_book *b, const im_model *md, size_t p,
                           size_t t) {
  const size_t nd = mkt->n_days, h = (size_t)md->horizon, w = (size_t)md->window;
  size_t days[MAXW];
  double loss[MAXW];
  ref_result r;
  r.im = NAN;
  if (ref_window(mkt, b, p, t, h, w, days) == w) {
    for (size_t j = 0; j < w; j++) {
      const size_t k = days[j];
      double pnl = 0;
      for (size_t i = b->pos_start[p]; i < b->pos_start[p + 1]; i++) {
        const im_instrument in = b->instr[b->pos_instr[i]];
        const double *c = mkt->close + in.und * nd;
        /* s_t * (close[k] / close[k-h]): the ratio is formed first, as the
         * model does, so that the comparison can be exact. */
        const double st = c[t], s1 = st * (c[k] / c[k - h]);
        pnl += b->pos_qty[i] * im_instrument_pnl(in.kind, st, s1);
      }
      loss[j] = -pnl;
    }
    qsort(loss, w, sizeof *loss, cmp_desc);
    const double m = ref_tail_mass(w, md->confidence);
    double v;
    if (md->measure == IM_MEASURE_VAR) {
      size_t k = (size_t)floor(m) + 1;
      if (k > w) k = w;
      v = loss[k - 1];
    } else {
      const size_t whole = (size_t)floor(m);
      double s = 0;
      for (size_t j = 0; j < whole && j < w; j++) s += loss[j];
      v = whole < w ? (s + (m - (double)whole) * loss[whole]) / m : s / (double)w;
    }
    r.im = v < 0 ? 0.0 : v;
  }
  r.pnl = NAN;
  if (t + h < nd) {
    double pnl = 0;
    for (size_t i = b->pos_start[p]; i < b->pos_start[p + 1]; i++) {
      const im_instrument in = b->instr[b->pos_instr[i]];
      const double *c = mkt->close + in.und * nd;
      pnl += b->pos_qty[i] * im_instrument_pnl(in.kind, c[t], c[t + h]);
    }
    r.pnl = pnl;
  }
  r.exceed = (int8_t)((isnan(r.im) || isnan(r.pnl)) ? -1 : (-r.pnl > r.im ? 1 : 0));
  return r;
}

/* ---------------------------------------------------------------------- */
/* Running the model                                                       */

static im_model make_model(im_measure measure) {
  im_model md;
  memset(&md, 0, sizeof md);
  strcpy(md.name, "hs-test");
  md.kind = IM_MODEL_HS;
  md.measure = measure;
  md.confidence = 0.9;
  md.horizon = 2;
  md.window = 10;
  return md;
}

typedef struct {
  double im[NP * ND], pnl[NP * ND];
  int8_t ex[NP * ND];
} outputs;

/* Evaluates the whole book and calendar, cut into tiles at the given
 * portfolio and day boundaries (each list starts at 0 and ends at NP / ND),
 * visiting the tiles in reverse order when `reverse`. */
static void run_tiled(const im_market *mkt, const im_book *b, const im_model *md,
                      const size_t *pc, size_t npc, const size_t *dc, size_t ndc, bool reverse,
                      outputs *out) {
  im_model_state *s = NULL;
  im_err err;
  err.msg[0] = '\0';
  const im_status st = im_model_prepare(md, mkt, b, &s, &err);
  if (st != IM_OK) fail_msg("im_model_prepare: %s", err.msg);
  im_model_scratch *w = im_model_scratch_alloc(s);
  assert_non_null(w);
  double tim[NP * ND], tpnl[NP * ND];
  int8_t tex[NP * ND];
  const size_t ntile = (npc - 1) * (ndc - 1);
  for (size_t q = 0; q < ntile; q++) {
    const size_t idx = reverse ? ntile - 1 - q : q;
    const size_t pi = idx / (ndc - 1), di = idx % (ndc - 1);
    const size_t p0 = pc[pi], p1 = pc[pi + 1], d0 = dc[di], d1 = dc[di + 1];
    /* Poison the tile buffers so stale values cannot pass. */
    for (size_t i = 0; i < NP * ND; i++) {
      tim[i] = -12345.0;
      tpnl[i] = -12345.0;
      tex[i] = 42;
    }
    im_model_eval_tile(s, w, p0, p1, d0, d1, tim, tpnl, tex);
    for (size_t p = p0; p < p1; p++)
      for (size_t t = d0; t < d1; t++) {
        const size_t o = (p - p0) * (d1 - d0) + (t - d0);
        out->im[p * ND + t] = tim[o];
        out->pnl[p * ND + t] = tpnl[o];
        out->ex[p * ND + t] = tex[o];
      }
  }
  im_model_scratch_free(w);
  im_model_state_free(s);
}

static void run_whole(const im_market *mkt, const im_book *b, const im_model *md, outputs *out) {
  static const size_t pc[] = {0, NP}, dc[] = {0, ND};
  run_tiled(mkt, b, md, pc, 2, dc, 2, false, out);
}

/* Exactly equal (or both NaN): for hand cases whose arithmetic is exact. */
static bool same_value(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Equal within 1e-12 relative (or both NaN). The model sums a portfolio as
 * USD exposure per underlying times the relative move, the reference position
 * by position: the same algebra, summed in another order, so the last bits may
 * differ. */
static bool close_value(double a, double b) {
  return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)) + 1e-12;
}

/* Compares model outputs with the brute force at every (p, t): IM (VaR or ES)
 * and pnl within 1e-12 relative; the exceedance flag exactly, unless loss and
 * margin are within that tolerance of each other (a tie the rounding decides). */
static void check_against_ref(const im_market *mkt, const im_book *b, const im_model *md,
                              const outputs *out, const char *what) {
  for (size_t p = 0; p < b->n_port; p++)
    for (size_t t = 0; t < mkt->n_days; t++) {
      const ref_result r = ref_eval(mkt, b, md, p, t);
      const double im = out->im[p * ND + t], pnl = out->pnl[p * ND + t];
      const int ex = out->ex[p * ND + t];
      if (!close_value(im, r.im))
        fail_msg("%s: %s IM at p=%zu t=%zu: model %.17g, reference %.17g", what,
                 im_measure_name(md->measure), p, t, im, r.im);
      if (!close_value(pnl, r.pnl))
        fail_msg("%s: pnl at p=%zu t=%zu: model %.17g, reference %.17g", what, p, t, pnl, r.pnl);
      if (ex != r.exceed && !close_value(-pnl, im))
        fail_msg("%s: exceed at p=%zu t=%zu: model %d, reference %d (im %.17g pnl %.17g)", what,
                 p, t, ex, (int)r.exceed, im, pnl);
    }
}

/* ---------------------------------------------------------------------- */
/* (b) instrument names                                                    */

static void test_instrument_parse(void **state) {
  (void)state;
  double close[NU * ND];
  make_closes(close);
  const im_market mkt = make_market(close);
  im_instrument in;
  im_err err;

  static const struct {
    const char *name;
    uint32_t und;
    im_instr_kind kind;
  } good[] = {{"BTC-SPOT", 0, IM_SPOT},  {"BTC-PERP", 0, IM_PERP}, {"BTC-INVPERP", 0, IM_INVPERP},
              {"ETH-SPOT", 1, IM_SPOT},  {"ETH-INVPERP", 1, IM_INVPERP}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    in.und = 99;
    in.kind = IM_SPOT;
    err.msg[0] = '\0';
    const im_status st = im_instrument_parse(&mkt, good[i].name, &in, &err);
    if (st != IM_OK) fail_msg("%s: status %d (%s)", good[i].name, (int)st, err.msg);
    assert_int_equal(in.und, good[i].und);
    assert_int_equal(in.kind, good[i].kind);
    char buf[64];
    im_instrument_name(&mkt, in, buf, sizeof buf);
    assert_string_equal(buf, good[i].name);
  }

  static const char *const bad[] = {"BTC-FOO", "XYZ-SPOT", "SPOT", "-SPOT", "BTC-", "btc-SPOT",
                                    "BTC-spot"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err.msg[0] = '\0';
    const im_status st = im_instrument_parse(&mkt, bad[i], &in, &err);
    if (st != IM_EDATA) fail_msg("\"%s\": status %d, expected IM_EDATA", bad[i], (int)st);
    if (err.msg[0] == '\0') fail_msg("\"%s\": empty error message", bad[i]);
  }
  /* A NULL im_err is allowed. */
  assert_int_equal(im_instrument_parse(&mkt, "BTC-FOO", &in, NULL), IM_EDATA);

  assert_int_equal(im_market_find(&mkt, "ETH"), 1);
  assert_int_equal(im_market_find(&mkt, "XYZ"), -1);

  const im_book b = make_book();
  assert_int_equal(im_book_underlyings(&b, 0), 1); /* BTC */
  assert_int_equal(im_book_underlyings(&b, 1), 2); /* ETH */
  assert_int_equal(im_book_underlyings(&b, 3), 3); /* both */
}

/* ---------------------------------------------------------------------- */
/* (c) HS end to end against the brute force                               */

static void test_hs_matches_bruteforce(void **state) {
  (void)state;
  double close[NU * ND];
  make_closes(close);
  const im_market mkt = make_market(close);
  const im_book b = make_book();
  static outputs out;
  const size_t h = 2, w = 10;

  const im_measure measures[2] = {IM_MEASURE_VAR, IM_MEASURE_ES};
  for (int mi = 0; mi < 2; mi++) {
    const im_model md = make_model(measures[mi]);
    run_whole(&mkt, &b, &md, &out);
    check_against_ref(&mkt, &b, &md, &out, "gapless");

    size_t n_ex0 = 0, n_ex1 = 0;
    for (size_t p = 0; p < NP; p++)
      for (size_t t = 0; t < ND; t++) {
        const size_t o = p * ND + t;
        /* The first scenario day is k = h (it needs close[k-h]); W of them
         * end at t = h + W - 1 = 11: before that there is no IM. */
        if (t < h + w - 1) {
          assert_true(isnan(out.im[o]));
          assert_int_equal(out.ex[o], -1);
        } else {
          assert_false(isnan(out.im[o]));
          assert_true(out.im[o] >= 0.0);
        }
        /* The last h days have no t+h close: no realised pnl. */
        if (t + h >= ND) {
          assert_true(isnan(out.pnl[o]));
          assert_int_equal(out.ex[o], -1);
        } else {
          assert_false(isnan(out.pnl[o]));
        }
        n_ex0 += out.ex[o] == 0;
        n_ex1 += out.ex[o] == 1;
        /* On gapless history the window at t is exactly t-W+1 .. t. */
        size_t days[MAXW];
        if (ref_window(&mkt, &b, p, t, h, w, days) == w) {
          assert_int_equal(days[0], t);
          assert_int_equal(days[w - 1], t - w + 1);
        }
      }
    /* The data exercise both outcomes of the exceedance rule. */
    assert_true(n_ex0 > 0);
    assert_true(n_ex1 > 0);
  }
}

/* Hand-worked HS on powers of two, where every number is exact: one
 * underlying, h = 1, W = 1 (k = 1 at any confidence), closes 64, 32, 16, 8, 3.
 * Long 1 spot: IM(t) = -(s_t * c[t]/c[t-1] - s_t) = s_t / 2 for t = 1..3.
 *   t=1: IM 16, realised 16 - 32 = -16 -> loss 16, not > 16 -> exceed 0
 *   t=2: IM 8,  realised 8 - 16 = -8  -> loss 8 = IM        -> exceed 0
 *   t=3: IM 4,  realised 3 - 8 = -5   -> loss 5 > 4         -> exceed 1
 *   t=4: IM 3 - 3*3/8 = 1.875, no t+1 -> pnl NaN, exceed -1
 *   t=0: no scenario (needs close[-1]) -> IM NaN, exceed -1
 * Short 1 spot: scenario losses are gains: VaR < 0 is floored to IM 0. */
static void test_hs_hand_powers_of_two(void **state) {
  (void)state;
  static char names[1][IM_NAME_LEN] = {"X"};
  double close[5] = {64, 32, 16, 8, 3};
  im_market mkt;
  mkt.n_und = 1;
  mkt.n_days = 5;
  mkt.day0 = 0;
  mkt.und = names;
  mkt.close = close;
  static im_instrument instr[1] = {{0, IM_SPOT, 0, 0}};
  static char ids[2][IM_PORT_ID_LEN] = {"long", "short"};
  static size_t start[3] = {0, 1, 2};
  static uint32_t pi[2] = {0, 0};
  static double qty[2] = {1.0, -1.0};
  im_book b;
  b.n_instr = 1;
  b.instr = instr;
  b.n_port = 2;
  b.id = ids;
  b.pos_start = start;
  b.pos_instr = pi;
  b.pos_qty = qty;
  im_model md = make_model(IM_MEASURE_VAR);
  md.horizon = 1;
  md.window = 1;
  md.confidence = 0.99;

  im_model_state *s = NULL;
  im_err err;
  assert_int_equal(im_model_prepare(&md, &mkt, &b, &s, &err), IM_OK);
  im_model_scratch *w = im_model_scratch_alloc(s);
  assert_non_null(w);
  double im[10], pnl[10];
  int8_t ex[10];
  im_model_eval_tile(s, w, 0, 2, 0, 5, im, pnl, ex);
  im_model_scratch_free(w);
  im_model_state_free(s);

  const double want_im[5] = {NAN, 16, 8, 4, 1.875};
  const double want_pnl[5] = {-32, -16, -8, -5, NAN};
  const int want_ex[5] = {-1, 0, 0, 1, -1};
  for (size_t t = 0; t < 5; t++) {
    if (!same_value(im[t], want_im[t]) || !same_value(pnl[t], want_pnl[t]) || ex[t] != want_ex[t])
      fail_msg("long t=%zu: im %g pnl %g exceed %d; expected %g %g %d", t, im[t], pnl[t], ex[t],
               want_im[t], want_pnl[t], want_ex[t]);
    /* short: IM 0 wherever defined; pnl is the negative; never exceeds. */
    const double sim = im[5 + t], spnl = pnl[5 + t];
    if (!same_value(sim, t == 0 ? NAN : 0.0) || !same_value(spnl, -want_pnl[t]) ||
        ex[5 + t] != (t == 0 || t == 4 ? -1 : 0))
      fail_msg("short t=%zu: im %g pnl %g exceed %d", t, sim, spnl, ex[5 + t]);
  }
}

/* ---------------------------------------------------------------------- */
/* (d) tile independence                                                   */

static void check_tilings(const im_market *mkt, const im_book *b, const im_model *md,
                          const char *what) {
  static outputs whole, tiled;
  run_whole(mkt, b, md, &whole);
  static const size_t pcuts[][NP + 1] = {{0, 1, 2, 3, 4, 5, 6}, {0, 2, 4, 6, 0, 0, 0},
                                         {0, 1, 4, 6, 0, 0, 0}, {0, 5, 6, 0, 0, 0, 0},
                                         {0, 6, 0, 0, 0, 0, 0}};
  static const size_t npcuts[] = {7, 4, 4, 3, 2};
  static const size_t dcuts[][ND + 1] = {
      {0, 40},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
       21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40},
      {0, 7, 14, 21, 28, 35, 40},
      {0, 5, 11, 12, 25, 38, 39, 40},
      {0, 13, 40}};
  static const size_t ndcuts[] = {2, 41, 7, 8, 3};
  for (size_t i = 0; i < sizeof npcuts / sizeof npcuts[0]; i++)
    for (size_t j = 0; j < sizeof ndcuts / sizeof ndcuts[0]; j++)
      for (int rev = 0; rev < 2; rev++) {
        memset(&tiled, 0xA5, sizeof tiled);
        run_tiled(mkt, b, md, pcuts[i], npcuts[i], dcuts[j], ndcuts[j], rev != 0, &tiled);
        if (memcmp(whole.im, tiled.im, sizeof whole.im) != 0 ||
            memcmp(whole.pnl, tiled.pnl, sizeof whole.pnl) != 0 ||
            memcmp(whole.ex, tiled.ex, sizeof whole.ex) != 0)
          fail_msg("%s %s: tiling p-cuts #%zu d-cuts #%zu%s differs from one tile", what,
                   im_measure_name(md->measure), i, j, rev ? " (reverse order)" : "");
      }
}

/* Gaps used by (d) and (f): ETH missing on day 20 and 3, BTC on day 1 and on
 * days 27-28. */
static void make_gapped_closes(double *close) {
  make_closes(close);
  close[1 * ND + 20] = NAN;
  close[1 * ND + 3] = NAN;
  close[0 * ND + 1] = NAN;
  close[0 * ND + 27] = NAN;
  close[0 * ND + 28] = NAN;
}

static void test_tile_independence(void **state) {
  (void)state;
  double close[NU * ND], gclose[NU * ND];
  make_closes(close);
  make_gapped_closes(gclose);
  const im_market mkt = make_market(close), gmkt = make_market(gclose);
  const im_book b = make_book();
  const im_measure measures[2] = {IM_MEASURE_VAR, IM_MEASURE_ES};
  for (int mi = 0; mi < 2; mi++) {
    const im_model md = make_model(measures[mi]);
    check_tilings(&mkt, &b, &md, "gapless");
    check_tilings(&gmkt, &b, &md, "gapped");
  }
}

/* ---------------------------------------------------------------------- */
/* (e) no look-ahead                                                       */

static void test_no_lookahead(void **state) {
  (void)state;
  double close[NU * ND], fut[NU * ND];
  make_closes(close);
  const im_market mkt = make_market(close);
  const im_book b = make_book();
  static outputs base, alt;
  const size_t h = 2;
  static const size_t t0s[] = {0, 5, 11, 12, 17, 25, 36, 37, 38};
  const im_measure measures[2] = {IM_MEASURE_VAR, IM_MEASURE_ES};
  for (int mi = 0; mi < 2; mi++) {
    const im_model md = make_model(measures[mi]);
    run_whole(&mkt, &b, &md, &base);
    for (size_t i = 0; i < sizeof t0s / sizeof t0s[0]; i++) {
      const size_t t0 = t0s[i];
      /* Rewrite the future: every close after t0 tripled, some removed. */
      memcpy(fut, close, sizeof fut);
      for (size_t u = 0; u < NU; u++)
        for (size_t k = t0 + 1; k < ND; k++)
          fut[u * ND + k] = (k + u) % 4 == 0 ? NAN : 3.0 * close[u * ND + k];
      const im_market fmkt = make_market(fut);
      run_whole(&fmkt, &b, &md, &alt);
      for (size_t p = 0; p < NP; p++) {
        /* IM at every t <= t0 is bit-identical. */
        if (memcmp(base.im + p * ND, alt.im + p * ND, (t0 + 1) * sizeof(double)) != 0)
          fail_msg("%s: IM at some t <= %zu of portfolio %zu changed with the future",
                   im_measure_name(md.measure), t0, p);
        /* So is realised pnl whose end t+h is still <= t0. */
        if (t0 >= h && memcmp(base.pnl + p * ND, alt.pnl + p * ND, (t0 - h + 1) * sizeof(double)))
          fail_msg("%s: pnl ending at or before %zu of portfolio %zu changed",
                   im_measure_name(md.measure), t0, p);
      }
      check_against_ref(&fmkt, &b, &md, &alt, "rewritten future");
    }
  }
}

/* ---------------------------------------------------------------------- */
/* (f) gaps                                                                */

static void test_gaps(void **state) {
  (void)state;
  double close[NU * ND], g1[NU * ND], g2[NU * ND];
  make_closes(close);
  const im_book b = make_book();
  const size_t h = 2, w = 10, g = 20;
  static outputs base, out1, out2;

  /* Market 1: ETH alone misses day 20. */
  memcpy(g1, close, sizeof g1);
  g1[1 * ND + g] = NAN;
  const im_market mkt = make_market(close), m1 = make_market(g1);
  make_gapped_closes(g2);
  const im_market m2 = make_market(g2);

  /* Hand-derived window for an ETH portfolio at t = 25: scenario day k is
   * unusable when close[k] or close[k-2] is missing, i.e. k = 20 and 22;
   * counting back 10 usable days from 25 gives 25 24 23 21 19 18 17 16 15 14. */
  {
    size_t days[MAXW];
    static const size_t want[10] = {25, 24, 23, 21, 19, 18, 17, 16, 15, 14};
    assert_int_equal(ref_window(&m1, &b, 1, 25, h, w, days), w);
    for (size_t j = 0; j < w; j++) assert_int_equal(days[j], want[j]);
  }

  const im_measure measures[2] = {IM_MEASURE_VAR, IM_MEASURE_ES};
  for (int mi = 0; mi < 2; mi++) {
    const im_model md = make_model(measures[mi]);
    run_whole(&mkt, &b, &md, &base);
    run_whole(&m1, &b, &md, &out1);
    run_whole(&m2, &b, &md, &out2);

    check_against_ref(&m1, &b, &md, &out1, "ETH gap at day 20");
    check_against_ref(&m2, &b, &md, &out2, "gaps in both underlyings");

    size_t extended = 0;
    for (size_t p = 0; p < NP; p++) {
      const bool eth = holds(&b, p, 1);
      if (!eth) {
        /* Holding only BTC: the ETH gap changes nothing, bit for bit. */
        if (memcmp(base.im + p * ND, out1.im + p * ND, ND * sizeof(double)) ||
            memcmp(base.pnl + p * ND, out1.pnl + p * ND, ND * sizeof(double)) ||
            memcmp(base.ex + p * ND, out1.ex + p * ND, ND))
          fail_msg("%s: BTC-only portfolio %zu affected by an ETH gap",
                   im_measure_name(md.measure), p);
        continue;
      }
      /* A NaN close at t itself: no IM at t, and no realised pnl at t
       * (starts at a missing close) nor at t - h (ends at one). */
      assert_true(isnan(out1.im[p * ND + g]));
      assert_int_equal(out1.ex[p * ND + g], -1);
      assert_true(isnan(out1.pnl[p * ND + g]));
      assert_true(isnan(out1.pnl[p * ND + g - h]));
      assert_int_equal(out1.ex[p * ND + g - h], -1);
      /* Dates whose window reaches back over the gap (t = 21 .. 20+h+W-1)
       * are evaluated on an extended window: IM defined. */
      for (size_t t = g + 1; t < ND; t++) {
        size_t days[MAXW];
        if (ref_window(&m1, &b, p, t, h, w, days) == w && days[w - 1] < t - w + 1) {
          extended++;
          assert_false(isnan(out1.im[p * ND + t]));
        }
      }
    }
    /* The gather path of the model was exercised. */
    assert_true(extended > 0);

    /* Market 2: the portfolios holding BTC have no IM on 27 and 28; those
     * holding ETH none on 3 and 20; those holding only ETH are defined on 27. */
    for (size_t p = 0; p < NP; p++) {
      if (holds(&b, p, 0)) {
        assert_true(isnan(out2.im[p * ND + 27]));
        assert_true(isnan(out2.im[p * ND + 28]));
      } else {
        assert_false(isnan(out2.im[p * ND + 27]));
      }
      if (holds(&b, p, 1)) assert_true(isnan(out2.im[p * ND + 20]));
    }
  }
}

/* ---------------------------------------------------------------------- */
/* (g) parameter checks                                                    */

static void expect_einval(const im_model *md, const im_market *mkt, const char *param) {
  im_err err;
  err.msg[0] = '\0';
  const im_status st = im_model_check(md, mkt, &err);
  if (st != IM_EINVAL) fail_msg("expected IM_EINVAL for bad %s, got %d", param, (int)st);
  if (!strstr(err.msg, param)) fail_msg("message \"%s\" does not name %s", err.msg, param);
  /* prepare refuses the same model and leaves no state behind. */
  const im_book b = make_book();
  im_model_state *s = (im_model_state *)&err; /* any non-NULL value */
  err.msg[0] = '\0';
  assert_int_equal(im_model_prepare(md, mkt, &b, &s, &err), IM_EINVAL);
  assert_null(s);
  assert_true(strstr(err.msg, param) != NULL);
}

static void test_model_check(void **state) {
  (void)state;
  double close[NU * ND];
  make_closes(close);
  const im_market mkt = make_market(close);
  im_err err;
  im_model md = make_model(IM_MEASURE_VAR);
  assert_int_equal(im_model_check(&md, &mkt, &err), IM_OK);

  md = make_model(IM_MEASURE_VAR);
  md.confidence = 0.0;
  expect_einval(&md, &mkt, "confidence");
  md.confidence = 1.0;
  expect_einval(&md, &mkt, "confidence");
  md.confidence = -0.5;
  expect_einval(&md, &mkt, "confidence");
  md.confidence = NAN;
  expect_einval(&md, &mkt, "confidence");

  md = make_model(IM_MEASURE_VAR);
  md.horizon = 0;
  expect_einval(&md, &mkt, "horizon");
  md.horizon = -3;
  expect_einval(&md, &mkt, "horizon");

  md = make_model(IM_MEASURE_VAR);
  md.window = 0;
  expect_einval(&md, &mkt, "window");

  /* window + horizon > n_days (40): 39 + 2 = 41. */
  md = make_model(IM_MEASURE_VAR);
  md.window = 39;
  expect_einval(&md, &mkt, "window");
  /* A huge window: the message's day count 2147483647 + 2 = 2147483649 must
   * not overflow int32 (it did: signed overflow, printed negative). */
  md.window = INT32_MAX;
  expect_einval(&md, &mkt, "window");
  expect_einval(&md, &mkt, "2147483649");
  /* window + horizon == n_days is the longest allowed: one IM, on the last
   * day (t = h + W - 1 = 39), and it has no realised pnl. */
  md.window = 38;
  assert_int_equal(im_model_check(&md, &mkt, &err), IM_OK);
  {
    const im_book b = make_book();
    static outputs out;
    run_whole(&mkt, &b, &md, &out);
    for (size_t t = 0; t < ND; t++) assert_true(isnan(out.im[t]) == (t != ND - 1));
    check_against_ref(&mkt, &b, &md, &out, "W + h = n_days");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_instrument_pnl_hand),   cmocka_unit_test(test_instrument_parse),
      cmocka_unit_test(test_hs_matches_bruteforce), cmocka_unit_test(test_hs_hand_powers_of_two),
      cmocka_unit_test(test_tile_independence),     cmocka_unit_test(test_no_lookahead),
      cmocka_unit_test(test_gaps),                  cmocka_unit_test(test_model_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
