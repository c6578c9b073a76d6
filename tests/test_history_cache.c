/* test_history_cache.c - the history cache (source): the files replayed from
 * the change log, incremental walks that stop at the cached commit, and the
 * caches that must be ignored and rebuilt: corrupt, from another repository,
 * from rewritten history, made with another .mailmap. Every cached result
 * is compared with a cold walk of the same commit. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "digest.h"
#include "error.h"
#include "helpers.h"
#include "source.h"
#include "xalloc.h"

#define ADA "Ada Lovelace <ada@example.org>"
#define BO "Bo Lindqvist <bo@example.org>"
#define CY "Cy Mensah <cy@example.org>"
#define T0 1700000000L

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(history_cache, .init = setup, .fini = teardown);

/* Long enough for rename detection to pair a moved file with its old self
 * after a small edit. */
static void write_person(const char *repo, const char *slug, const char *name,
                         const char *extra) {
  ws_str text = WS_STR_INIT, rel = WS_STR_INIT;
  ws_str_printf(&text,
                "---\nname: %s\nrole: Engineer\n---\n## Background\n\n"
                "%s grew up by the sea and builds things that last; this "
                "paragraph is long enough for rename detection to see the "
                "file as the same one after a move, even after an edit or "
                "two at the end of it. %s\n",
                name, name, extra ? extra : "");
  ws_str_printf(&rel, "content/people/%s.md", slug);
  th_write(repo, rel.ptr, text.ptr);
  ws_str_release(&rel);
  ws_str_release(&text);
}

static void remove_person(const char *repo, const char *slug) {
  ws_str path = WS_STR_INIT;
  ws_str_printf(&path, "%s/content/people/%s.md", repo, slug);
  th_rm_rf(path.ptr);
  ws_str_release(&path);
}

static void remove_file_at(const char *repo, const char *rel) {
  ws_str path = WS_STR_INIT;
  ws_str_printf(&path, "%s/%s", repo, rel);
  th_rm_rf(path.ptr);
  ws_str_release(&path);
}

static ws_source_history *load(const char *repo, bool worktree, bool cached) {
  ws_source_opts o = {repo, NULL, "content", worktree};
  ws_source *src = NULL;
  ws_source_history *h = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  int rc = cached ? ws_source_history_load_cached(&h, src, "people")
                  : ws_source_history_load(&h, src, "people");
  cr_assert_eq(rc, 0, "%s", ws_error_last());
  ws_source_free(src);
  return h;
}

/* The one cache file of 'repo' (a work tree), or NULL (caller frees). */
static char *cache_file(const char *repo) {
  return th_cache_file(repo, "history-");
}

/* Expects 'got' to equal 'want' field by field: revs, changes, files. */
static void expect_same(const ws_source_history *got,
                        const ws_source_history *want, const char *what) {
  cr_assert_eq(got->nrevs, want->nrevs, "%s: revs %zu, want %zu", what,
               got->nrevs, want->nrevs);
  cr_assert_eq(got->nchanges, want->nchanges, "%s: changes", what);
  cr_assert_eq(got->nfiles, want->nfiles, "%s: files %zu, want %zu", what,
               got->nfiles, want->nfiles);
  cr_expect_eq(got->partial, want->partial, "%s: partial", what);
  for (size_t i = 0; i < want->nrevs; i++) {
    const ws_source_rev *a = &got->revs[i], *b = &want->revs[i];
    cr_expect_str_eq(a->id, b->id, "%s: rev %zu", what, i);
    cr_expect_eq(a->time, b->time, "%s: rev %zu time", what, i);
    cr_expect_str_eq(a->author, b->author, "%s: rev %zu author", what, i);
    cr_expect_str_eq(a->subject, b->subject, "%s: rev %zu", what, i);
    cr_expect_eq(a->cut, b->cut, "%s: rev %zu cut", what, i);
  }
  for (size_t i = 0; i < want->nchanges; i++) {
    const ws_source_change *a = &got->changes[i], *b = &want->changes[i];
    cr_expect_eq(a->kind, b->kind, "%s: change %zu kind", what, i);
    cr_expect_eq(a->rev, b->rev, "%s: change %zu rev", what, i);
    cr_expect_str_eq(a->path, b->path, "%s: change %zu", what, i);
    cr_expect_eq(!a->old_path, !b->old_path, "%s: change %zu", what, i);
    if (a->old_path && b->old_path)
      cr_expect_str_eq(a->old_path, b->old_path, "%s: change %zu", what, i);
    cr_expect(ws_digest_equal(&a->digest, &b->digest),
              "%s: change %zu digest", what, i);
  }
  for (size_t i = 0; i < want->nfiles; i++) {
    const ws_source_file *a = &got->files[i], *b = &want->files[i];
    cr_assert_str_eq(a->path, b->path, "%s: file %zu", what, i);
    cr_expect_eq(a->first, b->first, "%s: %s first", what, a->path);
    cr_expect_eq(a->last, b->last, "%s: %s last", what, a->path);
    cr_expect_eq(a->revisions, b->revisions, "%s: %s revisions", what, a->path);
    cr_assert_eq(a->nauthors, b->nauthors, "%s: %s authors", what, a->path);
    for (size_t k = 0; k < a->nauthors; k++)
      cr_expect_str_eq(a->authors[k], b->authors[k], "%s: %s", what, a->path);
  }
}

