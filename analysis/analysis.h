/* analysis/: what the app prints and writes about results. It reads only
 * results.h5 and calibration.h5 (through io/) or statistics the app computed,
 * and renders them: the validation table and JSON (imvar validate), the
 * statistics of one series (imvar stats) and the report (imvar report).
 * Everything here is serial: call it on one rank. */
#ifndef IM_ANALYSIS_H
#define IM_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "backtest.h"
#include "calib.h"
#include "config.h"
#include "estest.h"
#include "im_status.h"
#include "simp.h"

/* imvar validate: a table per model (at most limit portfolio rows, 0 = all)
 * with its summary and verdict, or with json one JSON object of every row. */
im_status im_print_results(const char *path, int json, size_t limit, im_err *err);

/* imvar stats: the battery of one series, its simulated p-values and the ES
 * tests. */
typedef struct {
  const char *path;
  double confidence;
  size_t horizon;
  const im_bt_stats *all;     /* the whole series */
  const im_bt_stats *sub;     /* [horizon] sub-samples when horizon > 1 */
  long overlap_seed;
  int overlap_sims;
  const char *measure;        /* "var" or "es" */
  const char *battery_series; /* the VaR battery's exceedances: "margin", "var" or "hit" */
  const im_es_stats *es;      /* the ES tests and scores (NaN where inputs are missing) */
  const im_es_stats *es_sub;  /* [horizon] on the sub-samples when horizon > 1 */
  const im_simp_bt_p *bt_sim; /* the battery's simulated p-values (NaN: not simulated) */
  double de_u_p_sim, de_c_p_sim, z1_p_sim, z2_p_sim; /* NaN: not simulated */
  const char *dist;           /* --dist as given, or NULL */
  long sims;                  /* --sims */
} im_stats_out;
void im_print_stats(const im_stats_out *o, int json);

/* imvar calibrate: what a finished sweep printed and recommends. */
typedef struct {
  const char *file, *yaml, *created; /* calibration.h5, the recommended configuration */
  const im_calib *cal;
  const im_cal_metrics *metrics; /* [n_sets][n_periods] */
  const size_t *order;           /* [n_sets] best first */
  const uint8_t *pareto;         /* [n_sets] */
  size_t n_sens;                 /* sensitivity rows written */
  long recommended;              /* set index, or -1 */
  int top, quiet;                /* table rows; quiet: the recommendation only */
} im_calib_out;
/* The ranked table, the best set in each test period (unless quiet) and the
 * recommendation. */
void im_print_calibration(const im_calib_out *o);
/* The comment heading the recommended configuration (recommended >= 0):
 * the set and its metrics per period. Returns its length. */
size_t im_calib_comment(const im_calib_out *o, char *buf, size_t len);
/* "hs var 99.5% h1 W1000" of a parameter set; "start .. 2022-12-31" of a period. */
void im_calib_model_label(const im_model *m, char *buf, size_t len);
void im_calib_period_text(const im_period *p, char *buf, size_t len);

/* imvar report: HTML beside summary.json and CSV tables. */
typedef struct {
  const char *results;            /* validated results.h5 */
  const char *calibration;        /* complete calibration.h5, or NULL */
  const char *output;             /* report.html */
  const char *const *portfolios;  /* ids to chart, NULL-terminated (or NULL) */
  size_t worst;                   /* worst portfolios charted per model */
  size_t rows;                    /* HTML table rows per model, 0 = all */
} im_report_req;
/* Writes the report and prints what it wrote and each model's verdict. */
im_status im_report_make(const im_report_req *req, im_err *err);

#endif
