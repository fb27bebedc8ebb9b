#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "app.h"
#include "backtest.h"
#include "csvfile.h"
#include "estest.h"
#include "opts.h"
#include "series_io.h"
#include "simp.h"

static const char about[] =
    "The whole backtest battery on any margin model's series, including one imvar did not\n"
    "compute, and the expected-shortfall tests. FILE.csv has a header with 'pnl' and\n"
    "'margin' columns (margin >= 0; an exceedance is -pnl > margin, strictly) or, without\n"
    "them, a 'hit' column of 0/1; optional columns 'var' and 'es' (the day's VaR and ES at\n"
    "the confidence, losses as positive numbers, es > 0 and es >= var) and 'pit' (the P&L's\n"
    "probability integral transform F_t(pnl_t) in [0,1]); other columns are ignored; an\n"
    "empty cell or NaN in any of these columns marks a day that was not observed.\n"
    "Tests: Kupiec POF and TUFF, Christoffersen independence and conditional coverage, Haas\n"
    "TBFI/TBF, Christoffersen-Pelletier Weibull duration, Engle-Manganelli DQ, binomial z,\n"
    "the binomial traffic light and, at 99% over >= 250 days, the Basel 1996 zones and plus\n"
    "factors; exceedance magnitudes and procyclicality of the margin with pnl/margin input.\n"
    "Each p-value of the battery also comes simulated under the null (keys *_p_sim; the DQ\n"
    "one, dq_hits_p_sim, is for the hit-only DQ).\n"
    "ES tests (null where their columns are missing): Acerbi-Szekely Z1, Z2 (pnl, var, es;\n"
    "p-values simulated under --dist, else null), the severity ratios mean es/var and mean\n"
    "loss/var on VaR exceedances, Du-Escanciano U and C(5) and the Costanzino-Curran ES\n"
    "traffic light (pit), the mean quantile score of the VaR (pnl, var) and the mean FZ0\n"
    "score of (VaR, ES) (pnl, var, es). With --measure var the var column defaults to the\n"
    "margin. With --measure es the margin is an ES margin: the VaR battery runs on the\n"
    "exceedances of the var column (-pnl > var, the ES's frequency side), which is required.\n"
    "With --horizon H > 1 (overlapping H-day horizons) it adds the battery on the H\n"
    "non-overlapping sub-samples and traffic-light bounds for overlapping exceedances from\n"
    "20,000 seeded simulations. Definitions: README.md, 'Backtest statistics'.\n";

#define OVERLAP_SIMS 20000

typedef struct {
  const char *path, *dist_text;
  im_es_dist dist; /* parsed dist_text */
  double conf;
  size_t h;
  long lags, seed, sims;
  int json, measure_es;
} stats_req;

static int parse_confidence(const char *arg, void *dst) {
  double *c = dst;
  return im_parse_double(arg, c) && *c > 0 && *c < 1;
}

static int parse_measure(const char *arg, void *dst) {
  int *es = dst;
  *es = strcmp(arg, "es") == 0;
  return *es || strcmp(arg, "var") == 0;
}

/* --dist normal | t:NU with NU > 1 (a t with NU <= 1 has no mean, so no ES). */
static im_status parse_dist(const char *text, im_es_dist *d, im_err *err) {
  d->kind = IM_ES_DIST_NORMAL;
  d->nu = NAN;
  if (strcmp(text, "normal") == 0) return IM_OK;
  d->kind = IM_ES_DIST_T;
  if (strncmp(text, "t:", 2) == 0 && im_parse_double(text + 2, &d->nu) && d->nu > 1) return IM_OK;
  return im_err_set(err, IM_EINVAL,
                    "--dist '%.40s' is not 'normal' or 't:NU' with degrees of freedom NU > 1",
                    text);
}

/* The series the ES tests read: the loss -pnl, and var/es by --measure. */
typedef struct {
  double *loss;
  const double *var, *es, *pit;
  int8_t *hits; /* the VaR battery's: the margin's, or the var column's with measure es */
  const double *margin;
} es_inputs;

