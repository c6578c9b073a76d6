/* test_history.c - the history walk (source), its mapping to profiles and
 * events (site), and the pages made from it: the person's history, the
 * contributions timeline and feed.xml. Repositories are built with libgit2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <git2.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "contributions.h"
#include "profile.h"
#include "error.h"
#include "helpers.h"
#include "site.h"
#include "source.h"
#include "xalloc.h"

#define ADA "Ada Lovelace <ada@example.org>"
#define BO "Bo Lindqvist <bo@example.org>"
#define CY "Cy Mensah <cy@example.org>"
#define T1 1700000000L /* 14 November 2023 22:13:20 UTC */
#define T2 1700100000L
#define T3 1700200000L
#define T4 1700300000L
#define T5 1700400000L

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(history, .init = setup, .fini = teardown);

static char *profile(const char *name, const char *extra) {
  ws_str s = WS_STR_INIT;
  ws_str_printf(&s,
                "---\nname: %s\nrole: Engineer\n---\n## Background\n\n"
                "%s grew up by the sea and builds things that last; this "
                "paragraph is long enough for rename detection to see the "
                "file as the same one after a move. %s\n",
                name, name, extra ? extra : "");
  return ws_str_detach(&s);
}

static void write_person(const char *repo, const char *slug, const char *name,
                         const char *extra) {
  char *text = profile(name, extra);
  ws_str rel = WS_STR_INIT;
  ws_str_printf(&rel, "content/people/%s.md", slug);
  th_write(repo, rel.ptr, text);
  ws_str_release(&rel);
  free(text);
}

static void remove_file(const char *repo, const char *rel) {
  ws_str path = WS_STR_INIT;
  ws_str_printf(&path, "%s/%s", repo, rel);
  th_rm_rf(path.ptr);
  ws_str_release(&path);
}

/* The walk of 'repo' (content/, people/), at HEAD or the work tree. */
static ws_source_history *walk(const char *repo, bool worktree) {
  ws_source_opts o = {repo, NULL, "content", worktree};
  ws_source *src = NULL;
  ws_source_history *h = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  cr_assert_eq(ws_source_history_load(&h, src, "people"), 0, "%s",
               ws_error_last());
  ws_source_free(src);
  return h;
}

static const ws_source_file *file_of(const ws_source_history *h,
                                     const char *path) {
  for (size_t i = 0; i < h->nfiles; i++)
    if (strcmp(h->files[i].path, path) == 0)
      return &h->files[i];
  return NULL;
}

/* Asserts the first and last commit times, revisions and the authors
 * (sorted, NULL-terminated) of 'path'. */
static void expect_file(const ws_source_history *h, const char *path,
                        long first, long last, size_t revisions,
                        const char *const *authors) {
  const ws_source_file *f = file_of(h, path);
  cr_assert(f, "no history for %s", path);
  cr_expect_eq(h->revs[f->first].time, first, "%s: first %lld, want %ld", path,
               h->revs[f->first].time, first);
  cr_expect_eq(h->revs[f->last].time, last, "%s: last %lld, want %ld", path,
               h->revs[f->last].time, last);
  cr_expect_eq(f->revisions, revisions, "%s: %zu revisions, want %zu", path,
               f->revisions, revisions);
  size_t n = 0;
  while (authors[n])
    n++;
  cr_assert_eq(f->nauthors, n, "%s: %zu authors, want %zu", path, f->nauthors,
               n);
  for (size_t i = 0; i < n; i++)
    cr_expect_str_eq(f->authors[i], authors[i], "%s: author %zu", path, i);
}

Test(history, add_then_edit_by_another_author) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, T1);
  th_write(repo, "README.md", "outside the content folder\n");
  th_repo_commit_all(repo, "Add a README", CY, T2);
  write_person(repo, "amara", "Amara Okafor", "Now on the storage team.");
  th_repo_commit_all(repo, "Amara: storage team\n\nLonger body.", BO, T3);
  char *head = th_repo_head(repo);

  ws_source_history *h = walk(repo, false);
  cr_assert_eq(h->nrevs, 2, "the README commit does not count");
  cr_expect_eq(h->nchanges, 2);
  cr_expect_not(h->partial);
  expect_file(h, "people/amara.md", T1, T3, 2,
              (const char *const[]){"Ada Lovelace", "Bo Lindqvist", NULL});
  const ws_source_file *f = file_of(h, "people/amara.md");
  cr_expect_str_eq(h->revs[f->last].subject, "Amara: storage team");
  cr_expect_str_eq(h->revs[f->last].id, head);
  cr_expect_eq(h->changes[0].kind, WS_CHANGE_MODIFIED);
  cr_expect_eq(h->changes[1].kind, WS_CHANGE_ADDED);
  ws_source_history_free(h);
  free(head);
  th_rm_rf(repo);
  free(repo);
}

Test(history, rename_keeps_history) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara-o", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, T1);
  write_person(repo, "amara-o", "Amara Okafor", "Edited.");
  th_repo_commit_all(repo, "Edit Amara", BO, T2);
  remove_file(repo, "content/people/amara-o.md");
  write_person(repo, "amara-okafor", "Amara Okafor", "Edited.");
  th_repo_commit_all(repo, "Amara gets her full slug", CY, T3);

  ws_source_history *h = walk(repo, false);
  cr_assert_eq(h->nfiles, 1, "only the file at HEAD has a record");
  expect_file(
      h, "people/amara-okafor.md", T1, T3, 3,
      (const char *const[]){"Ada Lovelace", "Bo Lindqvist", "Cy Mensah", NULL});
  cr_assert_eq(h->changes[0].kind, WS_CHANGE_RENAMED);
  cr_expect_str_eq(h->changes[0].path, "people/amara-okafor.md");
  cr_expect_str_eq(h->changes[0].old_path, "people/amara-o.md");
  ws_source_history_free(h);
  th_rm_rf(repo);
  free(repo);
}

/* A profile deleted and added again starts a new life: the slug may now
 * belong to someone else, so 'first' is the re-adding commit. */
Test(history, delete_and_readd_starts_over) {
  char *repo = th_repo_new(false);
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Bo and Amara", ADA, T1);
  write_person(repo, "bo", "Bo Lindqvist", "Edit.");
  th_repo_commit_all(repo, "Edit Bo", ADA, T2);
  remove_file(repo, "content/people/bo.md");
  th_repo_commit_all(repo, "Bo leaves", ADA, T3);
  write_person(repo, "bo", "Bo Andersson", "Another Bo.");
  th_repo_commit_all(repo, "Welcome Bo Andersson", BO, T4);
  write_person(repo, "bo", "Bo Andersson", "Another Bo, edited.");
  th_repo_commit_all(repo, "Bo A: edit", CY, T5);

  ws_source_history *h = walk(repo, false);
  cr_expect_eq(h->nrevs, 5);
  cr_expect_eq(h->nchanges, 6);
  expect_file(h, "people/bo.md", T4, T5, 2,
              (const char *const[]){"Bo Lindqvist", "Cy Mensah", NULL});
  expect_file(h, "people/amara.md", T1, T1, 1,
              (const char *const[]){"Ada Lovelace", NULL});
  ws_source_history_free(h);
  th_rm_rf(repo);
  free(repo);
}

