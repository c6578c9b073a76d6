/* End-to-end: the wholeself binary on repositories built with libgit2. */
#include <criterion/criterion.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static const char amara[] =
    "---\n"
    "name: Amara Okafor\n"
    "pronouns: she/her\n"
    "role: Staff Engineer\n"
    "team: Platform\n"
    "strengths: [distributed systems, public speaking]\n"
    "learning: [product strategy]\n"
    "mentoring:\n"
    "  seeking:\n"
    "    types: [sponsor]\n"
    "  offering:\n"
    "    types: [coach]\n"
    "    capacity: 2\n"
    "  formats: [one-on-one]\n"
    "  modes: [virtual]\n"
    "goals:\n"
    "  short_term: Lead the storage migration.\n"
    "dream_job: Principal engineer\n"
    "passion_projects: [community radio]\n"
    "---\n"
    "## Background\n\nI grew up in Lagos and fix storage systems.\n";

static const char bo[] = "---\nname: Bo Lindqvist\nteam: Data\n"
                         "strengths: [SQL]\n---\n## Background\n\nHello.\n";

/* A work-tree repository with the two profiles under content/, committed. */
static char *demo_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "content/site.yml",
           "title: Test Team\nbase_url: "
           "https://team.example.org/\n");
  th_write(repo, "content/people/amara-okafor.md", amara);
  th_write(repo, "content/people/bo-lindqvist.md", bo);
  th_repo_commit_all(repo, "Add profiles", "Ada <ada@example.org>", 1700000000);
  return repo;
}

static int build(const char *repo, const char *out, ws_str *err,
                 const char *extra1, const char *extra2) {
  const char *argv[] = {"build",   "-C",    repo, "--content",
                        "content", "--out", out,  "--quiet",
                        extra1,    extra2,  NULL};
  return th_run(NULL, NULL, err, argv);
}

Test(build, writes_index_and_person_pages) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  char *index = th_read(out, "index.html");
  char *page = th_read(out, "people/amara-okafor/index.html");
  cr_assert(index && page);
  cr_expect(strstr(index, "Amara Okafor"));
  cr_expect(strstr(index, "Bo Lindqvist"));
  cr_expect(strstr(index, "people/amara-okafor/"));
  cr_expect(strstr(page, "Lead the storage migration."));
  cr_expect(strstr(page, "community radio"));
  cr_expect(strstr(page, "Principal engineer"));
  cr_expect(strstr(page, "I grew up in Lagos"));
  cr_expect(strstr(page, "coach"));
  cr_expect(strstr(page, "sponsor"));
  cr_expect(strstr(page, "../../assets/style.css"));
  cr_expect(th_exists(out, "assets/style.css"));
  cr_expect(th_exists(out, "people/bo-lindqvist/index.html"));
  cr_expect(th_exists(out, "404.html"));
  cr_expect(th_exists(out, "search.json"));
  free(index);
  free(page);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* Builds 'repo' with extra options into a fresh folder; returns the folder. */
static char *build_into(const char *repo, const char *content,
                        const char *opt) {
  char *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/site", tmp);
  ws_str err = WS_STR_INIT;
  const char *argv[] = {
      "build", "-C", repo, "--out", out, "--quiet", content ? "--content" : opt,
      content, opt,  NULL};
  int rc = th_run(NULL, NULL, &err, argv);
  cr_assert_eq(rc, 0, "build of %s failed: %s", repo, err.ptr);
  ws_str_release(&err);
  return tmp;
}

static void expect_same_site(const char *a, const char *b, const char *what) {
  char pa[4096], pb[4096];
  snprintf(pa, sizeof(pa), "%s/site", a);
  snprintf(pb, sizeof(pb), "%s/site", b);
  char *diff = th_tree_diff(pa, pb);
  cr_expect_null(diff, "%s: sites differ at %s", what, diff ? diff : "");
  free(diff);
}