/* Loads through the cache and expects the cold walk's result, 'status' and
 * 'walked' commits; returns the cached result's ignore reason (static). */
static const char *expect_cached(const char *repo, const char *status,
                                 size_t walked, const char *what) {
  ws_source_history *cold = load(repo, false, false);
  ws_source_history *h = load(repo, false, true);
  expect_same(h, cold, what);
  cr_assert(h->cache, "%s: the cache was used", what);
  cr_expect_str_eq(h->cache, status, "%s: cache %s (%s), want %s", what,
                   h->cache, h->cache_ignored ? h->cache_ignored : "", status);
  cr_expect_eq(h->walked, walked, "%s: walked %zu, want %zu", what, h->walked,
               walked);
  const char *why = h->cache_ignored;
  ws_source_history_free(h);
  ws_source_history_free(cold);
  return why;
}

/* --- the files follow from the change log --- */

/* An independent reading of the log, newest first: a file at the end is a
 * path whose newest mention adds, changes or renames to it; its life goes
 * back through renames to the addition. */
static void expect_files_follow_log(const ws_source_history *h,
                                    const char *what) {
  size_t alive = 0;
  for (size_t i = 0; i < h->nchanges; i++) {
    const ws_source_change *c = &h->changes[i];
    if (c->kind == WS_CHANGE_DELETED)
      continue;
    bool newest = true;
    for (size_t j = 0; j < i && newest; j++)
      newest = strcmp(h->changes[j].path, c->path) != 0 &&
               !(h->changes[j].old_path &&
                 strcmp(h->changes[j].old_path, c->path) == 0);
    alive += newest;
    if (!newest)
      continue;
    const ws_source_file *f = NULL;
    for (size_t k = 0; k < h->nfiles; k++)
      if (strcmp(h->files[k].path, c->path) == 0)
        f = &h->files[k];
    cr_assert(f, "%s: %s exists at the end", what, c->path);
    const char *cur = c->path;
    size_t revisions = 0, first = c->rev;
    for (size_t j = i; j < h->nchanges; j++) {
      const ws_source_change *d = &h->changes[j];
      if (strcmp(d->path, cur) != 0 || d->kind == WS_CHANGE_DELETED)
        continue;
      revisions++;
      first = d->rev;
      bool by = false;
      for (size_t a = 0; a < f->nauthors; a++)
        by |= strcmp(f->authors[a], h->revs[d->rev].author) == 0;
      cr_expect(by, "%s: %s lists %s", what, cur, h->revs[d->rev].author);
      if (d->kind == WS_CHANGE_ADDED)
        break;
      if (d->kind == WS_CHANGE_RENAMED)
        cur = d->old_path;
    }
    cr_expect_eq(f->last, c->rev, "%s: %s last", what, f->path);
    cr_expect_eq(f->first, first, "%s: %s first", what, f->path);
    cr_expect_eq(f->revisions, revisions, "%s: %s revisions %zu, want %zu",
                 what, f->path, f->revisions, revisions);
  }
  cr_expect_eq(h->nfiles, alive, "%s: %zu files, want %zu", what, h->nfiles,
               alive);
  for (size_t k = 1; k < h->nfiles; k++)
    cr_expect(strcmp(h->files[k - 1].path, h->files[k].path) < 0,
              "%s: files sorted", what);
}

/* Six commits on the first-parent chain: additions, edits, a rename, a
 * deletion and re-adding, a merge of a side branch, and .mailmap at work.
 * 'mid' (may be NULL) gets the merge, the fourth (caller frees). */
