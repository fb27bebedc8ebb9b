/* European options on crypto underlyings: Black-76 at zero rates (so the
 * forward is the spot) with the implied volatility of the underlying's ATM
 * level (Deribit DVOL / 100) times a smile factor by moneyness and tenor. */
#ifndef IM_OPTIONS_H
#define IM_OPTIONS_H

#include <stddef.h>

#include "im_status.h"

/* Black-76 value of one call (call != 0) or put on one unit of the
 * underlying: forward f, strike k, volatility sigma, tau years. At tau <= 0
 * or sigma <= 0 the intrinsic value. */
double im_black76(double f, double k, double sigma, double tau, int call);

/* Black-76 Greeks at zero rates of one call or put on one unit: with
 * d1 = ln(f/k)/(sigma sqrt(tau)) + sigma sqrt(tau)/2,
 *   delta = N(d1) (call) or N(d1) - 1 (put), dV/df;
 *   gamma = phi(d1) / (f sigma sqrt(tau)), d2V/df2 (call and put);
 *   vega  = f phi(d1) sqrt(tau), dV/dsigma per unit of volatility.
 * At tau <= 0 or sigma <= 0: delta of the intrinsic value (1, -1 or 0 in the
 * money, 0 out of it), gamma = vega = 0. */
void im_black76_greeks(double f, double k, double sigma, double tau, int call, double *delta,
                       double *gamma, double *vega);

/* Smile: sigma(K) = atm * max(IM_SMILE_FLOOR, 1 + a x + b x^2) with
 * x = ln(K/F) / sqrt(tau): skew a and curvature b in standardised moneyness,
 * so one pair of numbers spans tenors. */
typedef struct {
  double a, b;
} im_smile;

#define IM_SMILE_FLOOR 0.2

/* Fitted by `imvar smile fit` to the Deribit BTC chain of 2024-03-12
 * (data/market/btc_options_deribit_chain_snapshot_2024-03-12.csv): README,
 * "Options". */
extern const im_smile im_smile_deribit;
extern const im_smile im_smile_flat;

double im_smile_factor(const im_smile *s, double k_over_f, double tau);

/* Points (x, ratio) of an option chain for the fit: within each expiry group
 * (rows with the same group id, same tau and forward f), the ATM volatility
 * is the implied vol interpolated linearly in ln K at K = f between the two
 * strikes around f; each row then gives x = ln(K/f)/sqrt(tau) and
 * ratio = iv / atm. Groups without strikes on both sides of f are skipped.
 * x and ratio have room for n; *m is the number of points. */
void im_smile_points(const int *group, const double *tau, const double *f, const double *k,
                     const double *iv, size_t n, double *x, double *ratio, size_t *m);

/* Least-squares fit of ratio - 1 = a x + b x^2 over n points (x, ratio);
 * rms is the root-mean-square residual. IM_EINVAL with fewer than 3 points. */
im_status im_smile_fit(const double *x, const double *ratio, size_t n, im_smile *out, double *rms,
                       im_err *err);

#endif
