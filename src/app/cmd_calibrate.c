#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "app.h"
#include "calendar.h"
#include "calib_io.h"
#include "csvfile.h"
#include "h5util.h"
#include "opts.h"
#include "market_io.h"
#include "portfolio_io.h"

static const char about[] =
    "Sweeps parameter sets (the product of the lists under calibrate.grid, and any\n"
    "models named in the configuration), backtests each on the calibration period and\n"
    "the test periods, and recommends the set that passes the criteria with the\n"
    "lowest mean margin (then the lowest procyclicality). Run under mpirun or srun:\n"
    "sets x portfolio blocks are shared out among the ranks; sets that differ only in\n"
    "confidence and measure share their scenarios.\n"
    "\n"
    "Writes calibration.h5 (sets, periods, metrics per set and period, ranking, Pareto\n"
    "frontier, sensitivities; README \"Calibration\") and, when a set is eligible, the\n"
    "ready-to-use backtest configuration <output>.recommended.yaml, and prints the\n"
    "ranked table, the best-ranked set in each test period and the recommendation.\n"
    "Every key is documented in data/configs/calibrate.yaml.\n";

static const char epilog[] =
    "SIGTERM, SIGINT, SIGUSR1 or SIGUSR2 stops every rank after its current item: nothing\n"
    "is written, exit 75 (run it again; jobs/calibrate.sbatch requeues itself). Under Open\n"
    "MPI's mpirun send SIGUSR1 to mpirun: signalled with SIGTERM, mpirun itself exits 1.\n";

/* Rank 0, once every set's metrics are known: ranking, frontier,
 * sensitivities, the file, the recommended configuration, the table. */
static im_status finish(const char *out, const im_config *cfg, const im_calib *cal,
                        const im_cal_metrics *metrics, const uint8_t *computed, const char *created,
                        int top, int quiet, im_err *err) {
  const size_t S = cal->n_sets, Q = cal->n_periods;
  im_cal_metrics *cm = malloc((S + 1) * sizeof *cm);
  size_t *order = malloc((S + 1) * sizeof *order);
  uint8_t *pareto = malloc(S + 1);
  im_cal_sens *sens = malloc((S * IM_CAL_N_PARAMS + 1) * sizeof *sens);
  im_status st = cm && order && pareto && sens ? IM_OK : im_err_set(err, IM_ENOMEM, "out of memory");
  if (!st) {
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < S; i++) {
      cm[i] = metrics[i * Q];
      if (cm[i].n_obs < lo) lo = cm[i].n_obs;
      if (cm[i].n_obs > hi) hi = cm[i].n_obs;
    }
    if (lo != hi)
      fprintf(stderr,
              "imvar calibrate: warning: the sets are observed on %lld to %lld portfolio-days of "
              "the calibration period (longer windows start later): their mean margins compare "
              "different days; start the period once the longest window is filled\n",
              (long long)lo, (long long)hi);
    im_cal_rank(cm, S, order);
    im_cal_pareto(cm, S, pareto);
    const long rec = cm[order[0]].eligible ? (long)order[0] : -1;
    const size_t n_sens = im_cal_sensitivity(cal->sets, cm, S, order[0], sens);
    im_calib_file f = {.config_text = cfg->text, .created = created, .seed = (uint64_t)cfg->seed,
                       .cal = cal, .metrics = metrics, .computed = computed, .chunk = -1,
                       .n_chunks = 1, .ranking = order, .pareto = pareto, .recommended = rec,
                       .n_sens = n_sens, .sens = sens};
    st = im_calib_write(out, &f, err);
    char yaml[IM_PATH_LEN + 32], comment[4096];
    snprintf(yaml, sizeof yaml, "%s.recommended.yaml", out);
    const im_calib_out o = {out, yaml, created, cal, metrics, order, pareto, n_sens, rec, top, quiet};
    if (!st && rec >= 0) {
      im_calib_comment(&o, comment, sizeof comment);
      st = im_config_write_model(yaml, cfg, &cal->sets[rec], comment, err);
    } else if (!st) {
      remove(yaml); /* a recommendation of an earlier run would mislead */
    }
    if (!st) im_print_calibration(&o);
  }
  free(cm);
  free(order);
  free(pareto);
  free(sens);
  return st;
}

