#include "app.h"

#include <stdio.h>
#include <string.h>

#include "market_io.h"
#include "portfolio_io.h"

/* Every command: its name, what it does in a line or two, and its entry. */
static const struct {
  const char *name, *sub, *what; /* sub: the subcommand, shown in the list */
  int (*run)(int argc, char **argv, MPI_Comm comm);
} commands[] = {
    {"import", NULL, "CSV closes -> market.h5 (aligned daily UTC calendar, gap mask)", im_cmd_import},
    {"backtest", NULL,
     "margin, realised P&L and exceedances per model x portfolio x date\n"
     "-> results.h5 (MPI: run under mpirun/srun), then validate",
     im_cmd_backtest},
    {"validate", NULL, "the backtest battery, summary and verdict per model of a results.h5",
     im_cmd_validate},
    {"stats", NULL, "the whole backtest battery on any pnl,margin (or hit) CSV series", im_cmd_stats},
    {"portfolios", "generate", "synthetic account mixes for scale runs", im_cmd_portfolios},
    {"smile", "fit", "fit the option smile to a Deribit chain snapshot", im_cmd_smile},
    {"calibrate", NULL, "sweep confidence, horizon, window, decay and model; recommend a parameter set",
     im_cmd_calibrate},
    {"report", NULL, "the model validation report of a results.h5: HTML with charts, summary.json",
     im_cmd_report},
};

static void usage(FILE *f) {
  fputs("usage: imvar <command> [options]\n\n"
        "Backtests initial-margin models of crypto derivative portfolios.\n\ncommands:\n", f);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    const char *w = commands[i].what, *nl, *sub = commands[i].sub;
    char name[32];
    snprintf(name, sizeof name, "%s%s%s", commands[i].name, sub ? " " : "", sub ? sub : "");
    fprintf(f, "  %-10s ", name);
    while ((nl = strchr(w, '\n'))) {
      fprintf(f, "%.*s\n%13s", (int)(nl - w), w, "");
      w = nl + 1;
    }
    fprintf(f, "%s\n", w);
  }
  fputs("\n'imvar <command> --help' describes each command. 'imvar --version' prints the version.\n"
        "Exit codes: 0 success, 1 I/O or system failure, 2 bad command line, 3 bad configuration\n"
        "or input data, 75 backtest or calibrate stopped by SIGTERM/SIGINT/SIGUSR1/SIGUSR2\n"
        "(backtest: with a checkpoint, --resume).\n", f);
}

volatile sig_atomic_t im_stop_requested;

static void on_stop_signal(int sig) {
  (void)sig;
  im_stop_requested = 1;
}

void im_catch_stop_signals(void) {
  const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], on_stop_signal);
}

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
  /* Should rank 0's message be lost, every rank reports its own. */
  if (MPI_Bcast(&has0, 1, MPI_INT, 0, comm) != MPI_SUCCESS) has0 = 0;
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
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1, comm);
  if (strcmp(cmd, "--version") == 0) {
    if (rank == 0) printf("imvar %s (git %s)\n", IMVAR_VERSION, IMVAR_GIT_REV);
    return IM_EXIT_OK;
  }
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    if (rank == 0) usage(stdout);
    return IM_EXIT_OK;
  }
  if (rank == 0) {
    if (cmd[0]) fprintf(stderr, "imvar: unknown command '%s'\n\n", cmd);
    usage(stderr);
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
