#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "backtest.h"
#include "csvfile.h"
#include "print.h"
#include "series_io.h"

static const char help[] =
    "usage: imvar stats FILE.csv --confidence C [--horizon H] [--json] [--dq-lags L] [--seed S]\n"
    "\n"
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
    "20,000 seeded simulations. Definitions: README.md, 'Backtest statistics'.\n"
    "\n"
    "options:\n"
    "  -c, --confidence C   margin confidence level in (0,1), e.g. 0.99 (required)\n"
    "  -H, --horizon H      margin period of risk in days (default 1)\n"
    "  -j, --json           one JSON object; an undefined statistic is null\n"
    "  -L, --dq-lags L      hit lags in the DQ regression (default 4)\n"
    "  -S, --seed S         seed of the overlap simulation (default 1)\n"
    "  -h, --help           this text\n";

#define OVERLAP_SIMS 20000

static void print_text(const char *path, double conf, size_t h, const im_bt_stats *r,
                       const im_bt_stats *sub) {
  printf("%s: %lld observations, %lld exceedances (expected %.2f at %.4g%%), coverage %.4f\n",
         path, (long long)r->n_obs, (long long)r->n_exceed, r->expected, 100 * (1 - conf),
         r->coverage);
  printf("%-34s %12s %10s\n", "test", "statistic", "p-value");
  const struct {
    const char *name;
    double lr, p;
  } t[] = {{"Kupiec POF (chi2 1)", r->lr_uc, r->p_uc},
           {"Kupiec TUFF (chi2 1)", r->lr_tuff, r->p_tuff},
           {"Christoffersen independence (1)", r->lr_ind, r->p_ind},
           {"Christoffersen cond. coverage (2)", r->lr_cc, r->p_cc},
           {"Haas TBFI (chi2 x)", r->lr_tbfi, r->p_tbfi},
           {"Haas TBF (chi2 x+1)", r->lr_tbf, r->p_tbf},
           {"Weibull duration (chi2 1)", r->dur_lr, r->dur_p},
           {"dynamic quantile (chi2 rank X)", r->dq_stat, r->dq_p},
           {"binomial z (two-sided)", r->bin_z, r->bin_p}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    if (isnan(t[i].lr))
      printf("%-34s %12s %10s\n", t[i].name, "-", "-");
    else
      printf("%-34s %12.4f %10.4f\n", t[i].name, t[i].lr + 0.0, t[i].p); /* no "-0.0000" */
  }
  static const char *const zn[] = {"green", "yellow", "red"};
  printf("traffic light: cumulative probability %.6f, %s\n", r->tl_cumprob,
         r->tl_zone >= 0 ? zn[r->tl_zone] : "-");
  if (r->basel_n > 0)
    printf("Basel 1996 (last 250 days at 99%%): %lld exceptions, %s zone, plus factor %.2f\n",
           (long long)r->basel_exceed, zn[r->basel_zone], r->basel_plus);
  if (!isnan(r->largest_exceedance))
    printf("exceedances: largest %.6g, mean %.6g, mean loss/margin %.4f\n", r->largest_exceedance,
           r->mean_exceedance, r->mean_loss_to_margin);
  if (!isnan(r->peak_to_trough))
    printf("procyclicality: peak-to-trough %.4g; largest increase 1d %.4g, 5d %.4g, 10d %.4g, 30d %.4g\n",
           r->peak_to_trough, r->max_incr_1d, r->max_incr_5d, r->max_incr_10d, r->max_incr_30d);
  if (h > 1) {
    printf("overlapping %zu-day horizons: simulated bounds green <= %lld, yellow <= %lld -> %s\n", h,
           (long long)r->overlap_green_max, (long long)r->overlap_yellow_max,
           r->tl_zone_overlap >= 0 ? zn[r->tl_zone_overlap] : "-");
    for (size_t k = 0; k < h; k++)
      printf("  sub-sample %zu: %lld obs, %lld exceedances, p_uc %.4f, p_cc %.4f\n", k,
             (long long)sub[k].n_obs, (long long)sub[k].n_exceed, sub[k].p_uc, sub[k].p_cc);
  }
}

int im_cmd_stats(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  static const struct option opts[] = {{"confidence", required_argument, NULL, 'c'},
                                       {"horizon", required_argument, NULL, 'H'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"dq-lags", required_argument, NULL, 'L'},
                                       {"seed", required_argument, NULL, 'S'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  double conf = NAN;
  long h = 1, lags = IM_BT_DQ_LAGS_DEFAULT, seed = 1;
  int c, bad = 0, json = 0;
  optind = 1;
  opterr = rank == 0;
  while ((c = getopt_long(argc, argv, "c:H:jL:S:h", opts, NULL)) != -1) {
    switch (c) {
      case 'c': bad |= !im_parse_double(optarg, &conf) || !(conf > 0 && conf < 1); break;
      case 'H': bad |= !im_parse_long(optarg, 1, 365, &h); break;
      case 'j': json = 1; break;
      case 'L': bad |= !im_parse_long(optarg, 0, IM_BT_DQ_LAGS_MAX, &lags); break;
      case 'S': bad |= !im_parse_long(optarg, 0, 1L << 62, &seed); break;
      case 'h':
        if (rank == 0) fputs(help, stdout);
        return IM_EXIT_OK;
      default: bad = 1;
    }
  }
  if (bad || isnan(conf) || optind != argc - 1) {
    if (rank == 0) {
      fprintf(stderr, "imvar stats: one FILE.csv and --confidence in (0,1) are required; "
                      "--horizon 1..365, --dq-lags 0..%d\n", IM_BT_DQ_LAGS_MAX);
      fputs(help, stderr);
    }
    return IM_EXIT_USAGE;
  }
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    const char *path = argv[optind];
    im_user_series s;
    im_bt_stats r, *sub = calloc((size_t)h, sizeof *sub);
    im_bt_opts o = im_bt_opts_default();
    o.dq_lags = lags;
    st = sub ? im_user_series_read_csv(path, &s, &err) : im_err_set(&err, IM_ENOMEM, "out of memory");
    if (!st) {
      st = im_bt_compute(s.hits, s.pnl, s.margin, s.n, 1 - conf, &o, &r, &err);
      for (long k = 0; k < h && h > 1 && !st; k++)
        st = im_bt_subsample(s.hits, s.pnl, s.margin, s.n, (size_t)h, (size_t)k, 1 - conf, &o,
                             &sub[k], &err);
      if (!st) st = im_bt_fill_overlap(&r, 1, (size_t)h, 1 - conf, (uint64_t)seed, OVERLAP_SIMS, &err);
      if (!st && json) {
        printf("{");
        im_print_stats_fields(&r);
        printf(", \"confidence\": %.17g, \"horizon\": %ld", conf, h);
        if (h > 1) {
          printf(", \"overlap_simulations\": %d, \"overlap_seed\": %ld, \"subsamples\": [", OVERLAP_SIMS, seed);
          for (long k = 0; k < h; k++) {
            printf("%s{\"k\": %ld, ", k ? ", " : "", k);
            im_print_stats_fields(&sub[k]);
            printf("}");
          }
          printf("]");
        }
        printf("}\n");
      } else if (!st) {
        print_text(path, conf, (size_t)h, &r, sub);
      }
      im_user_series_clear(&s);
    }
    free(sub);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
