/* The run record of a results file for readers outside io/ (the report):
 * its root attributes and /dates, read serially once the file is complete. */
#ifndef IM_RESULTS_RUN_H
#define IM_RESULTS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "im_status.h"

typedef struct {
  char imvar_version[64], git_revision[64], created[64]; /* "" when absent */
  char *config;    /* the YAML text (malloc; "" when absent) */
  long ranks, seed; /* -1 when absent */
  int32_t *dates;  /* [n_dates] YYYYMMDD (malloc) */
  size_t n_dates;
} im_results_run;

/* Reads the attributes and /dates, which must hold n_dates entries (the
 * count im_results_n_dates gave): IM_EIO if the file cannot be opened,
 * IM_EDATA if /dates does not match. */
im_status im_results_run_read(const char *path, size_t n_dates, im_results_run *m, im_err *err);
void im_results_run_clear(im_results_run *m);

#endif
