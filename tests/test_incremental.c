/* Incremental builds: pages whose inputs did not change are kept, never
 * rendered, and the result is still exactly a clean build. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static const char bo_v1[] = "---\nname: Bo Lindqvist\nteam: Data\n"
                            "strengths: [SQL]\n---\n## Background\n\n"
                            "Hello.\n\n## Hobbies\n\nChess.\n";
static const char bo_v2[] = "---\nname: Bo Lindqvist\nteam: Data\n"
                            "strengths: [SQL]\n---\n## Background\n\n"
                            "Hello.\n\n## Hobbies\n\nChess and climbing.\n";

static char *team_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "site.yml", "title: Test Team\n");
  th_write(repo, "people/amara-okafor.md",
           "---\nname: Amara Okafor\nteam: Platform\n"
           "strengths: [SQL, Go]\nlearning: [Rust]\n---\n"
           "## Background\n\nStorage.\n");
  th_write(repo, "people/bo-lindqvist.md", bo_v1);
  th_write(repo, "people/chen-wei.md",
           "---\nname: Chen Wei\nteam: Data\nstrengths: [Rust]\n---\n"
           "## Background\n\nCompilers.\n");
  th_repo_commit_all(repo, "Add the team", "Ada <ada@example.org>", 1700000000);
  return repo;
}

typedef struct {
  unsigned long rendered, kept;
  unsigned long by_record; /* of the kept, found by their folder's record */
} counts;

/* Builds with -v (and 'extra', unless NULL) and returns what it printed
 * (caller frees), from the line that starts with 'line'. */
static char *build_line(const char *repo, const char *out, const char *extra,
                        const char *line) {
  const char *argv[] = {"build",        "-C", repo,  "--out", out,
                        "--no-history", "-v", extra, NULL};
  ws_str err = WS_STR_INIT;
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "build failed: %s", err.ptr);
  const char *at = strstr(err.ptr, line);
  cr_assert_not_null(at, "no '%s' line in: %s", line, err.ptr);
  char *found = strdup(at);
  ws_str_release(&err);
  return found;
}

/* Builds with -v and reads "rendered N pages, kept M unchanged (K by
 * their folder's record)". */
static counts build(const char *repo, const char *out, const char *extra) {
  char *at = build_line(repo, out, extra, "rendered ");
  counts c = {0, 0, 0};
  cr_assert_eq(sscanf(at, "rendered %lu pages, kept %lu unchanged (%lu by",
                      &c.rendered, &c.kept, &c.by_record),
               3, "unexpected line: %s", at);
  free(at);
  return c;
}

/* Commits 'text' as 'rel' and builds 'repo' into 'out' again (the builds
 * here read no history, so the commit's message does not matter). */
static counts edit_and_build(const char *repo, const char *out, const char *rel,
                             const char *text) {
  th_write(repo, rel, text);
  th_repo_commit_all(repo, "Edit", "Ada <ada@example.org>", 1700000100);
  return build(repo, out, NULL);
}

static void expect_page_has(const char *out, const char *rel,
                            const char *needle) {
  char *page = th_read(out, rel);
  cr_assert_not_null(page, "no %s", rel);
  cr_expect_not_null(strstr(page, needle), "%s misses '%s'", rel, needle);
  free(page);
}

static void expect_same_as_clean(const char *repo, const char *out) {
  char *tmp = th_tmpdir(), clean[4200];
  snprintf(clean, sizeof(clean), "%s/clean", tmp);
  build(repo, clean, "--no-incremental");
  char *diff = th_tree_diff(out, clean);
  cr_expect_null(diff, "incremental output differs from a clean build at %s",
                 diff);
  free(diff);
  th_rm_rf(tmp);
  free(tmp);
}

/* A first build into a new folder records nothing (a CI runner starts
 * empty every time); the next build into the same folder records, and from
 * then on unchanged pages are kept. */
Test(incremental, unchanged_inputs_render_nothing) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  counts first = build(repo, out, NULL);
  cr_expect_eq(first.kept, 0);
  cr_expect_gt(first.rendered, 10);
  counts second = build(repo, out, NULL);
  cr_expect_eq(second.kept, 0, "the first build recorded fingerprints");
  cr_expect_eq(second.rendered, first.rendered);
  counts again = build(repo, out, NULL);
  cr_expect_eq(again.rendered, 0, "%lu pages rendered again", again.rendered);
  cr_expect_eq(again.kept, first.rendered);
  counts fourth = build(repo, out, NULL);
  cr_expect_eq(fourth.rendered, 0);
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A paragraph that is not the summary shows only on the person's own page:
 * that page alone is rendered. */
