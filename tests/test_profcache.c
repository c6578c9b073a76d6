/* test_profcache.c - the profile cache (profcache, through site): a warm
 * load gives exactly what a cold one gives (every profile field, front
 * matter positions, warnings in order; the built site and `check` output
 * byte for byte), only changed profiles and profiles whose photo changed
 * are parsed again, profiles with errors are never cached, and a cache
 * file that is damaged, of another version or from another program is
 * ignored and rewritten. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "digest.h"
#include "error.h"
#include "helpers.h"
#include "matchcache.h"
#include "profcache.h"
#include "profile.h"
#include "site.h"
#include "source.h"
#include "xalloc.h"

#define ADA "Ada Lovelace <ada@example.org>"
#define T0 1700000000L
#define BG "## Background\n\nGrew up by the sea.\n\n## Work\n\nBuilds.\n"

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(profcache, .init = setup, .fini = teardown);

/* A PNG header of 'w' x 'h' pixels: all the photo check reads. */
static void write_png(const char *repo, const char *rel, unsigned w,
                      unsigned h) {
  unsigned char png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                           0,    0,   0,   13,  'I',  'H',  'D',  'R'};
  for (int i = 0; i < 4; i++) {
    png[16 + i] = (unsigned char)(w >> (24 - 8 * i));
    png[20 + i] = (unsigned char)(h >> (24 - 8 * i));
  }
  th_write_len(repo, rel, (const char *)png, sizeof(png));
}

/* Profiles with warnings of several kinds, a photo, links, nested maps,
 * numbers and booleans: everything a cached profile must give back. */
static char *team_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "content/site.yml", "title: Cache Team\n");
  th_write(repo, "content/people/ada.md",
           "---\nname: Ada Lovelace\npronouns: she/her\nrole: Engineer\n"
           "team: Compilers\nlocation: London\ntimezone: Europe/London\n"
           "joined: 2019-04-01\nphoto: ada.png\n"
           "strengths: [C, \"public speaking\", SQL]\nlearning: [Rust]\n"
           "passion_projects: [Looms]\n"
           "goals:\n  short_term: Ship it\n  long_term: Teach\n"
           "dream_job: Astronomer\n"
           "mentoring:\n  seeking:\n    types: [coach]\n"
           "    topics: [writing]\n    cross_team: true\n"
           "  offering:\n    types: [advisor, sponsor]\n"
           "    topics: [C, compilers]\n    capacity: 3\n"
           "  formats: [group]\n  modes: [virtual]\n"
           "links:\n  - label: Blog\n    url: https://example.org/ada\n"
           "level: 7\n---\n" BG
           "\nMore *text* with [a link](https://x.org).\n");
  write_png(repo, "content/people/ada.png", 640, 480);
  th_write(repo, "content/people/bo.md",
           "---\nname: Bo Lindqvist\nrole: Designer\nteam: Compilers\n"
           "favourite_colour: blue\n---\nNo background here.\n");
  th_write(repo, "content/people/cy.md",
           "---\r\nname: Cy Mensah\r\nstrengths: [SQL]\r\n"
           "pronunciation: \"sy\"\r\n---\r\n## Background\r\n\r\nHi.\r\n");
  th_write(repo, "content/people/dee.md",
           "---\nname: Dee\n---\nJust text, no sections.\n");
  th_repo_commit_all(repo, "Team", ADA, T0);
  return repo;
}

static void commit(const char *repo, const char *message) {
  th_repo_commit_all(repo, message, ADA, T0 + 100);
}

static ws_site *load(const char *repo, bool worktree, ws_diag *diag) {
  ws_source_opts o = {repo, NULL, "content", worktree};
  ws_source *src = NULL;
  ws_site *site = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  cr_assert_eq(ws_site_load(&site, src, diag), 0, "%s", ws_error_last());
  ws_source_free(src);
  return site;
}

static char *cache_dir(const char *repo) {
  ws_str dir = WS_STR_INIT;
  ws_str_printf(&dir, "%s/.git/wholeself", repo);
  return ws_str_detach(&dir);
}

/* The one profile cache file of 'repo', or NULL (caller frees). */
static char *cache_file(const char *repo) {
  return th_cache_file(repo, "profiles-");
}

static void drop_cache(const char *repo) {
  char *dir = cache_dir(repo);
  th_rm_rf(dir);
  free(dir);
}

/* --- comparing what two loads gave --- */

static void expect_same_value(const ws_value *a, const ws_value *b,
                              const char *what) {
  cr_assert((a == NULL) == (b == NULL), "%s: presence", what);
  if (!a)
    return;
  cr_assert_eq(a->type, b->type, "%s: type", what);
  cr_expect_eq(a->line, b->line, "%s: line %u, want %u", what, a->line,
               b->line);
  cr_expect_eq(a->col, b->col, "%s: col", what);
  switch (a->type) {
  case WS_VALUE_BOOL:
    cr_expect_eq(a->u.boolean, b->u.boolean, "%s", what);
    break;
  case WS_VALUE_NUMBER:
    cr_expect(memcmp(&a->u.number, &b->u.number, sizeof(double)) == 0, "%s",
              what);
    break;
  case WS_VALUE_STRING:
    cr_assert_eq(a->u.string.len, b->u.string.len, "%s: length", what);
    cr_expect(memcmp(a->u.string.ptr, b->u.string.ptr, a->u.string.len) == 0,
              "%s: '%s', want '%s'", what, a->u.string.ptr, b->u.string.ptr);
    break;
  case WS_VALUE_LIST:
    cr_assert_eq(a->u.list.len, b->u.list.len, "%s: items", what);
    for (size_t i = 0; i < a->u.list.len; i++)
      expect_same_value(a->u.list.items[i], b->u.list.items[i], what);
    break;
  case WS_VALUE_MAP:
    cr_assert_eq(a->u.map.len, b->u.map.len, "%s: entries", what);
    for (size_t i = 0; i < a->u.map.len; i++) {
      const ws_value_entry *x = &a->u.map.entries[i], *y = &b->u.map.entries[i];
      cr_expect_str_eq(x->key, y->key, "%s: key", what);
      cr_expect_eq(x->line, y->line, "%s: key %s line", what, y->key);
      cr_expect_eq(x->col, y->col, "%s: key %s col", what, y->key);
      /* parsed and decoded entries are found like any others */
      cr_expect_eq(ws_value_entry_get(a, x->key), x, "%s: %s", what, x->key);
      cr_expect_eq(ws_value_entry_get(b, y->key), y, "%s: %s", what, y->key);
      expect_same_value(x->val, y->val, y->key);
    }
    break;
  default:
    break;
  }
}

