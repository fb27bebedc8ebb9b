#include <sys/resource.h>
#include <sys/statvfs.h>
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
#include "analysis.h"
#include "opts.h"

static const char about[] =
    "For every model x portfolio x date of the configuration: the initial margin the model\n"
    "demands at the close of t, the realised P&L of the unchanged portfolio from t to t+h,\n"
    "and the exceedance flag (loss > margin, strictly); for models with an anti-procyclicality\n"
    "layer or add-ons, each layer and the total margin with its own exceedance flag. Work is\n"
    "cut into tiles (model x portfolio block x date block) handed out dynamically to all MPI\n"
    "ranks; results are written with parallel HDF5 to <output>.partial as they finish, with\n"
    "a record of the finished tiles; then validated (the battery of imvar validate per\n"
    "portfolio, its summary per model) and renamed to the output, and the validation table\n"
    "with each model's verdict is printed. On an error no output is left. On SIGTERM,\n"
    "SIGINT, SIGUSR1 or SIGUSR2 every rank finishes its current tile, the checkpoint is kept\n"
    "and the exit code is 75: the same command with --resume computes only the missing\n"
    "tiles (also after kill -9), and the final data are byte-identical to an uninterrupted\n"
    "run's. Under Open MPI's mpirun send SIGUSR1 to mpirun (it forwards it): signalled\n"
    "with SIGTERM or Ctrl-C, mpirun itself exits 1 whatever the ranks return. While it\n"
    "runs, <output>.lock (pid, host, start) refuses a second run with the same output.\n";

/* Parallel HDF5 cannot recover from a write that fails on some ranks only: a
 * disk filling up while the results file is laid out or validated leaves the
 * ranks in different collective calls and the job hangs. The raw data are
 * allocated when the file is created, so room for the whole file up front
 * makes a full disk a clear error instead. */
static im_status check_space(const im_job *job, const char *partial, int resume, im_err *err) {
  const im_config *c = &job->cfg;
  const double P = (double)job->book.n_port, T = (double)(job->d1 - job->d0);
  double need = (double)(1 << 20) + P * (IM_PORT_ID_LEN + 4) + (double)strlen(c->text);
  for (size_t m = 0; m < c->n_models; m++) {
    const im_model *md = &c->models[m];
    const int apc = im_model_has_total(md);
    const int layers = im_model_has_apc(md) + (md->liquidity != 0) + (md->concentration != 0);
    const double h = c->models[m].horizon;
    /* im, pnl, exceed (apc, addon_*, exceed_total) */
    if (!resume) need += P * T * (17 + 8 * layers + (apc ? 1 : 0));
    need += P * (h > 1 ? h + 1 : 1) * (apc ? 2 : 1) * (double)sizeof(im_bt_stats);
  }
  char dir[IM_PATH_LEN + 16];
  snprintf(dir, sizeof dir, "%s", partial);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  struct statvfs fs;
  if (statvfs(dir, &fs) != 0) return IM_OK; /* cannot tell: let the writes say */
  const double avail = (double)fs.f_bavail * (double)fs.f_frsize;
  if (avail < need)
    return im_err_set(err, IM_EIO,
                      "%s: not enough disk space: the results need about %.1f MB, %.1f MB are free",
                      partial, need / 1e6, avail / 1e6);
  return IM_OK;
}

/* Rank 0: configuration, market and portfolios, checked. */
static im_status load(const char *cfg_path, const char *out, char **sets, size_t nsets,
                      im_job *job, im_err *err) {
  im_status st = im_config_load(cfg_path, sets, nsets, &job->cfg, err);
  if (st) return st;
  im_config *c = &job->cfg;
  if (out) snprintf(c->output, sizeof c->output, "%s", out);
  if (im_output_dir_ok(c->output, err->msg, sizeof err->msg) < 0) return IM_EIO;
  const char *const input[3][2] = {
      {c->market, "market"}, {c->portfolios, "portfolio"}, {cfg_path, "configuration"}};
  for (int i = 0; i < 3; i++)
    if (im_same_file(c->output, input[i][0]))
      return im_err_set(err, IM_EINVAL, "%s%s '%s' is the %s file; it would be overwritten",
                        out ? "-o" : cfg_path, out ? ":" : ": output:", c->output, input[i][1]);
  if ((st = im_app_load_inputs(cfg_path, job, err))) return st;
  for (size_t m = 0; m < c->n_models; m++) {
    im_err e;
    if ((st = im_model_check(&c->models[m], &job->mkt, &e)))
      return im_err_set(err, st, "%s: models.%s.%s", cfg_path, c->models[m].name, e.msg);
  }
  return IM_OK;
}