/* A period's end for a message: its date, or how it is open. */
static void bound_text(int32_t day, const char *open, char out[16]) {
  if (day == INT32_MIN || day == INT32_MAX) snprintf(out, 16, "%s", open);
  else im_date_format(day, out);
}

/* Rank 0: every period holds at least one of the run's dates. A period
 * outside them is an error, not a skipped period: its row in calibration.h5
 * would be empty metrics that read like a result, and such a period is most
 * often a typo or the wrong market file. */
static im_status check_periods(const char *cfg_path, const im_job *job, const im_calib *cal,
                               im_err *err) {
  const int64_t lo = job->mkt.day0 + (int64_t)job->d0, hi = job->mkt.day0 + (int64_t)job->d1 - 1;
  for (size_t q = 0; q < cal->n_periods; q++) {
    const im_period *p = &cal->periods[q];
    if ((p->start_day == INT32_MIN || p->start_day <= hi) && (p->end_day == INT32_MAX || p->end_day >= lo))
      continue;
    char s[16], e[16], a[16], b[16], m0[16], m1[16];
    bound_text(p->start_day, "open", s);
    bound_text(p->end_day, "open", e);
    im_date_format((int32_t)lo, a);
    im_date_format((int32_t)hi, b);
    im_date_format((int32_t)job->mkt.day0, m0);
    im_date_format((int32_t)(job->mkt.day0 + (int64_t)job->mkt.n_days - 1), m1);
    return im_err_set(err, IM_EINVAL,
                      "%s: calibrate period '%s' (%s .. %s) has no date in the run's dates %s .. %s "
                      "(the market file %s covers %s .. %s)",
                      cfg_path, p->name, s, e, a, b, job->cfg.market, m0, m1);
  }
  return IM_OK;
}

/* Rank 0, after the sweep: a warning per period where no computed set has a
 * margin on any day, or where a set has one for fewer than half the
 * portfolios (the others have no price data there, or their window is not
 * yet filled): the metrics then describe few or no portfolios. Warnings, not
 * errors: the figures are right for what was observed, and a test period may
 * legitimately be short. */
static void warn_sparse_periods(const im_calib *cal, const im_cal_metrics *metrics,
                                const uint8_t *computed, size_t P) {
  const size_t S = cal->n_sets, Q = cal->n_periods;
  for (size_t q = 0; q < Q; q++) {
    size_t worst = S;
    int64_t n_obs = 0;
    for (size_t i = 0; i < S; i++) {
      if (!computed[i]) continue;
      n_obs += metrics[i * Q + q].n_obs;
      if (worst == S || metrics[i * Q + q].n_portfolios < metrics[worst * Q + q].n_portfolios) worst = i;
    }
    if (worst == S) continue;
    const int64_t k = metrics[worst * Q + q].n_portfolios;
    char l[96];
    im_calib_model_label(&cal->sets[worst], l, sizeof l);
    if (n_obs == 0)
      fprintf(stderr,
              "imvar calibrate: warning: period '%s': no set has a margin on any of its days for "
              "any of the %zu portfolios (no price data, or windows longer than the history "
              "before it); its metrics are empty\n",
              cal->periods[q].name, P);
    else if ((size_t)k * 2 < P)
      fprintf(stderr,
              "imvar calibrate: warning: period '%s': set %zu (%s) has a margin for only %lld of "
              "the %zu portfolios (the others have no price data there or a window not yet "
              "filled); its metrics describe those %lld\n",
              cal->periods[q].name, worst, l, (long long)k, P, (long long)k);
  }
}

/* Rank 0: the configuration, and unless merging, the market and portfolios,
 * every parameter set checked against them. */
static im_status load(const char *cfg_path, const char *out, const im_opt_list *sets, int merge,
                      im_job *job, im_calib *cal, im_err *err) {
  im_status st = im_calib_load(cfg_path, sets->v, sets->n, &job->cfg, cal, err);
  if (!st && im_output_dir_ok(out, err->msg, sizeof err->msg) < 0) st = IM_EIO;
  const char *const input[2][2] = {{job->cfg.market, "market"}, {job->cfg.portfolios, "portfolio"}};
  for (int i = 0; i < 2 && !st; i++)
    if (im_same_file(out, input[i][0]) || im_same_file(out, cfg_path))
      st = im_err_set(err, IM_EINVAL, "-o: '%s' is the %s file; it would be overwritten",
                      out, im_same_file(out, cfg_path) ? "configuration" : input[i][1]);
  if (!st && !merge) st = im_app_load_inputs(cfg_path, job, err);
  if (!st && !merge) st = check_periods(cfg_path, job, cal, err);
  for (size_t i = 0; i < cal->n_sets && !st && !merge; i++) {
    im_err e;
    char l[96];
    if ((st = im_model_check(&cal->sets[i], &job->mkt, &e))) {
      im_calib_model_label(&cal->sets[i], l, sizeof l);
      st = im_err_set(err, st, "%s: parameter set %zu (%s): %s", cfg_path, i, l, e.msg);
    }
  }
  return st;
}

