/* Synthetic accounts for scale runs (`imvar portfolios generate`): realistic
 * mixes of directional, hedged, basis and multi-asset books. Each account is
 * a pure function of (seed, account index) through Random123 Philox, so any
 * subset can be generated anywhere and the file is the same every time. */
#ifndef IM_GENPORT_H
#define IM_GENPORT_H

#include <stddef.h>
#include <stdint.h>

#include "market.h"

typedef enum {
  IM_ACCT_DIRECTIONAL = 0, /* one underlying, one to three same-sign positions */
  IM_ACCT_HEDGED = 1,      /* spot or perpetual hedged partially by the other */
  IM_ACCT_BASIS = 2,       /* spot against an equal and opposite (inverse) perpetual */
  IM_ACCT_MULTI = 3,       /* several underlyings, long and short */
  IM_ACCT_KINDS = 4
} im_acct_kind;

typedef struct {
  uint64_t seed;
  size_t max_positions; /* 1..20 */
} im_gen_opts;

/* Writes account `index`'s positions (at most opts->max_positions) into
 * und/kind/qty and returns their number and, in *acct, the account type.
 * ref_price[u] (> 0) turns the drawn USD notional (log-uniform, 1e3 to 1e7)
 * into coins; inverse perpetual quantities are USD contracts. */
size_t im_gen_account(const im_gen_opts *opts, size_t n_und, const double *ref_price,
                      uint64_t index, uint32_t *und, im_instr_kind *kind, double *qty,
                      im_acct_kind *acct);

const char *im_acct_kind_name(im_acct_kind k);

#endif
