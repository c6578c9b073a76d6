#include "frontmatter.h"

#include <assert.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "xalloc.h"

/*
 * Positions. libyaml's marks count lines at CR, LF, CRLF and also at NEL,
 * LS and PS, which editors and git do not treat as line ends. So we never
 * use mark.line/mark.column: mark.index (a count of characters from the start
 * of the input) is turned into our own line and column by walking the bytes.
 * A line ends at CR, LF or CRLF, exactly as the fence splitter counts; a
 * column counts Unicode code points from the start of the line, 1-based, and
 * a tab is one column. Reader errors (invalid UTF-8, control characters) have
 * no mark, only a byte offset, which the same walk handles.
 */
typedef struct {
  const char *src;
  size_t len;
  unsigned first_line;
  size_t bytes, chars; /* how far the walk has come */
  unsigned line, col;  /* position of the byte at 'bytes' */
  bool prev_cr;
} cursor;

static void cursor_reset(cursor *c) {
  c->bytes = c->chars = 0;
  c->line = c->first_line;
  c->col = 1;
  c->prev_cr = false;
}

/* Walks to the character 'index' (by_bytes false) or to the byte offset
 * 'index' (by_bytes true). Queries come nearly in order, so the walk resumes
 * where the last one stopped and is linear overall. */
static void cursor_seek(cursor *c, bool by_bytes, size_t index, unsigned *line,
                        unsigned *col) {
  if ((by_bytes ? c->bytes : c->chars) > index)
    cursor_reset(c);
  while (c->bytes < c->len) {
    unsigned char b = (unsigned char)c->src[c->bytes];
    bool lead = (b & 0xC0) != 0x80;
    if (by_bytes ? c->bytes >= index : (lead && c->chars >= index))
      break;
    if (lead) {
      c->chars++;
      if (b == '\r') {
        c->line++;
        c->col = 1;
      } else if (b == '\n') {
        if (!c->prev_cr)
          c->line++;
        c->col = 1;
      } else {
        c->col++;
      }
      c->prev_cr = b == '\r';
    }
    c->bytes++;
  }
  *line = c->line;
  *col = c->col;
}

/* --- scalars --- */

static bool is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}

static bool span_eq(const char *s, size_t len, const char *word) {
  return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* YAML 1.2 core schema, decimal only: [-+]?[0-9]+ for integers and
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? for floats. */
static bool is_decimal(const char *s, size_t len) {
  size_t i = 0, digits = 0;
  if (i < len && (s[i] == '-' || s[i] == '+'))
    i++;
  while (i < len && is_digit(s[i])) {
    i++;
    digits++;
  }
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && is_digit(s[i])) {
      i++;
      digits++;
    }
  }
  if (digits == 0)
    return false;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t exp = 0;
    i++;
    if (i < len && (s[i] == '-' || s[i] == '+'))
      i++;
    while (i < len && is_digit(s[i])) {
      i++;
      exp++;
    }
    if (exp == 0)
      return false;
  }
  return i == len;
}

/* strtod follows LC_NUMERIC; YAML always writes '.', so retry with the
 * locale's decimal point when the C one was not understood. */
static bool parse_number(double *out, const char *s) {
  char *end;
  *out = strtod(s, &end);
  if (*end != '\0') {
    const char *point = localeconv()->decimal_point;
    const char *dot = strchr(s, '.');
    ws_str local = WS_STR_INIT;
    if (!dot || !point || !*point)
      return false;
    ws_str_put(&local, s, (size_t)(dot - s));
    ws_str_puts(&local, point);
    ws_str_puts(&local, dot + 1);
    *out = strtod(local.ptr, &end);
    bool ok = *end == '\0';
    ws_str_release(&local);
    if (!ok)
      return false;
  }
  return isfinite(*out);
}