/* Rank 0, --merge: the metrics of every set from the chunk files, all of
 * one chunking and together complete. */
static im_status merge_chunks(int n_files, char **files, const im_job *job, const im_calib *cal,
                              im_cal_metrics *metrics, uint8_t *computed, im_err *err) {
  long n = 0;
  im_status st = IM_OK;
  for (int i = 0; i < n_files && !st; i++) {
    long nc = 0;
    st = im_calib_read_chunk(files[i], job->cfg.text, cal, &nc, metrics, computed, err);
    if (!st && i > 0 && nc != n)
      st = im_err_set(err, IM_EINVAL, "%s: a chunk of %ld; the first file is of %ld", files[i], nc, n);
    n = nc;
  }
  for (size_t i = 0; i < cal->n_sets && !st; i++)
    if (!computed[i])
      st = im_err_set(err, IM_EINVAL, "--merge: no chunk file holds set %zu (chunk %zu of %ld missing?)",
                      i, n ? i % (size_t)n : 0, n);
  return st;
}

/* --chunk I/N */
typedef struct {
  long i, n;
  int set;
} chunk_arg;

static int parse_chunk(const char *arg, void *dst) {
  chunk_arg *c = dst;
  char tail;
  c->set = 1;
  return sscanf(arg, "%ld/%ld%c", &c->i, &c->n, &tail) == 2 && c->n >= 1 && c->i >= 0 && c->i < c->n;
}

