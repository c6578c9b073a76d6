/* test_str.c - byte strings: HTML escaping against a byte-by-byte
 * reference over random text, NUL bytes and every special character. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

static void reference_html(ws_str *out, const char *data, size_t len) {
  for (size_t i = 0; i < len; i++) {
    switch (data[i]) {
    case '&':
      ws_str_puts(out, "&amp;");
      break;
    case '<':
      ws_str_puts(out, "&lt;");
      break;
    case '>':
      ws_str_puts(out, "&gt;");
      break;
    case '"':
      ws_str_puts(out, "&quot;");
      break;
    case '\'':
      ws_str_puts(out, "&#39;");
      break;
    default:
      ws_str_put(out, data + i, 1);
    }
  }
}

Test(str, html_escaping_matches_a_byte_by_byte_reference) {
  static const char alphabet[] = "ab <>&\"'\0\xc3\xa9\n";
  unsigned long long x = 88172645463325252ULL;
  char text[300];
  for (int round = 0; round < 3000; round++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t len = (size_t)(x % sizeof(text));
    for (size_t i = 0; i < len; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      /* Mostly plain runs, as pages are, with special bytes among them. */
      text[i] = x % 4 ? (char)('a' + x % 26)
                      : alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
    }
    ws_str got = WS_STR_INIT, want = WS_STR_INIT;
    ws_str_puts(&got, "prefix:");
    ws_str_puts(&want, "prefix:");
    ws_str_put_html(&got, text, len);
    reference_html(&want, text, len);
    cr_assert_eq(got.len, want.len, "round %d", round);
    cr_assert(memcmp(got.ptr, want.ptr, got.len) == 0, "round %d", round);
    cr_assert_eq(got.ptr[got.len], '\0');
    ws_str_release(&got);
    ws_str_release(&want);
  }
}

/* Numbers written by hand read as printf writes them, sign and padding
 * included. */
Test(str, integers_print_as_printf_prints_them) {
  static const long long edge[] = {
      0, 1, -1, 9, -9, 10, -10, 999, -999, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
  unsigned long long x = 88172645463325252ULL;
  for (int i = 0; i < 5000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    long long n = i < 12 ? edge[i] : (long long)(x >> (x % 60));
    if (i >= 12 && x % 2)
      n = -n;
    int width = (int)(x % 24);
    char want[64];
    snprintf(want, sizeof(want), "%0*lld", width, n);
    ws_str got = WS_STR_INIT;
    ws_str_put_int(&got, n, width);
    cr_assert_str_eq(got.ptr, want, "%lld, width %d", n, width);
    ws_str_release(&got);
  }
}
