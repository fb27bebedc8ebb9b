#include "app.h"

#include <stdio.h>
#include <string.h>

#include "market_io.h"
#include "portfolio_io.h"

static const char usage[] =
    "usage: imvar <command> [options]\n"
    "\n"
    "Backtests initial-margin models of crypto derivative portfolios.\n"
    "\n"
    "commands:\n"
    "  import     CSV closes -> market.h5 (aligned daily UTC calendar, gap mask)\n"
    "  backtest   margin, realised P&L and exceedances per model x portfolio x date\n"
    "             -> results.h5 (MPI: run under mpirun/srun), then validate\n"
    "  validate   the backtest battery per portfolio of a results.h5\n"
    "  stats      the whole backtest battery on any pnl,margin (or hit) CSV series\n"
    "  portfolios generate   synthetic account mixes for scale runs\n"
    "  smile fit  fit the option smile to a Deribit chain snapshot\n"
    "  calibrate  sweep confidence, horizon, window, decay and model; recommend a parameter set\n"
    "  report     the model validation report of a results.h5: HTML with charts, summary.json\n"
    "\n"
    "'imvar <command> --help' describes each command. 'imvar --version' prints the version.\n"
    "Exit codes: 0 success, 1 I/O or system failure, 2 bad command line, 3 bad configuration\n"
    "or input data, 75 backtest stopped by SIGTERM/SIGINT with a checkpoint (--resume).\n";

int im_exit_code(im_status st) {
  switch (st) {
    case IM_OK:
      return IM_EXIT_OK;
    case IM_EINVAL:
    case IM_EDATA:
      return IM_EXIT_INPUT;
    default:
      return IM_EXIT_FAIL;
  }
}

void im_report(im_status st, const im_err *err) {
  if (!st || !err->msg[0]) return;
  /* Messages quote input text: control characters (say, a hostile file's
   * terminal escape sequences) are shown as \xNN, never sent to the terminal. */
  fputs("imvar: error: ", stderr);
  for (const unsigned char *p = (const unsigned char *)err->msg; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      fprintf(stderr, "\\x%02x", *p);
    else
      fputc(*p, stderr);
  fputc('\n', stderr);
}

void im_report_collective(MPI_Comm comm, im_status st, const im_err *err) {
  int rank, has0 = st && err->msg[0];
  MPI_Comm_rank(comm, &rank);
  MPI_Bcast(&has0, 1, MPI_INT, 0, comm);
  if (rank == 0 || !has0) im_report(st, err);
}

im_status im_bcast_status(MPI_Comm comm, im_status st) {
  int s = (int)st;
  if (MPI_Bcast(&s, 1, MPI_INT, 0, comm) != MPI_SUCCESS) return IM_EMPI;
  return (im_status)s;
}

int im_run(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "import") == 0) return im_cmd_import(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "backtest") == 0) return im_cmd_backtest(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "validate") == 0) return im_cmd_validate(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "stats") == 0) return im_cmd_stats(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "smile") == 0) return im_cmd_smile(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "portfolios") == 0) return im_cmd_portfolios(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "report") == 0) return im_cmd_report(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "calibrate") == 0) return im_cmd_calibrate(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "--version") == 0) {
    if (rank == 0) printf("imvar %s (git %s)\n", IMVAR_VERSION, IMVAR_GIT_REV);
    return IM_EXIT_OK;
  }
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    if (rank == 0) fputs(usage, stdout);
    return IM_EXIT_OK;
  }
  if (rank == 0) {
    if (cmd[0]) fprintf(stderr, "imvar: unknown command '%s'\n\n", cmd);
    fputs(usage, stderr);
  }
  return IM_EXIT_USAGE;
}

im_status im_app_load_inputs(const char *cfg_path, im_job *job, im_err *err) {
  const im_config *c = &job->cfg;
  im_status st = im_market_read_h5(c->market, &job->mkt, err);
  if (!st) st = im_book_read_csv(c->portfolios, &job->mkt, &job->book, err);
  if (st) return st;
  int64_t lo = job->mkt.day0, hi = lo + (int64_t)job->mkt.n_days - 1;
  int64_t s = c->start_day > lo ? c->start_day : lo, e = c->end_day < hi ? c->end_day : hi;
  if (s > e)
    return im_err_set(err, IM_EINVAL, "%s: start/end select no date of the market file %s",
                      cfg_path, c->market);
  job->d0 = (size_t)(s - lo);
  job->d1 = (size_t)(e - lo) + 1;
  return IM_OK;
}
