/* contributions.h - the contributions timeline and its Atom feed.
 *
 * A page family for render, made from the site's history events (newest
 * first): contributions/index.html, a timeline of profiles added, updated,
 * renamed and removed, grouped by month and paged (WS_CONTRIBUTIONS_PER_PAGE
 * events a page, then contributions/page/<n>/index.html); and feed.xml, an
 * Atom 1.0 feed of the newest WS_CONTRIBUTIONS_FEED_ENTRIES events. Contexts
 * are documented in docs/themes.md.
 */
#ifndef WS_CONTRIBUTIONS_H
#define WS_CONTRIBUTIONS_H

#include "render.h"
#include "site.h"
#include "str.h"

/** Events on one timeline page. */
#define WS_CONTRIBUTIONS_PER_PAGE 100
/** Entries in feed.xml. */
#define WS_CONTRIBUTIONS_FEED_ENTRIES 50

/** Renders the timeline pages and feed.xml of the site 'r' renders. Returns
 * 0 or the negative code of the first page that fails. */
int ws_contributions_render(ws_renderer *r);
/** Appends the Atom feed of 'site' to 'out'. 'base_url' is absolute and ends
 * in '/', or "" (then links are relative to the feed's own address and the
 * feed id is a URN); 'title' names the site; 'fallback_time' dates a feed
 * without events. Everything is XML-escaped and invalid UTF-8 replaced. */
void ws_contributions_feed(ws_str *out, const ws_site *site,
                           const char *base_url, const char *title,
                           long long fallback_time);

#endif