/* The walk compares only the entries between what two versions of a folder
 * share at their head and tail (rawtree.h). Over a random history of a
 * folder of hundreds of profiles, with a subfolder coming and going, it
 * must find what libgit2's diff finds, renames included, commit by
 * commit. */

static void push_line(ws_strlist *l, ws_str *line) {
  l->items = ws_xreallocarray(l->items, l->len + 1, sizeof(char *));
  l->items[l->len++] = ws_str_detach(line);
}

static void oracle_lines(ws_strlist *out, git_repository *repo, git_commit *c) {
  git_tree *trees[2] = {NULL, NULL};
  for (int side = 0; side < 2; side++) {
    git_commit *k = c;
    if (side == 0 && git_commit_parent(&k, c, 0) < 0)
      continue;
    git_tree *root = NULL;
    git_tree_entry *te = NULL;
    cr_assert_eq(git_commit_tree(&root, k), 0);
    if (git_tree_entry_bypath(&te, root, "content/people") == 0)
      cr_assert_eq(git_tree_lookup(&trees[side], repo, git_tree_entry_id(te)),
                   0);
    git_tree_entry_free(te);
    git_tree_free(root);
    if (k != c)
      git_commit_free(k);
  }
  git_diff *diff = NULL;
  git_diff_find_options fo;
  git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
  fo.flags = GIT_DIFF_FIND_RENAMES;
  cr_assert_eq(git_diff_tree_to_tree(&diff, repo, trees[0], trees[1], NULL), 0);
  cr_assert_eq(git_diff_find_similar(diff, &fo), 0);
  for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
    const git_diff_delta *d = git_diff_get_delta(diff, i);
    ws_str line = WS_STR_INIT;
    switch (d->status) {
    case GIT_DELTA_ADDED:
      ws_str_printf(&line, "added people/%s", d->new_file.path);
      break;
    case GIT_DELTA_DELETED:
      ws_str_printf(&line, "deleted people/%s", d->old_file.path);
      break;
    case GIT_DELTA_MODIFIED:
      ws_str_printf(&line, "modified people/%s", d->new_file.path);
      break;
    case GIT_DELTA_RENAMED:
      ws_str_printf(&line, "renamed people/%s from people/%s", d->new_file.path,
                    d->old_file.path);
      break;
    default:
      cr_assert_fail("unexpected delta %d", (int)d->status);
    }
    push_line(out, &line);
  }
  git_diff_free(diff);
  git_tree_free(trees[0]);
  git_tree_free(trees[1]);
}

static void walk_lines(ws_strlist *out, const ws_source_history *h,
                       size_t rev) {
  static const char *const kinds[] = {[WS_CHANGE_ADDED] = "added",
                                      [WS_CHANGE_DELETED] = "deleted",
                                      [WS_CHANGE_MODIFIED] = "modified",
                                      [WS_CHANGE_RENAMED] = "renamed"};
  for (size_t i = 0; i < h->nchanges; i++) {
    const ws_source_change *ch = &h->changes[i];
    if (ch->rev != rev)
      continue;
    ws_str line = WS_STR_INIT;
    ws_str_printf(&line, "%s %s", kinds[ch->kind], ch->path);
    if (ch->old_path)
      ws_str_printf(&line, " from %s", ch->old_path);
    push_line(out, &line);
  }
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void random_history(const char *repo) {
  enum { NAMES = 400 };
  static bool here[NAMES];
  bool alumni = false;
  unsigned long seed = 77;
  char slug[32], extra[48];
  memset(here, 0, sizeof(here));
  for (int i = 0; i < 250; i++) {
    snprintf(slug, sizeof(slug), "person-%04d", i);
    write_person(repo, slug, slug, NULL);
    here[i] = true;
  }
  th_repo_commit_all(repo, "Start", ADA, T1);
  for (int commit = 0; commit < 40; commit++) {
    int ops = 1 + commit % 3;
    for (int op = 0; op < ops; op++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      int i = (int)((seed >> 33) % NAMES), j = (int)((seed >> 45) % NAMES);
      int kind = (int)((seed >> 20) % 5);
      snprintf(slug, sizeof(slug), "person-%04d", i);
      snprintf(extra, sizeof(extra), "Edit %d.%d.", commit, op);
      if (kind == 4) {
        if (alumni) {
          remove_file(repo, "content/people/alumni");
        } else {
          write_person(repo, "alumni/ola", "Ola", extra);
          write_person(repo, "alumni/pia", "Pia", extra);
        }
        alumni = !alumni;
      } else if (!here[i]) {
        write_person(repo, slug, slug, extra);
        here[i] = true;
      } else if (kind == 0) {
        ws_str rel = WS_STR_INIT;
        ws_str_printf(&rel, "content/people/%s.md", slug);
        remove_file(repo, rel.ptr);
        ws_str_release(&rel);
        here[i] = false;
      } else if (kind == 1 && !here[j]) {
        char to[32];
        ws_str rel = WS_STR_INIT;
        ws_str_printf(&rel, "content/people/%s.md", slug);
        remove_file(repo, rel.ptr);
        ws_str_release(&rel);
        snprintf(to, sizeof(to), "person-%04d", j);
        write_person(repo, to, slug, NULL);
        here[i] = false;
        here[j] = true;
      } else {
        write_person(repo, slug, slug, extra);
      }
    }
    th_repo_commit_all(repo, "Change", commit % 2 ? BO : CY,
                       T1 + 600L * (commit + 1));
  }
}

Test(history, walk_agrees_with_git_diff_in_a_large_folder, .timeout = 60) {
  char *path = th_repo_new(false);
  random_history(path);
  ws_source_history *h = walk(path, false);
  git_repository *repo = NULL;
  git_commit *c = NULL;
  git_oid id;
  cr_assert_eq(git_repository_open(&repo, path), 0);
  cr_assert_eq(git_reference_name_to_id(&id, repo, "HEAD"), 0);
  cr_assert_eq(git_commit_lookup(&c, repo, &id), 0);
  size_t rev = 0;
  while (c) {
    ws_strlist want = {0}, got = {0};
    oracle_lines(&want, repo, c);
    if (want.len) {
      cr_assert_lt(rev, h->nrevs, "more changed commits than revs");
      cr_assert_str_eq(h->revs[rev].id, git_oid_tostr_s(git_commit_id(c)));
      walk_lines(&got, h, rev);
      qsort(want.items, want.len, sizeof(char *), cmp_line);
      qsort(got.items, got.len, sizeof(char *), cmp_line);
      cr_assert_eq(got.len, want.len, "rev %zu: %zu changes, want %zu", rev,
                   got.len, want.len);
      for (size_t i = 0; i < want.len; i++)
        cr_assert_str_eq(got.items[i], want.items[i], "rev %zu", rev);
      rev++;
    }
    ws_strlist_release(&want);
    ws_strlist_release(&got);
    git_commit *parent = NULL;
    if (git_commit_parentcount(c))
      cr_assert_eq(git_commit_parent(&parent, c, 0), 0);
    git_commit_free(c);
    c = parent;
  }
  cr_expect_eq(rev, h->nrevs);
  cr_expect_gt(rev, 40, "every commit changes the folder");
  ws_source_history_free(h);
  git_repository_free(repo);
  th_rm_rf(path);
  free(path);
}

/* First parent only: a profile added on a side branch counts from the merge
 * that brought it in, by the merge's author. */
Test(history, merge_follows_first_parent) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, T1);
  th_repo_branch(repo, "side");
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_commit_to(repo, "refs/heads/side", "Add Bo", BO, T2);
  remove_file(repo, "content/people/bo.md");
  write_person(repo, "amara", "Amara Okafor", "Main line edit.");
  th_repo_commit_all(repo, "Edit Amara", ADA, T3);
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_merge(repo, "refs/heads/side", "Merge branch 'side'", CY, T4);

  ws_source_history *h = walk(repo, false);
  cr_expect_eq(h->nrevs, 3, "the side-branch commit is not walked");
  expect_file(h, "people/bo.md", T4, T4, 1,
              (const char *const[]){"Cy Mensah", NULL});
  expect_file(h, "people/amara.md", T1, T3, 2,
              (const char *const[]){"Ada Lovelace", NULL});
  const ws_source_file *bo = file_of(h, "people/bo.md");
  cr_expect_str_eq(h->revs[bo->first].subject, "Merge branch 'side'");
  ws_source_history_free(h);
  th_rm_rf(repo);
  free(repo);
}

