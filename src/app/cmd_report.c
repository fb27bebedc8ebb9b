#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "csvfile.h"
#include "h5util.h"
#include "report.h"

static const char help[] =
    "usage: [mpirun -n N] imvar report results.h5 -o report.html [--portfolios ID,...]\n"
    "                     [--worst N] [--rows N] [--calibration calibration.h5]\n"
    "\n"
    "The model validation report of a validated results file: one self-contained HTML page\n"
    "(inline SVG charts drawn by gnuplot, no scripts, nothing fetched) that says per model\n"
    "whether it passes and shows the evidence: the run (configuration, data range, versions,\n"
    "git revision, run date); per model the verdict and its criteria, coverage achieved vs\n"
    "target, exceedances vs expected, traffic-light zones, each test's pass share across\n"
    "portfolios, the multiple-testing summary, exceedance magnitudes, procyclicality and margin\n"
    "adequacy; charts of exceedances per portfolio vs the binomial expectation, the p-values,\n"
    "the rolling 250-day traffic light and, for the worst portfolios and those named, margin vs\n"
    "realised loss with exceedances marked and the margin's n-day increases; and a table of\n"
    "every portfolio's statistics, worst first. Beside the HTML (same directory) it writes\n"
    "summary.json, summary_models.csv and summary_portfolios.csv with the same numbers, for\n"
    "dashboards (existing files of those names are replaced). With --calibration, a calibration\n"
    "section (criteria, the recommended set and its verdicts per period, the best-ranked sets,\n"
    "the Pareto frontier of margin against exceedances, the sensitivities) and\n"
    "summary_calibration.csv; without it the section says how to make one. All files are\n"
    "written to temporary names and renamed when complete. Runs on rank 0.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE       the HTML report (required)\n"
    "  -p, --portfolios IDS    comma-separated portfolio ids to chart for every model, besides\n"
    "                          the worst (repeatable); an unknown id is an error\n"
    "  -w, --worst N           chart the N worst portfolios of each model (default 5, 0..1000)\n"
    "  -r, --rows N            at most N rows per model in the HTML table (default 1000,\n"
    "                          0 = all); summary_portfolios.csv always has every portfolio\n"
    "      --calibration FILE  a complete calibration file of imvar calibrate (merged, not a\n"
    "                          chunk)\n"
    "  -h, --help              this text\n"
    "\n"
    "Environment: IMVAR_GNUPLOT, the gnuplot program (default: gnuplot on PATH; Debian's\n"
    "gnuplot-nox). Exit codes: 0 written, 1 I/O (missing results file, unwritable output,\n"
    "gnuplot failed, missing calibration file), 2 bad command line, 3 not a validated results\n"
    "file, unknown portfolio id, or not a complete calibration file.\n";

/* The same file (both exist and share device and inode). */
static int same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Splits a comma-separated list into names[] (strdup'ed); 0 on an empty name. */
static int add_ids(const char *arg, char ***names, size_t *n) {
  const char *s = arg;
  for (;;) {
    const char *e = strchr(s, ',');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l == 0)
      return 0;
    char **nn = realloc(*names, (*n + 2) * sizeof *nn);
    if (!nn)
      return 0;
    *names = nn;
    nn[*n] = strndup(s, l);
    if (!nn[*n])
      return 0;
    nn[++*n] = NULL;
    if (!e)
      return 1;
    s = e + 1;
  }
}