static ws_value *make_scalar(const yaml_event_t *ev) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  double n;

  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
      (tag && (strcmp(tag, "!") == 0 || strcmp(tag, YAML_STR_TAG) == 0)))
    return ws_value_string(s, len);
  if (len == 0 || span_eq(s, len, "~") || span_eq(s, len, "null") ||
      span_eq(s, len, "Null") || span_eq(s, len, "NULL"))
    return ws_value_null();
  if (span_eq(s, len, "true") || span_eq(s, len, "True") ||
      span_eq(s, len, "TRUE"))
    return ws_value_bool(true);
  if (span_eq(s, len, "false") || span_eq(s, len, "False") ||
      span_eq(s, len, "FALSE"))
    return ws_value_bool(false);
  /* A plain scalar never holds a NUL byte, so 's' ends at 'len'. */
  if (is_decimal(s, len) && parse_number(&n, s))
    return ws_value_number(n);
  return ws_value_string(s, len);
}

/* --- the document being built --- */

/* Finds earlier keys of one mapping in constant time, so a mapping with many
 * keys is not quadratic: open addressing over indices into the entries. */
typedef struct {
  size_t *slots; /* entry index + 1; 0 is empty */
  size_t cap;    /* a power of two, or 0 */
} key_index;

typedef struct {
  ws_value *coll;
  char *key; /* pending key of a mapping, waiting for its value */
  unsigned key_line, key_col;
  key_index index;
} frame;

typedef struct {
  const char *path;
  ws_diag *diag;
  cursor pos;
  ws_value *root;
  bool root_empty; /* the root is the empty scalar of an empty document */
  frame stack[WS_YAML_MAX_DEPTH];
  size_t depth;
} loader;

static size_t *index_slot(key_index *ix, const ws_value *map, const char *key) {
  size_t mask = ix->cap - 1;
  for (size_t i = (size_t)ws_str_hash(key) & mask;; i = (i + 1) & mask) {
    size_t *slot = &ix->slots[i];
    if (*slot == 0 || strcmp(map->u.map.entries[*slot - 1].key, key) == 0)
      return slot;
  }
}

/* Returns the entry already holding 'key', or NULL. */
static const ws_value_entry *index_find(key_index *ix, const ws_value *map,
                                        const char *key) {
  if (ix->cap == 0)
    return NULL;
  size_t *slot = index_slot(ix, map, key);
  return *slot ? &map->u.map.entries[*slot - 1] : NULL;
}

/* Records the last entry of 'map'; keeps the table at most half full. */
static void index_add(key_index *ix, const ws_value *map) {
  size_t n = map->u.map.len;
  if (2 * n > ix->cap) {
    free(ix->slots);
    ix->cap = ix->cap ? ix->cap * 2 : 16;
    ix->slots = ws_xcalloc(ix->cap, sizeof(*ix->slots));
    for (size_t i = 0; i + 1 < n; i++)
      *index_slot(ix, map, map->u.map.entries[i].key) = i + 1;
  }
  *index_slot(ix, map, map->u.map.entries[n - 1].key) = n;
}

static void locate(loader *ld, yaml_mark_t mark, unsigned *line,
                   unsigned *col) {
  cursor_seek(&ld->pos, false, mark.index, line, col);
}

