/* test_source.c - the git and work-tree source. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "error.h"
#include "helpers.h"
#include "source.h"
#include "xalloc.h"

#define AUTHOR "Amara Okafor <amara@example.com>"
#define T1 1700000000L
#define T2 1700000100L

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(source, .init = setup, .fini = teardown);

/* A repository with two commits: the first has amara v1 and bo, the second
 * changes amara and adds zoe. Branch 'old', tag 'v1' (lightweight) and
 * 'v1-annotated' point at the first. Files outside content/ exist too. */
typedef struct {
  char *dir;
  char first[GIT_OID_HEXSZ + 1];
  char second[GIT_OID_HEXSZ + 1];
} fixture;

static void head_hex(const char *dir, char out[GIT_OID_HEXSZ + 1]) {
  git_repository *repo = NULL;
  git_oid id;
  cr_assert(git_repository_open(&repo, dir) == 0);
  cr_assert(git_reference_name_to_id(&id, repo, "HEAD") == 0);
  git_oid_tostr(out, GIT_OID_HEXSZ + 1, &id);
  git_repository_free(repo);
}

static void fixture_make(fixture *f) {
  f->dir = th_repo_new(false);
  th_write(f->dir, "README.md", "outside the content folder\n");
  th_write(f->dir, "content/site.yml", "title: Team\n");
  th_write(f->dir, "content/people/amara.md", "amara v1\n");
  th_write(f->dir, "content/people/bo.md", "bo\n");
  th_repo_commit_all(f->dir, "first", AUTHOR, T1);
  head_hex(f->dir, f->first);

  git_repository *repo = NULL;
  git_object *obj = NULL;
  git_reference *branch = NULL;
  git_signature *sig = NULL;
  git_oid tag_id;
  cr_assert(git_repository_open(&repo, f->dir) == 0);
  cr_assert(git_revparse_single(&obj, repo, "HEAD") == 0);
  cr_assert(git_branch_create(&branch, repo, "old", (git_commit *)obj, 0) == 0);
  cr_assert(git_tag_create_lightweight(&tag_id, repo, "v1", obj, 0) == 0);
  cr_assert(
      git_signature_new(&sig, "Amara Okafor", "amara@example.com", T1, 0) == 0);
  cr_assert(git_tag_create(&tag_id, repo, "v1-annotated", obj, sig,
                           "release 1\n", 0) == 0);
  git_signature_free(sig);
  git_reference_free(branch);
  git_object_free(obj);
  git_repository_free(repo);

  th_write(f->dir, "content/people/amara.md", "amara v2, longer\n");
  th_write(f->dir, "content/people/zoe.md", "zoe\n");
  th_repo_commit_all(f->dir, "second", AUTHOR, T2);
  head_hex(f->dir, f->second);
}

static void fixture_free(fixture *f) {
  th_rm_rf(f->dir);
  free(f->dir);
}

static ws_source *open_ok(const char *repo, const char *ref,
                          const char *content, bool worktree) {
  ws_source_opts opts = {repo, ref, content, worktree};
  ws_source *src = NULL;
  int rc = ws_source_open(&src, &opts);
  cr_assert(rc == 0, "open %s at %s: %d %s", repo, ref ? ref : "HEAD", rc,
            ws_error_last());
  return src;
}

static int open_fail(const char *repo, const char *ref, const char *content,
                     bool worktree) {
  ws_source_opts opts = {repo, ref, content, worktree};
  ws_source *src = NULL;
  int rc = ws_source_open(&src, &opts);
  cr_assert(rc < 0, "open %s unexpectedly succeeded", repo);
  cr_assert_null(src);
  return rc;
}

static char *read_ok(ws_source *src, const char *path) {
  ws_str s = WS_STR_INIT;
  int rc = ws_source_read(&s, src, path);
  cr_assert(rc == 0, "read %s: %d %s", path, rc, ws_error_last());
  return ws_str_detach(&s);
}

