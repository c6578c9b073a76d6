/* fuzz_profile.c - fuzz the whole profile pipeline: bytes → checked
 * profile → person context → rendered person page with the default theme.
 *
 * Linked into the test binary, where tests/fuzz/driver.c replays the seeds
 * of tests/fuzz/corpus/profile/; built with -DWS_LIBFUZZER it is libFuzzer's
 * entry point. The theme comes from $WS_ROOT/themes/default (or
 * ./themes/default).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "profile.h"
#include "render.h"
#include "site.h"
#include "str.h"
#include "theme.h"
#include "xalloc.h"

int ws_fuzz_profile(const uint8_t *data, size_t size);

static ws_theme *theme(void)
{
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

static void render_page(const ws_site *site)
{
  const ws_mustache *tpl;
  if (ws_theme_template(&tpl, theme(), "person") < 0)
    abort();
  ws_value *ctx = ws_value_map();
  ws_value_set(ctx, "person", ws_render_person(site, 0));
  ws_value_set_str(ctx, "root", "../../");
  ws_str html = WS_STR_INIT;
  if (ws_mustache_render(&html, tpl, ctx, ws_theme_env(theme())) < 0)
    abort(); /* a valid theme never fails on any profile */
  /* Whatever the profile says, no script element may come out of it. */
  if (strstr(html.ptr, "<script>") || strstr(html.ptr, "javascript:"))
    abort();
  ws_str_release(&html);
  ws_value_free(ctx);
}

int ws_fuzz_profile(const uint8_t *data, size_t size)
{
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
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return ws_fuzz_profile(data, size);
}
#endif
