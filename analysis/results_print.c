/* imvar validate's output: a table per model, or one JSON object. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "render.h"
#include "results_io.h"
#include "verdict.h"

static const char *zone_text(int z) {
  const char *n = an_zone_name(z);
  return n ? n : "-";
}

static void fmt_p(char *buf, size_t n, double p) {
  if (isnan(p))
    snprintf(buf, n, "-");
  else
    snprintf(buf, n, "%.4f", p);
}

static void print_rows(const im_model *md, const char (*ids)[IM_PORT_ID_LEN],
                       const im_bt_stats *rows, size_t P, size_t limit) {
  printf("%-24s %6s %5s %8s %7s %8s %8s %8s %8s %8s  %-6s %s\n", "portfolio", "obs", "exc",
         "expected", "rate%", "p_uc", "p_ind", "p_cc", "p_dur", "p_dq", "zone",
         md->horizon > 1 ? "zone(overlap)" : "");
  size_t shown = limit && limit < P ? limit : P;
  for (size_t i = 0; i < shown; i++) {
    const im_bt_stats *r = &rows[i];
    char a[16], b[16], c[16], d[16], q[16], rate[16] = "-";
    if (r->n_obs) snprintf(rate, sizeof rate, "%.3f", 100.0 * (double)r->n_exceed / (double)r->n_obs);
    fmt_p(a, sizeof a, r->p_uc);
    fmt_p(b, sizeof b, r->p_ind);
    fmt_p(c, sizeof c, r->p_cc);
    fmt_p(d, sizeof d, r->dur_p);
    fmt_p(q, sizeof q, r->dq_p);
    printf("%-24.24s %6lld %5lld %8.2f %7s %8s %8s %8s %8s %8s  %-6s %s\n", ids[i],
           (long long)r->n_obs, (long long)r->n_exceed, r->expected, rate, a, b, c, d, q,
           zone_text(r->tl_zone), md->horizon > 1 ? zone_text(r->tl_zone_overlap) : "");
  }
  if (shown < P) printf("... %zu more portfolios (imvar validate --limit 0 shows all)\n", P - shown);
}

/* One line: the verdict and each criterion's count against its limit. */
static void print_verdict(const im_verdict *v) {
  printf("verdict: %s (", im_verdict_state_name(v->state));
  for (int k = 0; k < IM_VERDICT_N_CRITERIA; k++) {
    const im_criterion *c = &v->crit[k];
    printf("%s%s %.0f, at most %.0f%s", k ? "; " : "", c->name, c->value, c->limit,
           c->severity == IM_VERDICT_INFO ? " (information only)" : c->met ? "" : ": not met");
  }
  printf(")\n");
}

static void print_table(const im_model *md, const char (*ids)[IM_PORT_ID_LEN], const im_bt_stats *rows,
                        size_t P, size_t limit, const im_bt_summary *s, const im_verdict *v) {
  printf("\nmodel %s: %s %s, confidence %.4g, horizon %d d, window %d\n", md->name,
         im_model_kind_name(md->kind), im_measure_name(md->measure), md->confidence,
         (int)md->horizon, (int)md->window);
  print_rows(md, ids, rows, P, limit);
  printf("summary: %lld of %lld portfolios evaluated, %lld exceedances in %lld observations "
         "(%.3f%%, expected %.3f%%); rejected at 5%%: Kupiec %lld, independence %lld, "
         "conditional coverage %lld; zones green %lld, yellow %lld, red %lld",
         (long long)s->n_evaluated, (long long)s->n_portfolios, (long long)s->n_exceed,
         (long long)s->n_obs, 100.0 * s->exceed_rate, 100.0 * (1.0 - md->confidence),
         (long long)s->n_reject_uc, (long long)s->n_reject_ind, (long long)s->n_reject_cc,
         (long long)s->n_green, (long long)s->n_yellow, (long long)s->n_red);
  if (md->horizon > 1)
    printf(" (overlap-corrected; plain binomial green %lld, yellow %lld, red %lld)",
           (long long)s->n_green_plain, (long long)s->n_yellow_plain, (long long)s->n_red_plain);
  printf("\nmultiple testing: a correct model would see %.1f Kupiec rejections (95%% band %.0f-%.0f); "
         "Benjamini-Hochberg at FDR 5%%: Kupiec %lld, conditional coverage %lld\n",
         s->expected_rejections, s->reject_band_lo, s->reject_band_hi,
         (long long)s->n_bh_reject_uc, (long long)s->n_bh_reject_cc);
  print_verdict(v);
  if (md->horizon > 1)
    printf("note: %d-day horizons overlap, so exceedances are serially dependent: the "
           "independence tests over-reject; see zone(overlap) and /models/%s/"
           "validation_subsamples\n", (int)md->horizon, md->name);
}

