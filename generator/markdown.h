/* markdown.h - CommonMark bodies rendered safely with cmark.
 *
 * Raw HTML and dangerous URLs (javascript:, vbscript:, file:, data: other
 * than images) are dropped by cmark's safe mode, and invalid UTF-8 is
 * replaced. The only module that includes <cmark.h>.
 */
#ifndef WS_MARKDOWN_H
#define WS_MARKDOWN_H

#include <stddef.h>

typedef struct {
  char *html;      /* the body as HTML */
  char *summary;   /* plain text of the first paragraph of "## Background"
                    * (else of the first paragraph); "" when there is none */
  char **sections; /* the text of every level-2 heading, in order */
  size_t nsections;
} ws_markdown;

#define WS_MARKDOWN_INIT                                                       \
  { NULL, NULL, NULL, 0 }

/** Renders 'len' bytes of Markdown 'src' into 'out'. Cannot fail; release
 * 'out' with ws_markdown_release. */
void ws_markdown_render(ws_markdown *out, const char *src, size_t len);
/** Frees the contents of 'md'. */
void ws_markdown_release(ws_markdown *md);

#endif
