/* site.h - the site model: every profile plus the indexes pages are made of.
 *
 * Loads the profiles and site.yml from a source, checks them (problems go to
 * the ws_diag list), and builds the indexes by strength and team. People are
 * kept in a stable, documented order: by name, compared case-insensitively
 * for ASCII and then byte-wise, ties broken by slug.
 */
#ifndef WS_SITE_H
#define WS_SITE_H

#include <stddef.h>

#include "binio.h"
#include "diag.h"
#include "profile.h"
#include "source.h"
#include "value.h"

typedef struct {
  char *slug;     /* safe for a path segment and a URL */
  char *label;    /* the most common spelling */
  size_t *people; /* indices into ws_site.people, in people order */
  size_t npeople;
  size_t *learners; /* people learning it (strengths only) */
  size_t nlearners;
} ws_tag;

typedef enum {
  WS_EVENT_ADDED,   /* a profile appeared: someone joined the directory */
  WS_EVENT_UPDATED, /* a profile changed */
  WS_EVENT_RENAMED, /* a profile moved to a new slug */
  WS_EVENT_REMOVED  /* a profile was deleted */
} ws_event_kind;

/* One change to one profile, from the history walk. */
typedef struct {
  ws_event_kind kind;
  long long time;  /* commit time, seconds since epoch */
  char *author;    /* .mailmap applied */
  char *subject;   /* commit subject line */
  char commit[41]; /* full commit id */
  char *slug;      /* the profile's slug after the commit */
  char *old_slug;  /* renames: the slug before; else NULL */
  /* 1 + the place in the site's people of the person 'slug' names now; 0
   * when nobody has it any more (or the event was not made from the
   * history). */
  size_t person;
  /* The digest of the change the event comes from (ws_source_change),
   * which covers all of the above: the timeline's fingerprints read it
   * instead of hashing 50,000 events' texts, and the history cache keeps
   * it, so a build does not hash them either. */
  ws_digest digest;
} ws_event;

typedef struct {
  ws_profile **people; /* sorted, owned */
  size_t npeople;
  size_t nchecked;           /* profile files read, including invalid ones */
  size_t profiles_cached;    /* of 'people', taken from the profile cache */
  const char *profile_cache; /* static: see ws_profcache_stats.status */
  const char *profile_cache_ignored; /* static: why the cache was not used */
  ws_tag *strengths;                 /* most people first, then by slug */
  size_t nstrengths;
  /* Every spelling of a strength or learning goal, once, in the order
   * first met (people in order, each's strengths, then learning);
   * borrowed from the profiles. */
  const char **spellings;
  size_t nspellings;
  ws_tag *teams; /* by slug */
  size_t nteams;
  ws_value *config; /* site.yml (a map, possibly empty), owned */
  ws_event *events; /* profile history, newest first; empty without it */
  size_t nevents;
  ws_value_arena *event_text; /* the events' strings, owned */
  struct ws_site_freeing *freeing; /* see history_apply; joined on free */
  bool history_partial;       /* the repository is a shallow clone */
  size_t history_walked;      /* commits walked; the rest came from the cache */
  const char *history_cache;  /* static: see ws_source_history.cache */
  const char *history_cache_ignored; /* static: why the cache was not used */
  char *content;            /* content folder prefix, "" or "content/" */
  struct ws_match *matches; /* mentoring suggestions and circles (match.h) */
  bool matches_cached;      /* 'matches' came from the mentoring cache */
  ws_bin_map profile_map;   /* the profile cache's file, where the texts of
                               cached profiles lie (profcache.h); owned */
} ws_site;

/** Loads every profile under people/ and site.yml from 'src'. Content
 * problems go to 'diag' (the caller decides whether errors stop the build),
 * and computes the mentoring matches; returns 0, or a negative code when the
 * source cannot be read. Free with ws_site_free. */
int ws_site_load(ws_site **out, ws_source *src, ws_diag *diag);
/** Like ws_site_load, reading and checking profiles on 'jobs' threads (0:
 * one per core), but without the mentoring matches (see ws_site_match):
 * checking needs none. The result is the same for any number of jobs. */
int ws_site_load_jobs(ws_site **out, ws_source *src, unsigned jobs,
                      ws_diag *diag);
/** Computes the mentoring matches ('matches') on 'jobs' threads, once,
 * through the mentoring cache of 'src' (matchcache.h; NULL: no cache). */
void ws_site_match(ws_site *site, ws_source *src, unsigned jobs);
/** Reads the git history of people/ (one walk, see ws_source_history_load,
 * through the history cache) into each person's 'history' and the site's
 * 'events' (only people/<slug>.md files count). In a shallow clone adds a
 * warning to 'diag' saying which dates are affected. Returns 0, or a
 * negative code from the source. */
int ws_site_history(ws_site *site, ws_source *src, ws_diag *diag);
/** ws_site_history in two halves, so that the walk (libgit2 work on one
 * core, which reads only 'src') runs on a thread of its own while this one
 * loads and matches the profiles; ws_site_history_finish then puts what it
 * learned into the site on 'jobs' threads (0: one per core).
 * ws_site_history_start never fails (with no thread to be had, the walk
 * runs in ws_site_history_finish). */
typedef struct ws_history_walk ws_history_walk;
ws_history_walk *ws_site_history_start(ws_source *src, unsigned jobs);
/** Waits for the walk 'w', frees it, and puts what it learned into 'site'
 * (NULL: only waits and frees, leaving this thread's error message
 * alone). Returns as ws_site_history. */
int ws_site_history_finish(ws_site *site, ws_history_walk *w, ws_diag *diag);
/** Frees 'site'; NULL does nothing. */
void ws_site_free(ws_site *site);
/** Parses the file of the cached profile 'p' again and returns its body's
 * HTML (caller frees): for a body damaged in the profile cache file, which
 * ws_profile_body refuses. NULL when the file cannot be read or parsed. */
char *ws_site_body_again(ws_source *src, const ws_profile *p);
/** Returns the index of the person with 'slug', or (size_t)-1. */
size_t ws_site_find(const ws_site *site, const char *slug);
/** Returns the tag whose slug is the slug of 'label', or NULL. */
const ws_tag *ws_site_tag(const ws_tag *tags, size_t n, const char *label);
/** Turns 'label' into a tag slug (caller frees): ASCII and common Latin,
 * Greek and Cyrillic capitals lowercased, separators and punctuation made
 * '-', other UTF-8 kept. Never empty, never '.', '..' or containing '/'. */
char *ws_slugify(const char *label);
/** Returns the config string 'key' of site.yml, or 'fallback'. Borrowed. */
const char *ws_site_config(const ws_site *site, const char *key,
                           const char *fallback);

#endif