/* .mailmap is read from the walked commit (outside the content folder). */
Test(history, mailmap_merges_author_names) {
  char *repo = th_repo_new(false);
  th_write(repo, ".mailmap",
           "Ada Lovelace <ada@example.org> <ada@old.example>\n"
           "Bo Lindqvist <bo@example.org> bo <bo@laptop.local>\n");
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", "A. L. <ada@old.example>", T1);
  write_person(repo, "amara", "Amara Okafor", "Two.");
  th_repo_commit_all(repo, "Edit", ADA, T2);
  write_person(repo, "amara", "Amara Okafor", "Three.");
  th_repo_commit_all(repo, "Edit again", "bo <bo@laptop.local>", T3);
  write_person(repo, "amara", "Amara Okafor", "Four.");
  th_repo_commit_all(repo, "Edit once more", BO, T4);

  ws_source_history *h = walk(repo, false);
  expect_file(h, "people/amara.md", T1, T4, 4,
              (const char *const[]){"Ada Lovelace", "Bo Lindqvist", NULL});
  cr_expect_str_eq(h->revs[h->nrevs - 1].author, "Ada Lovelace");
  ws_source_history_free(h);
  th_rm_rf(repo);
  free(repo);
}

/* Cut at the second commit: what existed there counts as added there, and
 * is marked; what came later is exact. */
Test(history, shallow_clone_is_partial) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, T1);
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_commit_all(repo, "Add Bo", BO, T2);
  char *cut = th_repo_head(repo);
  write_person(repo, "amara", "Amara Okafor", "Edit.");
  th_repo_commit_all(repo, "Edit Amara", CY, T3);
  write_person(repo, "cy", "Cy Mensah", NULL);
  th_repo_commit_all(repo, "Add Cy", CY, T4);
  th_repo_make_shallow(repo, cut);

  ws_source_history *h = walk(repo, false);
  cr_expect(h->partial);
  cr_expect_eq(h->nrevs, 3);
  expect_file(h, "people/amara.md", T2, T3, 2,
              (const char *const[]){"Bo Lindqvist", "Cy Mensah", NULL});
  expect_file(h, "people/bo.md", T2, T2, 1,
              (const char *const[]){"Bo Lindqvist", NULL});
  expect_file(h, "people/cy.md", T4, T4, 1,
              (const char *const[]){"Cy Mensah", NULL});
  cr_expect(h->revs[file_of(h, "people/bo.md")->first].cut);
  cr_expect_not(h->revs[file_of(h, "people/cy.md")->first].cut);
  ws_source_history_free(h);

  /* The site marks the profiles whose first date is the cut and warns. */
  ws_source_opts o = {repo, NULL, "content", false};
  ws_source *src = NULL;
  ws_site *site = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_source_open(&src, &o), 0);
  cr_assert_eq(ws_site_load(&site, src, &diag), 0);
  cr_assert_eq(ws_site_history(site, src, &diag), 0);
  cr_expect(site->history_partial);
  const ws_profile *amara = site->people[ws_site_find(site, "amara")];
  const ws_profile *cy = site->people[ws_site_find(site, "cy")];
  cr_expect(amara->history.partial);
  cr_expect_not(cy->history.partial);
  const ws_diag_item *warn = NULL;
  for (size_t i = 0; i < diag.len; i++)
    if (strcmp(diag.items[i].code, "shallow-history") == 0)
      warn = &diag.items[i];
  cr_assert(warn, "a shallow-history warning");
  cr_expect_eq(warn->severity, WS_DIAG_WARNING);
  cr_expect_str_eq(warn->file, "content/people");
  cr_expect(strstr(warn->message, "shallow clone"));
  cr_expect(strstr(warn->message, "--unshallow"));
  ws_diag_release(&diag);
  ws_site_free(site);
  ws_source_free(src);

  /* The build says so too, and still builds. */
  char *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  ws_str_printf(&out, "%s/public", tmp);
  const char *argv[] = {"build",   "-C",    repo,    "--content",
                        "content", "--out", out.ptr, NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "history is incomplete (shallow clone)"), "%s",
            err.ptr);
  char *page = th_read(out.ptr, "people/amara/index.html");
  cr_assert(page);
  cr_expect(strstr(page, "or earlier"));
  free(page);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(tmp);
  free(tmp);
  free(cut);
  th_rm_rf(repo);
  free(repo);
}

Test(history, worktree_walks_head) {
  char *repo = th_repo_new(false);
  th_write(repo, "content/site.yml", "title: T\n");
  ws_source_history *h = walk(repo, true);
  cr_expect_eq(h->nrevs, 0, "no commits: no history");
  cr_expect_eq(h->nfiles, 0);
  ws_source_history_free(h);

  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, T1);
  write_person(repo, "bo", "Bo Lindqvist", NULL); /* not committed */
  h = walk(repo, true);
  cr_expect_eq(h->nrevs, 1);
  cr_expect_eq(h->nfiles, 1);
  expect_file(h, "people/amara.md", T1, T1, 1,
              (const char *const[]){"Ada Lovelace", NULL});
  ws_source_history_free(h);
  th_rm_rf(repo);
  free(repo);
}

/* --- the site: profiles and events --- */

static ws_site *site_of(const char *repo, ws_source **src) {
  ws_source_opts o = {repo, NULL, "content", false};
  ws_site *site = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_source_open(src, &o), 0, "%s", ws_error_last());
  cr_assert_eq(ws_site_load(&site, *src, &diag), 0);
  cr_assert_eq(ws_site_history(site, *src, &diag), 0);
  cr_assert_eq(ws_diag_count(&diag, WS_DIAG_ERROR), 0);
  ws_diag_release(&diag);
  return site;
}

