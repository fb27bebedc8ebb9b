/* Compares two results.h5 files byte for byte on what must not depend on the
 * rank count or the tiling: /dates, /portfolios/id and every dataset of every
 * model group (its tile layers, validation and summary tables, whatever their
 * names: a new layer is compared without naming it here); both files must
 * have the same datasets. Prints the first difference; exit 0 if
 * identical, 1 if not, 2 on a read error. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_all(hid_t f, const char *name, void **buf, size_t *len) {
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t t = H5Dget_type(d), s = H5Dget_space(d);
  hssize_t n = H5Sget_simple_extent_npoints(s);
  *len = (size_t)n * H5Tget_size(t);
  *buf = malloc(*len ? *len : 1);
  int rc = *buf && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) >= 0 ? 0 : -1;
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(d);
  return rc;
}

static int same(hid_t a, hid_t b, const char *name) {
  void *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  if (read_all(a, name, &x, &nx) < 0 || read_all(b, name, &y, &ny) < 0) {
    fprintf(stderr, "compare: cannot read %s\n", name);
    free(x);
    free(y);
    return 2;
  }
  int rc = 0;
  if (nx != ny) {
    fprintf(stderr, "compare: %s: %zu bytes vs %zu\n", name, nx, ny);
    rc = 1;
  } else if (memcmp(x, y, nx) != 0) {
    size_t i = 0;
    while (((char *)x)[i] == ((char *)y)[i]) i++;
    fprintf(stderr, "compare: %s differs first at byte %zu of %zu\n", name, i, nx);
    rc = 1;
  }
  free(x);
  free(y);
  return rc;
}

/* The number of links in group path of f, or -1. */
static long n_links(hid_t f, const char *path) {
  hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
  H5G_info_t info;
  long n = g >= 0 && H5Gget_info(g, &info) >= 0 ? (long)info.nlinks : -1;
  if (g >= 0) H5Gclose(g);
  return n;
}

/* Every dataset of /models/<name> in a, compared with b's; b may not have more. */
static int same_model(hid_t a, hid_t b, const char *name, size_t *checked) {
  char grp[300];
  snprintf(grp, sizeof grp, "models/%s", name);
  const long n = n_links(a, grp);
  if (n < 0 || n_links(b, grp) != n) {
    fprintf(stderr, "compare: %s: %ld datasets vs %ld\n", grp, n, n_links(b, grp));
    return 1;
  }
  hid_t g = H5Gopen2(a, grp, H5P_DEFAULT);
  int rc = 0;
  for (long i = 0; i < n && !rc; i++) {
    char ds[256], path[600];
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, ds, sizeof ds, H5P_DEFAULT);
    snprintf(path, sizeof path, "%s/%s", grp, ds);
    rc = same(a, b, path);
    (*checked)++;
  }
  H5Gclose(g);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: compare_results a.h5 b.h5\n");
    return 2;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t a = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t b = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
  if (a < 0 || b < 0) {
    fprintf(stderr, "compare: cannot open %s\n", a < 0 ? argv[1] : argv[2]);
    return 2;
  }
  int rc = same(a, b, "dates");
  if (!rc) rc = same(a, b, "portfolios/id");
  hid_t g = H5Gopen2(a, "models", H5P_DEFAULT);
  H5G_info_t info;
  size_t checked = 0;
  if (g < 0 || H5Gget_info(g, &info) < 0) return 2;
  if (!rc && n_links(b, "models") != (long)info.nlinks) {
    fprintf(stderr, "compare: %llu models vs %ld\n", (unsigned long long)info.nlinks, n_links(b, "models"));
    rc = 1;
  }
  for (hsize_t i = 0; i < info.nlinks && !rc; i++) {
    char name[256];
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    rc = same_model(a, b, name, &checked);
  }
  H5Gclose(g);
  H5Fclose(a);
  H5Fclose(b);
  if (!rc) printf("compare: identical (%zu model datasets, plus dates and ids)\n", checked);
  return rc;
}
