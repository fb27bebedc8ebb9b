/* Size and power of the backtests with asymptotic and simulated p-values.
 *
 * Benchmark program, not a CTest test; prints key=value lines.
 *
 * Part "var" (a = 0.01 and 0.05, T = 1000): S samples of iid U(0,1) PITs
 * u_t of a CORRECT model, hits h_t = 1{u_t < a} (iid Bernoulli(a)). For each
 * test of the VaR battery run on the hits alone (backtest.h; DQ is the
 * hit-only DQ) and for Du-Escanciano's U and C(5) on the PITs, the share of
 * samples rejected at the 5% level: asymptotic p < 0.05 (key ..._asym) and
 * simulated p <= 0.05 from simp.h null tables of M simulations (key
 * ..._sim; exact size 0.05 when 0.05 (M + 1) is an integer). An undefined
 * p-value is no rejection. Monte Carlo s.e. sqrt(0.05 0.95 / S).
 *
 * Part "es" (a = 0.025, T = 1000): the ES tests for a model whose predictive
 * distribution is N(0, 1) every day (VaR = 1.95996, ES = 2.33780), on S_ES
 * samples of data from the model (size) and from t3 scaled to unit variance
 * (power: same variance, fatter tails): Acerbi-Szekely Z1 and Z2 with
 * simulated p-values (normal family pinned by each day's (VaR, ES), M_Z
 * simulations), Du-Escanciano U and C(5) (asymptotic and simulated), and the
 * exact Poisson-binomial p-value of the ES exceedance count (each day
 * P(L > ES) = 0.0097). All one-sided/left as documented in estest.h and
 * simp.h; rejection at 5% as in part "var".
 *
 * Usage: es_size PART [S [M [S_ES [M_Z [seed]]]]]  (defaults var|es 4000 9999
 * 2000 499 1). The null tables are fixed by (n, a, test), so all samples
 * share them and the printed size is the size GIVEN the table, which differs
 * from 0.05 by about sqrt(0.05 0.95 / M) (0.002 at M = 9999). The Z
 * simulations use seed * 1000003 + s for sample s. Sample s of level index j draws from the Philox stream
 * (seed, 0x53495a45 "SIZE", j, s): u_t = gsl_rng_uniform, t3 by gsl_ran_tdist,
 * normal by gsl_ran_gaussian_ziggurat; the null tables are keyed by (n, a,
 * test) as simp.h documents (independent of these samples). Same arguments,
 * same output. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>

#include "backtest.h"
#include "estest.h"
#include "rng.h"
#include "simp.h"

#define T_DAYS 1000
#define LEVEL 0.05
#define PURPOSE_SIZE 0x53495a45u

static const char *const bt_names[IM_SIMP_BT_N] = {"uc",  "ind", "cc",      "tuff", "tbfi",
                                                   "tbf", "dur", "dq_hits", "bin"};

static int die(const im_err *e) {
  fprintf(stderr, "es_size: %s\n", e->msg);
  return 1;
}

static void print_rate(const char *pfx, const char *name, const char *kind, long count, long S) {
  printf("%s.%s_%s=%.4f\n", pfx, name, kind, (double)count / (double)S);
}

static int part_var(long S, size_t M, uint64_t seed, gsl_rng *r) {
  static const double as[2] = {0.01, 0.05};
  static double u[T_DAYS];
  static int8_t h[T_DAYS];
  im_err err;
  for (uint32_t j = 0; j < 2; j++) {
    const double a = as[j];
    im_simp_null bt, de;
    if (im_simp_bt_null(&bt, T_DAYS, a, M, NULL, &err) != IM_OK) return die(&err);
    if (im_simp_de_null(&de, T_DAYS, a, 5, M, &err) != IM_OK) return die(&err);
    long asym[IM_SIMP_BT_N + 2] = {0}, sim[IM_SIMP_BT_N + 2] = {0};
    for (long s = 0; s < S; s++) {
      im_rng_stream(r, seed, PURPOSE_SIZE, j, (uint32_t)s);
      for (size_t t = 0; t < T_DAYS; t++) u[t] = gsl_rng_uniform(r), h[t] = u[t] < a;
      im_bt_stats b;
      im_simp_bt_p ps;
      im_es_stats es;
      double pu, pc;
      if (im_bt_compute(h, NULL, NULL, T_DAYS, a, NULL, &b, &err) != IM_OK ||
          im_simp_bt_pvalues(&bt, h, T_DAYS, NULL, &ps, &err) != IM_OK ||
          im_simp_de_pvalues(&de, u, T_DAYS, 5, &pu, &pc, &err) != IM_OK)
        return die(&err);
      im_es_de(u, T_DAYS, a, 5, &es);
      const double pa[IM_SIMP_BT_N + 2] = {b.p_uc, b.p_ind, b.p_cc, b.p_tuff, b.p_tbfi, b.p_tbf,
                                           b.dur_p, b.dq_p, b.bin_p, es.de_u_p, es.de_c_p};
      const double pm[IM_SIMP_BT_N + 2] = {ps.p_uc,  ps.p_ind, ps.p_cc, ps.p_tuff,
                                           ps.p_tbfi, ps.p_tbf, ps.p_dur, ps.p_dq,
                                           ps.p_bin, pu,       pc};
      for (size_t k = 0; k < IM_SIMP_BT_N + 2; k++) asym[k] += pa[k] < LEVEL, sim[k] += pm[k] <= LEVEL;
    }
    char pfx[32];
    snprintf(pfx, sizeof pfx, "a%.2f", a);
    for (size_t k = 0; k < IM_SIMP_BT_N + 2; k++) {
      const char *name = k < IM_SIMP_BT_N ? bt_names[k] : (k == IM_SIMP_BT_N ? "de_u" : "de_c");
      print_rate(pfx, name, "asym", asym[k], S);
      print_rate(pfx, name, "sim", sim[k], S);
    }
    im_simp_null_free(&bt);
    im_simp_null_free(&de);
  }
  return 0;
}

enum { ES_Z1, ES_Z2, ES_DEU_A, ES_DEU_S, ES_DEC_A, ES_DEC_S, ES_PB, ES_N };
static const char *const es_names[ES_N] = {"z1_sim",  "z2_sim",  "de_u_asym", "de_u_sim",
                                           "de_c_asym", "de_c_sim", "es_exceed_pbinom"};

/* The ES tests' p-values of one sample. */
static int es_sample(const double *pnl, const double *var, const double *es, const uint32_t *date,
                     const im_simp_param_ctx *ctx, const im_simp_null *de, double a, double p_tail,
                     size_t mz, uint64_t seed, double *p, double *work) {
  static double loss[T_DAYS], u[T_DAYS], pt[T_DAYS];
  int64_t x = 0;
  for (size_t t = 0; t < T_DAYS; t++) {
    loss[t] = -pnl[t];
    u[t] = gsl_cdf_ugaussian_P(pnl[t]);
    pt[t] = p_tail;
    x += loss[t] > es[t];
  }
  im_err err;
  im_es_stats s;
  if (im_simp_z(loss, var, es, date, T_DAYS, a, im_simp_draw_param, ctx, seed, mz, &p[ES_Z1],
                &p[ES_Z2], &err) != IM_OK ||
      im_simp_de_pvalues(de, u, T_DAYS, 5, &p[ES_DEU_S], &p[ES_DEC_S], &err) != IM_OK)
    return die(&err);
  im_es_de(u, T_DAYS, a, 5, &s);
  p[ES_DEU_A] = s.de_u_p;
  p[ES_DEC_A] = s.de_c_p;
  p[ES_PB] = im_es_pbinom_sf(pt, T_DAYS, x, work);
  return 0;
}

