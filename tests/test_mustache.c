/* test_mustache.c - errors, limits and guarantees of the template engine.
 *
 * Spec conformance is in test_mustache_spec.c; this file checks what the
 * spec leaves to us: messages with positions, recursion limits, thread
 * safety and that failures leave the output alone.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "error.h"
#include "mustache.h"
#include "str.h"
#include "value.h"

/* Templates come from a map of name to source. */
static int load_map(ws_str *out, const char *name, void *payload) {
  const ws_value *v = ws_value_get(payload, name);
  if (!v)
    return WS_ENOTFOUND;
  ws_str_put(out, v->u.string.ptr, v->u.string.len);
  return 0;
}

static void expect_compile_error(const char *src, const char *message) {
  ws_mustache *tpl = (ws_mustache *)1;
  int rc = ws_mustache_compile(&tpl, "page", src, strlen(src));
  cr_expect_eq(rc, WS_EINVALID, "%s: rc %d", src, rc);
  cr_expect_null(tpl, "%s: out must be NULL on failure", src);
  cr_expect_str_eq(ws_error_last(), message, "for template: %s", src);
}

/* Renders 'src' against 'ctx' with templates from 'partials' (may be
 * NULL); returns the code and leaves the text in 'out'. */
static int render(ws_str *out, const char *src, const ws_value *ctx,
                  ws_value *partials) {
  ws_mustache *tpl;
  ws_mustache_env *env =
      partials ? ws_mustache_env_new(load_map, partials) : NULL;
  int rc = ws_mustache_compile(&tpl, "page", src, strlen(src));
  cr_assert_eq(rc, 0, "%s", ws_error_last());
  rc = ws_mustache_render(out, tpl, ctx, env);
  ws_mustache_free(tpl);
  ws_mustache_env_free(env);
  return rc;
}

Test(mustache, unclosed_tag_reports_line_and_column) {
  expect_compile_error("a\n  {{name", "page:2:3: unclosed tag");
  expect_compile_error("{{{raw}}", "page:1:1: unclosed tag");
}

Test(mustache, unclosed_section_reports_opening_tag) {
  expect_compile_error("x\n {{#items}}\n{{.}}",
                       "page:2:2: unclosed section 'items'");
  expect_compile_error("{{<base}}{{$b}}{{/b}}",
                       "page:1:1: unclosed section 'base'");
}

Test(mustache, mismatched_close_reports_both_tags) {
  expect_compile_error("{{#a}}\n\n  {{/b}}",
                       "page:3:3: closing tag 'b' does not match 'a' opened "
                       "at 1:1");
}

Test(mustache, stray_close_is_an_error) {
  expect_compile_error("ok {{/a}}",
                       "page:1:4: closing tag 'a' without an opening tag");
}

Test(mustache, bad_delimiter_change_is_an_error) {
  expect_compile_error("a {{=<% =}}", "page:1:3: invalid delimiter change");
  expect_compile_error("{{=<% %> x=}}", "page:1:1: invalid delimiter change");
  expect_compile_error("\n{{=<%%>=}}", "page:2:1: invalid delimiter change");
  expect_compile_error("{{=<% %>=}}\n<%x", "page:2:1: unclosed tag");
}

Test(mustache, empty_tag_name_is_an_error) {
  expect_compile_error("a{{ }}", "page:1:2: empty tag name");
  expect_compile_error("{{#}}{{/}}", "page:1:1: empty tag name");
  expect_compile_error("{{> * }}", "page:1:1: empty tag name");
}

Test(mustache, deep_nesting_is_an_error) {
  ws_str src = WS_STR_INIT;
  for (int i = 0; i < 100; i++)
    ws_str_puts(&src, "{{#a}}");
  ws_mustache *tpl;
  cr_expect_eq(ws_mustache_compile(&tpl, "page", src.ptr, src.len),
               WS_EINVALID);
  cr_expect_str_eq(ws_error_last(),
                   "page:1:379: sections nested deeper than 63");
  ws_str_release(&src);
}

Test(mustache, broken_partial_fails_and_names_it) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "card", "ok\n{{#x}}");
  ws_str out = WS_STR_INIT;
  ws_str_puts(&out, "kept");
  cr_expect_eq(render(&out, "before {{>card}} after", NULL, partials),
               WS_EINVALID);
  cr_expect_str_eq(ws_error_last(), "card:2:1: unclosed section 'x'");
  cr_expect_str_eq(out.ptr, "kept", "out must be cut back on failure");
  ws_str_release(&out);
  ws_value_free(partials);
}

