/* frontmatter.h - split a profile into YAML front matter and body; parse
 * YAML (front matter and site.yml) into ws_value with positions.
 *
 * Lines and columns are 1-based and counted in the file as committed: the
 * front matter's offset, a UTF-8 BOM, CRLF and lone CR line ends are all
 * accounted for. Lines end at CR, LF or CRLF only (not at NEL, LS or PS,
 * which libyaml's own marks count); a column counts Unicode code points from
 * the start of its line, so a tab or an 'é' is one column. Problems go to the
 * ws_diag list. The only module that includes <yaml.h>.
 */
#ifndef WS_FRONTMATTER_H
#define WS_FRONTMATTER_H

#include <stddef.h>

#include "diag.h"
#include "value.h"

/** Deepest nesting of YAML collections accepted. */
#define WS_YAML_MAX_DEPTH 32

typedef struct {
  ws_value *data;   /* a map; empty when there is no front matter */
  const char *body; /* the Markdown after the closing fence (into 'src') */
  size_t body_len;
  unsigned body_line; /* line of the body's first byte in the file */
} ws_frontmatter;

#define WS_FRONTMATTER_INIT                                                    \
  { NULL, NULL, 0, 0 }

/** Splits 'src' (the whole file 'path') at its '---' fences and parses the
 * YAML between them. Returns 0, or WS_EINVALID after adding an error to
 * 'diag' (unclosed fence, invalid YAML, not a mapping, an alias, too deep).
 * On success release 'out' with ws_frontmatter_release. */
int ws_frontmatter_parse(ws_frontmatter *out, const char *path, const char *src,
                         size_t len, ws_diag *diag);
/** Frees the data of 'fm'. */
void ws_frontmatter_release(ws_frontmatter *fm);
/** Parses a whole YAML document ('path' names it in diagnostics; lines are
 * counted from 'first_line'). Plain null/~/true/false and numbers are typed;
 * everything else is a string; dates stay strings. Aliases and anchors are
 * refused, duplicate keys are errors. An empty document gives an empty map.
 * Returns 0 with '*out' set (caller frees), or WS_EINVALID with a diagnostic.
 */
int ws_yaml_load(ws_value **out, const char *path, const char *src, size_t len,
                 unsigned first_line, ws_diag *diag);

#endif
