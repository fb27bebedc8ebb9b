/* imvar stats' output: the battery of one series, its simulated p-values and
 * the ES tests, as text or JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "render.h"

static const char *zone_text(int z) {
  const char *n = an_zone_name(z);
  return n ? n : "-";
}

/* One test line; "-" for an undefined value. */
static void print_row(const char *name, double stat, double p, double p_sim) {
  const double v[3] = {stat + 0.0, p, p_sim}; /* + 0.0: no "-0.0000" */
  printf("%-34s", name);
  for (int k = 0; k < 3; k++)
    if (isnan(v[k]) || (k > 0 && isnan(stat)))
      printf(" %*s", k ? 10 : 12, "-");
    else
      printf(" %*.4f", k ? 10 : 12, v[k]);
  putchar('\n');
}

static void print_tests(const im_bt_stats *r, const im_simp_bt_p *q) {
  printf("%-34s %12s %10s %10s\n", "test", "statistic", "p-value", "sim. p");
  const struct {
    const char *name;
    double lr, p, p_sim;
  } t[] = {{"Kupiec POF (chi2 1)", r->lr_uc, r->p_uc, q->p_uc},
           {"Kupiec TUFF (chi2 1)", r->lr_tuff, r->p_tuff, q->p_tuff},
           {"Christoffersen independence (1)", r->lr_ind, r->p_ind, q->p_ind},
           {"Christoffersen cond. coverage (2)", r->lr_cc, r->p_cc, q->p_cc},
           {"Haas TBFI (chi2 x)", r->lr_tbfi, r->p_tbfi, q->p_tbfi},
           {"Haas TBF (chi2 x+1)", r->lr_tbf, r->p_tbf, q->p_tbf},
           {"Weibull duration (chi2 1)", r->dur_lr, r->dur_p, q->p_dur},
           {"dynamic quantile (chi2 rank X)", r->dq_stat, r->dq_p, q->p_dq},
           {"binomial z (two-sided)", r->bin_z, r->bin_p, q->p_bin}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    print_row(t[i].name, t[i].lr, t[i].p, t[i].p_sim);
}

/* The ES tests, scores and severity; lines whose inputs are missing are left out. */
static void print_es(const im_stats_out *o) {
  const im_es_stats *e = o->es;
  if (e->n_obs > 0) {
    printf("ES tests on %lld days with loss, var and es, %lld VaR exceedances%s%s:\n",
           (long long)e->n_obs, (long long)e->n_fail,
           o->dist ? ", Z p-values simulated under " : "", o->dist ? o->dist : "");
    print_row("Acerbi-Szekely Z1 (left tail)", e->z1, NAN, o->z1_p_sim);
    print_row("Acerbi-Szekely Z2 (left tail)", e->z2, NAN, o->z2_p_sim);
    printf("severity: expected (mean es/var) %.4f, observed (mean loss/var) %.4f\n",
           e->sev_expected, e->sev_observed);
  }
  if (e->de_n > 0) {
    printf("Du-Escanciano on %lld PITs:\n", (long long)e->de_n);
    print_row("unconditional U (two-sided)", e->de_u, e->de_u_p, o->de_u_p_sim);
    char name[40];
    snprintf(name, sizeof name, "conditional C(%lld) (chi2 %lld)", (long long)e->de_c_lags,
             (long long)e->de_c_lags);
    print_row(name, e->de_c, e->de_c_p, o->de_c_p_sim);
    printf("Costanzino-Curran ES traffic light: %s\n", zone_text(e->cc_es_zone));
  }
  if (e->qs_n > 0)
    printf("mean quantile score of the VaR: %.6g over %lld days\n", e->qs_mean,
           (long long)e->qs_n);
  if (e->fz0_n > 0)
    printf("mean FZ0 score of (VaR, ES): %.6g over %lld days\n", e->fz0_mean,
           (long long)e->fz0_n);
}

static void print_text(const im_stats_out *o) {
  const im_bt_stats *r = o->all;
  printf("%s: %lld observations, %lld exceedances (expected %.2f at %.4g%%), coverage %.4f\n",
         o->path, (long long)r->n_obs, (long long)r->n_exceed, r->expected,
         100 * (1 - o->confidence), r->coverage);
  if (strcmp(o->measure, "es") == 0)
    printf("measure es: the VaR battery runs on the exceedances of the var column (the ES's\n"
           "frequency side), the ES tests on (var, es)\n");
  print_tests(r, o->bt_sim);
  printf("traffic light: cumulative probability %.6f, %s\n", r->tl_cumprob, zone_text(r->tl_zone));
  if (r->basel_n > 0)
    printf("Basel 1996 (last 250 days at 99%%): %lld exceptions, %s zone, plus factor %.2f\n",
           (long long)r->basel_exceed, zone_text(r->basel_zone), r->basel_plus);
  if (!isnan(r->largest_exceedance))
    printf("exceedances: largest %.6g, mean %.6g, mean loss/margin %.4f\n", r->largest_exceedance,
           r->mean_exceedance, r->mean_loss_to_margin);
  if (!isnan(r->peak_to_trough))
    printf("procyclicality: peak-to-trough %.4g; largest increase 1d %.4g, 5d %.4g, 10d %.4g, 30d %.4g\n",
           r->peak_to_trough, r->max_incr_1d, r->max_incr_5d, r->max_incr_10d, r->max_incr_30d);
  if (o->horizon > 1) {
    printf("overlapping %zu-day horizons: simulated bounds green <= %lld, yellow <= %lld -> %s\n",
           o->horizon, (long long)r->overlap_green_max, (long long)r->overlap_yellow_max,
           zone_text(r->tl_zone_overlap));
    for (size_t k = 0; k < o->horizon; k++)
      printf("  sub-sample %zu: %lld obs, %lld exceedances, p_uc %.4f, p_cc %.4f\n", k,
             (long long)o->sub[k].n_obs, (long long)o->sub[k].n_exceed, o->sub[k].p_uc,
             o->sub[k].p_cc);
  }
  print_es(o);
  if (o->sims > 0)
    printf("sim. p: %ld simulations under the null (Dufour's tie lottery); dq: hit-only DQ\n",
           o->sims);
}

typedef struct {
  const char *key;
  double v;
} json_kv;

static void json_knums(an_json *j, const json_kv *f, size_t n) {
  for (size_t i = 0; i < n; i++) an_json_knum(j, f[i].key, f[i].v);
}

/* The ES tests and scores of a series: null where inputs are missing. */
static void json_es_stats(an_json *j, const im_es_stats *e) {
  const json_kv f[] = {{"es_z1", e->z1}, {"es_z2", e->z2}, {"es_severity_expected", e->sev_expected},
           {"es_severity_observed", e->sev_observed}, {"de_u", e->de_u}, {"de_u_p", e->de_u_p},
           {"de_c", e->de_c}, {"de_c_p", e->de_c_p}, {"qs_mean", e->qs_mean},
           {"fz0_mean", e->fz0_mean}};
  json_knums(j, f, sizeof f / sizeof f[0]);
  an_json_key(j, "de_c_lags");
  if (e->de_n > 0)
    an_json_int(j, e->de_c_lags);
  else
    an_json_null(j);
  an_json_kstr(j, "cc_es_zone", e->cc_es_zone >= 0 ? an_zone_name(e->cc_es_zone) : NULL);
  an_json_kint(j, "es_n_obs", e->n_obs);
  an_json_kint(j, "es_n_fail", e->n_fail);
  an_json_kint(j, "de_n", e->de_n);
  an_json_kint(j, "qs_n", e->qs_n);
  an_json_kint(j, "fz0_n", e->fz0_n);
}

/* The simulated p-values (null where not simulated) and what they ran on. */
static void json_sim_fields(an_json *j, const im_stats_out *o) {
  const im_simp_bt_p *q = o->bt_sim;
  const json_kv f[] = {{"p_uc_sim", q->p_uc}, {"p_ind_sim", q->p_ind}, {"p_cc_sim", q->p_cc},
           {"p_tuff_sim", q->p_tuff}, {"p_tbfi_sim", q->p_tbfi}, {"p_tbf_sim", q->p_tbf},
           {"dur_p_sim", q->p_dur}, {"dq_hits_p_sim", q->p_dq}, {"bin_p_sim", q->p_bin},
           {"es_z1_p_sim", o->z1_p_sim}, {"es_z2_p_sim", o->z2_p_sim},
           {"de_u_p_sim", o->de_u_p_sim}, {"de_c_p_sim", o->de_c_p_sim}};
  json_knums(j, f, sizeof f / sizeof f[0]);
  an_json_kstr(j, "measure", o->measure);
  an_json_kstr(j, "battery_series", o->battery_series);
  an_json_kstr(j, "dist", o->dist);
  an_json_kint(j, "sims", o->sims);
  an_json_kint(j, "seed", o->overlap_seed);
}

static void print_json(const im_stats_out *o) {
  an_json j;
  an_json_init(&j, stdout);
  an_json_obj(&j);
  an_json_stats_fields(&j, o->all);
  json_es_stats(&j, o->es);
  json_sim_fields(&j, o);
  an_json_knum(&j, "confidence", o->confidence);
  an_json_kint(&j, "horizon", (int64_t)o->horizon);
  if (o->horizon > 1) {
    an_json_kint(&j, "overlap_simulations", (int64_t)o->overlap_sims);
    an_json_kint(&j, "overlap_seed", (int64_t)o->overlap_seed);
    an_json_key(&j, "subsamples");
    an_json_arr(&j);
    for (size_t k = 0; k < o->horizon; k++) {
      an_json_obj(&j);
      an_json_kint(&j, "k", (int64_t)k);
      an_json_stats_fields(&j, &o->sub[k]);
      json_es_stats(&j, &o->es_sub[k]);
      an_json_end(&j);
    }
    an_json_end(&j);
  }
  an_json_end(&j);
  putchar('\n');
}

void im_print_stats(const im_stats_out *o, int json) {
  if (json)
    print_json(o);
  else
    print_text(o);
}
