/* Browsing: tag slugs and merging, the strength and team pages, initials
 * and avatar hues. */
#include <criterion/criterion.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "helpers.h"
#include "render.h"
#include "site.h"
#include "source.h"

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(browse, .init = setup, .fini = teardown);

/* --- slugs --- */

Test(browse, slugify_folds_case_and_separators) {
  static const struct {
    const char *label, *slug;
  } cases[] = {
      {"Rust", "rust"},
      {"rust", "rust"},
      {"  Public   Speaking ", "public-speaking"},
      {"public_speaking", "public-speaking"},
      {"C++", "cplusplus"},
      {"C#", "csharp"},
      {"Ärger", "ärger"},
      {"ÄRGER", "ärger"},
      {"Ελληνικά", "ελληνικά"},
      {"ДАННЫЕ", "данные"},
      {"日本語", "日本語"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *s = ws_slugify(cases[i].label);
    cr_expect_str_eq(s, cases[i].slug, "slug of '%s'", cases[i].label);
    free(s);
  }
}

/* A slug becomes a folder name: it can never climb out of strengths/,
 * name a hidden file, or carry markup. */
Test(browse, slugify_makes_dangerous_labels_safe) {
  static const char *const labels[] = {
      "../x",   "a/b", "..",   ".",          "<script>", "/etc/passwd",
      "\\..\\", "",    "   ",  "a\"b'c",     "%2e%2e",   "x\xff\xfe",
      "..\xc3", "-",   "a..b", "?q=1&r=2#f", "\t\n",     "~user"};
  for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
    char *s = ws_slugify(labels[i]);
    cr_expect(s[0] != '\0', "'%s' gave an empty slug", labels[i]);
    cr_expect(strcmp(s, ".") != 0 && strcmp(s, "..") != 0, "'%s' gave '%s'",
              labels[i], s);
    cr_expect(strpbrk(s, "/\\<>\"'&?#%. \t\n") == NULL, "'%s' gave unsafe '%s'",
              labels[i], s);
    cr_expect(s[0] != '-' && s[strlen(s) - 1] != '-', "'%s' gave '%s'",
              labels[i], s);
    free(s);
  }
  char *s = ws_slugify("../x");
  cr_expect_str_eq(s, "x");
  free(s);
  s = ws_slugify("a/b");
  cr_expect_str_eq(s, "a-b");
  free(s);
  s = ws_slugify("<script>");
  cr_expect_str_eq(s, "script");
  free(s);
}

/* --- merging, through a real site --- */

static const char *const profiles[][2] = {
    {"people/ann.md", "---\nname: Ann\nteam: Platform\n"
                      "strengths: [Rust, Public Speaking]\n---\nHi.\n"},
    {"people/bob.md", "---\nname: Bob\nteam: platform\n"
                      "strengths: [rust, public speaking]\n---\nHi.\n"},
    {"people/cy.md", "---\nname: Cy\nteam: Platform\n"
                     "strengths: [rust, <script>]\nlearning: [RUST]\n---\n"
                     "Hi.\n"},
    {"people/di.md", "---\nname: Di\nteam: Data\n"
                     "learning: [rust, ../x]\n---\nHi.\n"},
};

static ws_site *load_site(char **dir) {
  *dir = th_repo_new(false);
  for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
    th_write(*dir, profiles[i][0], profiles[i][1]);
  ws_source_opts opts = {*dir, NULL, NULL, true};
  ws_source *src = NULL;
  cr_assert(ws_source_open(&src, &opts) == 0, "open: %s", ws_error_last());
  ws_diag diag = WS_DIAG_INIT;
  ws_site *site = NULL;
  cr_assert(ws_site_load(&site, src, &diag) == 0, "load: %s", ws_error_last());
  cr_assert_eq(ws_diag_count(&diag, WS_DIAG_ERROR), 0);
  ws_diag_release(&diag);
  ws_source_free(src);
  return site;
}