Test(mustache, self_including_partial_hits_depth_limit) {
  /* Each level goes one step down a linked list that is deeper than the
   * limit, so the recursion would end on its own, only too late. */
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "node", "{{n}}{{#next}}{{>node}}{{/next}}");
  ws_value *root = ws_value_map(), *cur = root;
  for (int i = 0; i < 200; i++) {
    ws_value *next = ws_value_map();
    ws_value_set_num(cur, "n", i);
    ws_value_set(cur, "next", next);
    cur = next;
  }
  ws_str out = WS_STR_INIT;
  ws_str_puts(&out, "kept");
  cr_expect_eq(render(&out, "{{>node}}", root, partials), WS_EINVALID);
  cr_expect_str_eq(ws_error_last(),
                   "node:1:15: more than 64 nested partials, parents or "
                   "blocks");
  cr_expect_str_eq(out.ptr, "kept");
  ws_str_release(&out);
  ws_value_free(root);
  ws_value_free(partials);
}

Test(mustache, parent_cycle_hits_depth_limit) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "a", "A{{<b}}{{/b}}");
  ws_value_set_str(partials, "b", "B\n  {{<a}}{{$x}}y{{/x}}{{/a}}");
  ws_str out = WS_STR_INIT;
  cr_expect_eq(render(&out, "{{<a}}{{/a}}", NULL, partials), WS_EINVALID);
  cr_expect(strstr(ws_error_last(), "more than 64 nested") != NULL, "%s",
            ws_error_last());
  cr_expect(strncmp(ws_error_last(), "a:1:2: ", 7) == 0 ||
                strncmp(ws_error_last(), "b:2:3: ", 7) == 0,
            "%s", ws_error_last());
  cr_expect_eq(out.len, 0);
  ws_str_release(&out);
  ws_value_free(partials);
}

Test(mustache, block_naming_itself_hits_depth_limit) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "base", "{{$b}}{{/b}}");
  ws_str out = WS_STR_INIT;
  cr_expect_eq(render(&out, "{{<base}}{{$b}}x{{$b}}{{/b}}{{/b}}{{/base}}", NULL,
                      partials),
               WS_EINVALID);
  cr_expect(strstr(ws_error_last(), "more than 64 nested") != NULL, "%s",
            ws_error_last());
  ws_str_release(&out);
  ws_value_free(partials);
}

Test(mustache, escapes_all_five_characters) {
  ws_value *ctx = ws_value_map();
  ws_value_set_str(ctx, "x", "a&b<c>d\"e'f");
  ws_str out = WS_STR_INIT;
  cr_assert_eq(render(&out, "{{x}}|{{{x}}}|{{&x}}", ctx, NULL), 0);
  cr_expect_str_eq(out.ptr, "a&amp;b&lt;c&gt;d&quot;e&#39;f|"
                            "a&b<c>d\"e'f|a&b<c>d\"e'f");
  ws_str_release(&out);
  ws_value_free(ctx);
}

Test(mustache, numbers_print_with_15_digits) {
  ws_value *ctx = ws_value_map();
  ws_value_set_num(ctx, "a", 1.0 / 3);
  ws_value_set_num(ctx, "b", 42);
  ws_str out = WS_STR_INIT;
  cr_assert_eq(render(&out, "{{a}} {{b}}", ctx, NULL), 0);
  cr_expect_str_eq(out.ptr, "0.333333333333333 42");
  ws_str_release(&out);
  ws_value_free(ctx);
}

Test(mustache, compiles_once_renders_many) {
  ws_mustache *tpl;
  const char *src = "{{#people}}<li>{{name}}</li>{{/people}}";
  cr_assert_eq(ws_mustache_compile(&tpl, "list", src, strlen(src)), 0);
  cr_expect_str_eq(ws_mustache_name(tpl), "list");
  for (int i = 0; i < 1000; i++) {
    ws_value *ctx = ws_value_map(), *people = ws_value_list();
    ws_str out = WS_STR_INIT, want = WS_STR_INIT;
    for (int j = 0; j < i % 5; j++) {
      ws_value *p = ws_value_map();
      ws_value_set_num(p, "name", i * 10 + j);
      ws_value_push(people, p);
      ws_str_printf(&want, "<li>%d</li>", i * 10 + j);
    }
    ws_value_set(ctx, "people", people);
    cr_assert_eq(ws_mustache_render(&out, tpl, ctx, NULL), 0);
    cr_assert_str_eq(out.ptr, want.ptr, "render %d", i);
    ws_str_release(&out);
    ws_str_release(&want);
    ws_value_free(ctx);
  }
  ws_mustache_free(tpl);
}

Test(mustache, values_are_not_templates) {
  ws_value *ctx = ws_value_map();
  ws_value_set_str(ctx, "name", "Ada");
  ws_value_set_str(ctx, "bio", "I write {{name}} and {{#x}}{{/x}}");
  ws_str out = WS_STR_INIT;
  cr_assert_eq(render(&out, "{{bio}}|{{{bio}}}", ctx, NULL), 0);
  cr_expect_str_eq(out.ptr, "I write {{name}} and {{#x}}{{/x}}|"
                            "I write {{name}} and {{#x}}{{/x}}");
  ws_str_release(&out);
  ws_value_free(ctx);
}

