#include "markdown.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "str.h"
#include "xalloc.h"

/* Smart punctuation makes quotes and dashes typographic, which suits pages
 * about people; VALIDATE_UTF8 replaces invalid bytes. Never CMARK_OPT_UNSAFE.
 */
static const int options = CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_SMART;

static void collect_text(ws_str *out, cmark_node *node) {
  cmark_iter *it = cmark_iter_new(node);
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
    cmark_node *n = cmark_iter_get_node(it);
    if (ev != CMARK_EVENT_ENTER)
      continue;
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_TEXT:
    case CMARK_NODE_CODE:
      ws_str_puts(out, cmark_node_get_literal(n));
      break;
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
      ws_str_putc(out, ' ');
      break;
    default:
      break;
    }
  }
  cmark_iter_free(it);
}

static char *heading_text(cmark_node *h) {
  ws_str s = WS_STR_INIT;
  collect_text(&s, h);
  return ws_str_detach(&s);
}

static cmark_node *first_paragraph_after(cmark_node *n) {
  for (; n; n = cmark_node_next(n)) {
    if (cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH)
      return n;
    if (cmark_node_get_type(n) == CMARK_NODE_HEADING)
      return NULL;
  }
  return NULL;
}

static void read_structure(ws_markdown *md, cmark_node *doc) {
  cmark_node *summary = NULL, *first = NULL;
  size_t cap = 0;
  for (cmark_node *n = cmark_node_first_child(doc); n; n = cmark_node_next(n)) {
    cmark_node_type t = cmark_node_get_type(n);
    if (t == CMARK_NODE_PARAGRAPH && !first)
      first = n;
    if (t != CMARK_NODE_HEADING || cmark_node_get_heading_level(n) != 2)
      continue;
    char *text = heading_text(n);
    if (!summary && strcasecmp(text, "Background") == 0)
      summary = first_paragraph_after(cmark_node_next(n));
    if (md->nsections == cap) {
      cap = cap ? cap * 2 : 8;
      md->sections = ws_xreallocarray(md->sections, cap, sizeof(char *));
    }
    md->sections[md->nsections++] = text;
  }
  ws_str s = WS_STR_INIT;
  if (summary || first)
    collect_text(&s, summary ? summary : first);
  md->summary = ws_str_detach(&s);
}

void ws_markdown_render(ws_markdown *out, const char *src, size_t len) {
  *out = (ws_markdown)WS_MARKDOWN_INIT;
  cmark_node *doc = cmark_parse_document(src, len, options);
  char *html = cmark_render_html(doc, options);
  /* cmark's buffer grows by half again, so a quarter of it is slack on
   * average; profiles live for the whole build, so keep only the text. */
  out->html = ws_xstrdup(html);
  free(html);
  read_structure(out, doc);
  cmark_node_free(doc);
}

void ws_markdown_release(ws_markdown *md) {
  free(md->html);
  free(md->summary);
  for (size_t i = 0; i < md->nsections; i++)
    free(md->sections[i]);
  free(md->sections);
  *md = (ws_markdown)WS_MARKDOWN_INIT;
}