Test(browse, spellings_that_slug_alike_are_one_tag) {
  char *dir;
  ws_site *site = load_site(&dir);
  const ws_tag *rust = ws_site_tag(site->strengths, site->nstrengths, "RuSt");
  cr_assert_not_null(rust);
  cr_expect_str_eq(rust->slug, "rust");
  /* "rust" three times beats "Rust" and "RUST" once each: spellings in
   * learning lists count too, and the most common one is shown. */
  cr_expect_str_eq(rust->label, "rust");
  cr_expect_eq(rust->npeople, 3, "have it: %zu", rust->npeople);
  cr_expect_eq(rust->nlearners, 2, "learning it: %zu", rust->nlearners);
  const ws_tag *ps =
      ws_site_tag(site->strengths, site->nstrengths, "public speaking");
  cr_assert_not_null(ps);
  cr_expect_eq(ps->npeople, 2);
  /* Ties go to the byte-wise smallest spelling, never to file order. */
  cr_expect_str_eq(ps->label, "Public Speaking");
  /* Most people first. */
  cr_expect_str_eq(site->strengths[0].slug, "rust");
  cr_expect_eq(site->nteams, 2);
  const ws_tag *platform = ws_site_tag(site->teams, site->nteams, "PLATFORM");
  cr_assert_not_null(platform);
  cr_expect_str_eq(platform->label, "Platform");
  cr_expect_eq(platform->npeople, 3);
  ws_site_free(site);
  th_rm_rf(dir);
  free(dir);
}

/* The directory lists people by name, case folded as strcasecmp folds it
 * (ASCII letters only), then byte-wise: the load sorts by the first sixteen
 * folded bytes as two numbers first, which must never change that order. */
Test(browse, people_are_sorted_by_name_case_folded) {
  static const char *const names[] = {
      "abcdefgh Zed", "ABCDEFGH amy",  "Abcdefghi",   "abcdefg", "Zoë",
      "zoe",          "Ängel",         "Angel",       "angelo",  "Ångström",
      "Al",           "AL B",          "al-b",        "Émile",   "emile b",
      "Eve",          "李雷",          "Lee",         "a",       "B",
      "abcdefghijklmnop Zed", "ABCDEFGHIJKLMNOP amy", "abcdefghijklmnoP"};
  size_t n = sizeof(names) / sizeof(names[0]);
  char *dir = th_repo_new(false);
  for (size_t i = 0; i < n; i++) {
    char rel[32], text[128];
    snprintf(rel, sizeof(rel), "people/p%02zu.md", i);
    snprintf(text, sizeof(text), "---\nname: %s\n---\nHi.\n", names[i]);
    th_write(dir, rel, text);
  }
  ws_source_opts opts = {dir, NULL, NULL, true};
  ws_source *src = NULL;
  cr_assert(ws_source_open(&src, &opts) == 0, "open: %s", ws_error_last());
  ws_diag diag = WS_DIAG_INIT;
  ws_site *site = NULL;
  cr_assert(ws_site_load(&site, src, &diag) == 0, "load: %s", ws_error_last());
  cr_assert_eq(site->npeople, n);
  for (size_t i = 1; i < n; i++) {
    const char *a = site->people[i - 1]->name, *b = site->people[i]->name;
    int c = strcasecmp(a, b);
    cr_expect(c < 0 || (c == 0 && strcmp(a, b) < 0), "'%s' before '%s'", a,
              b);
  }
  ws_diag_release(&diag);
  ws_site_free(site);
  ws_source_free(src);
  th_rm_rf(dir);
  free(dir);
}

