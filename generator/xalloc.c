#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t size) {
  fprintf(stderr, "wholeself: out of memory (%zu bytes)\n", size);
  abort();
}

void *ws_xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p)
    oom(size);
  return p;
}

void *ws_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    oom(n * size);
  return p;
}

void *ws_xrealloc(void *ptr, size_t size) {
  void *p = realloc(ptr, size ? size : 1);
  if (!p)
    oom(size);
  return p;
}

void *ws_xreallocarray(void *ptr, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size)
    oom(SIZE_MAX);
  return ws_xrealloc(ptr, n * size);
}

char *ws_xstrdup(const char *s) {
  return ws_xstrndup(s, strlen(s));
}

char *ws_xstrndup(const char *s, size_t len) {
  char *p = ws_xmalloc(len + 1);
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}
