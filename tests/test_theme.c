/* theme: lookup, inheritance (theme.yml) and site overrides. */
#include <criterion/criterion.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "helpers.h"
#include "mustache.h"
#include "source.h"
#include "theme.h"
#include "value.h"

static void setup(void) {
  git_libgit2_init();
  /* Test binaries live in build/tests: point at the source tree's themes. */
  ws_str dir = WS_STR_INIT;
  ws_str_printf(&dir, "%s/themes", th_root());
  setenv("WHOLESELF_THEMES", dir.ptr, 1);
  ws_str_release(&dir);
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(theme, .init = setup, .fini = teardown);

/* Renders template 'name' of 't' with an empty context. */
static char *render(ws_theme *t, const char *name) {
  const ws_mustache *m = NULL;
  ws_str out = WS_STR_INIT;
  ws_value *ctx = ws_value_map();
  cr_assert_eq(ws_theme_template(&m, t, name), 0, "%s", ws_error_last());
  cr_assert_eq(ws_mustache_render(&out, m, ctx, ws_theme_env(t)), 0, "%s",
               ws_error_last());
  ws_value_free(ctx);
  return ws_str_detach(&out);
}

Test(theme, minimal_inherits_missing_templates_from_default) {
  ws_theme *t = NULL;
  cr_assert_eq(ws_theme_open(&t, "minimal", NULL), 0, "%s", ws_error_last());
  cr_assert_not_null(ws_theme_parent(t));
  cr_expect(strstr(ws_theme_dir(ws_theme_parent(t)), "default"));
  const ws_mustache *m = NULL;
  /* Its own template, and one only default has. */
  cr_expect_eq(ws_theme_template(&m, t, "index"), 0);
  cr_expect_eq(ws_theme_template(&m, t, "strengths"), 0, "%s", ws_error_last());
  cr_expect_eq(ws_theme_template(&m, t, "no-such-template"), WS_ENOTFOUND);
  ws_theme_free(t);
}

static int collect(const char *rel, const char *data, size_t len,
                   void *payload) {
  ws_str *names = payload;
  (void)data;
  (void)len;
  ws_str_printf(names, "%s\n", rel);
  return 0;
}

Test(theme, inherited_assets_come_first_and_own_files_win) {
  char *dir = th_tmpdir();
  th_write(dir, "child/theme.yml", "inherits: default\n");
  th_write(dir, "child/base.mustache", "CHILD-BASE {{$content}}{{/content}}");
  th_write(dir, "child/assets/favicon.svg", "<svg>child</svg>");
  ws_str path = WS_STR_INIT, names = WS_STR_INIT;
  ws_str_printf(&path, "%s/child", dir);
  ws_theme *t = NULL;
  cr_assert_eq(ws_theme_open(&t, path.ptr, NULL), 0, "%s", ws_error_last());
  /* default's 404 extends 'base', which is the child's. */
  char *page = render(t, "404");
  cr_expect(strstr(page, "CHILD-BASE"), "%s", page);
  cr_expect(strstr(page, "Page not found"), "%s", page);
  cr_assert_eq(ws_theme_assets(t, collect, &names), 0);
  cr_expect(strstr(names.ptr, "style.css\n"), "inherited: %s", names.ptr);
  /* Listed once, in path order. */
  const char *fav = strstr(names.ptr, "favicon.svg\n");
  cr_expect(fav && !strstr(fav + 1, "favicon.svg\n"), "%s", names.ptr);
  free(page);
  ws_theme_free(t);
  ws_str_release(&path);
  ws_str_release(&names);
  th_rm_rf(dir);
  free(dir);
}

Test(theme, inheritance_cycle_is_an_error) {
  char *dir = th_tmpdir();
  th_write(dir, "a/theme.yml", "inherits: b\n");
  th_write(dir, "b/theme.yml", "inherits: a\n");
  setenv("WHOLESELF_THEMES", dir, 1);
  ws_theme *t = NULL;
  cr_expect_eq(ws_theme_open(&t, "a", NULL), WS_EINVALID);
  cr_expect_null(t);
  cr_expect(strstr(ws_error_last(), "inherits too deeply"), "%s",
            ws_error_last());
  th_write(dir, "c/theme.yml", "inherits: ../default\n");
  cr_expect_eq(ws_theme_open(&t, "c", NULL), WS_EINVALID);
  th_write(dir, "d/theme.yml", "inherits: [nope\n");
  cr_expect_lt(ws_theme_open(&t, "d", NULL), 0);
  th_rm_rf(dir);
  free(dir);
}

Test(theme, site_override_replaces_one_template_of_its_theme) {
  char *repo = th_repo_new(false);
  th_write(repo, "themes/default/404.mustache",
           "{{<base}}{{$content}}SITE-404{{/content}}{{/base}}");
  th_repo_commit_all(repo, "Override", "Ada <ada@example.org>", 1700000000);
  ws_source_opts so = {repo, NULL, NULL, false};
  ws_source *src = NULL;
  cr_assert_eq(ws_source_open(&src, &so), 0, "%s", ws_error_last());
  ws_theme *t = NULL;
  cr_assert_eq(ws_theme_open(&t, "default", src), 0, "%s", ws_error_last());
  char *page = render(t, "404");
  cr_expect(strstr(page, "SITE-404"), "%s", page);
  cr_expect(strstr(page, "<!doctype html>"), "base is still the theme's");
  free(page);
  ws_theme_free(t);
  /* Overrides of the parent apply to a theme that inherits from it. */
  cr_assert_eq(ws_theme_open(&t, "minimal", src), 0, "%s", ws_error_last());
  ws_theme_free(t);
  ws_source_free(src);
  th_rm_rf(repo);
  free(repo);
}