Test(browse, builds_strength_and_team_pages_with_safe_paths) {
  char *dir;
  ws_site *site = load_site(&dir);
  ws_site_free(site);
  th_repo_commit_all(dir, "Add people", "Ada <ada@example.org>", 1700000000);
  char *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  char site_dir[4096];
  snprintf(site_dir, sizeof(site_dir), "%s/site", tmp);
  const char *argv[] = {"build", "-C", dir, "--out", site_dir, "--quiet", NULL};
  cr_assert_eq(th_run(NULL, &out, &err, argv), 0, "build: %s", err.ptr);
  static const char *const pages[] = {"strengths/index.html",
                                      "strengths/rust/index.html",
                                      "strengths/public-speaking/index.html",
                                      "strengths/script/index.html",
                                      "strengths/x/index.html",
                                      "teams/index.html",
                                      "teams/platform/index.html",
                                      "teams/data/index.html"};
  for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
    cr_expect(th_exists(site_dir, pages[i]), "missing %s", pages[i]);
  cr_expect(!th_exists(tmp, "x/index.html"), "a tag escaped its folder");
  char *rust = th_read(site_dir, "strengths/rust/index.html");
  cr_expect(strstr(rust, "people/ann/") && strstr(rust, "people/bob/"),
            "rust page lists who has it");
  cr_expect(strstr(rust, "could learn from"), "rust page hints at mentors");
  char *script = th_read(site_dir, "strengths/script/index.html");
  cr_expect(strstr(script, "<script>") == NULL ||
                strstr(script, "&lt;script&gt;") != NULL,
            "the label is escaped");
  cr_expect(strstr(script,
                   "<h1><span dir=\"auto\">&lt;script&gt;</span></h1>") != NULL,
            "the label is shown, escaped");
  char *sitemap = th_read(site_dir, "sitemap.xml");
  cr_expect(strstr(sitemap, "strengths/rust/</loc>") &&
                strstr(sitemap, "teams/platform/</loc>") &&
                strstr(sitemap, "people/ann/</loc>"),
            "sitemap lists the new pages");
  free(rust);
  free(script);
  free(sitemap);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(dir);
  free(dir);
}

/* --- initials and hues --- */

Test(browse, initials_in_many_scripts) {
  static const struct {
    const char *name, *initials;
  } cases[] = {
      {"Amara Okafor", "AO"},
      {"amara okafor", "AO"},
      {"Marcus Ellison-Hayes", "ME"},
      {"Siobhán Ní Bhriain", "SB"},
      {"émile zola", "ÉZ"},
      {"Fúnmiláyọ̀ Adébáyọ̀", "FA"},
      {"O\xcc\xa3\xcc\x80la Ade", "O\xcc\xa3\xcc\x80"
                                  "A"}, /* combining */
      {"Дмитрий Соколов", "ДС"},
      {"дмитрий соколов", "ДС"},
      {"Ελένη Παπαδοπούλου", "ΕΠ"},
      {"ليلى حداد", "ل\xe2\x80\x8cح"}, /* a non-joiner keeps them apart */
      {"अनन्या कुलकर्णी", "अकु"},
      {"प्रिया शर्मा", "प्रिश"},
      {"अनन्या कुलकर्णी (Ananya Kulkarni)", "अकु"},
      {"山田 花子", "山花"},
      {"陈凯", "陈"},
      {"中村 葵 (Aoi Nakamura)", "中葵"},
      {"한소율", "한"},
      {"김 민준", "김민"},
      {"👩🏽‍💻", "👩🏽‍💻"},
      {"👨‍👩‍👧", "👨‍👩‍👧"},
      {"🇳🇬", "🇳🇬"},
      {"(Nick)", "N"},
      {"", "?"},
      {"  -- ", "?"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *s = ws_render_initials(cases[i].name);
    cr_expect_str_eq(s, cases[i].initials, "initials of '%s': '%s'",
                     cases[i].name, s);
    free(s);
  }
}

Test(browse, initials_survive_broken_utf8) {
  static const char *const names[] = {"\xe0\xa4", "a \xf0\x9f", "\xff\xfe",
                                      "\xcc\x80x"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char *s = ws_render_initials(names[i]);
    cr_expect(s[0] != '\0', "case %zu", i);
    free(s);
  }
}

Test(browse, avatar_hue_is_deterministic) {
  unsigned a = ws_render_hue("amara-okafor");
  cr_expect_eq(a, ws_render_hue("amara-okafor"));
  cr_expect_lt(a, 360);
  /* FNV-1a of the slug, mod 360: fixed across builds and machines. */
  cr_expect_eq(ws_render_hue(""), 2166136261u % 360);
  unsigned seen = 0;
  static const char *const slugs[] = {"a", "b", "c", "d", "e", "f"};
  for (size_t i = 0; i < 6; i++) {
    unsigned h = ws_render_hue(slugs[i]);
    cr_expect_lt(h, 360);
    seen += h != a;
  }
  cr_expect_gt(seen, 0, "every slug got the same hue");
}
