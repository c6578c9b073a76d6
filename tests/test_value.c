/* test_value.c - value arenas: values made while an arena is in use come
 * from it and behave like any other; the arena in use is per thread; a
 * heap value put into a pooled one is still freed; growing a pooled value
 * outside its arena stops the program rather than corrupting memory. Leaks
 * show under `make asan`. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "str.h"
#include "value.h"
#include "xalloc.h"

/* A map with every kind of value, big enough to grow its arrays. */
static ws_value *sample(int seed) {
  ws_value *m = ws_value_map();
  char key[32], text[64];
  for (int i = 0; i < 40; i++) {
    snprintf(key, sizeof(key), "key%d", i);
    snprintf(text, sizeof(text), "value %d of %d", i, seed);
    ws_value_set_str(m, key, text);
  }
  ws_value *l = ws_value_list();
  for (int i = 0; i < 100; i++)
    ws_value_push(l, ws_value_number(i + seed));
  ws_value_set(m, "list", l);
  ws_value_set(m, "own", ws_value_string_own(ws_xstrdup("owned"), 5));
  ws_value_set(m, "borrowed", ws_value_string_borrow("borrowed", 8));
  ws_value_set_bool(m, "yes", true);
  ws_value_set(m, "none", ws_value_null());
  ws_value_set_str(m, "key3", "replaced");
  char *big = ws_xcalloc(1, 20000);
  memset(big, 'x', 19999);
  ws_value_set(m, "big", ws_value_strz(big));
  free(big);
  ws_value *copy = ws_value_copy(l);
  ws_value_set(m, "copy", copy);
  ws_value_set(m, "view", ws_value_borrow_map(m));
  return m;
}

static void expect_sample(const ws_value *m, int seed) {
  char text[64];
  snprintf(text, sizeof(text), "value %d of %d", 39, seed);
  cr_expect_str_eq(ws_value_cstr(ws_value_get(m, "key39")), text);
  cr_expect_str_eq(ws_value_cstr(ws_value_get(m, "key3")), "replaced");
  cr_expect_str_eq(ws_value_cstr(ws_value_get(m, "own")), "owned");
  cr_expect_str_eq(ws_value_cstr(ws_value_get(m, "borrowed")), "borrowed");
  cr_expect_eq(strlen(ws_value_cstr(ws_value_get(m, "big"))), 19999);
  const ws_value *l = ws_value_get(m, "copy");
  cr_assert_eq(l->u.list.len, 100);
  cr_expect_eq(l->u.list.items[99]->u.number, 99 + seed);
  snprintf(text, sizeof(text), "value 0 of %d", seed);
  cr_expect_str_eq(ws_value_cstr(ws_value_get(ws_value_get(m, "view"), "key0")),
                   text);
  ws_str a = WS_STR_INIT;
  ws_value_put_json(&a, m);
  cr_expect(a.len > 20000);
  ws_str_release(&a);
}

Test(value, an_arena_makes_the_same_values) {
  ws_value *heap = sample(1);
  ws_value_arena *arena = ws_value_arena_new();
  cr_assert_null(ws_value_arena_use(arena));
  ws_value *pooled = sample(1);
  cr_assert_eq(ws_value_arena_use(NULL), arena);
  cr_expect(pooled->pooled);
  cr_expect(!heap->pooled);
  ws_str a = WS_STR_INIT, b = WS_STR_INIT;
  ws_value_put_json(&a, heap);
  ws_value_put_json(&b, pooled);
  cr_expect_str_eq(a.ptr, b.ptr);
  expect_sample(pooled, 1);
  ws_str_release(&a);
  ws_str_release(&b);
  ws_value_free(heap);
  ws_value_arena_free(arena);
}

Test(value, a_heap_value_in_a_pooled_one_is_freed) {
  ws_value_arena *arena = ws_value_arena_new();
  ws_value_arena_use(arena);
  ws_value *m = ws_value_map();
  ws_value_set_str(m, "a", "b");
  ws_value_arena_use(NULL);
  /* Replacing an entry does not grow the map: allowed outside the arena. */
  ws_value_set(m, "a", sample(2));
  ws_value_free(m); /* frees the heap sample; LeakSanitizer checks */
  ws_value_arena_free(arena);
}