/* Rank 0: the output's lock (a second run with the same output is refused
 * before it touches anything; a stale lock of a dead process on this host is
 * taken over with a warning, so --resume after kill -9 needs no hand work). */
static im_status take_lock(const char *output, const char *created, int *locked, im_err *err) {
  const int r = im_output_lock(output, created, err->msg, sizeof err->msg);
  if (r < 0) return IM_EIO;
  if (r > 0) fprintf(stderr, "imvar backtest: warning: %s\n", err->msg);
  err->msg[0] = '\0';
  *locked = 1;
  return IM_OK;
}

/* One "min/mean/max" line across ranks for each timed phase. */
static void timing_summary(MPI_Comm comm, const double *v, const char *const *names, size_t n) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  double mn[16], mx[16], sum[16];
  /* Timing only: a failed reduction leaves the line out, the run stands. */
  int ok = MPI_Reduce(v, mn, (int)n, MPI_DOUBLE, MPI_MIN, 0, comm) == MPI_SUCCESS;
  ok &= MPI_Reduce(v, mx, (int)n, MPI_DOUBLE, MPI_MAX, 0, comm) == MPI_SUCCESS;
  ok &= MPI_Reduce(v, sum, (int)n, MPI_DOUBLE, MPI_SUM, 0, comm) == MPI_SUCCESS;
  if (rank != 0 || !ok) return;
  fprintf(stderr, "imvar backtest: per rank (min/mean/max):");
  for (size_t i = 0; i < n; i++)
    fprintf(stderr, "%s %s %.3g/%.3g/%.3g", i ? "," : "", names[i], mn[i], sum[i] / size, mx[i]);
  fputc('\n', stderr);
}

/* Rank 0: what the run will compute. */
static void print_plan(const im_job *job, int size, int resume) {
  char a[11], b[11];
  im_date_format(job->mkt.day0 + (int32_t)job->d0, a);
  im_date_format(job->mkt.day0 + (int32_t)job->d1 - 1, b);
  fprintf(stderr,
          "imvar backtest: %zu models x %zu portfolios x %zu dates (%s .. %s) on %d rank%s%s\n",
          job->cfg.n_models, job->book.n_port, job->d1 - job->d0, a, b, size, size > 1 ? "s" : "",
          resume ? ", resuming" : "");
}

/* Collective: the tiling, and each phase's time across ranks. */
static void print_timing(MPI_Comm comm, double t_load, double t_bcast, double t_val,
                         const im_par_stats *ps) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double v[] = {t_load, t_bcast, ps->seconds_prepare, ps->seconds_tiles, t_val,
                      (double)ps->tiles_mine, (double)ru.ru_maxrss / 1024.0};
  const char *const names[] = {"read inputs s", "broadcast s", "prepare s", "tiles s",
                               "validation s", "tiles", "peak RSS MiB"};
  if (rank == 0)
    fprintf(stderr, "imvar backtest: %zu tiles of %zu portfolios x %zu dates; %zu done now%s\n",
            ps->tiles, ps->tile_portfolios, ps->tile_dates, ps->tiles_done,
            ps->tiles_resumed ? ", the rest by the interrupted run" : "");
  timing_summary(comm, v, names, sizeof v / sizeof v[0]);
}

