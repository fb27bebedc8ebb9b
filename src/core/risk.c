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

/* Inserts v into the descending top[0..n-1] of capacity k; returns the new n. */
static size_t insert_desc(double *top, size_t n, size_t k, double v) {
  size_t j = n < k ? n++ : k - 1;
  while (j > 0 && top[j - 1] < v) {
    top[j] = top[j - 1];
    j--;
  }
  top[j] = v;
  return n;
}

/* GCC/Clang vector extensions: portable SIMD (SSE2 by default, AVX with
 * -march), used where the compiler would not vectorise comparisons by itself. */
typedef double v2d __attribute__((vector_size(16)));
typedef long long v2m __attribute__((vector_size(16)));

static inline v2d load2(const double *p) {
  v2d v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline v2d max2(v2d a, v2d b) {
  v2m m = a > b;
  return (v2d)(((v2m)a & m) | ((v2m)b & ~m));
}

/* True if any of p[0..7] >= c. */
static inline int any8_ge(const double *p, double c) {
  v2d cv = {c, c};
  v2m m = (load2(p) >= cv) | (load2(p + 2) >= cv) | (load2(p + 4) >= cv) | (load2(p + 6) >= cv);
  return (m[0] | m[1]) != 0;
}

/* Lane maxima of x: element i belongs to lane i mod lanes; a vertical max
 * over contiguous vectors, kept in registers for up to 16 lanes. */
static inline void lane_max(const double *restrict x, size_t w, size_t lanes, double *lane) {
  v2d mx[32];
  for (size_t l = 0; l < lanes / 2; l++) mx[l] = load2(x + 2 * l);
  size_t base = lanes;
  for (; base + lanes <= w; base += lanes)
    for (size_t l = 0; l < lanes / 2; l++) mx[l] = max2(load2(x + base + 2 * l), mx[l]);
  memcpy(lane, mx, lanes * sizeof *lane);
  for (size_t i = base; i < w; i++) lane[i - base] = x[i] > lane[i - base] ? x[i] : lane[i - base];
}

/* Two passes. First, the maxima of interleaved lanes (16, or 64 for longer
 * tails). The k largest lane maxima are k distinct elements, so the k-th
 * largest lane maximum is a lower bound c of the k-th largest element, and
 * only elements >= c can be in the tail; the second pass skips, 8 at a time,
 * the blocks holding none. */
void im_top_k(const double *restrict x, size_t w, size_t k, double *restrict top) {
  if (k == 0) return; /* nothing to select; top[k - 1] below would be top[-1] */
  size_t n = 0;
  const size_t lanes = k <= 16 ? 16 : 64;
  if (w < 4 * lanes || k > lanes) {
    for (size_t i = 0; i < w; i++)
      if (n < k || x[i] > top[k - 1]) n = insert_desc(top, n, k, x[i]);
    return;
  }
  double lane[64];
  if (lanes == 16)
    lane_max(x, w, 16, lane);
  else
    lane_max(x, w, 64, lane);
  for (size_t l = 0; l < lanes; l++)
    if (n < k || lane[l] > top[k - 1]) n = insert_desc(top, n, k, lane[l]);
  const double cut = top[k - 1];
  n = 0;
  size_t i = 0;
  for (;;) {
    while (i + 8 <= w && !any8_ge(x + i, cut)) i += 8;
    if (i >= w) break;
    for (size_t end = i + 8 <= w ? i + 8 : w; i < end; i++) {
      if (x[i] < cut || (n == k && !(x[i] > top[k - 1]))) continue;
      n = insert_desc(top, n, k, x[i]);
    }
  }
}

double im_var(double *loss, size_t w, double conf, double *top) {
  size_t k = im_var_rank(w, conf);
  if (k > IM_TOPK_MAX) return im_var_select(loss, w, conf);
  im_top_k(loss, w, k, top);
  return top[k - 1];
}

double im_es(double *loss, size_t w, double conf, double *top) {
  double m = tail_mass(w, conf);
  size_t whole = (size_t)floor(m);
  if (whole + 1 > IM_TOPK_MAX || whole >= w) return im_es_select(loss, w, conf);
  im_top_k(loss, w, whole + 1, top);
  if (m <= 0) return top[0];
  double s = 0;
  for (size_t i = 0; i < whole; i++) s += top[i];
  return (s + (m - (double)whole) * top[whole]) / m;
}

void im_dg_cumulants(size_t n, const double *c, const double *b, const double *g, size_t ng,
                     double theta, double k[4]) {
  double cb[IM_DG_MAX], acb[IM_DG_MAX], cacb[IM_DG_MAX];
  double m[IM_DG_MAX * IM_DG_MAX], m2[IM_DG_MAX * IM_DG_MAX];
  for (size_t i = 0; i < n; i++) {
    double x = 0;
    for (size_t j = 0; j < n; j++) x += c[i * n + j] * b[j];
    cb[i] = x;
  }
  double bcb = 0, q3 = 0, q4 = 0;
  for (size_t i = 0; i < n; i++) {
    bcb += b[i] * cb[i];
    acb[i] = i < ng ? g[i] * cb[i] : 0;
    q3 += cb[i] * acb[i];
  }
  for (size_t i = 0; i < n; i++) {
    double x = 0;
    for (size_t j = 0; j < n; j++) x += c[i * n + j] * acb[j];
    cacb[i] = x;
  }
  for (size_t i = 0; i < n; i++) q4 += acb[i] * cacb[i];
  /* M = AC, M2 = M M; traces of M, M^2, M^3, M^4. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) m[i * n + j] = i < ng ? g[i] * c[i * n + j] : 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double x = 0;
      for (size_t l = 0; l < n; l++) x += m[i * n + l] * m[l * n + j];
      m2[i * n + j] = x;
    }
  double t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (size_t i = 0; i < n; i++) {
    t1 += m[i * n + i];
    for (size_t j = 0; j < n; j++) {
      t2 += m[i * n + j] * m[j * n + i];
      t3 += m2[i * n + j] * m[j * n + i];
      t4 += m2[i * n + j] * m2[j * n + i];
    }
  }
  k[0] = theta + 0.5 * t1;
  k[1] = bcb + 0.5 * t2;
  k[2] = 3 * q3 + t3;
  k[3] = 12 * q4 + 3 * t4;
}

double im_cf_factor(double z, double s, double x, int es) {
  if (es) return 1 + s * z / 6 + x * (z * z - 1) / 24 - s * s * (2 * z * z - 1) / 36;
  const double zcf = z + (z * z - 1) * s / 6 + (z * z * z - 3 * z) * x / 24 -
                     (2 * z * z * z - 5 * z) * s * s / 36;
  return zcf / z;
}
