/* matchcache.h - mentoring matches kept between builds.
 *
 * The matches (match.h) depend only on a few fields of each profile, which
 * most pushes (a body edit, a new photo) never touch, so the last result
 * is kept in <git dir>/wholeself/matches-<hash of the content folder>,
 * keyed by a digest of exactly what the matcher reads, and reused while
 * the key is the same. A file that is truncated, corrupt, malformed, of
 * another format version or from another build of wholeself is ignored
 * and rewritten. Layout and rules: docs/history.md ("The mentoring
 * cache").
 */
#ifndef WS_MATCHCACHE_H
#define WS_MATCHCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "match.h"
#include "profile.h"
#include "source.h"
#include "str.h"

typedef struct {
  bool hit;            /* the matches came from the cache */
  const char *status;  /* static: "up to date", "created", "updated",
                          "rebuilt", "not saved (cannot write it)", "not
                          used" (the program cannot be identified) */
  const char *ignored; /* static: why the file was not used, or NULL (also
                          when it was missing or only out of date) */
} ws_matchcache_stats;

/** Returns the matches of the 'n' profiles 'people', the same as
 * ws_match_new_jobs on 'jobs' threads gives: from the cache of 'src' when
 * it holds them for these inputs, else computed and written to it (failing
 * to write is not an error). Fills 'out' (may be NULL). Cannot fail; free
 * the result with ws_match_free. */
ws_match *ws_matchcache_get(ws_source *src, ws_profile *const *people, size_t n,
                            unsigned jobs, ws_matchcache_stats *out);
/** Sets '*out' to the key of the matches of the 'n' profiles 'people': a
 * digest of the format version, the program and every field the matcher
 * reads of each person, in array order, worked out on 'jobs' threads (0:
 * one per core; the same for any). Returns false when the program cannot
 * be identified (then nothing is cached). */
bool ws_matchcache_key(ws_digest *out, ws_profile *const *people, size_t n,
                       unsigned jobs);
/** The digest of every field the matcher reads of 'p': what the key holds
 * for each person (the profile cache keeps it as ws_profile.match_key). */
ws_digest ws_matchcache_person_key(const ws_profile *p);
/** Appends the cache file of the matches 'm' under 'key' to 'out'. */
void ws_matchcache_encode(ws_str *out, const ws_digest *key, const ws_match *m);
/** Reads the cache file 'data' ('len' bytes). Returns the matches it holds
 * when it is well-formed and for 'key' and 'npeople' people (caller frees
 * with ws_match_free); else NULL, with '*why' (static) saying why. */
ws_match *ws_matchcache_decode(const char *data, size_t len,
                               const ws_digest *key, size_t npeople,
                               const char **why);

#endif
