/* test_digest.c - fingerprints through the memo of shared values: a shared
 * map hashes the same from any thread and however often it is met, a
 * change below it changes the digest, and a map that grew after it was
 * registered is hashed whole, not into the room kept for it. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "value.h"

/* A card, and a page that lists it under two keys of which the page can
 * show one. */
static ws_value *card(const char *name) {
  ws_value *c = ws_value_map();
  ws_value_set_str(c, "name", name);
  ws_value_set_str(c, "body", "a long text the page never shows");
  return c;
}

static ws_value *page_of(const ws_value *c) {
  ws_value *page = ws_value_map(), *list = ws_value_list();
  for (int i = 0; i < 3; i++)
    ws_value_push(list, ws_value_ref(c));
  ws_value_set(page, "people", list);
  return page;
}

static ws_digest page_digest(const ws_value *c, const ws_digest_keys *keys) {
  const ws_value *shared[] = {c};
  ws_digest_memo *m = ws_digest_memo_new(shared, 1);
  ws_value *page = page_of(c);
  ws_digest d = ws_digest_value(page, m, keys);
  ws_value_free(page);
  ws_digest_memo_free(m);
  return d;
}

Test(digest, a_shared_map_changes_the_digest_only_by_what_is_shown) {
  ws_digest_keys *keys = ws_digest_keys_new();
  ws_digest_keys_add(keys, "people");
  ws_digest_keys_add(keys, "name");
  ws_value *a = card("Ada"), *b = card("Ada"), *c = card("Bo");
  ws_digest da = page_digest(a, keys), db = page_digest(b, keys),
            dc = page_digest(c, keys);
  cr_expect(ws_digest_equal(&da, &db), "the same card hashes alike");
  cr_expect_not(ws_digest_equal(&da, &dc), "a new name changes the page");
  ws_value_set_str(b, "body", "another text");
  db = page_digest(b, keys);
  cr_expect(ws_digest_equal(&da, &db), "a field the page cannot show");
  ws_value_free(a);
  ws_value_free(b);
  ws_value_free(c);
  ws_digest_keys_free(keys);
}

typedef struct {
  const ws_value *page;
  ws_digest_memo *memo;
  const ws_digest_keys *keys;
  ws_digest out;
} hash_job;

static void *hash_page(void *arg) {
  hash_job *j = arg;
  j->out = ws_digest_value(j->page, j->memo, j->keys);
  return NULL;
}