static int read_fail(ws_source *src, const char *path) {
  ws_str s = WS_STR_INIT;
  int rc = ws_source_read(&s, src, path);
  cr_expect(rc < 0, "read %s unexpectedly succeeded", path);
  ws_str_release(&s);
  return rc;
}

static const ws_source_entry *find(const ws_source_list *l, const char *path) {
  for (size_t i = 0; i < l->len; i++)
    if (strcmp(l->items[i].path, path) == 0)
      return &l->items[i];
  return NULL;
}

static void blob_hex(const char *data, char out[GIT_OID_HEXSZ + 1]) {
  git_oid id;
  cr_assert(git_odb_hash(&id, data, strlen(data), GIT_OBJECT_BLOB) == 0);
  git_oid_tostr(out, GIT_OID_HEXSZ + 1, &id);
}

static void expect_sorted(const ws_source_list *l) {
  for (size_t i = 1; i < l->len; i++)
    cr_expect(strcmp(l->items[i - 1].path, l->items[i].path) < 0,
              "not sorted: %s before %s", l->items[i - 1].path,
              l->items[i].path);
}

Test(source, lists_and_reads_head) {
  fixture f;
  fixture_make(&f);
  ws_source *src = open_ok(f.dir, NULL, "content", false);

  ws_source_list l;
  cr_assert(ws_source_list_all(&l, src) == 0, "%s", ws_error_last());
  const char *want[] = {"people/amara.md", "people/bo.md", "people/zoe.md",
                        "site.yml"};
  cr_assert_eq(l.len, 4);
  for (size_t i = 0; i < 4; i++) {
    cr_expect_str_eq(l.items[i].path, want[i], "entry %zu", i);
    cr_expect_eq(l.items[i].kind, WS_ENTRY_FILE, "%s", want[i]);
  }
  char hex[GIT_OID_HEXSZ + 1];
  blob_hex("amara v2, longer\n", hex);
  cr_expect_str_eq(l.items[0].oid, hex);

  char *text = read_ok(src, "people/amara.md");
  cr_expect_str_eq(text, "amara v2, longer\n");
  free(text);
  text = read_ok(src, "site.yml");
  cr_expect_str_eq(text, "title: Team\n");
  free(text);

  /* ws_source_read appends. */
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, ">");
  cr_assert(ws_source_read(&s, src, "people/bo.md") == 0);
  cr_expect_str_eq(s.ptr, ">bo\n");
  ws_str_release(&s);

  cr_expect_str_eq(ws_source_commit(src), f.second);
  cr_expect_eq(ws_source_commit_time(src), T2);
  char desc[64];
  snprintf(desc, sizeof(desc), "HEAD (%.7s)", f.second);
  cr_expect_str_eq(ws_source_describe(src), desc);
  cr_expect_str_eq(ws_source_content(src), "content");
  cr_expect_not_null(ws_source_workdir(src));
  cr_expect_eq(strstr(ws_source_workdir(src), "wholeself-test-") != NULL, 1,
               "workdir %s", ws_source_workdir(src));

  ws_source_list_release(&l);
  cr_expect_eq(l.len, 0);
  ws_source_free(src);
  fixture_free(&f);
}

/* Listing reads tree entries only, never the blobs they name: a blob that
 * is missing from the object store is listed by its id and named by the
 * read that needs it. */
Test(source, a_missing_blob_is_named_when_it_is_read) {
  fixture f;
  fixture_make(&f);
  char hex[GIT_OID_HEXSZ + 1];
  blob_hex("bo\n", hex);
  ws_str obj = WS_STR_INIT;
  ws_str_printf(&obj, "%s/.git/objects/%.2s/%s", f.dir, hex, hex + 2);
  cr_assert(unlink(obj.ptr) == 0, "%s is not a loose object", obj.ptr);
  ws_source *src = open_ok(f.dir, NULL, "content", false);

  ws_source_list l;
  cr_assert(ws_source_list_all(&l, src) == 0, "%s", ws_error_last());
  const ws_source_entry *e = find(&l, "people/bo.md");
  cr_assert_not_null(e);
  cr_expect_str_eq(e->oid, hex);
  cr_expect_eq(read_fail(src, "people/bo.md"), WS_ERROR);
  cr_expect(strstr(ws_error_last(), "people/bo.md"), "%s", ws_error_last());
  char *text = read_ok(src, "people/amara.md");
  cr_expect_str_eq(text, "amara v2, longer\n");
  free(text);

  ws_source_list_release(&l);
  ws_source_free(src);
  ws_str_release(&obj);
  fixture_free(&f);
}

