/* imvar report: summary.json, the report's numbers for dashboards, written
 * with the JSON writer every JSON output of imvar shares. */
#include <math.h>
#include <stdio.h>

#include "render.h"
#include "report.h"

static void label(an_json *j, const char *key, const im_calib_set_rec *s) {
  char l[160];
  im_calib_set_label(s, l, sizeof l);
  an_json_kstr(j, key, l);
}

static void kdate(an_json *j, const char *key, int32_t d) {
  char a[32];
  rp_date_str(a, sizeof a, d);
  an_json_kstr(j, key, a);
}

/* A portfolio id member, or null when the statistic has no portfolio. */
static void kport(an_json *j, const char *key, const rp_report *rep, int has, size_t i) {
  an_json_kstr(j, key, has ? rep->ids[i] : NULL);
}

static void dist(an_json *j, const char *key, const rp_report *rep, const rp_dist *d) {
  an_json_key(j, key);
  an_json_obj(j);
  an_json_kint(j, "n", d->n);
  an_json_knum(j, "median", d->median);
  an_json_knum(j, "max", d->max);
  kport(j, "max_portfolio", rep, d->n > 0, d->argmax);
  an_json_end(j);
}

/* The metrics of one set over one period as members. */
static void metrics(an_json *j, const im_cal_metrics *m) {
#define I64(x) an_json_kint(j, #x, m->x);
#define F64(x) an_json_knum(j, #x, m->x);
#define I8(x) an_json_kbool(j, #x, m->x);
  IM_CAL_METRICS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
}

/* "period", "start", "end" (null: open-ended). */
static void period(an_json *j, const im_calib_period_rec *p) {
  an_json_kstr(j, "period", p->name);
  if (p->start > 0)
    kdate(j, "start", p->start);
  else
    an_json_kstr(j, "start", NULL);
  if (p->end < 99991231)
    kdate(j, "end", p->end);
  else
    an_json_kstr(j, "end", NULL);
}

static void cal_head(an_json *j, const rp_report *rep) {
  const im_calib_data *cal = &rep->cal;
  an_json_kstr(j, "file", rep->cal_path);
  an_json_kstr(j, "created", cal->created);
  an_json_kstr(j, "imvar_version", cal->imvar_version);
  an_json_kstr(j, "git_revision", cal->git_revision);
  an_json_kint(j, "seed", cal->seed);
  an_json_kint(j, "n_sets", (int64_t)cal->S);
  an_json_ws(j, "\n  ");
  an_json_key(j, "criteria");
  an_json_obj(j);
  an_json_knum(j, "coverage", cal->criteria.coverage);
  an_json_kstr(j, "coverage_rule", isfinite(cal->criteria.coverage) ? "fixed" : "target");
  an_json_kstr(j, "zone", rp_zone_name(cal->criteria.zone));
  an_json_knum(j, "test_level", cal->criteria.test_level);
  an_json_knum(j, "pass_share", cal->criteria.pass_share);
  an_json_end(j);
  an_json_ws(j, "\n  ");
  an_json_key(j, "periods");
  an_json_arr(j);
  for (size_t q = 0; q < cal->Q; q++) {
    an_json_obj(j);
    period(j, &cal->periods[q]);
    an_json_kstr(j, "role", q ? "test" : "calibration");
    an_json_end(j);
  }
  an_json_end(j);
}

/* The recommended set (or the nearest) and its verdict in every period. */
static void cal_reference(an_json *j, const rp_report *rep) {
  const im_calib_data *cal = &rep->cal;
  const size_t Q = cal->Q, ref = rep->cal_ref;
  an_json_ws(j, "\n  ");
  an_json_key(j, "recommended");
  if (cal->recommended >= 0) {
    an_json_int(j, cal->recommended);
    label(j, "recommended_name", &cal->sets[ref]);
  } else {
    an_json_null(j);
    an_json_kstr(j, "recommended_name", NULL);
  }
  int holds = cal->recommended >= 0;
  for (size_t q = 1; q < Q; q++) holds &= cal->metrics[ref * Q + q].eligible != 0;
  an_json_kbool(j, "holds_in_every_test_period", holds);
  an_json_ws(j, "\n  ");
  an_json_key(j, "reference");
  an_json_obj(j);
  an_json_kint(j, "set", (int64_t)ref);
  label(j, "name", &cal->sets[ref]);
  an_json_kstr(j, "role", cal->recommended >= 0 ? "recommended" : "nearest");
  an_json_key(j, "verdicts");
  an_json_arr(j);
  for (size_t q = 0; q < Q; q++) {
    an_json_ws(j, "\n    ");
    an_json_obj(j);
    period(j, &cal->periods[q]);
    metrics(j, &cal->metrics[ref * Q + q]);
    an_json_end(j);
  }
  an_json_end(j);
  an_json_end(j);
}

