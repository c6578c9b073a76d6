/* digest.h - fingerprints: 128-bit hashes of bytes and of value trees.
 *
 * A page's fingerprint is the digest of everything it is rendered from
 * (program, templates, context); when it equals the one recorded for the
 * file already on disk, the page is not rendered again. The hash is xxHash's
 * XXH3-128 (libxxhash): fast enough to fingerprint every page of a large
 * site in a few milliseconds. It is not cryptographic; see docs/incremental.md
 * for why that is acceptable here.
 */
#ifndef WS_DIGEST_H
#define WS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

typedef struct {
  uint64_t hi, lo;
} ws_digest;

typedef struct ws_digester ws_digester;

/* A table of digests already computed for shared values, so a value that
 * many pages borrow (a person's card) is hashed once, not once per page. */
typedef struct ws_digest_memo ws_digest_memo;

/* A set of map keys: a digest that is given one leaves out the entries of
 * every map whose key is not in it (the count of entries stays in). */
typedef struct ws_digest_keys ws_digest_keys;

/** Starts a digest. Free with ws_digester_free. */
ws_digester *ws_digester_new(void);
/** Frees 'd'; NULL does nothing. */
void ws_digester_free(ws_digester *d);
/** Adds 'len' bytes, prefixed by their length so that adjacent fields can
 * never run into each other. */
void ws_digester_bytes(ws_digester *d, const void *data, size_t len);
/** Adds a NUL-terminated string (NULL adds the same as ""). */
void ws_digester_str(ws_digester *d, const char *s);
/** Adds another digest. */
void ws_digester_digest(ws_digester *d, const ws_digest *x);
/** Adds a text that may be missing: NULL and "" are told apart. */
void ws_digester_text(ws_digester *d, const char *s);
/** Adds a number. */
void ws_digester_num(ws_digester *d, unsigned long long n);
/** Adds how many texts 'items' holds ('n'), then each. */
void ws_digester_texts(ws_digester *d, char *const *items, size_t n);
/** Adds the tree 'v': types, strings, numbers and map keys in order (source
 * positions are left out: pages never show them). A borrowed value found in
 * 'memo' (may be NULL) adds its recorded digest instead of its contents.
 * With 'keys' (may be NULL: all), map entries with other keys are left
 * out. */
void ws_digester_value(ws_digester *d, const ws_value *v, ws_digest_memo *memo,
                       const ws_digest_keys *keys);
/** Adds 'len' bytes given in parts, each with ws_digester_part: the
 * same as ws_digester_bytes of them joined, without joining them. */
void ws_digester_parts(ws_digester *d, size_t len);
/** Adds the next of the parts announced by ws_digester_parts. */
void ws_digester_part(ws_digester *d, const void *data, size_t len);
/** Returns the digest of what was added and starts over. */
ws_digest ws_digester_end(ws_digester *d);

/** Returns the digest of 'len' bytes (as ws_digester_bytes hashes them:
 * length first), e.g. a cache file's checksum. */
ws_digest ws_digest_bytes(const void *data, size_t len);
/** Returns the digest of the tree 'v' (see ws_digester_value). */
ws_digest ws_digest_value(const ws_value *v, ws_digest_memo *memo,
                          const ws_digest_keys *keys);

/** Makes an empty key set. Free with ws_digest_keys_free. */
ws_digest_keys *ws_digest_keys_new(void);
/** Frees 'k'; NULL does nothing. */
void ws_digest_keys_free(ws_digest_keys *k);
/** Adds 'key' to 'k' (again is harmless). */
void ws_digest_keys_add(ws_digest_keys *k, const char *key);
/** Returns a digest of the keys in 'k' (NULL: of "every key"): equal
 * for two sets with the same keys, whatever order they were added in. */
ws_digest ws_digest_keys_id(const ws_digest_keys *k);
/** Tells whether 'key' is in 'k'. */
bool ws_digest_keys_has(const ws_digest_keys *k, const char *key);
/** Tells whether 'a' and 'b' are the same digest. */
bool ws_digest_equal(const ws_digest *a, const ws_digest *b);
/** Writes 'd' as 32 lowercase hex digits and a NUL into 'out'. */
void ws_digest_hex(const ws_digest *d, char out[33]);
/** Reads 32 hex digits at 's' into '*d'; false when they are not. */
bool ws_digest_parse(ws_digest *d, const char *s);
/** Sets '*out' to the digest of the running program's executable, so that
 * a different build of wholeself never trusts what an older one recorded.
 * Returns false when the executable cannot be read. */
bool ws_digest_program(ws_digest *out);

/** Makes a memo for the 'n' maps 'shared', which many trees borrow (a
 * person's card on every page that lists them). The first time a digester
 * meets one of them it hashes each of its entries once; after that the map
 * costs one small hash per entry, whatever the key set. Key sets filter
 * only the map's own keys: everything below an entry counts whole. Register
 * every value before sharing the memo; using it is thread-safe. Free with
 * ws_digest_memo_free. */
ws_digest_memo *ws_digest_memo_new(const ws_value *const *shared, size_t n);
/** Frees 'm'; NULL does nothing. */
void ws_digest_memo_free(ws_digest_memo *m);

/* One entry of a shared map as the memo hashes it: its key and the digest
 * of its value. */
typedef struct {
  const char *key;
  ws_digest digest;
} ws_digest_entry;

/* A shared map's digest under one key set, the set told by its id
 * (ws_digest_keys_id). */
typedef struct {
  ws_digest keys;
  ws_digest digest;
} ws_digest_view;

/** Gives the registered map 'v' the 'n' entry digests 'e' (their keys
 * borrowed: they must outlive 'm'), to use instead of hashing its
 * entries, and its digests under the 'nviews' key sets of 'views'
 * (copied), to use instead of combining those: a map that stands for one
 * not made yet (a person's context whose inputs did not change since a
 * build that recorded these) then digests as that one would, whatever 'v'
 * holds meanwhile. Seed before sharing the memo; a map not registered, or
 * seeded already, is left alone. */
void ws_digest_memo_seed(ws_digest_memo *m, const ws_value *v,
                         const ws_digest_entry *e, size_t n,
                         const ws_digest_view *views, size_t nviews);
/** Copies into 'out' (up to 'max') the digests of the registered map 'v'
 * under each key set it was digested under so far, and returns how
 * many. */
size_t ws_digest_memo_views(ws_digest_memo *m, const ws_value *v,
                            ws_digest_view *out, size_t max);
/** Copies up to 'max' entry digests of the registered map 'v' into 'out'
 * (hashing them first if no page has yet) and returns how many it has; 0
 * when 'v' is not registered. Keys are borrowed from the map or the
 * seed. */
size_t ws_digest_memo_entries(ws_digest_memo *m, const ws_value *v,
                              ws_digest_entry *out, size_t max);

#endif