static int fail(loader *ld, yaml_mark_t mark, const char *code, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(loader *ld, yaml_mark_t mark, const char *code, const char *fmt,
                ...) {
  unsigned line, col;
  ws_str msg = WS_STR_INIT;
  va_list ap;
  locate(ld, mark, &line, &col);
  va_start(ap, fmt);
  ws_str_vprintf(&msg, fmt, ap);
  va_end(ap);
  ws_diag_add(ld->diag, WS_DIAG_ERROR, ld->path, line, col, code, "%s",
              msg.ptr);
  ws_str_release(&msg);
  return WS_EINVALID;
}

/* libyaml names the grammar rule that failed; a person editing a profile
 * needs to know what to change. 'at' is the byte at the problem mark. */
static const char *yaml_hint(const char *problem, char at) {
  if (strstr(problem, "cannot start any token"))
    return at == '\t' ? "; indent with spaces, not tabs"
                      : "; put this value in quotes";
  if (strstr(problem, "mapping values are not allowed"))
    return "; a value that contains ': ' must be in quotes";
  if (strstr(problem, "did not find expected key"))
    return "; check the indentation of this line";
  if (strstr(problem, "expected ',' or ']'"))
    return "; close the list with ']' (or quote an item that contains "
           "a comma or bracket)";
  if (strstr(problem, "expected ',' or '}'"))
    return "; close the map with '}'";
  if (strstr(problem, "quoted scalar"))
    return "; a quote is opened but never closed";
  return "";
}

/* Describes what libyaml's parser refused. */
static int fail_parser(loader *ld, const yaml_parser_t *parser) {
  const char *problem = parser->problem ? parser->problem : "unknown error";
  const char *hint;
  unsigned line, col;
  size_t offset;
  switch (parser->error) {
  case YAML_MEMORY_ERROR:
    fputs("wholeself: out of memory\n", stderr);
    abort();
  case YAML_READER_ERROR:
    offset = parser->problem_offset;
    /* libyaml points at the bad continuation byte; the user's character
     * starts at the lead byte before it. */
    if (strcmp(problem, "invalid trailing UTF-8 octet") == 0)
      for (size_t k = 1; k <= 3 && k <= offset; k++)
        if (((unsigned char)ld->pos.src[offset - k] & 0xC0) == 0xC0) {
          offset -= k;
          break;
        }
    cursor_seek(&ld->pos, true, offset, &line, &col);
    if (strcmp(problem, "control characters are not allowed") == 0) {
      if (parser->problem_value == 0)
        ws_diag_add(ld->diag, WS_DIAG_ERROR, ld->path, line, col, "yaml-syntax",
                    "invalid YAML: NUL byte");
      else
        ws_diag_add(ld->diag, WS_DIAG_ERROR, ld->path, line, col, "yaml-syntax",
                    "invalid YAML: control character U+%04X is not allowed",
                    (unsigned)parser->problem_value);
    } else {
      ws_diag_add(ld->diag, WS_DIAG_ERROR, ld->path, line, col, "encoding",
                  "invalid UTF-8 text (%s); save the file as UTF-8", problem);
    }
    return WS_EINVALID;
  case YAML_SCANNER_ERROR:
  case YAML_PARSER_ERROR:
    locate(ld, parser->problem_mark, &line, &col);
    hint = yaml_hint(problem, ld->pos.bytes < ld->pos.len
                                  ? ld->pos.src[ld->pos.bytes]
                                  : '\0');
    if (parser->context &&
        parser->context_mark.index != parser->problem_mark.index) {
      unsigned cline, ccol;
      locate(ld, parser->context_mark, &cline, &ccol);
      return fail(ld, parser->problem_mark, "yaml-syntax",
                  "invalid YAML: %s %s (started on line %u, column %u)%s",
                  problem, parser->context, cline, ccol, hint);
    }
    if (parser->context)
      return fail(ld, parser->problem_mark, "yaml-syntax",
                  "invalid YAML: %s %s%s", problem, parser->context, hint);
    return fail(ld, parser->problem_mark, "yaml-syntax", "invalid YAML: %s%s",
                problem, hint);
  default:
    return fail(ld, parser->problem_mark, "yaml-syntax", "invalid YAML: %s",
                problem);
  }
}

/* Appends 'key' for a one-line message: control characters become '?', and
 * a long key is cut on a character boundary. */
static void put_key(ws_str *out, const char *key) {
  size_t len = strlen(key), n = len;
  if (n > 60) {
    n = 60;
    while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
      n--;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)key[i];
    ws_str_putc(out, b < 0x20 || b == 0x7F ? '?' : key[i]);
  }
  if (n < len)
    ws_str_puts(out, "...");
}

/* Hands 'v' (owned) to the collection being built, or makes it the root.
 * In a mapping, a scalar without a pending key becomes that key. */