static void expect_same_text(const char *a, const char *b, const char *what) {
  cr_assert((a == NULL) == (b == NULL), "%s: presence", what);
  if (a)
    cr_expect_str_eq(a, b, "%s", what);
}

static void expect_same_list(const ws_strlist *a, const ws_strlist *b,
                             const char *what) {
  cr_assert_eq(a->len, b->len, "%s: length", what);
  for (size_t i = 0; i < a->len; i++)
    cr_expect_str_eq(a->items[i], b->items[i], "%s", what);
}

static void expect_same_profile(const ws_profile *a, const ws_profile *b) {
  const char *what = b->slug;
  const char *ta[] = {
      a->slug,          a->path,      a->name,      a->pronouns,
      a->pronunciation, a->role,      a->team,      a->location,
      a->timezone,      a->joined,    a->photo,     a->dream_job,
      a->goal_short,    a->goal_long, ws_profile_body(a), a->summary};
  const char *tb[] = {
      b->slug,          b->path,      b->name,      b->pronouns,
      b->pronunciation, b->role,      b->team,      b->location,
      b->timezone,      b->joined,    b->photo,     b->dream_job,
      b->goal_short,    b->goal_long, ws_profile_body(b), b->summary};
  for (size_t i = 0; i < sizeof(ta) / sizeof(ta[0]); i++)
    expect_same_text(ta[i], tb[i], what);
  unsigned na[] = {a->photo_type,  a->photo_w,   a->photo_h,  a->seek_types,
                   a->offer_types, a->formats,   a->modes,    a->capacity,
                   a->cross_team,  a->name_line, a->name_col, a->photo_line,
                   a->photo_col};
  unsigned nb[] = {b->photo_type,  b->photo_w,   b->photo_h,  b->seek_types,
                   b->offer_types, b->formats,   b->modes,    b->capacity,
                   b->cross_team,  b->name_line, b->name_col, b->photo_line,
                   b->photo_col};
  for (size_t i = 0; i < sizeof(na) / sizeof(na[0]); i++)
    cr_expect_eq(na[i], nb[i], "%s: number %zu is %u, want %u", what, i, na[i],
                 nb[i]);
  expect_same_list(&a->strengths, &b->strengths, what);
  expect_same_list(&a->learning, &b->learning, what);
  expect_same_list(&a->passion_projects, &b->passion_projects, what);
  expect_same_list(&a->seek_topics, &b->seek_topics, what);
  expect_same_list(&a->offer_topics, &b->offer_topics, what);
  cr_assert_eq(a->nsections, b->nsections, "%s: sections", what);
  for (size_t i = 0; i < a->nsections; i++)
    cr_expect_str_eq(a->sections[i], b->sections[i], "%s", what);
  expect_same_value(a->links, b->links, what);
  expect_same_value(a->level, b->level, what);
}

static char *diag_text(const ws_diag *d, ws_diag_style style) {
  ws_str s = WS_STR_INIT;
  ws_diag_format(&s, d, style);
  return ws_str_detach(&s);
}

/* Expects 'got' (with 'gd') to equal 'want' (with 'wd'): every person and
 * the diagnostics, unsorted (the order they were found in). */
static void expect_same_load(const ws_site *got, const ws_diag *gd,
                             const ws_site *want, const ws_diag *wd) {
  cr_assert_eq(got->npeople, want->npeople, "people %zu, want %zu",
               got->npeople, want->npeople);
  cr_expect_eq(got->nchecked, want->nchecked);
  for (size_t i = 0; i < want->npeople; i++)
    expect_same_profile(got->people[i], want->people[i]);
  for (ws_diag_style s = WS_DIAG_TEXT; s <= WS_DIAG_JSON; s++) {
    char *a = diag_text(gd, s), *b = diag_text(wd, s);
    cr_expect_str_eq(a, b, "diagnostics differ");
    free(a);
    free(b);
  }
}

/* A load of 'repo' without any cache (the cache it leaves is removed). */
static ws_site *cold(const char *repo, bool worktree, ws_diag *diag) {
  drop_cache(repo);
  ws_site *site = load(repo, worktree, diag);
  drop_cache(repo);
  return site;
}

/* Loads 'repo' through its cache, expects 'hits' profiles from it and the
 * result of a cold load; returns the cache status. */
