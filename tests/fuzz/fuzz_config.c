/* libFuzzer harness: the configuration parser (im_config_load: libyaml, the
 * dotted-key flattening, --set overrides, interpretation). The input is the
 * YAML text, then optionally NUL-separated --set overrides. Checks that a
 * loaded configuration is within the documented ranges, that the effective
 * text starts with the file, and that an error says where. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

#define MAX_SETS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *nul = memchr(data, '\0', size);
  const size_t ylen = nul ? (size_t)(nul - (const char *)data) : size;
  const char *path = im_fuzz_write("config.yaml", data, ylen);
  /* The overrides: NUL-terminated copies of the rest. */
  char *sets[MAX_SETS];
  size_t n = 0;
  for (size_t at = ylen + 1; nul && at <= size && n < MAX_SETS;) {
    const char *s = (const char *)data + at;
    const char *e = memchr(s, '\0', size - at);
    size_t len = e ? (size_t)(e - s) : size - at;
    sets[n] = malloc(len + 1);
    if (!sets[n]) break;
    memcpy(sets[n], s, len);
    sets[n++][len] = '\0';
    at += len + 1;
  }
  static im_config c;
  im_err err = {""};
  if (im_config_load(path, sets, n, &c, &err) != IM_OK) {
    if (!strstr(err.msg, path) && strncmp(err.msg, "--set ", 6) != 0 &&
        strncmp(err.msg, "configuration:", 14) != 0 && !strstr(err.msg, "out of memory"))
      im_fuzz_fail("error message names neither the file, the override nor the key", err.msg);
    if (c.text) im_fuzz_fail("failed load left the text", "");
  } else {
    if (c.n_models < 1 || c.n_models > IM_MAX_MODELS) im_fuzz_fail("model count", "");
    if (!c.market[0] || !c.portfolios[0] || !c.output[0]) im_fuzz_fail("empty path", "");
    for (size_t m = 0; m < c.n_models; m++) {
      const im_model *md = &c.models[m];
      if (!(md->confidence > 0 && md->confidence < 1)) im_fuzz_fail("confidence", md->name);
      if (md->horizon < 1 || md->horizon > 365) im_fuzz_fail("horizon", md->name);
      if (md->window < 1 || md->window > 100000) im_fuzz_fail("window", md->name);
      if (!md->name[0] || strlen(md->name) >= IM_NAME_LEN) im_fuzz_fail("model name", "");
    }
    if (!c.text || strncmp(c.text, (const char *)data, ylen) != 0)
      im_fuzz_fail("effective configuration does not start with the file", "");
    im_config_clear(&c);
  }
  for (size_t i = 0; i < n; i++) free(sets[i]);
  return 0;
}
