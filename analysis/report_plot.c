/* imvar report: charts. One gnuplot script (svg terminal) draws every chart
 * into a private temporary directory; each SVG is read back, its ids made
 * unique to the chart (several SVGs share one HTML document) and embedded
 * inline by report_write.c. Only numbers and fixed labels go into the
 * script: no portfolio id or other text from the file ever reaches gnuplot
 * (captions are written, escaped, into the HTML). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calib.h"
#include "report.h"

extern char **environ;

#define C_BLUE "#1565c0"
#define C_GREY "#9e9e9e"
#define C_GREEN "#2e7d32"
#define C_YELLOW "#f9a825"
#define C_RED "#c62828"
#define C_DARK "#37474f"

typedef struct {
  FILE *f;
  const char *dir;
  rp_charts *ch;
  size_t cap;
  int drawn;        /* charts with a plot in the script */
  const char *xfmt; /* date format of the current chart's x axis */
  int oom;          /* a chart could not be added */
} ctx;

static rp_chart *new_chart(ctx *c, int model, int portfolio, const char *kind) {
  if (c->ch->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 32;
    rp_chart *n = realloc(c->ch->c, cap * sizeof *n);
    if (!n) {
      c->oom = 1;
      return NULL;
    }
    c->ch->c = n;
    c->cap = cap;
  }
  rp_chart *k = &c->ch->c[c->ch->n++];
  memset(k, 0, sizeof *k);
  k->model = model;
  k->portfolio = portfolio;
  k->param = -1;
  k->kind = kind;
  return k;
}

/* Starts a chart in the script: terminal, output file, common style. */
static void begin(ctx *c, size_t idx, int w, int h) {
  fprintf(c->f,
          "reset\n"
          "set terminal svg size %d,%d noenhanced font 'sans,11' background rgb 'white'\n"
          "set output '%s/c%05zu.svg'\n"
          "set border lc rgb '#555555'\n"
          "set grid lc rgb '#e0e0e0' lw 0.5\n"
          "set key top left box opaque samplen 2\n"
          "set datafile missing 'NaN'\n",
          w, h, c->dir, idx);
  c->drawn++;
}

static void end(ctx *c) { fprintf(c->f, "unset output\nundefine $*\n"); }

static long days_of(int32_t d) { /* approximate day number, for spans */
  return (long)(d / 10000) * 365 + (long)(d / 100 % 100) * 30 + (long)(d % 100);
}

/* A date x axis over [d0, d1] (YYYYMMDD): days shown when it spans under two
 * years, else months (gnuplot then puts ticks at least a quarter apart). */
static void time_axis(ctx *c, int32_t d0, int32_t d1) {
  c->xfmt = days_of(d1) - days_of(d0) < 730 ? "%Y-%m-%d" : "%Y-%m";
  fprintf(c->f,
          "set xdata time\nset timefmt '%%Y%%m%%d'\nset format x '%s'\n"
          "set xtics rotate by -30 nomirror\nset autoscale xfix\n",
          c->xfmt);
}

static void num(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, " %.9g", v);
  else
    fputs(" NaN", f);
}

/* ---- exceedances per portfolio against the binomial expectation ---- */

static const rp_model *agg_mo;
static int cmp_obs_exc(const void *pa, const void *pb) {
  const im_bt_stats *x = &agg_mo->rows[*(const size_t *)pa],
                    *y = &agg_mo->rows[*(const size_t *)pb];
  if (x->n_obs != y->n_obs)
    return x->n_obs < y->n_obs ? -1 : 1;
  if (x->n_exceed != y->n_exceed)
    return x->n_exceed < y->n_exceed ? -1 : 1;
  return 0;
}