static char *mixed_repo(char **mid) {
  char *repo = th_repo_new(false);
  th_write(repo, ".mailmap", "Ada Lovelace <ada@example.org> <ada@old>\n");
  write_person(repo, "amara", "Amara Okafor", NULL);
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_commit_all(repo, "Add Amara and Bo", "A. L. <ada@old>", T0);
  write_person(repo, "amara", "Amara Okafor", "Edit.");
  th_repo_commit_all(repo, "Edit Amara", BO, T0 + 10);
  th_repo_branch(repo, "side");
  write_person(repo, "cy", "Cy Mensah", NULL);
  th_repo_commit_to(repo, "refs/heads/side", "Add Cy", CY, T0 + 20);
  remove_person(repo, "cy");
  remove_person(repo, "bo");
  th_repo_commit_all(repo, "Bo leaves", ADA, T0 + 30);
  write_person(repo, "cy", "Cy Mensah", NULL);
  th_repo_merge(repo, "refs/heads/side", "Merge side", CY, T0 + 40);
  if (mid)
    *mid = th_repo_head(repo);
  remove_person(repo, "amara");
  write_person(repo, "amara-okafor", "Amara Okafor", "Edit.");
  th_repo_commit_all(repo, "Amara: full slug", BO, T0 + 50);
  write_person(repo, "bo", "Bo Andersson", "Another Bo.");
  th_repo_commit_all(repo, "Welcome Bo Andersson", CY, T0 + 60);
  return repo;
}

Test(history_cache, files_follow_the_log) {
  char *repo = mixed_repo(NULL);
  ws_source_history *h = load(repo, false, false);
  cr_assert_eq(h->nfiles, 3);
  expect_files_follow_log(h, "mixed");
  cr_expect_str_eq(h->files[0].path, "people/amara-okafor.md");
  cr_expect_eq(h->files[0].revisions, 3);
  cr_expect_str_eq(h->revs[h->files[0].first].author, "Ada Lovelace",
                   ".mailmap applied");
  cr_expect_str_eq(h->files[1].path, "people/bo.md");
  cr_expect_eq(h->files[1].revisions, 1, "re-added: starts over");
  cr_expect_str_eq(h->revs[h->files[2].first].subject, "Merge side");
  ws_source_history_free(h);

  /* Shallow: the cut commit adds what existed there. */
  char *cut = NULL;
  th_discard(repo);
  repo = mixed_repo(&cut);
  th_repo_make_shallow(repo, cut);
  h = load(repo, false, false);
  cr_expect(h->partial);
  expect_files_follow_log(h, "shallow");
  ws_source_history_free(h);
  free(cut);
  th_discard(repo);
}

/* A deterministic random walk of additions, edits, deletions and renames,
 * a few per commit; after each commit the files follow from the log and a
 * cached load (incremental from the previous commit) equals a cold one. */
Test(history_cache, random_edits_match_cold_walks, .timeout = 60) {
  static const char *const slugs[] = {"amara", "bo",  "cy",
                                      "dana",  "eli", "fen"};
  static const char *const authors[] = {ADA, BO, CY};
  enum { NSLUGS = 6 };
  bool here[NSLUGS] = {false};
  int edits[NSLUGS] = {0};
  unsigned long seed = 12345;
  char *repo = th_repo_new(false);
  ws_str extra = WS_STR_INIT, what = WS_STR_INIT;
  for (int commit = 0; commit < 30; commit++) {
    int ops = 1 + (int)((seed >> 16) % 3);
    for (int op = 0; op < ops; op++) {
      seed = seed * 1103515245u + 12345u;
      size_t s = (seed >> 16) % NSLUGS, t = (seed >> 20) % NSLUGS;
      int kind = (int)((seed >> 24) % 4);
      ws_str_clear(&extra);
      ws_str_printf(&extra, "Edit %d.", ++edits[s]);
      if (!here[s]) {
        write_person(repo, slugs[s], slugs[s], extra.ptr);
        here[s] = true;
      } else if (kind == 0) {
        remove_person(repo, slugs[s]);
        here[s] = false;
      } else if (kind == 1 && !here[t]) {
        remove_person(repo, slugs[s]);
        write_person(repo, slugs[t], slugs[s], extra.ptr);
        here[s] = false;
        here[t] = true;
      } else {
        write_person(repo, slugs[s], slugs[s], extra.ptr);
      }
    }
    th_repo_commit_all(repo, "Change", authors[seed % 3], T0 + commit * 60L);
    ws_str_clear(&what);
    ws_str_printf(&what, "commit %d", commit);
    ws_source_history *h = load(repo, false, false);
    expect_files_follow_log(h, what.ptr);
    ws_source_history_free(h);
    expect_cached(repo, commit ? "updated" : "created", 1, what.ptr);
  }
  ws_str_release(&extra);
  ws_str_release(&what);
  th_discard(repo);
}

/* --- using the cache --- */