Test(incremental, body_edit_renders_only_that_page) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  counts first = build(repo, out, NULL);
  build(repo, out, NULL);
  ino_t search = th_inode(out, "search.json");
  counts c = edit_and_build(repo, out, "people/bo-lindqvist.md", bo_v2);
  cr_expect_eq(c.rendered, 1, "rendered %lu pages", c.rendered);
  cr_expect_eq(c.kept, first.rendered - 1);
  /* The search index shows no body: it is kept, linked, not made again. */
  cr_expect_eq(th_inode(out, "search.json"), search);
  expect_page_has(out, "people/bo-lindqvist/index.html", "Chess and climbing.");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A new strength changes the person's page, their cards everywhere, and the
 * strength pages: all of those are rendered, and nothing stale is kept. */
Test(incremental, field_edit_renders_every_page_that_shows_it) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  build(repo, out, NULL);
  build(repo, out, NULL);
  counts c = edit_and_build(
      repo, out, "people/bo-lindqvist.md",
      "---\nname: Bo Lindqvist\nteam: Data\nstrengths: [SQL, Rust]\n"
      "---\n## Background\n\nHello.\n");
  cr_expect_gt(c.rendered, 4, "rendered %lu pages", c.rendered);
  cr_expect_gt(c.kept, 0);
  expect_page_has(out, "strengths/rust/index.html", "Bo Lindqvist");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* Person contexts share one value per tag (render.c): swapping one
 * strength for another, the list as long as before, must still reach Bo's
 * page and card, and every strength page involved. */
Test(incremental, a_swapped_strength_reaches_every_page_that_shows_it) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  build(repo, out, NULL);
  build(repo, out, NULL);
  counts c =
      edit_and_build(repo, out, "people/bo-lindqvist.md",
                     "---\nname: Bo Lindqvist\nteam: Data\nstrengths: [Go]\n"
                     "---\n## Background\n\nHello.\n\n## Hobbies\n\nChess.\n");
  cr_expect_gt(c.kept, 0);
  expect_page_has(out, "people/bo-lindqvist/index.html", "strengths/go/");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A strength page makes its learners' cards only when it is rendered, so
 * its fingerprint takes them from their inputs: a learner's new name must
 * still reach the page of what they are learning, where it shows only as
 * a learner. */
Test(incremental, a_learners_new_name_reaches_the_strength_page) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  build(repo, out, NULL);
  build(repo, out, NULL);
  counts c = edit_and_build(repo, out, "people/amara-okafor.md",
                            "---\nname: Amara N. Okafor\nteam: Platform\n"
                            "strengths: [SQL, Go]\nlearning: [Rust]\n---\n"
                            "## Background\n\nStorage.\n");
  cr_expect_gt(c.kept, 0);
  expect_page_has(out, "strengths/rust/index.html", "Amara N. Okafor");
  expect_page_has(out, "strengths/rust/index.html", "could learn from");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* Templates are inputs of every page: a site's override of one partial
 * renders everything again. */
Test(incremental, template_change_renders_every_page) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  build(repo, out, NULL);
  counts first = build(repo, out, NULL);
  char *avatar = th_read(th_root(), "themes/default/avatar.mustache");
  cr_assert_not_null(avatar);
  ws_str changed = WS_STR_INIT;
  ws_str_printf(&changed, "<!-- override -->%s", avatar);
  th_write(repo, "themes/default/avatar.mustache", changed.ptr);
  th_repo_commit_all(repo, "Own avatar", "Ada <ada@example.org>", 1700000100);
  counts c = build(repo, out, NULL);
  cr_expect_eq(c.kept, 0, "%lu pages kept across a template change", c.kept);
  cr_expect_eq(c.rendered, first.rendered);
  expect_same_as_clean(repo, out);
  ws_str_release(&changed);
  free(avatar);
  th_discard(repo);
  th_discard(tmp);
}

/* The 'k'-th section (from 0) of the manifest 'text': one per folder it
 * records, the published folder's first. NULL when there are fewer. */
static const char *record_section(const char *text, size_t k) {
  const char *at = strstr(text, "\nfolder ");
  for (; at && k > 0; k--)
    at = strstr(at + 1, "\nfolder ");
  return at;
}