static const char *expect_warm(const char *repo, bool worktree, size_t hits) {
  ws_diag wd = WS_DIAG_INIT, cd = WS_DIAG_INIT;
  ws_site *warm = load(repo, worktree, &wd);
  const char *status = warm->profile_cache;
  cr_expect_eq(warm->profiles_cached, hits, "%zu from the cache, want %zu",
               warm->profiles_cached, hits);
  char *file = cache_file(repo);
  size_t len = 0;
  char *saved = file ? th_slurp(file, &len) : NULL;
  ws_site *ref = cold(repo, worktree, &cd);
  expect_same_load(warm, &wd, ref, &cd);
  if (file) { /* put the warm load's cache back for the next step */
    char *dir = cache_dir(repo);
    mkdir(dir, 0777);
    th_spill(file, saved, len);
    free(dir);
  }
  free(saved);
  free(file);
  ws_site_free(warm);
  ws_site_free(ref);
  ws_diag_release(&wd);
  ws_diag_release(&cd);
  return status;
}

static bool has_diag(const ws_diag *d, const char *path, const char *code) {
  for (size_t i = 0; i < d->len; i++)
    if (strcmp(d->items[i].file, path) == 0 &&
        strcmp(d->items[i].code, code) == 0)
      return true;
  return false;
}

/* --- in process --- */

Test(profcache, second_load_comes_from_the_cache) {
  char *repo = team_repo();
  ws_diag d1 = WS_DIAG_INIT;
  ws_site *first = load(repo, false, &d1);
  cr_expect_eq(first->profiles_cached, 0);
  cr_expect_str_eq(first->profile_cache, "created");
  cr_expect_null(first->profile_cache_ignored);
  cr_assert_eq(first->npeople, 4);
  cr_expect(d1.len >= 4, "the team has warnings: %zu", d1.len);
  char *file = cache_file(repo);
  cr_assert(file, "the cache file is written");
  ws_diag d2 = WS_DIAG_INIT;
  ws_site *second = load(repo, false, &d2);
  cr_expect_eq(second->profiles_cached, 4);
  cr_expect_str_eq(second->profile_cache, "up to date");
  expect_same_load(second, &d2, first, &d1);
  const ws_profile *ada = second->people[0];
  cr_assert_str_eq(ada->slug, "ada");
  cr_expect_eq(ada->photo_w, 640);
  cr_expect_eq(ada->capacity, 3);
  cr_expect(ada->cross_team);
  cr_expect_str_eq(ada->path, "content/people/ada.md");
  ws_site_free(first);
  ws_site_free(second);
  ws_diag_release(&d1);
  ws_diag_release(&d2);
  free(file);
  th_rm_rf(repo);
  free(repo);
}

/* Each record keeps the digests of what cards and links show, which later
 * builds read instead of hashing every field again: they must be the ones
 * the profile's fields give, and must change with a field a card shows
 * but not with the body. */
Test(profcache, a_record_keeps_the_digests_of_its_card) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  ws_site *site = load(repo, false, &d);
  cr_assert_eq(site->profiles_cached, 4);
  ws_digest first_card = {0, 0};
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_profile *p = site->people[i];
    ws_digest card, link;
    ws_profile_card_digests(p, &card, &link);
    cr_expect(card.hi || card.lo, "%s", p->slug);
    cr_expect(ws_digest_equal(&p->card, &card), "card of %s", p->slug);
    cr_expect(ws_digest_equal(&p->link, &link), "link of %s", p->slug);
    /* The matcher's key of the person too, as the cache file has it. */
    ws_digest match = ws_matchcache_person_key(p);
    cr_expect(match.hi || match.lo, "%s", p->slug);
    cr_expect(ws_digest_equal(&p->match_key, &match), "match key of %s",
              p->slug);
    if (i == 0)
      first_card = card;
  }
  const char *ada = "content/people/ada.md";
  cr_assert_str_eq(site->people[0]->path, ada);
  char *text = th_read(repo, ada);
  ws_site_free(site);
  ws_diag_release(&d);
  ws_str edited = WS_STR_INIT;
  ws_str_printf(&edited, "%s\nA new paragraph.\n", text);
  th_write(repo, ada, edited.ptr);
  commit(repo, "A new paragraph");
  site = load(repo, false, &d);
  cr_expect(ws_digest_equal(&site->people[0]->card, &first_card),
            "a body edit changed the card");
  ws_site_free(site);
  ws_diag_release(&d);
  ws_str_clear(&edited);
  char *role = strstr(text, "role: ");
  cr_assert(role, "Ada has a role");
  ws_str_put(&edited, text, (size_t)(role - text));
  ws_str_puts(&edited, "role: Another ");
  ws_str_puts(&edited, role + 6);
  th_write(repo, ada, edited.ptr);
  commit(repo, "A new role");
  site = load(repo, false, &d);
  cr_expect(!ws_digest_equal(&site->people[0]->card, &first_card),
            "a new role kept the card");
  ws_site_free(site);
  ws_diag_release(&d);
  ws_str_release(&edited);
  free(text);
  th_rm_rf(repo);
  free(repo);
}

Test(profcache, an_edit_parses_only_that_profile) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  th_write(repo, "content/people/bo.md",
           "---\nname: Bo Lindqvist\nrole: Lead Designer\n"
           "strengths: [typography]\n---\n## Background\n\nNew.\n");
  commit(repo, "Edit Bo");
  cr_expect_str_eq(expect_warm(repo, false, 3), "updated");
  /* A new profile and a deleted one. */
  th_write(repo, "content/people/eve.md", "---\nname: Eve\n---\n" BG);
  char *dee = NULL;
  ws_str p = WS_STR_INIT;
  ws_str_printf(&p, "%s/content/people/dee.md", repo);
  dee = ws_str_detach(&p);
  th_rm_rf(dee);
  commit(repo, "Eve joins, Dee leaves");
  cr_expect_str_eq(expect_warm(repo, false, 3), "updated");
  cr_expect_str_eq(expect_warm(repo, false, 4), "up to date");
  free(dee);
  th_rm_rf(repo);
  free(repo);
}

