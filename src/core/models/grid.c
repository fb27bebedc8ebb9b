/* Grid (kind "grid", as Deribit, OKX and Paradex portfolio margin): for each
 * underlying separately, the worst loss over a spot x vol shock grid, the
 * extended moves dampened; IM is the sum over the underlyings (model.c). */
#include <math.h>

#include "kind.h"

const double im_grid_ext_move[IM_GRID_N_EXTENDED] = {-0.66, -0.33, 0.5, 1, 2, 3, 4, 5};
const double im_grid_ext_weight[IM_GRID_N_EXTENDED] = {0.24, 0.48, 0.32, 0.16,
                                                       0.08, 0.0533, 0.04, 0.032};

/* Loss of portfolio p's positions on underlying u (USD exposure e of the
 * linear ones, plus its options fully revalued) when spot moves by x and
 * the ATM vol by vx, instantaneously. */
static double grid_loss(const im_model_state *s, size_t p, size_t u, size_t t, double e, double x,
                        double vx) {
  double loss = -e * x;
  const size_t nd = s->mkt->n_days;
  for (size_t j = s->opt_start[p]; j < s->opt_start[p + 1]; j++) {
    const im_instrument *in = &s->book->instr[s->opt_list[s->opt_row[j]]];
    if (in->und != u) continue;
    const double s0 = s->mkt->close[u * nd + t], atm = s->ivol[u * nd + t];
    const double k = in->money * s0, tau = in->tenor / 365.0;
    loss -= s->opt_qty[j] * (im_option_value(s, in, s0 * (1 + x), atm * (1 + vx), k, tau) -
                             im_option_value(s, in, s0, atm, k, tau));
  }
  return loss;
}

/* Worst weighted loss on underlying u over the grid: core spot shocks x each
 * vol shock (none, down, up), then the extended moves with vol up, dampened. */
static double grid_worst(const im_model_state *s, size_t p, size_t u, size_t t, double e) {
  const im_model *md = &s->model;
  const int opts = s->opt_start[p + 1] > s->opt_start[p];
  const double vols[3] = {0, IM_GRID_VOL_DOWN, IM_GRID_VOL_UP};
  double worst = 0;
  for (int32_t i = -md->grid_steps; i <= md->grid_steps; i++)
    for (int v = 0; v < (opts ? 3 : 1); v++)
      worst = fmax(worst, grid_loss(s, p, u, t, e, md->grid_range * i / md->grid_steps, vols[v]));
  for (int i = 0; i < IM_GRID_N_EXTENDED && md->grid_extended; i++)
    worst = fmax(worst, im_grid_ext_weight[i] *
                            grid_loss(s, p, u, t, e, im_grid_ext_move[i], opts ? IM_GRID_VOL_UP : 0));
  return worst;
}

/* The worst case: no confidence level, every level gets it. */
static void grid_eval(const im_model_state *s, im_model_scratch *w, size_t p, size_t t, int64_t k0,
                      size_t n_lev, const im_level *lev, const double *aux, double *v) {
  (void)w;
  (void)k0;
  (void)lev;
  (void)aux;
  double g = 0;
  for (size_t i = s->lin_start[p]; i < s->lin_start[p + 1]; i++)
    g += grid_worst(s, p, s->lin_und[i], t, im_lin_exposure(s, i, t));
  for (size_t l = 0; l < n_lev; l++) v[l] = g;
}

const struct im_kind_ops im_kind_grid = {
    .flags = IM_KF_INSTANT,
    .prepare = im_prepare_log_moves,
    .eval = grid_eval,
};
