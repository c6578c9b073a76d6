/* test_mustache.c - errors, limits and guarantees of the template engine.
 *
 * Spec conformance is in test_mustache_spec.c; this file checks what the
 * spec leaves to us: messages with positions, recursion limits, thread
 * safety and that failures leave the output alone.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* --- the memo of partials --- */

/* Renders 'srcs[k]' against 'pages[k]' for each k, three rounds over, with
 * one memo; checks every text against a render without it and returns how
 * many partials the memo gave. */
static size_t render_with_memo(const char **srcs, ws_value **pages, size_t n,
                               ws_value *partials) {
  ws_mustache_env *env = ws_mustache_env_new(load_map, partials);
  ws_mustache_memo *memo = ws_mustache_memo_new();
  ws_mustache **tpls = calloc(n, sizeof(ws_mustache *));
  for (size_t k = 0; k < n; k++)
    cr_assert_eq(
        ws_mustache_compile(&tpls[k], "page", srcs[k], strlen(srcs[k])), 0,
        "%s", ws_error_last());
  for (int round = 0; round < 3; round++)
    for (size_t k = 0; k < n; k++) {
      ws_str got = WS_STR_INIT, want = WS_STR_INIT;
      cr_assert_eq(ws_mustache_render(&want, tpls[k], pages[k], env), 0);
      cr_assert_eq(ws_mustache_render_memo(&got, tpls[k], pages[k], env, memo),
                   0);
      cr_expect_str_eq(got.ptr, want.ptr, "round %d, page %zu", round, k);
      ws_str_release(&got);
      ws_str_release(&want);
    }
  size_t replays = ws_mustache_memo_replays(memo);
  ws_mustache_memo_free(memo);
  for (size_t k = 0; k < n; k++)
    ws_mustache_free(tpls[k]);
  free(tpls);
  ws_mustache_env_free(env);
  return replays;
}

static ws_value *person(const char *name, const char *team, bool lasting) {
  ws_value *p = ws_value_map();
  ws_value_set_str(p, "name", name);
  ws_value_set_str(p, "team", team);
  p->lasting = lasting;
  return p;
}

/* A page of 'people' (borrowed) with "root" and any of "team", "pronouns"
 * and "tags" of its own. */
static ws_value *page_of(ws_value **people, size_t n, const char *root,
                         const char *team, const char *pronouns, int ntags) {
  ws_value *page = ws_value_map(), *list = ws_value_list();
  for (size_t i = 0; i < n; i++)
    ws_value_push(list, ws_value_ref(people[i]));
  ws_value_set(page, "people", list);
  ws_value_set_str(page, "root", root);
  ws_value_set_str(page, "team", team);
  ws_value_set_str(page, "pronouns", pronouns);
  if (ntags) {
    ws_value *tags = ws_value_list();
    for (int i = 0; i < ntags; i++)
      ws_value_push(tags, ws_value_number(i));
    ws_value_set(page, "tags", tags);
  }
  return page;
}

/* What a card finds outside its person, "root" and any name the person
 * lacks (Bo's team, everyone's pronouns), differs between pages: the memo
 * gives a card only where all of it is as it was. */
Test(mustache, memo_gives_a_partial_where_what_it_read_is_the_same) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "card",
                   "<li>{{root}}{{name}}{{#team}} ({{team}}){{/team}}"
                   "{{^pronouns}} -{{/pronouns}}{{#pronouns}} "
                   "{{.}}{{/pronouns}}</li>");
  ws_value *people[2] = {person("Ada", "web", true), person("Bo", NULL, true)};
  ws_value *pages[3] = {page_of(people, 2, "../../", NULL, NULL, 0),
                        page_of(people, 2, "", NULL, NULL, 0),
                        page_of(people, 2, "../../", "ops", "they", 0)};
  const char *src = "{{#people}}{{>card}}{{/people}}";
  const char *srcs[3] = {src, src, src};
  /* Each card: met on the first page, recorded on the second and third,
   * again on the first page of round two (its pronouns differ from the
   * third's), then given for the other five. */
  cr_expect_eq(render_with_memo(srcs, pages, 3, partials), 10);
  ws_str out = WS_STR_INIT; /* the pages do differ where the memo looks */
  cr_assert_eq(render(&out, src, pages[2], partials), 0);
  cr_expect_str_eq(out.ptr, "<li>../../Ada (web) they</li>"
                            "<li>../../Bo (ops) they</li>");
  ws_str_release(&out);
  for (int i = 0; i < 3; i++)
    ws_value_free(pages[i]);
  for (int i = 0; i < 2; i++)
    ws_value_free(people[i]);
  ws_value_free(partials);
}

