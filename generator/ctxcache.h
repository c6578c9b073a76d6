/* ctxcache.h - the digests of person contexts, kept between builds.
 *
 * A page's fingerprint takes each person context it shows by the digests
 * of the context's entries (digest.h). Those depend only on what the
 * context is made from (render.c hashes that into a person's "inputs"),
 * so they are kept in <git dir>/wholeself/contexts-<hash of the content
 * folder>, keyed by the inputs, and a build whose person's inputs are
 * unchanged seeds the fingerprint memo with them instead of making the
 * context at all: after a push that changes one profile, one context is
 * made, not 10,000. The file names the program that wrote it; one from
 * another build of wholeself is ignored, like one truncated, corrupt or
 * malformed. Layout: docs/history.md ("The context cache").
 */
#ifndef WS_CTXCACHE_H
#define WS_CTXCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "source.h"

typedef struct ws_ctxcache ws_ctxcache;

/** Opens the context cache of 'src' as written by the program 'program'.
 * Cannot fail: a file that is missing or unusable only means no hits.
 * Free with ws_ctxcache_free. */
ws_ctxcache *ws_ctxcache_open(ws_source *src, const ws_digest *program);
/** Looks up the context made from 'inputs': on a hit copies its entry
 * digests (keys borrowed from 'c', valid until ws_ctxcache_free) into
 * 'out', sets '*n' and returns true; false when there is none or it has
 * more than 'max' entries. Safe to call from several threads. */
bool ws_ctxcache_find(const ws_ctxcache *c, const ws_digest *inputs,
                      ws_digest_entry *out, size_t max, size_t *n);
/* Puts up to 'max' entry digests of context 'i' into 'out' and returns
 * how many it has (more than 'max': the context is left out). */
typedef size_t (*ws_ctxcache_entries)(void *payload, size_t i,
                                      ws_digest_entry *out, size_t max);

/** Writes the cache anew (through a temporary file and a rename; failing
 * is not an error) with the contexts of 'n' people: the inputs of each,
 * 'inputs[i]', and the entry digests 'entries' gives for it. */
void ws_ctxcache_save(ws_ctxcache *c, size_t n, const ws_digest *inputs,
                      ws_ctxcache_entries entries, void *payload);
/** Returns why the file read was not used ("missing", "corrupt", ...), or
 * NULL when it was. Static text. */
const char *ws_ctxcache_ignored(const ws_ctxcache *c);
/** Frees 'c'; NULL does nothing. */
void ws_ctxcache_free(ws_ctxcache *c);

#endif
