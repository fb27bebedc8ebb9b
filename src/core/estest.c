#include "estest.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

#include "backtest.h"

static int a_ok(double a) { return a > 0.0 && a < 1.0; }

/* ---- per-day pieces ------------------------------------------------------ */

double im_es_pit_scen(const double *scen_pnl, size_t w, double pnl) {
  if (isnan(pnl)) return NAN;
  size_t below = 0, tie = 0, finite = 0;
  for (size_t s = 0; s < w; s++) {
    const double x = scen_pnl[s];
    if (isnan(x)) continue;
    finite++;
    below += x < pnl;
    tie += x == pnl;
  }
  if (finite == 0) return NAN;
  return ((double)below + 0.5 * (double)tie) / (double)finite;
}

double im_es_tail_prob_scen(const double *scen_pnl, size_t w, double es) {
  size_t above = 0, finite = 0;
  for (size_t s = 0; s < w; s++) {
    if (isnan(scen_pnl[s])) continue;
    finite++;
    above += -scen_pnl[s] > es;
  }
  return finite ? (double)above / (double)finite : NAN;
}

double im_es_qs(double a, double var, double loss) {
  const double hit = loss > var ? 1.0 : 0.0;
  return (a - hit) * (var - loss); /* NaN propagates */
}

double im_es_fz0(double a, double var, double es, double pnl) {
  if (!(es > 0.0) || isnan(var) || isnan(pnl)) return NAN;
  const double v = -var, e = -es;
  const double tail = pnl <= v ? (v - pnl) : 0.0;
  return -tail / (a * e) + v / e + log(-e) - 1.0;
}

/* ---- Acerbi-Szekely and severity --------------------------------------- */

void im_es_as_add(im_es_as_acc *acc, double a, double loss, double var, double es) {
  if (isnan(loss) || isnan(var) || isnan(es)) return;
  acc->n_obs++;
  if (!(loss > var)) return;
  acc->n_fail++;
  acc->sum_ratio += loss / es;
  acc->sum_ratio_a += loss / (a * es);
  if (var > 0.0) {
    acc->n_sev++;
    acc->sev_e += es / var;
    acc->sev_o += loss / var;
  }
}

void im_es_as_finish(const im_es_as_acc *acc, im_es_stats *out) {
  out->n_obs = acc->n_obs;
  out->n_fail = acc->n_fail;
  out->z1 = acc->n_fail ? 1.0 - acc->sum_ratio / (double)acc->n_fail : NAN;
  out->z2 = acc->n_obs ? 1.0 - acc->sum_ratio_a / (double)acc->n_obs : NAN;
  out->sev_expected = acc->n_sev ? acc->sev_e / (double)acc->n_sev : NAN;
  out->sev_observed = acc->n_sev ? acc->sev_o / (double)acc->n_sev : NAN;
}

/* Over the positions k, k + h, k + 2h, ... < n (h = 1, k = 0: every day). */
static void as_strided(const double *loss, const double *var, const double *es, size_t n,
                       size_t h, size_t k, double a, im_es_stats *out) {
  im_es_as_acc acc = {0};
  for (size_t t = k; t < n; t += h) im_es_as_add(&acc, a, loss[t], var[t], es[t]);
  im_es_as_finish(&acc, out);
}

void im_es_as(const double *loss, const double *var, const double *es, size_t n, double a,
              im_es_stats *out) {
  as_strided(loss, var, es, n, 1, 0, a, out);
}

/* ---- Du-Escanciano ------------------------------------------------------- */

double im_es_de_h(double u, double a) {
  if (isnan(u)) return NAN;
  return u <= a ? 1.0 - u / a : 0.0;
}

/* Accumulates N, sum(H - a/2) and the lag products sum (H_t - a/2)(H_{t-j} -
 * a/2), j = 0..m, over observed days in order; the last m centred values
 * live in a ring indexed by observed rank. */
typedef struct {
  int64_t n;
  double sum;
  double prod[IM_ES_DE_LAGS_MAX + 1];
  double ring[IM_ES_DE_LAGS_MAX];
} de_acc;

static void de_accumulate(const double *pit, size_t n, size_t h, size_t k, double a, int64_t m,
                          de_acc *acc) {
  *acc = (de_acc){0};
  for (size_t t = k; t < n; t += h) {
    if (isnan(pit[t])) continue;
    const double c = im_es_de_h(pit[t], a) - 0.5 * a;
    acc->sum += c;
    acc->prod[0] += c * c;
    for (int64_t j = 1; j <= m && j <= acc->n; j++)
      acc->prod[j] += c * acc->ring[(acc->n - j) % m];
    acc->ring[acc->n % m] = c;
    acc->n++;
  }
}

static void de_strided(const double *pit, size_t n, size_t h, size_t k, double a, int64_t lags,
                       im_es_stats *out) {
  out->de_n = 0;
  out->de_c_lags = lags;
  out->de_u = out->de_u_p = out->de_c = out->de_c_p = NAN;
  out->cc_es_zone = -1;
  if (lags < 1 || lags > IM_ES_DE_LAGS_MAX || !a_ok(a)) return;
  de_acc acc;
  de_accumulate(pit, n, h, k, a, lags, &acc);
  const double nn = (double)acc.n;
  out->de_n = acc.n;
  if (acc.n == 0) return;
  out->de_u = sqrt(nn) * (acc.sum / nn) / sqrt(a * (4.0 - 3.0 * a) / 12.0);
  out->de_u_p = 2.0 * gsl_cdf_ugaussian_Q(fabs(out->de_u));
  out->cc_es_zone = (int8_t)im_bt_zone(gsl_cdf_ugaussian_P(out->de_u));
  const double g0 = acc.prod[0] / nn;
  if (acc.n <= lags || !(g0 > 0.0)) return;
  double c = 0.0;
  for (int64_t j = 1; j <= lags; j++) {
    const double rho = acc.prod[j] / (nn - (double)j) / g0;
    c += rho * rho;
  }
  out->de_c = nn * c;
  out->de_c_p = gsl_cdf_chisq_Q(out->de_c, (double)lags);
}