Test(build, bare_subfolder_and_worktree_give_the_same_site) {
  char *repo = demo_repo();
  char *bare = th_repo_clone_bare(repo);
  char sub[4096];
  snprintf(sub, sizeof(sub), "%s/content/people", repo);
  char *a = build_into(repo, "content", NULL);
  char *b = build_into(bare, "content", NULL);
  char *c = build_into(sub, "content", NULL);
  char *d = build_into(repo, "content", "--worktree");
  expect_same_site(a, b, "bare clone");
  expect_same_site(a, c, "subfolder");
  expect_same_site(a, d, "work tree");
  char *dirs[] = {repo, bare, a, b, c, d};
  for (size_t i = 0; i < 6; i++) {
    th_rm_rf(dirs[i]);
    free(dirs[i]);
  }
}

Test(build, uncommitted_edit_shows_only_with_worktree) {
  char *repo = demo_repo();
  th_write(repo, "content/people/bo-lindqvist.md",
           "---\nname: Bo Uncommitted\n---\nHi\n");
  char *head = build_into(repo, "content", NULL);
  char *wt = build_into(repo, "content", "--worktree");
  char *h = th_read(head, "site/index.html");
  char *w = th_read(wt, "site/index.html");
  cr_expect(strstr(h, "Bo Lindqvist") && !strstr(h, "Bo Uncommitted"));
  cr_expect(strstr(w, "Bo Uncommitted") && !strstr(w, "Bo Lindqvist"));
  free(h);
  free(w);
  char *dirs[] = {repo, head, wt};
  for (size_t i = 0; i < 3; i++) {
    th_rm_rf(dirs[i]);
    free(dirs[i]);
  }
}

Test(build, ref_selects_the_commit) {
  char *repo = demo_repo();
  ws_str err = WS_STR_INIT;
  /* Tag the first commit through a second commit and --ref HEAD~1. */
  th_write(repo, "content/people/cy-new.md", "---\nname: Cy Newcomer\n---\n");
  th_repo_commit_all(repo, "Add Cy", "Ada <ada@example.org>", 1700000100);
  char *now = build_into(repo, "content", NULL);
  char *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/site", tmp);
  const char *argv[] = {"build",     "-C",      repo,    "--ref", "HEAD~1",
                        "--content", "content", "--out", out,     NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  char *a = th_read(now, "site/index.html"), *b = th_read(out, "index.html");
  cr_expect(strstr(a, "Cy Newcomer"));
  cr_expect(!strstr(b, "Cy Newcomer"));
  const char *bad[] = {"build",          "-C",    repo, "--ref",
                       "no-such-branch", "--out", out,  NULL};
  ws_str_clear(&err);
  cr_expect_eq(th_run(NULL, NULL, &err, bad), 3);
  cr_expect(strstr(err.ptr, "no-such-branch"), "%s", err.ptr);
  free(a);
  free(b);
  ws_str_release(&err);
  char *dirs[] = {repo, now, tmp};
  for (size_t i = 0; i < 3; i++) {
    th_rm_rf(dirs[i]);
    free(dirs[i]);
  }
}

Test(build, yaml_error_names_file_line_and_column_and_writes_nothing) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  th_write(repo, "content/people/bo-lindqvist.md",
           "---\nname: Bo\nteam: [Data\n---\nbody\n");
  th_repo_commit_all(repo, "Break Bo", "Ada <ada@example.org>", 1700000200);
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 1, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "content/people/bo-lindqvist.md:"), "%s", err.ptr);
  cr_expect(strstr(err.ptr, ": error: "), "%s", err.ptr);
  cr_expect(!th_exists(out, NULL), "nothing may be written");
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(build, missing_name_is_an_error) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  th_write(repo, "content/people/bo-lindqvist.md", "---\nteam: Data\n---\n");
  th_repo_commit_all(repo, "No name", "Ada <ada@example.org>", 1700000200);
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 1);
  cr_expect(strstr(err.ptr, "content/people/bo-lindqvist.md:1:1: error: a "
                            "profile needs a 'name'"),
            "%s", err.ptr);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(build, script_in_name_and_body_is_inert) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  th_write(repo, "content/people/bo-lindqvist.md",
           "---\nname: \"<script>alert(1)</script>\"\n"
           "role: \"\\\" onmouseover=\\\"alert(2)\"\n"
           "strengths: [\"<img src=x onerror=alert(3)>\"]\n---\n"
           "## Background\n\n<script>alert(4)</script>\n\n"
           "[click](javascript:alert(5)) {{name}} {{>base}}\n");
  th_repo_commit_all(repo, "Hostile", "Ada <ada@example.org>", 1700000200);
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  const char *pages[] = {"index.html", "people/bo-lindqvist/index.html"};
  for (size_t i = 0; i < 2; i++) {
    char *html = th_read(out, pages[i]);
    cr_assert(html);
    cr_expect(!strstr(html, "<script>alert"), "%s", pages[i]);
    cr_expect(!strstr(html, "<img src=x"), "%s", pages[i]);
    cr_expect(!strstr(html, "\" onmouseover"), "%s", pages[i]);
    cr_expect(!strstr(html, "javascript:"), "%s", pages[i]);
    cr_expect(strstr(html, "&lt;script&gt;alert(1)"), "%s", pages[i]);
    free(html);
  }
  char *page = th_read(out, "people/bo-lindqvist/index.html");
  cr_expect(strstr(page, "{{name}} {{&gt;base}}"), "mustache in a body is "
                                                   "shown, not evaluated");
  free(page);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(build, rebuilds_are_byte_identical) {
  char *repo = demo_repo();
  char *a = build_into(repo, "content", NULL);
  char *b = build_into(repo, "content", NULL);
  expect_same_site(a, b, "rebuild");
  char *dirs[] = {repo, a, b};
  for (size_t i = 0; i < 3; i++) {
    th_rm_rf(dirs[i]);
    free(dirs[i]);
  }
}