/* The first build into a folder leaves no record, so the second renders
 * every page; a page that comes out as the published one is linked to it,
 * not written, and recorded for the published folder too. After the swap,
 * the third build finds the unchanged pages recorded in its staging folder
 * and keeps them where they are: the published page is that same file
 * throughout, where it used to be linked anew on the third build. */
Test(incremental, the_second_build_records_the_pages_it_found_published) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200], staging[4300];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  const char *chen = "people/chen-wei/index.html";
  build(repo, out, NULL);
  ino_t first = th_inode(out, chen);
  counts second = build(repo, out, NULL);
  cr_expect_eq(second.kept, 0);
  cr_expect_eq(th_inode(out, chen), first, "the equal page was written again");
  cr_expect_eq(th_inode(staging, chen), first);
  char *manifest = th_read(tmp, "public.manifest");
  cr_assert_not_null(manifest);
  const char *older = record_section(manifest, 1);
  cr_expect(older && strstr(older, chen), "no record of the older site: %s",
            manifest);
  free(manifest);
  counts c = edit_and_build(repo, out, "people/bo-lindqvist.md", bo_v2);
  cr_expect_eq(c.rendered, 1, "rendered %lu pages", c.rendered);
  cr_expect_eq(th_inode(out, chen), first, "the kept page was linked again");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* The teams overview lists every member and each team's top strengths;
 * its fingerprint is made from what those come from, not from the lists:
 * a new name or a changed strength reaches it, a body edit does not. */
Test(incremental, the_teams_overview_follows_names_and_strengths) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  const char *overview = "teams/index.html";
  build(repo, out, NULL);
  build(repo, out, NULL);
  ino_t kept = th_inode(out, overview);
  edit_and_build(repo, out, "people/bo-lindqvist.md", bo_v2);
  cr_expect_eq(th_inode(out, overview), kept, "a body edit re-rendered it");
  edit_and_build(repo, out, "people/chen-wei.md",
                 "---\nname: Chen Wei-Li\nteam: Data\nstrengths: [Rust]\n"
                 "---\n## Background\n\nCompilers.\n");
  expect_page_has(out, overview, "Chen Wei-Li");
  expect_same_as_clean(repo, out);
  kept = th_inode(out, overview);
  /* Data's top strengths go from SQL and Rust to Go and Rust. */
  edit_and_build(repo, out, "people/bo-lindqvist.md",
                 "---\nname: Bo Lindqvist\nteam: Data\nstrengths: [Go]\n"
                 "---\n## Background\n\nHello.\n");
  cr_expect_neq(th_inode(out, overview), kept, "a new strength was missed");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A page kept from the published folder is linked, not copied: writing its
 * successor must replace the file, never write through to the site that is
 * being served. */
Test(incremental, published_site_is_never_written_through) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200], staging[4300];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  build(repo, out, NULL);
  build(repo, out, NULL); /* now both folders share the unchanged pages */
  th_write(repo, "people/bo-lindqvist.md", bo_v2);
  th_repo_commit_all(repo, "Bo climbs", "Bo <bo@example.org>", 1700000100);
  build(repo, out, NULL);
  /* The staging folder is the site that was published before the swap. */
  char *old = th_read(staging, "people/bo-lindqvist/index.html");
  char *now = th_read(out, "people/bo-lindqvist/index.html");
  cr_assert(old && now);
  cr_expect_null(strstr(old, "climbing"), "the old site was written through");
  cr_expect_not_null(strstr(now, "climbing"));
  free(old);
  free(now);
  th_discard(repo);
  th_discard(tmp);
}

/* The record of what a folder holds is a hint, never trusted blindly: a
 * garbage manifest, a deleted staging folder or a replaced output folder
 * only cost rendering. */
Test(incremental, damaged_records_fall_back_to_rendering) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200], path[4400];
  snprintf(out, sizeof(out), "%s/public", tmp);
  counts first = build(repo, out, NULL);
  build(repo, out, NULL);
  snprintf(path, sizeof(path), "%s.manifest", out);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs("wholeself manifest 1\nfolder 1 2\nzz not-a-digest\n\x01\x02", f);
  fclose(f);
  counts c = build(repo, out, NULL);
  cr_expect_eq(c.kept, 0);
  cr_expect_eq(c.rendered, first.rendered);
  expect_same_as_clean(repo, out);

  /* A published folder replaced by hand (here: by an older copy with a
   * wrong page) is not the folder the record describes. */
  snprintf(path, sizeof(path), "%s.staging", out);
  th_rm_rf(path);
  char *saved = th_tmpdir(), copy[4300];
  snprintf(copy, sizeof(copy), "%s/site", saved);
  cr_assert_eq(rename(out, copy), 0);
  cr_assert_eq(mkdir(out, 0755), 0);
  th_write(out, "people/bo-lindqvist/index.html", "stale");
  c = build(repo, out, NULL);
  cr_expect_eq(c.kept, 0);
  expect_same_as_clean(repo, out);
  th_rm_rf(saved);
  free(saved);
  th_discard(repo);
  th_discard(tmp);
}