static void chart_exceed(ctx *c, const rp_report *rep, int m, size_t *work) {
  const rp_model *mo = &rep->models[m];
  const double p = 1.0 - mo->md.confidence;
  rp_chart *k = new_chart(c, m, -1, "exceed-vs-binomial");
  if (!k)
    return;
  size_t n = 0;
  int64_t nmax = 0;
  for (size_t i = 0; i < rep->P; i++)
    if (mo->rows[i].n_obs > 0) {
      work[n++] = i;
      if (mo->rows[i].n_obs > nmax)
        nmax = mo->rows[i].n_obs;
    }
  snprintf(k->caption, sizeof k->caption,
           "Exceedances per portfolio against the binomial expectation. A point is a group of "
           "portfolios with the same observed days and exceedance count (its size grows with the "
           "log of the group's size), coloured by %s zone. Dashed: observed = expected. Steps: "
           "the largest count still green (Binomial cdf <= 0.95) and still yellow (<= 0.9999)%s.",
           mo->md.horizon > 1 ? "its overlap-corrected" : "its traffic-light",
           mo->md.horizon > 1 ? "; dotted: the simulated bounds for overlapping horizons" : "");
  if (!n) {
    snprintf(k->note, sizeof k->note, "No portfolio has an observed day.");
    return;
  }
  agg_mo = mo;
  qsort(work, n, sizeof *work, cmp_obs_exc);
  agg_mo = NULL;
  size_t idx = c->ch->n - 1;
  begin(c, idx, 900, 380);
  /* one block per zone: x = expected, y = observed, point size, group size */
  int used[4] = {0, 0, 0, 0};
  static const char *const zn[4] = {"green", "yellow", "red", "na"};
  for (int z = 0; z < 4; z++) {
    fprintf(c->f, "$z%s << EOD\n", zn[z]);
    for (size_t a = 0; a < n;) {
      const im_bt_stats *r = &mo->rows[work[a]];
      size_t b = a + 1;
      while (b < n && mo->rows[work[b]].n_obs == r->n_obs &&
             mo->rows[work[b]].n_exceed == r->n_exceed)
        b++;
      int zz = mo->zone[work[a]];
      if ((zz < 0 ? 3 : zz) == z) {
        size_t cnt = b - a;
        fprintf(c->f, "%.9g %lld %.4f %zu\n", (double)r->n_obs * p, (long long)r->n_exceed,
                0.5 + 0.45 * log10((double)cnt), cnt);
        used[z] = 1;
      }
      a = b;
    }
    fprintf(c->f, "EOD\n");
  }
  /* binomial bounds on a grid of lengths */
  fprintf(c->f, "$bounds << EOD\n");
  const int steps = 120;
  for (int s = 0; s <= steps; s++) {
    int64_t nn = (int64_t)llround((double)nmax * 1.02 * s / steps);
    if (nn < 1)
      continue;
    fprintf(c->f, "%.9g %lld %lld\n", (double)nn * p, (long long)rp_binom_bound(nn, p, 0.95),
            (long long)rp_binom_bound(nn, p, 0.9999));
  }
  fprintf(c->f, "EOD\n");
  int ovl = 0;
  if (mo->md.horizon > 1) {
    fprintf(c->f, "$ovl << EOD\n");
    int64_t last = -1;
    for (size_t a = 0; a < n; a++) {
      const im_bt_stats *r = &mo->rows[work[a]];
      if (r->n_obs == last || r->overlap_green_max < 0)
        continue;
      last = r->n_obs;
      fprintf(c->f, "%.9g %lld %lld\n", (double)r->n_obs * p, (long long)r->overlap_green_max,
              (long long)r->overlap_yellow_max);
      ovl++;
    }
    fprintf(c->f, "EOD\n");
  }
  fprintf(
      c->f,
      "set xlabel 'expected exceedances = observed days x (1 - confidence)'\n"
      "set ylabel 'exceedances'\n"
      "set xrange [0:*]\nset yrange [0:*]\n"
      "plot x with lines dt 2 lc rgb '%s' title 'observed = expected', \\\n"
      "  $bounds using 1:2 with steps lc rgb '%s' lw 1.5 title 'green/yellow boundary (binomial)', "
      "\\\n"
      "  $bounds using 1:3 with steps lc rgb '%s' lw 1.5 title 'yellow/red boundary (binomial)'",
      C_DARK, C_GREEN, C_RED);
  if (ovl)
    fprintf(c->f,
            ", \\\n  $ovl using 1:2 with linespoints dt 3 pt 1 lc rgb '%s' title 'green/yellow "
            "boundary (overlap)'"
            ", \\\n  $ovl using 1:3 with linespoints dt 3 pt 1 lc rgb '%s' title 'yellow/red "
            "boundary (overlap)'",
            C_GREEN, C_RED);
  static const char *const zc[4] = {C_GREEN, C_YELLOW, C_RED, C_GREY};
  static const char *const zt[4] = {"green", "yellow", "red", "no zone"};
  for (int z = 0; z < 4; z++)
    if (used[z])
      fprintf(c->f,
              ", \\\n  $z%s using 1:2:3 with points pt 7 ps variable lc rgb '%s' title "
              "'portfolios: %s'",
              zn[z], zc[z], zt[z]);
  fprintf(c->f, "\n");
  end(c);
}

/* ---- p-value histogram ---- */

