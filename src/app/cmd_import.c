#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "calendar.h"
#include "h5util.h"
#include "market_io.h"
#include "opts.h"

static const char about[] =
    "Reads one CSV of daily prices per underlying and writes market.h5: the closes on one\n"
    "gapless daily UTC calendar from the earliest to the latest date, NaN and a 0 in the\n"
    "gap mask where a source has no row or an empty/null close. Exchange exports import\n"
    "unedited: column names in any case; a title line above the header (CryptoDataDownload)\n"
    "skipped; oldest-first or newest-first rows; the date from 'date', 'timestamp', 'time'\n"
    "or 'unix' (ISO 8601 UTC, or Unix seconds/ms/us); one row per UTC day. Optional\n"
    "columns: quote volume ('volume_quote', 'Volume USDT', 'Volume USD'; a plain 'volume'\n"
    "only with --quote-volume) stored as /volume for the add-ons; 'high' and 'low' stored\n"
    "as /high and /low (checked: low <= open, close <= high). Other columns are ignored.\n"
    "NAME is the underlying as portfolios name it (BTC for BTC-SPOT, BTC-PERP, ...).\n"
    "--ivol adds an underlying's ATM implied volatility (a CSV of the same form whose\n"
    "close is in percent, as Deribit's DVOL index), which option positions are priced\n"
    "with. --funding adds a perpetual's funding history: a CSV with 'date' and\n"
    "'funding_rate_mean', the mean of the day's three 8-hour rates as a fraction (Binance);\n"
    "the day's funding is 3 x that mean. It prints each underlying's date range, closes,\n"
    "gap days and volumes, and a warning for a column it ignored. On any error nothing is\n"
    "written. Rules in docs/data.md.\n";

/* Whether name is listed in --quote-volume. */
static int listed(const im_opt_list *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0) return 1;
  return 0;
}

/* Reads the NAME=path arguments into s: price CSVs (col NULL, plain volume
 * taken as quote volume for the names in qv) or column col (positive values
 * only if pos). */
static im_status read_series(int n, char **args, const char *col, int pos, const im_opt_list *qv,
                             im_series *s, im_err *err) {
  for (int i = 0; i < n; i++) {
    char *eq = strchr(args[i], '=');
    if (!eq || eq == args[i] || !eq[1]) return im_err_set(err, IM_EINVAL, "'%s' is not NAME=path.csv", args[i]);
    *eq = '\0';
    const im_price_opts po = {.volume_is_quote = listed(qv, args[i])};
    im_status st = col ? im_series_read_csv_column(eq + 1, args[i], col, pos, &s[i], err)
                       : im_series_read_prices(eq + 1, args[i], &po, &s[i], err);
    *eq = '=';
    if (st) return st;
    if (s[i].warning[0]) fprintf(stderr, "imvar import: warning: %s\n", s[i].warning);
  }
  return IM_OK;
}

/* Every --quote-volume name must be one of the imported underlyings. */
static im_status check_quote_names(const im_opt_list *qv, const im_series *s, int n, im_err *err) {
  for (size_t i = 0; i < qv->n; i++) {
    int found = 0;
    for (int j = 0; j < n && !found; j++) found = strcmp(s[j].name, qv->v[i]) == 0;
    if (!found)
      return im_err_set(err, IM_EINVAL, "--quote-volume %s: %s is not one of the imported underlyings",
                        qv->v[i], qv->v[i]);
  }
  return IM_OK;
}

