#include "market.h"

#include <stdio.h>
#include <string.h>

long im_market_find(const im_market *m, const char *name) {
  for (size_t u = 0; u < m->n_und; u++)
    if (strcmp(m->und[u], name) == 0) return (long)u;
  return -1;
}

static const struct {
  const char *suffix;
  im_instr_kind kind;
} kinds[] = {{"SPOT", IM_SPOT}, {"PERP", IM_PERP}, {"INVPERP", IM_INVPERP}};

im_status im_instrument_parse(const im_market *m, const char *name, im_instrument *out,
                              im_err *err) {
  const char *dash = strrchr(name, '-');
  if (!dash || dash == name)
    return im_err_set(err, IM_EDATA,
                      "instrument '%s' is not of the form <U>-SPOT, <U>-PERP or <U>-INVPERP",
                      name);
  size_t ulen = (size_t)(dash - name);
  char und[IM_NAME_LEN];
  if (ulen >= sizeof und)
    return im_err_set(err, IM_EDATA, "instrument '%s': underlying name too long", name);
  memcpy(und, name, ulen);
  und[ulen] = '\0';
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    if (strcmp(dash + 1, kinds[k].suffix) != 0) continue;
    long u = im_market_find(m, und);
    if (u < 0)
      return im_err_set(err, IM_EDATA, "instrument '%s': underlying '%s' is not in the market file",
                        name, und);
    out->und = (uint32_t)u;
    out->kind = kinds[k].kind;
    return IM_OK;
  }
  return im_err_set(err, IM_EDATA,
                    "instrument '%s': unknown kind '%s' (expected SPOT, PERP or INVPERP)", name,
                    dash + 1);
}

void im_instrument_name(const im_market *m, im_instrument in, char *buf, size_t len) {
  snprintf(buf, len, "%s-%s", m->und[in.und], kinds[in.kind].suffix);
}

uint64_t im_book_underlyings(const im_book *b, size_t p) {
  uint64_t mask = 0;
  for (size_t k = b->pos_start[p]; k < b->pos_start[p + 1]; k++)
    mask |= UINT64_C(1) << b->instr[b->pos_instr[k]].und;
  return mask;
}