static void chart_pvalues(ctx *c, const rp_report *rep, int m) {
  const rp_model *mo = &rep->models[m];
  rp_chart *k = new_chart(c, m, -1, "pvalue-histogram");
  if (!k)
    return;
  snprintf(k->caption, sizeof k->caption,
           "Histogram of the per-portfolio p-values of the Kupiec POF and the conditional-coverage "
           "tests (bins of 0.05). Under a correct model with independent portfolios they are about "
           "uniform (dashed lines); a pile-up near 0 means rejections%s.",
           mo->md.horizon > 1 ? " (with overlapping horizons the conditional-coverage test "
                                "over-rejects by construction)"
                              : "");
  int64_t huc[20] = {0}, hcc[20] = {0}, nuc = 0, ncc = 0;
  for (size_t i = 0; i < rep->P; i++) {
    const im_bt_stats *r = &mo->rows[i];
    if (r->n_obs <= 0)
      continue;
    if (!isnan(r->p_uc)) {
      int b = (int)floor(r->p_uc * 20);
      huc[b < 0 ? 0 : b > 19 ? 19 : b]++;
      nuc++;
    }
    if (!isnan(r->p_cc)) {
      int b = (int)floor(r->p_cc * 20);
      hcc[b < 0 ? 0 : b > 19 ? 19 : b]++;
      ncc++;
    }
  }
  if (!nuc && !ncc) {
    snprintf(k->note, sizeof k->note, "No p-value is defined.");
    return;
  }
  begin(c, c->ch->n - 1, 900, 340);
  fprintf(c->f, "$h << EOD\n");
  for (int b = 0; b < 20; b++)
    fprintf(c->f, "%.4f %lld %lld\n", 0.025 + 0.05 * b, (long long)huc[b], (long long)hcc[b]);
  fprintf(c->f, "EOD\n");
  fprintf(
      c->f,
      "set xlabel 'p-value'\nset ylabel 'portfolios'\n"
      "set xrange [0:1]\nset yrange [0:*]\nset xtics 0.1\n"
      "set boxwidth 0.022 absolute\nset style fill solid 0.75 noborder\n"
      "set key outside right top\n"
      "plot $h using ($1-0.012):2 with boxes lc rgb '%s' title 'Kupiec POF (%lld portfolios)', \\\n"
      "  $h using ($1+0.012):3 with boxes lc rgb '%s' title 'conditional coverage (%lld)', \\\n"
      "  %.9g with lines dt 2 lc rgb '%s' title 'uniform, Kupiec', \\\n"
      "  %.9g with lines dt 3 lc rgb '%s' title 'uniform, cond. coverage'\n",
      C_BLUE, (long long)nuc, C_YELLOW, (long long)ncc, (double)nuc / 20, C_BLUE, (double)ncc / 20,
      C_DARK);
  end(c);
}

/* ---- rolling 250-day traffic light ---- */

static void chart_rolling(ctx *c, const rp_report *rep, int m) {
  const rp_model *mo = &rep->models[m];
  rp_chart *k = new_chart(c, m, -1, "rolling-traffic-light");
  if (!k)
    return;
  snprintf(k->caption, sizeof k->caption,
           "Rolling %d-day traffic light: on each date, the share of portfolios whose last %d "
           "observed days hold at most %lld exceedances (green), at most %lld (yellow) or more "
           "(red); %s. Portfolios count from their %dth observed day.",
           RP_ROLL_DAYS, RP_ROLL_DAYS, (long long)mo->roll_green_max,
           (long long)mo->roll_yellow_max, mo->roll_rule, RP_ROLL_DAYS);
  size_t n = 0;
  for (size_t t = 0; t < rep->T; t++)
    n += mo->roll[t][0] + mo->roll[t][1] + mo->roll[t][2] > 0;
  if (!n) {
    snprintf(k->note, sizeof k->note, "No portfolio has %d observed days.", RP_ROLL_DAYS);
    return;
  }
  begin(c, c->ch->n - 1, 900, 340);
  fprintf(c->f, "$r << EOD\n");
  int32_t d0 = 0, d1 = 0;
  for (size_t t = 0; t < rep->T; t++) {
    double tot = (double)(mo->roll[t][0] + mo->roll[t][1] + mo->roll[t][2]);
    if (tot <= 0)
      continue;
    if (!d0)
      d0 = rep->run.dates[t];
    d1 = rep->run.dates[t];
    fprintf(c->f, "%d %.6g %.6g %.6g\n", (int)rep->run.dates[t], 100 * mo->roll[t][0] / tot,
            100 * mo->roll[t][1] / tot, 100 * mo->roll[t][2] / tot);
  }
  fprintf(c->f, "EOD\n");
  time_axis(c, d0, d1);
  fprintf(c->f,
          "set ylabel '%% of portfolios'\nset yrange [0:100]\nset key outside right top\n"
          "plot $r using 1:(0):2 with filledcurves lc rgb '%s' title 'green', \\\n"
          "  $r using 1:2:($2+$3) with filledcurves lc rgb '%s' title 'yellow', \\\n"
          "  $r using 1:($2+$3):($2+$3+$4) with filledcurves lc rgb '%s' title 'red'\n",
          C_GREEN, C_YELLOW, C_RED);
  end(c);
}

/* ---- per portfolio: margin against realised loss ---- */

