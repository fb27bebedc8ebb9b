#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "csvfile.h"
#include "genport.h"
#include "h5util.h"
#include "market_io.h"
#include "opts.h"

static const char about[] =
    "Writes N synthetic accounts in the portfolio CSV format, for scale runs: about half\n"
    "directional (one underlying, 1-3 positions), and hedged (spot vs perpetual), basis\n"
    "(spot vs an equal and opposite linear or inverse perpetual) and multi-asset books\n"
    "(2 to M positions), with USD notionals log-uniform from 1e3 to 1e7 turned into coins at\n"
    "each underlying's last close in the market file. Account i is a pure function of\n"
    "(seed, i) through Random123 Philox: the same arguments give the same file. Prints the\n"
    "count of accounts of each kind.\n";

static im_status generate(size_t count, uint64_t seed, size_t maxp, const char *market,
                          const char *out, im_err *err) {
  if (im_output_dir_ok(out, err->msg, sizeof err->msg) < 0) return IM_EIO;
  im_market m;
  im_status st = im_market_read_h5(market, &m, err);
  if (st) return st;
  double *ref = malloc(m.n_und * sizeof *ref);
  if (!ref) {
    im_market_clear(&m);
    return im_err_set(err, IM_ENOMEM, "out of memory");
  }
  for (size_t u = 0; u < m.n_und; u++) {
    ref[u] = NAN;
    for (size_t k = m.n_days; k-- > 0 && isnan(ref[u]);) ref[u] = m.close[u * m.n_days + k];
  }
  char tmp[4096];
  im_tmp_path(out, (long)getpid(), tmp, sizeof tmp);
  FILE *f = fopen(tmp, "w");
  if (!f) st = im_err_set(err, IM_EIO, "%s: cannot create", tmp);
  size_t by_kind[IM_ACCT_KINDS] = {0}, npos = 0;
  uint32_t und[20];
  im_instr_kind kind[20];
  double qty[20];
  if (!st) fprintf(f, "portfolio,instrument,quantity\n");
  for (size_t i = 0; i < count && !st; i++) {
    im_gen_opts o = {.seed = seed, .max_positions = maxp};
    im_acct_kind k;
    size_t n = im_gen_account(&o, m.n_und, ref, i, und, kind, qty, &k);
    by_kind[k]++;
    npos += n;
    for (size_t j = 0; j < n; j++) {
      char name[64];
      im_instrument_name(&m, (im_instrument){.und = und[j], .kind = kind[j]}, name, sizeof name);
      fprintf(f, "acct%07zu,%s,%.10g\n", i + 1, name, qty[j]);
    }
  }
  if (f && (ferror(f) | fclose(f)) && !st) st = im_err_set(err, IM_EIO, "%s: write failed (disk full?)", tmp);
  if (!st && rename(tmp, out) != 0) st = im_err_set(err, IM_EIO, "%s: cannot rename into place", out);
  if (st) remove(tmp);
  else
    printf("generated %zu accounts, %zu positions (directional %zu, hedged %zu, basis %zu, multi "
           "%zu) -> %s\n",
           count, npos, by_kind[0], by_kind[1], by_kind[2], by_kind[3], out);
  free(ref);
  im_market_clear(&m);
  return st;
}

int im_cmd_portfolios(int argc, char **argv, MPI_Comm comm) {
  int rank, first;
  MPI_Comm_rank(comm, &rank);
  long count = -1, seed = 1, maxp = 20;
  const char *market = NULL, *out = NULL;
  const im_opt opts[] = {
      {"count", 'n', "N", "accounts (required)", IM_OPT_LONG, &count, 1, 100000000L, NULL,
       " is not a count 1..1e8"},
      {"seed", 's', "S", "seed (default 1)", IM_OPT_LONG, &seed, 0, 1L << 62, NULL,
       " is not a seed >= 0"},
      {"market", 'm', "FILE", "market file whose underlyings and prices to use (required)",
       IM_OPT_STR, &market, 0, 0, NULL, NULL},
      {"max-positions", 'p', "M", "most positions per account, 1..20 (default 20)", IM_OPT_LONG,
       &maxp, 1, 20, NULL, " is not a count 1..20"},
      {"output", 'o', "FILE", "CSV to write (required)", IM_OPT_STR, &out, 0, 0, NULL, NULL},
  };
  const im_cmd_spec spec = {
      "portfolios generate",
      "imvar portfolios generate --count N --seed S --market market.h5 -o FILE\n"
      "                                 [--max-positions M]",
      about, opts, sizeof opts / sizeof opts[0], NULL};
  int rc = im_opts_subcommand(&spec, "generate", argc, argv, rank);
  if (rc < 0) rc = im_opts_parse(&spec, argc - 1, argv + 1, rank, &first);
  if (rc < 0 && (count < 0 || !market || !out || first != argc - 1))
    rc = im_opts_usage_error(&spec, rank, "--count, --market and -o are required; "
                                          "--count 1..1e8, --max-positions 1..20");
  if (rc >= 0) return rc;
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    st = generate((size_t)count, (uint64_t)seed, (size_t)maxp, market, out, &err);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