Test(source, whole_tree_when_no_content_folder) {
  fixture f;
  fixture_make(&f);
  const char *contents[] = {NULL, "", ".", "./", "content/"};
  for (size_t c = 0; c < 5; c++) {
    ws_source *src = open_ok(f.dir, NULL, contents[c], false);
    ws_source_list l;
    cr_assert(ws_source_list_all(&l, src) == 0);
    const char *want_first = c < 4 ? "README.md" : "people/amara.md";
    cr_expect_str_eq(l.items[0].path, want_first, "content '%s'",
                     contents[c] ? contents[c] : "(null)");
    cr_expect_str_eq(ws_source_content(src), c < 4 ? "" : "content");
    ws_source_list_release(&l);
    ws_source_free(src);
  }
  ws_source *src = open_ok(f.dir, NULL, NULL, false);
  char *text = read_ok(src, "content/people/bo.md");
  cr_expect_str_eq(text, "bo\n");
  free(text);
  ws_source_free(src);
  fixture_free(&f);
}

Test(source, refs_select_content) {
  fixture f;
  fixture_make(&f);
  char short_first[8];
  snprintf(short_first, sizeof(short_first), "%.7s", f.first);
  struct {
    const char *ref;
    const char *amara;
    size_t count;
    const char *commit;
  } cases[] = {
      {"HEAD", "amara v2, longer\n", 3, f.second},
      {"main", "amara v2, longer\n", 3, f.second},
      {"refs/heads/main", "amara v2, longer\n", 3, f.second},
      {f.second, "amara v2, longer\n", 3, f.second},
      {"old", "amara v1\n", 2, f.first},
      {"v1", "amara v1\n", 2, f.first},
      {"v1-annotated", "amara v1\n", 2, f.first},
      {"refs/tags/v1-annotated", "amara v1\n", 2, f.first},
      {f.first, "amara v1\n", 2, f.first},
      {short_first, "amara v1\n", 2, f.first},
      {"HEAD~1", "amara v1\n", 2, f.first},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ws_source *src = open_ok(f.dir, cases[i].ref, "content/people", false);
    ws_source_list l;
    cr_assert(ws_source_list_all(&l, src) == 0);
    cr_expect_eq(l.len, cases[i].count, "ref %s", cases[i].ref);
    cr_expect_eq(find(&l, "zoe.md") != NULL, cases[i].count == 3, "ref %s",
                 cases[i].ref);
    char *text = read_ok(src, "amara.md");
    cr_expect_str_eq(text, cases[i].amara, "ref %s", cases[i].ref);
    cr_expect_str_eq(ws_source_commit(src), cases[i].commit, "ref %s",
                     cases[i].ref);
    cr_expect_eq(ws_source_commit_time(src),
                 cases[i].commit == f.first ? T1 : T2, "ref %s", cases[i].ref);
    free(text);
    ws_source_list_release(&l);
    ws_source_free(src);
  }
  fixture_free(&f);
}

/* Lists 'src' and reads every file into one comparable text. */
static char *snapshot(ws_source *src) {
  ws_source_list l;
  cr_assert(ws_source_list_all(&l, src) == 0, "%s", ws_error_last());
  ws_str s = WS_STR_INIT;
  for (size_t i = 0; i < l.len; i++) {
    const ws_source_entry *e = &l.items[i];
    ws_str_printf(&s, "%s %d %s\n", e->path, (int)e->kind, e->oid);
    if (e->kind == WS_ENTRY_FILE) {
      cr_assert(ws_source_read(&s, src, e->path) == 0, "%s", ws_error_last());
      ws_str_putc(&s, '\n');
    }
  }
  ws_source_list_release(&l);
  return ws_str_detach(&s);
}