static void chart_margin_loss(ctx *c, const rp_report *rep, int m, size_t j) {
  const rp_model *mo = &rep->models[m];
  size_t i = mo->charted[j];
  rp_chart *k = new_chart(c, m, (int)i, "margin-vs-loss");
  if (!k)
    return;
  const double *im = mo->ch_im[j], *pnl = mo->ch_pnl[j];
  const int8_t *e = mo->ch_exc[j];
  size_t n_im = 0, n_loss = 0, n_exc = 0;
  for (size_t t = 0; t < rep->T; t++) {
    n_im += isfinite(im[t]);
    n_loss += isfinite(pnl[t]);
    n_exc += e[t] == 1 && isfinite(pnl[t]);
  }
  snprintf(k->caption, sizeof k->caption,
           "Margin at the close of each day (line) against the realised loss over the next %d "
           "day%s (bars; gains below zero), with the %zu exceedance%s (loss > margin) marked.",
           (int)mo->md.horizon, mo->md.horizon > 1 ? "s" : "", n_exc, n_exc == 1 ? "" : "s");
  if (!n_im && !n_loss) {
    snprintf(k->note, sizeof k->note, "Not observed on any day.");
    return;
  }
  begin(c, c->ch->n - 1, 900, 340);
  fprintf(c->f, "$d << EOD\n");
  int32_t d0 = 0, d1 = 0;
  for (size_t t = 0; t < rep->T; t++) {
    if (!isfinite(im[t]) && !isfinite(pnl[t]))
      continue;
    if (!d0)
      d0 = rep->run.dates[t];
    d1 = rep->run.dates[t];
    fprintf(c->f, "%d", (int)rep->run.dates[t]);
    num(c->f, im[t]);
    num(c->f, -pnl[t]);
    num(c->f, e[t] == 1 ? -pnl[t] : NAN);
    fputc('\n', c->f);
  }
  fprintf(c->f, "EOD\n");
  time_axis(c, d0, d1);
  fprintf(c->f, "set ylabel 'USD'\nset format y '%%.1s%%c'\nplot ");
  const char *sep = "";
  if (n_loss) {
    fprintf(c->f, "$d using 1:3 with impulses lc rgb '%s' title 'realised loss'", C_GREY);
    sep = ", \\\n  ";
  }
  if (n_im) {
    fprintf(c->f, "%s$d using 1:2 with lines lw 1.3 lc rgb '%s' title 'margin'", sep, C_BLUE);
    sep = ", \\\n  ";
  }
  if (n_exc)
    fprintf(c->f, "%s$d using 1:4 with points pt 7 ps 0.45 lc rgb '%s' title 'exceedance'", sep,
            C_RED);
  fprintf(c->f, "\n");
  end(c);
}

/* ---- per portfolio: margin level and its n-day increases ---- */

static void chart_increases(ctx *c, const rp_report *rep, int m, size_t j) {
  const rp_model *mo = &rep->models[m];
  size_t i = mo->charted[j];
  const im_bt_stats *r = &mo->rows[i];
  rp_chart *k = new_chart(c, m, (int)i, "margin-increases");
  if (!k)
    return;
  snprintf(k->caption, sizeof k->caption,
           "Margin level (top) and its relative increase over 1, 5, 10 and 30 days, "
           "M(t)/M(t-k) - 1 in %% (bottom; days with both margins observed and M(t-k) > 0). "
           "Largest increases: %.1f%%, %.1f%%, %.1f%%, %.1f%%; peak-to-trough %.3f.",
           100 * r->max_incr_1d, 100 * r->max_incr_5d, 100 * r->max_incr_10d, 100 * r->max_incr_30d,
           r->peak_to_trough);
  const double *im = mo->ch_im[j];
  const size_t T = rep->T;
  static const int lag[4] = {1, 5, 10, 30};
  size_t n_im = 0, n_inc[4] = {0, 0, 0, 0};
  for (size_t t = 0; t < T; t++) {
    n_im += isfinite(im[t]);
    for (int q = 0; q < 4; q++)
      n_inc[q] +=
          t >= (size_t)lag[q] && isfinite(im[t]) && isfinite(im[t - lag[q]]) && im[t - lag[q]] > 0;
  }
  if (!n_im) {
    snprintf(k->note, sizeof k->note, "Margin not observed on any day.");
    return;
  }
  int any_inc = n_inc[0] || n_inc[1] || n_inc[2] || n_inc[3];
  begin(c, c->ch->n - 1, 900, any_inc ? 460 : 300);
  fprintf(c->f, "$d << EOD\n");
  int32_t d0 = 0, d1 = 0;
  for (size_t t = 0; t < T; t++) {
    if (!isfinite(im[t]))
      continue;
    if (!d0)
      d0 = rep->run.dates[t];
    d1 = rep->run.dates[t];
    fprintf(c->f, "%d", (int)rep->run.dates[t]);
    num(c->f, im[t]);
    for (int q = 0; q < 4; q++) {
      size_t l = (size_t)lag[q];
      num(c->f,
          t >= l && isfinite(im[t - l]) && im[t - l] > 0 ? 100 * (im[t] / im[t - l] - 1) : NAN);
    }
    fputc('\n', c->f);
  }
  fprintf(c->f, "EOD\n");
  time_axis(c, d0, d1);
  if (any_inc)
    fprintf(c->f, "set multiplot layout 2,1\nset lmargin 12\nset format x ''\nset xlabel ''\n");
  fprintf(c->f,
          "set ylabel 'margin, USD'\nset format y '%%.1s%%c'\n"
          "plot $d using 1:2 with lines lw 1.3 lc rgb '%s' title 'margin'\n",
          C_BLUE);
  if (any_inc) {
    fprintf(c->f,
            "set format x '%s'\nset format y '%%g'\nset ylabel 'increase, %%'\n"
            "set key top left horizontal\nplot ",
            c->xfmt);
    static const char *const col[4] = {C_GREY, C_BLUE, C_YELLOW, C_RED};
    const char *sep = "";
    for (int q = 0; q < 4; q++)
      if (n_inc[q]) {
        fprintf(c->f, "%s$d using 1:%d with lines lw 0.8 lc rgb '%s' title '%d day%s'", sep, 3 + q,
                col[q], lag[q], lag[q] > 1 ? "s" : "");
        sep = ", \\\n  ";
      }
    fprintf(c->f, "\nunset multiplot\n");
  }
  end(c);
}

