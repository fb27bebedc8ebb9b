#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "app.h"
#include "backtest.h"
#include "csvfile.h"
#include "opts.h"
#include "series_io.h"

static const char about[] =
    "The whole backtest battery on any margin model's series, including one imvar did not\n"
    "compute. FILE.csv has a header with 'pnl' and 'margin' columns (margin >= 0; an\n"
    "exceedance is -pnl > margin, strictly) or, without them, a 'hit' column of 0/1; other\n"
    "columns are ignored; an empty cell or NaN marks a day that was not observed.\n"
    "Tests: Kupiec POF and TUFF, Christoffersen independence and conditional coverage, Haas\n"
    "TBFI/TBF, Christoffersen-Pelletier Weibull duration, Engle-Manganelli DQ, binomial z,\n"
    "the binomial traffic light and, at 99% over >= 250 days, the Basel 1996 zones and plus\n"
    "factors; exceedance magnitudes and procyclicality of the margin with pnl/margin input.\n"
    "With --horizon H > 1 (overlapping H-day horizons) it adds the battery on the H\n"
    "non-overlapping sub-samples and traffic-light bounds for overlapping exceedances from\n"
    "20,000 seeded simulations. Definitions: README.md, 'Backtest statistics'.\n";

#define OVERLAP_SIMS 20000

static int parse_confidence(const char *arg, void *dst) {
  double *c = dst;
  return im_parse_double(arg, c) && *c > 0 && *c < 1;
}

/* Rank 0: the battery of one series, printed. */
static im_status run(const char *path, double conf, size_t h, long lags, long seed, int json,
                     im_err *err) {
  im_user_series s;
  im_bt_stats r, *sub = calloc(h, sizeof *sub);
  im_bt_opts o = im_bt_opts_default();
  o.dq_lags = lags;
  im_status st = sub ? im_user_series_read_csv(path, &s, err) : im_err_set(err, IM_ENOMEM, "out of memory");
  if (!st) {
    st = im_bt_compute(s.hits, s.pnl, s.margin, s.n, 1 - conf, &o, &r, err);
    for (size_t k = 0; k < h && h > 1 && !st; k++)
      st = im_bt_subsample(s.hits, s.pnl, s.margin, s.n, h, k, 1 - conf, &o, &sub[k], err);
    if (!st) st = im_bt_fill_overlap(&r, 1, h, 1 - conf, (uint64_t)seed, OVERLAP_SIMS, err);
    if (!st) {
      const im_stats_out out = {path, conf, h, &r, sub, seed, OVERLAP_SIMS};
      im_print_stats(&out, json);
    }
    im_user_series_clear(&s);
  }
  free(sub);
  return st;
}

int im_cmd_stats(int argc, char **argv, MPI_Comm comm) {
  int rank, json = 0, first;
  MPI_Comm_rank(comm, &rank);
  double conf = NAN;
  long h = 1, lags = IM_BT_DQ_LAGS_DEFAULT, seed = 1;
  const im_opt opts[] = {
      {"confidence", 'c', "C", "margin confidence level in (0,1), e.g. 0.99 (required)",
       IM_OPT_CUSTOM, &conf, 0, 0, parse_confidence, " is not a level in (0,1)"},
      {"horizon", 'H', "H", "margin period of risk in days (default 1)", IM_OPT_LONG, &h, 1, 365,
       NULL, " is not a day count 1..365"},
      {"json", 'j', NULL, "one JSON object; an undefined statistic is null", IM_OPT_FLAG, &json, 0,
       0, NULL, NULL},
      {"dq-lags", 'L', "L", "hit lags in the DQ regression (default 4)", IM_OPT_LONG, &lags, 0,
       IM_BT_DQ_LAGS_MAX, NULL, " is not a lag count in range"},
      {"seed", 'S', "S", "seed of the overlap simulation (default 1)", IM_OPT_LONG, &seed, 0,
       1L << 62, NULL, " is not a seed >= 0"},
  };
  const im_cmd_spec spec = {
      "stats",
      "imvar stats FILE.csv --confidence C [--horizon H] [--json] [--dq-lags L] [--seed S]",
      about, opts, sizeof opts / sizeof opts[0], NULL};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  if (rc >= 0) return rc;
  if (isnan(conf) || first != argc - 1) {
    char msg[160];
    snprintf(msg, sizeof msg, "one FILE.csv and --confidence in (0,1) are required; "
             "--horizon 1..365, --dq-lags 0..%d", IM_BT_DQ_LAGS_MAX);
    return im_opts_usage_error(&spec, rank, msg);
  }
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    st = run(argv[first], conf, (size_t)h, lags, seed, json, &err);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
