/* What par.c and calibrate.c share and nothing else uses. */
#ifndef IM_PAR_INTERNAL_H
#define IM_PAR_INTERNAL_H

#include "par.h"
#include "tile.h"

/* Prepares model m for the job (its state and scratch) and reserves its
 * layers in tile. */
im_status im_par_prepare(const im_model *m, const im_job *job, im_model_state **state,
                         im_model_scratch **scratch, im_tile *tile, im_err *err);

#endif