/* Where a replay could not stand for rendering, the memo renders: a map
 * that is not lasting, a list found outside the person, a block (its
 * override comes from the page) and an indented partial. */
Test(mustache, memo_renders_what_it_cannot_stand_for) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "card", "<{{name}}{{#tags}},{{.}}{{/tags}}>");
  ws_value_set_str(partials, "blocky", "<{{name}}{{$b}}-{{/b}}>");
  ws_value_set_str(partials, "list", "{{#people}}{{>blocky}}{{/people}}");
  ws_value_set_str(partials, "line", "{{name}}\n");
  ws_value *fleeting[1] = {person("Ada", NULL, false)};
  ws_value *lasting[1] = {person("Bo", NULL, true)};
  struct {
    const char *srcs[2];
    ws_value **people;
    int ntags[2];
  } cases[] = {
      {{"{{#people}}{{>card}}{{/people}}", "{{#people}}{{>card}}{{/people}}"},
       fleeting,
       {0, 0}},
      {{"{{#people}}{{>card}}{{/people}}", "{{#people}}{{>card}}{{/people}}"},
       lasting,
       {1, 2}},
      {{"{{<list}}{{$b}}+{{/b}}{{/list}}", "{{<list}}{{$b}}*{{/b}}{{/list}}"},
       lasting,
       {0, 0}},
      {{"{{#people}}\n  {{>line}}\n{{/people}}",
        "{{#people}}\n    {{>line}}\n{{/people}}"},
       lasting,
       {0, 0}},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    ws_value *pages[2];
    for (int k = 0; k < 2; k++)
      pages[k] = page_of(cases[c].people, 1, "", NULL, NULL, cases[c].ntags[k]);
    cr_expect_eq(render_with_memo(cases[c].srcs, pages, 2, partials), 0,
                 "case %zu", c);
    for (int k = 0; k < 2; k++)
      ws_value_free(pages[k]);
  }
  ws_value_free(fleeting[0]);
  ws_value_free(lasting[0]);
  ws_value_free(partials);
}

typedef struct {
  const ws_mustache *tpl;
  const ws_value *ctx;
  ws_mustache_env *env;
  ws_mustache_memo *memo;
  ws_str out;
  int rc;
} memo_job;

static void *render_many_memo(void *payload) {
  memo_job *j = payload;
  for (int i = 0; i < 200 && j->rc == 0; i++) {
    ws_str_clear(&j->out);
    j->rc = ws_mustache_render_memo(&j->out, j->tpl, j->ctx, j->env, j->memo);
  }
  return NULL;
}

Test(mustache, a_shared_memo_renders_identically_in_threads) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "card", "<li>{{root}}{{name}} {{team}}</li>\n");
  ws_value *people[40];
  for (int i = 0; i < 40; i++) {
    char name[16];
    snprintf(name, sizeof(name), "p%d", i);
    people[i] = person(name, i % 3 ? "web" : NULL, true);
  }
  ws_value *pages[2] = {page_of(people, 40, "../", "ops", NULL, 0),
                        page_of(people, 40, "", NULL, NULL, 0)};
  const char *src = "<ul>\n{{#people}}\n{{>card}}\n{{/people}}\n</ul>\n";
  ws_mustache *tpl;
  cr_assert_eq(ws_mustache_compile(&tpl, "page", src, strlen(src)), 0);
  ws_mustache_env *env = ws_mustache_env_new(load_map, partials);
  ws_mustache_memo *memo = ws_mustache_memo_new();
  memo_job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (memo_job){tpl, pages[i % 2], env, memo, WS_STR_INIT, 0};
    cr_assert_eq(pthread_create(&th[i], NULL, render_many_memo, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    ws_str want = WS_STR_INIT;
    pthread_join(th[i], NULL);
    cr_assert_eq(ws_mustache_render(&want, tpl, pages[i % 2], env), 0);
    cr_expect_eq(jobs[i].rc, 0);
    cr_expect_str_eq(jobs[i].out.ptr, want.ptr, "thread %d", i);
    ws_str_release(&jobs[i].out);
    ws_str_release(&want);
  }
  cr_expect_gt(ws_mustache_memo_replays(memo), 40 * 2 * 190);
  ws_mustache_memo_free(memo);
  ws_mustache_env_free(env);
  ws_mustache_free(tpl);
  for (int i = 0; i < 2; i++)
    ws_value_free(pages[i]);
  for (int i = 0; i < 40; i++)
    ws_value_free(people[i]);
  ws_value_free(partials);
}