static int place(loader *ld, ws_value *v, const yaml_event_t *ev) {
  if (ld->depth == 0) {
    ld->root = v;
    return 0;
  }
  frame *f = &ld->stack[ld->depth - 1];
  ws_value *coll = f->coll;
  if (coll->type == WS_VALUE_LIST) {
    ws_value_push(coll, v);
    return 0;
  }
  if (!f->key) {
    /* Only scalars reach here: collections as keys are refused earlier. */
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const ws_value_entry *first;
    ws_value_free(v);
    if (memchr(s, '\0', len))
      return fail(ld, ev->start_mark, "yaml-key",
                  "a key must not contain a NUL byte");
    f->key = ws_xstrndup(s, len);
    locate(ld, ev->start_mark, &f->key_line, &f->key_col);
    if ((first = index_find(&f->index, coll, f->key))) {
      ws_str shown = WS_STR_INIT;
      put_key(&shown, f->key);
      fail(ld, ev->start_mark, "yaml-duplicate-key",
           "duplicate key '%s' (first on line %u)", shown.ptr, first->line);
      ws_str_release(&shown);
      return WS_EINVALID;
    }
    return 0;
  }
  if (coll->u.map.len == coll->u.map.cap) {
    coll->u.map.cap = coll->u.map.cap ? coll->u.map.cap * 2 : 8;
    coll->u.map.entries = ws_xreallocarray(coll->u.map.entries, coll->u.map.cap,
                                           sizeof(ws_value_entry));
  }
  ws_value_entry *e = &coll->u.map.entries[coll->u.map.len++];
  e->key = f->key;
  e->line = f->key_line;
  e->col = f->key_col;
  e->val = v;
  ws_value_map_keyed(e);
  f->key = NULL;
  index_add(&f->index, coll);
  return 0;
}

static int open_collection(loader *ld, const yaml_event_t *ev, bool is_map) {
  const yaml_char_t *anchor =
      is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
  if (anchor)
    return fail(ld, ev->start_mark, "yaml-alias",
                "YAML anchors are not supported");
  if (ld->depth > 0) {
    frame *f = &ld->stack[ld->depth - 1];
    if (f->coll->type == WS_VALUE_MAP && !f->key)
      return fail(ld, ev->start_mark, "yaml-key",
                  "a key must be a single value, not a %s",
                  is_map ? "mapping" : "list");
  }
  if (ld->depth == WS_YAML_MAX_DEPTH)
    return fail(ld, ev->start_mark, "yaml-depth",
                "YAML is nested too deeply (more than %d levels)",
                WS_YAML_MAX_DEPTH);
  ws_value *v = is_map ? ws_value_map() : ws_value_list();
  locate(ld, ev->start_mark, &v->line, &v->col);
  place(ld, v, ev); /* cannot fail: not a key */
  frame *f = &ld->stack[ld->depth++];
  memset(f, 0, sizeof(*f));
  f->coll = v;
  return 0;
}

static void close_collection(loader *ld) {
  frame *f = &ld->stack[--ld->depth];
  free(f->key);
  free(f->index.slots);
  memset(f, 0, sizeof(*f));
}

static int handle(loader *ld, const yaml_event_t *ev, size_t *documents) {
  ws_value *v;
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    if (++*documents > 1)
      return fail(ld, ev->start_mark, "yaml-syntax",
                  "invalid YAML: more than one document");
    return 0;
  case YAML_ALIAS_EVENT:
    return fail(ld, ev->start_mark, "yaml-alias",
                "YAML aliases are not supported");
  case YAML_SCALAR_EVENT:
    if (ev->data.scalar.anchor)
      return fail(ld, ev->start_mark, "yaml-alias",
                  "YAML anchors are not supported");
    v = make_scalar(ev);
    locate(ld, ev->start_mark, &v->line, &v->col);
    ld->root_empty = ld->depth == 0 && v->type == WS_VALUE_NULL &&
                     ev->data.scalar.length == 0 && !ev->data.scalar.tag;
    return place(ld, v, ev);
  case YAML_SEQUENCE_START_EVENT:
    return open_collection(ld, ev, false);
  case YAML_MAPPING_START_EVENT:
    return open_collection(ld, ev, true);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    close_collection(ld);
    return 0;
  default:
    return 0;
  }
}

