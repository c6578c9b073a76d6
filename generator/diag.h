/* diag.h - content problems: path:line:col: severity: message.
 *
 * Problems in profiles, templates and site.yml are collected here rather
 * than returned as errors, so one run reports all of them. Printed sorted by
 * file, line and column, as text, GitHub annotations or JSON.
 */
#ifndef WS_DIAG_H
#define WS_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

typedef enum { WS_DIAG_ERROR, WS_DIAG_WARNING } ws_diag_severity;

typedef enum { WS_DIAG_TEXT, WS_DIAG_GITHUB, WS_DIAG_JSON } ws_diag_style;

typedef struct {
  char *file;         /* path as committed, relative to the repository */
  unsigned line, col; /* 1-based; 0 when the problem has no position */
  ws_diag_severity severity;
  char *code; /* stable identifier, e.g. "unknown-key" */
  char *message;
} ws_diag_item;

typedef struct {
  ws_diag_item *items;
  size_t len, cap;
} ws_diag;

#define WS_DIAG_INIT                                                           \
  { NULL, 0, 0 }

/** Adds a problem; 'file' and 'code' are copied, the message is formatted. */
void ws_diag_add(ws_diag *d, ws_diag_severity sev, const char *file,
                 unsigned line, unsigned col, const char *code, const char *fmt,
                 ...) __attribute__((format(printf, 7, 8)));
/** Moves every item of 'from' to the end of 'to'; 'from' is left empty. */
void ws_diag_move(ws_diag *to, ws_diag *from);
/** Counts the items of severity 'sev'. */
size_t ws_diag_count(const ws_diag *d, ws_diag_severity sev);
/** Sorts by file, line, column, then message; the order is total. */
void ws_diag_sort(ws_diag *d);
/** Appends every item to 'out' in format 'fmt' (one per line, or one array). */
void ws_diag_format(ws_str *out, const ws_diag *d, ws_diag_style fmt);
/** Parses "text", "github" or "json"; returns false for anything else. */
bool ws_diag_style_parse(ws_diag_style *out, const char *name);
/** Frees every item; 'd' equals WS_DIAG_INIT afterwards. */
void ws_diag_release(ws_diag *d);

#endif
