#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "app.h"
#include "opts.h"

static const char about[] =
    "The model validation report of a validated results file: one self-contained HTML page\n"
    "(inline SVG charts drawn by gnuplot, no scripts, nothing fetched) that says per model\n"
    "whether it passes and shows the evidence: the run (configuration, data range, versions,\n"
    "git revision, run date); per model the verdict and its criteria (the rule imvar validate\n"
    "prints), coverage achieved vs target, exceedances vs expected, traffic-light zones\n"
    "(overlap-corrected for h > 1), each test's pass share across portfolios, the\n"
    "multiple-testing summary, exceedance magnitudes, procyclicality and margin adequacy of\n"
    "the core and total margin; charts of exceedances per portfolio vs the binomial\n"
    "expectation, the p-values, the rolling 250-day traffic light and, for the worst\n"
    "portfolios and those named, margin vs realised loss with exceedances marked and the\n"
    "margin's n-day increases; and a table of every portfolio's statistics, worst first.\n"
    "Beside the HTML (same directory) it writes summary.json, summary_models.csv and\n"
    "summary_portfolios.csv with the same numbers, for dashboards (existing files of those\n"
    "names are replaced). With --calibration, a calibration section (criteria, the\n"
    "recommended set and its verdicts per period, the best-ranked sets, the Pareto frontier\n"
    "of margin against exceedances, the sensitivities) and summary_calibration.csv; without\n"
    "it the section says how to make one. The output's directory is created if missing\n"
    "(and removed again if the report fails). All files are written to temporary names and\n"
    "renamed when complete. Runs on rank 0.\n";

static const char epilog[] =
    "Environment: IMVAR_GNUPLOT, the gnuplot program (default: gnuplot on PATH; Debian's\n"
    "gnuplot-nox). Exit codes: 0 written, 1 I/O (missing results file, unwritable output,\n"
    "gnuplot failed, missing calibration file), 2 bad command line, 3 not a validated results\n"
    "file, unknown portfolio id, or not a complete calibration file.\n";

/* The --portfolios ids, NULL-terminated, each strdup'ed. */
typedef struct {
  char **v;
  size_t n;
} id_list;

/* Adds the ids of a comma-separated list; 0 on an empty id. */
static int add_ids(const char *arg, void *dst) {
  id_list *l = dst;
  for (const char *s = arg;;) {
    const char *e = strchr(s, ',');
    const size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len == 0) return 0;
    char **nv = realloc(l->v, (l->n + 2) * sizeof *nv);
    if (!nv) return 0;
    l->v = nv;
    if (!(nv[l->n] = strndup(s, len))) return 0;
    nv[++l->n] = NULL;
    if (!e) return 1;
    s = e + 1;
  }
}

static void free_ids(id_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
}

int im_cmd_report(int argc, char **argv, MPI_Comm comm) {
  int rank, first;
  MPI_Comm_rank(comm, &rank);
  long worst = 5, rows = 1000;
  im_report_req q = {0};
  id_list ids = {NULL, 0};
  const im_opt opts[] = {
      {"output", 'o', "FILE", "the HTML report (required)", IM_OPT_STR, &q.output, 0, 0, NULL, NULL},
      {"portfolios", 'p', "IDS",
       "comma-separated portfolio ids to chart for every model, besides\n"
       "the worst (repeatable); an unknown id is an error",
       IM_OPT_CUSTOM, &ids, 0, 0, add_ids, " has an empty id"},
      {"worst", 'w', "N", "chart the N worst portfolios of each model (default 5, 0..1000)",
       IM_OPT_LONG, &worst, 0, 1000, NULL, " is not a count 0..1000"},
      {"rows", 'r', "N",
       "at most N rows per model in the HTML table (default 1000,\n"
       "0 = all); summary_portfolios.csv always has every portfolio",
       IM_OPT_LONG, &rows, 0, 1L << 40, NULL, " is not a count"},
      {"calibration", 0, "FILE",
       "a complete calibration file of imvar calibrate (merged, not a\nchunk)", IM_OPT_STR,
       &q.calibration, 0, 0, NULL, NULL},
  };
  const im_cmd_spec spec = {
      "report",
      "[mpirun -n N] imvar report results.h5 -o report.html [--portfolios ID,...]\n"
      "                     [--worst N] [--rows N] [--calibration calibration.h5]",
      about, opts, sizeof opts / sizeof opts[0], epilog};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  if (rc < 0 && (first != argc - 1 || !q.output || !*q.output))
    rc = im_opts_usage_error(&spec, rank, "expected one results file and -o report.html");
  if (rc >= 0) {
    free_ids(&ids);
    return rc;
  }
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    q.results = argv[first];
    q.portfolios = (const char *const *)ids.v;
    q.worst = (size_t)worst;
    q.rows = (size_t)rows;
    st = im_report_make(&q, &err);
    im_report(st, &err);
  }
  free_ids(&ids);
  return im_exit_code(im_bcast_status(comm, st));
}