Test(build, failed_build_leaves_the_old_site) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  char *before = th_read(out, "index.html");
  /* A content error, then an environment error (a theme that is not there):
   * both must leave the published site exactly as it was. */
  th_write(repo, "content/people/bo-lindqvist.md", "---\nname: [\n---\n");
  th_repo_commit_all(repo, "Break", "Ada <ada@example.org>", 1700000300);
  cr_expect_eq(build(repo, out, &err, NULL, NULL), 1);
  th_write(repo, "content/people/bo-lindqvist.md", bo);
  th_repo_commit_all(repo, "Fix", "Ada <ada@example.org>", 1700000400);
  cr_expect_eq(build(repo, out, &err, "--theme", "/no/such/theme"), 3);
  char *after = th_read(out, "index.html");
  cr_expect_str_eq(after, before);
  cr_expect(th_exists(out, "people/amara-okafor/index.html"));
  /* Both opened the folder while the profiles loaded, as a rebuild does;
   * the next build still publishes. */
  ws_str_clear(&err);
  cr_expect_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  free(before);
  free(after);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* A profile whose blob is missing from the object store (a damaged clone)
 * stops the build with a message that names the file, and publishes
 * nothing. */
Test(build, a_missing_profile_blob_is_named_and_nothing_is_written) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  char out[4096], hex[GIT_OID_HEXSZ + 1];
  snprintf(out, sizeof(out), "%s/public", tmp);
  git_oid id;
  cr_assert(git_odb_hash(&id, bo, strlen(bo), GIT_OBJECT_BLOB) == 0);
  git_oid_tostr(hex, sizeof(hex), &id);
  ws_str obj = WS_STR_INIT, err = WS_STR_INIT;
  ws_str_printf(&obj, "%s/.git/objects/%.2s/%s", repo, hex, hex + 2);
  cr_assert(unlink(obj.ptr) == 0, "%s is not a loose object", obj.ptr);
  cr_expect_eq(build(repo, out, &err, NULL, NULL), 3);
  cr_expect(strstr(err.ptr, "people/bo-lindqvist.md"), "%s", err.ptr);
  cr_expect(!th_exists(out, "index.html"));
  ws_str_release(&obj);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(build, help_version_and_usage_errors) {
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  const char *help[] = {"--help", NULL};
  cr_expect_eq(th_run(NULL, &out, &err, help), 0);
  cr_expect(strstr(out.ptr, "Usage: wholeself"));
  const char *bhelp[] = {"build", "--help", NULL};
  ws_str_clear(&out);
  cr_expect_eq(th_run(NULL, &out, &err, bhelp), 0);
  cr_expect(strstr(out.ptr, "--worktree"));
  cr_expect(strstr(out.ptr, "--out DIR"));
  const char *ver[] = {"--version", NULL};
  ws_str_clear(&out);
  cr_expect_eq(th_run(NULL, &out, &err, ver), 0);
  cr_expect(strncmp(out.ptr, "wholeself ", 10) == 0);
  const char *bad[] = {"build", "--frobnicate", NULL};
  ws_str_clear(&err);
  cr_expect_eq(th_run(NULL, &out, &err, bad), 2);
  cr_expect(strstr(err.ptr, "--frobnicate"), "%s", err.ptr);
  const char *nocmd[] = {"frob", NULL};
  cr_expect_eq(th_run(NULL, &out, &err, nocmd), 2);
  char *tmp = th_tmpdir();
  const char *norepo[] = {"build", "-C", tmp, NULL};
  ws_str_clear(&err);
  cr_expect_eq(th_run(NULL, &out, &err, norepo), 3);
  cr_expect(strstr(err.ptr, "not a git repository"), "%s", err.ptr);
  th_rm_rf(tmp);
  free(tmp);
  ws_str_release(&out);
  ws_str_release(&err);
}