/* ---- calibration: the Pareto frontier and the sensitivities ---- */

static const im_calib_data *cmp_cal;
static int cmp_rate(const void *pa, const void *pb) {
  const im_cal_metrics *x = &cmp_cal->metrics[*(const size_t *)pa * cmp_cal->Q],
                       *y = &cmp_cal->metrics[*(const size_t *)pb * cmp_cal->Q];
  if (x->exceed_rate != y->exceed_rate)
    return x->exceed_rate < y->exceed_rate ? -1 : 1;
  if (x->mean_margin != y->mean_margin)
    return x->mean_margin < y->mean_margin ? -1 : 1;
  return 0;
}

/* The exceedance rate a set is held to: the criteria's coverage, else its own. */
static double target_rate(const im_calib_data *cal, size_t set) {
  return isfinite(cal->criteria.coverage) ? 1 - cal->criteria.coverage
                                          : 1 - cal->sets[set].confidence;
}

static void chart_cal_pareto(ctx *c, const rp_report *rep, size_t *work) {
  const im_calib_data *cal = &rep->cal;
  const size_t Q = cal->Q, ref = rep->cal_ref;
  rp_chart *k = new_chart(c, -1, -1, "calibration-pareto");
  if (!k)
    return;
  size_t n_all = 0, n_front = 0;
  for (size_t i = 0; i < cal->S; i++) {
    const im_cal_metrics *m = &cal->metrics[i * Q];
    if (isfinite(m->exceed_rate) && isfinite(m->mean_margin)) {
      n_all++;
      if (cal->pareto[i])
        work[n_front++] = i;
    }
  }
  const double tr = target_rate(cal, ref);
  snprintf(k->caption, sizeof k->caption,
           "Mean margin against exceedance rate of each of the %zu parameter sets over the "
           "calibration period (grey: eligible sets filled, others open). Blue, joined: the %zu "
           "sets on the Pareto frontier (no other set has both a lower margin and fewer "
           "exceedances). Red: the %s set. Dashed: the target exceedance rate %.4g%%%s.",
           n_all, n_front, rep->cal.recommended >= 0 ? "recommended" : "nearest (none eligible)",
           100 * tr,
           isfinite(cal->criteria.coverage) ? " (1 - the criteria's coverage)"
                                            : " (1 - the confidence of that set; each set is held "
                                              "to its own)");
  if (!n_all) {
    snprintf(k->note, sizeof k->note, "No set has an observed day in the calibration period.");
    return;
  }
  cmp_cal = cal;
  qsort(work, n_front, sizeof *work, cmp_rate);
  cmp_cal = NULL;
  begin(c, c->ch->n - 1, 900, 440);
  for (int e = 0; e < 2; e++) {
    fprintf(c->f, "$all%d << EOD\n", e);
    for (size_t i = 0; i < cal->S; i++) {
      const im_cal_metrics *m = &cal->metrics[i * Q];
      if (isfinite(m->exceed_rate) && isfinite(m->mean_margin) && (m->eligible != 0) == e)
        fprintf(c->f, "%.9g %.9g\n", 100 * m->exceed_rate, m->mean_margin);
    }
    fprintf(c->f, "EOD\n");
  }
  fprintf(c->f, "$front << EOD\n");
  for (size_t j = 0; j < n_front; j++) {
    const im_cal_metrics *m = &cal->metrics[work[j] * Q];
    fprintf(c->f, "%.9g %.9g\n", 100 * m->exceed_rate, m->mean_margin);
  }
  fprintf(c->f, "EOD\n$rec << EOD\n");
  const im_cal_metrics *mr = &cal->metrics[ref * Q];
  num(c->f, 100 * mr->exceed_rate);
  num(c->f, mr->mean_margin);
  fprintf(c->f, "\nEOD\n");
  fprintf(c->f,
          "set xlabel 'exceedance rate, %% of portfolio-days (calibration period)'\n"
          "set ylabel 'mean margin per portfolio-day, USD'\nset format y '%%.1s%%c'\n"
          "set xrange [0:*]\nset key top right box opaque\n"
          "set arrow from %.9g, graph 0 to %.9g, graph 1 nohead dt 2 lw 1.5 lc rgb '%s'\n"
          "plot $all0 using 1:2 with points pt 6 ps 0.7 lc rgb '%s' title 'not eligible', \\\n"
          "  $all1 using 1:2 with points pt 7 ps 0.7 lc rgb '%s' title 'eligible', \\\n"
          "  $front using 1:2 with linespoints pt 7 ps 1.0 lw 1.5 lc rgb '%s' title 'Pareto "
          "frontier', \\\n"
          "  $rec using 1:2 with points pt 9 ps 2.2 lc rgb '%s' title '%s', \\\n"
          "  NaN with lines dt 2 lw 1.5 lc rgb '%s' title 'target exceedance rate'\n",
          100 * tr, 100 * tr, C_DARK, C_GREY, C_GREY, C_BLUE, C_RED,
          rep->cal.recommended >= 0 ? "recommended" : "nearest (none eligible)", C_DARK);
  end(c);
}