Test(profcache, a_changed_photo_parses_its_profile_again) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  /* Same name, new size: the cached width would be wrong. */
  write_png(repo, "content/people/ada.png", 800, 600);
  commit(repo, "New photo");
  cr_expect_str_eq(expect_warm(repo, false, 3), "updated");
  ws_site *site = load(repo, false, &d);
  cr_expect_eq(site->people[0]->photo_w, 800);
  ws_site_free(site);
  ws_diag_release(&d);
  /* Removed: an error, on every load. */
  ws_str p = WS_STR_INIT;
  ws_str_printf(&p, "%s/content/people/ada.png", repo);
  th_rm_rf(p.ptr);
  commit(repo, "No photo");
  for (int i = 0; i < 2; i++) {
    site = load(repo, false, &d);
    cr_expect(has_diag(&d, "content/people/ada.md", "photo-missing"),
              "load %d reports the missing photo", i);
    cr_expect_eq(site->profiles_cached, 3, "load %d", i);
    cr_expect_eq(site->npeople, 3);
    ws_site_free(site);
    ws_diag_release(&d);
  }
  /* Added back: found again. A photo nobody names changes nothing. */
  write_png(repo, "content/people/ada.png", 320, 200);
  write_png(repo, "content/people/unused.png", 1, 1);
  commit(repo, "Photo back");
  cr_expect_str_eq(expect_warm(repo, false, 3), "updated");
  write_png(repo, "content/people/unused.png", 2, 2);
  commit(repo, "Other photo");
  cr_expect_str_eq(expect_warm(repo, false, 4), "up to date");
  site = load(repo, false, &d);
  cr_expect_eq(site->people[0]->photo_w, 320);
  ws_site_free(site);
  ws_diag_release(&d);
  ws_str_release(&p);
  th_rm_rf(repo);
  free(repo);
}

/* A duplicate name is found across profiles on every load, so it points at
 * a cached profile's name by the position kept in the cache. */
Test(profcache, a_duplicate_points_at_a_cached_name) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  th_write(repo, "content/people/al.md",
           "---\nrole: Twin\nname: Bo Lindqvist\n---\n" BG);
  commit(repo, "A second Bo");
  for (int i = 0; i < 2; i++) {
    ws_site *site = load(repo, false, &d);
    cr_expect_eq(site->profiles_cached, i ? 5u : 4u, "load %d", i);
    bool found = false;
    for (size_t k = 0; k < d.len; k++) {
      const ws_diag_item *it = &d.items[k];
      if (strcmp(it->code, "duplicate-name") != 0)
        continue;
      found = true;
      bool bo = strcmp(it->file, "content/people/bo.md") == 0;
      cr_expect_eq(it->line, bo ? 2u : 3u, "load %d: %s", i, it->file);
      cr_expect_eq(it->col, 7u, "load %d: %s", i, it->file);
    }
    cr_expect(found, "load %d: no duplicate reported", i);
    ws_site_free(site);
    ws_diag_release(&d);
  }
  th_rm_rf(repo);
  free(repo);
}

Test(profcache, errors_are_reported_on_every_load) {
  char *repo = team_repo();
  th_write(repo, "content/people/zed.md",
           "---\nname: Zed\ntimezone: Mars/Olympus\n---\n" BG);
  th_write(repo, "content/people/yan.md", "---\nname: Ada Lovelace\n---\n" BG);
  commit(repo, "Problems");
  for (int i = 0; i < 3; i++) {
    ws_diag d = WS_DIAG_INIT;
    ws_site *site = load(repo, false, &d);
    cr_expect(has_diag(&d, "content/people/zed.md", "timezone"),
              "load %d: the error is reported", i);
    cr_expect(has_diag(&d, "content/people/yan.md", "duplicate-name"),
              "load %d: the duplicate is reported", i);
    cr_expect_eq(site->npeople, 5, "load %d: zed is left out", i);
    cr_expect_eq(site->profiles_cached, i ? 5 : 0, "load %d: %zu cached", i,
                 site->profiles_cached);
    ws_site_free(site);
    ws_diag_release(&d);
  }
  th_rm_rf(repo);
  free(repo);
}

Test(profcache, work_tree_edits_are_seen) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, true, &d));
  ws_diag_release(&d);
  cr_expect_str_eq(expect_warm(repo, true, 4), "up to date");
  th_write(repo, "content/people/cy.md",
           "---\nname: Cy Mensah\nstrengths: [SQL, Go]\n---\n" BG);
  cr_expect_str_eq(expect_warm(repo, true, 3), "updated");
  write_png(repo, "content/people/ada.png", 10, 10);
  cr_expect_str_eq(expect_warm(repo, true, 3), "updated");
  th_rm_rf(repo);
  free(repo);
}

/* One way to damage the cache file, and what the load must say. */
typedef struct {
  const char *name;
  void (*damage)(ws_str *file);
  const char *ignored; /* NULL: the file is used, one record is not */
} damage_case;

static void cut_records(ws_str *f) {
  ws_str_truncate(f, f->len - 7);
}

static void cut_index(ws_str *f) {
  ws_str_truncate(f, 40);
}

/* Where the header's fields start: after the 24-byte magic, the u64
 * version, the 16-byte program digest and the key "content" (u32 length,
 * 7 bytes, NUL), where the first record starts. The trailer is the index's
 * offset, a digest and 8 bytes of magic. */
