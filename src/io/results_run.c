#include "results_run.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"

static void attr_text(hid_t f, const char *name, char *buf, size_t len) {
  char *s = im_h5_attr_read_str_alloc(f, name);
  snprintf(buf, len, "%s", s ? s : "");
  free(s);
}

static im_status read_dates(hid_t f, const char *path, im_results_run *m, im_err *err) {
  hsize_t dt[1];
  hid_t d = im_h5_open_checked(f, "dates", 1, dt);
  im_status st = IM_OK;
  if (d < 0 || dt[0] != m->n_dates ||
      H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, m->dates) < 0)
    st = im_err_set(err, IM_EDATA, "%s: cannot read /dates", path);
  if (d >= 0) H5Dclose(d);
  return st;
}

im_status im_results_run_read(const char *path, size_t n_dates, im_results_run *m, im_err *err) {
  memset(m, 0, sizeof *m);
  m->ranks = m->seed = -1;
  m->n_dates = n_dates;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return im_err_set(err, IM_EIO, "%s: cannot reopen to read its attributes", path);
  attr_text(f, "imvar_version", m->imvar_version, sizeof m->imvar_version);
  attr_text(f, "git_revision", m->git_revision, sizeof m->git_revision);
  attr_text(f, "created", m->created, sizeof m->created);
  m->config = im_h5_attr_read_str_alloc(f, "config");
  if (!m->config) m->config = strdup("");
  im_h5_attr_read_int(f, "ranks", &m->ranks);
  im_h5_attr_read_int(f, "seed", &m->seed);
  m->dates = malloc((n_dates ? n_dates : 1) * sizeof *m->dates);
  im_status st = m->config && m->dates ? read_dates(f, path, m, err)
                                       : im_err_set(err, IM_ENOMEM, "out of memory");
  H5Fclose(f);
  return st;
}

void im_results_run_clear(im_results_run *m) {
  free(m->config);
  free(m->dates);
  m->config = NULL;
  m->dates = NULL;
}
