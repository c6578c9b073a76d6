/* str.h - a growable byte buffer that is always NUL-terminated.
 *
 * Appends cannot fail: out of memory aborts in xalloc.
 */
#ifndef WS_STR_H
#define WS_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  char *ptr;  /* never NULL; ptr[len] == '\0' */
  size_t len; /* bytes used, excluding the NUL */
  size_t cap; /* 0: ptr is the shared empty string */
} ws_str;

extern char ws_str__empty[1];
#define WS_STR_INIT                                                            \
  { ws_str__empty, 0, 0 }

/** Makes room for 'extra' more bytes after the current contents. */
void ws_str_grow(ws_str *s, size_t extra);
/** Appends 'len' bytes of 'data'. */
void ws_str_put(ws_str *s, const char *data, size_t len);
/** Appends the NUL-terminated 'cstr'. */
void ws_str_puts(ws_str *s, const char *cstr);
/** Appends one byte. */
void ws_str_putc(ws_str *s, char c);
/** Appends 'n' in decimal, as printf's "%0*lld" with 'width' writes it:
 * zeros (after a minus sign) fill it to 'width' characters. For the
 * hundreds of thousands of dates and counts a build prints. */
void ws_str_put_int(ws_str *s, long long n, int width);
/** Appends 'n' in decimal: every value, 2^64 - 1 too. */
void ws_str_put_uint(ws_str *s, unsigned long long n);
/** Appends formatted text. */
void ws_str_printf(ws_str *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Appends formatted text from a va_list. */
void ws_str_vprintf(ws_str *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/** Appends 'len' bytes of 'data' escaped for HTML text and attributes. */
void ws_str_put_html(ws_str *s, const char *data, size_t len);
/** Appends 'len' bytes of 'data' as the inside of a JSON string. */
void ws_str_put_json(ws_str *s, const char *data, size_t len);
/** Empties 's' but keeps its allocation. */
void ws_str_clear(ws_str *s);
/** Cuts 's' to 'len' bytes (no-op when already shorter). */
void ws_str_truncate(ws_str *s, size_t len);
/** Frees the allocation; 's' equals WS_STR_INIT afterwards. */
void ws_str_release(ws_str *s);
/** Hands the allocation to the caller, who free()s it; 's' is reset. */
char *ws_str_detach(ws_str *s);
/** Tells whether 's' equals the NUL-terminated 'cstr'. */
bool ws_str_eq(const ws_str *s, const char *cstr);
/** Returns the FNV-1a hash of the NUL-terminated 's': for the slots of
 * in-memory hash tables (a spread, not a fingerprint; never stored). */
uint64_t ws_str_hash(const char *s);
/** The 32-bit FNV-1a hash of 's', where a table keeps one per entry or the
 * value must not change between versions (avatar hues). Never stored. */
uint32_t ws_str_hash32(const char *s);

#endif