#define AT_VERSION 24
#define AT_CONTENT (AT_VERSION + 8 + 16)
#define HEADER (AT_CONTENT + 4 + 7 + 1)
#define TRAILER (8 + 16 + 8)

static uint64_t get_le(const char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)(unsigned char)p[i] << (8 * i);
  return v;
}

static void put_le(char *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (char)(unsigned char)(v >> (8 * i));
}

static void put_digest(char *at, ws_digest sum) {
  put_le(at, sum.hi, 8);
  put_le(at + 8, sum.lo, 8);
}

static void put_sum(char *at, const char *data, size_t len) {
  put_digest(at, ws_digest_bytes(data, len));
}

/* Where the index starts, from the trailer. */
static size_t index_at(const ws_str *f) {
  return (size_t)get_le(f->ptr + f->len - TRAILER, 8);
}

/* Makes the trailer's digest match the header and the index again. */
static void resum(ws_str *f) {
  size_t at = index_at(f), len = f->len - TRAILER - at;
  ws_digester *d = ws_digester_new();
  ws_digester_bytes(d, f->ptr, HEADER);
  ws_digester_bytes(d, f->ptr + at, len);
  put_digest(f->ptr + f->len - TRAILER + 8, ws_digester_end(d));
  ws_digester_free(d);
}

/* The first index entry's offset field (after its four keys). */
static size_t first_entry_place(const ws_str *f) {
  size_t at = index_at(f) + 8;
  cr_assert_eq(get_le(f->ptr + index_at(f), 8), 4);
  for (int k = 0; k < 4; k++)
    at += 4 + get_le(f->ptr + at, 4) + 1;
  return at;
}

static void flip_header(ws_str *f) {
  cr_assert_eq(memcmp(f->ptr + AT_CONTENT + 4, "content", 8), 0);
  f->ptr[AT_CONTENT + 4] ^= 0x20;
}

static void bump_version(ws_str *f) {
  f->ptr[AT_VERSION] = 99;
}

static void garbage(ws_str *f) {
  ws_str_clear(f);
  for (unsigned i = 0; i < 5000; i++)
    ws_str_putc(f, (char)(i * 2654435761u >> 24));
}

static void emptied(ws_str *f) {
  ws_str_clear(f);
}

static void magic_only(ws_str *f) {
  ws_str_truncate(f, 24);
}

/* What a save that was cut short leaves: bytes after the last trailer. */
static void torn_segment(ws_str *f) {
  ws_str_puts(f, "more");
}

/* Where a record's count of list slots starts (after the body's length),
 * and its first text (its length, then its bytes), after that count. */
#define SLOTS 4
#define FIRST_TEXT (SLOTS + 4)

/* A byte of the first text of the first record, whose digest no longer
 * matches. */
static void flip_record(ws_str *f) {
  size_t off = (size_t)get_le(f->ptr + first_entry_place(f), 8);
  f->ptr[off + FIRST_TEXT + 4] ^= 1;
}

/* A record that is not one, under digests that match: the first text of
 * the first profile claims more bytes than there are. */
/* Changes the first profile's record with 'edit' and makes its digest,
 * and the index's, match again. */
/* The length of a record's head, which the index's digest covers: all but
 * the body and its NUL, whose length the record starts with. */
static size_t head_of(const char *record, size_t len) {
  return len - 1 - (size_t)get_le(record, 4);
}

static void forge_first_record(ws_str *f, void (*edit)(char *record)) {
  size_t at = first_entry_place(f);
  size_t off = (size_t)get_le(f->ptr + at, 8),
         len = (size_t)get_le(f->ptr + at + 8, 8);
  size_t head = head_of(f->ptr + off, len);
  edit(f->ptr + off);
  put_sum(f->ptr + at + 16, f->ptr + off, head);
  resum(f);
}

/* Changes the first letter of 'word' in the body of the first record
 * (Ada's) of the cache file 'file' to lower case; the index's digests
 * still match. */
static void damage_first_body(const char *file, const char *word) {
  cr_assert(file, "a profile cache was written");
  size_t n = 0;
  char *bytes = th_slurp(file, &n);
  ws_str f = {bytes, n, n + 1};
  size_t at = first_entry_place(&f);
  size_t off = (size_t)get_le(f.ptr + at, 8),
         len = (size_t)get_le(f.ptr + at + 8, 8);
  char *w = strstr(f.ptr + off + head_of(f.ptr + off, len), word);
  cr_assert(w, "'%s' in the first body", word);
  *w ^= 0x20;
  th_spill(file, f.ptr, f.len);
  free(bytes);
}

static void text_too_long(char *record) {
  memset(record + FIRST_TEXT, 0xee, 4);
}

static void malformed_record(ws_str *f) {
  forge_first_record(f, text_too_long);
}

static void nul_at_the_start(char *record) {
  cr_assert_geq(get_le(record + FIRST_TEXT, 4), 2,
                "a text of two bytes or more");
  record[FIRST_TEXT + 4] = '\0';
}

/* A NUL inside the first text of the first profile, under digests that
 * match: texts are used in place as C strings, so it would cut one short. */
static void nul_in_text(ws_str *f) {
  forge_first_record(f, nul_at_the_start);
}

static void one_slot(char *record) {
  put_le(record + SLOTS, 1, 4);
}

/* A record that says its lists need fewer slots than they have, under
 * digests that match: they must not be written past its block. */
static void few_slots(ws_str *f) {
  forge_first_record(f, one_slot);
}

static void huge_count(ws_str *f) {
  memset(f->ptr + index_at(f), 0xff, 8);
  resum(f);
}