/* Pairs and circles show other people: person contexts and the mentoring
 * pages share one value per person and per circle (mentoring.h). Renaming
 * a mentor must still re-render every page that names them, and only
 * those. */
static void write_mentoring_person(const char *repo, const char *slug,
                                   const char *name, const char *side,
                                   const char *type) {
  char rel[64], text[512];
  snprintf(rel, sizeof(rel), "people/%s.md", slug);
  snprintf(text, sizeof(text),
           "---\nname: %s\nteam: Data\nstrengths: [SQL]\n"
           "mentoring:\n  %s:\n    types: [%s]\n    topics: [SQL]\n"
           "  formats: [one-on-one]\n  modes: [virtual]\n---\n"
           "## Background\n\nHello.\n",
           name, side, type);
  th_write(repo, rel, text);
}

Test(incremental, a_renamed_mentor_is_renamed_wherever_shown) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  th_write(repo, "site.yml", "title: Test Team\n");
  write_mentoring_person(repo, "ada", "Ada Byron", "offering", "coach");
  write_mentoring_person(repo, "ben", "Ben Okri", "seeking", "coach");
  write_mentoring_person(repo, "cy", "Cy Twombly", "seeking", "sponsor");
  th_repo_commit_all(repo, "Team", "Ada <ada@example.org>", 1700000000);
  build(repo, out, NULL);
  counts all = build(repo, out, NULL);
  char *ben = th_read(out, "people/ben/index.html");
  cr_assert(ben && strstr(ben, "Ada Byron"), "Ben's page names no mentor");
  free(ben);
  write_mentoring_person(repo, "ada", "Ada King", "offering", "coach");
  th_repo_commit_all(repo, "Rename", "Ada <ada@example.org>", 1700000100);
  counts c = build(repo, out, NULL);
  ben = th_read(out, "people/ben/index.html");
  cr_expect(ben && strstr(ben, "Ada King") && !strstr(ben, "Ada Byron"),
            "Ben's page still names the old mentor");
  free(ben);
  char *cy = th_read(out, "people/cy/index.html");
  cr_expect(cy && !strstr(cy, "Ada"), "Cy has nothing to do with Ada");
  free(cy);
  cr_expect_gt(c.kept, 0, "everything was rendered again");
  cr_expect_lt(c.rendered, all.rendered);
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A new base_url changes every page's canonical address, which the
 * templates show though none shows the base_url itself: every person page
 * is made again. */
Test(incremental, a_new_base_url_remakes_every_person_page) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  th_write(repo, "site.yml",
           "title: Test Team\nbase_url: https://a.example.org/team/\n");
  th_repo_commit_all(repo, "Base", "Ada <ada@example.org>", 1700000050);
  build(repo, out, NULL);
  build(repo, out, NULL);
  counts c = edit_and_build(
      repo, out, "site.yml",
      "title: Test Team\nbase_url: https://b.example.org/team/\n");
  cr_expect_geq(c.rendered, 3, "rendered %lu pages", c.rendered);
  expect_page_has(out, "people/chen-wei/index.html",
                  "https://b.example.org/team/people/chen-wei/");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A pair is made once and shown by its mentee, its mentor, the hub and its
 * type's page: a reason that changes because of the mentee alone must
 * reach the mentor's page too. */