Test(history_cache, second_load_walks_nothing) {
  char *repo = mixed_repo(NULL);
  char *none = cache_file(repo);
  cr_expect_null(none, "no cache before the first cached load");
  free(none);
  ws_source_history *cold = load(repo, false, false);
  cr_expect_null(cold->cache, "a plain load never uses the cache");
  cr_expect_eq(cold->walked, 6);
  ws_source_history_free(cold);

  expect_cached(repo, "created", 6, "first");
  char *path = cache_file(repo);
  cr_assert(path, "the cache is in the git directory");
  size_t len1 = 0, len2 = 0;
  char *before = th_slurp(path, &len1);
  cr_expect(strncmp(before, "wholeself history cache\n", 24) == 0);
  expect_cached(repo, "up to date", 0, "second");
  char *after = th_slurp(path, &len2);
  cr_expect(len1 == len2 && memcmp(before, after, len1) == 0,
            "an up-to-date cache is not rewritten");
  free(before);
  free(after);
  free(path);
  th_discard(repo);
}

/* An edit, a rename of a file added before the cached commit, a deletion
 * and a re-adding: only the new commits are walked, the result is a cold
 * walk's. */
Test(history_cache, new_commits_are_walked_incrementally) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  write_person(repo, "cy", "Cy Mensah", "Edit.");
  th_repo_commit_all(repo, "Edit Cy", ADA, T0 + 100);
  expect_cached(repo, "updated", 1, "edit");
  remove_person(repo, "amara-okafor");
  write_person(repo, "amara-o", "Amara Okafor", "Edit. Again.");
  th_repo_commit_all(repo, "Amara: shorter slug", CY, T0 + 110);
  write_person(repo, "cy", "Cy Mensah", "Edit. Two.");
  th_repo_commit_all(repo, "Edit Cy again", BO, T0 + 120);
  th_write(repo, "README.md", "outside people/\n");
  th_repo_commit_all(repo, "Readme", BO, T0 + 125);
  expect_cached(repo, "updated", 3, "rename across the cached commit");
  remove_person(repo, "cy");
  th_repo_commit_all(repo, "Cy leaves", ADA, T0 + 130);
  write_person(repo, "cy", "Cy Mensah-Berg", NULL);
  th_repo_commit_all(repo, "Cy is back", BO, T0 + 140);
  expect_cached(repo, "updated", 2, "delete and re-add");

  ws_source_history *h = load(repo, false, true);
  expect_files_follow_log(h, "after the increments");
  const ws_source_file *amara = &h->files[0];
  cr_assert_str_eq(amara->path, "people/amara-o.md");
  cr_expect_eq(amara->revisions, 4, "the whole life, across renames");
  cr_expect_eq(h->revs[amara->first].time, T0);
  const ws_source_file *cy = &h->files[2];
  cr_assert_str_eq(cy->path, "people/cy.md");
  cr_expect_eq(cy->revisions, 1, "re-added after the cache: starts over");
  ws_source_history_free(h);
  /* Each push appended its commits and a trailer: the bytes written
   * before are still there. A cold walk writes one segment. */
  char *path = cache_file(repo);
  size_t len = 0, cold_len = 0;
  char *updated = th_slurp(path, &len);
  cr_assert(unlink(path) == 0);
  expect_cached(repo, "created", 12, "cold again");
  char *cold = th_slurp(path, &cold_len);
  cr_expect_gt(len, cold_len, "appended: %zu bytes, a cold cache %zu", len,
               cold_len);
  free(updated);
  free(cold);
  free(path);
  th_discard(repo);
}

/* A push appends its records and a trailer, never changing a byte already
 * written; when old trailers would be half of the file, the save writes a
 * new one instead, so the file does not grow without bound. */
Test(history_cache, pushes_append_until_the_file_is_half_old_trailers) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  char *path = cache_file(repo);
  size_t before = 0, cold_len = 0;
  char *was = th_slurp(path, &before);
  write_person(repo, "cy", "Cy Mensah", "Edit.");
  th_repo_commit_all(repo, "Edit Cy", ADA, T0 + 100);
  expect_cached(repo, "updated", 1, "one push");
  size_t len = 0;
  char *now = th_slurp(path, &len);
  cr_assert_gt(len, before, "appended");
  cr_expect(memcmp(now, was, before) == 0, "the bytes before are kept");
  free(now);
  free(was);
  /* Each push adds a trailer as large as the files' records, so after a
   * few the file is written anew, no larger than a cold walk writes. */
  size_t shrank = 0;
  for (int i = 0; i < 8; i++) {
    char edit[32];
    snprintf(edit, sizeof(edit), "Edit %d.", i);
    write_person(repo, "cy", "Cy Mensah", edit);
    th_repo_commit_all(repo, "Edit Cy again", BO, T0 + 200 + i * 10);
    expect_cached(repo, "updated", 1, "another push");
    size_t next = 0;
    free(th_slurp(path, &next));
    shrank += next < len;
    len = next;
  }
  cr_expect_gt(shrank, 0, "the file was written anew at least once");
  cr_assert(unlink(path) == 0);
  expect_cached(repo, "created", 15, "cold");
  free(th_slurp(path, &cold_len));
  cr_expect_lt(len, 2 * cold_len + 1, "%zu bytes, a cold cache %zu", len,
               cold_len);
  free(path);
  th_discard(repo);
}

