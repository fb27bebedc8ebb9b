#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "chain_io.h"
#include "csvfile.h"
#include "options.h"
#include "opts.h"

static const char about[] =
    "Fits the smile imvar prices options with, sigma(K) = ATM * (1 + a x + b x^2) with\n"
    "x = ln(K/F) / sqrt(tau), to a Deribit option-chain snapshot (the fields of\n"
    "get_book_summary_by_currency: instrument_name, underlying_price, mark_iv,\n"
    "creation_timestamp). Per expiry the ATM vol is mark_iv interpolated at the forward;\n"
    "calls quoted on both sides, of expiries at least D days out (default 2) and with\n"
    "|x| <= 2, are pooled in one least-squares fit.\n"
    "Prints the number of calls fitted, a, b and the RMS error of iv/ATM of the fit.\n";

static int parse_days(const char *arg, void *dst) {
  double *d = dst;
  return im_parse_double(arg, d) && *d >= 0;
}

int im_cmd_smile(int argc, char **argv, MPI_Comm comm) {
  int rank, first;
  MPI_Comm_rank(comm, &rank);
  double min_days = 2;
  const im_opt opts[] = {
      {"min-days", 0, "D", "leave out expiries closer than D days (default 2)", IM_OPT_CUSTOM,
       &min_days, 0, 0, parse_days, " is not a day count >= 0"},
  };
  const im_cmd_spec spec = {"smile fit", "imvar smile fit CHAIN.csv [--min-days D]", about, opts,
                            sizeof opts / sizeof opts[0], NULL};
  int rc = im_opts_subcommand(&spec, "fit", argc, argv, rank);
  if (rc < 0) rc = im_opts_parse(&spec, argc - 1, argv + 1, rank, &first);
  if (rc < 0 && first != argc - 2) rc = im_opts_usage_error(&spec, rank, "expected one CHAIN.csv");
  if (rc >= 0) return rc;
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    const char *path = argv[first + 1];
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