static const im_calib_sens_rec *cmp_sens_rows;
static int cmp_sens(const void *pa, const void *pb) {
  double x = cmp_sens_rows[*(const size_t *)pa].value, y = cmp_sens_rows[*(const size_t *)pb].value;
  return x < y ? -1 : x > y;
}

/* One chart per varying parameter: mean margin (left axis) and exceedance
 * rate (right axis) of the sets that differ from the reference set only in
 * that parameter, against its value. */
static void chart_cal_sens(ctx *c, const rp_report *rep, int param, size_t *work) {
  const im_calib_data *cal = &rep->cal;
  const char *pname = im_cal_param_name[param];
  size_t n = 0;
  for (size_t r = 0; r < cal->K; r++)
    if (strcmp(cal->sens[r].parameter, pname) == 0)
      work[n++] = r;
  if (!n)
    return;
  rp_chart *k = new_chart(c, -1, -1, "calibration-sensitivity");
  if (!k)
    return;
  k->param = param;
  cmp_sens_rows = cal->sens;
  qsort(work, n, sizeof *work, cmp_sens);
  cmp_sens_rows = NULL;
  snprintf(k->caption, sizeof k->caption,
           "Sensitivity to %s: the %zu set%s equal to the %s set but for %s, over the calibration "
           "period. Blue (left axis): mean margin per portfolio-day; yellow, dashed (right "
           "axis): exceedance rate; red: the %s set itself.",
           pname, n, n == 1 ? "" : "s", rep->cal.recommended >= 0 ? "recommended" : "nearest",
           pname, rep->cal.recommended >= 0 ? "recommended" : "nearest");
  size_t finite = 0;
  for (size_t j = 0; j < n; j++)
    finite += isfinite(cal->sens[work[j]].mean_margin);
  if (!finite) {
    snprintf(k->note, sizeof k->note, "No set of this series has an observed day.");
    return;
  }
  if (n == 1) {
    snprintf(k->note, sizeof k->note,
             "No other set differs from this one in %s alone (the grid varies %s only with "
             "other parameters, or it does not apply to this kind).",
             pname, pname);
    return;
  }
  const int categorical = param == 0 || param == 1; /* kind, measure: enum values */
  begin(c, c->ch->n - 1, 900, 300);
  fprintf(c->f, "$s << EOD\n");
  for (size_t j = 0; j < n; j++) {
    const im_calib_sens_rec *s = &cal->sens[work[j]];
    num(c->f, categorical ? (double)j : s->value);
    num(c->f, s->mean_margin);
    num(c->f, 100 * s->exceed_rate);
    num(c->f, (size_t)s->set == rep->cal_ref ? s->mean_margin : NAN);
    fputc('\n', c->f);
  }
  fprintf(c->f, "EOD\n");
  if (categorical) {
    fprintf(c->f, "set xtics (");
    for (size_t j = 0; j < n; j++) {
      long v = lround(cal->sens[work[j]].value);
      const char *lab = param == 0 ? im_model_kind_name((im_model_kind)v)
                                   : (v == 0 || v == 1 ? im_measure_name((im_measure)v) : "?");
      fprintf(c->f, "%s'%s' %zu", j ? ", " : "", lab, j);
    }
    fprintf(c->f, ")\nset xrange [-0.5:%zu.5]\n", n - 1);
  } else {
    fprintf(c->f, "set offsets graph 0.04, graph 0.04, 0, 0\n");
  }
  fprintf(c->f,
          "set xlabel '%s'\nset ylabel 'mean margin, USD'\nset format y '%%.1s%%c'\n"
          "set y2label 'exceedance rate, %%'\nset y2tics\nset ytics nomirror\n"
          "set key outside right top\n"
          "plot $s using 1:2 with linespoints pt 7 lw 1.5 lc rgb '%s' title 'mean margin', \\\n"
          "  $s using 1:3 axes x1y2 with linespoints pt 5 dt 2 lw 1.5 lc rgb '%s' title 'exceedance rate', "
          "\\\n"
          "  $s using 1:4 with points pt 9 ps 2 lc rgb '%s' title '%s set'\n",
          pname, C_BLUE, C_YELLOW, C_RED,
          rep->cal.recommended >= 0 ? "recommended" : "nearest");
  end(c);
}

