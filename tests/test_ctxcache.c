/* test_ctxcache.c - the context cache: what one build saves the next finds,
 * by inputs; a file from another program, cut short or damaged is ignored,
 * never trusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "ctxcache.h"
#include "error.h"
#include "helpers.h"
#include "source.h"

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(ctxcache, .init = setup, .fini = teardown);

static const ws_digest program = {1, 2}, other = {1, 3};

static char *team_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "site.yml", "title: Team\n");
  th_write(repo, "people/ada.md", "---\nname: Ada\n---\nHi.\n");
  th_repo_commit_all(repo, "Team", "Ada <ada@example.org>", 1700000000);
  return repo;
}

static ws_ctxcache *open_cache(const char *repo, const ws_digest *prog) {
  ws_source_opts o = {repo, NULL, "", false};
  ws_source *src = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  ws_ctxcache *c = ws_ctxcache_open(src, prog);
  ws_source_free(src);
  return c;
}

/* Two people: Ada with two entries and a view, Bo with one entry; a third
 * is left out. */
static bool two_people(void *payload, size_t i, ws_ctx_digests *out) {
  static const ws_digest_entry ada[] = {{"name", {1, 1}}, {"url", {2, 2}}};
  static const ws_digest_entry bo[] = {{"name", {3, 3}}};
  (void)payload;
  if (i == 2)
    return false;
  out->nentries = i == 0 ? 2 : 1;
  memcpy(out->entries, i == 0 ? ada : bo,
         out->nentries * sizeof(ws_digest_entry));
  out->nviews = i == 0;
  out->views[0] = (ws_digest_view){{7, 7}, {8, 8}};
  return true;
}

static void save_two(const char *repo) {
  static const ws_digest inputs[] = {{10, 11}, {20, 21}, {30, 31}};
  ws_ctxcache *c = open_cache(repo, &program);
  cr_expect_str_eq(ws_ctxcache_ignored(c), "missing");
  ws_ctxcache_save(c, 3, inputs, two_people, NULL);
  ws_ctxcache_free(c);
}

Test(ctxcache, what_is_saved_is_found_by_inputs) {
  char *repo = team_repo();
  save_two(repo);
  ws_ctxcache *c = open_cache(repo, &program);
  ws_ctx_digests d;
  cr_expect_null(ws_ctxcache_ignored(c));
  cr_assert(ws_ctxcache_find(c, &(ws_digest){10, 11}, &d));
  cr_expect_eq(d.nentries, 2);
  cr_expect_str_eq(d.entries[0].key, "name");
  cr_expect_str_eq(d.entries[1].key, "url");
  cr_expect(d.entries[1].digest.hi == 2 && d.entries[1].digest.lo == 2);
  cr_assert_eq(d.nviews, 1);
  cr_expect(d.views[0].keys.hi == 7 && d.views[0].digest.lo == 8);
  cr_assert(ws_ctxcache_find(c, &(ws_digest){20, 21}, &d));
  cr_expect_eq(d.nentries, 1);
  cr_expect_eq(d.nviews, 0);
  cr_expect(d.entries[0].digest.hi == 3);
  cr_expect(ws_ctxcache_has(c, &(ws_digest){20, 21}));
  cr_expect_not(ws_ctxcache_has(c, &(ws_digest){10, 12}), "inputs never saved");
  cr_expect_not(ws_ctxcache_find(c, &(ws_digest){30, 31}, &d),
                "a context left out");
  ws_ctxcache_free(c);
  th_rm_rf(repo);
  free(repo);
}

Test(ctxcache, another_program_s_file_is_ignored) {
  char *repo = team_repo();
  save_two(repo);
  ws_ctxcache *c = open_cache(repo, &other);
  cr_expect_str_eq(ws_ctxcache_ignored(c),
                   "written by another build of wholeself");
  cr_expect_not(ws_ctxcache_has(c, &(ws_digest){10, 11}));
  ws_ctxcache_free(c);
  th_rm_rf(repo);
  free(repo);
}

/* Every byte flipped, and the file cut at every length: never a hit, never
 * a crash (run under `make asan` too). */
Test(ctxcache, damaged_files_are_ignored) {
  char *repo = team_repo();
  save_two(repo);
  char *file = th_cache_file(repo, "contexts-");
  cr_assert_not_null(file, "no cache file was written");
  size_t len;
  char *good = th_slurp(file, &len);
  for (size_t at = 0; at <= len; at++) {
    char *bad = malloc(len + 1);
    memcpy(bad, good, len);
    if (at < len) {
      bad[at] ^= 0x20;
      th_spill(file, bad, len);
    } else {
      th_spill(file, bad, len / 2);
    }
    ws_ctxcache *c = open_cache(repo, &program);
    cr_expect_not_null(ws_ctxcache_ignored(c), "damage at %zu not seen", at);
    cr_expect_not(ws_ctxcache_has(c, &(ws_digest){10, 11}));
    ws_ctxcache_free(c);
    free(bad);
  }
  free(good);
  free(file);
  th_rm_rf(repo);
  free(repo);
}
