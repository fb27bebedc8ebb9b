#include "print.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_io.h"
#include "summary.h"

static const char *zone_name(int z) {
  return z == IM_ZONE_GREEN ? "green" : z == IM_ZONE_YELLOW ? "yellow" : z == IM_ZONE_RED ? "red" : "-";
}

/* JSON has no NaN: an undefined statistic is null. %.17g round-trips. */
static void jnum(const char *sep, const char *key, double v) {
  if (isfinite(v))
    printf("%s\"%s\": %.17g", sep, key, v);
  else
    printf("%s\"%s\": null", sep, key);
}

static void jstr(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void fmt_p(char *buf, size_t n, double p) {
  if (isnan(p))
    snprintf(buf, n, "-");
  else
    snprintf(buf, n, "%.4f", p);
}

static void print_table(const im_model *md, const char (*ids)[IM_PORT_ID_LEN], const im_bt_stats *rows,
                        size_t P, size_t limit, const im_bt_summary *s) {
  printf("\nmodel %s: %s %s, confidence %.4g, horizon %d d, window %d\n", md->name,
         im_model_kind_name(md->kind), im_measure_name(md->measure), md->confidence,
         (int)md->horizon, (int)md->window);
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
           zone_name(r->tl_zone), md->horizon > 1 ? zone_name(r->tl_zone_overlap) : "");
  }
  if (shown < P) printf("... %zu more portfolios (imvar validate --limit 0 shows all)\n", P - shown);
  printf("summary: %lld of %lld portfolios evaluated, %lld exceedances in %lld observations "
         "(%.3f%%, expected %.3f%%); rejected at 5%%: Kupiec %lld, independence %lld, "
         "conditional coverage %lld; zones green %lld, yellow %lld, red %lld\n",
         (long long)s->n_evaluated, (long long)s->n_portfolios, (long long)s->n_exceed,
         (long long)s->n_obs, 100.0 * s->exceed_rate, 100.0 * (1.0 - md->confidence),
         (long long)s->n_reject_uc, (long long)s->n_reject_ind, (long long)s->n_reject_cc,
         (long long)s->n_green, (long long)s->n_yellow, (long long)s->n_red);
  printf("multiple testing: a correct model would see %.1f Kupiec rejections (95%% band %.0f-%.0f); "
         "Benjamini-Hochberg at FDR 5%%: Kupiec %lld, conditional coverage %lld\n",
         s->expected_rejections, s->reject_band_lo, s->reject_band_hi,
         (long long)s->n_bh_reject_uc, (long long)s->n_bh_reject_cc);
  if (md->horizon > 1)
    printf("note: %d-day horizons overlap, so exceedances are serially dependent: the "
           "independence tests over-reject; see zone(overlap) and /models/%s/"
           "validation_subsamples\n", (int)md->horizon, md->name);
}

void im_print_stats_fields(const im_bt_stats *r) {
  const char *sep = "";
#define I64(f) printf("%s\"" #f "\": %lld", sep, (long long)r->f), sep = ", ";
#define F64(f) jnum(sep, #f, r->f), sep = ", ";
#define I8(f) /* zones as names, the rest as numbers */                               \
  if (strstr(#f, "zone"))                                                            \
    printf(r->f >= 0 ? "%s\"" #f "\": \"%s\"" : "%s\"" #f "\": null", sep, zone_name(r->f)); \
  else                                                                               \
    printf("%s\"" #f "\": %d", sep, (int)r->f);                                        \
  sep = ", ";
  IM_BT_STATS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
}

static void print_json_summary(const im_bt_summary *s) {
  const char *sep = "";
  putchar('{');
#define I64(f) printf("%s\"" #f "\": %lld", sep, (long long)s->f), sep = ", ";
#define F64(f) jnum(sep, #f, s->f), sep = ", ";
  IM_BT_SUMMARY_FIELDS(I64, F64)
#undef I64
#undef F64
  putchar('}');
}

static void print_json_model(const im_model *md, const char (*ids)[IM_PORT_ID_LEN],
                             const im_bt_stats *rows, size_t P, const im_bt_summary *s, int last) {
  printf("    {\"name\": ");
  jstr(md->name);
  printf(", \"kind\": \"%s\", \"measure\": \"%s\", ", im_model_kind_name(md->kind),
         im_measure_name(md->measure));
  jnum("", "confidence", md->confidence);
  printf(", \"horizon_days\": %d, \"window\": %d,\n     \"summary\": ", (int)md->horizon,
         (int)md->window);
  print_json_summary(s);
  printf(",\n     \"portfolios\": [\n");
  for (size_t i = 0; i < P; i++) {
    printf("       {\"id\": ");
    jstr(ids[i]);
    printf(", ");
    im_print_stats_fields(&rows[i]);
    printf("}%s\n", i + 1 < P ? "," : "");
  }
  printf("     ]}%s\n", last ? "" : ",");
}

im_status im_print_results(const char *path, int json, size_t limit, im_err *err) {
  im_results *r = NULL;
  im_status st = im_results_open(MPI_COMM_SELF, path, 0, &r, err);
  if (st) return st;
  const size_t P = im_results_n_port(r), M = im_results_n_models(r);
  im_bt_stats *rows = malloc((P ? P : 1) * sizeof *rows);
  if (!rows) st = im_err_set(err, IM_ENOMEM, "out of memory");
  if (json && !st) {
    printf("{\"file\": ");
    jstr(path);
    printf(", \"models\": [\n");
  }
  for (size_t m = 0; m < M && !st; m++) {
    st = im_results_read_validation(r, m, rows, err);
    if (st) break;
    im_bt_summary s;
    im_bt_summarise(rows, P, 0.05, &s);
    if (json)
      print_json_model(im_results_model(r, m), im_results_ids(r), rows, P, &s, m + 1 == M);
    else
      print_table(im_results_model(r, m), im_results_ids(r), rows, P, limit, &s);
    if (!json && im_results_has_total(r, m)) {
      st = im_results_read_validation_of(r, m, 1, rows, err);
      if (st) break;
      im_bt_summarise(rows, P, 0.05, &s);
      printf("total margin (core + anti-procyclicality layer and add-ons): %lld exceedances in %lld "
             "observations (%.3f%%); zones green %lld, yellow %lld, red %lld "
             "(/models/%s/validation_total)\n",
             (long long)s.n_exceed, (long long)s.n_obs, 100.0 * s.exceed_rate,
             (long long)s.n_green, (long long)s.n_yellow, (long long)s.n_red,
             im_results_model(r, m)->name);
    }
  }
  if (json && !st) printf("  ]}\n");
  fflush(stdout);
  free(rows);
  im_status cst = im_results_close(r, err);
  return st ? st : cst;
}
