#include "genport.h"

#include <math.h>

#include <Random123/philox.h>

/* A stream of uniforms for one account: counter = (index, draw), key = seed. */
typedef struct {
  philox4x32_key_t key;
  philox4x32_ctr_t ctr;
} stream;

static double uniform(stream *s) {
  philox4x32_ctr_t r = philox4x32(s->ctr, s->key);
  s->ctr.v[2]++;
  /* 53 random bits -> [0, 1). */
  uint64_t bits = ((uint64_t)r.v[0] << 21) ^ (uint64_t)(r.v[1] >> 11);
  return (double)(bits & ((UINT64_C(1) << 53) - 1)) * 0x1p-53;
}

static size_t below(stream *s, size_t n) { return (size_t)(uniform(s) * (double)n); }

static double notional(stream *s) { return 1e3 * pow(10.0, 4.0 * uniform(s)); }

static double sign(stream *s) { return uniform(s) < 0.5 ? -1.0 : 1.0; }

const char *im_acct_kind_name(im_acct_kind k) {
  static const char *const names[] = {"directional", "hedged", "basis", "multi"};
  return k < IM_ACCT_KINDS ? names[k] : "?";
}

size_t im_gen_account(const im_gen_opts *opts, size_t n_und, const double *ref_price,
                      uint64_t index, uint32_t *und, im_instr_kind *kind, double *qty,
                      im_acct_kind *acct) {
  stream s = {.key = {{(uint32_t)opts->seed, (uint32_t)(opts->seed >> 32)}},
              .ctr = {{(uint32_t)index, (uint32_t)(index >> 32), 0, 0x67656e}}};
  size_t maxp = opts->max_positions < 1 ? 1 : opts->max_positions > 20 ? 20 : opts->max_positions;
  /* Mix: half directional, the rest hedged, basis and multi-asset. */
  double u = uniform(&s);
  im_acct_kind k = u < 0.5 ? IM_ACCT_DIRECTIONAL : u < 0.65 ? IM_ACCT_HEDGED : u < 0.8 ? IM_ACCT_BASIS : IM_ACCT_MULTI;
  if (maxp < 2 && k != IM_ACCT_DIRECTIONAL) k = IM_ACCT_DIRECTIONAL;
  size_t n = 0;
  const uint32_t u0 = (uint32_t)below(&s, n_und);
  const double px = ref_price[u0];
  switch (k) {
    case IM_ACCT_DIRECTIONAL: {
      size_t np = 1 + below(&s, maxp < 3 ? maxp : 3);
      double sg = sign(&s);
      for (; n < np; n++) {
        und[n] = u0;
        kind[n] = (im_instr_kind)below(&s, 3);
        double usd = sg * notional(&s);
        qty[n] = kind[n] == IM_INVPERP ? usd : usd / px;
      }
      break;
    }
    case IM_ACCT_HEDGED: {
      double usd = notional(&s), hedge = 0.3 + 0.7 * uniform(&s), sg = sign(&s);
      und[0] = und[1] = u0;
      kind[0] = uniform(&s) < 0.5 ? IM_SPOT : IM_PERP;
      kind[1] = kind[0] == IM_SPOT ? IM_PERP : IM_SPOT;
      qty[0] = sg * usd / px;
      qty[1] = -sg * hedge * usd / px;
      n = 2;
      break;
    }
    case IM_ACCT_BASIS: {
      double usd = notional(&s);
      und[0] = und[1] = u0;
      kind[0] = IM_SPOT;
      kind[1] = uniform(&s) < 0.5 ? IM_PERP : IM_INVPERP;
      qty[0] = usd / px;
      qty[1] = kind[1] == IM_INVPERP ? -usd : -usd / px;
      n = 2;
      break;
    }
    default: {
      size_t np = 2 + below(&s, maxp - 1);
      for (; n < np; n++) {
        und[n] = (uint32_t)below(&s, n_und);
        kind[n] = (im_instr_kind)below(&s, 3);
        double usd = sign(&s) * notional(&s);
        qty[n] = kind[n] == IM_INVPERP ? usd : usd / ref_price[und[n]];
      }
    }
  }
  *acct = k;
  return n;
}
