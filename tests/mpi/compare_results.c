/* Compares two results.h5 files byte for byte on what must not depend on the
 * rank count or the tiling: /dates, /portfolios/id and, for every model,
 * im, pnl, exceed and validation. Prints the first difference; exit 0 if
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
  for (hsize_t i = 0; i < info.nlinks && !rc; i++) {
    char name[256];
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    /* The first five always exist; the others only with h > 1, an APC
     * layer or add-ons, and then must exist in both files. */
    const char *sets[] = {"im", "pnl", "exceed", "validation", "summary", "validation_subsamples",
                          "apc", "exceed_total", "validation_total", "summary_total",
                          "addon_liquidity", "addon_concentration"};
    for (size_t k = 0; k < 12 && !rc; k++) {
      char path[512];
      snprintf(path, sizeof path, "models/%s/%s", name, sets[k]);
      if (k >= 5 && H5Lexists(a, path, H5P_DEFAULT) <= 0 && H5Lexists(b, path, H5P_DEFAULT) <= 0)
        continue;
      rc = same(a, b, path);
      checked++;
    }
  }
  H5Gclose(g);
  H5Fclose(a);
  H5Fclose(b);
  if (!rc) printf("compare: identical (%zu model datasets, plus dates and ids)\n", checked);
  return rc;
}
