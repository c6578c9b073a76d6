/* xalloc.h - allocators that abort on out-of-memory.
 *
 * Callers never check what these return: running out of memory ends the
 * process with a message, so appends and builders cannot fail.
 */
#ifndef WS_XALLOC_H
#define WS_XALLOC_H

#include <stddef.h>

/** Allocates 'size' bytes; aborts when memory is exhausted. */
void *ws_xmalloc(size_t size);
/** Allocates 'n' zeroed elements of 'size' bytes; aborts on overflow or OOM. */
void *ws_xcalloc(size_t n, size_t size);
/** Resizes 'ptr' to 'size' bytes; aborts when memory is exhausted. */
void *ws_xrealloc(void *ptr, size_t size);
/** Resizes 'ptr' to 'n' elements of 'size' bytes; aborts on overflow. */
void *ws_xreallocarray(void *ptr, size_t n, size_t size);
/** Duplicates the NUL-terminated 's'. */
char *ws_xstrdup(const char *s);
/** Duplicates 'len' bytes of 's' and adds a NUL. */
char *ws_xstrndup(const char *s, size_t len);

#endif