Test(source, bare_clone_subfolder_and_worktree_agree) {
  fixture f;
  fixture_make(&f);
  char *bare = th_repo_clone_bare(f.dir);
  ws_str sub = WS_STR_INIT;
  ws_str_printf(&sub, "%s/content/people", f.dir);

  ws_source *head = open_ok(f.dir, NULL, "content", false);
  ws_source *from_bare = open_ok(bare, NULL, "content", false);
  ws_source *from_sub = open_ok(sub.ptr, NULL, "content", false);
  ws_source *wt = open_ok(f.dir, NULL, "content", true);
  ws_source *wt_sub = open_ok(sub.ptr, NULL, "content", true);

  cr_expect_null(ws_source_workdir(from_bare));
  cr_expect_str_eq(ws_source_commit(from_bare), f.second);
  cr_expect_str_eq(ws_source_describe(wt), "work tree");
  cr_expect_str_eq(ws_source_commit(wt), "");
  /* A preview is dated by the commit it starts from. */
  cr_expect_eq(ws_source_commit_time(wt), ws_source_commit_time(head));

  char *want = snapshot(head);
  cr_expect(strstr(want, "zoe.md") != NULL);
  ws_source *all[] = {from_bare, from_sub, wt, wt_sub};
  const char *names[] = {"bare", "subfolder", "worktree", "worktree subfolder"};
  for (size_t i = 0; i < 4; i++) {
    char *got = snapshot(all[i]);
    cr_expect_str_eq(got, want, "%s", names[i]);
    free(got);
    ws_source_free(all[i]);
  }
  free(want);
  ws_source_free(head);
  ws_str_release(&sub);
  th_rm_rf(bare);
  free(bare);
  fixture_free(&f);
}

/* What a listing limited to a folder gives is what the whole listing
 * gives below it, from git and from the work tree; a folder that is not
 * there, or a file, gives nothing. */
Test(source, a_folder_lists_what_lies_below_it) {
  fixture f;
  fixture_make(&f);
  ws_source *srcs[] = {open_ok(f.dir, NULL, "content", false),
                       open_ok(f.dir, NULL, "content", true)};
  for (size_t k = 0; k < 2; k++) {
    ws_source_list all, below;
    cr_assert(ws_source_list_all(&all, srcs[k]) == 0);
    cr_assert(ws_source_list_under(&below, srcs[k], "people") == 0);
    size_t n = 0;
    for (size_t i = 0; i < all.len; i++) {
      if (strncmp(all.items[i].path, "people/", 7) != 0)
        continue;
      cr_assert_lt(n, below.len, "%zu: too few", k);
      cr_expect_str_eq(below.items[n].path, all.items[i].path);
      cr_expect_str_eq(below.items[n].oid, all.items[i].oid);
      n++;
    }
    cr_expect_eq(n, below.len, "%zu: %zu entries, want %zu", k, below.len, n);
    cr_expect_gt(n, 1);
    ws_source_list_release(&below);
    const char *none[] = {"nowhere", "site.yml", "people/bo.md", "peopl"};
    for (size_t i = 0; i < 4; i++) {
      cr_assert(ws_source_list_under(&below, srcs[k], none[i]) == 0);
      cr_expect_eq(below.len, 0, "%zu: %s", k, none[i]);
      ws_source_list_release(&below);
    }
    ws_source_list_release(&all);
    ws_source_free(srcs[k]);
  }
  fixture_free(&f);
}