/* The commit of team_repo that updates Amara. */
static char amara_commit[41];

/* Two people added in one commit, one updated, one renamed, one removed. */
static char *team_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "content/site.yml", "title: Test <Team> & Co\n");
  write_person(repo, "amara", "Amara Okafor", NULL);
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_commit_all(repo, "Add Amara and Bo", ADA, T1);
  write_person(repo, "cy", "Cy Mensah", NULL);
  th_repo_commit_all(repo, "Welcome Cy", CY, T2);
  write_person(repo, "amara", "Amara Okafor", "Edited <b>bold</b> & more.");
  th_repo_commit_all(repo, "Amara: <em>update</em> & \"more\"", BO, T3);
  char *id = th_repo_head(repo);
  memcpy(amara_commit, id, sizeof(amara_commit));
  free(id);
  remove_file(repo, "content/people/cy.md");
  th_repo_commit_all(repo, "Cy moves on", CY, T4);
  remove_file(repo, "content/people/bo.md");
  write_person(repo, "bo-lindqvist", "Bo Lindqvist", NULL);
  th_repo_commit_all(repo, "Bo: full slug", BO, T5);
  return repo;
}

Test(history, site_fills_profiles_and_events) {
  char *repo = team_repo();
  char *head = th_repo_head(repo);
  ws_source *src = NULL;
  ws_site *site = site_of(repo, &src);

  const ws_profile *amara = site->people[ws_site_find(site, "amara")];
  cr_expect(amara->history.known);
  cr_expect_not(amara->history.partial);
  cr_expect_eq(amara->history.first_time, T1);
  cr_expect_eq(amara->history.last_time, T3);
  cr_expect_str_eq(amara->history.first_author, "Ada Lovelace");
  cr_expect_str_eq(amara->history.last_author, "Bo Lindqvist");
  cr_expect_str_eq(amara->history.last_subject,
                   "Amara: <em>update</em> & \"more\"");
  cr_expect_eq(amara->history.revisions, 2);
  cr_assert_eq(amara->history.authors.len, 2);
  cr_expect_str_eq(amara->history.authors.items[0], "Ada Lovelace");
  cr_expect_str_eq(amara->history.authors.items[1], "Bo Lindqvist");
  const ws_profile *bo = site->people[ws_site_find(site, "bo-lindqvist")];
  cr_expect_eq(bo->history.first_time, T1);
  cr_expect_eq(bo->history.revisions, 2);
  cr_expect_str_eq(bo->history.last_commit, head);

  /* Newest first; the two additions of one commit by slug. Each knows who
   * has its slug now: nobody for those who left or moved. */
  static const struct {
    ws_event_kind kind;
    long time;
    const char *slug, *old_slug;
    bool someone;
  } want[] = {{WS_EVENT_RENAMED, T5, "bo-lindqvist", "bo", true},
              {WS_EVENT_REMOVED, T4, "cy", NULL, false},
              {WS_EVENT_UPDATED, T3, "amara", NULL, true},
              {WS_EVENT_ADDED, T2, "cy", NULL, false},
              {WS_EVENT_ADDED, T1, "amara", NULL, true},
              {WS_EVENT_ADDED, T1, "bo", NULL, false}};
  cr_assert_eq(site->nevents, 6);
  for (size_t i = 0; i < 6; i++) {
    const ws_event *e = &site->events[i];
    cr_expect_eq(e->kind, want[i].kind, "event %zu", i);
    cr_expect_eq(e->time, want[i].time, "event %zu", i);
    cr_expect_str_eq(e->slug, want[i].slug, "event %zu", i);
    if (want[i].old_slug)
      cr_expect_str_eq(e->old_slug, want[i].old_slug, "event %zu", i);
    else
      cr_expect_null(e->old_slug, "event %zu", i);
    if (want[i].someone)
      cr_expect_eq(e->person, ws_site_find(site, want[i].slug) + 1, "event %zu",
                   i);
    else
      cr_expect_eq(e->person, 0, "event %zu", i);
  }
  cr_expect_str_eq(site->events[0].commit, head);
  cr_expect_str_eq(site->events[1].author, "Cy Mensah");
  cr_expect_str_eq(site->events[1].subject, "Cy moves on");
  ws_site_free(site);
  ws_source_free(src);
  free(head);
  th_rm_rf(repo);
  free(repo);
}

/* --- the walk beside loading (ws_site_history_start) --- */

/* Loads the site of 'src' while its history is walked on a thread of its
 * own, as build does; returns what ws_site_history_finish returned. */
static int load_beside_walk(ws_source *src, ws_site **site, ws_diag *diag) {
  ws_history_walk *w = ws_site_history_start(src, 0);
  cr_assert_eq(ws_site_load_jobs(site, src, 2, diag), 0);
  ws_error_clear();
  return ws_site_history_finish(*site, w, diag);
}

/* The walk's own handle reads the commit the build opened, not wherever the
 * branch has moved since: the profiles and their history must agree. */
Test(history, a_reopened_source_walks_the_commit_it_was_opened_at) {
  char *repo = team_repo();
  ws_source_opts o = {repo, NULL, "content", false};
  ws_source *src = NULL, *dup = NULL;
  ws_source_history *h = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  write_person(repo, "dee", "Dee Okoye", NULL);
  th_repo_commit_all(repo, "Welcome Dee", ADA, T5 + 100);
  cr_assert_eq(ws_source_reopen(&dup, src), 0, "%s", ws_error_last());
  ws_source_free(src);
  cr_assert_eq(ws_source_history_load(&h, dup, "people"), 0, "%s",
               ws_error_last());
  cr_expect_eq(h->nrevs, 5, "the five commits of team_repo, not Dee's");
  cr_expect_null(file_of(h, "people/dee.md"));
  cr_expect_not_null(file_of(h, "people/bo-lindqvist.md"));
  ws_source_history_free(h);
  ws_source_free(dup);
  th_rm_rf(repo);
  free(repo);
}

/* The site a walk on its own thread fills is the one ws_site_history
 * fills, event for event; a walk nobody waits for is freed all the same
 * (LeakSanitizer, under make asan). */
Test(history, a_walk_beside_loading_fills_the_site_the_same) {
  char *repo = team_repo();
  ws_source *src = NULL;
  ws_site *plain = site_of(repo, &src), *site = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(load_beside_walk(src, &site, &diag), 0, "%s", ws_error_last());
  cr_assert_eq(site->nevents, plain->nevents);
  for (size_t i = 0; i < site->nevents; i++) {
    cr_expect_eq(site->events[i].kind, plain->events[i].kind, "event %zu", i);
    cr_expect_str_eq(site->events[i].slug, plain->events[i].slug);
    cr_expect_str_eq(site->events[i].commit, plain->events[i].commit);
  }
  cr_assert_eq(site->npeople, plain->npeople);
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_history *a = &site->people[i]->history,
                     *b = &plain->people[i]->history;
    cr_expect_eq(a->first_time, b->first_time, "person %zu", i);
    cr_expect_eq(a->revisions, b->revisions, "person %zu", i);
    cr_expect_str_eq(a->last_commit, b->last_commit, "person %zu", i);
  }
  ws_site_history_finish(NULL, ws_site_history_start(src, 0), NULL);
  ws_diag_release(&diag);
  ws_site_free(site);
  ws_site_free(plain);
  ws_source_free(src);
  th_rm_rf(repo);
  free(repo);
}

