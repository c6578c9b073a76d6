/* fuzz_frontmatter.c - fuzz the front matter splitter and the YAML loader.
 *
 * ws_fuzz_frontmatter is also linked into the test binary, where
 * tests/fuzz/driver.c replays the seeds of tests/fuzz/corpus/frontmatter/.
 * Built with -DWS_LIBFUZZER it is libFuzzer's entry point.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "error.h"
#include "frontmatter.h"
#include "value.h"

int ws_fuzz_frontmatter(const uint8_t *data, size_t size);

/* Every parsed value has a position at or after 'first_line'. */
static void check_value(const ws_value *v, unsigned first_line) {
  if (v->line < first_line || v->col < 1)
    abort();
  if (v->type == WS_VALUE_LIST) {
    for (size_t i = 0; i < v->u.list.len; i++)
      check_value(v->u.list.items[i], first_line);
  } else if (v->type == WS_VALUE_MAP) {
    for (size_t i = 0; i < v->u.map.len; i++) {
      const ws_value_entry *e = &v->u.map.entries[i];
      if (e->line < first_line || e->col < 1 || !e->key)
        abort();
      check_value(e->val, first_line);
    }
  }
}

/* A failure leaves exactly one error; success leaves none. */
static void check_diag(int rc, const ws_diag *diag) {
  if (rc == 0 ? diag->len != 0 : rc != WS_EINVALID || diag->len != 1)
    abort();
  for (size_t i = 0; i < diag->len; i++)
    if (diag->items[i].line == 0 || diag->items[i].col == 0 ||
        !diag->items[i].code[0])
      abort();
}

int ws_fuzz_frontmatter(const uint8_t *data, size_t size) {
  const char *src = (const char *)data;
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  ws_diag diag = WS_DIAG_INIT;
  ws_value *v = NULL;
  int rc;

  rc = ws_frontmatter_parse(&fm, "fuzz.md", src, size, &diag);
  check_diag(rc, &diag);
  if (rc == 0) {
    if (!fm.data || fm.data->type != WS_VALUE_MAP || fm.body < src ||
        fm.body + fm.body_len != src + size || fm.body_line < 1)
      abort();
    if (fm.data->line)
      check_value(fm.data, 2);
  } else if (fm.data) {
    abort();
  }
  ws_frontmatter_release(&fm);
  ws_diag_release(&diag);

  /* The same bytes as a whole YAML file (site.yml). */
  rc = ws_yaml_load(&v, "fuzz.yml", src, size, 1, &diag);
  check_diag(rc, &diag);
  if (rc == 0 && v->line)
    check_value(v, 1);
  ws_value_free(v);
  ws_diag_release(&diag);
  ws_error_clear();
  return 0;
}

#ifdef WS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return ws_fuzz_frontmatter(data, size);
}
#endif