/* --- caches that must not be trusted --- */

Test(history_cache, corrupt_cache_is_rebuilt) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  char *path = cache_file(repo);
  size_t len = 0;
  char *good = th_slurp(path, &len);
  cr_assert_gt(len, 100);

  th_spill(path, good, len / 2);
  const char *why = expect_cached(repo, "rebuilt", 6, "truncated");
  cr_expect_str_eq(why, "corrupt (checksum)");
  size_t len2 = 0;
  char *again = th_slurp(path, &len2);
  cr_expect(len2 == len && memcmp(again, good, len) == 0, "rewritten");
  free(again);

  /* Past the magic and the version number, which are read first (a flip
   * there says "not a history cache" or "another format version"). */
  for (size_t at = 32; at < len; at += len / 7) {
    char *bad = ws_xmalloc(len);
    memcpy(bad, good, len);
    bad[at] = (char)(bad[at] ^ 0x20);
    th_spill(path, bad, len);
    why = expect_cached(repo, "rebuilt", 6, "flipped byte");
    cr_expect_str_eq(why, "corrupt (checksum)", "byte %zu", at);
    free(bad);
  }
  th_spill(path, "", 0);
  why = expect_cached(repo, "rebuilt", 6, "empty");
  cr_expect_str_eq(why, "not a history cache");
  expect_cached(repo, "up to date", 0, "rebuilt cache is used");
  free(good);
  free(path);
  th_discard(repo);
}

static uint64_t le64(const char *p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++)
    v |= (uint64_t)(unsigned char)p[i] << (8 * i);
  return v;
}

static void put_le64(char *p, uint64_t v) {
  for (size_t i = 0; i < 8; i++)
    p[i] = (char)(unsigned char)(v >> (8 * i));
}

/* Steps over a str (u64 length, bytes, NUL) at 'at'. */
static size_t past_str(const char *bytes, size_t at) {
  return at + 8 + (size_t)le64(bytes + at) + 1;
}

/* Writes the cache 'bytes' to 'path' with its checksums made to match, as
 * the writer sums (see the format in source.c): each span of records,
 * then the header and trailer. Damage that only the reader's own checks
 * can find. */
static void spill_summed(const char *path, char *bytes, size_t len) {
  size_t header = 24 + 8;                                 /* magic, version */
  header = past_str(bytes, past_str(bytes, header)) + 16; /* folders, keys */
  header = past_str(bytes, header);                       /* root */
  size_t at = (size_t)le64(bytes + len - 16);
  size_t spans = past_str(bytes, at) + 1, n = (size_t)le64(bytes + spans);
  for (size_t i = 0; i < n; i++) {
    char *sp = bytes + spans + 8 + 40 * i;
    put_le64(sp + 32,
             ws_digest_bytes(bytes + le64(sp), (size_t)le64(sp + 8)).hi);
  }
  size_t tail = len - 24 - at;
  char *both = ws_xmalloc(header + tail);
  memcpy(both, bytes, header);
  memcpy(both + header, bytes + at, tail);
  put_le64(bytes + len - 24, ws_digest_bytes(both, header + tail).hi);
  free(both);
  th_spill(path, bytes, len);
}

/* Sets byte 'k' from the start of the head commit's id, where the log
 * holds it (the first time the file names it: the trailer names the head
 * too, as its tip), to 'c' in the cache of 'repo' (see spill_summed). */
static void damage_head_id(const char *repo, size_t k, char c) {
  char *path = cache_file(repo), *head = th_repo_head(repo);
  size_t len = 0, n = strlen(head);
  char *bytes = th_slurp(path, &len);
  char *at = NULL;
  for (size_t i = 0; i + n < len && !at; i++)
    if (memcmp(bytes + i, head, n) == 0)
      at = bytes + i;
  cr_assert(at && at[n] == '\0', "the head commit's id and its NUL");
  at[k] = c;
  spill_summed(path, bytes, len);
  free(bytes);
  free(head);
  free(path);
}