Test(source, uncommitted_edit_only_in_worktree) {
  fixture f;
  fixture_make(&f);
  th_write(f.dir, "content/people/amara.md", "amara, not committed\n");
  th_write(f.dir, "content/people/new.md", "new\n");
  th_write(f.dir, ".gitignore", "*.tmp\n/content/build/\n");
  th_write(f.dir, "content/people/scratch.tmp", "ignored\n");
  th_write(f.dir, "content/build/out.html", "ignored\n");
  cr_assert(th_exists(f.dir, "content/people/bo.md"));
  ws_str bo = WS_STR_INIT;
  ws_str_printf(&bo, "%s/content/people/bo.md", f.dir);
  cr_assert(unlink(bo.ptr) == 0);
  ws_str_release(&bo);

  ws_source *head = open_ok(f.dir, NULL, "content", false);
  ws_source *wt = open_ok(f.dir, NULL, "content", true);

  char *text = read_ok(head, "people/amara.md");
  cr_expect_str_eq(text, "amara v2, longer\n");
  free(text);
  text = read_ok(head, "people/bo.md");
  cr_expect_str_eq(text, "bo\n");
  free(text);
  cr_expect_eq(read_fail(head, "people/new.md"), WS_ENOTFOUND);

  text = read_ok(wt, "people/amara.md");
  cr_expect_str_eq(text, "amara, not committed\n");
  free(text);
  text = read_ok(wt, "people/new.md");
  cr_expect_str_eq(text, "new\n");
  free(text);
  cr_expect_eq(read_fail(wt, "people/bo.md"), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "people/bo.md") != NULL, "%s",
            ws_error_last());

  ws_source_list l;
  cr_assert(ws_source_list_all(&l, wt) == 0, "%s", ws_error_last());
  const char *want[] = {"people/amara.md", "people/new.md", "people/zoe.md",
                        "site.yml"};
  cr_assert_eq(l.len, 4, "got %zu entries", l.len);
  for (size_t i = 0; i < 4; i++)
    cr_expect_str_eq(l.items[i].path, want[i], "entry %zu", i);
  char hex[GIT_OID_HEXSZ + 1];
  blob_hex("amara, not committed\n", hex);
  cr_expect_str_eq(l.items[0].oid, hex);
  ws_source_list_release(&l);

  cr_assert(ws_source_list_all(&l, head) == 0);
  cr_expect_eq(l.len, 4);
  cr_expect_not_null(find(&l, "people/bo.md"));
  cr_expect_null(find(&l, "people/new.md"));
  ws_source_list_release(&l);

  ws_source_free(wt);
  ws_source_free(head);
  fixture_free(&f);
}

Test(source, worktree_keeps_tracked_files_that_are_ignored) {
  char *dir = th_repo_new(false);
  th_write(dir, "keep.log", "tracked\n");
  th_repo_commit_all(dir, "first", AUTHOR, T1);
  th_write(dir, ".gitignore", "*.log\n");
  th_write(dir, "other.log", "untracked\n");
  ws_source *wt = open_ok(dir, NULL, NULL, true);
  ws_source_list l;
  cr_assert(ws_source_list_all(&l, wt) == 0);
  cr_expect_eq(l.len, 2);
  cr_expect_not_null(find(&l, ".gitignore"));
  cr_expect_not_null(find(&l, "keep.log"));
  cr_expect_null(find(&l, "other.log"));
  cr_expect_null(find(&l, ".git/HEAD"));
  ws_source_list_release(&l);
  ws_source_free(wt);
  th_rm_rf(dir);
  free(dir);
}

