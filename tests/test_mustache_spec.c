/* test_mustache_spec.c - the official Mustache spec, read with libyaml.
 *
 * JSON is YAML, so the spec files load as YAML; plain scalars are typed
 * here (true, false, null, numbers) and quoted ones stay strings. Lambdas
 * are not supported and their file is skipped.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "error.h"
#include "mustache.h"
#include "str.h"
#include "value.h"

static const char *const files[] = {
    "comments", "delimiters", "interpolation", "inverted",
    "partials", "sections",   "~inheritance",  "~dynamic-names",
};

static ws_value *plain_scalar(const char *s, size_t len) {
  char *end;
  if (strcmp(s, "true") == 0)
    return ws_value_bool(true);
  if (strcmp(s, "false") == 0)
    return ws_value_bool(false);
  if (len == 0 || strcmp(s, "null") == 0 || strcmp(s, "~") == 0)
    return ws_value_null();
  errno = 0;
  double d = strtod(s, &end);
  if (errno == 0 && end == s + len)
    return ws_value_number(d);
  return ws_value_string(s, len);
}

static ws_value *convert(yaml_document_t *doc, yaml_node_t *node, int depth) {
  cr_assert(node && depth < 64, "bad spec document");
  switch (node->type) {
  case YAML_SCALAR_NODE: {
    const char *s = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length;
    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
      return plain_scalar(s, len);
    return ws_value_string(s, len);
  }
  case YAML_SEQUENCE_NODE: {
    ws_value *list = ws_value_list();
    for (yaml_node_item_t *it = node->data.sequence.items.start;
         it < node->data.sequence.items.top; it++)
      ws_value_push(list,
                    convert(doc, yaml_document_get_node(doc, *it), depth + 1));
    return list;
  }
  case YAML_MAPPING_NODE: {
    ws_value *map = ws_value_map();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(doc, p->key);
      cr_assert(k && k->type == YAML_SCALAR_NODE, "non-scalar key");
      ws_value_set(
          map, (const char *)k->data.scalar.value,
          convert(doc, yaml_document_get_node(doc, p->value), depth + 1));
    }
    return map;
  }
  default:
    cr_assert_fail("empty YAML node");
  }
  return NULL;
}

static ws_value *load_json(const char *path) {
  FILE *f = fopen(path, "rb");
  yaml_parser_t parser;
  yaml_document_t doc;
  cr_assert(f, "cannot open %s", path);
  cr_assert(yaml_parser_initialize(&parser));
  yaml_parser_set_input_file(&parser, f);
  cr_assert(yaml_parser_load(&parser, &doc), "%s: %s at line %zu", path,
            parser.problem ? parser.problem : "parse error",
            parser.problem_mark.line + 1);
  ws_value *v = convert(&doc, yaml_document_get_root_node(&doc), 0);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  fclose(f);
  return v;
}

/* Partials come from the test's "partials" map. */
static int load_partial(ws_str *out, const char *name, void *payload) {
  const char *s = ws_value_cstr(ws_value_get(payload, name));
  if (!s)
    return WS_ENOTFOUND;
  ws_str_put(out, s, ws_value_get(payload, name)->u.string.len);
  return 0;
}

static void make_lasting(ws_value *v) {
  v->lasting = true;
  if (v->type == WS_VALUE_LIST)
    for (size_t i = 0; i < v->u.list.len; i++)
      make_lasting(v->u.list.items[i]);
  if (v->type == WS_VALUE_MAP)
    for (size_t i = 0; i < v->u.map.len; i++)
      make_lasting(v->u.map.entries[i].val);
}

/* The memo of partials must not change a case's text: its data is made
 * lasting and rendered three times with one memo, so that partials met
 * twice are given from it the third time. */
static bool memo_agrees(const char *file, const char *name,
                        const ws_mustache *tpl, const ws_value *t,
                        ws_mustache_env *env, const char *expected) {
  ws_value *data = (ws_value *)(uintptr_t)ws_value_get(t, "data");
  ws_mustache_memo *memo = ws_mustache_memo_new();
  bool ok = true;
  if (data)
    make_lasting(data);
  for (int i = 0; i < 3 && ok; i++) {
    ws_str out = WS_STR_INIT;
    int rc = ws_mustache_render_memo(&out, tpl, data, env, memo);
    ok = rc == 0 && ws_str_eq(&out, expected);
    cr_expect(ok,
              "%s / %s, with a memo, render %d: rc %d\nexpected: [%s]\n"
              "     got: [%s]",
              file, name, i + 1, rc, expected, out.ptr);
    ws_str_release(&out);
  }
  ws_mustache_memo_free(memo);
  return ok;
}

static bool run_case(const char *file, const ws_value *t) {
  const char *name = ws_value_cstr(ws_value_get(t, "name"));
  const ws_value *tpl_src = ws_value_get(t, "template");
  const char *expected = ws_value_cstr(ws_value_get(t, "expected"));
  ws_value *partials = ws_value_map();
  const ws_value *given = ws_value_get(t, "partials");
  ws_mustache *tpl = NULL;
  ws_str out = WS_STR_INIT;
  bool ok = false;
  if (given)
    for (size_t i = 0; i < given->u.map.len; i++)
      ws_value_set(partials, given->u.map.entries[i].key,
                   ws_value_copy(given->u.map.entries[i].val));
  ws_mustache_env *env = ws_mustache_env_new(load_partial, partials);
  int rc = ws_mustache_compile(&tpl, "test", tpl_src->u.string.ptr,
                               tpl_src->u.string.len);
  if (rc == 0)
    rc = ws_mustache_render(&out, tpl, ws_value_get(t, "data"), env);
  ok = rc == 0 && ws_str_eq(&out, expected);
  cr_expect(ok, "%s / %s: rc %d (%s)\nexpected: [%s]\n     got: [%s]", file,
            name, rc, rc ? ws_error_last() : "", expected, out.ptr);
  if (ok)
    ok = memo_agrees(file, name, tpl, t, env, expected);
  ws_str_release(&out);
  ws_mustache_free(tpl);
  ws_mustache_env_free(env);
  ws_value_free(partials);
  return ok;
}

static char *spec_dir(void) {
  const char *root = getenv("WS_ROOT");
  ws_str dir = WS_STR_INIT;
  if (root && *root)
    ws_str_printf(&dir, "%s/../shared/mustache-spec", root);
  else
    ws_str_puts(&dir, "../shared/mustache-spec");
  return ws_str_detach(&dir);
}

Test(mustache_spec, all_pass) {
  char *dir = spec_dir();
  struct stat sb;
  size_t passed = 0, total = 0;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    free(dir);
    cr_skip("mustache spec not found (set WS_ROOT so that "
            "$WS_ROOT/../shared/mustache-spec exists)");
  }
  for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
    ws_str path = WS_STR_INIT;
    ws_str_printf(&path, "%s/%s.json", dir, files[f]);
    ws_value *spec = load_json(path.ptr);
    const ws_value *tests = ws_value_get(spec, "tests");
    cr_assert(tests && tests->type == WS_VALUE_LIST, "%s: no tests", path.ptr);
    for (size_t i = 0; i < tests->u.list.len; i++) {
      total++;
      passed += run_case(files[f], tests->u.list.items[i]);
    }
    ws_value_free(spec);
    ws_str_release(&path);
  }
  free(dir);
  printf("mustache spec: %zu/%zu passed\n", passed, total);
  fflush(stdout);
  cr_expect_eq(total, 184, "expected 184 spec tests, found %zu", total);
  cr_assert_eq(passed, total, "mustache spec: %zu/%zu passed", passed, total);
}