/* A cache that passes its checksum but holds a commit id that is not 40
 * hexadecimal digits (a writer's bug, not damage) is rebuilt too: each
 * id is checked as it is read. Texts are read where they lie in the
 * mapped file, so each must also end in the NUL the writer puts after
 * it. */
Test(history_cache, a_commit_id_that_is_not_hexadecimal_is_rebuilt) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  damage_head_id(repo, 7, 'g');
  const char *why = expect_cached(repo, "rebuilt", 6, "not hexadecimal");
  cr_expect_str_eq(why, "corrupt");
  damage_head_id(repo, 40, 'x');
  why = expect_cached(repo, "rebuilt", 6, "no NUL");
  cr_expect_str_eq(why, "corrupt");
  th_discard(repo);
}

/* Sets the u64 at 'field' numbers after the path 'path' where the cache of
 * 'repo' last names it (the files at its tip come last), to 'v' (see
 * spill_summed). */
static void damage_file_record(const char *repo, const char *path, size_t field,
                               uint64_t v) {
  char *cache = cache_file(repo);
  size_t len = 0, n = strlen(path) + 1;
  char *bytes = th_slurp(cache, &len);
  char *at = NULL;
  for (size_t i = 0; i + n < len; i++)
    if (memcmp(bytes + i, path, n) == 0)
      at = bytes + i + n;
  cr_assert(at, "%s is in the cache", path);
  for (size_t i = 0; i < 8; i++)
    at[8 * field + i] = (char)(unsigned char)(v >> (8 * i));
  spill_summed(cache, bytes, len);
  free(bytes);
  free(cache);
}

/* The cache keeps the files at its commit, which a load that walked newer
 * commits starts from; a record there that passes the checksum but names a
 * commit the log does not have, or no author, means a full walk. */
Test(history_cache, a_file_record_out_of_range_is_rebuilt) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  static const struct {
    size_t field; /* first, last, revisions, authors, the first author */
    uint64_t v;
    const char *what;
  } bad[] = {{0, 6, "added by a commit past the log"},
             {1, 5, "changed last before it was added"},
             {3, 0, "no author"},
             {3, 9, "more authors than revisions"},
             {4, 99, "an author's commit past the log"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    damage_file_record(repo, "people/cy.md", bad[i].field, bad[i].v);
    const char *why = expect_cached(repo, "rebuilt", 6, bad[i].what);
    cr_expect_str_eq(why, "corrupt", "%s", bad[i].what);
  }
  /* And a good one is used by the next walk: the records it updates are
   * the cache's, and the result is still the cold walk's. */
  write_person(repo, "cy", "Cy Mensah", "Edit.");
  th_repo_commit_all(repo, "Edit Cy", ADA, T0 + 100);
  expect_cached(repo, "updated", 1, "on top of the cached files");
  th_discard(repo);
}

Test(history_cache, cache_from_another_repository_is_ignored) {
  char *one = mixed_repo(NULL);
  char *two = th_repo_new(false);
  write_person(two, "amara", "Amara Okafor", "Somewhere else.");
  th_repo_commit_all(two, "Add Amara", BO, T0);
  expect_cached(one, "created", 6, "one");
  char *path = cache_file(one);
  size_t len = 0;
  char *data = th_slurp(path, &len);
  ws_str dir = WS_STR_INIT, dest = WS_STR_INIT;
  ws_str_printf(&dir, "%s/.git/wholeself", two);
  ws_str_printf(&dest, "%s%s", two, strstr(path, "/.git/wholeself/"));
  th_write(two, ".git/wholeself/.keep", "");
  th_spill(dest.ptr, data, len);
  const char *why = expect_cached(two, "rebuilt", 1, "two");
  cr_expect_str_eq(why, "from another repository");
  size_t len2 = 0;
  char *mine = th_slurp(dest.ptr, &len2);
  cr_expect(len2 != len || memcmp(mine, data, len) != 0, "rewritten");
  free(mine);
  free(data);
  free(path);
  ws_str_release(&dir);
  ws_str_release(&dest);
  th_rm_rf(one);
  th_rm_rf(two);
  free(one);
  free(two);
}

/* Moves the current branch to 'hex', like `git reset --hard`, minus the
 * work tree. */
static void reset_branch(const char *path, const char *hex) {
  git_repository *repo = NULL;
  git_reference *head = NULL, *moved = NULL;
  git_oid id;
  cr_assert_eq(git_repository_open(&repo, path), 0);
  cr_assert_eq(git_repository_head(&head, repo), 0);
  cr_assert_eq(git_oid_fromstr(&id, hex), 0);
  cr_assert_eq(git_reference_set_target(&moved, head, &id, "reset"), 0);
  git_reference_free(moved);
  git_reference_free(head);
  git_repository_free(repo);
}

