/* render.h - from the site model to pages: contexts, templates, files.
 *
 * Builds the context of every page (documented in docs/themes.md), renders
 * it through the theme's templates and writes it with the output writer.
 * Also writes photos, theme assets, search.json and sitemap.xml.
 */
#ifndef WS_RENDER_H
#define WS_RENDER_H

#include <time.h>

#include "output.h"
#include "site.h"
#include "source.h"
#include "theme.h"
#include "value.h"

/* What rendering found, for -v. */
typedef struct {
  size_t contexts_made;      /* person contexts made */
  size_t contexts_recorded;  /* the others: only their recorded digests
                                were needed */
  bool context_cache_used;   /* the context cache was read (see ctxcache.h) */
  const char *context_cache; /* why its file was not used, or NULL */
} ws_render_stats;

typedef struct {
  const char *base_url; /* overrides site.yml; NULL: keep */
  const char *title;    /* overrides site.yml; NULL: keep */
  long long build_time; /* seconds since epoch, for the site's build date */
  unsigned jobs;        /* threads for per-person work; 0: one per core */
  bool full; /* render every page, even one whose inputs are unchanged */
  ws_render_stats *stats; /* filled after a build, unless NULL */
} ws_render_opts;

typedef struct ws_renderer ws_renderer;

typedef struct {
  const char *template;    /* theme template name, e.g. "person" */
  const char *file;        /* output path, e.g. "people/amara/index.html" */
  const char *section;     /* navigation section: "people", "strengths", ... */
  const char *title;       /* page title */
  const char *description; /* meta description */
} ws_page;

/** Makes the context every page gets (site, page, root, nav); the caller
 * adds the page's own keys and hands it to ws_render_page. The context
 * borrows the texts of 'pg', which must last until then. */
ws_value *ws_render_context(ws_renderer *r, const ws_page *pg);
/** Renders 'pg' with 'ctx' (which it frees) and writes it. */
int ws_render_page(ws_renderer *r, const ws_page *pg, ws_value *ctx);
/* The part of a page's context that is worth making only when the page is
 * rendered (a timeline's thousands of events, a strength's learners):
 * 'inputs' adds to the page's fingerprint the digest of everything
 * 'finish' reads (it is called only when fingerprints are kept), and
 * 'finish' adds that part to the context. */
typedef struct {
  void (*inputs)(ws_renderer *r, const ws_page *pg, ws_digester *d,
                 void *payload);
  void (*finish)(ws_value *ctx, void *payload);
  void *payload;
} ws_page_rest;
/** ws_render_page for a context whose 'rest' is made only when the page
 * must be rendered: a page whose fingerprint is unchanged never calls
 * rest->finish. */
int ws_render_page_rest(ws_renderer *r, const ws_page *pg, ws_value *ctx,
                        const ws_page_rest *rest);
/** Adds 'v' to 'd' as the fingerprint of page 'pg' takes its context:
 * shared values (person contexts) by their recorded digests, maps only
 * with the keys pg's template can show. For ws_page_rest inputs. */
void ws_render_digest_value(ws_renderer *r, const ws_page *pg, ws_digester *d,
                            const ws_value *v);

/* What the mentoring pages' fingerprints take instead of their lists
 * (ws_page_rest inputs; only while fingerprints are kept): a digest of
 * everything a person's link (name, slug, role, team), pair 'k' or circle
 * 'k' of the site's matches is made from (mentoring.h). */
void ws_render_digest_link(const ws_renderer *r, ws_digester *d, size_t person);
void ws_render_digest_pair(const ws_renderer *r, ws_digester *d, size_t k);
void ws_render_digest_circle(const ws_renderer *r, ws_digester *d, size_t k);

/** Adds to 'd' every field of person 'i''s profile but the body and the
 * summary made from it (the body's section headings are in), and their
 * history: what the team report reads of a person. */
void ws_render_digest_fields(const ws_renderer *r, ws_digester *d, size_t i);

/** Writes a file that is not a template page (JSON, XML, images). */
int ws_render_write(ws_renderer *r, const char *file, const char *data,
                    size_t len);
/** Calls fn(r, i, payload) for every i < n on the renderer's threads (see
 * --jobs); each call must render its own pages. Returns 0 or the first
 * failure. */