int im_cmd_calibrate(int argc, char **argv, MPI_Comm comm) {
  int rank, size, first, quiet = 0, merge = 0, progress = isatty(STDERR_FILENO);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const char *cfg_path = NULL, *out = "calibration.h5";
  im_opt_list sets = {NULL, 0};
  chunk_arg ck = {0, 1, 0};
  long top = 15;
  const im_opt opts[] = {
      {"config", 'c', "FILE", "the calibration configuration (YAML)", IM_OPT_STR, &cfg_path, 0, 0,
       NULL, NULL},
      {"output", 'o', "FILE", "the calibration file (default calibration.h5)", IM_OPT_STR, &out, 0,
       0, NULL, NULL},
      {"set", 's', "KEY=VALUE", "override a key, e.g. calibrate.grid.confidence=0.99,0.995",
       IM_OPT_LIST, &sets, 0, 0, NULL, NULL},
      {"chunk", 0, "I/N",
       "compute only the sets i with i % N == I into a chunk file\n"
       "(Slurm array task I of N; see jobs/calibrate.sbatch)",
       IM_OPT_CUSTOM, &ck, 0, 0, parse_chunk, ": expected I/N with 0 <= I < N"},
      {"merge", 0, NULL,
       "merge the chunk files (the operands) of all N chunks (same -c\n"
       "and --set) into the output: the same file a single job writes",
       IM_OPT_FLAG, &merge, 0, 0, NULL, NULL},
      {"progress", 'p', NULL, "progress on stderr (default when stderr is a terminal)",
       IM_OPT_FLAG, &progress, 0, 0, NULL, NULL},
      {"top", 'n', "N", "rows of the ranked table to print (default 15)", IM_OPT_LONG, &top, 0,
       1L << 30, NULL, ": expected a count >= 0"},
      {"quiet", 'q', NULL, "print only the recommendation", IM_OPT_FLAG, &quiet, 0, 0, NULL, NULL},
  };
  const im_cmd_spec spec = {
      "calibrate",
      "imvar calibrate -c CONFIG [-o calibration.h5] [--set key=value ...]\n"
      "                       [--chunk I/N | --merge CHUNK.h5 ...] [--progress] [-q]",
      about, opts, sizeof opts / sizeof opts[0], epilog};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  const int n_merge = merge ? argc - first : 0, chunked = ck.set;
  const long chunk = ck.i, n_chunks = ck.n;
  if (rc < 0 && (!cfg_path || (first < argc && !merge) || (merge && (n_merge == 0 || chunked))))
    rc = im_opts_usage_error(&spec, rank,
                             !cfg_path ? "-c config.yaml is required"
                             : merge && chunked ? "--chunk and --merge exclude each other"
                             : merge ? "--merge needs the chunk files"
                                     : "unexpected argument");
  if (rc >= 0) {
    im_opts_free(&spec);
    return rc;
  }
  im_catch_stop_signals();
  im_err err = {""};
  im_job job;
  im_calib cal;
  int interrupted = 0;
  memset(&job, 0, sizeof job);
  memset(&cal, 0, sizeof cal);
  char created[32] = "";
  im_status st = IM_OK;
  if (rank == 0) {
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    st = load(cfg_path, out, &sets, merge, &job, &cal, &err);
  }
  im_opts_free(&spec);
  st = im_bcast_status(comm, st);
  if (st) {
    im_report(st, &err);
    im_calib_clear(&cal);
    if (rank == 0) im_config_clear(&job.cfg), im_market_clear(&job.mkt), im_book_clear(&job.book);
    return im_exit_code(st);
  }
  const size_t S = cal.n_sets;
  im_cal_metrics *metrics = NULL;
  uint8_t *computed = NULL;
  if (rank == 0) {
    metrics = calloc(S * cal.n_periods + 1, sizeof *metrics);
    computed = calloc(S + 1, 1);
    if (!metrics || !computed) st = im_err_set(&err, IM_ENOMEM, "out of memory");
  }
  if (merge) { /* rank 0 alone: no market, no computation */
    if (!st && rank == 0) st = merge_chunks(n_merge, argv + first, &job, &cal, metrics, computed, &err);
  } else {
    if (!st && rank == 0)
      fprintf(stderr, "imvar calibrate: %zu parameter sets%s x %zu portfolios x %zu periods on %d rank%s\n",
              S, n_chunks > 1 ? " (this chunk: every N-th)" : "", job.book.n_port, cal.n_periods,
              size, size > 1 ? "s" : "");
    st = im_bcast_status(comm, st);
    if (!st) st = im_par_bcast_job(comm, &job, &err);
    if (!st) st = im_par_bcast_calib(comm, &cal, &err);
    if (!st) st = im_par_agree(comm, IM_MPI(&err, MPI_Bcast, (&progress, 1, MPI_INT, 0, comm)));
    if (!st)
      st = im_par_calibrate(comm, &job, &cal, (size_t)chunk, (size_t)n_chunks, progress,
                            &im_stop_requested, &interrupted, metrics, &err);
    for (size_t i = 0; i < S && !st && rank == 0; i++) computed[i] = (long)(i % (size_t)n_chunks) == chunk;
    if (!st && !interrupted && rank == 0) warn_sparse_periods(&cal, metrics, computed, job.book.n_port);
  }
  if (!st && interrupted) {
    if (rank == 0) fprintf(stderr, "imvar calibrate: interrupted by a signal; nothing written (run it again)\n");
  } else if (!st && rank == 0) {
    if (chunked) {
      im_calib_file f = {.config_text = job.cfg.text, .created = created, .seed = (uint64_t)job.cfg.seed,
                         .cal = &cal, .metrics = metrics, .computed = computed, .chunk = chunk,
                         .n_chunks = n_chunks, .recommended = -1};
      st = im_calib_write(out, &f, &err);
      if (!st) printf("chunk %ld/%ld: metrics of its sets in %s (merge with --merge)\n", chunk, n_chunks, out);
    } else {
      st = finish(out, &job.cfg, &cal, metrics, computed, created, (int)top, quiet, &err);
    }
  }
  st = im_bcast_status(comm, st);
  if (st) im_report_collective(comm, st, &err);
  free(metrics);
  free(computed);
  im_calib_clear(&cal);
  if (rank == 0) im_market_clear(&job.mkt), im_book_clear(&job.book), im_config_clear(&job.cfg);
  else im_job_clear(&job);
  if (!st && interrupted) return IM_EXIT_INTERRUPTED;
  return im_exit_code(st);
}
