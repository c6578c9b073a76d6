/* binio.h - the byte layout of wholeself's cache files.
 *
 * The history, profile and mentoring caches are files that any process (or
 * a damaged disk) may have written, so they are read with a cursor that
 * checks every length against what is left and stays "bad" after the first
 * short read. Numbers are little-endian, whatever the machine.
 */
#ifndef WS_BINIO_H
#define WS_BINIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "str.h"

/** Appends 'v' as one byte. */
void ws_bin_put_u8(ws_str *b, unsigned v);
/** Appends 'v' as 4 bytes, little-endian. */
void ws_bin_put_u32(ws_str *b, uint32_t v);
/** Appends 'v' as 8 bytes, little-endian. */
void ws_bin_put_u64(ws_str *b, uint64_t v);
/** Appends 'd' as 16 bytes. */
void ws_bin_put_digest(ws_str *b, const ws_digest *d);

/* A cursor over 'len' bytes at 'p'; once 'bad', every read gives 0. */
typedef struct {
  const char *p;
  size_t len, pos;
  bool bad;
} ws_bin_reader;

/** Tells whether 'n' more bytes are there; marks the reader bad if not. */
bool ws_bin_need(ws_bin_reader *r, size_t n);
/** Reads one byte. */
unsigned ws_bin_get_u8(ws_bin_reader *r);
/** Reads 4 bytes, little-endian. */
uint32_t ws_bin_get_u32(ws_bin_reader *r);
/** Reads 8 bytes, little-endian. */
uint64_t ws_bin_get_u64(ws_bin_reader *r);
/** Reads 16 bytes written by ws_bin_put_digest. */
ws_digest ws_bin_get_digest(ws_bin_reader *r);
/** Points at the next 'len' bytes and steps over them, or NULL when they
 * are not there. */
const char *ws_bin_get_span(ws_bin_reader *r, size_t len);

/** Reads the whole file 'path' into 'out'. Returns NULL, or why it could
 * not: "missing" or "unreadable". */
const char *ws_bin_read_file(ws_str *out, const char *path);
/* A file mapped into memory, read-only. */
typedef struct {
  const char *ptr; /* not NUL-terminated */
  size_t len;
} ws_bin_map;

/** Maps the whole file 'path' into 'out' (an empty file maps to no
 * bytes). Returns NULL, or why it could not: "missing" or "unreadable".
 * Cache files are only ever replaced by a rename or appended to, never
 * rewritten or cut short in place, so the bytes mapped do not change
 * under the reader. Unmap with ws_bin_unmap. */
const char *ws_bin_map_file(ws_bin_map *out, const char *path);
/** Unmaps 'm' and zeroes it; a zeroed map does nothing. */
void ws_bin_unmap(ws_bin_map *m);
/** Writes 'len' bytes of 'data' to 'path' through a temporary file beside
 * it and a rename, making folder 'dir' first if needed, so that a
 * concurrent build reads the old file or the new one, never half of one.
 * Returns false, leaving nothing behind, when it cannot: a cache that
 * cannot be saved is not an error. */
bool ws_bin_write_file(const char *dir, const char *path, const char *data,
                       size_t len);

#endif
