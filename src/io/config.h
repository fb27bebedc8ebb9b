/* The backtest configuration: a YAML file read with libyaml, plus command-line
 * overrides `--set key=value` of any scalar key by its dotted path
 * (e.g. models.hs99.confidence=0.995). Unknown keys are errors. Every key and
 * its default is documented in data/configs/default.yaml. */
#ifndef IM_CONFIG_H
#define IM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"
#include "calib.h"
#include "model.h"

#define IM_MAX_MODELS 64
#define IM_PATH_LEN 1024

typedef struct {
  char market[IM_PATH_LEN];
  char portfolios[IM_PATH_LEN];
  char output[IM_PATH_LEN];
  int32_t start_day, end_day;   /* days since 1970-01-01; INT32_MIN/MAX when open */
  long seed;                    /* for everything drawn at random; default 1 */
  im_smile smile;               /* options: deribit (fitted, default) or flat */
  int funding;                  /* perpetuals accrue funding (default true) */
  int ivol_proxy;               /* options: 1 = EWMA realised-vol proxy where no implied vol */
  double ivol_proxy_scale;      /* its implied / realised ratio (IM_IVOL_PROXY_SCALE) */
  long tile_portfolios;         /* 0 = chosen from the problem */
  long tile_dates;
  size_t n_models;
  im_model models[IM_MAX_MODELS];
  char *text; /* the effective configuration: the file, then the overrides */
  /* Where each kind-specific parameter (im_params) was set ("" = left at its
   * default), to check it against the kind. */
  char param_where[IM_MAX_MODELS][IM_N_PARAMS][256];
} im_config;

/* Reads path and applies the n overrides "key=value". The message names the
 * file and line, or the override, and the key. */
im_status im_config_load(const char *path, char *const *overrides, size_t n, im_config *out,
                         im_err *err);
void im_config_clear(im_config *c);

/* imvar calibrate: a backtest configuration whose models (if any) and the
 * product of the lists under calibrate.grid are the parameter sets to sweep,
 * with the periods and selection criteria of the calibrate section (every
 * key is documented in data/configs/calibrate.yaml). */
#define IM_MAX_PERIODS 16
#define IM_MAX_SETS 4096
typedef struct {
  char name[IM_NAME_LEN]; /* "calibration" or the test period's name */
  int32_t start_day, end_day; /* days since 1970-01-01; INT32_MIN/MAX when open */
} im_period;

typedef struct {
  char name[IM_NAME_LEN]; /* the grid sets' model name (and the recommended model's) */
  size_t n_sets;
  im_model *sets;         /* distinct parameter sets, in the order above */
  size_t n_periods;
  im_period periods[IM_MAX_PERIODS]; /* [0]: calibration, then the test periods */
  im_cal_criteria criteria;
} im_calib;

/* As im_config_load, also reading the calibrate section into cal; cfg's
 * models are the explicitly named sets (possibly none). */
im_status im_calib_load(const char *path, char *const *overrides, size_t n, im_config *cfg,
                        im_calib *cal, im_err *err);
void im_calib_clear(im_calib *cal);

/* Writes a backtest configuration of cfg's run-wide keys (market, portfolios,
 * seed, smile, funding, start, end) and the one model m, every parameter its
 * kind takes spelled out, after the comment lines (each starting "# "). */
im_status im_config_write_model(const char *path, const im_config *cfg, const im_model *m,
                                const char *comment, im_err *err);

#endif