static im_status report(const char *results, const char *calib, const char *out,
                        const char *const *ids, size_t worst, size_t rows, im_err *err) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (im_output_dir_ok(out, err->msg, sizeof err->msg) < 0)
    return IM_EIO;
  const char *side[4] = {"summary.json", "summary_models.csv", "summary_portfolios.csv",
                         "summary_calibration.csv"};
  const char *input[2] = {results, calib};
  for (int k = 0; k < 2 && input[k]; k++) {
    const char *what = k ? "calibration" : "results";
    for (int i = 0; i < 4; i++) {
      char p[4200];
      rp_side_path(out, side[i], p, sizeof p);
      if (same_file(p, input[k]))
        return im_err_set(err, IM_EINVAL,
                          "%s: the report would overwrite the %s file (it writes %s beside %s)",
                          input[k], what, side[i], out);
    }
    if (same_file(out, input[k]))
      return im_err_set(err, IM_EINVAL, "%s: the report would overwrite the %s file", out, what);
  }
  rp_report rep;
  memset(&rep, 0, sizeof rep);
  rep.results_path = results;
  rep.out_html = out;
  rep.worst = worst;
  rep.table_rows = rows;
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(rep.generated, sizeof rep.generated, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  rp_charts ch = {0, NULL};
  im_status st = rp_load(&rep, ids, err);
  if (!st && calib) {
    st = im_calib_read(calib, &rep.cal, err);
    if (!st) {
      rep.cal_path = calib;
      rep.cal_ref = rep.cal.recommended >= 0 ? (size_t)rep.cal.recommended
                                             : (size_t)rep.cal.ranking[0];
    }
  }
  if (!st)
    st = rp_draw(&rep, &ch, err);
  if (!st)
    st = rp_write(&rep, &ch, err);
  if (!st) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t drawn = 0;
    for (size_t i = 0; i < ch.n; i++)
      drawn += ch.c[i].svg != NULL;
    char dir[4200];
    rp_side_path(out, "", dir, sizeof dir);
    printf(
        "imvar report: %s (%zu models, %zu portfolios, %zu charts); summary.json, "
        "summary_models.csv, summary_portfolios.csv%s in %s; %.2f s\n",
        out, rep.M, rep.P, drawn, calib ? ", summary_calibration.csv" : "", dir[0] ? dir : "./",
        (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    for (size_t m = 0; m < rep.M; m++)
      printf("model %s: %s\n", rep.models[m].md.name, rp_state_name(rep.models[m].verdict));
    if (calib) {
      char l[160];
      im_calib_set_label(&rep.cal.sets[rep.cal_ref], l, sizeof l);
      printf("calibration %s: %s %s (set %zu)\n", calib,
             rep.cal.recommended >= 0 ? "recommended" : "none eligible; nearest", l, rep.cal_ref);
    }
    fflush(stdout);
  }
  im_calib_data_free(&rep.cal);
  rp_charts_free(&ch);
  rp_free(&rep);
  return st;
}

int im_cmd_report(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                       {"portfolios", required_argument, NULL, 'p'},
                                       {"worst", required_argument, NULL, 'w'},
                                       {"rows", required_argument, NULL, 'r'},
                                       {"calibration", required_argument, NULL, 'C'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0, 0, 0, 0}};
  int c, bad = 0;
  long worst = 5, rows = 1000;
  const char *out = NULL, *calib = NULL;
  char **ids = NULL;
  size_t n_ids = 0;
  optind = 1;
  opterr = rank == 0;
  while ((c = getopt_long(argc, argv, "o:p:w:r:h", opts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'p':
        if (!add_ids(optarg, &ids, &n_ids)) {
          if (rank == 0)
            fprintf(stderr, "imvar report: --portfolios '%s' has an empty id\n", optarg);
          bad = 1;
        }
        break;
      case 'w':
        if (!im_parse_long(optarg, 0, 1000, &worst)) {
          if (rank == 0)
            fprintf(stderr, "imvar report: --worst '%s' is not a count 0..1000\n", optarg);
          bad = 1;
        }
        break;
      case 'r':
        if (!im_parse_long(optarg, 0, 1L << 40, &rows)) {
          if (rank == 0)
            fprintf(stderr, "imvar report: --rows '%s' is not a count\n", optarg);
          bad = 1;
        }
        break;
      case 'C': calib = optarg; break;
      case 'h':
        if (rank == 0)
          fputs(help, stdout);
        for (size_t i = 0; i < n_ids; i++)
          free(ids[i]);
        free(ids);
        return IM_EXIT_OK;
      default: bad = 1;
    }
  }
  if (!bad && (optind != argc - 1 || !out || !*out)) {
    if (rank == 0)
      fprintf(stderr, "imvar report: expected one results file and -o report.html\n");
    bad = 1;
  }
  if (bad) {
    if (rank == 0)
      fputs(help, stderr);
    for (size_t i = 0; i < n_ids; i++)
      free(ids[i]);
    free(ids);
    return IM_EXIT_USAGE;
  }
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    st = report(argv[optind], calib, out, (const char *const *)ids, (size_t)worst, (size_t)rows,
                &err);
    im_report(st, &err);
  }
  for (size_t i = 0; i < n_ids; i++)
    free(ids[i]);
  free(ids);
  return im_exit_code(im_bcast_status(comm, st));
}
