/* calibration.h5: what imvar calibrate writes (serially, from one rank).
 *
 * Root attributes: format "imvar-calibration", format_version, imvar_version,
 * git_revision, config (the effective configuration), created, seed,
 * n_chunks, chunk (-1 in a merged or single-job file; i in the file of chunk
 * i of n_chunks), recommended (the set index, -1 when no set is eligible),
 * criteria_coverage (NaN = "target"), criteria_zone, criteria_test_level,
 * criteria_pass_share.
 *
 *   /sets         [S] compound: name, kind, measure, confidence, horizon,
 *                 window, lambda, nu, paths, range, steps, extended,
 *                 apc_buffer, apc_stress, apc_floor, stress_start, stress_end,
 *                 liquidity, liq_k, liq_threshold, concentration, conc_share
 *                 (dates as days since 1970-01-01)
 *   /periods      [Q] compound: name, start, end (YYYYMMDD; [0] calibration)
 *   /computed     [S] uint8: 1 for the sets this file holds metrics for
 *   /metrics      [S][Q] compound IM_CAL_METRICS_FIELDS
 * Complete files only (every set computed):
 *   /ranking      [S] int64: set indices, best first (im_cal_rank)
 *   /pareto       [S] uint8: on the frontier of mean margin vs exceedance rate
 *   /sensitivity  [K] compound: parameter (name), value, set, mean_margin,
 *                 exceed_rate, rel_change (around the recommended set, or
 *                 the best-ranked when none is eligible)
 */
#ifndef IM_CALIB_IO_H
#define IM_CALIB_IO_H

#include "calib.h"
#include "config.h"

#define IM_CALIB_FORMAT "imvar-calibration"
#define IM_CALIB_FORMAT_VERSION 1

typedef struct {
  const char *config_text, *created;
  uint64_t seed;
  const im_calib *cal;
  const im_cal_metrics *metrics; /* [S][Q] */
  const uint8_t *computed;       /* [S] */
  long chunk, n_chunks;
  /* complete files: */
  const size_t *ranking;
  const uint8_t *pareto;
  long recommended;
  size_t n_sens;
  const im_cal_sens *sens;
} im_calib_file;

/* The records of /sets, /periods and /sensitivity as stored. */
typedef struct {
  char name[IM_NAME_LEN], kind[16], measure[4];
  double confidence;
  int32_t horizon, window;
  double lambda, nu;
  int32_t paths;
  double range;
  int32_t steps, extended, apc_buffer, apc_stress, apc_floor, stress_start, stress_end;
  int32_t liquidity;
  double liq_k, liq_threshold;
  int32_t concentration;
  double conc_share;
} im_calib_set_rec;

typedef struct {
  char name[IM_NAME_LEN];
  int32_t start, end; /* YYYYMMDD (0 / 99991231: open) */
} im_calib_period_rec;

typedef struct {
  char parameter[16];
  double value;
  int64_t set;
  double mean_margin, exceed_rate, rel_change;
} im_calib_sens_rec;

/* A complete calibration file as read back (im_calib_read). */
typedef struct {
  char imvar_version[64], git_revision[64], created[64];
  char *config; /* malloc */
  long seed, recommended;
  im_cal_criteria criteria;
  size_t S, Q, K; /* sets, periods, sensitivity rows */
  im_calib_set_rec *sets;       /* [S] */
  im_calib_period_rec *periods; /* [Q]; [0] is the calibration period */
  im_cal_metrics *metrics;      /* [S][Q] */
  int64_t *ranking;             /* [S] set indices, best first */
  uint8_t *pareto;              /* [S] */
  im_calib_sens_rec *sens;      /* [K] */
} im_calib_data;

/* Reads a complete calibration file (merged or single-job: chunk -1, every
 * set computed, /ranking present). Not HDF5 or missing: IM_EIO; another
 * format or version, a chunk file, a missing or mis-shaped dataset, or
 * indices out of range: IM_EDATA. Each message names the file. */
im_status im_calib_read(const char *path, im_calib_data *out, im_err *err);
void im_calib_data_free(im_calib_data *d);

/* The record of parameter set m, and its label as imvar calibrate prints it
 * ("hs var 99.5% h2 W1000", then lambda, nu, APC layers and add-ons). */
void im_calib_set_of(const im_model *m, im_calib_set_rec *r);
void im_calib_set_label(const im_calib_set_rec *s, char *buf, size_t len);

/* Writes the file through a temporary sibling renamed into place. */
im_status im_calib_write(const char *path, const im_calib_file *f, im_err *err);

/* Reads the metrics of a chunk file written for the same configuration
 * (config_text must match exactly) into metrics [S][Q], setting computed[i]
 * for its sets; a set already computed (by another chunk file) is an error. */
im_status im_calib_read_chunk(const char *path, const char *config_text, const im_calib *cal,
                              long *n_chunks, im_cal_metrics *metrics, uint8_t *computed,
                              im_err *err);

#endif
