/* A user's P&L and margin series for `imvar stats`: CSV with a header holding
 * `pnl` and `margin` columns (an exceedance is -pnl > margin, strictly), or,
 * when there are no such columns, a `hit` column of 0/1; optional columns
 * `var` (the VaR on the loss side), `es` (the ES on the loss side, > 0 and
 * >= var) and `pit` (the P&L's probability integral transform, in [0, 1]).
 * Other columns are ignored. An empty cell, or NaN written out, in any of
 * these columns marks the whole day as not observed; anything else must be a
 * finite number (margin >= 0, hit 0 or 1). */
#ifndef IM_SERIES_IO_H
#define IM_SERIES_IO_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

typedef struct {
  size_t n;
  int8_t *hits;   /* [n] 1, 0, -1 not observed */
  double *pnl;    /* [n] or NULL for a hit series */
  double *margin; /* [n] or NULL */
  double *var;    /* [n] or NULL without a `var` column */
  double *es;     /* [n] or NULL without an `es` column */
  double *pit;    /* [n] or NULL without a `pit` column */
} im_user_series;

im_status im_user_series_read_csv(const char *path, im_user_series *out, im_err *err);
void im_user_series_clear(im_user_series *s);

#endif
