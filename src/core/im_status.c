#include "im_status.h"

#include <stdio.h>

const char *im_strerror(im_status s) {
  switch (s) {
#define IM_STATUS_CASE(name, value, text) \
  case name:                              \
    return text;
    IM_STATUS_MAP(IM_STATUS_CASE)
#undef IM_STATUS_CASE
  }
  return "unknown status";
}

im_status im_err_set(im_err *e, im_status s, const char *fmt, ...) {
  if (e) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return s;
}
