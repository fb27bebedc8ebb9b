/* imvar stats' output: the battery of one series as text or JSON. */
#include <math.h>
#include <stdio.h>

#include "analysis.h"
#include "render.h"

static const char *zone_text(int z) {
  const char *n = an_zone_name(z);
  return n ? n : "-";
}

static void print_tests(const im_bt_stats *r) {
  printf("%-34s %12s %10s\n", "test", "statistic", "p-value");
  const struct {
    const char *name;
    double lr, p;
  } t[] = {{"Kupiec POF (chi2 1)", r->lr_uc, r->p_uc},
           {"Kupiec TUFF (chi2 1)", r->lr_tuff, r->p_tuff},
           {"Christoffersen independence (1)", r->lr_ind, r->p_ind},
           {"Christoffersen cond. coverage (2)", r->lr_cc, r->p_cc},
           {"Haas TBFI (chi2 x)", r->lr_tbfi, r->p_tbfi},
           {"Haas TBF (chi2 x+1)", r->lr_tbf, r->p_tbf},
           {"Weibull duration (chi2 1)", r->dur_lr, r->dur_p},
           {"dynamic quantile (chi2 rank X)", r->dq_stat, r->dq_p},
           {"binomial z (two-sided)", r->bin_z, r->bin_p}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    if (isnan(t[i].lr))
      printf("%-34s %12s %10s\n", t[i].name, "-", "-");
    else
      printf("%-34s %12.4f %10.4f\n", t[i].name, t[i].lr + 0.0, t[i].p); /* no "-0.0000" */
  }
}

static void print_text(const im_stats_out *o) {
  const im_bt_stats *r = o->all;
  printf("%s: %lld observations, %lld exceedances (expected %.2f at %.4g%%), coverage %.4f\n",
         o->path, (long long)r->n_obs, (long long)r->n_exceed, r->expected,
         100 * (1 - o->confidence), r->coverage);
  print_tests(r);
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
}

static void print_json(const im_stats_out *o) {
  an_json j;
  an_json_init(&j, stdout);
  an_json_obj(&j);
  an_json_stats_fields(&j, o->all);
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