/* ---- running gnuplot and reading its SVGs back ---- */

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0, r;
  char *b = malloc(cap);
  int bad = !b;
  while (!bad && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 4096 + 1 > cap) {
      char *nb = realloc(b, cap *= 2);
      bad = !nb;
      if (nb)
        b = nb;
    }
  }
  bad |= ferror(f);
  fclose(f);
  if (bad) {
    free(b);
    return NULL;
  }
  b[n] = '\0';
  if (len)
    *len = n;
  return b;
}

/* The <svg> element alone (no XML prolog), its ids prefixed with "c<k>_"
 * and its <title> replaced by a fixed one. */
static char *fix_svg(const char *in, size_t k, const char *title) {
  static const char *const tok[] = {"gnuplot_canvas", "gnuplot_plot_", "gpPt",
                                    "gpDot",          "textbox",       "greybox"};
  const char *s = strstr(in, "<svg");
  if (!s)
    return NULL;
  char pre[32];
  int pl = snprintf(pre, sizeof pre, "c%zu_", k);
  size_t cap = strlen(s) * 5 / 4 + 4096, n = 0;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  while (*s) {
    if (n + 256 > cap) {
      char *o = realloc(out, cap *= 2);
      if (!o) {
        free(out);
        return NULL;
      }
      out = o;
    }
    if (strncmp(s, "<title>Gnuplot</title>", 22) == 0) {
      n += (size_t)snprintf(out + n, cap - n, "<title>%s</title>", title);
      s += 22;
      continue;
    }
    int hit = 0;
    for (size_t t = 0; t < sizeof tok / sizeof tok[0] && !hit; t++) {
      size_t l = strlen(tok[t]);
      if (strncmp(s, tok[t], l) == 0) {
        memcpy(out + n, pre, (size_t)pl);
        memcpy(out + n + pl, tok[t], l);
        n += (size_t)pl + l;
        s += l;
        hit = 1;
      }
    }
    if (!hit)
      out[n++] = *s++;
  }
  out[n] = '\0';
  return out;
}

static const char *chart_title(const char *kind) {
  if (!strcmp(kind, "exceed-vs-binomial"))
    return "Exceedances per portfolio vs the binomial expectation";
  if (!strcmp(kind, "pvalue-histogram"))
    return "p-value histogram";
  if (!strcmp(kind, "rolling-traffic-light"))
    return "Rolling 250-day traffic light";
  if (!strcmp(kind, "margin-vs-loss"))
    return "Margin vs realised loss";
  if (!strcmp(kind, "calibration-pareto"))
    return "Calibration: mean margin vs exceedance rate, Pareto frontier";
  if (!strcmp(kind, "calibration-sensitivity"))
    return "Calibration: sensitivity to one parameter";
  return "Margin level and n-day increases";
}

/* Last non-empty line of a file, for an error message. */
static void last_line(const char *path, char *buf, size_t len) {
  buf[0] = '\0';
  char *s = slurp(path, NULL);
  if (!s)
    return;
  char *line = strtok(s, "\n");
  while (line) {
    size_t l = strspn(line, " \t^\r");
    if (line[l])
      snprintf(buf, len, "%s", line + l);
    line = strtok(NULL, "\n");
  }
  free(s);
}