Test(source, errors_name_what_was_asked) {
  fixture f;
  fixture_make(&f);
  char *empty_dir = th_tmpdir();
  char *bare = th_repo_clone_bare(f.dir);
  char *unborn = th_repo_new(false);

  cr_expect_eq(open_fail(empty_dir, NULL, NULL, false), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "not a git repository") != NULL, "%s",
            ws_error_last());
  cr_expect(strstr(ws_error_last(), empty_dir) != NULL, "%s", ws_error_last());
  cr_expect_eq(open_fail(empty_dir, NULL, NULL, true), WS_ENOTFOUND);

  ws_str missing = WS_STR_INIT;
  ws_str_printf(&missing, "%s/no/such/place", empty_dir);
  cr_expect_eq(open_fail(missing.ptr, NULL, NULL, false), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "not a git repository") != NULL, "%s",
            ws_error_last());
  ws_str_release(&missing);

  const char *bad_refs[] = {"nope", "v9", "0123456789abcdef", "HEAD~5",
                            "main:"};
  for (size_t i = 0; i < sizeof(bad_refs) / sizeof(bad_refs[0]); i++) {
    int rc = open_fail(f.dir, bad_refs[i], "content", false);
    cr_expect_eq(rc, WS_ENOTFOUND, "ref %s", bad_refs[i]);
    ws_str want = WS_STR_INIT;
    ws_str_printf(&want, "'%s' in %s", bad_refs[i], f.dir);
    cr_expect(strstr(ws_error_last(), want.ptr) != NULL, "ref %s: %s",
              bad_refs[i], ws_error_last());
    ws_str_release(&want);
  }
  cr_expect(strstr(ws_error_last(), "not name a commit") != NULL, "%s",
            ws_error_last());

  cr_expect_eq(open_fail(f.dir, "v1", "nope", false), WS_ENOTFOUND);
  char want[128];
  snprintf(want, sizeof(want), "content folder 'nope' not found at v1 (%.7s)",
           f.first);
  cr_expect_str_eq(ws_error_last(), want);
  cr_expect_eq(open_fail(f.dir, NULL, "content/site.yml", false), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "content folder 'content/site.yml'") !=
                NULL,
            "%s", ws_error_last());
  cr_expect_eq(open_fail(f.dir, NULL, "nope", true), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "content folder 'nope' not found") != NULL,
            "%s", ws_error_last());
  cr_expect_eq(open_fail(f.dir, NULL, "../content", false), WS_EINVALID);
  cr_expect_eq(open_fail(f.dir, NULL, "/etc", true), WS_EINVALID);

  cr_expect_eq(open_fail(bare, NULL, "content", true), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "bare") != NULL, "%s", ws_error_last());

  cr_expect_eq(open_fail(unborn, NULL, NULL, false), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "no commits yet") != NULL, "%s",
            ws_error_last());

  ws_source *src = open_ok(f.dir, NULL, "content", false);
  cr_expect_eq(read_fail(src, "people/nobody.md"), WS_ENOTFOUND);
  cr_expect(strstr(ws_error_last(), "content/people/nobody.md") != NULL, "%s",
            ws_error_last());
  cr_expect_eq(read_fail(src, "people"), WS_EINVALID);
  cr_expect_eq(read_fail(src, "people/amara.md/x"), WS_ENOTFOUND);
  const char *unsafe[] = {
      "",           "/etc/passwd",  "../README.md", "people/../site.yml",
      "./site.yml", "people//bo.md"};
  for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
    cr_expect_eq(read_fail(src, unsafe[i]), WS_EINVALID, "path '%s'",
                 unsafe[i]);
  ws_source_free(src);

  src = open_ok(f.dir, NULL, "content", true);
  cr_expect_eq(read_fail(src, "people/nobody.md"), WS_ENOTFOUND);
  cr_expect_eq(read_fail(src, "people"), WS_EINVALID);
  cr_expect_eq(read_fail(src, "../README.md"), WS_EINVALID);
  ws_source_free(src);

  th_rm_rf(unborn);
  free(unborn);
  th_rm_rf(bare);
  free(bare);
  th_rm_rf(empty_dir);
  free(empty_dir);
  fixture_free(&f);
}