Test(value, growing_a_pooled_value_outside_its_arena_aborts,
     .signal = SIGABRT) {
  ws_value_arena *arena = ws_value_arena_new();
  ws_value_arena_use(arena);
  ws_value *m = ws_value_map();
  ws_value_arena_use(NULL);
  ws_value_set_str(m, "new", "key");
}

static void *thread_main(void *payload) {
  int seed = *(int *)payload;
  ws_value_arena *arena = ws_value_arena_new();
  ws_value_arena_use(arena);
  for (int round = 0; round < 20; round++) {
    ws_value *m = sample(seed);
    expect_sample(m, seed);
  }
  ws_value_arena_use(NULL);
  ws_value *heap = ws_value_map();
  cr_expect(!heap->pooled, "another thread's arena leaked into this one");
  ws_value_free(heap);
  ws_value_arena_free(arena);
  return NULL;
}

Test(value, the_arena_in_use_is_per_thread) {
  pthread_t ids[4];
  int seeds[4] = {0, 1, 2, 3};
  for (int i = 0; i < 4; i++)
    cr_assert_eq(pthread_create(&ids[i], NULL, thread_main, &seeds[i]), 0);
  ws_value *heap = ws_value_map();
  cr_expect(!heap->pooled);
  ws_value_free(heap);
  for (int i = 0; i < 4; i++)
    pthread_join(ids[i], NULL);
}

/* A borrowed text is the caller's bytes, never copied nor freed (ASan would
 * report freeing the static array). */
Test(value, a_borrowed_text_points_at_the_bytes) {
  static const char text[] = "lasting";
  ws_value *list = ws_value_list();
  ws_value *v = ws_value_borrowz(text);
  ws_value_push(list, v);
  cr_expect_eq(v->u.string.ptr, text);
  cr_expect_eq(v->u.string.len, strlen(text));
  cr_expect_str_eq(ws_value_cstr(v), "lasting");
  ws_value_free(list);
}

/* In an arena, booleans are two shared values that nothing frees; on the
 * heap each is a value of its own. */
Test(value, pooled_booleans_are_shared) {
  ws_value_arena *arena = ws_value_arena_new();
  ws_value_arena_use(arena);
  ws_value *m = ws_value_map();
  ws_value_set_bool(m, "a", true);
  ws_value_set_bool(m, "b", true);
  ws_value_set_bool(m, "c", false);
  ws_value_set_bool(m, "a", false); /* replacing frees nothing shared */
  ws_value_arena_use(NULL);
  cr_expect_eq(ws_value_get(m, "a"), ws_value_get(m, "c"));
  cr_expect_neq(ws_value_get(m, "b"), ws_value_get(m, "c"));
  cr_expect(ws_value_truthy(ws_value_get(m, "b")));
  cr_expect_not(ws_value_truthy(ws_value_get(m, "c")));
  ws_value *x = ws_value_bool(true), *y = ws_value_bool(true);
  cr_expect_neq(x, y);
  cr_expect_not(x->pooled);
  ws_value_free(x);
  ws_value_free(y);
  ws_value_arena_free(arena);
}

/* A map reserved for its size holds it without growing, in an arena and
 * on the heap alike. */
Test(value, a_reserved_map_holds_its_entries_without_growing) {
  ws_value_arena *arena = ws_value_arena_new();
  for (int pooled = 0; pooled < 2; pooled++) {
    ws_value_arena_use(pooled ? arena : NULL);
    ws_value *m = ws_value_map();
    ws_value_set_num(m, "first", 1);
    ws_value_map_reserve(m, 40);
    ws_value_entry *entries = m->u.map.entries;
    char key[16];
    for (int i = 0; i < 39; i++) {
      snprintf(key, sizeof(key), "k%d", i);
      ws_value_set_num(m, key, i);
    }
    cr_expect_eq(m->u.map.entries, entries, "the map grew");
    cr_expect_eq(m->u.map.len, 40);
    cr_expect_eq(ws_value_get(m, "first")->u.number, 1);
    cr_expect_eq(ws_value_get(m, "k38")->u.number, 38);
    ws_value_arena_use(NULL);
    if (!pooled)
      ws_value_free(m);
  }
  ws_value_arena_free(arena);
}

