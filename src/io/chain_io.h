/* A Deribit option-chain snapshot (get_book_summary_by_currency fields) for
 * fitting the smile: instrument_name (BTC-29MAR24-70000-C), underlying_price
 * (the expiry's forward), mark_iv (percent) and creation_timestamp (ms). */
#ifndef IM_CHAIN_IO_H
#define IM_CHAIN_IO_H

#include <stddef.h>

#include "im_status.h"

typedef struct {
  size_t n;
  int *group;    /* expiry id */
  double *tau;   /* years to expiry (08:00 UTC on the expiry date) */
  double *f, *k, *iv;
} im_chain;

/* Reads the calls of expiries at least min_days away that are quoted on both
 * sides (bid_price and ask_price present, when the file has those columns). */
im_status im_chain_read_csv(const char *path, double min_days, im_chain *out, im_err *err);
void im_chain_clear(im_chain *c);

#endif