/* A work tree whose git directory lies elsewhere (a ".git" file naming
 * it): the walk's own handle must read that work tree's .mailmap too. */
Test(history, a_walk_beside_loading_reads_the_work_tree_mailmap) {
  char *tree = th_repo_new(false), *git = th_tmpdir();
  write_person(tree, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(tree, "Add Amara", "A. L. <ada@old.example>", T1);
  ws_str from = WS_STR_INIT, to = WS_STR_INIT, link = WS_STR_INIT;
  ws_str_printf(&from, "%s/.git", tree);
  ws_str_printf(&to, "%s/repo.git", git);
  cr_assert_eq(rename(from.ptr, to.ptr), 0);
  ws_str_printf(&link, "gitdir: %s\n", to.ptr);
  th_write(tree, ".git", link.ptr);
  th_write(tree, ".mailmap",
           "Ada Lovelace <ada@example.org> <ada@old.example>\n");

  ws_source_opts o = {tree, NULL, "content", true};
  ws_source *src = NULL;
  ws_site *site = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  cr_assert_eq(load_beside_walk(src, &site, &diag), 0, "%s", ws_error_last());
  const ws_profile *amara = site->people[ws_site_find(site, "amara")];
  cr_expect_str_eq(amara->history.first_author, "Ada Lovelace");
  ws_diag_release(&diag);
  ws_site_free(site);
  ws_source_free(src);
  ws_str_release(&from);
  ws_str_release(&to);
  ws_str_release(&link);
  th_rm_rf(tree);
  th_rm_rf(git);
  free(tree);
  free(git);
}

/* The message of a walk that fails on its thread reaches the build's. */
Test(history, a_walk_that_fails_on_its_thread_says_why) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, T1);
  char *first = th_repo_head(repo);
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_commit_all(repo, "Add Bo", BO, T2);
  /* The first commit's object goes; its tree and blobs stay. */
  ws_str rel = WS_STR_INIT;
  ws_str_printf(&rel, ".git/objects/%.2s/%s", first, first + 2);
  cr_assert(th_exists(repo, rel.ptr), "%s is not a loose object", rel.ptr);
  remove_file(repo, rel.ptr);

  ws_source_opts o = {repo, NULL, "content", false};
  ws_source *src = NULL;
  ws_site *site = NULL;
  ws_diag diag = WS_DIAG_INIT;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  cr_expect_lt(load_beside_walk(src, &site, &diag), 0);
  cr_expect(strstr(ws_error_last(), first), "the message names the commit: %s",
            ws_error_last());

  ws_str err = WS_STR_INIT;
  ws_str out = WS_STR_INIT;
  ws_str_printf(&out, "%s/public", repo);
  const char *argv[] = {"build", "-C",    repo,      "--content", "content",
                        "--out", out.ptr, "--quiet", NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 3, "%s", err.ptr);
  cr_expect(strstr(err.ptr, first), "%s", err.ptr);
  cr_expect_not(th_exists(repo, "public"), "nothing is published");
  ws_str_release(&err);
  ws_str_release(&out);
  ws_str_release(&rel);
  ws_diag_release(&diag);
  ws_site_free(site);
  ws_source_free(src);
  free(first);
  th_rm_rf(repo);
  free(repo);
}

/* --- pages --- */

static int build(const char *repo, const char *out, ws_str *err,
                 const char *extra1, const char *extra2) {
  const char *argv[] = {"build",   "-C",    repo, "--content",
                        "content", "--out", out,  "--quiet",
                        extra1,    extra2,  NULL};
  return th_run(NULL, NULL, err, argv);
}

Test(history, person_page_shows_history) {
  char *repo = team_repo();
  char *head = th_repo_head(repo);
  char *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT, code = WS_STR_INIT;
  ws_str_printf(&out, "%s/public", tmp);
  cr_assert_eq(build(repo, out.ptr, &err, NULL, NULL), 0, "%s", err.ptr);
  char *page = th_read(out.ptr, "people/amara/index.html");
  cr_assert(page);
  cr_expect(strstr(page, "On the team page since <time datetime=\"2023-11-14\">"
                         "14 November 2023</time>"),
            "%s", page);
  cr_expect(strstr(page, "added by <span dir=\"auto\">Ada Lovelace</span>"));
  cr_expect(strstr(page, "Last updated <time datetime=\"2023-11-17\">"
                         "17 November 2023</time> by <span dir=\"auto\">"
                         "Bo Lindqvist</span>"));
  cr_expect(strstr(page, "Amara: &lt;em&gt;update&lt;/em&gt; &amp; "
                         "&quot;more&quot;"),
            "the subject is escaped");
  ws_str_printf(&code, "<code title=\"%s\">%.7s</code>", amara_commit,
                amara_commit);
  cr_expect(strstr(page, code.ptr));
  cr_expect(strstr(page, "2 revisions by"));
  cr_expect(strstr(page, "<li dir=\"auto\">Ada Lovelace</li><li dir=\"auto\">"
                         "Bo Lindqvist</li>"));
  free(page);

  /* --no-history: no dates, an empty timeline, a feed without entries. */
  ws_str_printf(&out, "2");
  cr_assert_eq(build(repo, out.ptr, &err, "--no-history", NULL), 0, "%s",
               err.ptr);
  page = th_read(out.ptr, "people/amara/index.html");
  char *timeline = th_read(out.ptr, "contributions/index.html");
  char *feed = th_read(out.ptr, "feed.xml");
  cr_assert(page && timeline && feed);
  cr_expect_null(strstr(page, "On the team page since"));
  cr_expect_null(strstr(timeline, "class=\"event"));
  cr_expect_null(strstr(feed, "<entry>"));
  free(page);
  free(timeline);
  free(feed);
  ws_str_release(&out);
  ws_str_release(&err);
  ws_str_release(&code);
  free(head);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

/* Builds 'repo' into a folder of its own and returns the front page of
 * its timeline (caller frees); the folder goes. */
static char *built_timeline(const char *repo) {
  char *tmp = th_tmpdir();
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, tmp, &err, NULL, NULL), 0, "%s", err.ptr);
  char *html = th_read(tmp, "contributions/index.html");
  cr_assert(html);
  ws_str_release(&err);
  th_rm_rf(tmp);
  free(tmp);
  return html;
}