/* Keys added without a look-up are found like keys set, past the first
 * eight (the map grows); a pooled map keeps the caller's key, which
 * outlives it, and a map on the heap its own copy, which it frees. */
Test(value, added_keys_are_found_and_kept_as_the_map_is_kept) {
  static const char *const keys[] = {"kind",     "date",    "author", "subject",
                                     "commit",   "slug",    "name",   "url",
                                     "old_slug", "datetime"};
  size_t n = sizeof(keys) / sizeof(keys[0]);
  ws_value_arena *arena = ws_value_arena_new();
  for (int pooled = 0; pooled < 2; pooled++) {
    ws_value_arena_use(pooled ? arena : NULL);
    ws_value *m = ws_value_map();
    for (size_t i = 0; i < n; i++) {
      char *key = strdup(keys[i]); /* a key the map cannot keep on the heap */
      ws_value_add(m, pooled ? keys[i] : key, ws_value_number((double)i));
      free(key);
    }
    cr_assert_eq(m->u.map.len, n);
    for (size_t i = 0; i < n; i++) {
      const ws_value *v = ws_value_get(m, keys[i]);
      cr_assert(v && v->u.number == (double)i, "%s", keys[i]);
      cr_expect_eq(m->u.map.entries[i].key == keys[i], pooled == 1, "%s",
                   keys[i]);
    }
    cr_expect_null(ws_value_get(m, "missing"));
    ws_value_arena_use(NULL);
    if (!pooled)
      ws_value_free(m);
  }
  ws_value_arena_free(arena);
}

/* A borrowed copy in an arena keeps the keys of the map it borrows from
 * (which outlives it), one on the heap its own; either has room for four
 * more keys without growing, and sees the values of the first. */
Test(value, a_borrowed_map_shares_keys_in_an_arena_and_has_room) {
  ws_value_arena *arena = ws_value_arena_new();
  for (int pooled = 0; pooled < 2; pooled++) {
    ws_value_arena_use(pooled ? arena : NULL);
    ws_value *m = ws_value_map();
    ws_value_set_str(m, "name", "Amara");
    ws_value_set_str(m, "url", "people/amara/");
    ws_value *c = ws_value_borrow_map(m);
    const ws_value_entry *entries = c->u.map.entries;
    for (size_t i = 0; i < m->u.map.len; i++) {
      cr_expect_str_eq(c->u.map.entries[i].key, m->u.map.entries[i].key);
      cr_expect_eq(c->u.map.entries[i].key == m->u.map.entries[i].key,
                   pooled == 1);
    }
    static const char *const more[] = {"a", "b", "c", "d"};
    for (size_t i = 0; i < 4; i++)
      ws_value_set_num(c, more[i], (double)i);
    cr_expect_eq(c->u.map.entries, entries, "the copy grew");
    cr_expect_str_eq(ws_value_cstr(ws_value_get(c, "name")), "Amara");
    cr_expect_eq(ws_value_get(c, "d")->u.number, 3);
    ws_value_arena_use(NULL);
    if (!pooled) {
      ws_value_free(c);
      ws_value_free(m);
    }
  }
  ws_value_arena_free(arena);
}

/* Whole numbers are written by hand, everything else by printf: both read
 * as %.15g writes them. */