Test(build, output_is_the_same_for_any_jobs) {
  char *repo = th_repo_new(false);
  for (int i = 0; i < 60; i++) {
    char rel[64], text[256];
    snprintf(rel, sizeof(rel), "people/p%02d.md", i);
    snprintf(text, sizeof(text),
             "---\nname: Person %02d\nteam: T%d\nstrengths: [s%d, t%d]\n"
             "mentoring: {offering: {types: [coach]}, seeking: {types: "
             "[sponsor]}}\n---\n## Background\n\nNumber %d.\n",
             i, i % 4, i % 7, i % 5, i);
    th_write(repo, rel, text);
  }
  th_repo_commit_all(repo, "team", "Ada <ada@example.org>", 1700000000);
  char *dirs[3];
  const char *jobs[3] = {"1", "2", "7"};
  for (int k = 0; k < 3; k++) {
    dirs[k] = th_tmpdir();
    char out[4096];
    snprintf(out, sizeof(out), "%s/site", dirs[k]);
    ws_str err = WS_STR_INIT;
    const char *argv[] = {"build",  "-C",    repo,      "--out", out,
                          "--jobs", jobs[k], "--quiet", NULL};
    cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
    ws_str_release(&err);
  }
  expect_same_site(dirs[0], dirs[1], "--jobs 2");
  expect_same_site(dirs[0], dirs[2], "--jobs 7");
  ws_str err = WS_STR_INIT;
  const char *bad[] = {"build", "-C", repo, "--jobs", "0", NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, bad), 2);
  cr_expect(strstr(err.ptr, "--jobs needs a number"), "%s", err.ptr);
  ws_str_release(&err);
  for (int k = 0; k < 3; k++) {
    th_rm_rf(dirs[k]);
    free(dirs[k]);
  }
  th_rm_rf(repo);
  free(repo);
}

/* Expects the site in 'out' to be the one a build of 'repo' into the new
 * folder 'fresh' makes. */
static void expect_as_fresh(const char *repo, const char *out,
                            const char *fresh, ws_str *err) {
  cr_assert_eq(build(repo, fresh, err, NULL, NULL), 0, "%s", err->ptr);
  char *diff = th_tree_diff(out, fresh);
  cr_expect_null(diff, "differs from a build into a new folder at %s", diff);
  free(diff);
}

