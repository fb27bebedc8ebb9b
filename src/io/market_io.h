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
 *                              (the price CSV's quote-volume column), NaN where
 *                              unknown; absent when no price CSV has the column
 *   /high, /low  float64 [U][T] optional: the day's highest and lowest price
 *                              (low <= close <= high), NaN where unknown;
 *                              absent when no price CSV has the column
 */
#ifndef IM_MARKET_IO_H
#define IM_MARKET_IO_H

#include "im_status.h"
#include "market.h"

/* One underlying's series as read from a CSV: strictly increasing days, only
 * the days with a value (a row whose value is empty or null is a gap). */
typedef struct {
  char name[IM_NAME_LEN];
  char source[256];
  size_t n;
  int32_t *day;
  double *close;
  double *volume; /* price CSVs: the quote volume, NaN for an empty or null cell;
                     NULL when the file has no such column */
  double *high;   /* price CSVs: the day's high and low, NaN for an empty or */
  double *low;    /* null cell; NULL when the file has no such column */
  char warning[512]; /* a column the file has but the import ignored, with why;
                        empty when none (io does not print: the app does) */
} im_series;

/* How to read a price CSV where the file cannot say it. */
typedef struct {
  int volume_is_quote; /* a plain 'volume' column is the day's quote volume in
                          USD (Yahoo Finance); otherwise it is ignored with a
                          warning (it is base volume in Binance and Coinbase) */
} im_price_opts;

/* Reads a price CSV of daily closes; the accepted shapes:
 * - column names are matched case-insensitively, blanks around them ignored;
 * - a first line with a single field that names no known column (the URL
 *   line CryptoDataDownload puts above its header) is skipped as a title;
 * - the date is the first of the columns date, timestamp, time, unix; a cell
 *   is an ISO 8601 date or UTC time (truncated to its day), or a Unix time of
 *   9 to 11 digits (seconds), 12 to 14 (milliseconds) or 15 to 17
 *   (microseconds), fractions ignored;
 * - rows oldest first or newest first (reordered); one row per UTC day;
 * - an empty or `null` close is a gap (the row's other cells are ignored);
 * - the quote volume (>= 0, empty or null = unknown) is the column
 *   volume_quote, `Volume USDT` or `Volume USD`; a plain `volume` column is
 *   taken only with opt->volume_is_quote, otherwise ignored with a warning;
 * - optional `high`, `low` (kept) and `open` (checked only): positive, with
 *   low <= open, close <= high on every row where they are given.
 * Other columns are ignored. Fails with "file:line: reason" naming the column
 * on a missing column, a malformed date or number, a non-positive price,
 * prices out of order, or a duplicate or out-of-order date. opt may be NULL. */
im_status im_series_read_prices(const char *path, const char *name, const im_price_opts *opt,
                                im_series *out, im_err *err);
/* The same with the default options. */
im_status im_series_read_csv(const char *path, const char *name, im_series *out, im_err *err);
void im_series_clear(im_series *s);

/* The same rules with another value column (no volume, high or low unless the
 * column is "close"); positive = values must be > 0. */
im_status im_series_read_csv_column(const char *path, const char *name, const char *column,
                                    int positive, im_series *out, im_err *err);

/* Adds daily funding from series of Binance-style funding_rate_mean (the
 * mean of the day's three 8-hour rates, as a fraction): 3 x the mean. */
im_status im_market_add_funding(im_market *m, const im_series *s, size_t n, im_err *err);

/* Aligns series on one calendar from the earliest to the latest date (and
 * their quote volumes, highs and lows, when any series has them). */
im_status im_market_from_series(const im_series *s, size_t n, im_market *out, im_err *err);

/* Adds implied-vol series (CSV `close` in percent, as Deribit DVOL) to m on
 * its calendar; days outside it are ignored. IM_EINVAL if a series names no
 * underlying of m. */
im_status im_market_add_ivol(im_market *m, const im_series *s, size_t n, im_err *err);

/* Writes market.h5 (serial HDF5) through a temporary name and a rename, so a
 * failure leaves no partial file. */
im_status im_market_write_h5(const char *path, const im_market *m, const im_series *src,
                             im_err *err);

/* Whether path may be written as a market file: absent, or not an imvar file
 * of another format (an existing results or calibration file is refused,
 * IM_EINVAL naming its format; a market file is replaced). */
im_status im_market_check_target(const char *path, im_err *err);

/* Reads market.h5; checks its format attribute and shapes. */
im_status im_market_read_h5(const char *path, im_market *out, im_err *err);

void im_market_clear(im_market *m);

#endif