Test(value, numbers_print_as_printf_prints_them) {
  double cases[] = {0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    7.0,
                    10.0,
                    123456.0,
                    -42.0,
                    0.5,
                    -2.25,
                    1e14,
                    1e15,
                    -1e15,
                    999999999999999.0,
                    -999999999999999.0,
                    1e16,
                    3.141592653589793,
                    1e-7,
                    65536.0,
                    2147483648.0,
                    -9007199254740992.0,
                    0.1};
  unsigned long long x = 88172645463325252ULL;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) + 5000; i++) {
    double n;
    if (i < sizeof(cases) / sizeof(cases[0])) {
      n = cases[i];
    } else {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      long long whole =
          (long long)(x % 2000000000000001ULL) - 1000000000000000LL;
      n = i % 3 == 0   ? (double)whole
          : i % 3 == 1 ? (double)(whole % 100000)
                       : (double)whole / 1024.0;
    }
    char want[64];
    snprintf(want, sizeof(want), "%.15g", n);
    ws_value *v = ws_value_number(n);
    ws_str got = WS_STR_INIT;
    ws_value_put_text(&got, v);
    cr_assert_str_eq(got.ptr, want, "%.17g", n);
    ws_str_release(&got);
    ws_value_free(v);
  }
}

/* A list and its "has_" flag, whatever the key's length. */
Test(value, a_list_is_set_with_its_flag) {
  char long_key[100];
  memset(long_key, 'k', sizeof(long_key) - 1);
  long_key[sizeof(long_key) - 1] = '\0';
  ws_value *m = ws_value_map(), *full = ws_value_list();
  ws_value_push(full, ws_value_strz("x"));
  ws_value_set_list(m, "people", full);
  ws_value_set_list(m, long_key, ws_value_list());
  cr_expect(ws_value_truthy(ws_value_get(m, "has_people")));
  cr_expect_eq(ws_value_get(m, "people")->u.list.len, 1);
  ws_str has = WS_STR_INIT;
  ws_str_printf(&has, "has_%s", long_key);
  const ws_value *flag = ws_value_get(m, has.ptr);
  cr_assert_not_null(flag);
  cr_expect_not(ws_value_truthy(flag));
  ws_str_release(&has);
  ws_value_free(m);
}

/* Lookups compare a hash of each key before the key: names whose hashes
 * collide are still told apart, of other lengths ("costarring" and
 * "liquid" under FNV-1a) and of the same length, differing early
 * ("buopqwap", "lqpdgsqm") or only at the end ("learningqumxt",
 * "learningkplvf"), whichever way the map was made. */
Test(value, keys_whose_hashes_collide_are_told_apart) {
  static const char *const pairs[][2] = {{"costarring", "liquid"},
                                         {"buopqwap", "lqpdgsqm"},
                                         {"learningqumxt", "learningkplvf"}};
  for (size_t p = 0; p < 3; p++) {
    const char *x = pairs[p][0], *y = pairs[p][1];
    cr_assert_eq(ws_str_hash32(x), ws_str_hash32(y));
    ws_value *m = ws_value_map();
    ws_value_set_str(m, x, "a");
    ws_value_set_str(m, y, "b");
    ws_value *borrowed = ws_value_borrow_map(m), *copy = ws_value_copy(m);
    const ws_value *maps[] = {m, borrowed, copy};
    for (size_t i = 0; i < 3; i++) {
      cr_expect_str_eq(ws_value_cstr(ws_value_get(maps[i], x)), "a");
      cr_expect_str_eq(ws_value_cstr(ws_value_get(maps[i], y)), "b");
      cr_expect_str_eq(
          ws_value_cstr(ws_value_get_hashed(maps[i], y, ws_str_hash32(y))),
          "b");
      cr_expect_null(ws_value_get(maps[i], "declinate"));
      cr_expect_null(ws_value_get(maps[i], "buopqwaq")); /* one byte off */
    }
    ws_value_set_str(m, y, "c"); /* the same key again: replaced */
    cr_expect_eq(m->u.map.len, 2);
    cr_expect_str_eq(ws_value_cstr(ws_value_get(m, y)), "c");
    ws_value_free(copy);
    ws_value_free(borrowed);
    ws_value_free(m);
  }
}