/* A partial that writes nothing leaves the line as it found it: at a line
 * start after a tag on a line of its own, mid-line after an inline tag.
 * Text that follows in an indented partial is indented only at a line
 * start, so a replay must not carry one over to the other. */
Test(mustache, memo_keeps_where_on_the_line_a_partial_leaves_off) {
  ws_value *partials = ws_value_map();
  ws_value_set_str(partials, "empty", "{{#nothing}}x{{/nothing}}");
  ws_value_set_str(partials, "box", "{{#people}}[{{>empty}}]\n{{/people}}");
  ws_value_set_str(partials, "list", "{{#people}}\n{{>empty}}\n{{/people}}");
  ws_value *people[1] = {person("Ada", NULL, true)};
  ws_value *pages[2] = {page_of(people, 1, "", NULL, NULL, 0),
                        page_of(people, 1, "", NULL, NULL, 0)};
  const char *srcs[2] = {"  {{>box}}\n", "{{>list}}"}; /* nested alike */
  cr_expect_eq(render_with_memo(srcs, pages, 2, partials), 3);
  ws_str out = WS_STR_INIT;
  cr_assert_eq(render(&out, srcs[0], pages[0], partials), 0);
  cr_expect_str_eq(out.ptr, "  []\n");
  ws_str_release(&out);
  for (int k = 0; k < 2; k++)
    ws_value_free(pages[k]);
  ws_value_free(people[0]);
  ws_value_free(partials);
}

/* Dotted names resolve part by part, each part in what the one before
 * found and nowhere else, at any depth, in variables and sections alike
 * (each part's hash is kept from compiling). */
Test(mustache, dotted_names_resolve_part_by_part) {
  ws_value *ctx = ws_value_map(), *a = ws_value_map(), *b = ws_value_map(),
           *c = ws_value_map(), *list = ws_value_list();
  ws_value_set_str(c, "d", "deep");
  ws_value_set(b, "c", c);
  ws_value_set_str(b, "name", "bee");
  ws_value_set(a, "b", b);
  ws_value_set_str(a, "name", "ay");
  ws_value_set(ctx, "a", a);
  ws_value_set_str(ctx, "d", "outer d");
  ws_value_set_str(ctx, "title", "top");
  ws_value *item = ws_value_map(), *inner = ws_value_map();
  ws_value_set_str(inner, "title", "inner title");
  ws_value_set(item, "x", inner);
  ws_value_push(list, item);
  ws_value_set(ctx, "items", list);
  ws_str out = WS_STR_INIT;
  cr_assert_eq(render(&out,
                      "{{a.name}}|{{a.b.name}}|{{a.b.c.d}}|{{a.b.c.title}}|"
                      "{{#a.b.c}}{{d}}/{{title}}{{/a.b.c}}|"
                      "{{#items}}{{x.title}}+{{title}}{{/items}}|"
                      "{{^a.b.missing}}none{{/a.b.missing}}|{{a.name.x}}",
                      ctx, NULL),
               0);
  cr_expect_str_eq(out.ptr, "ay|bee|deep||deep/top|inner title+top|none|");
  ws_str_release(&out);
  ws_value_free(ctx);
}
