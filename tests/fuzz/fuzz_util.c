#include "fuzz_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static char path[512];

static void cleanup(void) {
  if (path[0]) unlink(path);
  if (dir[0]) rmdir(dir);
}

const char *im_fuzz_write(const char *name, const void *data, size_t size) {
  if (!dir[0]) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/imvar-fuzz-%ld", base ? base : "/tmp", (long)getpid());
    if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) im_fuzz_fail("cannot create", dir);
    atexit(cleanup);
  }
  if (path[0]) unlink(path);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) im_fuzz_fail("cannot create", path);
  const char *p = data;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n <= 0) im_fuzz_fail("cannot write", path);
    p += n;
    size -= (size_t)n;
  }
  close(fd);
  return path;
}

void im_fuzz_fail(const char *what, const char *detail) {
  fprintf(stderr, "imvar fuzz: invariant violated: %s: %s\n", what, detail);
  abort();
}
