#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "calendar.h"
#include "h5util.h"
#include "market_io.h"
#include "par.h"
#include "portfolio_io.h"
#include "print.h"

static const char help[] =
    "usage: [mpirun -n N] imvar backtest -c config.yaml [-o results.h5] [--set key=value ...]\n"
    "\n"
    "For every model x portfolio x date of the configuration: the initial margin the model\n"
    "demands at the close of t, the realised P&L of the unchanged portfolio from t to t+h,\n"
    "and the exceedance flag (loss > margin, strictly). Work is cut into tiles (model x\n"
    "portfolio block x date block) handed out dynamically to all MPI ranks; results are\n"
    "written with parallel HDF5 to a temporary file, validated (Kupiec, Christoffersen,\n"
    "traffic light per portfolio), then renamed to the output. On any error no output is left.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE     YAML configuration (see data/configs/default.yaml)\n"
    "  -o, --output FILE     results file (overrides the config's 'output')\n"
    "  -s, --set KEY=VALUE   override a configuration key by its dotted path, e.g.\n"
    "                        --set models.hs99.confidence=0.995 (repeatable)\n"
    "  -q, --quiet           do not print the validation table\n"
    "  -h, --help            this text\n";

/* Rank 0: configuration, market and portfolios, checked. */
static im_status load(const char *cfg_path, const char *out, char **sets, size_t nsets,
                      im_job *job, im_err *err) {
  im_status st = im_config_load(cfg_path, sets, nsets, &job->cfg, err);
  if (st) return st;
  im_config *c = &job->cfg;
  if (out) snprintf(c->output, sizeof c->output, "%s", out);
  if (im_output_dir_ok(c->output, err->msg, sizeof err->msg) < 0) return IM_EIO;
  if ((st = im_market_read_h5(c->market, &job->mkt, err))) return st;
  if ((st = im_book_read_csv(c->portfolios, &job->mkt, &job->book, err))) return st;
  for (size_t m = 0; m < c->n_models; m++) {
    im_err e;
    if ((st = im_model_check(&c->models[m], &job->mkt, &e)))
      return im_err_set(err, st, "%s: models.%s.%s", cfg_path, c->models[m].name, e.msg);
  }
  int64_t lo = job->mkt.day0, hi = lo + (int64_t)job->mkt.n_days - 1;
  int64_t s = c->start_day > lo ? c->start_day : lo, e = c->end_day < hi ? c->end_day : hi;
  if (s > e)
    return im_err_set(err, IM_EINVAL, "%s: start/end select no date of the market file %s",
                      cfg_path, c->market);
  job->d0 = (size_t)(s - lo);
  job->d1 = (size_t)(e - lo) + 1;
  return IM_OK;
}

int im_cmd_backtest(int argc, char **argv, MPI_Comm comm) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"set", required_argument, NULL, 's'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  const char *cfg_path = NULL, *out = NULL;
  char **sets = calloc((size_t)argc, sizeof *sets);
  size_t nsets = 0;
  int c, bad = !sets, quiet = 0;
  optind = 1;
  opterr = rank == 0;
  while (!bad && (c = getopt_long(argc, argv, "c:o:s:qh", opts, NULL)) != -1) {
    switch (c) {
      case 'c': cfg_path = optarg; break;
      case 'o': out = optarg; break;
      case 's': sets[nsets++] = optarg; break;
      case 'q': quiet = 1; break;
      case 'h':
        if (rank == 0) fputs(help, stdout);
        free(sets);
        return IM_EXIT_OK;
      default: bad = 1;
    }
  }
  if (bad || !cfg_path || optind < argc) {
    if (rank == 0) {
      if (!bad) fprintf(stderr, "imvar backtest: %s\n", !cfg_path ? "-c config.yaml is required" : "unexpected argument");
      fputs(help, stderr);
    }
    free(sets);
    return IM_EXIT_USAGE;
  }

  im_err err = {""};
  im_job job;
  memset(&job, 0, sizeof job);
  char created[32] = "", tmp[IM_PATH_LEN + 32] = "";
  im_status st = IM_OK;
  if (rank == 0) {
    st = load(cfg_path, out, sets, nsets, &job, &err);
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    im_tmp_path(job.cfg.output, (long)getpid(), tmp, sizeof tmp);
  }
  free(sets);
  st = im_bcast_status(comm, st);
  if (st) {
    im_report(st, &err);
    if (rank == 0) im_config_clear(&job.cfg), im_market_clear(&job.mkt), im_book_clear(&job.book);
    return im_exit_code(st);
  }
  st = im_par_bcast_job(comm, &job, &err);
  MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm);
  MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, comm);

  if (!st && rank == 0) {
    char a[11], b[11];
    im_date_format(job.mkt.day0 + (int32_t)job.d0, a);
    im_date_format(job.mkt.day0 + (int32_t)job.d1 - 1, b);
    fprintf(stderr,
            "imvar backtest: %zu models x %zu portfolios x %zu dates (%s .. %s) on %d rank%s\n",
            job.cfg.n_models, job.book.n_port, job.d1 - job.d0, a, b, size, size > 1 ? "s" : "");
  }
  im_par_stats ps;
  double t0 = MPI_Wtime();
  if (!st) st = im_par_backtest(comm, &job, created, tmp, &ps, &err);
  double t1 = MPI_Wtime();
  if (!st) st = im_par_validate(comm, tmp, &err);
  double t2 = MPI_Wtime();
  if (!st) {
    double mine[2] = {ps.seconds_tiles, (double)ps.tiles_mine}, mn[2], mx[2], sum[2];
    MPI_Reduce(mine, mn, 2, MPI_DOUBLE, MPI_MIN, 0, comm);
    MPI_Reduce(mine, mx, 2, MPI_DOUBLE, MPI_MAX, 0, comm);
    MPI_Reduce(mine, sum, 2, MPI_DOUBLE, MPI_SUM, 0, comm);
    if (rank == 0)
      fprintf(stderr,
              "imvar backtest: %zu tiles; per rank: tiles %.0f/%.1f/%.0f, tile time "
              "%.3f/%.3f/%.3f s (min/mean/max); backtest %.3f s, validation %.3f s\n",
              ps.tiles, mn[1], sum[1] / size, mx[1], mn[0], sum[0] / size, mx[0], t1 - t0,
              t2 - t1);
  }
  if (rank == 0) {
    if (!st && rename(tmp, job.cfg.output) != 0)
      st = im_err_set(&err, IM_EIO, "%s: cannot rename %s into place", job.cfg.output, tmp);
    if (st) remove(tmp); /* no half-written output */
  }
  im_report_collective(comm, st, &err);
  st = im_bcast_status(comm, st);
  if (!st && rank == 0) {
    if (!quiet) st = im_print_results(job.cfg.output, 0, 100, &err);
    im_report(st, &err);
    if (!st) fprintf(stderr, "imvar backtest: results in %s\n", job.cfg.output);
  }
  st = im_bcast_status(comm, st);
  if (rank == 0)
    im_config_clear(&job.cfg), im_market_clear(&job.mkt), im_book_clear(&job.book);
  else
    im_job_clear(&job);
  return im_exit_code(st);
}
