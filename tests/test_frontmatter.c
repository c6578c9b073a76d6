/* test_frontmatter.c - fences, YAML typing, positions and refusals. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "frontmatter.h"
#include "str.h"
#include "value.h"

static const ws_value *get(const ws_value *map, const char *key) {
  const ws_value *v = ws_value_get(map, key);
  cr_assert_not_null(v, "key '%s' is missing", key);
  return v;
}

static void expect_at(const ws_value *v, unsigned line, unsigned col,
                      const char *what) {
  cr_expect_eq(v->line, line, "%s: line %u, expected %u", what, v->line, line);
  cr_expect_eq(v->col, col, "%s: col %u, expected %u", what, v->col, col);
}

static void expect_key_at(const ws_value *map, const char *key, unsigned line,
                          unsigned col) {
  const ws_value_entry *e = ws_value_entry_get(map, key);
  cr_assert_not_null(e, "key '%s' is missing", key);
  cr_expect_eq(e->line, line, "key %s: line %u, expected %u", key, e->line,
               line);
  cr_expect_eq(e->col, col, "key %s: col %u, expected %u", key, e->col, col);
}

static void expect_str(const ws_value *v, const char *s, const char *what) {
  cr_assert_eq(v->type, WS_VALUE_STRING, "%s: type %s", what,
               ws_value_type_name(v->type));
  cr_expect_str_eq(v->u.string.ptr, s, "%s", what);
}

/* Parses front matter that must be valid. */
static void parse_ok(ws_frontmatter *fm, const char *src, size_t len) {
  ws_diag diag = WS_DIAG_INIT;
  int rc = ws_frontmatter_parse(fm, "people/a.md", src, len, &diag);
  cr_assert_eq(rc, 0, "parse failed: %s",
               diag.len ? diag.items[0].message : "");
  cr_assert_eq(diag.len, 0);
  cr_assert_not_null(fm->data);
  cr_assert_eq(fm->data->type, WS_VALUE_MAP);
  ws_diag_release(&diag);
}

/* Parses front matter that must be refused with exactly one diagnostic at
 * 'line':'col' with 'code' and a message containing 'needle'. */
static void parse_bad(const char *src, size_t len, unsigned line, unsigned col,
                      const char *code, const char *needle) {
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  ws_diag diag = WS_DIAG_INIT;
  int rc = ws_frontmatter_parse(&fm, "people/a.md", src, len, &diag);
  cr_assert_eq(rc, WS_EINVALID, "expected failure for %s", code);
  cr_assert_null(fm.data);
  cr_assert_eq(diag.len, 1, "%zu diagnostics", diag.len);
  const ws_diag_item *it = &diag.items[0];
  cr_expect_str_eq(it->file, "people/a.md");
  cr_expect_eq(it->severity, WS_DIAG_ERROR);
  cr_expect_str_eq(it->code, code);
  cr_expect_eq(it->line, line, "%s: line %u, expected %u (%s)", code, it->line,
               line, it->message);
  cr_expect_eq(it->col, col, "%s: col %u, expected %u (%s)", code, it->col, col,
               it->message);
  cr_expect_not_null(strstr(it->message, needle), "%s: message '%s'", code,
                     it->message);
  ws_frontmatter_release(&fm);
  ws_diag_release(&diag);
}

static void load_bad(const char *src, unsigned line, unsigned col,
                     const char *code, const char *needle) {
  ws_value *v = (ws_value *)1;
  ws_diag diag = WS_DIAG_INIT;
  int rc = ws_yaml_load(&v, "site.yml", src, strlen(src), 1, &diag);
  cr_assert_eq(rc, WS_EINVALID, "expected failure for %s", code);
  cr_assert_null(v);
  cr_assert_eq(diag.len, 1, "%zu diagnostics", diag.len);
  cr_expect_str_eq(diag.items[0].code, code);
  cr_expect_eq(diag.items[0].line, line, "%s: line %u (%s)", code,
               diag.items[0].line, diag.items[0].message);
  cr_expect_eq(diag.items[0].col, col, "%s: col %u (%s)", code,
               diag.items[0].col, diag.items[0].message);
  cr_expect_not_null(strstr(diag.items[0].message, needle), "%s: message '%s'",
                     code, diag.items[0].message);
  ws_diag_release(&diag);
}

