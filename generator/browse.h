/* browse.h - the pages people browse by: strengths and teams.
 *
 * A page family for render: strengths/index.html with every strength and
 * its count, strengths/<slug>/index.html with who has it and who is
 * learning it, teams/index.html and teams/<slug>/index.html. Also fills the
 * directory's filter choices. Contexts are documented in docs/themes.md.
 */
#ifndef WS_BROWSE_H
#define WS_BROWSE_H

#include "render.h"
#include "value.h"

/** Renders the strength and team pages of the site 'r' renders. Returns 0
 * or the negative code of the first page that fails. */
int ws_browse_render(ws_renderer *r);
/** Adds the directory's filter choices to the index context 'ctx': lists
 * "teams", "strengths", "mentor_types", "formats" and "modes". */
void ws_browse_directory(ws_renderer *r, ws_value *ctx);

#endif
