/* fuzz_profile.c - fuzz the whole profile pipeline: bytes → checked
 * profile → person context → rendered person page with the default theme.
 *
 * Linked into the test binary, where tests/fuzz/driver.c replays the seeds
 * of tests/fuzz/corpus/profile/; built with -DWS_LIBFUZZER it is libFuzzer's
 * entry point. The theme comes from $WS_ROOT/themes/default (or
 * ./themes/default).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "profile.h"
#include "render.h"
#include "site.h"
#include "str.h"
#include "theme.h"
#include "xalloc.h"

int ws_fuzz_profile(const uint8_t *data, size_t size);

static ws_theme *theme(void) {
  static ws_theme *t;
  if (!t) {
    const char *root = getenv("WS_ROOT");
    ws_str dir = WS_STR_INIT;
    ws_str_printf(&dir, "%s/themes/default", root && *root ? root : ".");
    if (ws_theme_open(&t, dir.ptr, NULL) < 0)
      abort();
    ws_str_release(&dir);
  }
  return t;
}

/* Appends the attribute value [v, end) to 'out' as a browser reads it as a
 * URL: character references decoded, ASCII whitespace dropped, lowercase. */
static void url_as_read(ws_str *out, const char *v, const char *end) {
  static const char *const named[][2] = {
      {"amp;", "&"}, {"colon;", ":"}, {"tab;", ""}, {"newline;", ""}};
  while (v < end) {
    unsigned long c = (unsigned char)*v++;
    if (c == '&' && v < end && *v == '#') {
      bool hex = v + 1 < end && (v[1] == 'x' || v[1] == 'X');
      char *stop;
      c = strtoul(v + 1 + hex, &stop, hex ? 16 : 10);
      v = stop < end && *stop == ';' ? stop + 1 : stop;
    } else if (c == '&') {
      for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t n = strlen(named[i][0]);
        if ((size_t)(end - v) >= n && strncasecmp(v, named[i][0], n) == 0) {
          ws_str_puts(out, named[i][1]);
          v += n;
          c = 0;
          break;
        }
      }
    }
    if (c > ' ' && c < 127)
      ws_str_putc(out, (char)tolower((int)c));
  }
}

static bool is_url_attr(const char *name, size_t n) {
  static const char *const urls[] = {
      "href", "src", "action", "formaction", "xlink:href", "poster", "srcset"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
    if (strlen(urls[i]) == n && strncasecmp(name, urls[i], n) == 0)
      return true;
  return false;
}

/* Checks the attributes of the tag whose name ends at 'p'; returns the
 * end of the tag. Text between tags is data: "javascript:" or "onclick="
 * written there by a person is shown, never run. */
static const char *check_tag(const char *p) {
  for (;;) {
    while (*p && (isspace((unsigned char)*p) || *p == '/'))
      p++;
    if (!*p || *p == '>')
      return p;
    const char *name = p;
    while (*p && !isspace((unsigned char)*p) && !strchr("/>=", *p))
      p++;
    size_t n = (size_t)(p - name);
    if (n > 2 && strncasecmp(name, "on", 2) == 0)
      abort(); /* an event handler attribute */
    if (*p != '=')
      continue;
    const char *v = ++p, *end;
    if (*v == '"' || *v == '\'') {
      end = strchr(v + 1, *v);
      if (!end)
        abort(); /* an unterminated attribute swallows the page */
      v++;
      p = end + 1;
    } else {
      while (*p && !isspace((unsigned char)*p) && *p != '>')
        p++;
      end = p;
    }
    if (!is_url_attr(name, n))
      continue;
    ws_str url = WS_STR_INIT;
    url_as_read(&url, v, end);
    if (url.ptr && (strncmp(url.ptr, "javascript:", 11) == 0 ||
                    strncmp(url.ptr, "vbscript:", 9) == 0))
      abort();
    ws_str_release(&url);
  }
}

/* No script can come out of a profile: no script, iframe, object or embed
 * element (the person page has no script of its own), no on* attribute,
 * no javascript: URL in a URL attribute. */
static void check_html(const char *html) {
  static const char *const banned[] = {"script", "iframe", "object", "embed"};
  for (const char *p = html; (p = strchr(p, '<')); p++) {
    if (strncmp(p, "<!--", 4) == 0) {
      const char *end = strstr(p, "-->");
      if (!end)
        abort();
      p = end;
      continue;
    }
    const char *name = p + 1 + (p[1] == '/');
    if (!isalpha((unsigned char)*name))
      continue; /* "<" followed by a non-letter is text */
    const char *q = name;
    while (isalnum((unsigned char)*q) || *q == '-' || *q == ':')
      q++;
    for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
      if ((size_t)(q - name) == strlen(banned[i]) &&
          strncasecmp(name, banned[i], (size_t)(q - name)) == 0)
        abort();
    p = check_tag(q);
    if (!*p)
      abort(); /* an unclosed tag */
  }
}

static void render_page(const ws_site *site) {
  const ws_mustache *tpl;
  if (ws_theme_template(&tpl, theme(), "person") < 0)
    abort();
  ws_value *ctx = ws_value_map();
  ws_value_set(ctx, "person", ws_render_person(site, NULL, 0));
  ws_value_set_str(ctx, "root", "../../");
  ws_str html = WS_STR_INIT;
  if (ws_mustache_render(&html, tpl, ctx, ws_theme_env(theme())) < 0)
    abort(); /* a valid theme never fails on any profile */
  check_html(html.ptr);
  ws_str_release(&html);
  ws_value_free(ctx);
}

int ws_fuzz_profile(const uint8_t *data, size_t size) {
  ws_diag diag = WS_DIAG_INIT;
  ws_profile *p = NULL;
  if (ws_profile_load(&p, "people/fuzz.md", "fuzz", (const char *)data, size,
                      NULL, NULL, &diag) == 0) {
    ws_site site = {0};
    site.people = &p;
    site.npeople = 1;
    render_page(&site);
    ws_profile_free(p);
  }
  ws_diag_release(&diag);
  return 0;
}

#ifdef WS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return ws_fuzz_profile(data, size);
}
#endif
