/* imvar calibrate's output: the ranked table, the test periods, the
 * recommendation, and the comment of the recommended configuration. */
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "calendar.h"
#include "calib_io.h"

void im_calib_model_label(const im_model *m, char *buf, size_t len) {
  im_calib_set_rec r;
  im_calib_set_of(m, &r);
  im_calib_set_label(&r, buf, len);
}

void im_calib_period_text(const im_period *p, char *buf, size_t len) {
  char a[11] = "start", b[11] = "end";
  if (p->start_day != INT32_MIN) im_date_format(p->start_day, a);
  if (p->end_day != INT32_MAX) im_date_format(p->end_day, b);
  snprintf(buf, len, "%s .. %s", a, b);
}

/* The metrics of set i in period q. */
static const im_cal_metrics *at(const im_calib_out *o, size_t i, size_t q) {
  return &o->metrics[i * o->cal->n_periods + q];
}

size_t im_calib_comment(const im_calib_out *o, char *buf, size_t len) {
  const im_calib *cal = o->cal;
  const size_t rec = (size_t)o->recommended;
  const im_cal_metrics *r = at(o, rec, 0);
  char l[96], per[64];
  im_calib_model_label(&cal->sets[rec], l, sizeof l);
  im_calib_period_text(&cal->periods[0], per, sizeof per);
  int n = snprintf(buf, len,
                   "# Recommended by imvar calibrate (%s, %s): set %zu of %zu, %s.\n"
                   "# Calibration period %s: coverage %.4f, exceedance rate %.4f, Kupiec "
                   "pass %.0f%%, CC pass %.0f%%,\n# zone pass %.0f%% of %lld portfolios; "
                   "mean margin %.0f USD per portfolio-day.\n",
                   o->file, o->created, rec, cal->n_sets, l, per, r->coverage, r->exceed_rate,
                   100 * r->share_pass_uc, 100 * r->share_pass_cc, 100 * r->share_zone_ok,
                   (long long)r->n_portfolios, r->mean_margin);
  for (size_t q = 1; q < cal->n_periods && n > 0 && (size_t)n < len; q++) {
    const im_cal_metrics *t = at(o, rec, q);
    im_calib_period_text(&cal->periods[q], per, sizeof per);
    n += snprintf(buf + n, len - (size_t)n,
                  "# Test period %s (%s): coverage %.4f, Kupiec pass %.0f%%, CC pass %.0f%%, "
                  "zone pass %.0f%%: %s.\n",
                  cal->periods[q].name, per, t->coverage, 100 * t->share_pass_uc,
                  100 * t->share_pass_cc, 100 * t->share_zone_ok,
                  t->eligible ? "holds" : "fails the criteria");
  }
  return n > 0 ? (size_t)n : 0;
}

static void print_row(const char *rank, const im_model *set, const im_cal_metrics *m) {
  char l[96];
  im_calib_model_label(set, l, sizeof l);
  printf("%-5s %-34s %7.4f %7.4f %5.0f %5.0f %5.0f %12.0f %6.2f %s\n", rank, l, m->coverage,
         m->exceed_rate, 100 * m->share_pass_uc, 100 * m->share_pass_cc, 100 * m->share_zone_ok,
         m->mean_margin, m->procyclicality,
         m->eligible ? "yes" : m->n_obs ? "no" : "n/a");
}

static void print_header(const char *title) {
  printf("%s\n%-5s %-34s %7s %7s %5s %5s %5s %12s %6s %s\n", title, "rank", "set", "cover",
         "rate", "%UC", "%CC", "%zone", "mean margin", "p/t", "ok");
}

static void print_tables(const im_calib_out *o) {
  const im_calib *cal = o->cal;
  const size_t S = cal->n_sets, Q = cal->n_periods;
  char per[64], title[160];
  im_calib_period_text(&cal->periods[0], per, sizeof per);
  snprintf(title, sizeof title, "calibration period %s: %zu sets, ranked", per, S);
  print_header(title);
  for (size_t k = 0; k < S && (int)k < o->top; k++) {
    char rk[24];
    snprintf(rk, sizeof rk, "%zu", k + 1);
    print_row(rk, &cal->sets[o->order[k]], at(o, o->order[k], 0));
  }
  if (Q > 1) {
    print_header("\ntest periods: the best-ranked set");
    for (size_t q = 1; q < Q; q++)
      print_row(cal->periods[q].name, &cal->sets[o->order[0]], at(o, o->order[0], q));
  }
  size_t on = 0;
  for (size_t i = 0; i < S; i++) on += o->pareto[i];
  printf("\n%zu sets on the Pareto frontier of mean margin vs exceedance rate; %zu "
         "sensitivity rows (calibration.h5 /pareto, /sensitivity)\n",
         on, o->n_sens);
}

void im_print_calibration(const im_calib_out *o) {
  const im_calib *cal = o->cal;
  const size_t Q = cal->n_periods;
  char l[96];
  if (!o->quiet) print_tables(o);
  if (o->recommended >= 0) {
    im_calib_model_label(&cal->sets[o->recommended], l, sizeof l);
    int holds = 1;
    for (size_t q = 1; q < Q; q++) holds &= at(o, (size_t)o->recommended, q)->eligible;
    printf("recommended: %s (set %ld)%s\nrecommended configuration: %s\n", l, o->recommended,
           Q > 1 ? (holds ? "; holds in every test period" : "; fails the criteria in a test period")
                 : "",
           o->yaml);
  } else {
    im_calib_model_label(&cal->sets[o->order[0]], l, sizeof l);
    printf("recommended: none: no set meets the criteria in the calibration period "
           "(the nearest is %s)\n", l);
  }
  printf("calibration file: %s\n", o->file);
}