/* The cached commit is no longer on the chain (amended, reset, force
 * pushed, or another branch built from the same clone): the walk goes back
 * only to where the two chains meet, and takes the cached log from there. */
Test(history_cache, other_chains_reuse_the_cache_below_where_they_meet) {
  char *mid = NULL;
  char *repo = mixed_repo(&mid);
  expect_cached(repo, "created", 6, "cold");
  reset_branch(repo, mid);
  write_person(repo, "dana", "Dana Ito", NULL);
  th_repo_commit_all(repo, "Add Dana instead", ADA, T0 + 70);
  const char *why = expect_cached(repo, "updated", 1, "reset");
  cr_expect_null(why, "%s", why);
  expect_cached(repo, "up to date", 0, "after the update");

  /* An older commit than the cached one: nothing to walk at all. */
  reset_branch(repo, mid);
  expect_cached(repo, "up to date", 0, "older commit");
  free(mid);
  th_discard(repo);
}

/* A longer chain meets the cache too, forty commits below the new tip:
 * the walk compares its first commits' ids with the log's one by one, and
 * sorts the log's once it has looked up many (see is_known). */
Test(history_cache, a_long_chain_meets_the_cache_below_where_they_meet) {
  char *mid = NULL;
  char *repo = mixed_repo(&mid);
  expect_cached(repo, "created", 6, "cold");
  reset_branch(repo, mid);
  for (int i = 0; i < 40; i++) {
    char extra[32];
    snprintf(extra, sizeof(extra), "Edit %d.", i);
    write_person(repo, "dana", "Dana Ito", extra);
    th_repo_commit_all(repo, extra, ADA, T0 + 70 + i);
  }
  const char *why = expect_cached(repo, "updated", 40, "forty commits");
  cr_expect_null(why, "%s", why);
  expect_cached(repo, "up to date", 0, "after the update");
  free(mid);
  th_discard(repo);
}

/* A chain that shares no commit with the cached one (here a new root)
 * cannot use it: the walk goes to the root and the cache is rewritten. */
Test(history_cache, unrelated_history_is_rebuilt) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  write_person(repo, "dana", "Dana Ito", NULL);
  th_repo_commit_to(repo, "refs/heads/fresh", "A new start", ADA, T0 + 80);
  write_person(repo, "eli", "Eli Brandt", NULL);
  th_repo_commit_to(repo, "refs/heads/fresh", "Add Eli", ADA, T0 + 90);
  git_repository *r = NULL;
  cr_assert_eq(git_repository_open(&r, repo), 0);
  cr_assert_eq(git_repository_set_head(r, "refs/heads/fresh"), 0);
  git_repository_free(r);
  const char *why = expect_cached(repo, "rebuilt", 2, "new root");
  cr_expect_str_eq(why, "its commit is not on the first-parent chain");
  th_discard(repo);
}

/* Authors are resolved at walk time, so a new .mailmap invalidates every
 * cached name. */
Test(history_cache, changed_mailmap_invalidates) {
  char *repo = mixed_repo(NULL);
  expect_cached(repo, "created", 6, "cold");
  th_write(repo, ".mailmap",
           "Ada Lovelace <ada@example.org> <ada@old>\n"
           "Bo L. <bo@example.org>\n");
  th_repo_commit_all(repo, "Shorter name for Bo", CY, T0 + 70);
  const char *why = expect_cached(repo, "rebuilt", 7, "mailmap");
  cr_expect_str_eq(why, ".mailmap changed");
  ws_source_history *h = load(repo, false, true);
  cr_expect_str_eq(h->revs[h->nrevs - 2].author, "Bo L.", "new names");
  ws_source_history_free(h);
  expect_cached(repo, "up to date", 0, "after the rebuild");
  th_discard(repo);
}

/* Deepening or unshallowing a clone changes what the oldest commits mean. */
Test(history_cache, shallow_boundary_change_invalidates) {
  char *cut = NULL;
  char *repo = mixed_repo(&cut);
  th_repo_make_shallow(repo, cut);
  expect_cached(repo, "created", 3, "shallow");
  ws_source_history *h = load(repo, false, true);
  cr_expect(h->partial, "the cached log keeps 'partial'");
  ws_source_history_free(h);
  write_person(repo, "dana", "Dana Ito", NULL);
  th_repo_commit_all(repo, "Add Dana", ADA, T0 + 70);
  expect_cached(repo, "updated", 1, "shallow, one more commit");
  remove_file_at(repo, ".git/shallow");
  const char *why = expect_cached(repo, "rebuilt", 7, "unshallowed");
  cr_expect_str_eq(why, "shallow boundary changed");
  h = load(repo, false, true);
  cr_expect_not(h->partial);
  ws_source_history_free(h);
  free(cut);
  th_discard(repo);
}

