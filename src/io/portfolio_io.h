/* Portfolio files: CSV with a header holding the columns
 * `portfolio,instrument,quantity` (other columns are ignored). Each row is one
 * position; a portfolio is the set of rows with its id, in order of first
 * appearance. Instruments are named <U>-SPOT, <U>-PERP or <U>-INVPERP for an
 * underlying <U> of the market file. */
#ifndef IM_PORTFOLIO_IO_H
#define IM_PORTFOLIO_IO_H

#include "im_status.h"
#include "market.h"

im_status im_book_read_csv(const char *path, const im_market *mkt, im_book *out, im_err *err);
void im_book_clear(im_book *b);

#endif