#define PROFILE                                                                \
  "---" NL "name: Amara Okafor" NL "mentoring:" NL "  seeking:" NL             \
  "    types: [sponsor, challenger]" NL "---" NL "Body" NL

static void expect_profile(const ws_frontmatter *fm, const char *nl) {
  const ws_value *d = fm->data;
  expect_key_at(d, "name", 2, 1);
  expect_at(get(d, "name"), 2, 7, "name");
  expect_str(get(d, "name"), "Amara Okafor", "name");
  expect_key_at(d, "mentoring", 3, 1);
  const ws_value *m = get(d, "mentoring");
  cr_assert_eq(m->type, WS_VALUE_MAP);
  expect_at(m, 4, 3, "mentoring");
  expect_key_at(m, "seeking", 4, 3);
  const ws_value *s = get(m, "seeking");
  expect_key_at(s, "types", 5, 5);
  const ws_value *t = get(s, "types");
  cr_assert_eq(t->type, WS_VALUE_LIST);
  cr_assert_eq(t->u.list.len, 2);
  expect_at(t, 5, 12, "types");
  expect_at(t->u.list.items[0], 5, 13, "sponsor");
  expect_at(t->u.list.items[1], 5, 22, "challenger");
  expect_str(t->u.list.items[1], "challenger", "challenger");
  cr_expect_eq(fm->body_line, 7);
  ws_str body = WS_STR_INIT;
  ws_str_printf(&body, "Body%s", nl);
  cr_expect_eq(fm->body_len, body.len);
  cr_expect_eq(memcmp(fm->body, body.ptr, body.len), 0);
  ws_str_release(&body);
}

Test(frontmatter, typed_scalars) {
  static const char src[] = "n1: null\n"
                            "n2: ~\n"
                            "n3:\n"
                            "n4: NULL\n"
                            "b1: true\n"
                            "b2: False\n"
                            "b3: TRUE\n"
                            "b4: yes\n"
                            "i: 42\n"
                            "neg: -7\n"
                            "plus: +3\n"
                            "zero: 007\n"
                            "f: 3.25\n"
                            "e: 1e3\n"
                            "dot: .5\n"
                            "date: 2019-04-01\n"
                            "quoted: \"42\"\n"
                            "single: 'true'\n"
                            "lit: |\n  two\n  lines\n"
                            "fold: >\n  folded\n  text\n"
                            "str: hello world\n"
                            "hex: 0x1F\n"
                            "inf: .inf\n"
                            "huge: 1e999\n"
                            "tagged: !!str 12\n"
                            "version: 1.2.3\n"
                            "empty_q: ''\n";
  ws_value *v = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_yaml_load(&v, "t.yml", src, strlen(src), 1, &diag), 0);
  cr_assert_eq(v->type, WS_VALUE_MAP);
  static const char *const nulls[] = {"n1", "n2", "n3", "n4"};
  for (size_t i = 0; i < 4; i++)
    cr_expect_eq(get(v, nulls[i])->type, WS_VALUE_NULL, "%s", nulls[i]);
  static const struct {
    const char *key;
    bool b;
  } bools[] = {{"b1", true}, {"b2", false}, {"b3", true}};
  for (size_t i = 0; i < 3; i++) {
    const ws_value *b = get(v, bools[i].key);
    cr_expect_eq(b->type, WS_VALUE_BOOL, "%s", bools[i].key);
    cr_expect_eq(b->u.boolean, bools[i].b, "%s", bools[i].key);
  }
  static const struct {
    const char *key;
    double n;
  } nums[] = {{"i", 42},   {"neg", -7}, {"plus", 3}, {"zero", 7},
              {"f", 3.25}, {"e", 1000}, {"dot", 0.5}};
  for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
    const ws_value *n = get(v, nums[i].key);
    cr_expect_eq(n->type, WS_VALUE_NUMBER, "%s", nums[i].key);
    cr_expect_float_eq(n->u.number, nums[i].n, 1e-12, "%s", nums[i].key);
  }
  static const struct {
    const char *key, *s;
  } strs[] = {{"b4", "yes"},           {"date", "2019-04-01"},
              {"quoted", "42"},        {"single", "true"},
              {"lit", "two\nlines\n"}, {"fold", "folded text\n"},
              {"str", "hello world"},  {"hex", "0x1F"},
              {"inf", ".inf"},         {"huge", "1e999"},
              {"tagged", "12"},        {"version", "1.2.3"},
              {"empty_q", ""}};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
    expect_str(get(v, strs[i].key), strs[i].s, strs[i].key);
  cr_expect_eq(diag.len, 0);
  ws_value_free(v);
  ws_diag_release(&diag);
}

