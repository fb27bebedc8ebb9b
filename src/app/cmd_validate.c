#include <stdio.h>

#include "analysis.h"
#include "app.h"
#include "opts.h"
#include "par.h"

static const char about[] =
    "Runs the backtest battery on every portfolio of every model of a results file, stores it\n"
    "under /models/<name>/validation (one row per portfolio; validation_total for the total\n"
    "margin of models with layers; validation_subsamples for h > 1) and /models/<name>/summary,\n"
    "and prints a table per model with its summary and verdict (or one JSON object).\n"
    "The battery, per portfolio (README.md, 'Backtest statistics'):\n"
    "   1. Kupiec proportion of failures (POF; chi-square, 1 degree of freedom)\n"
    "   2. Kupiec time until first failure (TUFF; chi-square 1)\n"
    "   3. Christoffersen independence (chi-square 1)\n"
    "   4. Christoffersen conditional coverage (chi-square 2)\n"
    "   5. Haas time between failures, independence (TBFI; chi-square x)\n"
    "   6. Haas time between failures (TBF; chi-square x+1)\n"
    "   7. Christoffersen-Pelletier Weibull duration (chi-square 1)\n"
    "   8. Engle-Manganelli dynamic quantile (DQ; chi-square rank X, 4 hit lags)\n"
    "   9. binomial z (two-sided)\n"
    "  10. binomial traffic light: green if the Binomial(n, 1 - confidence) cdf of the\n"
    "      exceedance count is <= 0.95, yellow if <= 0.9999, else red\n"
    "  11. Basel 1996 zones and plus factor on the last 250 observed days (at 99%)\n"
    "  12. exceedance magnitude: largest and mean exceedance, mean loss / margin\n"
    "  13. procyclicality of the margin: peak-to-trough, largest 1/5/10/30-day increase\n"
    "  14. h > 1: the traffic light for overlapping exceedances (bounds from 20,000 seeded\n"
    "      simulations): the zone the summary and the verdict count\n"
    "  15. h > 1: the battery on each of the h non-overlapping sub-samples\n"
    "Summary per model: rejections at 5% (Kupiec, independence, conditional coverage) and\n"
    "the 95% band of a correct model's count, Benjamini-Hochberg rejections at FDR 5%,\n"
    "portfolios per zone (overlap-corrected for h > 1, the plain binomial counts beside).\n"
    "Verdict (the same rule as imvar report): fail when more portfolios are red than the\n"
    "97.5% quantile of Binomial(evaluated, 0.0001), or (h = 1) when Kupiec rejects more\n"
    "often than that of Binomial(evaluated, 0.05); attention when more portfolios are\n"
    "yellow or red than Binomial(evaluated, 0.05) allows, or (h = 1) when conditional\n"
    "coverage rejects more often; else pass.\n";

int im_cmd_validate(int argc, char **argv, MPI_Comm comm) {
  int rank, json = 0, first;
  MPI_Comm_rank(comm, &rank);
  long limit = 100;
  const im_opt opts[] = {
      {"json", 0, NULL, "print one JSON object (undefined statistics are null)", IM_OPT_FLAG,
       &json, 0, 0, NULL, NULL},
      {"limit", 0, "N", "at most N portfolio rows per model in the table (default 100, 0 = all)",
       IM_OPT_LONG, &limit, 0, 1L << 40, NULL, " is not a count"},
  };
  const im_cmd_spec spec = {"validate", "[mpirun -n N] imvar validate results.h5 [--json] [--limit N]",
                            about, opts, sizeof opts / sizeof opts[0], NULL};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  if (rc >= 0) return rc;
  if (first != argc - 1) return im_opts_usage_error(&spec, rank, "expected one results file");
  im_err err = {""};
  im_status st = im_par_validate(comm, argv[first], &err);
  im_report_collective(comm, st, &err);
  if (!st && rank == 0) {
    st = im_print_results(argv[first], json, (size_t)limit, &err);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
