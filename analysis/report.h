/* imvar report: the model validation report (HTML with inline SVG charts,
 * summary.json and CSV tables) of a validated results.h5. Internal to
 * analysis/: report_data.c reads and aggregates (the verdict comes from
 * core/verdict.c), report_plot.c draws with gnuplot, report_write.c writes
 * the HTML and CSV files, report_json.c summary.json, report.c runs it all
 * (im_report_make, analysis.h). */
#ifndef IM_REPORT_H
#define IM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backtest.h"
#include "calib_io.h"
#include "im_status.h"
#include "market.h"
#include "model.h"
#include "results_run.h"
#include "summary.h"
#include "verdict.h"

/* The level at which a test "passes" (p >= level) and the summary counts
 * rejections; the same as imvar validate's. */
#define RP_TEST_LEVEL 0.05
/* Window of the rolling traffic light, in observed days. */
#define RP_ROLL_DAYS 250
/* Overlap simulations behind the h > 1 rolling traffic-light bounds (as validate). */
#define RP_OVERLAP_SIMS 20000

/* Rows of the ranked table of the calibration section. */
#define RP_CAL_TOP 20

const char *rp_zone_name(int z); /* "green", "yellow", "red" or "n/a" */

/* The tests whose pass shares are reported: a p-value field, or a zone. */
#define RP_N_TESTS 11
typedef struct {
  const char *key;  /* field name in validation / JSON, e.g. "p_uc", "zone" */
  const char *name; /* for people */
  int64_t defined;  /* evaluated portfolios where the test is defined */
  int64_t passed;   /* of those, p >= RP_TEST_LEVEL (zones: green) */
} rp_test;

/* Across-portfolio distribution of one statistic: finite values only. */
typedef struct {
  int64_t n; /* portfolios with a finite value */
  double median, max;
  size_t argmax; /* portfolio index of the max (valid when n > 0) */
} rp_dist;

typedef struct {
  im_model md;
  im_bt_stats *rows; /* [P] from /models/<m>/validation */
  im_bt_summary sum; /* im_bt_summarise(rows, RP_TEST_LEVEL), as imvar validate prints */
  int8_t *zone;      /* [P] im_bt_applicable_zone: overlap-corrected for h > 1 */
  size_t *order;     /* [P] portfolio indices, worst first */
  size_t *rank;      /* [P] inverse of order: 1-based rank of portfolio i */
  int64_t n_zone[3], n_zone_na; /* applicable zones (the summary's), not evaluated */
  rp_test tests[RP_N_TESTS];
  im_verdict verdict; /* im_verdict_of(sum), as imvar validate prints */
  /* margin adequacy of the total (core + APC layer + add-ons), when the model has layers */
  int has_total;
  im_bt_summary sum_total; /* of /models/<m>/validation_total */
  double largest_total;    /* max largest_exceedance of the total, USD */
  /* exceedance magnitude */
  double largest; /* max largest_exceedance, USD */
  size_t largest_at;
  double pooled_mean_exceedance; /* over all exceedances of all portfolios, USD */
  rp_dist loss_to_margin;        /* per-portfolio mean loss / margin */
  rp_dist coverage_dist;         /* min is reported: see coverage_min */
  double coverage_min;
  size_t coverage_min_at;
  rp_dist procyc[5]; /* peak_to_trough, max_incr_1d, 5d, 10d, 30d */
  /* rolling traffic light: per date the count of portfolios in each zone */
  int64_t roll_green_max, roll_yellow_max; /* bounds on the exceedances in RP_ROLL_DAYS days */
  const char *roll_rule;                   /* how the bounds were found */
  int32_t (*roll)[3];                      /* [T] */
  /* charted portfolios: worst first, then the named ones not among them */
  size_t n_charted;
  size_t *charted;          /* [n_charted] portfolio indices */
  double **ch_im, **ch_pnl; /* [n_charted][T] */
  int8_t **ch_exc;          /* [n_charted][T] */
} rp_model;

typedef struct {
  /* the command line */
  const char *results_path;
  const char *out_html;
  size_t worst;      /* charts of the worst N portfolios per model */
  size_t table_rows; /* HTML table rows per model, 0 = all */
  size_t n_named;
  size_t *named; /* [n_named] portfolio indices from --portfolios */
  /* the file */
  im_results_run run; /* root attributes and /dates */
  size_t P, T, M;
  char (*ids)[IM_PORT_ID_LEN]; /* [P] copy */
  rp_model *models;            /* [M] */
  /* the calibration file (--calibration; cal_path NULL without one) */
  const char *cal_path;
  im_calib_data cal;
  size_t cal_ref; /* the recommended set, or the best-ranked when none is eligible */
  /* the run */
  char generated[32]; /* UTC, ISO 8601 */
  char gnuplot_version[128];
} rp_report;

/* Reads and aggregates everything (serial; opens the file on MPI_COMM_SELF).
 * named_ids: the --portfolios list (NULL-terminated); an unknown id is
 * IM_EDATA naming it. */
im_status rp_load(rp_report *rep, const char *const *named_ids, im_err *err);
void rp_free(rp_report *rep);

/* Largest k in 0..n with Binomial(n, p) cdf at k <= level, or -1. */
int64_t rp_binom_bound(int64_t n, double p, double level);

/* One chart: inline SVG markup (malloc), its kind and caption. */
typedef struct {
  int model;         /* index, or -1 (calibration charts) */
  int portfolio;     /* index, or -1 for a model-level chart */
  int param;         /* calibration-sensitivity: the parameter (im_cal_param_name), else -1 */
  const char *kind;  /* "exceed-vs-binomial", "pvalue-histogram", "rolling-traffic-light",
                        "margin-vs-loss", "margin-increases", "calibration-pareto",
                        "calibration-sensitivity" */
  char caption[512]; /* plain text (escaped when written) */
  char *svg;         /* NULL: not drawn (no data); note says why */
  char note[256];
} rp_chart;

typedef struct {
  size_t n;
  rp_chart *c;
} rp_charts;

/* Draws every chart with one gnuplot run (IMVAR_GNUPLOT or gnuplot on PATH). */
im_status rp_draw(rp_report *rep, rp_charts *out, im_err *err);
void rp_charts_free(rp_charts *c);

/* Writes report.html, summary.json, summary_models.csv,
 * summary_portfolios.csv and, with a calibration file, summary_calibration.csv
 * (all but the HTML beside it) through temporary names, renamed only when all
 * are complete. */
im_status rp_write(const rp_report *rep, const rp_charts *ch, im_err *err);


/* summary.json (report_json.c); nonzero on a write error. */
int rp_write_json(FILE *f, const rp_report *rep, const rp_charts *ch, const char *html);

/* YYYY-MM-DD of a YYYYMMDD date. */
void rp_date_str(char *b, size_t n, int32_t d);

/* The paths of the side files of an HTML path (in its directory). */
void rp_side_path(const char *html, const char *name, char *out, size_t len);

#endif