Test(history, contributions_page_groups_by_month) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, 1709251200L); /* 1 Mar 2024 */
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  th_repo_commit_all(repo, "Add Bo", BO, 1711929600L); /* 1 Apr 2024 */
  write_person(repo, "amara", "Amara Okafor", "Edit.");
  th_repo_commit_all(repo, "Amara: edit", BO, 1712016000L); /* 2 Apr */
  write_person(repo, "cy", "Cy Mensah", NULL);
  th_repo_commit_all(repo, "Add Cy", CY, 1712102400L);
  remove_file(repo, "content/people/cy.md");
  th_repo_commit_all(repo, "Cy leaves", CY, 1712188800L);
  char *html = built_timeline(repo);
  const char *april = strstr(html, "<h2 id=\"m-2024-04\">April 2024</h2>");
  const char *march = strstr(html, "<h2 id=\"m-2024-03\">March 2024</h2>");
  cr_assert(april && march && april < march, "months newest first");
  const char *removed = strstr(html, "Cy Mensah removed <span dir=\"auto\">"
                                     "cy</span> from the team page");
  const char *added_cy = strstr(html, "Cy Mensah added <span dir=\"auto\">cy"
                                      "</span> to the team page");
  const char *updated = strstr(html, "Bo Lindqvist updated <a href=\"../"
                                     "people/amara/\" dir=\"auto\">Amara "
                                     "Okafor</a>");
  const char *added_bo = strstr(html, "Bo Lindqvist added <a href=\"../"
                                      "people/bo/\" dir=\"auto\">Bo "
                                      "Lindqvist</a> to the team page");
  cr_expect(removed && added_cy && updated && added_bo, "%s", html);
  cr_expect(removed < added_cy && added_cy < updated && updated < added_bo &&
            added_bo < march);
  cr_expect(strstr(html, "class=\"event event-added\""));
  cr_expect(strstr(html, "<strong class=\"badge-new\">New</strong>"));
  cr_expect(strstr(html, "<time datetime=\"2024-04-01T00:00:00Z\">"
                         "1 April 2024</time>"));
  cr_expect_null(strstr(html, "class=\"pager\""), "one page: no pager");
  free(html);
  th_rm_rf(repo);
  free(repo);
}

/* Gives HEAD's commit the time 'when' as written, which libgit2's
 * signatures cannot (they write 32 bits): a commit object made by hand. */
static void redate_head(const char *path, const char *when) {
  git_repository *repo;
  git_reference *head, *moved;
  git_commit *c;
  git_odb *odb;
  git_oid id;
  cr_assert_eq(git_repository_open(&repo, path), 0);
  cr_assert_eq(git_repository_head(&head, repo), 0);
  cr_assert_eq(git_commit_lookup(&c, repo, git_reference_target(head)), 0);
  const git_signature *a = git_commit_author(c);
  ws_str raw = WS_STR_INIT;
  ws_str_printf(&raw, "tree %s\n", git_oid_tostr_s(git_commit_tree_id(c)));
  ws_str_printf(&raw, "parent %s\n",
                git_oid_tostr_s(git_commit_parent_id(c, 0)));
  ws_str_printf(&raw, "author %s <%s> %s +0000\n", a->name, a->email, when);
  ws_str_printf(&raw, "committer %s <%s> %s +0000\n\n%s", a->name, a->email,
                when, git_commit_message(c));
  cr_assert_eq(git_repository_odb(&odb, repo), 0);
  cr_assert_eq(git_odb_write(&id, odb, raw.ptr, raw.len, GIT_OBJECT_COMMIT), 0);
  cr_assert_eq(git_reference_set_target(&moved, head, &id, "redate"), 0);
  ws_str_release(&raw);
  git_reference_free(moved);
  git_odb_free(odb);
  git_commit_free(c);
  git_reference_free(head);
  git_repository_free(repo);
}

/* A commit may carry any date, even one past what the calendar can hold
 * (a year beyond 2^31): its event is shown without a date, and nothing
 * reads past the empty date (make asan). */
Test(history, a_date_past_the_calendar_is_shown_without_one) {
  char *repo = th_repo_new(false);
  write_person(repo, "amara", "Amara Okafor", NULL);
  th_repo_commit_all(repo, "Add Amara", ADA, 1709251200L); /* 1 Mar 2024 */
  write_person(repo, "amara", "Amara Okafor", "Edit.");
  th_repo_commit_all(repo, "Far ahead", BO, 1709337600L);
  redate_head(repo, "4611686018427387903");
  char *html = built_timeline(repo);
  cr_expect(strstr(html, "<time datetime=\"\"></time>"), "%s", html);
  cr_expect(strstr(html, "<h2 id=\"m-2024-03\">March 2024</h2>"));
  free(html);
  th_rm_rf(repo);
  free(repo);
}

/* An archive page of the timeline is fingerprinted from its events and the
 * names they link to, without making them into values: it is kept (the
 * published file linked, not written) while those stay, and rendered when
 * a name it shows changes, exactly as a clean build makes it. */
