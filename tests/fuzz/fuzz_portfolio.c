/* libFuzzer harness: the portfolio parser (im_book_read_csv) against a small
 * market of BTC, ETH and SOL with implied vols. Checks the book it returns:
 * grouped positions covering every row once, known instruments, finite
 * quantities in range, unique printable UTF-8 ids; and that an error names
 * the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "fuzz_util.h"
#include "portfolio_io.h"

#define ND 10

static im_market market(void) {
  static char und[3][IM_NAME_LEN] = {"BTC", "ETH", "SOL"};
  static double close[3 * ND], ivol[3 * ND];
  for (int i = 0; i < 3 * ND; i++) {
    close[i] = 100 + i;
    ivol[i] = 0.5;
  }
  im_market m = {.n_und = 3, .n_days = ND, .day0 = 19000, .und = und, .close = close,
                 .ivol = ivol, .funding = NULL};
  return m;
}

static int utf8_printable(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  for (; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = im_fuzz_write("portfolios.csv", data, size);
  const im_market m = market();
  im_book b;
  im_err err = {""};
  if (im_book_read_csv(path, &m, &b, &err) != IM_OK) {
    if (!strstr(err.msg, path)) im_fuzz_fail("error message without the file name", err.msg);
    if (b.n_port || b.id || b.instr || b.pos_start) im_fuzz_fail("failed read left data", "");
    return 0;
  }
  if (b.n_port == 0 || b.n_instr == 0 || b.pos_start[0] != 0) im_fuzz_fail("empty book", "");
  for (size_t p = 0; p < b.n_port; p++) {
    if (b.pos_start[p + 1] <= b.pos_start[p]) im_fuzz_fail("portfolio without positions", b.id[p]);
    if (memchr(b.id[p], '\0', IM_PORT_ID_LEN) == NULL || b.id[p][0] == '\0')
      im_fuzz_fail("id not terminated or empty", "");
    if (!utf8_printable(b.id[p])) im_fuzz_fail("id with a control character", "");
    for (size_t q = 0; q < p && b.n_port < 2000; q++)
      if (strcmp(b.id[p], b.id[q]) == 0) im_fuzz_fail("id twice", b.id[p]);
    for (size_t k = b.pos_start[p]; k < b.pos_start[p + 1]; k++) {
      if (b.pos_instr[k] >= b.n_instr) im_fuzz_fail("instrument index out of range", b.id[p]);
      if (!isfinite(b.pos_qty[k]) || fabs(b.pos_qty[k]) > IM_MAX_VALUE)
        im_fuzz_fail("quantity out of range", b.id[p]);
    }
    (void)im_book_underlyings(&b, p);
  }
  for (size_t i = 0; i < b.n_instr; i++) {
    if (b.instr[i].und >= m.n_und) im_fuzz_fail("underlying index out of range", "");
    char name[128];
    im_instrument_name(&m, b.instr[i], name, sizeof name);
    im_instrument again;
    if (im_instrument_parse(&m, name, &again, NULL) != IM_OK || again.kind != b.instr[i].kind ||
        again.und != b.instr[i].und || again.tenor != b.instr[i].tenor)
      im_fuzz_fail("instrument name does not parse back", name);
  }
  im_book_clear(&b);
  return 0;
}