Test(frontmatter, positions_of_values_and_keys) {
#define NL "\n"
  static const char src[] = PROFILE;
#undef NL
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  expect_profile(&fm, "\n");
  ws_frontmatter_release(&fm);
  cr_expect_null(fm.data);
}

Test(frontmatter, crlf_file) {
#define NL "\r\n"
  static const char src[] = PROFILE;
#undef NL
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  expect_profile(&fm, "\r\n");
  ws_frontmatter_release(&fm);
}

Test(frontmatter, lone_cr_file) {
#define NL "\r"
  static const char src[] = PROFILE;
#undef NL
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  expect_profile(&fm, "\r");
  ws_frontmatter_release(&fm);
}

Test(frontmatter, bom_file) {
#define NL "\n"
  static const char src[] = "\xEF\xBB\xBF" PROFILE;
#undef NL
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  expect_profile(&fm, "\n");
  ws_frontmatter_release(&fm);
}

/* Columns count code points, a tab is one column. */
Test(frontmatter, tabs_and_multibyte_columns) {
  static const char src[] = "---\n"
                            "t:\tvalue\n"
                            "k: [\xC3\xA9, \xC3\xBC, z]\n"
                            "\xCE\xA9\xCE\xBC: \xF0\x9F\x99\x82 x\n"
                            "---\n";
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  expect_at(get(fm.data, "t"), 2, 4, "after tab");
  const ws_value *k = get(fm.data, "k");
  cr_assert_eq(k->type, WS_VALUE_LIST);
  cr_assert_eq(k->u.list.len, 3);
  expect_at(k->u.list.items[1], 3, 8, "u-umlaut");
  expect_at(k->u.list.items[2], 3, 11, "z");
  expect_key_at(fm.data, "\xCE\xA9\xCE\xBC", 4, 1);
  const ws_value *emoji = get(fm.data, "\xCE\xA9\xCE\xBC");
  expect_at(emoji, 4, 5, "emoji");
  expect_str(emoji, "\xF0\x9F\x99\x82 x", "emoji");
  ws_frontmatter_release(&fm);
}

/* libyaml counts U+2028 as a line break; git and editors do not. */
Test(frontmatter, line_separator_is_not_a_line_break) {
  static const char src[] = "---\n"
                            "a: \"x\xE2\x80\xA8y\"\n"
                            "b: 1\n"
                            "---\n";
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  expect_key_at(fm.data, "b", 3, 1);
  expect_at(get(fm.data, "b"), 3, 4, "b");
  cr_expect_eq(fm.body_line, 5);
  ws_frontmatter_release(&fm);
}

Test(frontmatter, unclosed_fence_reports_line) {
  const char *src = "---\nname: A\nteam: B\n";
  parse_bad(src, strlen(src), 1, 1, "frontmatter-unclosed", "never closed");
  parse_bad("---", 3, 1, 1, "frontmatter-unclosed", "never closed");
  parse_bad("---\r\n--- x\r\n", 12, 1, 1, "frontmatter-unclosed",
            "never closed");
}