Test(incremental, a_changed_reason_reaches_every_page_that_shows_the_pair) {
  static const char ada[] =
      "---\nname: Ada Byron\nteam: Data\nmentoring:\n  offering:\n"
      "    types: [coach]\n    topics: [SQL]\n"
      "  formats: [one-on-one, group]\n  modes: [virtual]\n---\nHi.\n";
  static const char ben[] =
      "---\nname: Ben Okri\nteam: Data\nmentoring:\n  seeking:\n"
      "    types: [coach]\n    topics: [SQL]\n"
      "  formats: [%s]\n  modes: [virtual]\n---\nHi.\n";
  static const char *const pages[] = {
      "people/ada/index.html", "people/ben/index.html", "mentoring/index.html",
      "mentoring/coach/index.html"};
  char *repo = th_repo_new(false), *tmp = th_tmpdir(), out[4200], text[512];
  snprintf(out, sizeof(out), "%s/public", tmp);
  th_write(repo, "site.yml", "title: Test Team\n");
  th_write(repo, "people/ada.md", ada);
  snprintf(text, sizeof(text), ben, "one-on-one");
  th_write(repo, "people/ben.md", text);
  write_mentoring_person(repo, "cy", "Cy Twombly", "seeking", "sponsor");
  th_repo_commit_all(repo, "Team", "Ada <ada@example.org>", 1700000000);
  build(repo, out, NULL);
  build(repo, out, NULL); /* the first build into 'out' records nothing */
  for (size_t k = 0; k < 4; k++) {
    char *html = th_read(out, pages[k]);
    cr_assert(html && strstr(html, "both one-on-one<"), "%s: no reason",
              pages[k]);
    free(html);
  }
  snprintf(text, sizeof(text), ben, "group, one-on-one");
  th_write(repo, "people/ben.md", text);
  th_repo_commit_all(repo, "Ben: groups", "Ben <ben@example.org>", 1700000100);
  counts c = build(repo, out, NULL);
  for (size_t k = 0; k < 4; k++) {
    char *html = th_read(out, pages[k]);
    cr_expect(html && strstr(html, "both one-on-one or group<"),
              "%s still shows the old reason", pages[k]);
    free(html);
  }
  cr_expect_gt(c.kept, 0, "everything was rendered again (Cy's page too)");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* Reads "person contexts: N made, M known by their digests" from a -v
 * build's output. */
static counts build_contexts(const char *repo, const char *out) {
  char *at = build_line(repo, out, NULL, "person contexts: ");
  counts c = {0, 0, 0};
  cr_assert_eq(
      sscanf(at, "person contexts: %lu made, %lu known", &c.rendered, &c.kept),
      2, "unexpected line: %s", at);
  free(at);
  return c;
}

/* A build that records fingerprints also records the digests of every
 * person context (ctxcache.h): the next build makes only the contexts of
 * people whose inputs changed, and makes the others in place when a page
 * that shows them must be rendered after all. */
Test(incremental, only_changed_people_get_a_context) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  build(repo, out, NULL);
  counts c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 3, "%lu contexts made", c.rendered);
  c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 0, "%lu contexts made again", c.rendered);
  cr_expect_eq(c.kept, 3);
  th_write(repo, "people/bo-lindqvist.md", bo_v2);
  th_repo_commit_all(repo, "Edit", "Ada <ada@example.org>", 1700000100);
  c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 1, "%lu contexts made for a body edit", c.rendered);
  expect_same_as_clean(repo, out);
  /* A new name shows on every card: the directory is rendered, with the
   * cards of people whose contexts were known only by their digests. */
  th_write(repo, "people/chen-wei.md",
           "---\nname: Chen Wei-Ling\nteam: Data\nstrengths: [Rust]\n---\n"
           "## Background\n\nCompilers.\n");
  th_repo_commit_all(repo, "Rename", "Ada <ada@example.org>", 1700000200);
  c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 3, "%lu contexts made for the directory",
               c.rendered);
  expect_page_has(out, "index.html", "Chen Wei-Ling");
  expect_page_has(out, "index.html", "Amara Okafor");
  expect_page_has(out, "index.html", "Bo Lindqvist");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* A circle is shown on the hub and on each member's page, which take it
 * by what it is made from: a member's new name must reach them all. */