Test(build, rebuild_sweeps_what_is_no_longer_made) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  char out[4096], fresh[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(fresh, sizeof(fresh), "%s/fresh", tmp);
  ws_str err = WS_STR_INIT;
  /* Three builds, so the reused staging folder holds a site with Bo. */
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  char rel[4096];
  snprintf(rel, sizeof(rel), "%s/content/people/bo-lindqvist.md", repo);
  cr_assert(unlink(rel) == 0);
  th_repo_commit_all(repo, "Bo leaves", "Ada <ada@example.org>", 1700000500);
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_expect(!th_exists(out, "people/bo-lindqvist/index.html"));
  cr_expect(!th_exists(out, "people/bo-lindqvist"), "empty folder swept");
  expect_as_fresh(repo, out, fresh, &err);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* Commits 'n' profiles p-00, p-01, ... to the repository 'repo'. */
static void many_people(const char *repo, int n) {
  char rel[64], text[128];
  th_write(repo, "content/site.yml", "title: Many\n");
  for (int i = 0; i < n; i++) {
    snprintf(rel, sizeof(rel), "content/people/p-%02d.md", i);
    snprintf(text, sizeof(text), "---\nname: Person %02d\n---\nHello.\n", i);
    th_write(repo, rel, text);
  }
  th_repo_commit_all(repo, "Many", "Ada <ada@example.org>", 1700000000);
}

/* Commits the removal of p-00, p-10, ... of the 'n' of many_people. */
static void every_tenth_leaves(const char *repo, int n) {
  char path[4200];
  for (int i = 0; i < n; i += 10) {
    snprintf(path, sizeof(path), "%s/content/people/p-%02d.md", repo, i);
    cr_assert(unlink(path) == 0);
  }
  th_repo_commit_all(repo, "Fewer", "Ada <ada@example.org>", 1700000100);
}

/* A folder with many sub-folders (people/ of a large team) is swept on
 * several threads: removed people's folders, stale files beside kept pages
 * and stale folders all go, and nothing the build made does. */
Test(build, a_large_team_is_swept_on_threads, .timeout = 60) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  char out[4096], staging[4200], fresh[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  snprintf(fresh, sizeof(fresh), "%s/fresh", tmp);
  many_people(repo, 80);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  every_tenth_leaves(repo, 80);
  th_write(staging, "people/p-01/stale.txt", "left over");
  th_write(staging, "people/p-02/old/page.html", "a stale folder");
  th_write(staging, "people/gone/index.html", "a person long gone");
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_expect(!th_exists(out, "people/p-00"), "a removed person's folder");
  cr_expect(th_exists(out, "people/p-01/index.html"));
  expect_as_fresh(repo, out, fresh, &err);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* A folder whose change time is still the one recorded for it is swept
 * by its record, one stat instead of reading it; one changed by hand is
 * read. The record of a folder is trusted only when it is a clock tick
 * older than the record, hence the pause: after it, the fourth build
 * records folders that the sixth finds unchanged. Removed people's
 * folders (unchanged, so swept by name) and a stray file in a folder
 * changed by hand all go. */
Test(build, unchanged_folders_are_swept_by_their_record, .timeout = 60) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  char out[4096], staging[4200], fresh[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  snprintf(fresh, sizeof(fresh), "%s/fresh", tmp);
  many_people(repo, 70);
  ws_str err = WS_STR_INIT;
  for (int k = 0; k < 5; k++) {
    if (k == 2) {
      struct timespec pause = {0, 300000000};
      nanosleep(&pause, NULL);
    }
    cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  }
  every_tenth_leaves(repo, 70);
  cr_assert(th_exists(staging, "people/p-00/index.html"));
  th_write(staging, "people/p-01/stray.txt", "put there by hand");
  cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  cr_expect(!th_exists(out, "people/p-00"), "a removed person's folder");
  cr_expect(!th_exists(out, "people/p-01/stray.txt"), "a stray file");
  expect_as_fresh(repo, out, fresh, &err);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* The record of a folder lists each entry once. After the first build
 * into a folder records no fingerprints, its files are listed as plain
 * files; the second build finds its pages the same and records them as
 * pages, which must take them off the plain files: the sweep by record
 * would otherwise remove a page twice and, failing the second time, keep
 * the folder of someone who left. */
Test(build, a_record_lists_each_entry_once) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  for (int k = 0; k < 2; k++)
    cr_assert_eq(build(repo, out, &err, NULL, NULL), 0, "%s", err.ptr);
  char *manifest = th_read(tmp, "public.manifest");
  cr_assert(manifest);
  /* Each line's path, by section: pages (after a fingerprint and a
   * space), plain files and folders. */
  enum { MAX = 512 };
  const char *pages[MAX], *files[MAX];
  size_t npages = 0, nfiles = 0, dirs = 0, sections = 0, both = 0;
  for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "folder ", 7) == 0) {
      for (size_t i = 0; i < nfiles; i++)
        for (size_t k = 0; k < npages; k++)
          both += strcmp(files[i], pages[k]) == 0;
      sections++;
      npages = nfiles = 0;
    } else if (strncmp(line, "file ", 5) == 0 && nfiles < MAX) {
      files[nfiles++] = line + 5;
    } else if (strncmp(line, "dir ", 4) == 0) {
      dirs++;
    } else if (strlen(line) > 33 && line[32] == ' ' && npages < MAX) {
      pages[npages++] = line + 33;
    }
  }
  for (size_t i = 0; i < nfiles; i++)
    for (size_t k = 0; k < npages; k++)
      both += strcmp(files[i], pages[k]) == 0;
  cr_expect_eq(both, 0, "%zu paths are both a page and a plain file", both);
  cr_expect_eq(sections, 2);
  cr_expect_gt(dirs, 0);
  free(manifest);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* A staging folder left by a killed build, or by hand, may hold anything:
 * a file where a folder goes, a folder where a page goes, a link out of the
 * site, stale pages. A build writes through none of it and publishes
 * exactly what a build into a new folder does. */