static int part_es(size_t M, long S_es, size_t mz, uint64_t seed, gsl_rng *r) {
  const double a = 0.025;
  const im_es_dist nd = {IM_ES_DIST_NORMAL, 0};
  static double var[T_DAYS], es[T_DAYS], pnl[T_DAYS], work[T_DAYS + 1];
  static uint32_t date[T_DAYS];
  double q, e;
  im_err err;
  im_simp_param_ctx ctx;
  im_simp_null de;
  if (im_es_dist_std(&nd, a, &q, &e, &err) != IM_OK) return die(&err);
  for (size_t t = 0; t < T_DAYS; t++) var[t] = q, es[t] = e, date[t] = 20000 + (uint32_t)t;
  if (im_simp_param_init(&ctx, &nd, a, var, es, T_DAYS, &err) != IM_OK ||
      im_simp_de_null(&de, T_DAYS, a, 5, M, &err) != IM_OK)
    return die(&err);
  const double p_tail = im_es_dist_tail(&nd, a);
  printf("es.a=%.3f\nes.var=%.5f\nes.es=%.5f\nes.p_exceed_es=%.5f\nes.S=%ld\nes.M_Z=%zu\nes.M_DE=%zu\n"
         "es.mc_se=%.4f\n",
         a, q, e, p_tail, S_es, mz, M, sqrt(LEVEL * (1 - LEVEL) / (double)S_es));
  for (uint32_t j = 0; j < 2; j++) { /* 0: data N(0,1) (size), 1: t3 / sqrt(3) (power) */
    long rej[ES_N] = {0};
    for (long s = 0; s < S_es; s++) {
      im_rng_stream(r, seed, PURPOSE_SIZE, 10 + j, (uint32_t)s);
      for (size_t t = 0; t < T_DAYS; t++)
        pnl[t] = j ? gsl_ran_tdist(r, 3.0) / sqrt(3.0) : gsl_ran_gaussian_ziggurat(r, 1.0);
      double p[ES_N];
      /* Each sample its own Z simulation seed, as each portfolio should have
       * (one shared set of simulations would make the size conditional on
       * it, an error of order sqrt(0.05 / M_Z)). */
      if (es_sample(pnl, var, es, date, &ctx, &de, a, p_tail, mz, seed * 1000003u + (uint64_t)s,
                    p, work))
        return 1;
      for (size_t k = 0; k < ES_N; k++)
        rej[k] += (k == ES_DEU_A || k == ES_DEC_A) ? p[k] < LEVEL : p[k] <= LEVEL;
    }
    for (size_t k = 0; k < ES_N; k++)
      print_rate(j ? "es.power_t3" : "es.size", es_names[k], "rate", rej[k], S_es);
  }
  im_simp_null_free(&de);
  return 0;
}

