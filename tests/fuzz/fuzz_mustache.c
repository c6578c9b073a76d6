/* fuzz_mustache.c - fuzz the Mustache compiler and renderer.
 *
 * ws_fuzz_mustache is also linked into the test binary, where
 * tests/fuzz/driver.c replays the seeds of tests/fuzz/corpus/mustache/.
 * Built with -DWS_LIBFUZZER it is libFuzzer's entry point. The input is
 * also the partial "self", so recursion limits get exercised.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mustache.h"
#include "str.h"
#include "value.h"

int ws_fuzz_mustache(const uint8_t *data, size_t size);

typedef struct {
  const char *src;
  size_t len;
} input;

static int load(ws_str *out, const char *name, void *payload) {
  const input *in = payload;
  if (strcmp(name, "self") == 0)
    ws_str_put(out, in->src, in->len);
  else if (strcmp(name, "p") == 0)
    ws_str_puts(out, "<{{name}}>\n{{#list}}\n  {{.}}\n{{/list}}\n");
  else if (strcmp(name, "base") == 0)
    ws_str_puts(out, "[\n  {{$a}}A{{/a}}\n{{$b}}\n  B\n{{/b}}\n]");
  else
    return WS_ENOTFOUND;
  return 0;
}

static ws_value *context(void) {
  ws_value *ctx = ws_value_map(), *list = ws_value_list();
  ws_value *item = ws_value_map(), *deep = ws_value_map();
  ws_value_set_str(ctx, "name", "<Ada & 'B'>");
  ws_value_set_num(ctx, "n", 3.5);
  ws_value_set_bool(ctx, "t", true);
  ws_value_set_bool(ctx, "f", false);
  ws_value_set(ctx, "nil", ws_value_null());
  ws_value_set_str(ctx, "dyn", "p");
  ws_value_set_str(ctx, "self", "self");
  ws_value_set_str(item, "name", "a\nb");
  ws_value_set(item, "list", ws_value_list());
  ws_value_push(list, item);
  ws_value_push(list, ws_value_strz("x"));
  ws_value_push(list, ws_value_number(2));
  ws_value_set(ctx, "list", list);
  ws_value_set_str(deep, "b", "c");
  ws_value_set(ctx, "a", deep);
  return ctx;
}

static bool digits(const char **s) {
  const char *start = *s;
  while (**s >= '0' && **s <= '9')
    (*s)++;
  return *s > start && *(*s)++ == ':';
}

/* Every failure is "name:line:col: message", naming one of our templates. */
static void check_message(void) {
  static const char *const names[] = {"fuzz:", "self:", "p:", "base:"};
  const char *m = ws_error_last();
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    size_t n = strlen(names[i]);
    const char *rest = m + n;
    if (strncmp(m, names[i], n) == 0 && digits(&rest) && digits(&rest) &&
        rest[0] == ' ' && rest[1])
      return;
  }
  abort();
}

int ws_fuzz_mustache(const uint8_t *data, size_t size) {
  input in = {(const char *)data, size};
  ws_mustache *tpl = NULL;
  int rc = ws_mustache_compile(&tpl, "fuzz", in.src, size);
  if (rc < 0) {
    if (rc != WS_EINVALID || tpl)
      abort();
    check_message();
    ws_error_clear();
    return 0;
  }
  ws_value *ctx = context();
  ws_mustache_env *env = ws_mustache_env_new(load, &in);
  ws_str out = WS_STR_INIT, again = WS_STR_INIT;
  ws_str_puts(&out, "kept");
  ws_str_puts(&again, "kept");
  rc = ws_mustache_render(&out, tpl, ctx, env);
  int rc2 = ws_mustache_render(&again, tpl, ctx, env);
  /* Rendering is deterministic, and a failure leaves the output alone. */
  /* Output may hold NUL bytes from the input, so compare lengths too. */
  if (rc != rc2 || out.len != again.len ||
      memcmp(out.ptr, again.ptr, out.len) != 0 ||
      (rc < 0 && (!ws_str_eq(&out, "kept") || rc != WS_EINVALID)))
    abort();
  if (rc < 0)
    check_message();
  ws_str_release(&out);
  ws_str_release(&again);
  ws_mustache_env_free(env);
  ws_mustache_free(tpl);
  ws_value_free(ctx);
  ws_error_clear();
  return 0;
}

#ifdef WS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return ws_fuzz_mustache(data, size);
}
#endif