static void json_model(an_json *j, const im_model *md, const char (*ids)[IM_PORT_ID_LEN],
                       const im_bt_stats *rows, size_t P, const im_bt_summary *s,
                       const im_verdict *v) {
  an_json_ws(j, "\n    ");
  an_json_obj(j);
  an_json_kstr(j, "name", md->name);
  an_json_kstr(j, "kind", im_model_kind_name(md->kind));
  an_json_kstr(j, "measure", im_measure_name(md->measure));
  an_json_knum(j, "confidence", md->confidence);
  an_json_kint(j, "horizon_days", md->horizon);
  an_json_kint(j, "window", md->window);
  an_json_verdict(j, v, (int)md->horizon, "\n     ");
  an_json_ws(j, "\n     ");
  an_json_key(j, "summary");
  an_json_obj(j);
  an_json_summary_fields(j, s);
  an_json_end(j);
  an_json_ws(j, "\n     ");
  an_json_key(j, "portfolios");
  an_json_arr(j);
  for (size_t i = 0; i < P; i++) {
    an_json_ws(j, "\n       ");
    an_json_obj(j);
    an_json_kstr(j, "id", ids[i]);
    an_json_stats_fields(j, &rows[i]);
    an_json_end(j);
  }
  an_json_ws(j, "\n     ");
  an_json_end(j);
  an_json_end(j);
}

/* The total margin's adequacy line, from /models/<m>/validation_total. */
static im_status print_total(im_results *r, size_t m, im_bt_stats *rows, size_t P, im_err *err) {
  im_status st = im_results_read_validation_of(r, m, 1, rows, err);
  if (st) return st;
  im_bt_summary s;
  im_bt_summarise(rows, P, 0.05, &s);
  printf("total margin (core + anti-procyclicality layer and add-ons): %lld exceedances in %lld "
         "observations (%.3f%%); zones green %lld, yellow %lld, red %lld "
         "(/models/%s/validation_total)\n",
         (long long)s.n_exceed, (long long)s.n_obs, 100.0 * s.exceed_rate,
         (long long)s.n_green, (long long)s.n_yellow, (long long)s.n_red,
         im_results_model(r, m)->name);
  return IM_OK;
}

static im_status print_models(im_results *r, const char *path, int json, size_t limit,
                              im_bt_stats *rows, im_err *err) {
  const size_t P = im_results_n_port(r), M = im_results_n_models(r);
  an_json j;
  an_json_init(&j, stdout);
  if (json) {
    an_json_obj(&j);
    an_json_kstr(&j, "file", path);
    an_json_key(&j, "models");
    an_json_arr(&j);
  }
  im_status st = IM_OK;
  for (size_t m = 0; m < M && !st; m++) {
    const im_model *md = im_results_model(r, m);
    st = im_results_read_validation(r, m, rows, err);
    if (st) break;
    im_bt_summary s;
    im_verdict v;
    im_bt_summarise(rows, P, 0.05, &s);
    im_verdict_of(&s, (int)md->horizon, &v);
    if (json) {
      json_model(&j, md, im_results_ids(r), rows, P, &s, &v);
    } else {
      print_table(md, im_results_ids(r), rows, P, limit, &s, &v);
      if (im_results_has_total(r, m)) st = print_total(r, m, rows, P, err);
    }
  }
  if (json && !st) {
    an_json_ws(&j, "\n  ");
    an_json_end(&j);
    an_json_end(&j);
    putchar('\n');
  }
  return st;
}

im_status im_print_results(const char *path, int json, size_t limit, im_err *err) {
  im_results *r = NULL;
  im_status st = im_results_open(MPI_COMM_SELF, path, 0, &r, err);
  if (st) return st;
  const size_t P = im_results_n_port(r);
  im_bt_stats *rows = malloc((P ? P : 1) * sizeof *rows);
  st = rows ? print_models(r, path, json, limit, rows, err) : im_err_set(err, IM_ENOMEM, "out of memory");
  fflush(stdout);
  free(rows);
  im_status cst = im_results_close(r, err);
  return st ? st : cst;
}