/* A record said to lie inside the index. */
static void record_out_of_place(ws_str *f) {
  put_le(f->ptr + first_entry_place(f), index_at(f) + 1, 8);
  resum(f);
}

/* An index that says it starts inside the header. */
static void index_in_header(ws_str *f) {
  put_le(f->ptr + f->len - TRAILER, 3, 8);
}

Test(profcache, damaged_caches_are_ignored) {
  static const damage_case cases[] = {
      {"truncated trailer", cut_records, "truncated"},
      {"truncated index", cut_index, "truncated"},
      {"flipped header", flip_header, "corrupt (checksum)"},
      {"flipped record", flip_record, NULL},
      {"another version", bump_version, "another format version"},
      {"garbage", garbage, "not a profile cache"},
      {"empty", emptied, "not a profile cache"},
      {"magic only", magic_only, "truncated"},
      {"torn segment", torn_segment, "truncated"},
      {"huge count", huge_count, "corrupt"},
      {"malformed record", malformed_record, NULL},
      {"a NUL inside a text", nul_in_text, NULL},
      {"too few list slots", few_slots, NULL},
      {"record out of place", record_out_of_place,
       "corrupt (a record out of place)"},
      {"index in the header", index_in_header, "corrupt"},
  };
  char *repo = team_repo();
  ws_diag ref_d = WS_DIAG_INIT;
  ws_site *ref = cold(repo, false, &ref_d);
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  char *file = cache_file(repo);
  cr_assert(file);
  size_t len = 0;
  char *good = th_slurp(file, &len);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const damage_case *c = &cases[i];
    ws_str bytes = WS_STR_INIT;
    ws_str_put(&bytes, good, len);
    c->damage(&bytes);
    th_spill(file, bytes.ptr, bytes.len);
    ws_site *site = load(repo, false, &d);
    expect_same_load(site, &d, ref, &ref_d);
    if (c->ignored) {
      cr_expect_eq(site->profiles_cached, 0, "%s", c->name);
      cr_expect_str_eq(site->profile_cache, "rebuilt", "%s", c->name);
      cr_expect_str_eq(site->profile_cache_ignored, c->ignored, "%s: %s",
                       c->name, site->profile_cache_ignored);
    } else {
      cr_expect_eq(site->profiles_cached, 3, "%s", c->name);
      cr_expect_str_eq(site->profile_cache, "updated", "%s", c->name);
    }
    ws_site_free(site);
    ws_diag_release(&d);
    site = load(repo, false, &d);
    cr_expect_eq(site->profiles_cached, 4, "%s: rewritten", c->name);
    ws_site_free(site);
    ws_diag_release(&d);
    ws_str_release(&bytes);
  }
  free(good);
  free(file);
  ws_site_free(ref);
  ws_diag_release(&ref_d);
  th_rm_rf(repo);
  free(repo);
}

/* After a one-profile edit the save appends one record and an index: every
 * byte already in the file stays as it was, and the next load takes all
 * four profiles from it. */
Test(profcache, an_edit_appends_to_the_file) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  char *file = cache_file(repo);
  cr_assert(file);
  size_t before_len = 0, after_len = 0;
  char *before = th_slurp(file, &before_len);
  struct stat st_before, st_after;
  cr_assert_eq(stat(file, &st_before), 0);
  th_write(repo, "content/people/bo.md",
           "---\nname: Bo Lindqvist\nrole: Lead Designer\n---\n" BG);
  commit(repo, "Edit Bo");
  ws_site *site = load(repo, false, &d);
  cr_expect_eq(site->profiles_cached, 3);
  cr_expect_str_eq(site->profile_cache, "updated");
  ws_site_free(site);
  ws_diag_release(&d);
  char *after = th_slurp(file, &after_len);
  cr_assert_eq(stat(file, &st_after), 0);
  cr_expect_eq(st_after.st_ino, st_before.st_ino, "the file was replaced");
  cr_assert_gt(after_len, before_len);
  cr_expect_lt(after_len - before_len, before_len, "more than a segment");
  cr_expect(memcmp(after, before, before_len) == 0, "a written byte changed");
  cr_expect_str_eq(expect_warm(repo, false, 4), "up to date");
  free(before);
  free(after);
  free(file);
  th_rm_rf(repo);
  free(repo);
}

/* Edit after edit, the records no index lists pile up; once they would be
 * half of the file, the save writes a new file with only the listed ones. */
Test(profcache, a_file_mostly_unlisted_is_written_anew) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  char *file = cache_file(repo);
  struct stat st;
  cr_assert_eq(stat(file, &st), 0);
  ino_t first = st.st_ino;
  off_t fresh = st.st_size, largest = 0;
  bool replaced = false;
  ws_str text = WS_STR_INIT;
  for (int i = 0; i < 12; i++) {
    ws_str_clear(&text);
    ws_str_printf(&text, "---\nname: Bo Lindqvist\nrole: Designer %d\n---\n" BG,
                  i);
    th_write(repo, "content/people/bo.md", text.ptr);
    commit(repo, "Edit Bo");
    ws_site *site = load(repo, false, &d);
    cr_expect_eq(site->profiles_cached, 3);
    ws_site_free(site);
    ws_diag_release(&d);
    cr_assert_eq(stat(file, &st), 0);
    replaced |= st.st_ino != first;
    largest = st.st_size > largest ? st.st_size : largest;
  }
  cr_expect(replaced, "the file only grew: %lld bytes", (long long)st.st_size);
  cr_expect_lt(largest, 3 * fresh, "%lld bytes for %lld listed",
               (long long)largest, (long long)fresh);
  cr_expect_str_eq(expect_warm(repo, false, 4), "up to date");
  ws_str_release(&text);
  free(file);
  th_rm_rf(repo);
  free(repo);
}