Test(incremental, a_circle_member_s_new_name_reaches_the_hub) {
  static const char person[] =
      "---\nname: %s\nteam: Data\n%s: [SQL]\nmentoring:\n"
      "  formats: [group]\n  modes: [virtual]\n---\nHi.\n";
  char *repo = th_repo_new(false), *tmp = th_tmpdir(), out[4200], text[512];
  snprintf(out, sizeof(out), "%s/public", tmp);
  th_write(repo, "site.yml", "title: Test Team\n");
  snprintf(text, sizeof(text), person, "Ada Byron", "strengths");
  th_write(repo, "people/ada.md", text);
  snprintf(text, sizeof(text), person, "Ben Okri", "learning");
  th_write(repo, "people/ben.md", text);
  snprintf(text, sizeof(text), person, "Cy Twombly", "learning");
  th_write(repo, "people/cy.md", text);
  th_repo_commit_all(repo, "Team", "Ada <ada@example.org>", 1700000000);
  build(repo, out, NULL);
  build(repo, out, NULL);
  expect_page_has(out, "mentoring/index.html", "Cy Twombly");
  snprintf(text, sizeof(text), person, "Cy Tw.", "learning");
  counts c = edit_and_build(repo, out, "people/cy.md", text);
  cr_expect_gt(c.kept, 0, "everything was rendered again");
  expect_page_has(out, "mentoring/index.html", "Cy Tw.");
  expect_page_has(out, "people/ada/index.html", "Cy Tw.");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* Profile number 'i' of a generated team, with 'more' after the first
 * paragraph (the summary, which cards show). */
static void write_numbered(const char *repo, int i, const char *more) {
  char rel[64], text[256];
  snprintf(rel, sizeof(rel), "people/p%03d.md", i);
  snprintf(text, sizeof(text),
           "---\nname: Person %03d\nteam: T%d\n---\n## Background\n\n"
           "Hello.\n\n%s\n",
           i, i % 4, more);
  th_write(repo, rel, text);
}

/* The context cache is rewritten only when the contexts made again add
 * up to more than one in 64: one edited profile of 130 leaves the file
 * as it is (its context is made again next time, for tens of
 * microseconds), a few more rewrite it. */
Test(incremental, the_context_cache_is_rewritten_when_misses_add_up) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  th_write(repo, "site.yml", "title: Test Team\n");
  for (int i = 0; i < 130; i++)
    write_numbered(repo, i, "");
  th_repo_commit_all(repo, "Team", "Ada <ada@example.org>", 1700000000);
  build(repo, out, NULL);
  build_contexts(repo, out);
  char *file = th_cache_file(repo, "contexts-");
  cr_assert_not_null(file, "no context cache");
  struct stat before, after;
  cr_assert_eq(stat(file, &before), 0);
  write_numbered(repo, 7, "Edited.");
  th_repo_commit_all(repo, "Edit", "Ada <ada@example.org>", 1700000100);
  counts c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 1, "%lu contexts made", c.rendered);
  cr_assert_eq(stat(file, &after), 0);
  cr_expect_eq(after.st_ino, before.st_ino, "rewritten for one context");
  for (int i = 20; i < 23; i++)
    write_numbered(repo, i, "Edited too.");
  th_repo_commit_all(repo, "Edit more", "Ada <ada@example.org>", 1700000200);
  c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 4, "%lu contexts made", c.rendered);
  cr_assert_eq(stat(file, &after), 0);
  cr_expect_neq(after.st_ino, before.st_ino, "not rewritten for four");
  c = build_contexts(repo, out);
  cr_expect_eq(c.rendered, 0, "%lu contexts made after the rewrite",
               c.rendered);
  expect_same_as_clean(repo, out);
  free(file);
  th_discard(repo);
  th_discard(tmp);
}

/* A page deleted by hand from the staging folder (and from the published
 * folder, which could lend its copy) since the last build is not counted
 * as kept, whatever the manifest says, but rendered. */
Test(incremental, a_page_deleted_from_the_staging_folder_is_made_again) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200], staging[4300];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  build(repo, out, NULL);
  build(repo, out, NULL);
  build(repo, out, NULL);
  cr_assert(th_exists(staging, "people/chen-wei/index.html"));
  char path[4400];
  snprintf(path, sizeof(path), "%s/people/chen-wei/index.html", staging);
  cr_assert_eq(unlink(path), 0);
  snprintf(path, sizeof(path), "%s/people/chen-wei/index.html", out);
  cr_assert_eq(unlink(path), 0);
  counts c = build(repo, out, NULL);
  cr_expect_eq(c.rendered, 1, "rendered %lu pages", c.rendered);
  expect_page_has(out, "people/chen-wei/index.html", "Chen Wei");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* Builds 'repo' into 'out' until the staging folder's record is
 * trusted, and returns the last build's counts. Records are trusted once
 * a clock tick old: the first two builds' folders were recorded as they
 * were made, too recently; after a pause, the next two record them again,
 * from before, and the fifth build can trust them. */