Test(frontmatter, syntax_error_reports_line_col) {
  const char *src = "---\nname: A\nteam: b: c\n---\nBody\n";
  parse_bad(src, strlen(src), 3, 8, "yaml-syntax",
            "invalid YAML: mapping values are not allowed in this context");
  src = "---\r\nname: A\r\nteam: b: c\r\n---\r\n";
  parse_bad(src, strlen(src), 3, 8, "yaml-syntax", "mapping values");
  src = "---\nname: \"A\nteam: B\n---\n";
  parse_bad(src, strlen(src), 4, 1, "yaml-syntax",
            "while scanning a quoted scalar (started on line 2, column 7)");
}

Test(frontmatter, duplicate_key) {
  const char *src = "---\nname: A\nteam: X\nname: B\n---\n";
  parse_bad(src, strlen(src), 4, 1, "yaml-duplicate-key",
            "duplicate key 'name' (first on line 2)");
  src = "---\nm:\n  a: 1\n  b: {x: 1, y: 2, x: 3}\n---\n";
  parse_bad(src, strlen(src), 4, 19, "yaml-duplicate-key",
            "duplicate key 'x' (first on line 4)");
  /* Shown on one line, and not too long. */
  src = "---\n\"a\\nb\": 1\n\"a\\nb\": 2\n---\n";
  parse_bad(src, strlen(src), 3, 1, "yaml-duplicate-key",
            "duplicate key 'a?b' (first on line 2)");
  ws_str long_key = WS_STR_INIT;
  ws_str_puts(&long_key, "---\n");
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 100; j++)
      ws_str_puts(&long_key, "\xC3\xA9");
    ws_str_puts(&long_key, ": x\n");
  }
  ws_str_puts(&long_key, "---\n");
  parse_bad(long_key.ptr, long_key.len, 3, 1, "yaml-duplicate-key",
            "\xC3\xA9...' (first on line 2)");
  ws_str_release(&long_key);
  /* Same key in different maps is fine. */
  src = "---\na: {x: 1}\nb: {x: 2}\n---\n";
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src, strlen(src));
  ws_frontmatter_release(&fm);
}

/* Enough keys to go through the key index's growth. */
Test(frontmatter, duplicate_key_in_large_map) {
  ws_str src = WS_STR_INIT;
  ws_str_puts(&src, "---\n");
  for (int i = 0; i < 500; i++)
    ws_str_printf(&src, "key%d: %d\n", i, i);
  ws_str_puts(&src, "---\n");
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, src.ptr, src.len);
  cr_expect_eq(fm.data->u.map.len, 500);
  cr_expect_float_eq(get(fm.data, "key321")->u.number, 321, 1e-9);
  expect_key_at(fm.data, "key321", 323, 1);
  ws_frontmatter_release(&fm);

  ws_str_truncate(&src, src.len - 4);
  ws_str_puts(&src, "key123: again\n---\n");
  parse_bad(src.ptr, src.len, 502, 1, "yaml-duplicate-key",
            "duplicate key 'key123' (first on line 125)");
  ws_str_release(&src);
}

Test(frontmatter, alias_refused) {
  const char *src = "---\na: &x 1\nb: *x\n---\n";
  parse_bad(src, strlen(src), 2, 4, "yaml-alias", "anchors are not supported");
  src = "---\nb: *x\n---\n";
  parse_bad(src, strlen(src), 2, 4, "yaml-alias",
            "YAML aliases are not supported");
  src = "---\nl: &list [1]\n---\n";
  parse_bad(src, strlen(src), 2, 4, "yaml-alias", "anchors are not supported");
}

