/* Size of the backtests: how often each test rejects a CORRECT model.
 *
 * Benchmark program, not a CTest test. For p = 0.01 and 0.05 it draws S
 * samples of T = 1000 days of iid N(0,1) P&L, sets the margin to the exact
 * normal VaR z_{1-p} (so exceedances are iid Bernoulli(p): the model is
 * correctly specified), runs im_bt_compute with pnl and margin, and prints
 * the share of samples each test rejects at the 5% level (p-value < 0.05;
 * an undefined p-value is no rejection, and its share is printed as
 * <test>_nan when non-zero). A well-sized test gives about 0.05, within
 * about 2 * mc_se. dq is the DQ test with margin and P&L regressors (the
 * constant margin duplicates the intercept, so it has rank(X) = L + 2
 * degrees of freedom); dq_hits is the hit-only DQ.
 *
 * Usage: bt_size [S [seed]]   (defaults 2000 and 1)
 * Sample s of level index j draws its moves from Philox4x32-10 with key
 * (seed low, seed high) and counter (block, 0x53495a45 "SIZE", s, j), two
 * moves per block by Box-Muller, so every run with the same arguments
 * prints the same numbers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <Random123/philox.h>
#pragma GCC diagnostic pop

#include "backtest.h"

#define T_DAYS 1000
#define LEVEL 0.05
#define PURPOSE_SIZE 0x53495a45u

enum { UC, IND, CC, TUFF, TBFI, TBF, DUR, DQ, DQ_HITS, BIN, N_TESTS };
static const char *const test_names[N_TESTS] = {"uc",  "ind", "cc", "tuff", "tbfi",
                                                "tbf", "dur", "dq", "dq_hits", "bin"};

static void normals(uint64_t seed, uint32_t sample, uint32_t level_index, double *x, size_t n) {
  const philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  for (size_t j = 0; j < n; j += 2) {
    const philox4x32_ctr_t ctr = {{(uint32_t)(j / 2), PURPOSE_SIZE, sample, level_index}};
    const philox4x32_ctr_t r = philox4x32(ctr, key);
    const uint64_t a = ((uint64_t)r.v[0] << 21) | (r.v[1] >> 11);
    const uint64_t b = ((uint64_t)r.v[2] << 21) | (r.v[3] >> 11);
    const double u1 = ((double)a + 0.5) * 0x1p-53, u2 = ((double)b + 0.5) * 0x1p-53;
    const double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586476925286766559 * u2;
    x[j] = rad * cos(ang);
    if (j + 1 < n) x[j + 1] = rad * sin(ang);
  }
}

int main(int argc, char **argv) {
  gsl_set_error_handler_off();
  long S = 2000;
  unsigned long long seed = 1;
  if (argc > 1) S = strtol(argv[1], NULL, 10);
  if (argc > 2) seed = strtoull(argv[2], NULL, 10);
  if (S < 1 || S > 100000000L) {
    fprintf(stderr, "bt_size: S must be in 1..1e8\n");
    return 2;
  }
  static int8_t hits[T_DAYS];
  static double pnl[T_DAYS], margin[T_DAYS];
  static const double ps[2] = {0.01, 0.05};
  printf("S=%ld\nT=%d\nseed=%llu\ntest_level=%.2f\nmc_se=%.4f\n", S, T_DAYS, seed, LEVEL,
         sqrt(LEVEL * (1.0 - LEVEL) / (double)S));
  for (uint32_t j = 0; j < 2; j++) {
    const double p = ps[j], z = gsl_cdf_ugaussian_Qinv(p);
    long reject[N_TESTS] = {0}, undefined[N_TESTS] = {0};
    double mean_exceed = 0.0;
    for (long s = 0; s < S; s++) {
      normals(seed, (uint32_t)s, j, pnl, T_DAYS);
      for (size_t t = 0; t < T_DAYS; t++) {
        margin[t] = z;
        hits[t] = -pnl[t] > margin[t];
      }
      im_bt_stats a, b;
      im_err err;
      if (im_bt_compute(hits, pnl, margin, T_DAYS, p, NULL, &a, &err) != IM_OK ||
          im_bt_compute(hits, NULL, NULL, T_DAYS, p, NULL, &b, &err) != IM_OK) {
        fprintf(stderr, "bt_size: %s\n", err.msg);
        return 1;
      }
      const double pv[N_TESTS] = {a.p_uc,  a.p_ind, a.p_cc, a.p_tuff, a.p_tbfi,
                                  a.p_tbf, a.dur_p, a.dq_p, b.dq_p,   a.bin_p};
      for (int k = 0; k < N_TESTS; k++) {
        if (isnan(pv[k]))
          undefined[k]++;
        else
          reject[k] += pv[k] < LEVEL;
      }
      mean_exceed += (double)a.n_exceed;
    }
    printf("p=%.2f\n", p);
    printf("p%.2f.mean_exceedances=%.3f\n", p, mean_exceed / (double)S);
    for (int k = 0; k < N_TESTS; k++) {
      printf("p%.2f.%s=%.4f\n", p, test_names[k], (double)reject[k] / (double)S);
      if (undefined[k])
        printf("p%.2f.%s_nan=%.4f\n", p, test_names[k], (double)undefined[k] / (double)S);
    }
  }
  return 0;
}