static counts build_trusted(const char *repo, const char *out) {
  build(repo, out, NULL);
  build(repo, out, NULL);
  struct timespec pause = {0, 300000000};
  nanosleep(&pause, NULL);
  build(repo, out, NULL);
  build(repo, out, NULL);
  return build(repo, out, NULL);
}

/* A kept page whose folder is as the staging folder's record has it needs
 * no stat of its own: the folder's stat answers for it. A page deleted by hand
 * changes its folder, which is then not trusted, and the page is made
 * again. */
Test(incremental, kept_pages_are_found_by_their_folders_record) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200], staging[4300];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(staging, sizeof(staging), "%s.staging", out);
  counts c = build_trusted(repo, out);
  cr_expect_eq(c.rendered, 0);
  cr_expect_gt(c.by_record, 0, "no page found by its folder's record");
  cr_expect_leq(c.by_record, c.kept);
  char path[4400];
  snprintf(path, sizeof(path), "%s/people/chen-wei/index.html", staging);
  cr_assert_eq(unlink(path), 0);
  snprintf(path, sizeof(path), "%s/people/chen-wei/index.html", out);
  cr_assert_eq(unlink(path), 0);
  c = build(repo, out, NULL);
  cr_expect_eq(c.rendered, 1, "rendered %lu pages", c.rendered);
  expect_page_has(out, "people/chen-wei/index.html", "Chen Wei");
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* The sweep finds what lies below each folder of people/ from where it
 * found it for the folder before; "chen-wei/..." sorts between "chen" and
 * "chen/...", so that guess is checked. Whichever of the two leaves, only
 * their folder goes. */
Test(incremental, folders_whose_names_sort_inside_anothers_are_swept_right) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  static const char chen[] = "---\nname: Chen Li\nteam: Data\n---\n"
                             "## Background\n\nTests.\n";
  static const char *const leaving[] = {"chen", "chen-wei"};
  for (size_t i = 0; i < 2; i++) { /* Chen Li comes back for the second */
    th_write(repo, "people/chen.md", chen);
    th_repo_commit_all(repo, "Chen Li", "Ada <ada@example.org>", 1700000100);
    cr_expect_gt(build_trusted(repo, out).by_record, 0, "no record trusted");
    char file[4300], page[80];
    snprintf(file, sizeof(file), "%s/people/%s.md", repo, leaving[i]);
    cr_assert_eq(unlink(file), 0);
    th_repo_commit_all(repo, "Leaves", "Ada <ada@example.org>", 1700000200);
    build(repo, out, NULL);
    snprintf(page, sizeof(page), "people/%s/index.html", leaving[i]);
    cr_expect(!th_exists(out, page), "%s is still there", page);
    snprintf(page, sizeof(page), "people/%s/index.html", leaving[1 - i]);
    cr_expect(th_exists(out, page), "%s went too", page);
    expect_same_as_clean(repo, out);
  }
  th_discard(repo);
  th_discard(tmp);
}

/* A rebuild forgets the staging folder's record before it changes that
 * folder (the manifest is cut short there), even when it then stops on a
 * content error. A build stopped while rendering may have replaced a page
 * there: the next build must not keep it by the record's fingerprint. */
Test(incremental, a_failed_rebuild_forgets_the_staging_folders_record) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200], path[4400];
  snprintf(out, sizeof(out), "%s/public", tmp);
  cr_expect_gt(build_trusted(repo, out).by_record, 0, "no record trusted");
  char *manifest = th_read(tmp, "public.manifest");
  cr_assert_not_null(manifest);
  cr_expect(record_section(manifest, 1),
            "no section for the staging folder: %s", manifest);
  free(manifest);
  th_write(repo, "people/chen-wei.md", "---\nname: [\n---\n");
  th_repo_commit_all(repo, "Break", "Ada <ada@example.org>", 1700000100);
  const char *argv[] = {"build", "-C",   repo, "--out",
                        out,     "--no-history", "-q", NULL};
  ws_str err = WS_STR_INIT;
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 1, "%s", err.ptr);
  ws_str_release(&err);
  manifest = th_read(tmp, "public.manifest");
  cr_assert_not_null(manifest);
  cr_expect(!record_section(manifest, 1),
            "the staging folder's record is still there: %s", manifest);
  free(manifest);
  /* What a build stopped while rendering may leave: a page replaced by
   * one made from other inputs (a new file: the old one is also the
   * published page's). */
  snprintf(path, sizeof(path), "%s.staging", out);
  char page[4500];
  snprintf(page, sizeof(page), "%s/people/amara-okafor/index.html", path);
  cr_assert_eq(unlink(page), 0);
  th_write(path, "people/amara-okafor/index.html", "made from other inputs");
  th_write(repo, "people/chen-wei.md",
           "---\nname: Chen Wei\nteam: Data\nstrengths: [Rust]\n---\n"
           "## Background\n\nCompilers.\n");
  th_repo_commit_all(repo, "Fix", "Ada <ada@example.org>", 1700000200);
  build(repo, out, NULL);
  expect_same_as_clean(repo, out);
  th_discard(repo);
  th_discard(tmp);
}

