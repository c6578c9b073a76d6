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
#include <string.h>

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

/* The readers are inline: the caches hold millions of numbers, and a
 * call per number was a tenth of decoding them. */

/** Tells whether 'n' more bytes are there; marks the reader bad if not. */
static inline bool ws_bin_need(ws_bin_reader *r, size_t n) {
  if (!r->bad && r->len - r->pos < n)
    r->bad = true;
  return !r->bad;
}

/* 'n' (4 or 8) bytes, little-endian: on a little-endian machine one load,
 * elsewhere put together byte by byte. */
static inline uint64_t ws_bin__get_le(ws_bin_reader *r, size_t n) {
  uint64_t v = 0;
  if (!ws_bin_need(r, n))
    return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n == 8) {
    memcpy(&v, r->p + r->pos, 8);
  } else {
    uint32_t w;
    memcpy(&w, r->p + r->pos, 4);
    v = w;
  }
#else
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)(unsigned char)r->p[r->pos + i] << (8 * i);
#endif
  r->pos += n;
  return v;
}

/** Reads one byte. */
static inline unsigned ws_bin_get_u8(ws_bin_reader *r) {
  return ws_bin_need(r, 1) ? (unsigned char)r->p[r->pos++] : 0;
}

/** Reads 4 bytes, little-endian. */
static inline uint32_t ws_bin_get_u32(ws_bin_reader *r) {
  return (uint32_t)ws_bin__get_le(r, 4);
}

/** Reads 8 bytes, little-endian. */
static inline uint64_t ws_bin_get_u64(ws_bin_reader *r) {
  return ws_bin__get_le(r, 8);
}

/** Reads 16 bytes written by ws_bin_put_digest. */
static inline ws_digest ws_bin_get_digest(ws_bin_reader *r) {
  ws_digest d;
  d.hi = ws_bin_get_u64(r);
  d.lo = ws_bin_get_u64(r);
  return d;
}

/** Points at the next 'len' bytes and steps over them, or NULL when they
 * are not there. */
static inline const char *ws_bin_get_span(ws_bin_reader *r, size_t len) {
  if (!ws_bin_need(r, len))
    return NULL;
  const char *s = r->p + r->pos;
  r->pos += len;
  return s;
}

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

/** Like ws_bin_write_file, for a file that only one build writes or reads
 * at a time (under a lock of its own): the old file is removed before the
 * new one takes its name, which spares ext4 writing the new one's data
 * out during the rename (2 ms for a 2.7 MB file). A crash in between
 * leaves no file, never a part of one. */
bool ws_bin_write_alone(const char *dir, const char *path, const char *data,
                        size_t len);

/* A run of bytes of a file written in parts. */
typedef struct {
  const char *data;
  size_t len;
} ws_bin_part;

/** Like ws_bin_write_file, for the 'n' parts joined: a cache that keeps
 * most of the file it read writes that part from where it lies instead of
 * copying it into one buffer first. */
bool ws_bin_write_parts(const char *dir, const char *path,
                        const ws_bin_part *parts, size_t n);

#endif