static void cal_ranked(an_json *j, const rp_report *rep) {
  const im_calib_data *cal = &rep->cal;
  const size_t S = cal->S, top = S < RP_CAL_TOP ? S : RP_CAL_TOP;
  an_json_ws(j, "\n  ");
  an_json_key(j, "ranked");
  an_json_arr(j);
  for (size_t r = 0; r < top; r++) {
    const size_t i = (size_t)cal->ranking[r];
    an_json_ws(j, "\n    ");
    an_json_obj(j);
    an_json_kint(j, "rank", (int64_t)r + 1);
    an_json_kint(j, "set", (int64_t)i);
    label(j, "name", &cal->sets[i]);
    an_json_kbool(j, "pareto", cal->pareto[i]);
    metrics(j, &cal->metrics[i * cal->Q]);
    an_json_end(j);
  }
  an_json_end(j);
  an_json_ws(j, "\n  ");
  an_json_key(j, "pareto");
  an_json_arr(j);
  for (size_t i = 0; i < S; i++)
    if (cal->pareto[i]) an_json_int(j, (int64_t)i);
  an_json_end(j);
}

static void cal_sensitivity(an_json *j, const rp_report *rep) {
  const im_calib_data *cal = &rep->cal;
  an_json_ws(j, "\n  ");
  an_json_key(j, "sensitivity");
  an_json_arr(j);
  for (size_t k = 0; k < cal->K; k++) {
    const im_calib_sens_rec *z = &cal->sens[k];
    an_json_ws(j, "\n    ");
    an_json_obj(j);
    an_json_kstr(j, "parameter", z->parameter);
    an_json_knum(j, "value", z->value);
    an_json_kint(j, "set", z->set);
    label(j, "name", &cal->sets[z->set]);
    an_json_knum(j, "mean_margin", z->mean_margin);
    an_json_knum(j, "exceed_rate", z->exceed_rate);
    an_json_knum(j, "rel_change", z->rel_change);
    an_json_end(j);
  }
  an_json_end(j);
}

/* The charts of one model (model >= 0) or of the calibration (-1). */
static void charts(an_json *j, const rp_report *rep, const rp_charts *ch, int model) {
  an_json_key(j, "charts");
  an_json_arr(j);
  for (size_t c = 0; c < ch->n; c++) {
    const rp_chart *k = &ch->c[c];
    if (k->model != model) continue;
    an_json_obj(j);
    an_json_kstr(j, "kind", k->kind);
    if (model >= 0)
      kport(j, "portfolio", rep, k->portfolio >= 0, (size_t)k->portfolio);
    else
      an_json_kstr(j, "parameter", k->param >= 0 ? im_cal_param_name[k->param] : NULL);
    an_json_kbool(j, "drawn", k->svg != NULL);
    an_json_end(j);
  }
  an_json_end(j);
}

static void calibration(an_json *j, const rp_report *rep, const rp_charts *ch) {
  an_json_ws(j, "\n ");
  an_json_key(j, "calibration");
  if (!rep->cal_path) {
    an_json_null(j);
    return;
  }
  an_json_obj(j);
  cal_head(j, rep);
  cal_reference(j, rep);
  cal_ranked(j, rep);
  cal_sensitivity(j, rep);
  an_json_ws(j, "\n  ");
  charts(j, rep, ch, -1);
  an_json_end(j);
}