Test(history, an_archive_page_is_kept_until_a_name_it_shows_changes,
     .timeout = 60) {
  char *repo = th_repo_new(false);
  ws_str extra = WS_STR_INIT;
  write_person(repo, "bo", "Bo Lindqvist", NULL);
  for (int i = 0; i < 205; i++) {
    ws_str_clear(&extra);
    ws_str_printf(&extra, "Edit %d.", i);
    write_person(repo, "amara", "Amara Okafor", extra.ptr);
    th_repo_commit_all(repo, "Edit", ADA, T1 + i * 60L);
  }
  char *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, clean = WS_STR_INIT, err = WS_STR_INIT;
  ws_str_printf(&out, "%s/public", tmp);
  ws_str_printf(&clean, "%s/clean", tmp);
  const char *page = "contributions/page/1/index.html";
  cr_assert_eq(build(repo, out.ptr, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_assert_eq(build(repo, out.ptr, &err, NULL, NULL), 0, "%s", err.ptr);
  ino_t before = th_inode(out.ptr, page);

  /* Another edit: the front page changes, the archive page does not. */
  write_person(repo, "bo", "Bo Lindqvist", "Now with a hobby.");
  th_repo_commit_all(repo, "Bo's hobby", BO, T1 + 205 * 60L);
  cr_assert_eq(build(repo, out.ptr, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_expect_eq(th_inode(out.ptr, page), before, "the archive page was written");
  char *front = th_read(out.ptr, "contributions/index.html");
  cr_assert_not_null(front);
  cr_expect(strstr(front, "Bo Lindqvist</a>’s profile"), "%s", front);
  free(front);

  /* Amara's new name is on every event of the archive page. */
  write_person(repo, "amara", "Amara N. Okafor", "Edit 204.");
  th_repo_commit_all(repo, "New name", ADA, T1 + 206 * 60L);
  cr_assert_eq(build(repo, out.ptr, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_expect_neq(th_inode(out.ptr, page), before, "the archive page was kept");
  char *html = th_read(out.ptr, page);
  cr_assert_not_null(html);
  cr_expect(strstr(html, "Amara N. Okafor</a>"));
  cr_expect_null(strstr(html, "Amara Okafor</a>"));
  free(html);

  /* A .mailmap renames the author of every event on it. */
  before = th_inode(out.ptr, page);
  th_write(repo, ".mailmap", "Ada King <ada@example.org>\n");
  th_repo_commit_all(repo, "Mailmap", ADA, T1 + 207 * 60L);
  cr_assert_eq(build(repo, out.ptr, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_expect_neq(th_inode(out.ptr, page), before, "the archive page was kept");
  html = th_read(out.ptr, page);
  cr_assert_not_null(html);
  cr_expect(strstr(html, "Ada King"), "%s", html);
  cr_assert_eq(build(repo, clean.ptr, &err, "--no-incremental", NULL), 0, "%s",
               err.ptr);
  char *diff = th_tree_diff(out.ptr, clean.ptr);
  cr_expect_null(diff, "differs from a clean build at %s", diff);
  free(diff);
  free(html);
  ws_str_release(&out);
  ws_str_release(&clean);
  ws_str_release(&err);
  ws_str_release(&extra);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

Test(history, contributions_are_paged, .timeout = 60) {
  char *repo = th_repo_new(false);
  ws_str extra = WS_STR_INIT;
  for (int i = 0; i < 205; i++) {
    ws_str_clear(&extra);
    ws_str_printf(&extra, "Edit %d.", i);
    write_person(repo, "amara", "Amara Okafor", extra.ptr);
    th_repo_commit_all(repo, "Edit", ADA, T1 + i * 60L);
  }
  char *tmp = th_tmpdir();
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, tmp, &err, NULL, NULL), 0, "%s", err.ptr);
  /* 205 events (the addition and 204 edits): the front page keeps at least
   * 100, so one full block of 100, the oldest, goes to archive page 1. */
  char *p1 = th_read(tmp, "contributions/index.html");
  char *p2 = th_read(tmp, "contributions/page/1/index.html");
  cr_assert(p1 && p2);
  cr_expect_not(th_exists(tmp, "contributions/page/2/index.html"));
  cr_expect_not(th_exists(tmp, "contributions/page/0/index.html"));
  cr_expect(strstr(p1, "<a rel=\"next\" href=\"../contributions/page/1/\">"));
  cr_expect_null(strstr(p1, "rel=\"prev\""));
  cr_expect(strstr(p1, "<span>Latest</span>"));
  cr_expect(strstr(p2, "<a rel=\"prev\" href=\"../../../contributions/\">"));
  cr_expect_null(strstr(p2, "rel=\"next\""));
  size_t n1 = 0, n2 = 0;
  for (const char *s = p1; (s = strstr(s, "<li class=\"event ")); s++)
    n1++;
  for (const char *s = p2; (s = strstr(s, "<li class=\"event ")); s++)
    n2++;
  cr_expect_eq(n1, 205 - WS_CONTRIBUTIONS_PER_PAGE);
  cr_expect_eq(n2, WS_CONTRIBUTIONS_PER_PAGE);
  cr_expect(strstr(p2, "event-added"), "the oldest event is on page 1");
  cr_expect_null(strstr(p1, "event-added"));
  char *archive_before = strdup(p2);
  /* 100 more edits: the front page fills, and a second archive page opens
   * while the first stays exactly as it was. */
  for (int i = 0; i < 100; i++) {
    ws_str_clear(&extra);
    ws_str_printf(&extra, "Later edit %d.", i);
    write_person(repo, "amara", "Amara Okafor", extra.ptr);
    th_repo_commit_all(repo, "Later", ADA, T1 + (205 + i) * 60L);
  }
  cr_assert_eq(build(repo, tmp, &err, NULL, NULL), 0, "%s", err.ptr);
  char *p3 = th_read(tmp, "contributions/page/2/index.html");
  cr_assert_not_null(p3);
  free(p2);
  p2 = th_read(tmp, "contributions/page/1/index.html");
  /* Only its "Newer" link moves to the new page 2. */
  char *cut_a = strstr(p2, "<nav class=\"pager\""),
       *cut_b = strstr(archive_before, "<nav class=\"pager\"");
  cr_assert(cut_a && cut_b);
  *cut_a = *cut_b = '\0';
  cr_expect_str_eq(p2, archive_before, "archive page 1's events changed");
  free(archive_before);
  cr_expect(strstr(p3, "<a rel=\"next\" href=\"../../../contributions/page/"
                       "1/\">"));
  cr_expect(strstr(p3, "<a rel=\"prev\" href=\"../../../contributions/\">"));
  cr_expect(strstr(p3, "<h1>Contributions, "));
  free(p1);
  free(p2);
  free(p3);
  ws_str_release(&err);
  ws_str_release(&extra);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

/* --- feed.xml --- */

static size_t count_nodes(xmlXPathContextPtr xp, const char *expr) {
  xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, xp);
  cr_assert(r, "xpath %s", expr);
  size_t n = r->nodesetval ? (size_t)r->nodesetval->nodeNr : 0;
  xmlXPathFreeObject(r);
  return n;
}

static char *xpath_text(xmlXPathContextPtr xp, const char *expr) {
  xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, xp);
  cr_assert(r && r->nodesetval && r->nodesetval->nodeNr >= 1, "xpath %s", expr);
  xmlChar *s = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
  char *out = ws_xstrdup((const char *)s);
  xmlFree(s);
  xmlXPathFreeObject(r);
  return out;
}

/* A RELAX NG grammar of the Atom 1.0 subset wholeself writes, with the
 * constraints of RFC 4287 that apply to it: the required feed and entry
 * elements, RFC 3339 dates, one author. */
static const char atom_rng[] =
    "<grammar xmlns='http://relaxng.org/ns/structure/1.0' "
    "ns='http://www.w3.org/2005/Atom' "
    "datatypeLibrary='http://www.w3.org/2001/XMLSchema-datatypes'>"
    "<define name='text'><optional><attribute name='type'><choice>"
    "<value>text</value><value>html</value></choice></attribute></optional>"
    "<text/></define>"
    "<define name='date'><data type='dateTime'><param name='pattern'>"
    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z</param></data>"
    "</define>"
    "<define name='person'><element name='name'><text/></element></define>"
    "<define name='link'><element name='link'><attribute name='href'>"
    "<data type='anyURI'/></attribute><optional><attribute name='rel'>"
    "<text/></attribute></optional></element></define>"
    "<start><element name='feed'><interleave>"
    "<element name='title'><ref name='text'/></element>"
    "<element name='id'><data type='anyURI'/></element>"
    "<element name='updated'><ref name='date'/></element>"
    "<element name='author'><ref name='person'/></element>"
    "<optional><element name='generator'><text/></element></optional>"
    "<oneOrMore><ref name='link'/></oneOrMore>"
    "<zeroOrMore><element name='entry'><interleave>"
    "<element name='id'><data type='anyURI'/></element>"
    "<element name='title'><ref name='text'/></element>"
    "<element name='updated'><ref name='date'/></element>"
    "<element name='author'><ref name='person'/></element>"
    "<ref name='link'/>"
    "<optional><element name='summary'><ref name='text'/></element>"
    "</optional>"
    "</interleave></element></zeroOrMore>"
    "</interleave></element></start></grammar>";

static void expect_valid_atom(xmlDocPtr doc) {
  xmlRelaxNGParserCtxtPtr pc =
      xmlRelaxNGNewMemParserCtxt(atom_rng, (int)strlen(atom_rng));
  xmlRelaxNGPtr schema = xmlRelaxNGParse(pc);
  cr_assert(schema, "the Atom grammar parses");
  xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
  cr_expect_eq(xmlRelaxNGValidateDoc(vc, doc), 0, "feed.xml is valid Atom");
  xmlRelaxNGFreeValidCtxt(vc);
  xmlRelaxNGFree(schema);
  xmlRelaxNGFreeParserCtxt(pc);
}

/* Parses 'xml', checks it against the grammar and the structure RFC 4287
 * asks for, and returns the XPath context (free with free_feed). */
static xmlXPathContextPtr parse_feed(const char *xml, xmlDocPtr *doc) {
  *doc =
      xmlReadMemory(xml, (int)strlen(xml), "feed.xml", NULL, XML_PARSE_NONET);
  cr_assert(*doc, "feed.xml is well-formed XML:\n%s", xml);
  xmlXPathContextPtr xp = xmlXPathNewContext(*doc);
  xmlXPathRegisterNs(xp, (const xmlChar *)"a",
                     (const xmlChar *)"http://www.w3.org/2005/Atom");
  cr_expect_eq(count_nodes(xp, "/a:feed"), 1);
  cr_expect_eq(count_nodes(xp, "/a:feed/a:id"), 1);
  cr_expect_eq(count_nodes(xp, "/a:feed/a:title"), 1);
  cr_expect_eq(count_nodes(xp, "/a:feed/a:updated"), 1);
  cr_expect_eq(count_nodes(xp, "/a:feed/a:author/a:name"), 1);
  size_t n = count_nodes(xp, "/a:feed/a:entry");
  cr_expect_eq(count_nodes(xp, "/a:feed/a:entry[count(a:id) = 1 and "
                               "count(a:title) = 1 and count(a:updated) = 1 "
                               "and count(a:link[@rel='alternate']) = 1]"),
               n, "every entry has one id, title, updated and link");
  expect_valid_atom(*doc);
  return xp;
}

static void free_feed(xmlXPathContextPtr xp, xmlDocPtr doc) {
  xmlXPathFreeContext(xp);
  xmlFreeDoc(doc);
}

Test(history, feed_is_valid_atom) {
  char *repo = team_repo();
  char *head = th_repo_head(repo);
  char *tmp = th_tmpdir();
  ws_str err = WS_STR_INIT, id = WS_STR_INIT, summary = WS_STR_INIT;
  ws_str_printf(&summary, "Amara: <em>update</em> & \"more\" (%.7s)",
                amara_commit);
  cr_assert_eq(build(repo, tmp, &err, "--base-url", "https://t.example/team"),
               0, "%s", err.ptr);
  char *xml = th_read(tmp, "feed.xml");
  cr_assert(xml);
  xmlDocPtr doc = NULL;
  xmlXPathContextPtr xp = parse_feed(xml, &doc);
  cr_expect_eq(count_nodes(xp, "/a:feed/a:entry"), 6);
  char *s = xpath_text(xp, "/a:feed/a:id");
  cr_expect_str_eq(s, "https://t.example/team/feed.xml");
  free(s);
  s = xpath_text(xp, "/a:feed/a:title");
  cr_expect_str_eq(s, "Test <Team> & Co: contributions");
  free(s);
  s = xpath_text(xp, "/a:feed/a:updated");
  cr_expect_str_eq(s, "2023-11-19T13:20:00Z", "the newest event");
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[1]/a:id");
  ws_str_printf(&id, "urn:wholeself:%s:bo-lindqvist", head);
  cr_expect_str_eq(s, id.ptr);
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[1]/a:link/@href");
  cr_expect_str_eq(s, "https://t.example/team/people/bo-lindqvist/");
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[2]/a:link/@href");
  cr_expect_str_eq(s, "https://t.example/team/contributions/",
                   "a removed person has no page");
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[3]/a:summary");
  cr_expect_str_eq(s, summary.ptr);
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[4]/a:title");
  cr_expect_str_eq(s, "cy joined the team page",
                   "Cy was removed: the slug names her");
  free(s);
  free_feed(xp, doc);
  free(xml);

  /* The same commit gives the same feed. */
  ws_str again = WS_STR_INIT;
  ws_str_printf(&again, "%s/again", tmp);
  cr_assert_eq(
      build(repo, again.ptr, &err, "--base-url", "https://t.example/team"), 0);
  char *a = th_read(tmp, "feed.xml"), *b = th_read(again.ptr, "feed.xml");
  cr_expect_str_eq(a, b);
  free(a);
  free(b);
  ws_str_release(&again);
  ws_str_release(&err);
  ws_str_release(&id);
  ws_str_release(&summary);
  free(head);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

/* Without base_url the feed stays valid: relative links, a URN id. Hostile
 * text (control characters, invalid UTF-8) never breaks the XML. */
Test(history, feed_without_base_url_and_hostile_text) {
  ws_site site;
  memset(&site, 0, sizeof(site));
  ws_event events[2];
  memset(events, 0, sizeof(events));
  char eve[] = "Eve \x01\xff<x>", add[] = "Add \x1b[31m\xc3\x28 ]]> &amp;";
  char zed[] = "Zed", bye[] = "Bye", s_eve[] = "eve", s_zed[] = "zed";
  events[0] = (ws_event){.kind = WS_EVENT_ADDED, .time = T2, .author = eve,
                         .subject = add, .slug = s_eve};
  memcpy(events[0].commit, "0123456789abcdef0123456789abcdef01234567", 41);
  events[1] = (ws_event){.kind = WS_EVENT_REMOVED, .time = T1, .author = zed,
                         .subject = bye, .slug = s_zed};
  memcpy(events[1].commit, "89abcdef0123456789abcdef0123456789abcdef", 41);
  site.events = events;
  site.nevents = 2;
  ws_str xml = WS_STR_INIT;
  ws_contributions_feed(&xml, &site, "", "Team \"Ω\"", 0);
  xmlDocPtr doc = NULL;
  xmlXPathContextPtr xp = parse_feed(xml.ptr, &doc);
  char *s = xpath_text(xp, "/a:feed/a:id");
  cr_expect(strncmp(s, "urn:wholeself:feed:", 19) == 0, "%s", s);
  free(s);
  s = xpath_text(xp, "/a:feed/a:link[@rel='self']/@href");
  cr_expect_str_eq(s, "feed.xml");
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[1]/a:author/a:name");
  cr_expect_str_eq(s, "Eve \xef\xbf\xbd<x>");
  free(s);
  s = xpath_text(xp, "/a:feed/a:entry[1]/a:link/@href");
  cr_expect_str_eq(s, "contributions/", "no person 'eve' in this site");
  free(s);
  free_feed(xp, doc);

  /* No events: dated by the fallback time. */
  site.nevents = 0;
  ws_str_clear(&xml);
  ws_contributions_feed(&xml, &site, "https://t.example/", "T", 86400);
  xp = parse_feed(xml.ptr, &doc);
  s = xpath_text(xp, "/a:feed/a:updated");
  cr_expect_str_eq(s, "1970-01-02T00:00:00Z");
  free(s);
  free_feed(xp, doc);
  ws_str_release(&xml);
}