static im_status run_gnuplot(const char *dir, const char *script, char *version, size_t vlen,
                             im_err *err) {
  const char *gp = getenv("IMVAR_GNUPLOT");
  if (!gp || !*gp)
    gp = "gnuplot";
  char log[4200];
  snprintf(log, sizeof log, "%s/gnuplot.log", dir);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  /* -d: no gnuplotrc or ~/.gnuplot, so nobody's settings change the charts */
  char *argv[] = {(char *)gp, (char *)"-d", (char *)script, NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, gp, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return im_err_set(err, IM_EIO,
                      "cannot run '%s' to draw the charts: %s (install Debian's gnuplot-nox, as "
                      "scripts/deps.sh does, or set IMVAR_GNUPLOT)",
                      gp, strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return im_err_set(err, IM_EIO, "waiting for gnuplot: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char why[512];
    last_line(log, why, sizeof why);
    return im_err_set(err, IM_EIO, "'%s' failed drawing the charts (%s%d)%s%s", gp,
                      WIFEXITED(status) ? "exit " : "signal ",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                      why[0] ? ": " : "", why);
  }
  char vpath[4200];
  snprintf(vpath, sizeof vpath, "%s/version.txt", dir);
  last_line(vpath, version, vlen);
  return IM_OK;
}

void rp_charts_free(rp_charts *c) {
  for (size_t i = 0; c->c && i < c->n; i++)
    free(c->c[i].svg);
  free(c->c);
  c->c = NULL;
  c->n = 0;
}

im_status rp_draw(rp_report *rep, rp_charts *out, im_err *err) {
  out->n = 0;
  out->c = NULL;
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  if (!tmp || !*tmp || strchr(tmp, '\'') || strlen(tmp) > 3000)
    tmp = "/tmp";
  snprintf(dir, sizeof dir, "%s/imvar-report.XXXXXX", tmp);
  if (!mkdtemp(dir))
    return im_err_set(err, IM_EIO, "%s: cannot create a temporary directory: %s", tmp,
                      strerror(errno));
  char script[4200];
  snprintf(script, sizeof script, "%s/charts.gp", dir);
  im_status st = IM_OK;
  ctx c = {fopen(script, "w"), dir, out, 0, 0, "%Y-%m", 0};
  size_t nw = rep->P;
  if (rep->cal_path && rep->cal.S > nw)
    nw = rep->cal.S;
  if (rep->cal_path && rep->cal.K > nw)
    nw = rep->cal.K;
  size_t *work = malloc((nw ? nw : 1) * sizeof *work);
  if (!c.f || !work)
    st = im_err_set(err, IM_EIO, "%s: cannot write the chart script", script);
  if (!st) {
    fprintf(c.f,
            "set print '%s/version.txt'\n"
            "print sprintf('gnuplot %%.1f patchlevel %%s', GPVAL_VERSION, GPVAL_PATCHLEVEL)\n"
            "unset print\n",
            dir);
    for (size_t m = 0; m < rep->M; m++) {
      chart_exceed(&c, rep, (int)m, work);
      chart_pvalues(&c, rep, (int)m);
      chart_rolling(&c, rep, (int)m);
      for (size_t j = 0; j < rep->models[m].n_charted; j++) {
        chart_margin_loss(&c, rep, (int)m, j);
        chart_increases(&c, rep, (int)m, j);
      }
    }
    if (rep->cal_path) {
      chart_cal_pareto(&c, rep, work);
      for (int p = 0; p < IM_CAL_N_PARAMS; p++)
        chart_cal_sens(&c, rep, p, work);
    }
    if (fclose(c.f) != 0)
      st = im_err_set(err, IM_EIO, "%s: cannot write the chart script", script);
    c.f = NULL;
  }
  if (c.f)
    fclose(c.f);
  free(work);
  if (!st && c.oom)
    st = im_err_set(err, IM_ENOMEM, "out of memory");
  if (!st)
    st = run_gnuplot(dir, script, rep->gnuplot_version, sizeof rep->gnuplot_version, err);
  for (size_t i = 0; i < out->n && !st; i++) {
    rp_chart *k = &out->c[i];
    if (k->note[0])
      continue; /* not drawn */
    char path[4200];
    snprintf(path, sizeof path, "%s/c%05zu.svg", dir, i);
    char *raw = slurp(path, NULL);
    k->svg = raw ? fix_svg(raw, i, chart_title(k->kind)) : NULL;
    free(raw);
    if (!k->svg)
      st = im_err_set(err, IM_EIO, "gnuplot wrote no usable SVG for chart %zu (%s)", i, k->kind);
    remove(path);
  }
  /* clean up whatever is left in the private directory */
  for (size_t i = 0; i < out->n; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/c%05zu.svg", dir, i);
    remove(path);
  }
  const char *left[] = {"charts.gp", "gnuplot.log", "version.txt"};
  for (size_t i = 0; i < 3; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, left[i]);
    remove(path);
  }
  rmdir(dir);
  return st;
}