Test(frontmatter, billion_laughs_returns_quickly, .timeout = 5) {
  ws_str src = WS_STR_INIT;
  ws_str_puts(&src, "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
  for (char c = 'b'; c <= 'z'; c++)
    ws_str_printf(&src, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c,
                  c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1,
                  c - 1);
  ws_str_puts(&src, "---\n");
  parse_bad(src.ptr, src.len, 2, 4, "yaml-alias", "not supported");
  ws_str_release(&src);
}

static void nested(ws_str *s, size_t depth) {
  ws_str_clear(s);
  for (size_t i = 0; i < depth; i++)
    ws_str_putc(s, '[');
  for (size_t i = 0; i < depth; i++)
    ws_str_putc(s, ']');
}

Test(frontmatter, depth_limit, .timeout = 5) {
  ws_str s = WS_STR_INIT;
  ws_diag diag = WS_DIAG_INIT;
  ws_value *v = NULL;
  nested(&s, WS_YAML_MAX_DEPTH);
  cr_assert_eq(ws_yaml_load(&v, "d.yml", s.ptr, s.len, 1, &diag), 0);
  cr_expect_eq(v->type, WS_VALUE_LIST);
  ws_value_free(v);
  nested(&s, WS_YAML_MAX_DEPTH + 1);
  load_bad(s.ptr, 1, WS_YAML_MAX_DEPTH + 1, "yaml-depth", "nested too deeply");
  nested(&s, 200000);
  load_bad(s.ptr, 1, WS_YAML_MAX_DEPTH + 1, "yaml-depth", "nested too deeply");

  /* Block nesting in front matter: the top map is level 1. */
  ws_str_clear(&s);
  ws_str_puts(&s, "---\n");
  for (size_t i = 0; i < WS_YAML_MAX_DEPTH + 1; i++) {
    for (size_t j = 0; j < i; j++)
      ws_str_putc(&s, ' ');
    ws_str_puts(&s, "k:\n");
  }
  ws_str_puts(&s, "---\n");
  parse_bad(s.ptr, s.len, WS_YAML_MAX_DEPTH + 2, WS_YAML_MAX_DEPTH + 1,
            "yaml-depth", "nested too deeply");
  ws_str_release(&s);
  ws_diag_release(&diag);
}

Test(frontmatter, non_scalar_key) {
  const char *src = "---\n? [a, b]\n: c\n---\n";
  parse_bad(src, strlen(src), 2, 3, "yaml-key", "not a list");
  src = "---\n{x: 1}: c\n---\n";
  parse_bad(src, strlen(src), 2, 1, "yaml-key", "not a mapping");
  src = "---\n\"a\\0b\": c\n---\n";
  parse_bad(src, strlen(src), 2, 1, "yaml-key", "NUL");
}

Test(frontmatter, no_front_matter) {
  static const char *const cases[] = {
      "# Hello\n\nText\n", "", "--- title\nx\n---\n", "\n---\na: 1\n---\n",
      "----\na: 1\n----\n"};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ws_frontmatter fm = WS_FRONTMATTER_INIT;
    size_t len = strlen(cases[i]);
    parse_ok(&fm, cases[i], len);
    cr_expect_eq(fm.data->u.map.len, 0, "case %zu", i);
    cr_expect_eq(fm.body, cases[i], "case %zu", i);
    cr_expect_eq(fm.body_len, len, "case %zu", i);
    cr_expect_eq(fm.body_line, 1, "case %zu", i);
    ws_frontmatter_release(&fm);
  }
  /* A BOM is not part of the body. */
  static const char bom[] = "\xEF\xBB\xBF# Hi\n";
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  parse_ok(&fm, bom, strlen(bom));
  cr_expect_eq(fm.body, bom + 3);
  cr_expect_eq(fm.body_len, 5);
  ws_frontmatter_release(&fm);
}

Test(frontmatter, body_and_body_line) {
  static const struct {
    const char *src, *body;
    unsigned line;
  } cases[] = {
      {"---\na: 1\n...\n\nBody\n", "\nBody\n", 4},
      {"---  \na: 1\n--- \t\nBody", "Body", 4},
      {"---\na: 1\n---", "", 4},
      {"---\r\na: 1\r\n---\r\nBody\r\n", "Body\r\n", 4},
      {"---\ra: 1\r\r---\rBody\r", "Body\r", 5},
      {"---\nbio: |\n  text\n  ---\n---\nB", "B", 6},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ws_frontmatter fm = WS_FRONTMATTER_INIT;
    parse_ok(&fm, cases[i].src, strlen(cases[i].src));
    cr_expect_eq(fm.body_len, strlen(cases[i].body), "case %zu", i);
    cr_expect_eq(memcmp(fm.body, cases[i].body, fm.body_len), 0, "case %zu", i);
    cr_expect_eq(fm.body_line, cases[i].line, "case %zu: body line %u", i,
                 fm.body_line);
    cr_expect_eq(fm.data->u.map.len, 1, "case %zu", i);
    ws_frontmatter_release(&fm);
  }
}

