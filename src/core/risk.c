#include "risk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double tail_mass(size_t w, double conf) {
  double m = (double)w * (1.0 - conf);
  double r = round(m);
  return fabs(m - r) < 1e-9 ? r : m;
}

size_t im_var_rank(size_t w, double conf) {
  size_t k = (size_t)floor(tail_mass(w, conf)) + 1;
  return k > w ? w : k;
}

static void swap(double *a, double *b) {
  double t = *a;
  *a = *b;
  *b = t;
}

static double median3(double a, double b, double c) {
  if (a > b) swap(&a, &b);
  if (b > c) swap(&b, &c);
  return a > b ? a : b;
}

/* Quickselect with a three-way partition (robust to ties, which are common:
 * portfolios flat in some scenarios) and a median-of-three pivot. On return
 * x[0..k-1] hold the k largest values in some order and x[k-1] is the k-th
 * largest. */
static void select_largest(double *x, size_t n, size_t k) {
  size_t lo = 0, hi = n, target = k - 1;
  while (hi - lo > 1) {
    double pivot = median3(x[lo], x[lo + (hi - lo) / 2], x[hi - 1]);
    size_t lt = lo, i = lo, gt = hi; /* [lo,lt) > pivot, [lt,gt) == pivot, [gt,hi) < pivot */
    while (i < gt) {
      if (x[i] > pivot)
        swap(&x[lt++], &x[i++]);
      else if (x[i] < pivot)
        swap(&x[i], &x[--gt]);
      else
        i++;
    }
    if (target < lt)
      hi = lt;
    else if (target >= gt)
      lo = gt;
    else
      return;
  }
}

double im_var_select(double *loss, size_t w, double conf) {
  size_t k = im_var_rank(w, conf);
  select_largest(loss, w, k);
  return loss[k - 1];
}

double im_es_select(double *loss, size_t w, double conf) {
  double m = tail_mass(w, conf);
  size_t whole = (size_t)floor(m);
  if (whole >= w) {
    double s = 0;
    for (size_t i = 0; i < w; i++) s += loss[i];
    return s / (double)w;
  }
  /* After selecting the (whole+1)-th largest, the 'whole' worst losses sit
   * in front of it. */
  select_largest(loss, w, whole + 1);
  if (m <= 0) return loss[0]; /* conf = 1: the worst loss */
  double s = 0;
  for (size_t i = 0; i < whole; i++) s += loss[i];
  return (s + (m - (double)whole) * loss[whole]) / m;
}

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

double im_var_sorted_ref(const double *loss, size_t w, double conf, double *scratch) {
  memcpy(scratch, loss, w * sizeof *scratch);
  qsort(scratch, w, sizeof *scratch, cmp_desc);
  return scratch[im_var_rank(w, conf) - 1];
}

double im_es_sorted_ref(const double *loss, size_t w, double conf, double *scratch) {
  memcpy(scratch, loss, w * sizeof *scratch);
  qsort(scratch, w, sizeof *scratch, cmp_desc);
  double m = tail_mass(w, conf);
  double s = 0, mass = 0;
  for (size_t i = 0; i < w && mass < m; i++) {
    double wgt = m - mass < 1.0 ? m - mass : 1.0;
    s += wgt * scratch[i];
    mass += wgt;
  }
  return m > 0 ? s / m : scratch[0];
}
