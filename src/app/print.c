#include "print.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "results_io.h"
#include "summary.h"

static const char *zone_name(int z) {
  return z == IM_ZONE_GREEN ? "green" : z == IM_ZONE_YELLOW ? "yellow" : z == IM_ZONE_RED ? "red" : "-";
}

/* JSON has no NaN: an undefined statistic is null. %.17g round-trips. */
static void jnum(const char *key, double v, int comma) {
  if (isfinite(v))
    printf("\"%s\": %.17g%s", key, v, comma ? ", " : "");
  else
    printf("\"%s\": null%s", key, comma ? ", " : "");
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
  printf("%-24s %6s %5s %8s %7s %8s %8s %8s  %s\n", "portfolio", "obs", "exc", "expected", "rate%",
         "p_uc", "p_ind", "p_cc", "zone");
  size_t shown = limit && limit < P ? limit : P;
  for (size_t i = 0; i < shown; i++) {
    const im_bt_stats *r = &rows[i];
    char a[16], b[16], c[16], rate[16] = "-";
    if (r->n_obs) snprintf(rate, sizeof rate, "%.3f", 100.0 * (double)r->n_exceed / (double)r->n_obs);
    fmt_p(a, sizeof a, r->p_uc);
    fmt_p(b, sizeof b, r->p_ind);
    fmt_p(c, sizeof c, r->p_cc);
    printf("%-24.24s %6lld %5lld %8.2f %7s %8s %8s %8s  %s\n", ids[i], (long long)r->n_obs,
           (long long)r->n_exceed, r->expected, rate, a, b, c, zone_name(r->tl_zone));
  }
  if (shown < P) printf("... %zu more portfolios (imvar validate --limit 0 shows all)\n", P - shown);
  printf("summary: %lld of %lld portfolios evaluated, %lld exceedances in %lld observations "
         "(%.3f%%, expected %.3f%%); rejected at 5%%: Kupiec %lld, independence %lld, "
         "conditional coverage %lld; zones green %lld, yellow %lld, red %lld\n",
         (long long)s->n_evaluated, (long long)s->n_portfolios, (long long)s->n_exceed,
         (long long)s->n_obs, 100.0 * s->exceed_rate, 100.0 * (1.0 - md->confidence),
         (long long)s->n_reject_uc, (long long)s->n_reject_ind, (long long)s->n_reject_cc,
         (long long)s->n_green, (long long)s->n_yellow, (long long)s->n_red);
}

static void print_json_model(const im_model *md, const char (*ids)[IM_PORT_ID_LEN],
                             const im_bt_stats *rows, size_t P, const im_bt_summary *s, int last) {
  printf("    {\"name\": ");
  jstr(md->name);
  printf(", \"kind\": \"%s\", \"measure\": \"%s\", ", im_model_kind_name(md->kind),
         im_measure_name(md->measure));
  jnum("confidence", md->confidence, 1);
  printf("\"horizon_days\": %d, \"window\": %d,\n", (int)md->horizon, (int)md->window);
  printf("     \"summary\": {\"n_portfolios\": %lld, \"n_evaluated\": %lld, \"n_obs\": %lld, "
         "\"n_exceed\": %lld, ",
         (long long)s->n_portfolios, (long long)s->n_evaluated, (long long)s->n_obs,
         (long long)s->n_exceed);
  jnum("expected", s->expected, 1);
  jnum("exceed_rate", s->exceed_rate, 1);
  printf("\"n_reject_uc\": %lld, \"n_reject_ind\": %lld, \"n_reject_cc\": %lld, \"n_green\": "
         "%lld, \"n_yellow\": %lld, \"n_red\": %lld},\n",
         (long long)s->n_reject_uc, (long long)s->n_reject_ind, (long long)s->n_reject_cc,
         (long long)s->n_green, (long long)s->n_yellow, (long long)s->n_red);
  printf("     \"portfolios\": [\n");
  for (size_t i = 0; i < P; i++) {
    const im_bt_stats *r = &rows[i];
    printf("       {\"id\": ");
    jstr(ids[i]);
    printf(", \"n_obs\": %lld, \"n_exceed\": %lld, ", (long long)r->n_obs, (long long)r->n_exceed);
    jnum("expected", r->expected, 1);
    printf("\"n00\": %lld, \"n01\": %lld, \"n10\": %lld, \"n11\": %lld, ", (long long)r->n00,
           (long long)r->n01, (long long)r->n10, (long long)r->n11);
    jnum("lr_uc", r->lr_uc, 1);
    jnum("p_uc", r->p_uc, 1);
    jnum("lr_ind", r->lr_ind, 1);
    jnum("p_ind", r->p_ind, 1);
    jnum("lr_cc", r->lr_cc, 1);
    jnum("p_cc", r->p_cc, 1);
    jnum("tl_cumprob", r->tl_cumprob, 1);
    if (r->tl_zone >= 0)
      printf("\"tl_zone\": \"%s\"}%s\n", zone_name(r->tl_zone), i + 1 < P ? "," : "");
    else
      printf("\"tl_zone\": null}%s\n", i + 1 < P ? "," : "");
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
  }
  if (json && !st) printf("  ]}\n");
  fflush(stdout);
  free(rows);
  im_status cst = im_results_close(r, err);
  return st ? st : cst;
}