Test(frontmatter, empty_front_matter) {
  static const char *const cases[] = {"---\n---\nBody\n",
                                      "---\n# just a comment\n\n---\nBody\n",
                                      "---\n...\nBody\n"};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ws_frontmatter fm = WS_FRONTMATTER_INIT;
    parse_ok(&fm, cases[i], strlen(cases[i]));
    cr_expect_eq(fm.data->u.map.len, 0, "case %zu", i);
    cr_expect_str_eq(fm.body, "Body\n", "case %zu", i);
    ws_frontmatter_release(&fm);
  }
  ws_value *v = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_yaml_load(&v, "site.yml", "", 0, 1, &diag), 0);
  cr_expect_eq(v->type, WS_VALUE_MAP);
  cr_expect_eq(v->u.map.len, 0);
  ws_value_free(v);
}

Test(frontmatter, not_a_mapping) {
  const char *src = "---\n- a\n- b\n---\n";
  parse_bad(src, strlen(src), 2, 1, "frontmatter-not-map",
            "front matter must be a mapping of keys to values, not a list");
  src = "---\n  hello\n---\n";
  parse_bad(src, strlen(src), 2, 3, "frontmatter-not-map", "not a string");
  src = "---\n~\n---\n";
  parse_bad(src, strlen(src), 2, 1, "frontmatter-not-map", "not a null");
  /* ws_yaml_load itself returns whatever the document is. */
  ws_value *v = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_yaml_load(&v, "x.yml", "[1, 2]", 6, 1, &diag), 0);
  cr_expect_eq(v->type, WS_VALUE_LIST);
  ws_value_free(v);
  cr_assert_eq(ws_yaml_load(&v, "x.yml", "42", 2, 1, &diag), 0);
  cr_expect_eq(v->type, WS_VALUE_NUMBER);
  ws_value_free(v);
}

Test(frontmatter, multiple_documents) {
  const char *src = "---\na: 1\n--- x\n---\n";
  parse_bad(src, strlen(src), 3, 1, "yaml-syntax", "more than one document");
  load_bad("a: 1\n---\nb: 2\n", 2, 1, "yaml-syntax", "more than one document");
}

Test(frontmatter, invalid_utf8) {
  const char *src = "---\nname: A\nbio: caf\xE9\n---\n";
  parse_bad(src, strlen(src), 3, 9, "encoding", "invalid UTF-8");
  src = "---\nname: \xC3\n---\n";
  parse_bad(src, strlen(src), 2, 7, "encoding", "invalid UTF-8");
  /* A UTF-16 BOM is not guessed at: the file must be UTF-8. */
  load_bad("\xFF\xFE", 1, 1, "encoding", "invalid UTF-8");
}

Test(frontmatter, nul_byte) {
  static const char src[] = "---\nname: A\0B\nteam: C\n---\n";
  parse_bad(src, sizeof(src) - 1, 2, 8, "yaml-syntax", "NUL byte");
  static const char ctl[] = "---\nname: A\x01\n---\n";
  parse_bad(ctl, sizeof(ctl) - 1, 2, 8, "yaml-syntax", "U+0001");
}

/* site.yml: a whole file, positions from line 1, BOM skipped. */
Test(frontmatter, yaml_load_whole_file) {
  static const char src[] = "\xEF\xBB\xBFtitle: Team\nbase_url: /x/\n";
  ws_value *v = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_yaml_load(&v, "site.yml", src, strlen(src), 1, &diag), 0);
  expect_key_at(v, "title", 1, 1);
  expect_at(get(v, "title"), 1, 8, "title");
  expect_at(get(v, "base_url"), 2, 11, "base_url");
  ws_value_free(v);
  load_bad("a: 1\nb: [1, 2\nc: 3\n", 3, 2, "yaml-syntax", "invalid YAML");
}