/* Threads that meet the same shared maps at once agree with one alone. */
Test(digest, threads_sharing_a_memo_agree) {
  enum { CARDS = 200, THREADS = 4 };
  ws_value *cards[CARDS], *page = ws_value_map(), *list = ws_value_list();
  const ws_value *shared[CARDS];
  for (int i = 0; i < CARDS; i++) {
    char name[32];
    snprintf(name, sizeof(name), "Person %d", i);
    cards[i] = card(name);
    shared[i] = cards[i];
    ws_value_push(list, ws_value_ref(cards[i]));
  }
  ws_value_set(page, "people", list);
  ws_digest_memo *alone = ws_digest_memo_new(shared, CARDS);
  ws_digest want = ws_digest_value(page, alone, NULL);
  ws_digest_memo_free(alone);
  ws_digest_memo *memo = ws_digest_memo_new(shared, CARDS);
  pthread_t t[THREADS];
  hash_job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (hash_job){page, memo, NULL, {0, 0}};
    cr_assert_eq(pthread_create(&t[i], NULL, hash_page, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    cr_expect(ws_digest_equal(&jobs[i].out, &want), "thread %d", i);
  }
  ws_digest_memo_free(memo);
  ws_value_free(page);
  for (int i = 0; i < CARDS; i++)
    ws_value_free(cards[i]);
}

/* Entry digests have room kept for them by the map's length when it was
 * registered; one that grew since is hashed whole, apart. */
Test(digest, a_map_that_grew_after_registration_is_hashed_whole) {
  ws_value *a = card("Ada");
  const ws_value *shared[] = {a};
  ws_digest_memo *early = ws_digest_memo_new(shared, 1);
  for (int i = 0; i < 40; i++) {
    char key[32];
    snprintf(key, sizeof(key), "extra%d", i);
    ws_value_set_str(a, key, "more");
  }
  ws_value *page = page_of(a);
  ws_digest got = ws_digest_value(page, early, NULL);
  ws_digest_memo *late = ws_digest_memo_new(shared, 1);
  ws_digest want = ws_digest_value(page, late, NULL);
  cr_expect(ws_digest_equal(&got, &want));
  ws_digest_memo_free(early);
  ws_digest_memo_free(late);
  ws_value_free(page);
  ws_value_free(a);
}

/* A stand-in seeded with a card's entry digests hashes as the card does under
 * any key set, and keeps doing so while it is filled. */
Test(digest, a_seeded_stand_in_hashes_as_the_map_it_stands_for) {
  ws_value *real = card("Ada"), *stand_in = ws_value_map();
  const ws_value *shared[] = {real, stand_in};
  ws_digest_memo *m = ws_digest_memo_new(shared, 2);
  ws_digest_entry e[8];
  size_t n = ws_digest_memo_entries(m, real, e, 8);
  cr_assert_eq(n, 2);
  cr_expect_str_eq(e[0].key, "name");
  ws_digest_memo_seed(m, stand_in, e, n, NULL, 0);
  ws_digest_keys *keys = ws_digest_keys_new();
  ws_digest_keys_add(keys, "people");
  ws_digest_keys_add(keys, "name");
  ws_value *pr = page_of(real), *ps = page_of(stand_in);
  ws_digest a = ws_digest_value(pr, m, keys), b = ws_digest_value(ps, m, keys);
  cr_expect(ws_digest_equal(&a, &b), "under a key set");
  a = ws_digest_value(pr, m, NULL);
  b = ws_digest_value(ps, m, NULL);
  cr_expect(ws_digest_equal(&a, &b), "under every key");
  ws_value_set_str(stand_in, "name", "Bo");
  b = ws_digest_value(ps, m, NULL);
  cr_expect(ws_digest_equal(&a, &b), "the seed, not the stand-in's entries");
  ws_digest_entry back[8];
  cr_expect_eq(ws_digest_memo_entries(m, stand_in, back, 8), 2);
  cr_expect(ws_digest_equal(&back[1].digest, &e[1].digest));
  ws_value_free(pr);
  ws_value_free(ps);
  ws_digest_memo_free(m);
  ws_digest_keys_free(keys);
  ws_value_free(real);
  ws_value_free(stand_in);
}

/* A stand-in seeded with a card's digest under a key set gives that digest
 * under an equal key set, made apart and filled in another order, and
 * what a memo made is what it gives back. */
Test(digest, a_seeded_view_is_used_for_an_equal_key_set) {
  ws_value *real = card("Ada"), *stand_in = ws_value_map();
  const ws_value *shared[] = {real};
  ws_digest_keys *keys = ws_digest_keys_new(), *same = ws_digest_keys_new();
  ws_digest_keys_add(keys, "people");
  ws_digest_keys_add(keys, "name");
  ws_digest_keys_add(same, "name");
  ws_digest_keys_add(same, "people");
  ws_digest a = ws_digest_keys_id(keys), b = ws_digest_keys_id(same);
  cr_expect(ws_digest_equal(&a, &b), "the same keys, another order");
  ws_digest_memo *m = ws_digest_memo_new(shared, 1);
  ws_value *pr = page_of(real);
  ws_digest want = ws_digest_value(pr, m, keys);
  ws_digest_view views[4];
  cr_assert_eq(ws_digest_memo_views(m, real, views, 4), 1);
  ws_digest_entry e[8];
  size_t n = ws_digest_memo_entries(m, real, e, 8);
  const ws_value *stand_ins[] = {stand_in};
  ws_digest_memo *m2 = ws_digest_memo_new(stand_ins, 1);
  /* Entries that disagree with the view: only the view can explain a
   * digest equal to the real card's. */
  e[0].digest.lo ^= 1;
  ws_digest_memo_seed(m2, stand_in, e, n, views, 1);
  ws_value *ps = page_of(stand_in);
  ws_digest got = ws_digest_value(ps, m2, same);
  cr_expect(ws_digest_equal(&got, &want), "the seeded view");
  got = ws_digest_value(ps, m2, NULL);
  ws_digest all = ws_digest_value(pr, m, NULL);
  cr_expect_not(ws_digest_equal(&got, &all), "other keys use the entries");
  ws_value_free(pr);
  ws_value_free(ps);
  ws_digest_memo_free(m);
  ws_digest_memo_free(m2);
  ws_digest_keys_free(keys);
  ws_digest_keys_free(same);
  ws_value_free(real);
  ws_value_free(stand_in);
}

/* Digests are written in manifests as 32 hex digits, read back by
 * ws_digest_parse: the hand-written digits agree with printf's. */
Test(digest, hex_is_printf_hex_and_parses_back) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 1000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ws_digest d = {x, x * 0xff51afd7ed558ccdull}, back;
    char hex[33], want[33];
    ws_digest_hex(&d, hex);
    snprintf(want, sizeof(want), "%016llx%016llx", (unsigned long long)d.hi,
             (unsigned long long)d.lo);
    cr_assert_str_eq(hex, want);
    cr_assert(ws_digest_parse(&back, hex) && ws_digest_equal(&back, &d));
  }
}

/* A digest cut short anywhere, or with any other byte (upper case too)
 * anywhere in either half, is refused: nothing past the NUL is read. */
Test(digest, parse_refuses_all_but_32_hex_digits) {
  const char *good = "0123456789abcdef0123456789abcdef";
  ws_digest d;
  cr_assert(ws_digest_parse(&d, good));
  for (size_t i = 0; i < 32; i++) {
    char cut[33], bad[33];
    memcpy(cut, good, 33);
    cut[i] = '\0';
    cr_expect_not(ws_digest_parse(&d, cut), "cut at %zu", i);
    static const char others[] = {'g', 'A', 'F', ' ', '/', ':', '`'};
    for (size_t k = 0; k < sizeof(others); k++) {
      memcpy(bad, good, 33);
      bad[i] = others[k];
      cr_expect_not(ws_digest_parse(&d, bad), "'%c' at %zu", others[k], i);
    }
  }
}

/* The caches name their files and check their records with
 * ws_digest_bytes: whatever the length, it must hash as a digester given
 * the same bytes does, which is what wrote every existing cache. */
Test(digest, bytes_hash_as_a_digester_does) {
  static const size_t lens[] = {0,     1,     7,     1015,  1016,  1017,
                                8191,  16375, 16376, 16377, 20000, 65536};
  unsigned char *data = malloc(65536);
  cr_assert_not_null(data);
  for (size_t i = 0; i < 65536; i++)
    data[i] = (unsigned char)(i * 2654435761u >> 13);
  for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
    ws_digester *d = ws_digester_new();
    ws_digester_bytes(d, data, lens[k]);
    ws_digest want = ws_digester_end(d), got = ws_digest_bytes(data, lens[k]);
    ws_digester_free(d);
    cr_expect(ws_digest_equal(&got, &want), "length %zu", lens[k]);
  }
  free(data);
}
