/* Filtered historical simulation (kind "fhs", as Eurex Prisma, CME SPAN 2,
 * LCH and ICE IRM do): daily log-moves devolatilised by their EWMA(lambda)
 * volatility, summed to h-day moves, revolatilised by today's forecast
 * (model.c has the definition, its seed and its gaps). */
#include <math.h>
#include <stdlib.h>

#include "kind.h"

/* The fhs filter of one underlying: drv[k] = Z_k, the sum of the h
 * devolatilised daily moves ending at k (NaN if any is undefined), and
 * fore[t] = sigma_{t+1}, the volatility forecast made at t (NaN before the
 * filter has started). Both floored at IM_FHS_VOL_FLOOR. */
static void fhs_filter(const double *c, size_t nd, size_t h, double lambda, double *drv,
                       double *fore) {
  double var = NAN, sum = 0;
  size_t seen = 0;
  for (size_t k = 0; k < nd; k++) {
    const double r = k >= 1 ? log(c[k] / c[k - 1]) : NAN;
    double z = NAN;
    if (!isnan(r)) {
      if (seen < IM_FHS_BURN_IN) { /* burn-in: no scenario yet */
        sum += r * r;
        if (++seen == IM_FHS_BURN_IN) var = sum / IM_FHS_BURN_IN;
      } else {
        z = r / fmax(sqrt(var), IM_FHS_VOL_FLOOR); /* sigma_k from days before k */
        var = lambda * var + (1 - lambda) * r * r;
      }
    }
    fore[k] = isnan(var) ? NAN : fmax(sqrt(var), IM_FHS_VOL_FLOOR);
    drv[k] = z; /* the running sum below turns z into Z */
  }
  /* Z_k = z_{k-h+1} + ... + z_k, NaN if any is NaN; done from the end so
   * that drv can hold z and Z in place. */
  for (size_t k = nd; k-- > 0;) {
    double zs = 0;
    for (size_t j = 0; j < h; j++) zs = (k >= j) ? zs + drv[k - j] : NAN;
    drv[k] = zs;
  }
}

/* series: Z_k; the private state: the forecasts sigma_{t+1} [n_und][n_days]. */
static im_status fhs_prepare(im_model_state *s) {
  const size_t nu = s->mkt->n_und, nd = s->mkt->n_days;
  double *fore = malloc(nu * nd * sizeof *fore);
  if (!fore) return IM_ENOMEM;
  s->priv = fore;
  for (size_t u = 0; u < nu; u++)
    fhs_filter(s->mkt->close + u * nd, nd, (size_t)s->model.horizon, s->model.lambda,
               s->series + u * nd, fore + u * nd);
  return IM_OK;
}

static void fhs_free(im_model_state *s) { free(s->priv); }

/* Scenario k moves the underlying by exp(sigma_{t+1} Z_k) - 1. */
static void fhs_moves(const im_model_state *s, size_t u, size_t t, const double *r, size_t span,
                      double *d) {
  const double vol = ((const double *)s->priv)[u * s->mkt->n_days + t];
  for (size_t j = 0; j < span; j++) d[j] = expm1(vol * r[j]);
}

const struct im_kind_ops im_kind_fhs = {
    .flags = IM_KF_SCENARIOS,
    .burn_in = IM_FHS_BURN_IN + 1,
    .prepare = fhs_prepare,
    .state_free = fhs_free,
    .moves = fhs_moves,
    .eval = im_scen_eval,
};
