/* build.h - one build of the site: source, site model, theme, render,
 * output, with progress and timings.
 *
 * Shared by 'wholeself build' and 'wholeself serve' so that a preview is
 * exactly what CI publishes. Content problems go to the ws_diag list; the
 * caller prints them (ws_build_print_diags colours them on a terminal).
 */
#ifndef WS_BUILD_H
#define WS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "render.h"
#include "source.h"

typedef struct {
  ws_source_opts src;
  const char *out;         /* output folder (replaced atomically) */
  const char *theme;       /* NULL: site.yml's theme, else "default" */
  ws_render_opts render;   /* build_time 0: SOURCE_DATE_EPOCH or commit */
  FILE *log;               /* progress, stages, summary; NULL: silent */
  bool verbose;            /* print every stage with its time */
  bool progress;           /* redraw a progress line on 'log' (a terminal) */
  bool no_history;         /* skip the git history walk (--no-history) */
  const char *report_json; /* also write the report's figures there as
                              JSON ("-": stdout); NULL: do not */
  /* Called once the site is loaded, with its diagnostics, before anything
   * is rendered; returns false to stop the build (ws_build_run then returns
   * WS_EINVALID). NULL: stop when 'diag' holds errors. */
  bool (*loaded)(ws_diag *diag, void *payload);
  void *payload;
} ws_build_opts;

typedef struct {
  size_t profiles, pages, files;
  size_t reused; /* pages kept from an earlier build (same inputs) */
  size_t by_record; /* of those, found by their folder's record */
  double seconds;
  char *theme_dir;   /* the theme's folder on disk, or NULL */
  char *parent_dir;  /* the folder of the theme it inherits from, or NULL */
  char *content_dir; /* work tree: the content folder on disk, or NULL */
  char *source;      /* what was read: "HEAD (1a2b3c4)", "work tree" */
} ws_build_stats;

#define WS_BUILD_STATS_INIT                                                    \
  { 0, 0, 0, 0, 0, 0.0, NULL, NULL, NULL, NULL }

/** Builds the site described by 'opts' into opts->out, filling 'out'
 * (release with ws_build_stats_release; filled as far as the build got).
 * Returns 0; WS_EINVALID when 'diag' holds errors (nothing written); or
 * another negative code with the message set (opts->out is unchanged). */
int ws_build_run(ws_build_stats *out, const ws_build_opts *opts, ws_diag *diag);
/** Frees the strings of 'st'; it equals WS_BUILD_STATS_INIT afterwards. */
void ws_build_stats_release(ws_build_stats *st);
/** Prints 'd' sorted to 'f' in 'style'; text gets colour (errors red,
 * warnings yellow) when 'f' is a terminal and NO_COLOR is unset or empty. */
void ws_build_print_diags(FILE *f, ws_diag *d, ws_diag_style style);
/** Tells whether colour may be written to 'f'. */
bool ws_build_color(FILE *f);

#endif
