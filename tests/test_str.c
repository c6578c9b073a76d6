/* test_str.c - byte strings: HTML escaping against a byte-by-byte
 * reference over random text, NUL bytes and every special character, at
 * every place in and around the sixteen-byte steps of the fast scan;
 * formatting into strings with and without room. */
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

/* The scan looks at sixteen bytes at a time, and at the last sixteen of a
 * text again: each special byte, alone or two together, at every place of
 * texts of every length around those steps, in a buffer of exactly the
 * text's length (AddressSanitizer catches a read past it). */
Test(str, html_escaping_finds_every_special_byte_wherever_it_is) {
  static const char special[] = "&<>\"'";
  for (size_t len = 1; len <= 50; len++) {
    for (size_t at = 0; at < len; at++) {
      for (size_t k = 0; k < 5; k++) {
        for (size_t second = at; second <= len; second += 7) {
          char *text = malloc(len);
          memset(text, 'x', len);
          text[at] = special[k];
          if (second < len)
            text[second] = special[(k + 1) % 5];
          ws_str got = WS_STR_INIT, want = WS_STR_INIT;
          ws_str_put_html(&got, text, len);
          reference_html(&want, text, len);
          cr_assert_str_eq(got.ptr, want.ptr, "length %zu, '%c' at %zu", len,
                           special[k], at);
          ws_str_release(&got);
          ws_str_release(&want);
          free(text);
        }
      }
    }
  }
}

/* Formatting writes straight into the room a string has, on the stack when
 * it has none, and again when the text did not fit: each way gives what
 * snprintf gives, and a text that did not fit leaves nothing behind. */
Test(str, formatting_appends_what_snprintf_writes) {
  char want[1200], word[600];
  for (size_t wlen = 0; wlen < sizeof(word); wlen += wlen < 300 ? 1 : 37) {
    memset(word, 'w', wlen);
    word[wlen] = '\0';
    for (size_t before = 0; before < 200; before += 13) {
      ws_str s = WS_STR_INIT;
      for (size_t i = 0; i < before; i++)
        ws_str_putc(&s, (char)('a' + i % 26));
      size_t len = s.len;
      ws_str_printf(&s, "[%s|%d]", word, (int)wlen);
      snprintf(want, sizeof(want), "[%s|%d]", word, (int)wlen);
      cr_assert_eq(s.len, len + strlen(want));
      cr_assert_str_eq(s.ptr + len, want, "%zu bytes after %zu", wlen, len);
      for (size_t i = 0; i < len; i++)
        cr_assert_eq(s.ptr[i], (char)('a' + i % 26));
      ws_str_printf(&s, "%s", "");
      cr_assert_eq(s.len, len + strlen(want));
      ws_str_release(&s);
    }
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

/* Inode numbers and times go into the manifest whole, up to 2^64 - 1. */
Test(str, unsigned_integers_print_as_printf_prints_them) {
  static const unsigned long long edge[] = {
      0, 1, 9, 10, ULLONG_MAX, ULLONG_MAX - 1, 1ULL << 63, 99, 100, 101, 1000};
  unsigned long long x = 88172645463325252ULL;
  for (int i = 0; i < 2000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    unsigned long long n = i < 11 ? edge[i] : x >> (x % 64);
    char want[32];
    snprintf(want, sizeof(want), "%llu", n);
    ws_str got = WS_STR_INIT;
    ws_str_put_uint(&got, n);
    cr_assert_str_eq(got.ptr, want, "%llu", n);
    ws_str_release(&got);
  }
}
