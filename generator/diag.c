#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void ws_diag_add(ws_diag *d, ws_diag_severity sev, const char *file,
                 unsigned line, unsigned col, const char *code, const char *fmt,
                 ...) {
  ws_str msg = WS_STR_INIT;
  va_list ap;
  va_start(ap, fmt);
  ws_str_vprintf(&msg, fmt, ap);
  va_end(ap);
  if (d->len == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 16;
    d->items = ws_xreallocarray(d->items, d->cap, sizeof(*d->items));
  }
  ws_diag_item *it = &d->items[d->len++];
  it->file = ws_xstrdup(file ? file : "");
  it->line = line;
  it->col = col;
  it->severity = sev;
  it->code = ws_xstrdup(code ? code : "");
  /* A value quoted in a message may hold a line break; one problem must
   * stay one line in every format. */
  for (size_t i = 0; i < msg.len; i++)
    if ((unsigned char)msg.ptr[i] < 0x20 || msg.ptr[i] == 0x7f)
      msg.ptr[i] = '?';
  it->message = ws_str_detach(&msg);
}

void ws_diag_move(ws_diag *to, ws_diag *from) {
  for (size_t i = 0; i < from->len; i++) {
    if (to->len == to->cap) {
      to->cap = to->cap ? to->cap * 2 : 16;
      to->items = ws_xreallocarray(to->items, to->cap, sizeof(*to->items));
    }
    to->items[to->len++] = from->items[i];
  }
  free(from->items);
  from->items = NULL;
  from->len = from->cap = 0;
}

size_t ws_diag_count(const ws_diag *d, ws_diag_severity sev) {
  size_t n = 0;
  for (size_t i = 0; i < d->len; i++)
    n += d->items[i].severity == sev;
  return n;
}

static int cmp_item(const void *a, const void *b) {
  const ws_diag_item *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  if (c)
    return c;
  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  if (x->col != y->col)
    return x->col < y->col ? -1 : 1;
  if (x->severity != y->severity)
    return x->severity < y->severity ? -1 : 1;
  if ((c = strcmp(x->code, y->code)))
    return c;
  return strcmp(x->message, y->message);
}

void ws_diag_sort(ws_diag *d) {
  if (d->len > 1)
    qsort(d->items, d->len, sizeof(*d->items), cmp_item);
}

static const char *sev_name(ws_diag_severity s) {
  return s == WS_DIAG_ERROR ? "error" : "warning";
}

/* GitHub workflow commands end at a newline and treat '%' specially. */
static void put_github(ws_str *out, const char *s, bool property) {
  for (; *s; s++) {
    if (*s == '%')
      ws_str_puts(out, "%25");
    else if (*s == '\r')
      ws_str_puts(out, "%0D");
    else if (*s == '\n')
      ws_str_puts(out, "%0A");
    else if (property && *s == ':')
      ws_str_puts(out, "%3A");
    else if (property && *s == ',')
      ws_str_puts(out, "%2C");
    else
      ws_str_putc(out, *s);
  }
}

static void put_text(ws_str *out, const ws_diag_item *it) {
  ws_str_puts(out, it->file);
  if (it->line)
    ws_str_printf(out, ":%u:%u", it->line, it->col ? it->col : 1);
  ws_str_printf(out, ": %s: %s\n", sev_name(it->severity), it->message);
}

static void put_gh(ws_str *out, const ws_diag_item *it) {
  ws_str_printf(out, "::%s file=", sev_name(it->severity));
  put_github(out, it->file, true);
  if (it->line)
    ws_str_printf(out, ",line=%u,col=%u", it->line, it->col ? it->col : 1);
  ws_str_puts(out, "::");
  put_github(out, it->message, false);
  ws_str_putc(out, '\n');
}

static void put_json(ws_str *out, const ws_diag_item *it) {
  ws_str_puts(out, "{\"file\":\"");
  ws_str_put_json(out, it->file, strlen(it->file));
  ws_str_printf(out,
                "\",\"line\":%u,\"column\":%u,\"severity\":\"%s\","
                "\"code\":\"",
                it->line, it->col, sev_name(it->severity));
  ws_str_put_json(out, it->code, strlen(it->code));
  ws_str_puts(out, "\",\"message\":\"");
  ws_str_put_json(out, it->message, strlen(it->message));
  ws_str_puts(out, "\"}");
}

void ws_diag_format(ws_str *out, const ws_diag *d, ws_diag_style fmt) {
  if (fmt == WS_DIAG_JSON)
    ws_str_putc(out, '[');
  for (size_t i = 0; i < d->len; i++) {
    if (fmt == WS_DIAG_TEXT)
      put_text(out, &d->items[i]);
    else if (fmt == WS_DIAG_GITHUB)
      put_gh(out, &d->items[i]);
    else {
      ws_str_puts(out, i ? ",\n " : "");
      put_json(out, &d->items[i]);
    }
  }
  if (fmt == WS_DIAG_JSON)
    ws_str_puts(out, "]\n");
}

bool ws_diag_style_parse(ws_diag_style *out, const char *name) {
  if (strcmp(name, "text") == 0)
    *out = WS_DIAG_TEXT;
  else if (strcmp(name, "github") == 0)
    *out = WS_DIAG_GITHUB;
  else if (strcmp(name, "json") == 0)
    *out = WS_DIAG_JSON;
  else
    return false;
  return true;
}

void ws_diag_release(ws_diag *d) {
  for (size_t i = 0; i < d->len; i++) {
    free(d->items[i].file);
    free(d->items[i].code);
    free(d->items[i].message);
  }
  free(d->items);
  d->items = NULL;
  d->len = d->cap = 0;
}
