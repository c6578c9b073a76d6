/* report.h - the team report: figures from the site model, inline SVG charts.
 *
 * The figures (mentoring supply and demand, strengths coverage, team
 * composition, profile freshness and completeness, growth) are computed once
 * into a ws_value; the same value is written as JSON (--report-json) and
 * drawn as report/index.html, each section a chart plus a table. The figures
 * and the JSON format are documented in docs/report.md.
 */
#ifndef WS_REPORT_H
#define WS_REPORT_H

#include "render.h"
#include "site.h"
#include "str.h"
#include "value.h"

/** Version of the JSON format written by ws_report_json. */
#define WS_REPORT_VERSION 1

/** Computes the report figures of 'site' as of 'now' (seconds since epoch,
 * the build time; 0: unknown, then freshness is measured from the newest
 * history event). They borrow the profiles' texts: the caller frees them
 * with ws_value_free before the site. */
ws_value *ws_report_figures(const ws_site *site, long long now);
/** Appends 'figures' to 'out' as JSON with a stable key order, one
 * top-level section per line, ending in a newline. */
void ws_report_json(ws_str *out, const ws_value *figures);
/** Computes the figures of 'site' as of 'now' and writes them as JSON to
 * the file 'path' ("-": standard output). Returns 0, or WS_ERROR with the
 * message set when the file cannot be written. */
int ws_report_write_json(const char *path, const ws_site *site, long long now);
/** Renders report/index.html for the site being rendered by 'r' (a page
 * family, see render.c). Returns 0 or a negative code. */
int ws_report_render(ws_renderer *r);
/** Returns the standard (not daylight-saving) UTC offset of the IANA zone
 * 'name' in minutes through 'out', reading the zone file under $TZDIR
 * (default /usr/share/zoneinfo). False when the zone is unknown. */
bool ws_report_zone_offset(long *out, const char *name);

#endif