/* Adds a gitlink 'path' pointing at 'commit' to the index and commits. */
static void commit_gitlink(const char *dir, const char *path,
                           const char *commit) {
  git_repository *repo = NULL;
  git_index *index = NULL;
  git_tree *tree = NULL;
  git_signature *sig = NULL;
  git_commit *parent = NULL;
  git_oid tree_id;
  git_oid head;
  git_oid id;
  cr_assert(git_repository_open(&repo, dir) == 0);
  cr_assert(git_repository_index(&index, repo) == 0);
  git_index_entry e;
  memset(&e, 0, sizeof(e));
  e.path = path;
  e.mode = GIT_FILEMODE_COMMIT;
  cr_assert(git_oid_fromstr(&e.id, commit) == 0);
  cr_assert(git_index_add(index, &e) == 0);
  cr_assert(git_index_write(index) == 0);
  cr_assert(git_index_write_tree(&tree_id, index) == 0);
  cr_assert(git_tree_lookup(&tree, repo, &tree_id) == 0);
  cr_assert(git_reference_name_to_id(&head, repo, "HEAD") == 0);
  cr_assert(git_commit_lookup(&parent, repo, &head) == 0);
  cr_assert(git_signature_new(&sig, "A", "a@example.com", T2, 0) == 0);
  const git_commit *parents[1] = {parent};
  cr_assert(git_commit_create(&id, repo, "HEAD", sig, sig, NULL, "gitlink\n",
                              tree, 1, parents) == 0);
  git_signature_free(sig);
  git_commit_free(parent);
  git_tree_free(tree);
  git_index_free(index);
  git_repository_free(repo);
}

static void make_symlink(const char *dir, const char *rel, const char *target) {
  ws_str path = WS_STR_INIT;
  ws_str_printf(&path, "%s/%s", dir, rel);
  cr_assert(symlink(target, path.ptr) == 0, "symlink %s", path.ptr);
  ws_str_release(&path);
}

Test(source, symlinks_and_submodules_are_listed_not_read) {
  fixture f;
  fixture_make(&f);
  make_symlink(f.dir, "content/people/alias.md", "amara.md");
  make_symlink(f.dir, "content/people/passwd.md", "/etc/passwd");
  make_symlink(f.dir, "content/linked", "people");
  th_write(f.dir, "content/tools/run.sh", "#!/bin/sh\n");
  ws_str exe = WS_STR_INIT;
  ws_str_printf(&exe, "%s/content/tools/run.sh", f.dir);
  cr_assert(chmod(exe.ptr, 0755) == 0);
  ws_str_release(&exe);
  th_repo_commit_all(f.dir, "links", AUTHOR, T2);
  commit_gitlink(f.dir, "content/vendor/lib", f.first);
  /* The work tree holds the submodule as a nested repository. */
  git_repository *nested = NULL;
  ws_str lib = WS_STR_INIT;
  ws_str_printf(&lib, "%s/content/vendor/lib", f.dir);
  cr_assert(git_repository_init(&nested, lib.ptr, 0) == 0);
  git_repository_free(nested);
  th_write(lib.ptr, "inside.md", "not ours\n");
  ws_str_release(&lib);

  for (int worktree = 0; worktree < 2; worktree++) {
    ws_source *src = open_ok(f.dir, NULL, "content", worktree);
    ws_source_list l;
    cr_assert(ws_source_list_all(&l, src) == 0, "%s", ws_error_last());
    expect_sorted(&l);
    struct {
      const char *path;
      ws_entry_kind kind;
    } want[] = {
        {"linked", WS_ENTRY_SYMLINK},
        {"people/alias.md", WS_ENTRY_SYMLINK},
        {"people/amara.md", WS_ENTRY_FILE},
        {"people/bo.md", WS_ENTRY_FILE},
        {"people/passwd.md", WS_ENTRY_SYMLINK},
        {"people/zoe.md", WS_ENTRY_FILE},
        {"site.yml", WS_ENTRY_FILE},
        {"tools/run.sh", WS_ENTRY_FILE},
        {"vendor/lib", WS_ENTRY_SUBMODULE},
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    cr_expect_eq(l.len, n, "worktree %d: %zu entries", worktree, l.len);
    for (size_t i = 0; i < n && i < l.len; i++) {
      cr_expect_str_eq(l.items[i].path, want[i].path, "worktree %d", worktree);
      cr_expect_eq(l.items[i].kind, want[i].kind, "worktree %d: %s", worktree,
                   want[i].path);
    }
    char hex[GIT_OID_HEXSZ + 1];
    blob_hex("amara.md", hex);
    const ws_source_entry *alias = find(&l, "people/alias.md");
    cr_assert_not_null(alias);
    cr_expect_str_eq(alias->oid, hex, "worktree %d", worktree);
    if (!worktree) {
      const ws_source_entry *sub = find(&l, "vendor/lib");
      cr_assert_not_null(sub);
      cr_expect_str_eq(sub->oid, f.first);
    }
    ws_source_list_release(&l);

    const char *refused[] = {"people/alias.md", "people/passwd.md",
                             "linked",          "linked/amara.md",
                             "vendor/lib",      "vendor/lib/inside.md"};
    int codes[] = {WS_EINVALID, WS_EINVALID,
                   WS_EINVALID, worktree ? WS_EINVALID : WS_ENOTFOUND,
                   WS_EINVALID, worktree ? 0 : WS_ENOTFOUND};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
      if (codes[i] == 0)
        continue;
      cr_expect_eq(read_fail(src, refused[i]), codes[i], "worktree %d: %s: %s",
                   worktree, refused[i], ws_error_last());
    }
    char *text = read_ok(src, "tools/run.sh");
    cr_expect_str_eq(text, "#!/bin/sh\n");
    free(text);
    ws_source_free(src);
  }
  fixture_free(&f);
}

