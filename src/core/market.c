#include "market.h"

#include <stdio.h>
#include <string.h>

long im_market_find(const im_market *m, const char *name) {
  for (size_t u = 0; u < m->n_und; u++)
    if (strcmp(m->und[u], name) == 0) return (long)u;
  return -1;
}

#include <stdlib.h>

static const struct {
  const char *suffix;
  im_instr_kind kind;
} kinds[] = {{"SPOT", IM_SPOT}, {"PERP", IM_PERP}, {"INVPERP", IM_INVPERP}};

/* "C-30D-0.90" or "P-7D-1.1" -> kind, tenor, moneyness. */
static int parse_option(const char *s, im_instrument *out) {
  if ((s[0] != 'C' && s[0] != 'P') || s[1] != '-') return 0;
  char *end;
  long n = strtol(s + 2, &end, 10);
  if (end == s + 2 || *end != 'D' || end[1] != '-' || n < 1 || n > 3650) return 0;
  const char *ks = end + 2;
  double k = strtod(ks, &end);
  if (end == ks || *end != '\0' || !(k > 0.01 && k < 100)) return 0;
  out->kind = s[0] == 'C' ? IM_CALL : IM_PUT;
  out->tenor = (int32_t)n;
  out->money = k;
  return 1;
}

im_status im_instrument_parse(const im_market *m, const char *name, im_instrument *out,
                              im_err *err) {
  const char *dash = strchr(name, '-');
  if (!dash || dash == name)
    return im_err_set(err, IM_EDATA,
                      "instrument '%s' is not of the form <U>-SPOT, <U>-PERP, <U>-INVPERP, "
                      "<U>-C-<N>D-<K> or <U>-P-<N>D-<K>",
                      name);
  size_t ulen = (size_t)(dash - name);
  char und[IM_NAME_LEN];
  if (ulen >= sizeof und)
    return im_err_set(err, IM_EDATA, "instrument '%s': underlying name too long", name);
  memcpy(und, name, ulen);
  und[ulen] = '\0';
  im_instrument in = {0};
  int ok = 0;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !ok; k++)
    if (strcmp(dash + 1, kinds[k].suffix) == 0) {
      in.kind = kinds[k].kind;
      ok = 1;
    }
  if (!ok && strncmp(dash + 1, "FUT-", 4) == 0) {
    char *end;
    long n = strtol(dash + 5, &end, 10);
    if (end == dash + 5 || strcmp(end, "D") != 0 || n < 1 || n > 3650)
      return im_err_set(err, IM_EDATA,
                        "instrument '%s': a dated future is <U>-FUT-<N>D with N days to expiry "
                        "(1..3650), e.g. BTC-FUT-90D",
                        name);
    in.kind = IM_FUT;
    in.tenor = (int32_t)n;
    ok = 1;
  }
  if (!ok && (dash[1] == 'C' || dash[1] == 'P') && dash[2] == '-') {
    if (!parse_option(dash + 1, &in))
      return im_err_set(err, IM_EDATA,
                        "instrument '%s': an option is <U>-C-<N>D-<K> or <U>-P-<N>D-<K> with N "
                        "days to expiry (1..3650) and strike K x spot (e.g. BTC-P-30D-0.90)",
                        name);
    ok = 1;
  }
  if (!ok)
    return im_err_set(err, IM_EDATA,
                      "instrument '%s': unknown kind '%s' (expected SPOT, PERP, INVPERP, a future "
                      "FUT-<N>D, or an option C-<N>D-<K> / P-<N>D-<K>)",
                      name, dash + 1);
  long u = im_market_find(m, und);
  if (u < 0)
    return im_err_set(err, IM_EDATA, "instrument '%s': underlying '%s' is not in the market file",
                      name, und);
  in.und = (uint32_t)u;
  *out = in;
  return IM_OK;
}

void im_instrument_name(const im_market *m, im_instrument in, char *buf, size_t len) {
  if (im_is_option(in.kind))
    snprintf(buf, len, "%s-%c-%dD-%g", m->und[in.und], in.kind == IM_CALL ? 'C' : 'P',
             (int)in.tenor, in.money);
  else if (in.kind == IM_FUT)
    snprintf(buf, len, "%s-FUT-%dD", m->und[in.und], (int)in.tenor);
  else
    snprintf(buf, len, "%s-%s", m->und[in.und], kinds[in.kind].suffix);
}

uint64_t im_book_underlyings(const im_book *b, size_t p) {
  uint64_t mask = 0;
  for (size_t k = b->pos_start[p]; k < b->pos_start[p + 1]; k++) {
    const im_instrument in = b->instr[b->pos_instr[k]];
    mask |= UINT64_C(1) << in.und;
    if (im_is_option(in.kind)) mask |= UINT64_C(1) << (32 + in.und);
  }
  return mask;
}
