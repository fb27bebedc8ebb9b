#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "chain_io.h"
#include "csvfile.h"
#include "options.h"

static const char help[] =
    "usage: imvar smile fit CHAIN.csv [--min-days D]\n"
    "\n"
    "Fits the smile imvar prices options with, sigma(K) = ATM * (1 + a x + b x^2) with\n"
    "x = ln(K/F) / sqrt(tau), to a Deribit option-chain snapshot (the fields of\n"
    "get_book_summary_by_currency: instrument_name, underlying_price, mark_iv,\n"
    "creation_timestamp). Per expiry the ATM vol is mark_iv interpolated at the forward;\n"
    "calls quoted on both sides, of expiries at least D days out (default 2) and with\n"
    "|x| <= 2, are pooled in one least-squares fit.\n"
    "Prints a, b, the fit's RMS error and the configuration lines to use them.\n"
    "\n"
    "options:\n"
    "  --min-days D   leave out expiries closer than D days (default 2)\n"
    "  -h, --help     this text\n";

int im_cmd_smile(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  static const struct option opts[] = {{"min-days", required_argument, NULL, 'd'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  double min_days = 2;
  int c, bad = argc < 2 || strcmp(argv[1], "fit") != 0;
  optind = 1;
  opterr = rank == 0;
  while (!bad && (c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
    if (c == 'd')
      bad = !im_parse_double(optarg, &min_days) || min_days < 0;
    else if (c == 'h') {
      if (rank == 0) fputs(help, stdout);
      return IM_EXIT_OK;
    } else
      bad = 1;
  }
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    if (rank == 0) fputs(help, stdout);
    return IM_EXIT_OK;
  }
  if (bad || optind != argc - 2) {
    if (rank == 0) fputs(help, stderr);
    return IM_EXIT_USAGE;
  }
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    const char *path = argv[optind + 1];
    im_chain ch;
    st = im_chain_read_csv(path, min_days, &ch, &err);
    double *x = NULL, *ratio = NULL;
    if (!st) {
      x = malloc(ch.n * sizeof *x);
      ratio = malloc(ch.n * sizeof *ratio);
      if (!x || !ratio) st = im_err_set(&err, IM_ENOMEM, "out of memory");
    }
    if (!st) {
      size_t m;
      im_smile_points(ch.group, ch.tau, ch.f, ch.k, ch.iv, ch.n, x, ratio, &m);
      size_t kept = 0; /* the liquid part of the smile */
      for (size_t i = 0; i < m; i++)
        if (x[i] >= -2 && x[i] <= 2) {
          x[kept] = x[i];
          ratio[kept++] = ratio[i];
        }
      m = kept;
      im_smile sm;
      double rms;
      st = im_smile_fit(x, ratio, m, &sm, &rms, &err);
      if (!st)
        printf("smile fit of %s: %zu calls\n  a = %.6f  (skew per unit of ln(K/F)/sqrt(tau))\n"
               "  b = %.6f  (curvature)\n  rms error of iv/ATM = %.4f\n",
               path, m, sm.a, sm.b, rms);
      im_chain_clear(&ch);
    }
    free(x);
    free(ratio);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