int im_cmd_backtest(int argc, char **argv, MPI_Comm comm) {
  int rank, size, first, quiet = 0, resume = 0, progress = isatty(STDERR_FILENO);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const char *cfg_path = NULL, *out = NULL;
  im_opt_list sets = {NULL, 0};
  const im_opt opts[] = {
      {"config", 'c', "FILE", "YAML configuration (see data/configs/default.yaml)", IM_OPT_STR,
       &cfg_path, 0, 0, NULL, NULL},
      {"output", 'o', "FILE", "results file (overrides the config's 'output')", IM_OPT_STR, &out,
       0, 0, NULL, NULL},
      {"set", 's', "KEY=VALUE",
       "override a configuration key by its dotted path, e.g.\n"
       "--set models.hs99.confidence=0.995 (repeatable)",
       IM_OPT_LIST, &sets, 0, 0, NULL, NULL},
      {"resume", 'r', NULL, "continue <output>.partial if it exists (else start afresh)",
       IM_OPT_FLAG, &resume, 0, 0, NULL, NULL},
      {"progress", 'p', NULL, "progress line on stderr (default: when stderr is a terminal)",
       IM_OPT_FLAG, &progress, 0, 0, NULL, NULL},
      {"quiet", 'q', NULL, "do not print the validation table", IM_OPT_FLAG, &quiet, 0, 0, NULL,
       NULL},
  };
  /* The kinds and their parameters, from the model descriptors. */
  static char kinds[8192];
  const int n = snprintf(kinds, sizeof kinds,
                         "model kinds and the parameters each takes (models.<name>.<key>):\n");
  im_model_help(kinds + n, sizeof kinds - (size_t)n);
  const im_cmd_spec spec = {
      "backtest", "[mpirun -n N] imvar backtest -c config.yaml [-o results.h5] [--set key=value ...]",
      about, opts, sizeof opts / sizeof opts[0], kinds};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  if (rc < 0 && (!cfg_path || first < argc))
    rc = im_opts_usage_error(&spec, rank, !cfg_path ? "-c config.yaml is required" : "unexpected argument");
  if (rc >= 0) {
    im_opts_free(&spec);
    return rc;
  }
  im_catch_stop_signals();

  im_err err = {""};
  im_job job;
  memset(&job, 0, sizeof job);
  char created[32] = "", partial[IM_PATH_LEN + 16] = "";
  im_status st = IM_OK;
  double t_load = MPI_Wtime();
  int locked = 0;
  if (rank == 0) {
    st = load(cfg_path, out, sets.v, sets.n, &job, &err);
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(partial, sizeof partial, "%s.partial", job.cfg.output);
    if (!st) st = take_lock(job.cfg.output, created, &locked, &err);
    if (!st && resume && access(partial, F_OK) != 0) {
      fprintf(stderr, "imvar backtest: --resume: no %s, starting afresh\n", partial);
      resume = 0;
    }
    if (!st) st = check_space(&job, partial, resume, &err);
    if (st && locked) im_output_unlock(job.cfg.output);
  }
  t_load = MPI_Wtime() - t_load;
  im_opts_free(&spec);
  st = im_bcast_status(comm, st);
  if (st) {
    im_report(st, &err);
    if (rank == 0) im_config_clear(&job.cfg), im_market_clear(&job.mkt), im_book_clear(&job.book);
    return im_exit_code(st);
  }
  double t_bcast = MPI_Wtime();
  st = im_par_bcast_job(comm, &job, &err);
  if (!st) st = IM_MPI(&err, MPI_Bcast, (created, sizeof created, MPI_CHAR, 0, comm));
  if (!st) st = IM_MPI(&err, MPI_Bcast, (partial, sizeof partial, MPI_CHAR, 0, comm));
  if (!st) st = IM_MPI(&err, MPI_Bcast, (&resume, 1, MPI_INT, 0, comm));
  if (!st) st = IM_MPI(&err, MPI_Bcast, (&progress, 1, MPI_INT, 0, comm));
  st = im_par_agree(comm, st);
  t_bcast = MPI_Wtime() - t_bcast;

  if (!st && rank == 0) print_plan(&job, size, resume);
  im_par_stats ps;
  memset(&ps, 0, sizeof ps);
  im_par_opts po = {.resume = resume, .progress = progress && rank == 0, .stop = &im_stop_requested};
  if (!st) st = im_par_backtest(comm, &job, created, partial, &po, &ps, &err);
  double t_val = MPI_Wtime();
  if (!st && !ps.interrupted) st = im_par_validate(comm, partial, &err);
  t_val = MPI_Wtime() - t_val;
  if (!st) print_timing(comm, t_load, t_bcast, t_val, &ps);
  if (rank == 0) {
    if (!st && !ps.interrupted && rename(partial, job.cfg.output) != 0)
      st = im_err_set(&err, IM_EIO, "%s: cannot rename %s into place", job.cfg.output, partial);
    /* No half-written output: a failed fresh run leaves nothing; a failed
     * resume keeps the checkpoint it was given. */
    if (st && !resume) remove(partial);
    if (locked) im_output_unlock(job.cfg.output);
  }
  im_report_collective(comm, st, &err);
  st = im_bcast_status(comm, st);
  int interrupted = ps.interrupted;
  if (!st) st = im_par_agree(comm, IM_MPI(&err, MPI_Bcast, (&interrupted, 1, MPI_INT, 0, comm)));
  if (!st && interrupted && rank == 0)
    fprintf(stderr,
            "imvar backtest: stopped by a signal after %zu of %zu tiles; the checkpoint is %s; "
            "run the same command with --resume to finish\n",
            ps.tiles_resumed + ps.tiles_done, ps.tiles, partial);
  if (!st && !interrupted && rank == 0) {
    if (!quiet) st = im_print_results(job.cfg.output, 0, 100, &err);
    im_report(st, &err);
    if (!st) fprintf(stderr, "imvar backtest: results in %s\n", job.cfg.output);
  }
  st = im_bcast_status(comm, st);
  if (rank == 0)
    im_config_clear(&job.cfg), im_market_clear(&job.mkt), im_book_clear(&job.book);
  else
    im_job_clear(&job);
  if (!st && interrupted) return IM_EXIT_INTERRUPTED;
  return im_exit_code(st);
}
