#include "str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

char ws_str__empty[1];

void ws_str_grow(ws_str *s, size_t extra) {
  size_t need = s->len + extra + 1;
  if (need <= s->cap)
    return;
  size_t cap = s->cap ? s->cap : 64;
  while (cap < need)
    cap = cap / 2 * 3 + 16;
  if (s->cap == 0) {
    char *p = ws_xmalloc(cap);
    memcpy(p, s->ptr, s->len + 1);
    s->ptr = p;
  } else {
    s->ptr = ws_xrealloc(s->ptr, cap);
  }
  s->cap = cap;
}

void ws_str_put(ws_str *s, const char *data, size_t len) {
  if (len == 0)
    return;
  ws_str_grow(s, len);
  memmove(s->ptr + s->len, data, len);
  s->len += len;
  s->ptr[s->len] = '\0';
}

void ws_str_put_int(ws_str *s, long long n, int width) {
  char buf[24];
  size_t len = 0;
  unsigned long long u =
      n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
  do {
    buf[len++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  size_t digits = width > 0 ? (size_t)width - (n < 0) : 0;
  while (len < digits && len < sizeof(buf))
    buf[len++] = '0';
  if (n < 0)
    ws_str_putc(s, '-');
  while (len)
    ws_str_putc(s, buf[--len]);
}

void ws_str_puts(ws_str *s, const char *cstr) {
  ws_str_put(s, cstr, strlen(cstr));
}

void ws_str_putc(ws_str *s, char c) {
  ws_str_grow(s, 1);
  s->ptr[s->len++] = c;
  s->ptr[s->len] = '\0';
}

void ws_str_vprintf(ws_str *s, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n <= 0)
    return;
  ws_str_grow(s, (size_t)n);
  vsnprintf(s->ptr + s->len, (size_t)n + 1, fmt, ap);
  s->len += (size_t)n;
}

void ws_str_printf(ws_str *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ws_str_vprintf(s, fmt, ap);
  va_end(ap);
}

/* Which bytes HTML escaping replaces, and with what: pages escape tens of
 * megabytes of text, nearly all of it plain, so the scan between two
 * special bytes is a table lookup per byte, and plain runs are copied
 * whole. */
static const unsigned char html_special[256] = {
    ['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5};
static const char *const html_entity[] = {"",     "&amp;",  "&lt;",
                                          "&gt;", "&quot;", "&#39;"};

void ws_str_put_html(ws_str *s, const char *data, size_t len) {
  const unsigned char *u = (const unsigned char *)data;
  size_t start = 0, i = 0;
  ws_str_grow(s, len);
  for (;;) {
    while (i < len && !html_special[u[i]])
      i++;
    ws_str_put(s, data + start, i - start);
    if (i == len)
      return;
    ws_str_puts(s, html_entity[html_special[u[i]]]);
    start = ++i;
  }
}

void ws_str_put_json(ws_str *s, const char *data, size_t len) {
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)data[i];
    /* '<' and '>' are escaped too, so JSON inlined in a page cannot close a
     * script element. */
    if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&')
      continue;
    ws_str_put(s, data + start, i - start);
    switch (c) {
    case '"':
      ws_str_puts(s, "\\\"");
      break;
    case '\\':
      ws_str_puts(s, "\\\\");
      break;
    case '\n':
      ws_str_puts(s, "\\n");
      break;
    case '\r':
      ws_str_puts(s, "\\r");
      break;
    case '\t':
      ws_str_puts(s, "\\t");
      break;
    default:
      ws_str_printf(s, "\\u%04x", c);
      break;
    }
    start = i + 1;
  }
  ws_str_put(s, data + start, len - start);
}

void ws_str_clear(ws_str *s) {
  ws_str_truncate(s, 0);
}

void ws_str_truncate(ws_str *s, size_t len) {
  if (len >= s->len)
    return;
  s->len = len;
  s->ptr[len] = '\0';
}

void ws_str_release(ws_str *s) {
  if (s->cap)
    free(s->ptr);
  s->ptr = ws_str__empty;
  s->len = s->cap = 0;
}

char *ws_str_detach(ws_str *s) {
  char *p = s->cap ? s->ptr : ws_xstrdup("");
  s->ptr = ws_str__empty;
  s->len = s->cap = 0;
  return p;
}

bool ws_str_eq(const ws_str *s, const char *cstr) {
  size_t n = strlen(cstr);
  return n == s->len && memcmp(s->ptr, cstr, n) == 0;
}

uint32_t ws_str_hash32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

uint64_t ws_str_hash(const char *s) {
  uint64_t h = 14695981039346656037u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}