/* A preview walks HEAD and uses the work tree's .mailmap. */
Test(history_cache, worktree_caches_head) {
  char *repo = mixed_repo(NULL);
  write_person(repo, "eli", "Eli Stone", NULL); /* not committed */
  ws_source_history *cold = load(repo, true, false);
  ws_source_history *h = load(repo, true, true);
  expect_same(h, cold, "worktree");
  cr_expect_str_eq(h->cache, "created");
  ws_source_history_free(h);
  h = load(repo, true, true);
  expect_same(h, cold, "worktree again");
  cr_expect_str_eq(h->cache, "up to date");
  ws_source_history_free(h);
  ws_source_history_free(cold);

  th_write(repo, ".mailmap",
           "Ada Lovelace <ada@example.org> <ada@old>\n"
           "Cyrus <cy@example.org>\n");
  cold = load(repo, true, false);
  h = load(repo, true, true);
  expect_same(h, cold, "worktree .mailmap edited");
  cr_expect_str_eq(h->cache, "rebuilt");
  cr_expect_str_eq(h->cache_ignored, ".mailmap changed");
  cr_expect_str_eq(h->revs[0].author, "Cyrus");
  ws_source_history_free(h);
  ws_source_history_free(cold);
  th_discard(repo);
}

/* A git directory the cache cannot be written to still builds. */
Test(history_cache, unwritable_cache_is_not_an_error) {
  char *repo = mixed_repo(NULL);
  th_write(repo, ".git/wholeself", "a file where the folder would go\n");
  const char *why =
      expect_cached(repo, "not saved (cannot write it)", 6, "unwritable");
  cr_expect_str_eq(why, "unreadable");
  th_discard(repo);
}

/* --- the build --- */

static int build(const char *repo, const char *out, ws_str *err) {
  const char *argv[] = {"build", "-C", repo,        "--content", "content",
                        "--out", out,  "--verbose", NULL};
  ws_str_clear(err);
  return th_run(NULL, NULL, err, argv);
}

Test(history_cache, cached_build_is_byte_identical) {
  char *repo = mixed_repo(NULL);
  th_write(repo, "content/site.yml", "title: Cache test\n");
  th_repo_commit_all(repo, "Site settings", ADA, T0 + 65);
  char *tmp = th_tmpdir();
  ws_str cold = WS_STR_INIT, warm = WS_STR_INIT, err = WS_STR_INIT;
  ws_str_printf(&cold, "%s/cold", tmp);
  ws_str_printf(&warm, "%s/warm", tmp);
  ws_str gitdir = WS_STR_INIT;
  ws_str_printf(&gitdir, "%s/.git/wholeself", repo);

  cr_assert_eq(build(repo, cold.ptr, &err), 0, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "commits walked, cache created"), "%s", err.ptr);
  cr_assert_eq(build(repo, warm.ptr, &err), 0, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "0 commits walked, cache up to date"), "%s",
            err.ptr);
  char *diff = th_tree_diff(cold.ptr, warm.ptr);
  cr_expect_null(diff, "differs: %s", diff);
  free(diff);

  /* One more commit: incremental build vs. a build without a cache. */
  write_person(repo, "bo", "Bo Andersson", "Another Bo, edited.");
  th_repo_commit_all(repo, "Bo A: edit", ADA, T0 + 200);
  cr_assert_eq(build(repo, warm.ptr, &err), 0, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "1 commits walked, cache updated"), "%s", err.ptr);
  th_rm_rf(gitdir.ptr);
  cr_assert_eq(build(repo, cold.ptr, &err), 0, "%s", err.ptr);
  diff = th_tree_diff(cold.ptr, warm.ptr);
  cr_expect_null(diff, "differs after a commit: %s", diff);
  free(diff);

  /* A corrupt cache says so under --verbose, and changes nothing. */
  char *path = cache_file(repo);
  th_write(repo, strstr(path, ".git/wholeself/"), "garbage");
  cr_assert_eq(build(repo, warm.ptr, &err), 0, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "history cache ignored: not a history cache"), "%s",
            err.ptr);
  diff = th_tree_diff(cold.ptr, warm.ptr);
  cr_expect_null(diff, "differs with a corrupt cache: %s", diff);
  free(diff);
  free(path);
  ws_str_release(&gitdir);
  ws_str_release(&cold);
  ws_str_release(&warm);
  ws_str_release(&err);
  th_rm_rf(tmp);
  free(tmp);
  th_discard(repo);
}
