#define _GNU_SOURCE /* qsort_r */
#include "calib.h"

#include <math.h>
#include <stdlib.h>

im_cal_criteria im_cal_criteria_default(void) {
  return (im_cal_criteria){.coverage = NAN, .zone = IM_ZONE_GREEN, .test_level = 0.05,
                           .pass_share = 0.95};
}

im_status im_cal_row_compute(const int8_t *hits, const double *pnl, const double *margin, size_t n,
                             size_t h, double p, im_cal_row *out, im_err *err) {
  im_bt_stats s;
  im_status st = im_bt_compute(hits, pnl, margin, n, p, NULL, &s, err);
  if (st) return st;
  im_cal_row r = {.n_obs = s.n_obs, .n_exceed = s.n_exceed, .p_uc = s.p_uc, .p_cc = s.p_cc,
                  .peak_to_trough = s.peak_to_trough, .zone = h == 1 ? s.tl_zone : -1};
  for (size_t i = 0; i < n; i++)
    if (hits[i] >= 0) r.margin_sum += margin[i];
  if (h > 1) { /* Bonferroni over the non-overlapping sub-samples */
    double min_uc = NAN, min_cc = NAN; /* over the sub-samples where defined */
    for (size_t k = 0; k < h; k++) {
      im_bt_stats sub;
      if ((st = im_bt_subsample(hits, pnl, margin, n, h, k, p, NULL, &sub, err))) return st;
      if (!isnan(sub.p_uc) && !(sub.p_uc >= min_uc)) min_uc = sub.p_uc;
      if (!isnan(sub.p_cc) && !(sub.p_cc >= min_cc)) min_cc = sub.p_cc;
    }
    r.p_uc = isnan(min_uc) ? NAN : fmin(1.0, (double)h * min_uc);
    r.p_cc = isnan(min_cc) ? NAN : fmin(1.0, (double)h * min_cc);
  }
  *out = r;
  return IM_OK;
}

int8_t im_cal_zone(int64_t n_obs, int64_t n_exceed, int64_t green_max, int64_t yellow_max) {
  if (n_obs <= 0) return -1;
  return (int8_t)(n_exceed <= green_max ? IM_ZONE_GREEN : n_exceed <= yellow_max ? IM_ZONE_YELLOW
                                                                                 : IM_ZONE_RED);
}

void im_cal_summarise(const im_cal_row *rows, size_t n, double conf, const im_cal_criteria *c,
                      im_cal_metrics *out) {
  im_cal_metrics m = {0};
  int64_t pass_uc = 0, pass_cc = 0, zone_ok = 0, n_ptt = 0;
  double margin = 0, ptt = 0;
  for (size_t i = 0; i < n; i++) {
    const im_cal_row *r = &rows[i];
    if (r->n_obs <= 0) continue;
    m.n_portfolios++;
    m.n_obs += r->n_obs;
    m.n_exceed += r->n_exceed;
    margin += r->margin_sum;
    pass_uc += r->p_uc >= c->test_level;
    pass_cc += r->p_cc >= c->test_level;
    zone_ok += r->zone >= 0 && r->zone <= c->zone;
    if (!isnan(r->peak_to_trough)) {
      ptt += r->peak_to_trough;
      n_ptt++;
    }
  }
  const double np = (double)m.n_portfolios, no = (double)m.n_obs;
  m.expected = no * (1 - conf);
  m.exceed_rate = m.n_obs ? (double)m.n_exceed / no : NAN;
  m.coverage = 1 - m.exceed_rate;
  m.share_pass_uc = m.n_portfolios ? (double)pass_uc / np : NAN;
  m.share_pass_cc = m.n_portfolios ? (double)pass_cc / np : NAN;
  m.share_zone_ok = m.n_portfolios ? (double)zone_ok / np : NAN;
  m.mean_margin = m.n_obs ? margin / no : NAN;
  m.procyclicality = n_ptt ? ptt / (double)n_ptt : NAN;
  const double target = isnan(c->coverage) ? conf : c->coverage;
  /* NaN compares false: a set with no observation fails every criterion. */
  m.ok_coverage = m.coverage >= target;
  m.ok_uc = m.share_pass_uc >= c->pass_share;
  m.ok_cc = m.share_pass_cc >= c->pass_share;
  m.ok_zone = m.share_zone_ok >= c->pass_share;
  m.eligible = m.ok_coverage && m.ok_uc && m.ok_cc && m.ok_zone;
  *out = m;
}

/* Orders NaN after every number. */
static int cmp_num(double a, double b) {
  if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
  return (a > b) - (a < b);
}

