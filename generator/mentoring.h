/* mentoring.h - the mentoring hub and the mentor-type pages.
 *
 * A page family for render: mentoring/index.html (the seven types with
 * supply and demand, every suggested pair with its reasons, the circles
 * and the unmet needs) and mentoring/<type>/index.html (definition, who
 * offers it, who seeks it). Also adds each person's suggestions to their
 * context. Contexts are documented in docs/themes.md; the matching itself
 * is in match.h.
 */
#ifndef WS_MENTORING_H
#define WS_MENTORING_H

#include <stdbool.h>
#include <stddef.h>

#include "render.h"
#include "site.h"
#include "value.h"

/** Renders the mentoring pages of the site 'r' renders. Returns 0 or the
 * negative code of the first page that fails. */
int ws_mentoring_render(ws_renderer *r);
/* Values that many contexts show alike, made once per build: each person
 * as a link in a pair, each circle and each pair. Thousands of person
 * contexts and the mentoring pages point at them (ws_value_ref) instead of
 * holding copies of their own. */
typedef struct ws_mentoring_shared ws_mentoring_shared;

/** Makes the shared values of 'site', valid until ws_mentoring_shared_free:
 * all of them now on 'jobs' threads, on the heap (call it outside any value
 * arena), where after loading they fit in the holes freed memory left; or,
 * with 'lazy', each when it is first used, from any thread, in an arena of
 * their own. A rebuild whose person contexts are known by their digests
 * (ctxcache.h) and whose mentoring pages are unchanged then makes none of
 * the 30,000 values of a 10,000-profile team. */
ws_mentoring_shared *ws_mentoring_shared_new(const ws_site *site, unsigned jobs,
                                             bool lazy);
/** Frees 's'; NULL does nothing. */
void ws_mentoring_shared_free(ws_mentoring_shared *s);

/** Adds "suggestions" (mentors, mentees, unmet needs, circle) of person 'i'
 * of 'site' to the person context 'v', pointing at 'shared' (NULL: with
 * copies of their own). */
void ws_mentoring_person(ws_value *v, const ws_site *site,
                         const ws_mentoring_shared *shared, size_t i);

#endif