int ws_render_each(ws_renderer *r, size_t n,
                   int (*fn)(ws_renderer *r, size_t i, void *payload),
                   void *payload);
/** Returns the site being rendered. Borrowed. */
const ws_site *ws_renderer_site(const ws_renderer *r);
/** Returns the template context of person 'i' (see ws_render_person),
 * making it first if only its digests were recorded (see ctxcache.h).
 * Borrowed; to put it into a page context, use ws_render_person_ref. */
const ws_value *ws_renderer_person(ws_renderer *r, size_t i);
/** Returns a reference (ws_value_ref) to person 'i''s context for a page
 * context: the context may not be made yet, but is by the time that page
 * is rendered. */
ws_value *ws_render_person_ref(const ws_renderer *r, size_t i);
/** Adds person 'i''s context to 'd' as a page's fingerprint takes it (see
 * ws_render_digest_value), without making it. */
void ws_render_digest_person(ws_renderer *r, const ws_page *pg, ws_digester *d,
                             size_t i);
/** Returns the mentoring values pages share (see mentoring.h). Borrowed. */
const struct ws_mentoring_shared *ws_renderer_mentoring(const ws_renderer *r);
/** Returns the "site" object every page gets. Borrowed. */
const ws_value *ws_renderer_site_value(const ws_renderer *r);
/** Returns the build date, YYYY-MM-DD, or "" when there is none. It is not
 * part of "site": a page that shows it changes every day, so only the pages
 * that must show it (the directory, the report, the feed) get it. */
const char *ws_renderer_build_date(const ws_renderer *r);

/** Renders every page of 'site' with 'theme' into 'out', reading photos from
 * 'src'. Returns 0 or a negative code with the message set (a broken
 * template names its file, line and column). */
int ws_render_site(const ws_site *site, ws_theme *theme, ws_source *src,
                   ws_output *out, const ws_render_opts *opts);
/* Values that many person contexts show alike (each tag as a link, each
 * mentor type, the mentoring links and circles), made once per build. */
typedef struct ws_person_shared ws_person_shared;

/** Builds the template context of person 'i' of 'site' (caller frees, before
 * 'site': the body is borrowed from the profile, not copied). It points at
 * the values in 'shared' (which must outlive it), or holds copies of its
 * own when 'shared' is NULL. */
ws_value *ws_render_person(const ws_site *site, const ws_person_shared *shared,
                           size_t i);
/** Builds {name, definition, url} for mentor type 't' (caller frees). */
ws_value *ws_render_mentor_type(ws_mentor_type t);
/** Returns the initials of 'name' for an avatar (caller frees): the first
 * letter (with its marks and conjuncts) of the first and of the last
 * space-separated word, uppercased where the script has case; a trailing
 * "(transliteration)" is ignored; a single word gives one letter. */
char *ws_render_initials(const char *name);
/** Returns the avatar hue (0-359) derived from 'slug'. */
unsigned ws_render_hue(const char *slug);
/** Appends the address of the page of the person 'slug', from the site's
 * root: "people/SLUG/". Every link to a person is made by it. */
void ws_render_person_url(ws_str *out, const char *slug);
/** Appends the UTC date of 't' (seconds since epoch) to 'out' as
 * "12 March 2024"; never reads the clock. */
void ws_render_date(ws_str *out, long long t);
/** Appends the UTC time 't' to 'out' in RFC 3339 ("2024-03-12T09:30:00Z"),
 * or only its date ("2024-03-12") when 'date_only'. */
void ws_render_iso(ws_str *out, long long t, bool date_only);
/** Breaks the time 't' down in UTC into '*tm', as gmtime_r does (without
 * its lock, and with tm_isdst 0 and no zone); false when the calendar
 * cannot hold it (then ws_render_date and ws_render_iso append nothing). */
bool ws_render_utc(struct tm *tm, long long t);
/** Days from 1 January 1970 to the proleptic Gregorian date y-m-d (m 1-12):
 * timegm is not POSIX, and mktime would read the local time zone. */
long long ws_render_days_from_civil(long long y, unsigned m, unsigned d);
/** ws_render_date and ws_render_iso of a time ws_render_utc broke down:
 * for pages that show one time several ways. */
void ws_render_date_tm(ws_str *out, const struct tm *tm);
void ws_render_iso_tm(ws_str *out, const struct tm *tm, bool date_only);

#endif
