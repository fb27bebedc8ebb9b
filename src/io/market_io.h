/* market.h5: daily closes of several underlyings on one gapless UTC calendar.
 *
 *   /            attrs: format = "imvar-market", format_version = 1, imvar_version
 *   /dates       int32 [T]     YYYYMMDD, consecutive days
 *   /underlyings string [U]    fixed-length names (BTC, ETH, ...)
 *   /sources     string [U]    the CSV each underlying was imported from
 *   /close       float64 [U][T] NaN where the source has no row (a gap)
 *   /present     int8 [U][T]   the gap mask: 1 close present, 0 gap
 *   /ivol        float64 [U][T] optional: ATM implied volatility as a fraction
 *                              (Deribit DVOL / 100), NaN where there is none
 *   /funding     float64 [U][T] optional: funding a long perpetual pays over the
 *                              day, per unit of notional, NaN where unknown
 *   /volume      float64 [U][T] optional: the day's traded quote volume in USD
 *                              (the price CSV's volume_quote column), NaN where
 *                              unknown; absent when no price CSV has the column
 */
#ifndef IM_MARKET_IO_H
#define IM_MARKET_IO_H

#include "im_status.h"
#include "market.h"

/* One underlying's series as read from a CSV: strictly increasing days. */
typedef struct {
  char name[IM_NAME_LEN];
  char source[256];
  size_t n;
  int32_t *day;
  double *close;
  double *volume; /* price CSVs: the volume_quote column, NaN for an empty cell;
                     NULL when the file has no such column */
} im_series;

/* Reads a CSV with a header holding `date` (or `timestamp`) and `close`
 * columns, and optionally `volume_quote` (>= 0, or empty); other columns are
 * ignored. Fails with "file:line: reason" on a
 * missing column, a malformed date or number, a non-positive price, or a
 * duplicate or out-of-order date. */
im_status im_series_read_csv(const char *path, const char *name, im_series *out, im_err *err);
void im_series_clear(im_series *s);

/* The same with another value column; positive = values must be > 0. */
im_status im_series_read_csv_column(const char *path, const char *name, const char *column,
                                    int positive, im_series *out, im_err *err);

/* Adds daily funding from series of Binance-style funding_rate_mean (the
 * mean of the day's three 8-hour rates, as a fraction): 3 x the mean. */
im_status im_market_add_funding(im_market *m, const im_series *s, size_t n, im_err *err);

/* Aligns series on one calendar from the earliest to the latest date (and
 * their quote volumes, when any series has them). */
im_status im_market_from_series(const im_series *s, size_t n, im_market *out, im_err *err);

/* Adds implied-vol series (CSV `close` in percent, as Deribit DVOL) to m on
 * its calendar; days outside it are ignored. IM_EINVAL if a series names no
 * underlying of m. */
im_status im_market_add_ivol(im_market *m, const im_series *s, size_t n, im_err *err);

/* Writes market.h5 (serial HDF5) through a temporary name and a rename, so a
 * failure leaves no partial file. */
im_status im_market_write_h5(const char *path, const im_market *m, const im_series *src,
                             im_err *err);

/* Reads market.h5; checks its format attribute and shapes. */
im_status im_market_read_h5(const char *path, im_market *out, im_err *err);

void im_market_clear(im_market *m);

#endif