static bool listed(const char *rel, void *payload) {
  return ws_source_list_find(payload, rel) != NULL;
}

/* A load that saves after another build appended to the file it read
 * cannot append (its index would lose the other's records and offsets
 * might not hold): it writes a new file, which the next load uses whole. */
Test(profcache, a_save_after_another_one_writes_a_new_file) {
  char *repo = team_repo();
  ws_diag d = WS_DIAG_INIT;
  ws_site_free(load(repo, false, &d));
  th_write(repo, "content/people/bo.md",
           "---\nname: Bo Lindqvist\nrole: Lead Designer\n---\n" BG);
  commit(repo, "Edit Bo");
  ws_source_opts o = {repo, NULL, "content", false};
  ws_source *src = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  ws_source_list files;
  cr_assert_eq(ws_source_list_all(&files, src), 0);
  const ws_source_entry *md[8];
  size_t n = 0;
  for (size_t i = 0; i < files.len && n < 8; i++)
    if (strstr(files.items[i].path, ".md"))
      md[n++] = &files.items[i];
  cr_assert_eq(n, 4);
  ws_profcache *pc = ws_profcache_open(src, &files, n);
  ws_profile *p[8] = {NULL};
  ws_diag diags[8];
  size_t hits = 0;
  for (size_t i = 0; i < n; i++) {
    diags[i] = (ws_diag)WS_DIAG_INIT;
    ws_str path = WS_STR_INIT, slug = WS_STR_INIT, text = WS_STR_INIT;
    ws_str_printf(&path, "content/%s", md[i]->path);
    ws_str_put(&slug, md[i]->path + 7, strlen(md[i]->path) - 10);
    if (ws_profcache_get(pc, i, md[i], path.ptr, slug.ptr, &p[i], &diags[i])) {
      hits++;
    } else {
      cr_assert_eq(ws_source_read(&text, src, md[i]->path), 0);
      cr_assert_eq(ws_profile_load(&p[i], path.ptr, slug.ptr, text.ptr,
                                   text.len, listed, &files, &diags[i]),
                   0);
      ws_profcache_put(pc, i, md[i], p[i], &diags[i]);
    }
    ws_str_release(&path);
    ws_str_release(&slug);
    ws_str_release(&text);
  }
  cr_expect_eq(hits, 3);
  /* Meanwhile another build saves Bo's new record. */
  ws_site_free(load(repo, false, &d));
  char *file = cache_file(repo);
  struct stat st_before, st_after;
  cr_assert_eq(stat(file, &st_before), 0);
  ws_profcache_stats stats;
  ws_profcache_save(pc, &stats);
  cr_expect_str_eq(stats.status, "updated");
  cr_assert_eq(stat(file, &st_after), 0);
  cr_expect_neq(st_after.st_ino, st_before.st_ino, "appended after another");
  cr_expect_str_eq(expect_warm(repo, false, 4), "up to date");
  ws_profcache_free(pc);
  for (size_t i = 0; i < n; i++) {
    ws_profile_free(p[i]);
    ws_diag_release(&diags[i]);
  }
  ws_source_list_release(&files);
  ws_source_free(src);
  ws_diag_release(&d);
  free(file);
  th_rm_rf(repo);
  free(repo);
}

Test(profcache, an_unwritable_cache_is_not_an_error) {
  char *repo = team_repo();
  char *dir = cache_dir(repo);
  th_write(repo, ".git/wholeself", "a file where the folder should be\n");
  for (int i = 0; i < 2; i++) {
    ws_diag d = WS_DIAG_INIT;
    ws_site *site = load(repo, false, &d);
    cr_expect_eq(site->npeople, 4);
    cr_expect_eq(site->profiles_cached, 0);
    cr_expect_str_eq(site->profile_cache, "not saved (cannot write it)");
    ws_site_free(site);
    ws_diag_release(&d);
  }
  free(dir);
  th_rm_rf(repo);
  free(repo);
}

/* A body is checked when a page needs it, not when its record is read:
 * the load takes a record whose body was damaged, the body is refused, and
 * the file gives it again. */
Test(profcache, a_damaged_body_is_refused_and_read_again) {
  char *repo = team_repo();
  ws_diag ref_d = WS_DIAG_INIT, d = WS_DIAG_INIT;
  ws_site *ref = cold(repo, false, &ref_d);
  ws_site_free(load(repo, false, &d));
  ws_diag_release(&d);
  char *file = cache_file(repo);
  damage_first_body(file, "Grew");
  ws_source_opts o = {repo, NULL, "content", false};
  ws_source *src = NULL;
  ws_site *site = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  cr_assert_eq(ws_site_load(&site, src, &d), 0, "%s", ws_error_last());
  cr_expect_eq(site->profiles_cached, 4, "every head is whole");
  const ws_profile *ada = site->people[ws_site_find(site, "ada")];
  cr_assert(ada->cached_body, "the body is left in the cache file");
  cr_expect_null(ws_profile_body(ada), "the damaged body is refused");
  char *again = ws_site_body_again(src, ada);
  const ws_profile *want = ref->people[ws_site_find(ref, "ada")];
  cr_assert(again);
  cr_expect_str_eq(again, want->body_html);
  for (size_t i = 0; i < site->npeople; i++)
    if (site->people[i] != ada)
      expect_same_text(ws_profile_body(site->people[i]),
                       ref->people[i]->body_html, site->people[i]->slug);
  free(again);
  ws_site_free(site);
  ws_source_free(src);
  ws_diag_release(&d);
  ws_site_free(ref);
  ws_diag_release(&ref_d);
  free(file);
  th_rm_rf(repo);
  free(repo);
}