static im_status es_inputs_make(const stats_req *q, const im_user_series *s, es_inputs *e,
                                im_err *err) {
  *e = (es_inputs){NULL, s->var, s->es, s->pit, s->hits, s->margin};
  if (q->measure_es && (!s->var || !s->pnl))
    return im_err_set(err, IM_EDATA,
                      "%s:1: --measure es needs 'pnl', 'margin' and 'var' columns (the VaR battery "
                      "runs on the exceedances of the var column)", q->path);
  if (!q->measure_es && !e->var) e->var = s->margin; /* a VaR margin is its VaR */
  if (!s->pnl) return IM_OK;
  e->loss = malloc(s->n * sizeof *e->loss);
  int8_t *hv = q->measure_es ? malloc(s->n) : NULL;
  if (!e->loss || (q->measure_es && !hv)) {
    free(hv);
    return im_err_set(err, IM_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < s->n; i++) {
    e->loss[i] = -s->pnl[i];
    if (hv) hv[i] = s->hits[i] < 0 ? -1 : e->loss[i] > s->var[i];
  }
  if (hv) {
    e->hits = hv;
    e->margin = s->var;
  }
  return IM_OK;
}

static void es_inputs_clear(es_inputs *e, const im_user_series *s) {
  free(e->loss);
  if (e->hits != s->hits) free(e->hits);
}

static size_t count_observed(const int8_t *hits, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += hits[i] >= 0;
  return k;
}

/* The battery's and Du-Escanciano's simulated p-values (NaN where undefined). */
static im_status null_pvalues(const stats_req *q, const es_inputs *e, size_t n,
                              const im_bt_opts *o, const im_es_stats *es, im_stats_out *out,
                              im_simp_bt_p *bp, im_err *err) {
  const size_t n_hits = count_observed(e->hits, n);
  im_simp_null nt = {0};
  im_status st = IM_OK;
  if (n_hits > 0) {
    st = im_simp_bt_null(&nt, n_hits, 1 - q->conf, (size_t)q->sims, o, err);
    if (!st) st = im_simp_bt_pvalues(&nt, e->hits, n, o, bp, err);
    im_simp_null_free(&nt);
  }
  if (!st && es->de_n > 0) {
    st = im_simp_de_null(&nt, (size_t)es->de_n, 1 - q->conf, es->de_c_lags, (size_t)q->sims, err);
    if (!st)
      st = im_simp_de_pvalues(&nt, e->pit, n, es->de_c_lags, &out->de_u_p_sim,
                              &out->de_c_p_sim, err);
    im_simp_null_free(&nt);
  }
  return st;
}

/* Z1/Z2 p-values simulated under --dist pinned by each day's (VaR, ES); day
 * t's stream is keyed by its row position. */
static im_status z_pvalues(const stats_req *q, const es_inputs *e, size_t n, im_stats_out *out,
                           im_err *err) {
  for (size_t t = 0; t < n; t++) /* said here with the data row; the core knows no file */
    if (!(e->es[t] > e->var[t]) && !isnan(e->loss[t]) && !isnan(e->var[t]) && !isnan(e->es[t]))
      return im_err_set(err, IM_EDATA,
                        "%s: data row %zu: es %.10g is not above var %.10g, so no --dist "
                        "distribution has them", q->path, t + 1, e->es[t], e->var[t]);
  im_simp_param_ctx pc;
  uint32_t *date = malloc(n * sizeof *date);
  if (!date) return im_err_set(err, IM_ENOMEM, "out of memory");
  for (size_t t = 0; t < n; t++) date[t] = (uint32_t)t;
  im_status st = im_simp_param_init(&pc, &q->dist, 1 - q->conf, e->var, e->es, n, err);
  if (!st)
    st = im_simp_z(e->loss, e->var, e->es, date, n, 1 - q->conf, im_simp_draw_param, &pc,
                   (uint64_t)q->seed, (size_t)q->sims, &out->z1_p_sim, &out->z2_p_sim, err);
  free(date);
  return st;
}

/* The ES tests (whole series, and its sub-samples es_sub[h] when h > 1) and
 * every simulated p-value of one series. */
static im_status es_tests(const stats_req *q, const im_user_series *s, const es_inputs *e,
                          const im_bt_opts *o, im_es_stats *es, im_es_stats *es_sub,
                          im_simp_bt_p *bp, im_stats_out *out, im_err *err) {
  const double *var = e->loss ? e->var : NULL, *es_col = var ? e->es : NULL;
  im_status st = im_es_compute(e->loss, var, es_col, e->pit, s->n, 1 - q->conf, 0, es, err);
  for (size_t k = 0; k < q->h && q->h > 1 && !st; k++)
    st = im_es_subsample(e->loss, var, es_col, e->pit, s->n, q->h, k, 1 - q->conf, 0,
                         &es_sub[k], err);
  if (!st && q->sims > 0) st = null_pvalues(q, e, s->n, o, es, out, bp, err);
  if (!st && q->sims > 0 && q->dist_text && es->n_obs > 0) st = z_pvalues(q, e, s->n, out, err);
  return st;
}

/* Rank 0: the battery and the ES tests of one series, printed. */
static im_status run(const stats_req *q, im_err *err) {
  im_user_series s;
  es_inputs e = {0};
  im_bt_stats r, *sub = calloc(q->h, sizeof *sub);
  im_es_stats es, *es_sub = calloc(q->h, sizeof *es_sub);
  im_simp_bt_p bp = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  im_bt_opts o = im_bt_opts_default();
  o.dq_lags = q->lags;
  im_status st = sub && es_sub ? im_user_series_read_csv(q->path, &s, err)
                               : im_err_set(err, IM_ENOMEM, "out of memory");
  if (st) {
    free(sub);
    free(es_sub);
    return st;
  }
  st = es_inputs_make(q, &s, &e, err);
  im_stats_out out = {q->path, q->conf, q->h, &r, sub, q->seed, OVERLAP_SIMS,
                      q->measure_es ? "es" : "var",
                      q->measure_es ? "var" : s.pnl ? "margin" : "hit", &es, es_sub, &bp,
                      NAN, NAN, NAN, NAN, q->dist_text, q->sims};
  if (!st) st = im_bt_compute(e.hits, s.pnl, e.margin, s.n, 1 - q->conf, &o, &r, err);
  for (size_t k = 0; k < q->h && q->h > 1 && !st; k++)
    st = im_bt_subsample(e.hits, s.pnl, e.margin, s.n, q->h, k, 1 - q->conf, &o, &sub[k], err);
  if (!st) st = im_bt_fill_overlap(&r, 1, q->h, 1 - q->conf, (uint64_t)q->seed, OVERLAP_SIMS, err);
  if (!st) st = es_tests(q, &s, &e, &o, &es, es_sub, &bp, &out, err);
  if (!st) im_print_stats(&out, q->json);
  es_inputs_clear(&e, &s);
  im_user_series_clear(&s);
  free(sub);
  free(es_sub);
  return st;
}

int im_cmd_stats(int argc, char **argv, MPI_Comm comm) {
  int rank, first;
  MPI_Comm_rank(comm, &rank);
  stats_req q = {.conf = NAN, .h = 1, .lags = IM_BT_DQ_LAGS_DEFAULT, .seed = 1, .sims = 999};
  long h = 1;
  const im_opt opts[] = {
      {"confidence", 'c', "C", "margin confidence level in (0,1), e.g. 0.99 (required)",
       IM_OPT_CUSTOM, &q.conf, 0, 0, parse_confidence, " is not a level in (0,1)"},
      {"horizon", 'H', "H", "margin period of risk in days (default 1)", IM_OPT_LONG, &h, 1, 365,
       NULL, " is not a day count 1..365"},
      {"json", 'j', NULL, "one JSON object; an undefined statistic is null", IM_OPT_FLAG, &q.json,
       0, 0, NULL, NULL},
      {"dq-lags", 'L', "L", "hit lags in the DQ regression (default 4)", IM_OPT_LONG, &q.lags, 0,
       IM_BT_DQ_LAGS_MAX, NULL, " is not a lag count in range"},
      {"measure", 'm', "M",
       "var (default): the margin is a VaR; es: the margin is an ES, the VaR battery\n"
       "runs on the exceedances of the var column (required)",
       IM_OPT_CUSTOM, &q.measure_es, 0, 0, parse_measure, " is not 'var' or 'es'"},
      {"dist", 'd', "D",
       "normal | t:NU (NU > 1): the family, pinned by each day's (var, es), under which\n"
       "Z1/Z2 p-values are simulated (without it they are null)",
       IM_OPT_STR, &q.dist_text, 0, 0, NULL, NULL},
      {"sims", 'M', "M",
       "simulations of each simulated p-value (default 999, as MATLAB's 1000; 0: none,\n"
       "all null); the null tables depend on (days, level, test) only",
       IM_OPT_LONG, &q.sims, 0, 10000000, NULL, " is not a count 0..10000000"},
      {"seed", 'S', "S", "seed of the overlap and Z1/Z2 simulations (default 1)", IM_OPT_LONG,
       &q.seed, 0, 1L << 62, NULL, " is not a seed >= 0"},
  };
  const im_cmd_spec spec = {
      "stats",
      "imvar stats FILE.csv --confidence C [--horizon H] [--json] [--dq-lags L]\n"
      "                 [--measure var|es] [--dist normal|t:NU] [--sims M] [--seed S]",
      about, opts, sizeof opts / sizeof opts[0], NULL};
  int rc = im_opts_parse(&spec, argc, argv, rank, &first);
  if (rc >= 0) return rc;
  if (isnan(q.conf) || first != argc - 1) {
    char msg[160];
    snprintf(msg, sizeof msg, "one FILE.csv and --confidence in (0,1) are required; "
             "--horizon 1..365, --dq-lags 0..%d", IM_BT_DQ_LAGS_MAX);
    return im_opts_usage_error(&spec, rank, msg);
  }
  q.path = argv[first];
  q.h = (size_t)h;
  im_err err = {""};
  im_status st = IM_OK;
  if (rank == 0) {
    if (q.dist_text) st = parse_dist(q.dist_text, &q.dist, &err); /* before reading the file */
    if (!st) st = run(&q, &err);
    im_report(st, &err);
  }
  return im_exit_code(im_bcast_status(comm, st));
}