static void head(an_json *j, const rp_report *rep, const char *html) {
  an_json_kstr(j, "format", "imvar-report-summary");
  an_json_kint(j, "format_version", 1);
  an_json_ws(j, "\n ");
  an_json_kstr(j, "generated", rep->generated);
  an_json_kstr(j, "report_imvar_version", IMVAR_VERSION);
  an_json_kstr(j, "report_git_revision", IMVAR_GIT_REV);
  an_json_kstr(j, "gnuplot", rep->gnuplot_version);
  an_json_ws(j, "\n ");
  an_json_kstr(j, "html", html);
  an_json_ws(j, "\n ");
  an_json_key(j, "results");
  an_json_obj(j);
  an_json_kstr(j, "file", rep->results_path);
  an_json_kstr(j, "imvar_version", rep->run.imvar_version);
  an_json_kstr(j, "git_revision", rep->run.git_revision);
  an_json_kstr(j, "created", rep->run.created);
  an_json_kint(j, "ranks", rep->run.ranks);
  an_json_kint(j, "seed", rep->run.seed);
  kdate(j, "first_date", rep->T ? rep->run.dates[0] : 0);
  kdate(j, "last_date", rep->T ? rep->run.dates[rep->T - 1] : 0);
  an_json_kint(j, "n_dates", (int64_t)rep->T);
  an_json_kint(j, "n_portfolios", (int64_t)rep->P);
  an_json_ws(j, "\n  ");
  an_json_kstr(j, "config", rep->run.config ? rep->run.config : "");
  an_json_end(j);
  an_json_ws(j, "\n ");
  an_json_knum(j, "test_level", RP_TEST_LEVEL);
}

static void model_coverage(an_json *j, const rp_report *rep, const rp_model *mo) {
  an_json_ws(j, "\n   ");
  an_json_key(j, "coverage");
  an_json_obj(j);
  an_json_knum(j, "target", mo->md.confidence);
  an_json_knum(j, "achieved", 1 - mo->sum.exceed_rate);
  an_json_knum(j, "lowest", mo->coverage_min);
  kport(j, "lowest_portfolio", rep, isfinite(mo->coverage_min), mo->coverage_min_at);
  an_json_knum(j, "median", mo->coverage_dist.median);
  an_json_end(j);
  an_json_ws(j, "\n   ");
  an_json_key(j, "zones");
  an_json_obj(j);
  an_json_kint(j, "green", mo->n_zone[0]);
  an_json_kint(j, "yellow", mo->n_zone[1]);
  an_json_kint(j, "red", mo->n_zone[2]);
  an_json_kint(j, "none", mo->n_zone_na);
  an_json_end(j);
  an_json_ws(j, "\n   ");
  an_json_key(j, "summary");
  an_json_obj(j);
  an_json_summary_fields(j, &mo->sum);
  an_json_end(j);
}

static void model_tests(an_json *j, const rp_model *mo) {
  an_json_ws(j, "\n   ");
  an_json_key(j, "tests");
  an_json_arr(j);
  for (int t = 0; t < RP_N_TESTS; t++) {
    const rp_test *ts = &mo->tests[t];
    an_json_obj(j);
    an_json_kstr(j, "key", ts->key);
    an_json_kstr(j, "name", ts->name);
    an_json_kint(j, "defined", ts->defined);
    an_json_kint(j, "passed", ts->passed);
    an_json_knum(j, "pass_share", ts->defined ? (double)ts->passed / (double)ts->defined : NAN);
    an_json_end(j);
  }
  an_json_end(j);
}

static void model_magnitude(an_json *j, const rp_report *rep, const rp_model *mo) {
  static const char *const pk[5] = {"peak_to_trough", "max_incr_1d", "max_incr_5d",
                                    "max_incr_10d", "max_incr_30d"};
  an_json_ws(j, "\n   ");
  an_json_key(j, "magnitude");
  an_json_obj(j);
  an_json_knum(j, "largest_exceedance", mo->largest);
  kport(j, "largest_exceedance_portfolio", rep, isfinite(mo->largest), mo->largest_at);
  an_json_knum(j, "mean_exceedance", mo->pooled_mean_exceedance);
  dist(j, "mean_loss_to_margin", rep, &mo->loss_to_margin);
  an_json_end(j);
  an_json_ws(j, "\n   ");
  an_json_key(j, "procyclicality");
  an_json_obj(j);
  for (int k = 0; k < 5; k++) dist(j, pk[k], rep, &mo->procyc[k]);
  an_json_end(j);
}

/* Coverage, exceedances and the largest shortfall of one layer. */
static void adequacy(an_json *j, const char *key, const im_bt_summary *s, double largest) {
  an_json_key(j, key);
  an_json_obj(j);
  an_json_knum(j, "coverage", 1 - s->exceed_rate);
  an_json_kint(j, "n_exceed", s->n_exceed);
  an_json_knum(j, "expected", s->expected);
  an_json_knum(j, "largest_exceedance", largest);
  an_json_end(j);
}

