#include "str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Pages are written a few bytes at a time, millions of times a build:
 * growing is called only when the room runs out. */
void ws_str_put(ws_str *s, const char *data, size_t len) {
  if (len == 0)
    return;
  if (s->len + len >= s->cap)
    ws_str_grow(s, len);
  memmove(s->ptr + s->len, data, len);
  s->len += len;
  s->ptr[s->len] = '\0';
}

/* Writes 'u' in decimal into 'buf' (room for 20), last digit first;
 * returns how many digits. */
static size_t digits_reversed(char *buf, unsigned long long u) {
  size_t len = 0;
  do {
    buf[len++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  return len;
}

/* Two digits at a time, from the end: the manifest holds 31,000 numbers
 * at 10,000 profiles (folders' inodes and change times), written on every
 * build. */
void ws_str_put_uint(ws_str *s, unsigned long long n) {
  static const char pairs[] = "00010203040506070809"
                              "10111213141516171819"
                              "20212223242526272829"
                              "30313233343536373839"
                              "40414243444546474849"
                              "50515253545556575859"
                              "60616263646566676869"
                              "70717273747576777879"
                              "80818283848586878889"
                              "90919293949596979899";
  char text[24];
  size_t at = sizeof(text);
  while (n >= 100) {
    unsigned d = (unsigned)(n % 100) * 2;
    n /= 100;
    text[--at] = pairs[d + 1];
    text[--at] = pairs[d];
  }
  if (n >= 10) {
    text[--at] = pairs[n * 2 + 1];
    text[--at] = pairs[n * 2];
  } else {
    text[--at] = (char)('0' + n);
  }
  ws_str_put(s, text + at, sizeof(text) - at);
}

void ws_str_put_int(ws_str *s, long long n, int width) {
  char buf[24];
  unsigned long long u =
      n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
  size_t len = digits_reversed(buf, u);
  size_t digits = width > 0 ? (size_t)width - (n < 0) : 0;
  while (len < digits && len < sizeof(buf))
    buf[len++] = '0';
  char text[sizeof(buf) + 1];
  size_t k = 0;
  if (n < 0)
    text[k++] = '-';
  while (len)
    text[k++] = buf[--len];
  ws_str_put(s, text, k);
}

void ws_str_puts(ws_str *s, const char *cstr) {
  ws_str_put(s, cstr, strlen(cstr));
}

void ws_str_putc(ws_str *s, char c) {
  if (s->len + 1 >= s->cap)
    ws_str_grow(s, 1);
  s->ptr[s->len++] = c;
  s->ptr[s->len] = '\0';
}

/* Formatting twice, once to measure and once to write, was 8% of a small
 * build's instructions (URLs, labels, dates): the text is formatted
 * where it will go, or on the stack when the string has no room yet, and
 * again only when it did not fit. */
void ws_str_vprintf(ws_str *s, const char *fmt, va_list ap) {
  char local[256];
  size_t room = s->cap ? s->cap - s->len : sizeof(local);
  char *at = s->cap ? s->ptr + s->len : local;
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(at, room, fmt, copy);
  va_end(copy);
  if (n <= 0) {
    if (s->cap) /* an encoding error may leave a piece behind */
      s->ptr[s->len] = '\0';
    return;
  }
  if ((size_t)n < room) {
    if (at == local)
      ws_str_put(s, local, (size_t)n);
    else
      s->len += (size_t)n;
    return;
  }
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

#ifdef __SSE2__
/* Bit k set when p[k] is one of the bytes escaping replaces. */
static unsigned special_bits(const unsigned char *p) {
  const __m128i x = _mm_loadu_si128((const void *)p);
  __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('&')),
                   _mm_cmpeq_epi8(x, _mm_set1_epi8('<'))),
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('>')),
                                _mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
                   _mm_cmpeq_epi8(x, _mm_set1_epi8('\''))));
  return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* The first byte of u[i, len) that escaping replaces, or len. With SSE2
 * (every x86-64), sixteen bytes are looked at in one step, the last sixteen
 * of a text as well (overlapping what was looked at): escaping was the
 * largest single cost of rendering pages. */
static size_t next_special(const unsigned char *u, size_t i, size_t len) {
#ifdef __SSE2__
  for (; len - i >= 16; i += 16) {
    unsigned bits = special_bits(u + i);
    if (bits)
      return i + (size_t)__builtin_ctz(bits);
  }
  if (len >= 16 && i < len) {
    size_t at = len - 16; /* i - at is 1 to 15 */
    unsigned bits = special_bits(u + at) >> (i - at);
    return bits ? i + (size_t)__builtin_ctz(bits) : len;
  }
#endif
  while (i < len && !html_special[u[i]])
    i++;
  return i;
}

void ws_str_put_html(ws_str *s, const char *data, size_t len) {
  const unsigned char *u = (const unsigned char *)data;
  size_t start = 0, i = 0;
  if (s->len + len >= s->cap)
    ws_str_grow(s, len);
  for (;;) {
    i = next_special(u, i, len);
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
