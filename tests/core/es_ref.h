/* Reference implementations shared by the ES test programs, written from the
 * published definitions and deliberately unlike src/core/estest.c. */
#ifndef IM_TEST_ES_REF_H
#define IM_TEST_ES_REF_H

#include <math.h>
#include <stdlib.h>

/* Du-Escanciano U and C(m) on the compacted series with an explicit H vector. */
static inline void de_ref(const double *pit, size_t n, double a, int m, double *u, double *c) {
  double *h = malloc(n * sizeof *h);
  size_t k = 0;
  for (size_t t = 0; t < n; t++)
    if (!isnan(pit[t])) h[k++] = (pit[t] <= a) ? 1 - pit[t] / a : 0;
  double mean = 0;
  for (size_t t = 0; t < k; t++) mean += h[t] / (double)k;
  *u = sqrt((double)k) * (mean - a / 2) / sqrt(a * (4 - 3 * a) / 12);
  double g[65] = {0};
  for (int j = 0; j <= m; j++) {
    for (size_t t = (size_t)j; t < k; t++) g[j] += (h[t] - a / 2) * (h[t - (size_t)j] - a / 2);
    g[j] /= (double)(k - (size_t)j);
  }
  *c = 0;
  for (int j = 1; j <= m; j++) *c += (double)k * (g[j] / g[0]) * (g[j] / g[0]);
  free(h);
}

#endif
