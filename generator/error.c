#include "error.h"

#include <stdarg.h>
#include <stdio.h>

/* The only mutable global: one message slot per thread, so parallel
 * rendering never mixes messages. Fixed size is fine: it is truncated text. */
static _Thread_local char last[1024];

int ws_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last, sizeof(last), fmt, ap);
  va_end(ap);
  return code;
}

const char *ws_error_last(void) {
  return last;
}

void ws_error_clear(void) {
  last[0] = '\0';
}