int main(int argc, char **argv) {
  gsl_set_error_handler_off();
  if (argc < 2 || (strcmp(argv[1], "var") && strcmp(argv[1], "es"))) {
    fprintf(stderr, "usage: es_size var|es [S [M [S_ES [M_Z [seed]]]]]\n");
    return 2;
  }
  const long S = argc > 2 ? strtol(argv[2], NULL, 10) : 4000;
  const long M = argc > 3 ? strtol(argv[3], NULL, 10) : 9999;
  const long S_es = argc > 4 ? strtol(argv[4], NULL, 10) : 2000;
  const long mz = argc > 5 ? strtol(argv[5], NULL, 10) : 499;
  const uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 1;
  if (S < 1 || M < 1 || S_es < 1 || mz < 1 || S > 100000000L || M > 100000000L) {
    fprintf(stderr, "es_size: counts must be in 1..1e8\n");
    return 2;
  }
  gsl_rng *r = gsl_rng_alloc(im_rng_philox);
  if (!r) return 1;
  int rc;
  if (!strcmp(argv[1], "var")) {
    printf("var.S=%ld\nvar.M=%ld\nvar.T=%d\nseed=%llu\nlevel=%.2f\nvar.mc_se=%.4f\n", S, M, T_DAYS,
           (unsigned long long)seed, LEVEL, sqrt(LEVEL * (1 - LEVEL) / (double)S));
    rc = part_var(S, (size_t)M, seed, r);
  } else {
    rc = part_es((size_t)M, S_es, (size_t)mz, seed, r);
  }
  gsl_rng_free(r);
  return rc;
}
