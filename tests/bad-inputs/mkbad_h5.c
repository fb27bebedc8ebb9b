/* Makes damaged copies of a results.h5 or market.h5 for the bad-input
 * catalogue: another format or version, missing or mis-shaped datasets,
 * attributes out of range, another validation layout, absurd dimensions.
 * usage: mkbad_h5 MODE IN OUT   (OUT is a copy of IN, then damaged) */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy(const char *in, const char *out) {
  FILE *a = fopen(in, "rb"), *b = fopen(out, "wb");
  char buf[1 << 16];
  size_t n;
  int ok = a && b;
  while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
  if (a) fclose(a);
  if (b && fclose(b) != 0) ok = 0;
  return ok ? 0 : -1;
}

static herr_t set_str(hid_t obj, const char *name, const char *v) {
  if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return -1;
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(v) + 1);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t e = a < 0 ? -1 : H5Awrite(a, t, v);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
  return e;
}

static herr_t set_num(hid_t obj, const char *name, hid_t type, const void *v) {
  if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) return -1;
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t e = a < 0 ? -1 : H5Awrite(a, type, v);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return e;
}

/* Replaces dataset `name` by an empty one of `type` and the given shape. */
static herr_t replace(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                      int chunked) {
  if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0) return -1;
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (chunked) {
    hsize_t chunk[2] = {1, 1024};
    H5Pset_chunk(dcpl, rank, rank == 1 ? chunk + 1 : chunk);
  }
  hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  if (d < 0) return -1;
  return H5Dclose(d);
}

/* The name of the first model group. */
static hid_t first_model(hid_t f) {
  hid_t gm = H5Gopen2(f, "models", H5P_DEFAULT);
  char name[256] = "";
  if (gm < 0 || H5Lget_name_by_idx(gm, ".", H5_INDEX_NAME, H5_ITER_INC, 0, name, sizeof name,
                                   H5P_DEFAULT) <= 0)
    return -1;
  hid_t g = H5Gopen2(gm, name, H5P_DEFAULT);
  H5Gclose(gm);
  return g;
}

static hsize_t extent(hid_t loc, const char *name, int dim) {
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  hsize_t dims[2] = {0, 0};
  if (d >= 0) {
    hid_t sp = H5Dget_space(d);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
  }
  return dims[dim];
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: mkbad_h5 MODE IN OUT\n");
    return 2;
  }
  const char *mode = argv[1];
  if (copy(argv[2], argv[3]) != 0) {
    fprintf(stderr, "mkbad_h5: cannot copy %s to %s\n", argv[2], argv[3]);
    return 1;
  }
  hid_t f = H5Fopen(argv[3], H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return 1;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  herr_t e = 0;
  const long two = 2;
  const double bad_conf = 1.5;
  if (strcmp(mode, "version2") == 0) {
    e = set_num(f, "format_version", H5T_NATIVE_LONG, &two);
  } else if (strcmp(mode, "format-other") == 0) {
    e = set_str(f, "format", "netcdf-results");
  } else if (strcmp(mode, "no-format") == 0) {
    e = H5Adelete(f, "format");
  } else if (strcmp(mode, "no-models") == 0) {
    e = H5Ldelete(f, "models", H5P_DEFAULT);
  } else if (strcmp(mode, "no-dates") == 0) {
    e = H5Ldelete(f, "dates", H5P_DEFAULT);
  } else if (strcmp(mode, "no-close") == 0) { /* market.h5 */
    e = H5Ldelete(f, "close", H5P_DEFAULT);
  } else if (strcmp(mode, "dates-2d") == 0) {
    hsize_t d[2] = {extent(f, "dates", 0), 2};
    e = replace(f, "dates", H5T_NATIVE_INT32, 2, d, 0);
  } else if (strcmp(mode, "ids-int") == 0) {
    hsize_t d[1] = {extent(f, "portfolios/id", 0)};
    hid_t g = H5Gopen2(f, "portfolios", H5P_DEFAULT);
    e = g < 0 ? -1 : replace(g, "id", H5T_NATIVE_INT32, 1, d, 0);
    if (g >= 0) H5Gclose(g);
  } else if (strcmp(mode, "im-misshaped") == 0) {
    hid_t g = first_model(f);
    hsize_t d[2] = {extent(g, "im", 0), extent(g, "im", 1) + 1};
    e = g < 0 ? -1 : replace(g, "im", H5T_NATIVE_DOUBLE, 2, d, 0);
    if (g >= 0) H5Gclose(g);
  } else if (strcmp(mode, "kind-unknown") == 0) {
    hid_t g = first_model(f);
    e = g < 0 ? -1 : set_str(g, "kind", "garch");
    if (g >= 0) H5Gclose(g);
  } else if (strcmp(mode, "confidence-bad") == 0) {
    hid_t g = first_model(f);
    e = g < 0 ? -1 : set_num(g, "confidence", H5T_NATIVE_DOUBLE, &bad_conf);
    if (g >= 0) H5Gclose(g);
  } else if (strcmp(mode, "validation-layout") == 0) {
    /* A validation table of another (older or newer) layout: one field. */
    hid_t g = first_model(f);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(int64_t));
    H5Tinsert(t, "observations", 0, H5T_NATIVE_INT64);
    hsize_t d[1] = {extent(g, "im", 0)};
    e = g < 0 ? -1 : replace(g, "validation", t, 1, d, 0);
    H5Tclose(t);
    if (g >= 0) H5Gclose(g);
  } else if (strcmp(mode, "huge-dims") == 0 || strcmp(mode, "sparse") == 0) {
    /* Dimensions no run could have made (2^31 dates), or plausible ones (2.9
     * million dates) whose data the file does not hold: chunked, unallocated. */
    hsize_t nd = strcmp(mode, "sparse") == 0 ? 2900000 : (hsize_t)1 << 31, d1[1] = {nd};
    e = replace(f, "dates", H5T_NATIVE_INT32, 1, d1, 1);
    hid_t gm = H5Gopen2(f, "models", H5P_DEFAULT);
    for (hsize_t i = 0; gm >= 0 && e >= 0; i++) {
      char name[256];
      if (H5Lget_name_by_idx(gm, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                             H5P_DEFAULT) <= 0)
        break;
      hid_t g = H5Gopen2(gm, name, H5P_DEFAULT);
      hsize_t d2[2] = {extent(g, "im", 0), nd};
      const char *ds[] = {"im", "pnl", "exceed", "apc", "exceed_total"};
      for (int k = 0; k < 5 && e >= 0; k++)
        if (H5Lexists(g, ds[k], H5P_DEFAULT) > 0)
          e = replace(g, ds[k], k == 2 || k == 4 ? H5T_NATIVE_INT8 : H5T_NATIVE_DOUBLE, 2, d2, 1);
      H5Gclose(g);
    }
    if (gm >= 0) H5Gclose(gm);
  } else {
    fprintf(stderr, "mkbad_h5: unknown mode %s\n", mode);
    e = -1;
  }
  if (H5Fclose(f) < 0 || e < 0) {
    fprintf(stderr, "mkbad_h5 %s: failed\n", mode);
    return 1;
  }
  return 0;
}