void im_es_de(const double *pit, size_t n, double a, int64_t lags, im_es_stats *out) {
  de_strided(pit, n, 1, 0, a, lags, out);
}

/* ---- scores and everything ------------------------------------------------ */

/* Mean QS over days with loss and VaR, mean FZ0 over days with all three. */
static void score_means(const double *loss, const double *var, const double *es, size_t n,
                        size_t h, size_t k, double a, im_es_stats *out) {
  double qs = 0.0, fz = 0.0;
  int64_t nq = 0, nf = 0;
  for (size_t t = k; t < n; t += h) {
    if (isnan(loss[t]) || isnan(var[t])) continue;
    qs += im_es_qs(a, var[t], loss[t]);
    nq++;
    if (!es || isnan(es[t])) continue;
    fz += im_es_fz0(a, var[t], es[t], -loss[t]);
    nf++;
  }
  out->qs_n = nq;
  out->fz0_n = nf;
  out->qs_mean = nq ? qs / (double)nq : NAN;
  out->fz0_mean = nf ? fz / (double)nf : NAN;
}

static im_status check_inputs(const double *loss, const double *var, const double *es,
                              const double *pit, size_t n, im_err *err) {
  for (size_t t = 0; t < n; t++) {
    if (pit && !isnan(pit[t]) && !(pit[t] >= 0.0 && pit[t] <= 1.0))
      return im_err_set(err, IM_EINVAL, "estest: day %zu: PIT %g outside [0, 1]", t, pit[t]);
    if (!var || !loss || isnan(loss[t]) || isnan(var[t])) continue;
    if (!isfinite(var[t]) || !isfinite(loss[t]))
      return im_err_set(err, IM_EINVAL, "estest: day %zu: VaR and loss must be finite", t);
    if (es && !isnan(es[t]) && !(es[t] > 0.0 && isfinite(es[t])))
      return im_err_set(err, IM_EINVAL, "estest: day %zu: ES %g must be finite and > 0", t,
                        es[t]);
  }
  return IM_OK;
}

im_status im_es_subsample(const double *loss, const double *var, const double *es,
                          const double *pit, size_t n, size_t h, size_t k, double a,
                          int64_t lags, im_es_stats *out, im_err *err) {
  if (!out || !a_ok(a) || (es && !var) || h < 1 || k >= h)
    return im_err_set(err, IM_EINVAL, "estest: bad arguments (a = %g, h = %zu, k = %zu)", a, h,
                      k);
  if (lags == 0) lags = IM_ES_DE_LAGS_DEFAULT;
  if (lags < 1 || lags > IM_ES_DE_LAGS_MAX)
    return im_err_set(err, IM_EINVAL, "estest: lags %lld not in 1..%d", (long long)lags,
                      IM_ES_DE_LAGS_MAX);
  im_status st = check_inputs(loss, var, es, pit, n, err);
  if (st != IM_OK) return st;
  im_es_stats s = {.z1 = NAN, .z2 = NAN, .sev_expected = NAN, .sev_observed = NAN,
                   .qs_mean = NAN, .fz0_mean = NAN};
  if (loss && var) score_means(loss, var, es, n, h, k, a, &s);
  if (loss && es) as_strided(loss, var, es, n, h, k, a, &s);
  /* Without PITs the DE fields take their empty-series values. */
  de_strided(pit, pit ? n : 0, h, k, a, lags, &s);
  *out = s;
  return IM_OK;
}

im_status im_es_compute(const double *loss, const double *var, const double *es,
                        const double *pit, size_t n, double a, int64_t lags, im_es_stats *out,
                        im_err *err) {
  return im_es_subsample(loss, var, es, pit, n, 1, 0, a, lags, out, err);
}

/* ---- Poisson-binomial ---------------------------------------------------- */

double im_es_pbinom_sf(const double *p, size_t n, int64_t x, double *work) {
  if (x <= 0) return 1.0;
  /* work[j] = P(count = j) for j < x, work[x] = P(count >= x): the tail is
   * absorbing, so the answer needs only x + 1 cells and is a sum of
   * non-negative terms (no 1 - cdf cancellation for small tails). */
  const size_t k = (size_t)x;
  work[0] = 1.0;
  for (size_t j = 1; j <= k; j++) work[j] = 0.0;
  size_t seen = 0;
  for (size_t t = 0; t < n; t++) {
    const double q = p[t];
    if (isnan(q)) continue;
    if (!(q >= 0.0 && q <= 1.0)) return NAN;
    seen++;
    const size_t top = seen < k ? seen : k;
    work[k] += work[k - 1] * q;
    for (size_t j = (top == k ? k - 1 : top); j >= 1; j--)
      work[j] = work[j] * (1.0 - q) + work[j - 1] * q;
    work[0] *= 1.0 - q;
  }
  return seen < k ? 0.0 : work[k];
}