static void model_adequacy(an_json *j, const rp_model *mo) {
  an_json_ws(j, "\n   ");
  an_json_key(j, "margin_adequacy");
  an_json_obj(j);
  an_json_key(j, "layers");
  an_json_arr(j);
  an_json_str(j, "core");
  if (mo->has_total) an_json_str(j, "total");
  an_json_end(j);
  adequacy(j, "core", &mo->sum, mo->largest);
  if (mo->has_total) adequacy(j, "total", &mo->sum_total, mo->largest_total);
  an_json_end(j);
}

/* The rolling traffic light on the last date any portfolio has one. */
static void model_rolling(an_json *j, const rp_report *rep, const rp_model *mo) {
  size_t tl = rep->T;
  while (tl > 0 && mo->roll[tl - 1][0] + mo->roll[tl - 1][1] + mo->roll[tl - 1][2] == 0) tl--;
  an_json_ws(j, "\n   ");
  an_json_key(j, "rolling_traffic_light");
  an_json_obj(j);
  an_json_kint(j, "window_days", RP_ROLL_DAYS);
  an_json_kint(j, "green_max", mo->roll_green_max);
  an_json_kint(j, "yellow_max", mo->roll_yellow_max);
  an_json_kstr(j, "rule", mo->roll_rule);
  if (tl) {
    kdate(j, "last_date", rep->run.dates[tl - 1]);
    for (int z = 0; z < 3; z++) an_json_kint(j, rp_zone_name(z), mo->roll[tl - 1][z]);
  } else {
    an_json_kstr(j, "last_date", NULL);
  }
  an_json_end(j);
}

static void model_charted(an_json *j, const rp_report *rep, const rp_model *mo) {
  an_json_ws(j, "\n   ");
  an_json_key(j, "charted");
  an_json_arr(j);
  for (size_t k = 0; k < mo->n_charted; k++) {
    const size_t i = mo->charted[k];
    const im_bt_stats *r = &mo->rows[i];
    an_json_ws(j, "\n     ");
    an_json_obj(j);
    an_json_kstr(j, "portfolio", rep->ids[i]);
    an_json_kint(j, "rank", (int64_t)mo->rank[i]);
    an_json_kstr(j, "zone", rp_zone_name(mo->zone[i]));
    an_json_kint(j, "n_obs", r->n_obs);
    an_json_kint(j, "n_exceed", r->n_exceed);
    an_json_knum(j, "expected", r->expected);
    an_json_knum(j, "p_uc", r->p_uc);
    an_json_knum(j, "p_cc", r->p_cc);
    an_json_knum(j, "largest_exceedance", r->largest_exceedance);
    an_json_end(j);
  }
  an_json_end(j);
}

static void model(an_json *j, const rp_report *rep, const rp_charts *ch, size_t m) {
  const rp_model *mo = &rep->models[m];
  an_json_ws(j, "\n  ");
  an_json_obj(j);
  an_json_kstr(j, "name", mo->md.name);
  an_json_kstr(j, "kind", im_model_kind_name(mo->md.kind));
  an_json_kstr(j, "measure", im_measure_name(mo->md.measure));
  an_json_knum(j, "confidence", mo->md.confidence);
  an_json_kint(j, "horizon_days", mo->md.horizon);
  an_json_kint(j, "window", mo->md.window);
  an_json_verdict(j, &mo->verdict, (int)mo->md.horizon, "\n   ");
  model_coverage(j, rep, mo);
  model_tests(j, mo);
  model_magnitude(j, rep, mo);
  model_adequacy(j, mo);
  model_rolling(j, rep, mo);
  model_charted(j, rep, mo);
  an_json_ws(j, "\n   ");
  charts(j, rep, ch, (int)m);
  an_json_end(j);
}

int rp_write_json(FILE *f, const rp_report *rep, const rp_charts *ch, const char *html) {
  an_json j;
  an_json_init(&j, f);
  an_json_obj(&j);
  head(&j, rep, html);
  an_json_ws(&j, "\n ");
  an_json_key(&j, "models");
  an_json_arr(&j);
  for (size_t m = 0; m < rep->M; m++) model(&j, rep, ch, m);
  an_json_ws(&j, "\n ");
  an_json_end(&j);
  calibration(&j, rep, ch);
  an_json_ws(&j, "\n");
  an_json_end(&j);
  fputc('\n', f);
  return ferror(f);
}