static int rank_cmp(const void *pa, const void *pb, void *ctx) {
  const size_t i = *(const size_t *)pa, j = *(const size_t *)pb;
  const im_cal_metrics *a = (const im_cal_metrics *)ctx + i, *b = (const im_cal_metrics *)ctx + j;
  int c = (a->n_obs == 0) - (b->n_obs == 0);
  if (!c) c = (b->eligible > 0) - (a->eligible > 0);
  if (!c && !a->eligible) {
    const int fa = 4 - a->ok_coverage - a->ok_uc - a->ok_cc - a->ok_zone;
    const int fb = 4 - b->ok_coverage - b->ok_uc - b->ok_cc - b->ok_zone;
    c = (fa > fb) - (fa < fb);
  }
  if (!c) c = cmp_num(a->mean_margin, b->mean_margin);
  if (!c && a->eligible) c = cmp_num(a->procyclicality, b->procyclicality);
  if (!c) c = (i > j) - (i < j);
  return c;
}

void im_cal_rank(const im_cal_metrics *m, size_t n, size_t *order) {
  for (size_t i = 0; i < n; i++) order[i] = i;
  /* The comparison is total (the index breaks ties): the order is unique. */
  qsort_r(order, n, sizeof *order, rank_cmp, (void *)m);
}

void im_cal_pareto(const im_cal_metrics *m, size_t n, uint8_t *on) {
  for (size_t i = 0; i < n; i++) {
    const double mi = m[i].mean_margin, ri = m[i].exceed_rate;
    on[i] = !isnan(mi) && !isnan(ri);
    for (size_t j = 0; j < n && on[i]; j++) {
      const double mj = m[j].mean_margin, rj = m[j].exceed_rate;
      if (mj <= mi && rj <= ri && (mj < mi || rj < ri)) on[i] = 0;
    }
  }
}

const char *const im_cal_param_name[IM_CAL_N_PARAMS] = {
    "kind",  "measure", "confidence", "horizon",  "window",     "lambda",     "nu",        "paths",
    "range", "steps",   "extended",   "apc_buffer", "apc_stress", "apc_floor", "stress_start",
    "stress_end", "liquidity", "liq_k", "liq_threshold", "concentration", "conc_share"};

double im_cal_param(const im_model *m, int param) {
  switch (param) {
    case 0: return (double)m->kind;
    case 1: return (double)m->measure;
    case 2: return m->confidence;
    case 3: return m->horizon;
    case 4: return m->window;
    case 5: return m->lambda;
    case 6: return m->nu;
    case 7: return m->paths;
    case 8: return m->grid_range;
    case 9: return m->grid_steps;
    case 10: return m->grid_extended;
    case 11: return m->apc_buffer;
    case 12: return m->apc_stress;
    case 13: return m->apc_floor;
    case 14: return m->stress_start;
    case 15: return m->stress_end;
    case 16: return m->liquidity;
    case 17: return m->liq_k;
    case 18: return m->liq_threshold;
    case 19: return m->concentration;
    case 20: return m->conc_share;
    default: return NAN;
  }
}

int im_cal_same_params(const im_model *a, const im_model *b, int skip) {
  for (int i = 0; i < IM_CAL_N_PARAMS; i++)
    if (i != skip && im_cal_param(a, i) != im_cal_param(b, i)) return 0;
  return 1;
}

void im_cal_varying(const im_model *sets, size_t n, uint8_t varies[IM_CAL_N_PARAMS]) {
  for (int i = 0; i < IM_CAL_N_PARAMS; i++) {
    varies[i] = 0;
    for (size_t j = 1; j < n && !varies[i]; j++)
      varies[i] = im_cal_param(&sets[j], i) != im_cal_param(&sets[0], i);
  }
}

size_t im_cal_sensitivity(const im_model *sets, const im_cal_metrics *m, size_t n, size_t ref,
                          im_cal_sens *out) {
  uint8_t varies[IM_CAL_N_PARAMS];
  im_cal_varying(sets, n, varies);
  size_t k = 0;
  for (int p = 0; p < IM_CAL_N_PARAMS; p++) {
    if (!varies[p]) continue;
    for (size_t i = 0; i < n; i++) {
      if (!im_cal_same_params(&sets[i], &sets[ref], p)) continue;
      out[k++] = (im_cal_sens){.param = p, .value = im_cal_param(&sets[i], p), .set = (int64_t)i,
                               .mean_margin = m[i].mean_margin, .exceed_rate = m[i].exceed_rate,
                               .rel_change = m[i].mean_margin / m[ref].mean_margin - 1};
    }
  }
  return k;
}
