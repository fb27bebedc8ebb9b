#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "csvfile.h"
#include "par.h"
#include "print.h"

static const char help[] =
    "usage: [mpirun -n N] imvar validate results.h5 [--json] [--limit N]\n"
    "\n"
    "Runs the backtests on every portfolio of every model of a results file, stores them\n"
    "under /models/<name>/validation (one row per portfolio) and /models/<name>/summary, and\n"
    "prints them. Tests: Kupiec proportion of failures, Christoffersen independence and\n"
    "conditional coverage (p-values from chi-square 1, 1 and 2 degrees of freedom) and the\n"
    "binomial traffic light (green if the binomial cdf of the exceedance count <= 0.95,\n"
    "yellow if <= 0.9999, else red). Summary: rejections at the 5% level and zone counts.\n"
    "\n"
    "options:\n"
    "  --json        print one JSON object (undefined statistics are null)\n"
    "  --limit N     at most N portfolio rows per model in the table (default 100, 0 = all)\n"
    "  -h, --help    this text\n";

int im_cmd_validate(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"limit", required_argument, NULL, 'l'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  int c, bad = 0, json = 0;
  long limit = 100;
  optind = 1;
  opterr = rank == 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'j')
      json = 1;
    else if (c == 'l') {
      if (!im_parse_long(optarg, 0, 1L << 40, &limit)) {
        if (rank == 0) fprintf(stderr, "imvar validate: --limit '%s' is not a count\n", optarg);
        bad = 1;
      }
    } else if (c == 'h') {
      if (rank == 0) fputs(help, stdout);
      return IM_EXIT_OK;
    } else
      bad = 1;
  }
  if (bad || optind != argc - 1) {
    if (rank == 0) {
      if (!bad) fprintf(stderr, "imvar validate: expected one results file\n");
      fputs(help, stderr);
    }
    return IM_EXIT_USAGE;
  }
  im_err err = {""};
  im_status st = im_par_validate(comm, argv[optind], &err);
  im_report_collective(comm, st, &err);
  if (!st && rank == 0) {
    st = im_print_results(argv[optind], json, (size_t)limit, &err);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