Test(source, entries_sorted_by_path) {
  char *dir = th_repo_new(false);
  const char *files[] = {"z.md", "a0",    "a/b.md", "a.md", "a-b.md",
                         "B.md", "a/a/z", "ab",     "a/c"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
    th_write(dir, files[i], files[i]);
  th_repo_commit_all(dir, "sorting", AUTHOR, T1);
  const char *want[] = {"B.md", "a-b.md", "a.md", "a/a/z", "a/b.md",
                        "a/c",  "a0",     "ab",   "z.md"};
  for (int worktree = 0; worktree < 2; worktree++) {
    ws_source *src = open_ok(dir, NULL, NULL, worktree);
    ws_source_list l;
    cr_assert(ws_source_list_all(&l, src) == 0);
    cr_assert_eq(l.len, 9, "worktree %d", worktree);
    for (size_t i = 0; i < 9; i++)
      cr_expect_str_eq(l.items[i].path, want[i], "worktree %d, entry %zu",
                       worktree, i);
    ws_source_list_release(&l);
    ws_source_free(src);
  }
  th_rm_rf(dir);
  free(dir);
}

typedef struct {
  ws_source *src;
  const char *want;
  bool ok;
} reader;

static void *read_many(void *payload) {
  reader *r = payload;
  r->ok = true;
  for (int i = 0; i < 50 && r->ok; i++) {
    ws_str s = WS_STR_INIT;
    r->ok = ws_source_read(&s, r->src, "people/amara.md") == 0 &&
            strcmp(s.ptr, r->want) == 0;
    ws_str_release(&s);
  }
  return NULL;
}

Test(source, reads_from_several_threads) {
  fixture f;
  fixture_make(&f);
  for (int worktree = 0; worktree < 2; worktree++) {
    ws_source *src = open_ok(f.dir, NULL, "content", worktree);
    pthread_t threads[4];
    reader readers[4];
    for (size_t i = 0; i < 4; i++) {
      readers[i] = (reader){src, "amara v2, longer\n", false};
      cr_assert(pthread_create(&threads[i], NULL, read_many, &readers[i]) == 0);
    }
    for (size_t i = 0; i < 4; i++) {
      pthread_join(threads[i], NULL);
      cr_expect(readers[i].ok, "worktree %d, thread %zu", worktree, i);
    }
    ws_source_free(src);
  }
  fixture_free(&f);
}
