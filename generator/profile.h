/* profile.h - the profile model and its schema check.
 *
 * Built from a profile file (front matter + Markdown body); problems go to
 * the ws_diag list with the file, line and column. The schema is documented
 * in docs/profile-format.md.
 */
#ifndef WS_PROFILE_H
#define WS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "digest.h"
#include "value.h"

typedef enum {
  WS_MENTOR_ADVISOR,
  WS_MENTOR_ADVOCATE,
  WS_MENTOR_AFFIRMER,
  WS_MENTOR_CHALLENGER,
  WS_MENTOR_COACH,
  WS_MENTOR_CONNECTOR,
  WS_MENTOR_SPONSOR,
  WS_MENTOR__COUNT
} ws_mentor_type;

enum { WS_FORMAT_ONE_ON_ONE = 1 << 0, WS_FORMAT_GROUP = 1 << 1 };
enum { WS_MODE_VIRTUAL = 1 << 0, WS_MODE_IN_PERSON = 1 << 1 };

/** Largest accepted profile file, in bytes. */
#define WS_PROFILE_MAX_BYTES (1024 * 1024)
/** Most items accepted in one list field. */
#define WS_PROFILE_MAX_ITEMS 100
/** Largest accepted `capacity`. */
#define WS_PROFILE_MAX_CAPACITY 20

typedef struct {
  char **items;
  size_t len;
} ws_strlist;

/* What git history says about one profile (filled by the site from the
 * source's history walk; all zero with --no-history). */
typedef struct {
  bool known;   /* the walk found this profile */
  bool partial; /* shallow clone: the first commit may not be the real one */
  long long first_time, last_time;  /* commit times, seconds since epoch */
  char *first_author, *last_author; /* names, .mailmap applied */
  char *last_subject;               /* subject line of the last commit */
  char last_commit[41];             /* full id of the last commit (hex) */
  size_t revisions;                 /* commits that added or changed it */
  ws_strlist authors;               /* distinct author names, sorted */
  char *block; /* when set, the texts and 'authors' all live in it */
} ws_history;

typedef struct {
  char *slug; /* file name stem */
  char *path; /* the file, relative to the repository root (for messages) */
  char *name, *pronouns, *pronunciation, *role, *team, *location, *timezone;
  char *joined; /* YYYY-MM-DD or NULL */
  char *photo;  /* path relative to the content folder, or NULL */
  unsigned photo_type, photo_w, photo_h; /* ws_image_type and size */
  char *dream_job, *goal_short, *goal_long;
  ws_strlist strengths, learning, passion_projects;
  ws_strlist seek_topics, offer_topics;
  unsigned seek_types, offer_types; /* bit (1 << ws_mentor_type) */
  unsigned formats, modes;          /* WS_FORMAT_*, WS_MODE_* bits */
  unsigned capacity; /* mentees at once (default 1 if offering) */
  bool cross_team;   /* mentoring.cross_team: seek outside team */
  ws_value *links;   /* list of {label, url}, checked; or NULL */
  char *body_html, *summary; /* body_html: NULL in a cached profile, whose
                                body is read with ws_profile_body */
  char **sections; /* level-2 headings of the body */
  size_t nsections;
  ws_value *level; /* the front matter's "level" as written, or NULL: the
                      matcher reads the whole value (match.c) */
  unsigned name_line, name_col;   /* where the name and the photo are */
  unsigned photo_line, photo_col; /* written, for messages made later */
  ws_history history;
  /* Set for a profile read from the profile cache: a digest of all of the
   * above but the history (the record's checksum, the path and the slug),
   * equal for equal profiles. Zero for one just parsed. */
  ws_digest digest;
  /* Set with 'digest', as ws_profile_card_digests makes them; zero when
   * not known. */
  ws_digest card, link;
  /* Set with 'digest': ws_matchcache_person_key of the profile; zero when
   * not known. */
  ws_digest match_key;
  /* A profile from the profile cache leaves its body where it lies in the
   * cache file, unread and unchecked, until a page shows it: most builds
   * keep most person pages, and the bodies are most of the file. Their
   * digest is in the part of the record that was checked. */
  const char *cached_body;
  size_t cached_body_len;
  ws_digest cached_body_sum;
  char *block; /* set for a profile from the profile cache: its lists,
                  slug and path live in this one allocation and its texts
                  in the cache file's mapping, which the site keeps (and
                  nobody writes to them); NULL when each is allocated on
                  its own */
} ws_profile;

/** Returns the name of mentor type 't' ("advisor"). */
const char *ws_mentor_type_name(ws_mentor_type t);
/** Returns a one-line definition of mentor type 't', in our own words. */
const char *ws_mentor_type_definition(ws_mentor_type t);

/** Parses and checks the profile 'path' (as committed, for messages) whose
 * file stem is 'slug'. 'content_dir' is the content folder prefix ("" or
 * "content") and 'photo_exists' tells whether a content-relative path exists
 * as a file in the source. Adds every problem to 'diag'. Returns 0 with
 * '*out' set (even with warnings), or WS_EINVALID when the profile has an
 * error (then '*out' is NULL). Free with ws_profile_free. */
int ws_profile_load(ws_profile **out, const char *path, const char *slug,
                    const char *src, size_t len,
                    bool (*photo_exists)(const char *rel, void *payload),
                    void *payload, ws_diag *diag);
/** Frees 'p'; NULL does nothing. */
void ws_profile_free(ws_profile *p);
/** The body's HTML: 'body_html', or a cached profile's body once it
 * matches its digest. NULL when that body was damaged in the cache file;
 * then the profile file must be parsed again (ws_site_body_again). */
const char *ws_profile_body(const ws_profile *p);
/** The digests of what pages show of 'p' besides their own page:
 * '*card' of every field but the body and the summary made from it, with
 * the body's section headings (cards, the report); '*link' of the name,
 * role and team (a link to the person, as mentoring shows it). The slug
 * and the history are left out: a cached profile gets its slug from the
 * load (ws_profcache_get), and the history is not the profile's. */
void ws_profile_card_digests(const ws_profile *p, ws_digest *card,
                             ws_digest *link);
/** Frees the contents of 'l'. */
void ws_strlist_release(ws_strlist *l);
/** Frees the contents of 'h' and zeroes it. */
void ws_history_release(ws_history *h);
/** Tells whether 'slug' is a valid slug: [a-z0-9-]+, at most 64 bytes, not
 * starting or ending with '-'. */
bool ws_slug_valid(const char *slug);
/** Returns the edit distance between 'a' and 'b' (ASCII case-insensitive),
 * capped at 'limit' + 1. */
size_t ws_edit_distance(const char *a, const char *b, size_t limit);

#endif