/* --- the binary --- */

/* Runs the binary with 'args' (NULL-terminated, -C and --content added)
 * and returns its stdout; stderr's diagnostic lines go to '*diags'. */
static char *run(const char *repo, const char *const *args, char **diags,
                 int want) {
  const char *argv[16];
  size_t n = 0;
  argv[n++] = args[0];
  argv[n++] = "-C";
  argv[n++] = repo;
  argv[n++] = "--content";
  argv[n++] = "content";
  for (size_t i = 1; args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  ws_str out = WS_STR_INIT, err = WS_STR_INIT, lines = WS_STR_INIT;
  cr_assert_eq(th_run(NULL, &out, &err, argv), want, "%s: %s", args[0],
               err.ptr);
  for (char *line = strtok(err.ptr, "\n"); line; line = strtok(NULL, "\n"))
    if (strstr(line, ": warning: ") || strstr(line, ": error: "))
      ws_str_printf(&lines, "%s\n", line);
  *diags = ws_str_detach(&lines);
  ws_str_release(&err);
  return ws_str_detach(&out);
}

/* A site built from a cache whose copy of a body was damaged shows the
 * body as the file has it. */
Test(profcache, a_build_reads_a_damaged_body_from_its_file) {
  char *repo = team_repo(), *tmp = th_tmpdir();
  ws_str cold_out = WS_STR_INIT, warm_out = WS_STR_INIT;
  ws_str_printf(&cold_out, "%s/cold", tmp);
  ws_str_printf(&warm_out, "%s/warm", tmp);
  const char *cold_build[] = {"build", "--out", cold_out.ptr, NULL};
  const char *warm_build[] = {"build", "--out", warm_out.ptr, NULL};
  char *cold_diags, *warm_diags;
  free(run(repo, cold_build, &cold_diags, 0));
  char *file = cache_file(repo);
  damage_first_body(file, "Grew");
  free(run(repo, warm_build, &warm_diags, 0));
  char *diff = th_tree_diff(cold_out.ptr, warm_out.ptr);
  cr_expect_null(diff, "the sites differ at %s", diff);
  cr_expect_str_eq(warm_diags, cold_diags);
  ws_str page = WS_STR_INIT;
  ws_str_printf(&page, "%s/people/ada/index.html", warm_out.ptr);
  size_t len = 0;
  char *html = th_slurp(page.ptr, &len);
  cr_expect(strstr(html, "Grew up by the sea"), "%s", html);
  free(html);
  ws_str_release(&page);
  free(diff);
  free(cold_diags);
  free(warm_diags);
  free(file);
  ws_str_release(&cold_out);
  ws_str_release(&warm_out);
  th_rm_rf(tmp);
  th_rm_rf(repo);
  free(tmp);
  free(repo);
}

static void file_id(const char *path, struct stat *st) {
  cr_assert(path, "the binary wrote a profile cache");
  cr_assert_eq(stat(path, st), 0, "%s", path);
}

Test(profcache, warm_build_and_check_match_cold_ones) {
  char *repo = team_repo(), *tmp = th_tmpdir();
  ws_str cold_out = WS_STR_INIT, warm_out = WS_STR_INIT;
  ws_str_printf(&cold_out, "%s/cold", tmp);
  ws_str_printf(&warm_out, "%s/warm", tmp);
  const char *cold_build[] = {"build", "--out", cold_out.ptr, NULL};
  const char *warm_build[] = {"build", "--out", warm_out.ptr, NULL};
  const char *check[] = {"check", "--format", "json", NULL};
  char *cold_diags, *warm_diags, *check_diags;
  free(run(repo, cold_build, &cold_diags, 0));
  char *file = cache_file(repo);
  struct stat before, after;
  file_id(file, &before);
  free(run(repo, warm_build, &warm_diags, 0));
  char *warm_check = run(repo, check, &check_diags, 0);
  file_id(file, &after);
  /* Not rewritten: every profile came from it. */
  cr_expect_eq(before.st_ino, after.st_ino, "the cache was rewritten");
  char *diff = th_tree_diff(cold_out.ptr, warm_out.ptr);
  cr_expect_null(diff, "warm and cold sites differ at %s", diff);
  cr_expect_str_eq(warm_diags, cold_diags);
  cr_expect(strstr(cold_diags, "content/people/bo.md:5:1: warning: unknown "
                               "key 'favourite_colour'"),
            "%s", cold_diags);
  free(check_diags);
  drop_cache(repo);
  char *cold_check = run(repo, check, &check_diags, 0);
  cr_expect_str_eq(warm_check, cold_check);
  cr_expect(strstr(cold_check, "\"code\":\"unknown-key\""), "%s", cold_check);
  /* The binary's cache is not the test's: another program, ignored. */
  ws_diag d = WS_DIAG_INIT;
  ws_site *site = load(repo, false, &d);
  cr_expect_eq(site->profiles_cached, 0);
  cr_expect_str_eq(site->profile_cache_ignored,
                   "written by another build of wholeself");
  ws_site_free(site);
  ws_diag_release(&d);
  free(diff);
  free(cold_check);
  free(warm_check);
  free(check_diags);
  free(cold_diags);
  free(warm_diags);
  free(file);
  ws_str_release(&cold_out);
  ws_str_release(&warm_out);
  th_rm_rf(tmp);
  th_rm_rf(repo);
  free(tmp);
  free(repo);
}
