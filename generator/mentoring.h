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

#include <stddef.h>

#include "render.h"
#include "site.h"
#include "value.h"

/** Renders the mentoring pages of the site 'r' renders. Returns 0 or the
 * negative code of the first page that fails. */
int ws_mentoring_render(ws_renderer *r);
/** Adds "suggestions" (mentors, mentees, unmet needs, circle) of person 'i'
 * of 'site' to the person context 'v'. */
void ws_mentoring_person(ws_value *v, const ws_site *site, size_t i);

#endif