static im_status run(int nargs, char **args, int nvol, char **vols, int nfund, char **funds,
                     const im_opt_list *qv, const char *out, im_err *err) {
  im_series *s = calloc((size_t)(nargs + nvol + nfund), sizeof *s);
  if (!s) return im_err_set(err, IM_ENOMEM, "out of memory");
  im_status st = IM_OK;
  if (im_output_dir_ok(out, err->msg, sizeof err->msg) < 0) st = IM_EIO;
  if (!st) st = im_market_check_target(out, err);
  if (!st) st = read_series(nargs, args, NULL, 1, qv, s, err);
  if (!st) st = check_quote_names(qv, s, nargs, err);
  if (!st) st = read_series(nvol, vols, "close", 1, qv, s + nargs, err);
  if (!st) st = read_series(nfund, funds, "funding_rate_mean", 0, qv, s + nargs + nvol, err);
  for (int i = 0; i < nargs + nvol + nfund && !st; i++)
    if (im_same_file(out, s[i].source))
      st = im_err_set(err, IM_EINVAL, "-o %s: it is the input file of %s; it would be overwritten",
                      out, s[i].name);
  im_market m = {0};
  if (!st) st = im_market_from_series(s, (size_t)nargs, &m, err);
  if (!st) st = im_market_add_ivol(&m, s + nargs, (size_t)nvol, err);
  if (!st) st = im_market_add_funding(&m, s + nargs + nvol, (size_t)nfund, err);
  if (!st) st = im_market_write_h5(out, &m, s, err);
  if (!st) {
    char a[11], b[11];
    im_date_format(m.day0, a);
    im_date_format(m.day0 + (int32_t)m.n_days - 1, b);
    printf("imported %zu underlyings, %s .. %s (%zu days) -> %s\n", m.n_und, a, b, m.n_days, out);
    for (size_t u = 0; u < m.n_und; u++) {
      char f[11], l[11];
      im_date_format(s[u].day[0], f);
      im_date_format(s[u].day[s[u].n - 1], l);
      size_t gaps = (size_t)(s[u].day[s[u].n - 1] - s[u].day[0]) + 1 - s[u].n;
      size_t nv = 0;
      for (size_t k = 0; s[u].volume && k < s[u].n; k++) nv += !isnan(s[u].volume[k]);
      printf("  %-8s %s .. %s  %5zu closes  %3zu gap days  %5zu volumes  %s\n", m.und[u], f, l,
             s[u].n, gaps, nv, s[u].source);
    }
    for (int i = 0; i < nvol; i++)
      printf("  %-8s implied vol: %zu days  %s\n", s[nargs + i].name, s[nargs + i].n, s[nargs + i].source);
    for (int i = nargs + nvol; i < nargs + nvol + nfund; i++)
      printf("  %-8s funding: %zu days  %s\n", s[i].name, s[i].n, s[i].source);
  }
  im_market_clear(&m);
  for (int i = 0; i < nargs + nvol + nfund; i++) im_series_clear(&s[i]);
  free(s);
  return st;
}

int im_cmd_import(int argc, char **argv, MPI_Comm comm) {
  int rank, first;
  MPI_Comm_rank(comm, &rank);
  const char *out = NULL;
  im_opt_list vols = {NULL, 0}, funds = {NULL, 0}, qv = {NULL, 0};
  const im_opt opts[] = {
      {"output", 'o', "FILE", "market file to write (required)", IM_OPT_STR, &out, 0, 0, NULL, NULL},
      {"ivol", 'v', "N=FILE", "implied volatility of underlying N, in percent (repeatable)",
       IM_OPT_LIST, &vols, 0, 0, NULL, NULL},
      {"funding", 'f', "N=FILE", "funding rates of underlying N's perpetuals (repeatable)",
       IM_OPT_LIST, &funds, 0, 0, NULL, NULL},
      {"quote-volume", 'q', "N",
       "the plain 'volume' column of N's price CSV is its traded quote volume in USD (Yahoo "
       "Finance); without it a plain 'volume' is ignored with a warning (repeatable)",
       IM_OPT_LIST, &qv, 0, 0, NULL, NULL},
  };
  const im_cmd_spec spec = {
      "import",
      "imvar import -o market.h5 NAME=prices.csv [NAME=prices.csv ...]\n"
      "                    [--ivol NAME=dvol.csv ...] [--funding NAME=funding.csv ...]\n"
      "                    [--quote-volume NAME ...]",
      about, opts, sizeof opts / sizeof opts[0], NULL};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  if (rc < 0 && (!out || first >= argc))
    rc = im_opts_usage_error(&spec, rank, !out ? "-o FILE is required" : "no NAME=path.csv given");
  im_err err = {""};
  im_status st = IM_OK;
  if (rc < 0 && rank == 0) {
    st = run(argc - first, argv + first, (int)vols.n, vols.v, (int)funds.n, funds.v, &qv, out, &err);
    im_report(st, &err);
  }
  im_opts_free(&spec);
  return rc >= 0 ? rc : im_exit_code(im_bcast_status(comm, st));
}
