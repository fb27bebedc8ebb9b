/* Status codes and error detail shared by every layer.
 *
 * Fallible functions return im_status (0 = success, positive codes so that an
 * MPI_MAX reduction over ranks picks an error) and, when given a non-NULL
 * im_err, write one human-readable sentence saying what is wrong and where
 * ("file:line: ..."). core/ only formats into the buffer; it never prints. */
#ifndef IM_STATUS_H
#define IM_STATUS_H

#include <stdarg.h>

#define IM_STATUS_MAP(X)                                   \
  X(IM_OK, 0, "success")                                   \
  X(IM_EINVAL, 1, "invalid argument or configuration")     \
  X(IM_EDATA, 2, "invalid input data")                     \
  X(IM_ENOMEM, 3, "out of memory")                         \
  X(IM_EIO, 4, "input/output error")                       \
  X(IM_EMPI, 5, "MPI error")                               \
  X(IM_EINTERNAL, 6, "internal error")

typedef enum {
#define IM_STATUS_ENUM(name, value, text) name = value,
  IM_STATUS_MAP(IM_STATUS_ENUM)
#undef IM_STATUS_ENUM
} im_status;

/* One error sentence; large enough for a path, a line number and a reason. */
typedef struct {
  char msg[1024];
} im_err;

const char *im_strerror(im_status s);

/* Formats into e->msg (if e is non-NULL) and returns s, so callers can write
 * `return im_err_set(e, IM_EDATA, "%s:%zu: bad price", path, line);`. */
im_status im_err_set(im_err *e, im_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