/* The published folder's record becomes the staging folder's when the two
 * trade places, and is written again as it was read, but only when every
 * line of it was taken: a line the reader dropped must not live on. */
Test(incremental, a_dropped_line_of_the_record_is_not_carried_over) {
  char *repo = team_repo(), *tmp = th_tmpdir(), out[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  build(repo, out, NULL);
  build(repo, out, NULL);
  char *manifest = th_read(tmp, "public.manifest");
  cr_assert_not_null(manifest);
  char *first = strstr(manifest, "\nfolder ");
  cr_assert_not_null(first);
  char *body = strchr(first + 1, '\n');
  cr_assert_not_null(body);
  ws_str damaged = WS_STR_INIT;
  ws_str_put(&damaged, manifest, (size_t)(body + 1 - manifest));
  ws_str_puts(&damaged, "zz not a record line\n");
  /* A number one past 2^64 - 1 does not fit: not taken either. */
  ws_str_puts(&damaged, "dir 18446744073709551616 1 1 people/zz\n");
  ws_str_puts(&damaged, body + 1);
  th_write(tmp, "public.manifest", damaged.ptr);
  build(repo, out, NULL);
  char *after = th_read(tmp, "public.manifest");
  cr_assert_not_null(after);
  cr_expect_null(strstr(after, "zz not a record line"), "%s", after);
  cr_expect_null(strstr(after, "people/zz"), "%s", after);
  cr_expect(record_section(after, 1), "no record of the staging folder: %s",
            after);
  expect_same_as_clean(repo, out);
  free(after);
  ws_str_release(&damaged);
  free(manifest);
  th_discard(repo);
  th_discard(tmp);
}

/* A team whose history added Bo at 'when', then Chen, then removed Bo:
 * every profile blob, the build date (the last commit's) and the number
 * of events are the same whatever 'when' is; the date of Bo's arrival,
 * which the report's growth by month shows, differs (and so do the ids
 * of the commits after it). */
static char *dated_repo(long when) {
  char *repo = th_repo_new(false), path[4200];
  th_write(repo, "site.yml", "title: Test Team\n");
  th_write(repo, "people/bo-lindqvist.md", bo_v1);
  th_repo_commit_all(repo, "Add Bo", "Ada <ada@example.org>", when);
  th_write(repo, "people/chen-wei.md",
           "---\nname: Chen Wei\nteam: Data\n---\nHi.\n");
  th_repo_commit_all(repo, "Add Chen", "Ada <ada@example.org>", 1719792000);
  snprintf(path, sizeof(path), "%s/people/bo-lindqvist.md", repo);
  cr_assert_eq(unlink(path), 0);
  th_repo_commit_all(repo, "Bo left", "Ada <ada@example.org>", 1719878400);
  return repo;
}

static void build_with_history(const char *repo, const char *out) {
  const char *argv[] = {"build", "-C", repo, "--out", out, "-q", NULL};
  ws_str err = WS_STR_INIT;
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "build failed: %s", err.ptr);
  ws_str_release(&err);
}

/* The report is made only when its inputs changed, and the history is
 * among them: the team's growth by month must follow a history whose
 * first commit moved, though no profile changed. */
Test(incremental, the_report_follows_the_dates_of_the_history) {
  char *jan = dated_repo(1704067200), *jun = dated_repo(1717200000);
  char *tmp = th_tmpdir(), out[4200], clean[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(clean, sizeof(clean), "%s/clean", tmp);
  build_with_history(jan, out);
  build_with_history(jan, out);
  build_with_history(jun, out);
  build_with_history(jun, clean);
  char *diff = th_tree_diff(out, clean);
  cr_expect_null(diff, "differs from a clean build at %s", diff);
  free(diff);
  th_rm_rf(jan);
  th_rm_rf(jun);
  th_rm_rf(tmp);
  free(jan);
  free(jun);
  free(tmp);
}
