#include <getopt.h>
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

static const char help[] =
    "usage: imvar portfolios generate --count N --seed S --market market.h5 -o FILE\n"
    "                                 [--max-positions M]\n"
    "\n"
    "Writes N synthetic accounts in the portfolio CSV format, for scale runs: about half\n"
    "directional (one underlying, 1-3 positions), and hedged (spot vs perpetual), basis\n"
    "(spot vs an equal and opposite linear or inverse perpetual) and multi-asset books\n"
    "(2 to M positions), with USD notionals log-uniform from 1e3 to 1e7 turned into coins at\n"
    "each underlying's last close in the market file. Account i is a pure function of\n"
    "(seed, i) through Random123 Philox: the same arguments give the same file.\n"
    "\n"
    "options:\n"
    "  -n, --count N           accounts (required)\n"
    "  -s, --seed S            seed (default 1)\n"
    "  -m, --market FILE       market file whose underlyings and prices to use (required)\n"
    "  -p, --max-positions M   most positions per account, 1..20 (default 20)\n"
    "  -o, --output FILE       CSV to write (required)\n"
    "  -h, --help              this text\n";

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
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (argc < 2 || strcmp(argv[1], "generate") != 0) {
    if (rank == 0) {
      if (argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
        fprintf(stderr, "imvar portfolios: unknown subcommand '%s'\n", argv[1]);
      fputs(help, argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr);
    }
    return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? IM_EXIT_OK : IM_EXIT_USAGE;
  }
  static const struct option opts[] = {{"count", required_argument, NULL, 'n'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"market", required_argument, NULL, 'm'},
                                       {"max-positions", required_argument, NULL, 'p'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  long count = -1, seed = 1, maxp = 20;
  const char *market = NULL, *out = NULL;
  int c, bad = 0;
  optind = 1;
  opterr = rank == 0;
  while ((c = getopt_long(argc - 1, argv + 1, "n:s:m:p:o:h", opts, NULL)) != -1) {
    switch (c) {
      case 'n': bad |= !im_parse_long(optarg, 1, 100000000L, &count); break;
      case 's': bad |= !im_parse_long(optarg, 0, 1L << 62, &seed); break;
      case 'p': bad |= !im_parse_long(optarg, 1, 20, &maxp); break;
      case 'm': market = optarg; break;
      case 'o': out = optarg; break;
      case 'h':
        if (rank == 0) fputs(help, stdout);
        return IM_EXIT_OK;
      default: bad = 1;
    }
  }
  if (bad || count < 0 || !market || !out || optind != argc - 1) {
    if (rank == 0) {
      fprintf(stderr, "imvar portfolios generate: --count, --market and -o are required; "
                      "--count 1..1e8, --max-positions 1..20\n");
      fputs(help, stderr);
    }
    return IM_EXIT_USAGE;
  }
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    st = generate((size_t)count, (uint64_t)seed, (size_t)maxp, market, out, &err);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