Test(build, a_staging_folder_in_any_state_is_made_clean) {
  char *repo = demo_repo(), *tmp = th_tmpdir();
  char out[4096], staging[4200], fresh[4096], outside[4096], link_at[4300];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  snprintf(fresh, sizeof(fresh), "%s/fresh", tmp);
  snprintf(outside, sizeof(outside), "%s/outside", tmp);
  th_write(staging, "people", "a file where a folder goes");
  th_write(staging, "index.html/stale.html", "a folder where a page goes");
  th_write(staging, "old/page.html", "a page no longer made");
  /* Stale files beside pages the build makes, in whatever order the
   * folder lists them: every one goes. */
  for (int i = 0; i < 20; i++) {
    char stale[64];
    snprintf(stale, sizeof(stale), "assets/stale-%02d.css", i);
    th_write(staging, stale, "left over");
  }
  th_write(outside, "keep.txt", "not the site's");
  snprintf(link_at, sizeof(link_at), "%s/strengths", staging);
  cr_assert(symlink(outside, link_at) == 0);
  ws_str err = WS_STR_INIT;
  cr_assert_eq(build(repo, out, &err, "--jobs", "4"), 0, "%s", err.ptr);
  expect_as_fresh(repo, out, fresh, &err);
  char *kept = th_read(outside, "keep.txt");
  cr_expect_str_eq(kept, "not the site's");
  free(kept);
  cr_expect(!th_exists(outside, "sql"), "wrote through a link");
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* The reused staging folder must never make a build differ from a clean
 * one: random edits, additions and removals, checked after every build. */
Test(build, incremental_output_equals_a_clean_build, .timeout = 120) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  unsigned seed = 2026;
  bool alive[12] = {false};
  for (int step = 0; step < 12; step++) {
    for (int k = 0; k < 3; k++) {
      seed = seed * 1103515245u + 12345u;
      int who = (int)((seed >> 16) % 12);
      char rel[64], path[4200], text[256];
      snprintf(rel, sizeof(rel), "people/p%02d.md", who);
      snprintf(path, sizeof(path), "%s/%s", repo, rel);
      if (alive[who] && (seed >> 8) % 4 == 0) {
        cr_assert(unlink(path) == 0);
        alive[who] = false;
        continue;
      }
      snprintf(text, sizeof(text),
               "---\nname: Person %02d\nteam: T%u\nstrengths: [s%u, t%u]\n"
               "---\n## Background\n\nStep %d.\n",
               who, (seed >> 4) % 3, (seed >> 6) % 5, (seed >> 9) % 4, step);
      th_write(repo, rel, text);
      alive[who] = true;
    }
    th_write(repo, "people/anchor.md", "---\nname: Anchor\n---\nHi\n");
    th_repo_commit_all(repo, "step", "Ada <ada@example.org>",
                       1700000000 + step * 100);
    ws_str err = WS_STR_INIT;
    cr_assert_eq(build(repo, out, &err, "--content", "."), 0, "%s", err.ptr);
    char *fresh = th_tmpdir();
    char clean[4200];
    snprintf(clean, sizeof(clean), "%s/site", fresh);
    cr_assert_eq(build(repo, clean, &err, "--content", "."), 0, "%s", err.ptr);
    char *diff = th_tree_diff(out, clean);
    cr_expect_null(diff, "step %d: incremental output differs at %s", step,
                   diff);
    free(diff);
    ws_str_release(&err);
    th_rm_rf(fresh);
    free(fresh);
  }
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}
