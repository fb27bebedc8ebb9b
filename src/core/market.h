/* Market data and portfolios as the numerics see them: plain arrays, owned by
 * whoever filled them (io/ reads them from files, tests build them by hand). */
#ifndef IM_MARKET_H
#define IM_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

#define IM_NAME_LEN 32     /* underlying names, NUL included */
#define IM_PORT_ID_LEN 64  /* portfolio ids, NUL included */
/* A portfolio's risk factors fit one uint64_t mask: bit u for the spot of
 * underlying u, bit 32 + u for its implied volatility. */
#define IM_MAX_UNDERLYINGS 32

/* Daily closes on a gapless calendar: day i is day0 + i (days since
 * 1970-01-01). A missing close (a gap in the source) is NaN. */
typedef struct {
  size_t n_und;
  size_t n_days;
  int32_t day0;
  char (*und)[IM_NAME_LEN]; /* [n_und] */
  double *close;            /* [n_und][n_days] */
  double *ivol;             /* [n_und][n_days] ATM implied vol (DVOL/100), NaN where none;
                               NULL when the market has no implied vols at all */
  double *funding;          /* [n_und][n_days] funding a long perpetual pays over day d per
                               unit notional, NaN where unknown; NULL if none at all */
  double *volume;           /* [n_und][n_days] traded quote volume of day d in USD (Binance
                               volume_quote), NaN where unknown; NULL if none at all */
  double *high;             /* [n_und][n_days] the day's highest and lowest price, */
  double *low;              /* NaN where unknown; NULL if none at all */
} im_market;

typedef enum {
  IM_SPOT = 0,    /* quantity in coins */
  IM_PERP = 1,    /* linear USDT-margined perpetual, quantity in coins */
  IM_INVPERP = 2, /* coin-margined inverse perpetual, quantity in 1-USD contracts */
  IM_CALL = 3,    /* European call, quantity in coins */
  IM_PUT = 4,     /* European put, quantity in coins */
  IM_FUT = 5,     /* dated linear future, quantity in coins; zero rates: marked at spot */
} im_instr_kind;

typedef struct {
  uint32_t und; /* index into im_market.und */
  im_instr_kind kind;
  int32_t tenor; /* options and futures: days to expiry at the as-of date */
  double money;  /* options: strike / spot at the as-of date */
} im_instrument;

static inline int im_is_option(im_instr_kind k) { return k == IM_CALL || k == IM_PUT; }

/* Portfolios in compressed rows: portfolio p holds positions
 * pos_start[p] .. pos_start[p+1]-1, each an instrument index and a quantity. */
typedef struct {
  size_t n_instr;
  im_instrument *instr; /* [n_instr], distinct */
  size_t n_port;
  char (*id)[IM_PORT_ID_LEN]; /* [n_port] */
  size_t *pos_start;          /* [n_port + 1] */
  uint32_t *pos_instr;        /* [n_pos] */
  double *pos_qty;            /* [n_pos] */
} im_book;

/* Index of an underlying by name, or -1. */
long im_market_find(const im_market *m, const char *name);

/* Parses "<U>-SPOT", "<U>-PERP", "<U>-INVPERP", "<U>-FUT-<N>D", "<U>-C-<N>D-<K>"
 * or "<U>-P-<N>D-<K>" (N days to expiry, strike K x spot, e.g. BTC-P-30D-0.90)
 * against the market's underlyings. IM_EDATA with a sentence in err when the
 * name is malformed or the underlying is not in the market. */
im_status im_instrument_parse(const im_market *m, const char *name, im_instrument *out,
                              im_err *err);

/* Writes the canonical name of an instrument. */
void im_instrument_name(const im_market *m, im_instrument in, char *buf, size_t len);

/* Change in value, in USD, of one unit of an instrument when its underlying
 * moves from s0 to s1 (full revaluation). Spot and linear perpetual: one coin,
 * s1 - s0. Inverse perpetual: one 1-USD contract, whose P&L accrues in coin,
 * 1/s0 - 1/s1, and is valued in USD at the exit price s1, i.e. s1/s0 - 1. */
static inline double im_instrument_pnl(im_instr_kind kind, double s0, double s1) {
  return kind == IM_INVPERP ? s1 / s0 - 1.0 : s1 - s0;
}

/* Bit mask of the risk factors a portfolio's positions reference: bit u for
 * every position on underlying u, bit 32 + u for options on it. */
uint64_t im_book_underlyings(const im_book *b, size_t p);

#endif