Test(mustache, missing_partial_renders_nothing) {
  ws_value *partials = ws_value_map();
  ws_str out = WS_STR_INIT;
  cr_assert_eq(render(&out, "[{{>nope}}][{{<nada}}{{/nada}}]", NULL, partials),
               0);
  cr_expect_str_eq(out.ptr, "[][]");
  ws_str_release(&out);
  ws_value_free(partials);
}

Test(mustache, env_get_caches_and_reports_missing) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "a", "A");
  ws_mustache_env *env = ws_mustache_env_new(load_map, partials);
  const ws_mustache *one, *two;
  cr_assert_eq(ws_mustache_env_get(&one, env, "a"), 0);
  cr_assert_eq(ws_mustache_env_get(&two, env, "a"), 0);
  cr_expect_eq(one, two);
  cr_expect_eq(ws_mustache_env_get(&one, env, "zz"), WS_ENOTFOUND);
  cr_expect_null(one);
  ws_mustache_env_free(env);
  ws_value_free(partials);
}

typedef struct {
  const ws_mustache *tpl;
  const ws_value *ctx;
  ws_mustache_env *env;
  ws_str out;
  int rc;
} job;

static void *render_many(void *payload) {
  job *j = payload;
  for (int i = 0; i < 500 && j->rc == 0; i++) {
    ws_str_clear(&j->out);
    j->rc = ws_mustache_render(&j->out, j->tpl, j->ctx, j->env);
  }
  return NULL;
}

Test(mustache, shared_env_renders_identically_in_threads) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "layout",
                   "<main>\n  {{$body}}none{{/body}}\n</main>\n");
  ws_value_set_str(partials, "item", "<li>{{name}}</li>\n");
  ws_value *ctx = ws_value_map(), *list = ws_value_list();
  for (int i = 0; i < 20; i++) {
    ws_value *p = ws_value_map();
    ws_value_set_num(p, "name", i);
    ws_value_push(list, p);
  }
  ws_value_set(ctx, "items", list);
  const char *src = "{{<layout}}{{$body}}\n<ul>\n{{#items}}\n  {{>item}}\n"
                    "{{/items}}\n</ul>\n{{/body}}{{/layout}}";
  ws_mustache *tpl;
  cr_assert_eq(ws_mustache_compile(&tpl, "page", src, strlen(src)), 0);
  ws_mustache_env *env = ws_mustache_env_new(load_map, partials);
  ws_str want = WS_STR_INIT;
  ws_mustache_env *solo = ws_mustache_env_new(load_map, partials);
  cr_assert_eq(ws_mustache_render(&want, tpl, ctx, solo), 0);
  ws_mustache_env_free(solo);
  job jobs[2];
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    jobs[i] = (job){tpl, ctx, env, WS_STR_INIT, 0};
    cr_assert_eq(pthread_create(&th[i], NULL, render_many, &jobs[i]), 0);
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(th[i], NULL);
    cr_expect_eq(jobs[i].rc, 0);
    cr_expect_str_eq(jobs[i].out.ptr, want.ptr, "thread %d", i);
    ws_str_release(&jobs[i].out);
  }
  cr_expect(strstr(want.ptr, "<main>\n  <ul>\n    <li>0</li>\n") != NULL, "%s",
            want.ptr);
  ws_str_release(&want);
  ws_mustache_env_free(env);
  ws_mustache_free(tpl);
  ws_value_free(ctx);
  ws_value_free(partials);
}

static void collect_name(const char *name, void *payload) {
  ws_str *s = payload;
  ws_str_printf(s, "%s,", name ? name : "*");
}

/* Incremental builds hash only the keys a page's templates can show, so
 * every way of naming a key must be reported, and nothing else. */
Test(mustache, names_lists_every_key_and_include) {
  static const char src[] =
      "{{a}}{{{b}}}{{&c}}{{#d}}{{e.f}}{{^g}}{{.}}{{/g}}{{/d}}"
      "{{! comment }}{{>card}}{{<base}}{{$slot}}{{h}}{{/slot}}{{/base}}"
      "{{>*which.one}}{{=<% %>=}}<%i%>";
  ws_mustache *t;
  ws_str keys = WS_STR_INIT;
  cr_assert_eq(ws_mustache_compile(&t, "t", src, strlen(src)), 0, "%s",
               ws_error_last());
  /* Keys and includes into one list, to see their order too. */
  ws_mustache_names(t, collect_name, collect_name, &keys);
  cr_expect_str_eq(keys.ptr, "a,b,c,d,e,f,g,card,base,h,*,which,one,i,");
  ws_str_release(&keys);
  ws_mustache_free(t);
}
