/* Shared by the libFuzzer harnesses: the parsers take file paths, so each
 * input is written to a file in /dev/shm (a RAM file system) first. */
#ifndef IM_FUZZ_UTIL_H
#define IM_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a file named `name` in this process's directory under
 * /dev/shm (or $TMPDIR when there is no /dev/shm) and returns its path; aborts
 * on failure. The directory is removed at exit. */
const char *im_fuzz_write(const char *name, const void *data, size_t size);

/* Aborts with a message: libFuzzer reports it as a crash, with the input. */
void im_fuzz_fail(const char *what, const char *detail);

#endif