int ws_yaml_load(ws_value **out, const char *path, const char *src, size_t len,
                 unsigned first_line, ws_diag *diag) {
  yaml_parser_t parser;
  yaml_event_t ev;
  loader ld;
  size_t documents = 0;
  int error = 0;
  bool done = false;

  assert(out && src && diag);
  *out = NULL;
  /* libyaml would skip a BOM itself but count it as a column. */
  if (first_line <= 1 && len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
    src += 3;
    len -= 3;
  }
  memset(&ld, 0, sizeof(ld));
  ld.path = path;
  ld.diag = diag;
  ld.pos.src = src;
  ld.pos.len = len;
  ld.pos.first_line = first_line ? first_line : 1;
  cursor_reset(&ld.pos);

  if (!yaml_parser_initialize(&parser)) {
    fputs("wholeself: out of memory\n", stderr);
    abort();
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)src, len);
  /* Not auto-detected: a UTF-16 file is reported as invalid UTF-8. */
  yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
  while (!done) {
    if (!yaml_parser_parse(&parser, &ev)) {
      error = fail_parser(&ld, &parser);
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    error = handle(&ld, &ev, &documents);
    yaml_event_delete(&ev);
    if (error < 0)
      break;
  }
  yaml_parser_delete(&parser);
  while (ld.depth > 0)
    close_collection(&ld);

  if (error < 0) {
    ws_value_free(ld.root);
    return error;
  }
  /* No document, or one that is empty (only comments or '---'). */
  if (!ld.root || ld.root_empty) {
    ws_value_free(ld.root);
    ld.root = ws_value_map();
  }
  *out = ld.root;
  return 0;
}

/* --- fences --- */

/* Returns the offset of the line break at or after 'i', or 'len'. */
static size_t line_end(const char *s, size_t len, size_t i) {
  while (i < len && s[i] != '\n' && s[i] != '\r')
    i++;
  return i;
}

/* Returns the offset after the CR, LF or CRLF at 'i' (or 'len'). */
static size_t skip_break(const char *s, size_t len, size_t i) {
  if (i < len && s[i] == '\r')
    return i + 1 < len && s[i + 1] == '\n' ? i + 2 : i + 1;
  return i < len ? i + 1 : i;
}

/* Tells whether the line 's' is 'fence' followed by nothing but blanks. */
static bool is_fence(const char *s, size_t n, const char *fence) {
  size_t f = strlen(fence);
  if (n < f || memcmp(s, fence, f) != 0)
    return false;
  for (size_t i = f; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t')
      return false;
  return true;
}

int ws_frontmatter_parse(ws_frontmatter *out, const char *path, const char *src,
                         size_t len, ws_diag *diag) {
  size_t start = 0, yaml, i, end;
  unsigned line = 2;
  ws_value *data;
  int error;

  assert(out && src && diag);
  *out = (ws_frontmatter)WS_FRONTMATTER_INIT;
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
    start = 3;
  end = line_end(src, len, start);
  if (!is_fence(src + start, end - start, "---")) {
    out->data = ws_value_map();
    out->body = src + start;
    out->body_len = len - start;
    out->body_line = 1;
    return 0;
  }
  yaml = i = skip_break(src, len, end);
  for (;; line++) {
    if (i >= len) {
      ws_diag_add(diag, WS_DIAG_ERROR, path, 1, 1, "frontmatter-unclosed",
                  "front matter starts with '---' on line 1 but is never "
                  "closed by a '---' or '...' line");
      return WS_EINVALID;
    }
    end = line_end(src, len, i);
    if (is_fence(src + i, end - i, "---") || is_fence(src + i, end - i, "..."))
      break;
    i = skip_break(src, len, end);
  }
  if ((error = ws_yaml_load(&data, path, src + yaml, i - yaml, 2, diag)) < 0)
    return error;
  if (data->type != WS_VALUE_MAP) {
    ws_diag_add(diag, WS_DIAG_ERROR, path, data->line, data->col,
                "frontmatter-not-map",
                "front matter must be a mapping of keys to values, not a %s",
                ws_value_type_name(data->type));
    ws_value_free(data);
    return WS_EINVALID;
  }
  end = skip_break(src, len, end);
  out->data = data;
  out->body = src + end;
  out->body_len = len - end;
  out->body_line = line + 1;
  return 0;
}

void ws_frontmatter_release(ws_frontmatter *fm) {
  if (!fm)
    return;
  ws_value_free(fm->data);
  *fm = (ws_frontmatter)WS_FRONTMATTER_INIT;
}
