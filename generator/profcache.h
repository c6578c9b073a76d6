/* profcache.h - parsed, checked profiles kept between builds.
 *
 * What loading a profile gives (the ws_profile and its warnings) depends
 * only on the file's content, its path and the photo it names, so it is
 * kept in <git dir>/wholeself/profiles-<hash of the content folder>, keyed
 * by those blob ids, and the next load reuses every entry whose keys are
 * unchanged. The file also names the program (and libcmark and libyaml)
 * that wrote it; one from another build is ignored, like one truncated,
 * corrupt or malformed. Profiles with errors are never kept. Layout and
 * rules: docs/history.md ("The profile cache").
 *
 * One load: ws_profcache_open, then for each profile file (slot 0..n-1,
 * from several threads, each slot from one) ws_profcache_get and, on a
 * miss, ws_profcache_put; then ws_profcache_save.
 */
#ifndef WS_PROFCACHE_H
#define WS_PROFCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "binio.h"
#include "diag.h"
#include "profile.h"
#include "source.h"

typedef struct ws_profcache ws_profcache;

typedef struct {
  size_t hits;         /* profiles taken from the cache */
  const char *status;  /* static: "created", "up to date", "updated",
                          "rebuilt", "not saved (cannot write it)",
                          "not needed (nothing to keep)", "not used" (the
                          program cannot be identified) */
  const char *ignored; /* static: why the cache file was not used, or NULL
                          (also when there was none) */
} ws_profcache_stats;

/** Opens the profile cache of 'src' for a load of 'n' profile files, each
 * named later by its slot; 'files' is the source's listing (borrowed until
 * ws_profcache_free), used to check photos. Cannot fail: a cache file that
 * is missing or unusable only means no hits. Free with ws_profcache_free. */
ws_profcache *ws_profcache_open(ws_source *src, const ws_source_list *files,
                                size_t n);
/** Looks up the listed profile file 'e' for 'slot'. On a hit sets '*out'
 * (its 'path' and 'slug' copied from the arguments; caller frees with
 * ws_profile_free), appends the warnings it had to 'diag' and returns
 * true; otherwise changes nothing and returns false. */
bool ws_profcache_get(ws_profcache *pc, size_t slot, const ws_source_entry *e,
                      const char *path, const char *slug, ws_profile **out,
                      ws_diag *diag);
/** Keeps for 'slot' what loading the listed file 'e' gave: 'p' with all of
 * its diagnostics 'diag', and sets p->digest as a load from the cache
 * would. Ignored when 'diag' holds an error or 'p' names a photo that is
 * not a listed file. 'p' and 'diag' are read again by ws_profcache_save:
 * they must not change or go before it. */
void ws_profcache_put(ws_profcache *pc, size_t slot, const ws_source_entry *e,
                      ws_profile *p, const ws_diag *diag);
/** Saves the cache when its set of entries changed, by appending the new
 * records and an index to the file that was read, or by writing a new one
 * through a temporary file and a rename (failing is not an error), and
 * fills 'out'. Call once, after every slot was looked up. */
void ws_profcache_save(ws_profcache *pc, ws_profcache_stats *out);
/** Hands the mapping of the cache file over to '*out' (unmap it with
 * ws_bin_unmap): the texts of the profiles ws_profcache_get gave lie in
 * it, so it must outlive them. '*out' must be zeroed; it stays so when
 * there is no mapping. */
void ws_profcache_keep_map(ws_profcache *pc, ws_bin_map *out);
/** Frees 'pc'; NULL does nothing. */
void ws_profcache_free(ws_profcache *pc);

#endif
