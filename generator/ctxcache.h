/* ctxcache.h - the digests of person contexts, kept between builds.
 *
 * A page's fingerprint takes each person context it shows by the digests
 * of the context's entries (digest.h). Those depend only on what the
 * context is made from (render.c hashes that into a person's "inputs"),
 * so they are kept in <git dir>/wholeself/contexts-<hash of the content
 * folder>, keyed by the inputs, with the context's digests under each
 * page template's key set, and a build whose person's inputs are
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
/* The most entries and key sets kept for one context. */
#define WS_CTX_ENTRIES 256
#define WS_CTX_VIEWS 32

/* What is kept of one context: its entries' digests and its digests under
 * the key sets of the pages that showed it (digest.h). */
typedef struct {
  ws_digest_entry entries[WS_CTX_ENTRIES];
  size_t nentries;
  ws_digest_view views[WS_CTX_VIEWS];
  size_t nviews;
} ws_ctx_digests;

/** Tells whether the context made from 'inputs' is kept. */
bool ws_ctxcache_has(const ws_ctxcache *c, const ws_digest *inputs);
/** Looks up the context made from 'inputs': on a hit fills 'out' (keys
 * borrowed from 'c', valid until ws_ctxcache_free) and returns true.
 * Safe to call from several threads. */
bool ws_ctxcache_find(const ws_ctxcache *c, const ws_digest *inputs,
                      ws_ctx_digests *out);
/* Fills 'out' with what to keep of context 'i'; false leaves it out. */
typedef bool (*ws_ctxcache_get)(void *payload, size_t i, ws_ctx_digests *out);

/** Writes the cache anew (through a temporary file and a rename; failing
 * is not an error) with the contexts of 'n' people: the inputs of each,
 * 'inputs[i]', and what 'get' gives for it. */
void ws_ctxcache_save(ws_ctxcache *c, size_t n, const ws_digest *inputs,
                      ws_ctxcache_get get, void *payload);
/** Returns why the file read was not used ("missing", "corrupt", ...), or
 * NULL when it was. Static text. */
const char *ws_ctxcache_ignored(const ws_ctxcache *c);
/** Frees 'c'; NULL does nothing. */
void ws_ctxcache_free(ws_ctxcache *c);

#endif
