/* test_matchcache.c - the mentoring cache (matchcache, through site and
 * build): what it gives back equals a fresh ws_match_new field by field;
 * its key changes with every field the matcher reads and with nothing
 * else; a second build takes the matches from it and publishes the same
 * site; a body edit keeps it and a mentoring edit recomputes; a file that
 * is damaged, truncated, garbage or of another version is ignored,
 * rewritten, and never crashes the reader. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "digest.h"
#include "error.h"
#include "helpers.h"
#include "match.h"
#include "matchcache.h"
#include "profile.h"
#include "source.h"
#include "str.h"
#include "xalloc.h"

#define ADA "Ada Lovelace <ada@example.org>"
#define T0 1700000000L
#define MAGIC "wholeself match cache\n"

static void setup(void) {
  git_libgit2_init();
}

static void teardown(void) {
  git_libgit2_shutdown();
}

TestSuite(matchcache, .init = setup, .fini = teardown);

/* --- teams --- */

typedef struct {
  ws_profile **p;
  size_t n;
} team;

static ws_profile *load_profile(const char *slug, const char *text) {
  ws_str path = WS_STR_INIT;
  ws_diag diag = WS_DIAG_INIT;
  ws_profile *p = NULL;
  ws_str_printf(&path, "people/%s.md", slug);
  int rc = ws_profile_load(&p, path.ptr, slug, text, strlen(text), NULL, NULL,
                           &diag);
  cr_assert_eq(rc, 0, "%s: %s", slug,
               diag.len ? diag.items[0].message : "no message");
  ws_diag_release(&diag);
  ws_str_release(&path);
  return p;
}

static team load_team(char *const *slugs, char *const *texts, size_t n) {
  team t = {ws_xcalloc(n ? n : 1, sizeof(ws_profile *)), n};
  for (size_t i = 0; i < n; i++)
    t.p[i] = load_profile(slugs[i], texts[i]);
  return t;
}

static void team_free(team *t) {
  for (size_t i = 0; i < t->n; i++)
    ws_profile_free(t->p[i]);
  free(t->p);
}

static unsigned long next(unsigned long *s) {
  *s = *s * 6364136223846793005ul + 1442695040888963407ul;
  return *s >> 33;
}

#define PICK(a, s) ((a)[next(s) % (sizeof(a) / sizeof((a)[0]))])

/* A generated team with every rule in play: types few offer (unmet
 * needs), group learners and offerers of the same topics (circles),
 * mentors who joined later or hold a lower level (reverse pairs), known
 * and unknown time zones, cross-team seekers. Profiles are p00.md ... */
typedef struct {
  char **slugs, **texts;
  size_t n;
} gen_team;

static gen_team generate(size_t n, unsigned long seed) {
  static const char *const seek[] = {"coach",    "sponsor",  "advisor",
                                     "advocate", "affirmer", "challenger",
                                     "connector"};
  static const char *const offer[] = {"coach", "sponsor", "advisor",
                                      "challenger"};
  static const char *const topics[] = {"Rust",   "rust",    "Go", "SQL",
                                       "design", "writing", "ML"};
  static const char *const teams[] = {"Data", "Platform", "Design"};
  static const char *const places[] = {"Lagos", "Oslo", "Pune"};
  static const char *const zones[] = {"Europe/Oslo", "Africa/Lagos",
                                      "Asia/Kolkata", "America/New_York",
                                      "Indian/Maldives"};
  static const char *const formats[] = {"[one-on-one]", "[group]",
                                        "[one-on-one, group]"};
  static const char *const modes[] = {"[virtual]", "[in-person]",
                                      "[virtual, in-person]"};
  gen_team g = {ws_xcalloc(n, sizeof(char *)), ws_xcalloc(n, sizeof(char *)),
                n};
  for (size_t i = 0; i < n; i++) {
    ws_str s = WS_STR_INIT, slug = WS_STR_INIT;
    ws_str_printf(&slug, "p%02zu", i);
    ws_str_printf(&s,
                  "---\nname: Person %02zu\nteam: %s\nlocation: %s\n"
                  "timezone: %s\njoined: 20%02lu-0%lu-1%lu\n",
                  i, PICK(teams, &seed), PICK(places, &seed),
                  PICK(zones, &seed), next(&seed) % 20, next(&seed) % 9 + 1,
                  next(&seed) % 9);
    if (next(&seed) % 3)
      ws_str_printf(&s, "level: %lu\n", next(&seed) % 8);
    ws_str_printf(&s, "strengths: [%s, %s]\nlearning: [%s]\nmentoring:\n",
                  PICK(topics, &seed), PICK(topics, &seed),
                  PICK(topics, &seed));
    if (next(&seed) % 4)
      ws_str_printf(&s,
                    "  seeking:\n    types: [%s, %s]\n    topics: [%s]\n"
                    "    cross_team: %s\n",
                    PICK(seek, &seed), PICK(seek, &seed), PICK(topics, &seed),
                    next(&seed) % 4 ? "false" : "true");
    if (next(&seed) % 2)
      ws_str_printf(&s,
                    "  offering:\n    types: [%s]\n    topics: [%s]\n"
                    "    capacity: %lu\n",
                    PICK(offer, &seed), PICK(topics, &seed), next(&seed) % 3);
    ws_str_printf(&s, "  formats: %s\n  modes: %s\n---\n", PICK(formats, &seed),
                  PICK(modes, &seed));
    ws_str_printf(&s, "## Background\n\nPerson number %zu.\n", i);
    g.slugs[i] = ws_str_detach(&slug);
    g.texts[i] = ws_str_detach(&s);
  }
  return g;
}

static void gen_free(gen_team *g) {
  for (size_t i = 0; i < g->n; i++) {
    free(g->slugs[i]);
    free(g->texts[i]);
  }
  free(g->slugs);
  free(g->texts);
}

/* --- comparing matches --- */

static size_t count_reverse(const ws_match *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->npairs; i++)
    n += m->pairs[i].reverse;
  return n;
}

static void expect_same_match(const ws_match *a, const ws_match *b) {
  cr_assert_eq(a->npeople, b->npeople);
  cr_assert_eq(a->npairs, b->npairs);
  cr_assert_eq(a->nunmet, b->nunmet);
  cr_assert_eq(a->ncircles, b->ncircles);
  cr_expect_eq(a->demand, b->demand);
  cr_expect_eq(a->total_score, b->total_score);
  cr_expect_eq(a->rounds, b->rounds);
  for (size_t i = 0; i < a->npairs; i++) {
    const ws_match_pair *x = &a->pairs[i], *y = &b->pairs[i];
    cr_expect_eq(x->mentee, y->mentee, "pair %zu", i);
    cr_expect_eq(x->mentor, y->mentor, "pair %zu", i);
    cr_expect_eq(x->type, y->type, "pair %zu", i);
    cr_expect_eq(x->score, y->score, "pair %zu", i);
    cr_expect_eq(x->reverse, y->reverse, "pair %zu", i);
    cr_assert_eq(x->reasons.len, y->reasons.len, "pair %zu", i);
    for (size_t k = 0; k < x->reasons.len; k++)
      cr_expect_str_eq(x->reasons.items[k], y->reasons.items[k], "pair %zu", i);
  }
  for (size_t i = 0; i < a->nunmet; i++) {
    cr_expect_eq(a->unmet[i].person, b->unmet[i].person, "unmet %zu", i);
    cr_expect_eq(a->unmet[i].type, b->unmet[i].type, "unmet %zu", i);
    cr_expect_str_eq(a->unmet[i].reason, b->unmet[i].reason, "unmet %zu", i);
  }
  for (size_t i = 0; i < a->ncircles; i++) {
    const ws_circle *x = &a->circles[i], *y = &b->circles[i];
    cr_expect_str_eq(x->topic, y->topic, "circle %zu", i);
    cr_expect_str_eq(x->slug, y->slug, "circle %zu", i);
    cr_expect_eq(x->noffering, y->noffering, "circle %zu", i);
    cr_assert_eq(x->nmembers, y->nmembers, "circle %zu", i);
    for (size_t k = 0; k < x->nmembers; k++)
      cr_expect_eq(x->members[k], y->members[k], "circle %zu", i);
  }
  for (size_t i = 0; i <= a->npeople; i++)
    cr_expect_eq(a->mentor_start[i], b->mentor_start[i], "mentor_start %zu", i);
  for (size_t i = 0; i < a->npairs; i++)
    cr_expect_eq(a->by_mentor[i], b->by_mentor[i], "by_mentor %zu", i);
  for (size_t i = 0; i < a->npeople; i++)
    cr_expect_eq(a->circle_of[i], b->circle_of[i], "circle_of %zu", i);
}

/* The matches as bytes, to tell whether two results differ at all. */
static char *match_bytes(const ws_match *m, size_t *len) {
  ws_str s = WS_STR_INIT;
  ws_digest zero = {0, 0};
  ws_matchcache_encode(&s, &zero, m);
  *len = s.len;
  return ws_str_detach(&s);
}

/* What a decoded result must hold whatever the file said: everything a
 * page reads is in bounds. */
static void expect_in_bounds(const ws_match *m, size_t n) {
  cr_assert_eq(m->npeople, n);
  for (size_t i = 0; i < m->npairs; i++) {
    cr_assert_lt(m->pairs[i].mentee, n);
    cr_assert_lt(m->pairs[i].mentor, n);
    cr_assert_lt((unsigned)m->pairs[i].type, WS_MENTOR__COUNT);
    for (size_t k = 0; k < m->pairs[i].reasons.len; k++)
      cr_assert_not_null(m->pairs[i].reasons.items[k]);
  }
  for (size_t i = 0; i < m->nunmet; i++) {
    cr_assert_lt(m->unmet[i].person, n);
    cr_assert_lt((unsigned)m->unmet[i].type, WS_MENTOR__COUNT);
    cr_assert_not_null(m->unmet[i].reason);
  }
  for (size_t i = 0; i < m->ncircles; i++) {
    cr_assert_leq(m->circles[i].noffering, m->circles[i].nmembers);
    for (size_t k = 0; k < m->circles[i].nmembers; k++)
      cr_assert_lt(m->circles[i].members[k], n);
  }
  cr_assert_eq(m->mentor_start[n], m->npairs);
  for (size_t i = 0; i < m->npairs; i++)
    cr_assert_lt(m->by_mentor[i], m->npairs);
}

/* --- the cache file in memory --- */

Test(matchcache, round_trip_equals_a_fresh_match) {
  gen_team g = generate(80, 7);
  team t = load_team(g.slugs, g.texts, g.n);
  ws_match *fresh = ws_match_new(t.p, t.n);
  cr_assert_gt(fresh->npairs, 10);
  cr_assert_gt(fresh->nunmet, 0, "the team has unmet needs");
  cr_assert_gt(fresh->ncircles, 0, "the team has circles");
  cr_assert_gt(count_reverse(fresh), 0, "the team has reverse pairs");
  ws_digest key;
  cr_assert(ws_matchcache_key(&key, t.p, t.n, 0));
  ws_str file = WS_STR_INIT;
  ws_matchcache_encode(&file, &key, fresh);
  const char *why = "unset";
  ws_match *back = ws_matchcache_decode(file.ptr, file.len, &key, t.n, &why);
  cr_assert_not_null(back, "%s", why);
  cr_expect_null(why);
  ws_match *again = ws_match_new(t.p, t.n);
  expect_same_match(back, again);
  /* Its texts lie in its own copy of the file, not in the caller's. */
  cr_assert_not_null(back->texts);
  const char *reason = back->pairs[0].reasons.items[0];
  cr_expect(reason < file.ptr || reason >= file.ptr + file.len);
  ws_str_clear(&file);
  ws_str_puts(&file, "overwritten");
  expect_same_match(back, again);
  /* The same people in another number: never taken. */
  ws_str_clear(&file);
  ws_matchcache_encode(&file, &key, fresh);
  cr_expect_null(ws_matchcache_decode(file.ptr, file.len, &key, t.n - 1, &why));
  ws_digest other = key;
  other.lo ^= 1;
  cr_expect_null(ws_matchcache_decode(file.ptr, file.len, &other, t.n, &why));
  cr_expect_str_eq(why, "out of date");
  ws_match_free(fresh);
  ws_match_free(back);
  ws_match_free(again);
  ws_str_release(&file);
  team_free(&t);
  gen_free(&g);
}

/* The key is worked out in blocks of people on several threads. */
Test(matchcache, key_is_the_same_for_any_jobs) {
  gen_team g = generate(1100, 13);
  team t = load_team(g.slugs, g.texts, g.n);
  ws_digest one, two, many;
  cr_assert(ws_matchcache_key(&one, t.p, t.n, 1));
  cr_assert(ws_matchcache_key(&two, t.p, t.n, 2));
  cr_assert(ws_matchcache_key(&many, t.p, t.n, 7));
  cr_expect(ws_digest_equal(&one, &two));
  cr_expect(ws_digest_equal(&one, &many));
  /* A change in the last block counts like one in the first. */
  free(t.p[t.n - 1]->team);
  t.p[t.n - 1]->team = ws_xstrdup("Elsewhere");
  cr_assert(ws_matchcache_key(&two, t.p, t.n, 2));
  cr_expect(!ws_digest_equal(&one, &two));
  team_free(&t);
  gen_free(&g);
}

/* A small team where every field the matcher reads decides something:
 * ann seeks a coach and a sponsor outside her team (eve, the only
 * sponsor, is on it: unmet); bob coaches her (later joiner and lower
 * level: reverse); cat coaches dan; fay seeks an advisor nobody offers;
 * ann, cat, dan and gus meet in a circle about Go. */
static const char *const small_slugs[] = {"ann", "bob", "cat", "dan",
                                          "eve", "fay", "gus"};
static const char *const small_texts[] = {
    "---\nname: Ann\nrole: Engineer\npronouns: she/her\nteam: Data\n"
    "location: Oslo\ntimezone: Europe/Oslo\njoined: 2018-01-01\nlevel: 5\n"
    "strengths: [SQL]\nlearning: [Go]\ndream_job: Pilot\n"
    "goals:\n  short_term: Ship\n  long_term: Teach\n"
    "passion_projects: [Boats]\nfavourite_colour: blue\n"
    "links:\n  - label: Blog\n    url: https://example.org/ann\n"
    "mentoring:\n  seeking:\n    types: [coach, sponsor]\n"
    "    topics: [Rust]\n    cross_team: true\n"
    "  formats: [one-on-one, group]\n  modes: [virtual, in-person]\n"
    "---\n## Background\n\nAnn writes compilers.\n",
    "---\nname: Bob\nteam: Platform\nlocation: Oslo\n"
    "timezone: Europe/Oslo\njoined: 2020-05-01\nlevel: 3\n"
    "strengths: [C]\nmentoring:\n  offering:\n    types: [coach]\n"
    "    topics: [Rust]\n    capacity: 1\n"
    "  formats: [one-on-one]\n  modes: [virtual, in-person]\n"
    "---\n## Background\n\nBob.\n",
    "---\nname: Cat\nteam: Platform\nlocation: Lagos\n"
    "timezone: Africa/Lagos\njoined: 2015-03-01\nlevel: 9\n"
    "strengths: [Go]\nmentoring:\n  offering:\n    types: [coach]\n"
    "    topics: [Go]\n    capacity: 1\n"
    "  formats: [one-on-one, group]\n  modes: [virtual]\n"
    "---\n## Background\n\nCat.\n",
    "---\nname: Dan\nteam: Design\nlocation: Lagos\n"
    "timezone: Asia/Kolkata\njoined: 2021-01-01\nlevel: 1\n"
    "learning: [Go]\nmentoring:\n  seeking:\n    types: [coach]\n"
    "    topics: [Go]\n  formats: [one-on-one, group]\n  modes: [virtual]\n"
    "---\n## Background\n\nDan.\n",
    "---\nname: Eve\nteam: Data\nlocation: Oslo\ntimezone: Europe/London\n"
    "mentoring:\n  offering:\n    types: [sponsor]\n    capacity: 1\n"
    "  modes: [virtual]\n---\n## Background\n\nEve.\n",
    "---\nname: Fay\nteam: Design\nmentoring:\n  seeking:\n"
    "    types: [advisor]\n---\n## Background\n\nFay.\n",
    "---\nname: Gus\nteam: Design\nlearning: [Go]\nmentoring:\n"
    "  formats: [group]\n---\n## Background\n\nGus.\n",
};
#define NSMALL (sizeof(small_slugs) / sizeof(small_slugs[0]))

/* One change to one person of the small team: 'from' replaced by 'to' in
 * the profile text, or the slug renamed to 'slug'. */
typedef struct {
  const char *what;
  size_t person;
  const char *from, *to, *slug;
  bool input; /* a field the matcher reads */
} mutation;

static const mutation mutations[] = {
    /* Read by the matcher: the key must change. */
    {"slug", 3, NULL, NULL, "abe", true},
    {"team", 4, "team: Data", "team: Ops", NULL, true},
    {"location", 1, "location: Oslo", "location: Bergen", NULL, true},
    {"timezone", 1, "Europe/Oslo", "Asia/Tokyo", NULL, true},
    {"joined", 1, "2020-05-01", "2010-05-01", NULL, true},
    {"joined (removed)", 1, "joined: 2020-05-01\n", "", NULL, true},
    {"level", 1, "level: 3", "level: 7", NULL, true},
    {"level (removed)", 1, "level: 3\n", "", NULL, true},
    {"strengths", 0, "strengths: [SQL]", "strengths: [SQL, Go]", NULL, true},
    {"learning", 6, "learning: [Go]", "learning: [SQL]", NULL, true},
    {"seek_topics", 0, "topics: [Rust]", "topics: [Haskell]", NULL, true},
    {"offer_topics", 1, "topics: [Rust]", "topics: [Haskell]", NULL, true},
    {"seek_types", 5, "[advisor]", "[affirmer]", NULL, true},
    {"offer_types", 2, "types: [coach]", "types: [challenger]", NULL, true},
    {"formats", 1, "[one-on-one]", "[group]", NULL, true},
    {"modes", 1, "[virtual, in-person]", "[in-person]", NULL, true},
    {"capacity", 2, "capacity: 1", "capacity: 0", NULL, true},
    {"cross_team", 0, "cross_team: true", "cross_team: false", NULL, true},
    /* Not read: the key must stay, and so must the matches. */
    {"name", 1, "name: Bob", "name: Robert", NULL, false},
    {"role", 0, "role: Engineer", "role: Lead", NULL, false},
    {"pronouns", 0, "she/her", "they/them", NULL, false},
    {"body", 2, "Cat.", "Cat, *rewritten*.", NULL, false},
    {"dream_job", 0, "Pilot", "Sailor", NULL, false},
    {"goals", 0, "Ship", "Ship it", NULL, false},
    {"passion_projects", 0, "[Boats]", "[Trains]", NULL, false},
    {"other front matter", 0, "blue", "green", NULL, false},
    {"links", 0, "example.org/ann", "example.org/ann2", NULL, false},
};
#define NMUTATIONS (sizeof(mutations) / sizeof(mutations[0]))

static char *replace(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  cr_assert_not_null(at, "'%s' not in the profile", from);
  ws_str s = WS_STR_INIT;
  ws_str_put(&s, text, (size_t)(at - text));
  ws_str_puts(&s, to);
  ws_str_puts(&s, at + strlen(from));
  return ws_str_detach(&s);
}

/* The small team with 'mu' applied (NULL: as written). */
static team small_team(const mutation *mu) {
  char *slugs[NSMALL], *texts[NSMALL];
  for (size_t i = 0; i < NSMALL; i++) {
    bool here = mu && mu->person == i;
    slugs[i] = ws_xstrdup(here && mu->slug ? mu->slug : small_slugs[i]);
    texts[i] = here && mu->from ? replace(small_texts[i], mu->from, mu->to)
                                : ws_xstrdup(small_texts[i]);
  }
  team t = load_team(slugs, texts, NSMALL);
  for (size_t i = 0; i < NSMALL; i++) {
    free(slugs[i]);
    free(texts[i]);
  }
  return t;
}

Test(matchcache, small_team_uses_every_rule) {
  team t = small_team(NULL);
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_gt(m->npairs, 1);
  cr_expect_gt(m->nunmet, 1);
  cr_expect_eq(m->ncircles, 1);
  cr_expect_gt(count_reverse(m), 0);
  ws_match_free(m);
  team_free(&t);
}

/* Each field the matcher reads, changed alone, changes the key; each one
 * it does not read leaves it. And whatever changed, matches that differ
 * always come with a different key: a field the matcher starts to read
 * without being added to the key fails here (for the fields this team
 * exercises). */
Test(matchcache, key_follows_exactly_the_matcher_inputs) {
  team base = small_team(NULL);
  ws_digest k0;
  cr_assert(ws_matchcache_key(&k0, base.p, base.n, 0));
  ws_match *m0 = ws_match_new(base.p, base.n);
  size_t len0;
  char *b0 = match_bytes(m0, &len0);
  for (size_t i = 0; i < NMUTATIONS; i++) {
    const mutation *mu = &mutations[i];
    team t = small_team(mu);
    ws_digest k;
    cr_assert(ws_matchcache_key(&k, t.p, t.n, 0));
    ws_match *m = ws_match_new(t.p, t.n);
    size_t len;
    char *b = match_bytes(m, &len);
    bool same_key = ws_digest_equal(&k, &k0);
    bool same_matches = len == len0 && memcmp(b, b0, len) == 0;
    if (mu->input) {
      cr_expect(!same_key, "%s: the key did not change", mu->what);
      /* The team is built so that each input matters. */
      cr_expect(!same_matches, "%s: the matches did not change", mu->what);
    } else {
      cr_expect(same_key, "%s: the key changed", mu->what);
    }
    cr_expect(same_matches || !same_key,
              "%s: the matches changed but the key did not", mu->what);
    free(b);
    ws_match_free(m);
    team_free(&t);
  }
  /* Indices refer to the array order, so the order is in the key. */
  ws_profile *tmp = base.p[0];
  base.p[0] = base.p[1];
  base.p[1] = tmp;
  ws_digest swapped;
  cr_assert(ws_matchcache_key(&swapped, base.p, base.n, 0));
  cr_expect(!ws_digest_equal(&swapped, &k0), "order");
  cr_assert(ws_matchcache_key(&swapped, base.p, base.n - 1, 0));
  cr_expect(!ws_digest_equal(&swapped, &k0), "count");
  free(b0);
  ws_match_free(m0);
  team_free(&base);
}

/* Rewrites the checksum at the end of 'f' after a change. */
static void reseal(ws_str *f) {
  ws_digester *d = ws_digester_new();
  ws_digester_bytes(d, f->ptr, f->len - 16);
  ws_digest sum = ws_digester_end(d);
  ws_digester_free(d);
  for (size_t i = 0; i < 8; i++) {
    f->ptr[f->len - 16 + i] = (char)(unsigned char)(sum.hi >> (8 * i));
    f->ptr[f->len - 8 + i] = (char)(unsigned char)(sum.lo >> (8 * i));
  }
}

/* Every prefix, every byte flipped (with and without a valid checksum),
 * garbage and another version: never a crash, never a result out of
 * bounds; only a flip that keeps the file consistent may be taken. */
Test(matchcache, damaged_files_are_refused_without_crashing) {
  team t = small_team(NULL);
  ws_digest key;
  cr_assert(ws_matchcache_key(&key, t.p, t.n, 0));
  ws_match *m = ws_match_new(t.p, t.n);
  ws_str good = WS_STR_INIT;
  ws_matchcache_encode(&good, &key, m);
  const char *why = NULL;
  for (size_t len = 0; len < good.len; len++) {
    char *cut = ws_xmalloc(len + 1);
    memcpy(cut, good.ptr, len);
    cr_expect_null(ws_matchcache_decode(cut, len, &key, t.n, &why), "%zu", len);
    free(cut);
  }
  size_t taken = 0, refused = 0;
  static const unsigned char flips[] = {0x01, 0x80, 0xff};
  for (size_t pos = 0; pos < good.len; pos++)
    for (size_t f = 0; f < sizeof(flips); f++) {
      ws_str bad = WS_STR_INIT;
      ws_str_put(&bad, good.ptr, good.len);
      bad.ptr[pos] = (char)(bad.ptr[pos] ^ flips[f]);
      cr_expect_null(ws_matchcache_decode(bad.ptr, bad.len, &key, t.n, &why),
                     "flip at %zu taken without a new checksum", pos);
      if (pos < bad.len - 16)
        reseal(&bad);
      ws_match *got = ws_matchcache_decode(bad.ptr, bad.len, &key, t.n, &why);
      if (pos < strlen(MAGIC) + 8 + 16)
        cr_expect_null(got, "flip at %zu in the header taken", pos);
      if (got) {
        expect_in_bounds(got, t.n);
        taken++;
      } else {
        refused++;
      }
      ws_match_free(got);
      ws_str_release(&bad);
    }
  /* Most of the file is reason text, where a flipped byte is still text;
   * flips in counts, indices, types and flags are refused. */
  cr_expect_gt(refused, good.len / 4, "%zu refused, %zu taken", refused, taken);
  /* Garbage of every small size, and a long run of it. */
  unsigned long seed = 3;
  for (size_t len = 0; len < 4096; len += 7) {
    char *junk = ws_xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
      junk[i] = (char)next(&seed);
    if (len >= strlen(MAGIC))
      memcpy(junk, MAGIC, strlen(MAGIC));
    cr_expect_null(ws_matchcache_decode(junk, len, &key, t.n, &why));
    free(junk);
  }
  /* Another version, sealed: refused for its version. */
  ws_str other = WS_STR_INIT;
  ws_str_put(&other, good.ptr, good.len);
  other.ptr[strlen(MAGIC)] = 99;
  reseal(&other);
  cr_expect_null(ws_matchcache_decode(other.ptr, other.len, &key, t.n, &why));
  cr_expect_str_eq(why, "another format version");
  ws_str_release(&other);
  ws_match_free(m);
  ws_str_release(&good);
  team_free(&t);
}

/* --- the cache of a repository --- */

static char *team_repo(const gen_team *g) {
  char *repo = th_repo_new(false);
  th_write(repo, "content/site.yml", "title: Match Cache Team\n");
  for (size_t i = 0; i < g->n; i++) {
    ws_str rel = WS_STR_INIT;
    ws_str_printf(&rel, "content/people/%s.md", g->slugs[i]);
    th_write(repo, rel.ptr, g->texts[i]);
    ws_str_release(&rel);
  }
  th_repo_commit_all(repo, "Team", ADA, T0);
  return repo;
}

/* The mentoring cache file of 'repo' (caller frees), or NULL. */
static char *cache_file(const char *repo) {
  return th_cache_file(repo, "matches-");
}

/* Matches through the cache of 'repo' (made by team_repo from generate(60,
 * 11)), as a build gets them, checked against fresh ones. */
static ws_match *cached_match(const char *repo, ws_matchcache_stats *st) {
  ws_source_opts o = {repo, NULL, "content", false};
  ws_source *src = NULL;
  cr_assert_eq(ws_source_open(&src, &o), 0, "%s", ws_error_last());
  gen_team g = generate(60, 11);
  team t = load_team(g.slugs, g.texts, g.n);
  ws_match *m = ws_matchcache_get(src, t.p, t.n, 2, st);
  ws_match *fresh = ws_match_new(t.p, t.n);
  expect_same_match(m, fresh);
  ws_match_free(fresh);
  team_free(&t);
  gen_free(&g);
  ws_source_free(src);
  return m;
}

Test(matchcache, damaged_cache_files_are_ignored_and_rewritten) {
  gen_team g = generate(60, 11);
  char *repo = team_repo(&g);
  ws_matchcache_stats st;
  ws_match_free(cached_match(repo, &st));
  cr_expect_not(st.hit);
  cr_expect_str_eq(st.status, "created");
  cr_expect_null(st.ignored);
  ws_match_free(cached_match(repo, &st));
  cr_expect(st.hit);
  cr_expect_str_eq(st.status, "up to date");
  char *file = cache_file(repo);
  cr_assert_not_null(file);
  size_t len;
  char *good = th_slurp(file, &len);
  static const struct {
    const char *what, *why;
  } cases[] = {{"empty", "not a mentoring cache"},
               {"garbage", "not a mentoring cache"},
               {"header only", "truncated"},
               {"half", "truncated or corrupt (checksum)"},
               {"flipped byte", "truncated or corrupt (checksum)"},
               {"other version", "another format version"}};
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    ws_str bad = WS_STR_INIT;
    if (c == 1)
      ws_str_puts(&bad, "Lorem ipsum dolor sit amet, consectetur adipiscing");
    else if (c == 2)
      ws_str_put(&bad, good, strlen(MAGIC) + 10);
    else if (c >= 3)
      ws_str_put(&bad, good, c == 3 ? len / 2 : len);
    if (c == 4)
      bad.ptr[len / 2] ^= 0x10;
    if (c == 5)
      bad.ptr[strlen(MAGIC)] = 9;
    th_spill(file, bad.ptr, bad.len);
    ws_str_release(&bad);
    ws_match_free(cached_match(repo, &st));
    cr_expect_not(st.hit, "%s", cases[c].what);
    cr_expect_str_eq(st.status, "rebuilt", "%s", cases[c].what);
    cr_expect_str_eq(st.ignored ? st.ignored : "(null)", cases[c].why, "%s",
                     cases[c].what);
    ws_match_free(cached_match(repo, &st));
    cr_expect(st.hit, "%s: rewritten", cases[c].what);
  }
  free(good);
  free(file);
  th_rm_rf(repo);
  free(repo);
  gen_free(&g);
}

/* --- builds --- */

/* Builds 'repo' into 'out' with --verbose; returns what it printed. */
static char *build(const char *repo, const char *out) {
  ws_str log = WS_STR_INIT, err = WS_STR_INIT;
  const char *argv[] = {"build", "-C", repo, "--content", "content",
                        "--out", out,  "-v", NULL};
  int rc = th_run(NULL, &log, &err, argv);
  cr_assert_eq(rc, 0, "%s", err.ptr);
  ws_str_put(&log, err.ptr, err.len);
  ws_str_release(&err);
  cr_assert(strstr(log.ptr, "mentoring: "), "%s", log.ptr);
  return ws_str_detach(&log);
}

static bool from_cache(const char *log) {
  const char *line = strstr(log, "mentoring: ");
  const char *end = strchr(line, '\n');
  const char *hit = strstr(line, "(from the cache)");
  return hit && (!end || hit < end);
}

static void expect_same_site(const char *a, const char *b, const char *what) {
  char *diff = th_tree_diff(a, b);
  cr_expect_null(diff, "%s: sites differ at %s", what, diff ? diff : "");
  free(diff);
}

/* Builds 'repo' twice into fresh folders under 'tmp': the first must
 * compute the matches ('want_hit' false) or reuse them, the second reuses
 * them; both sites must be the same. */
static void build_twice(const char *repo, const char *tmp, const char *what,
                        bool want_hit) {
  ws_str a = WS_STR_INIT, b = WS_STR_INIT;
  ws_str_printf(&a, "%s/%s-1", tmp, what);
  ws_str_printf(&b, "%s/%s-2", tmp, what);
  char *log1 = build(repo, a.ptr), *log2 = build(repo, b.ptr);
  cr_expect_eq(from_cache(log1), want_hit, "%s: first build: %s", what, log1);
  cr_expect(from_cache(log2), "%s: second build: %s", what, log2);
  expect_same_site(a.ptr, b.ptr, what);
  free(log1);
  free(log2);
  ws_str_release(&a);
  ws_str_release(&b);
}

/* Replaces 'from' by 'to' in the first profile of 'g' from 'first' on that
 * holds it, and commits. */
static void edit(const char *repo, const gen_team *g, size_t first,
                 const char *from, const char *to) {
  for (size_t i = first; i < g->n; i++) {
    ws_str rel = WS_STR_INIT;
    ws_str_printf(&rel, "content/people/%s.md", g->slugs[i]);
    char *text = th_read(repo, rel.ptr);
    cr_assert_not_null(text);
    bool found = strstr(text, from) != NULL;
    if (found) {
      char *changed = replace(text, from, to);
      th_write(repo, rel.ptr, changed);
      th_repo_commit_all(repo, from, ADA, T0 + 100);
      free(changed);
    }
    free(text);
    ws_str_release(&rel);
    if (found)
      return;
  }
  cr_assert_fail("no profile holds '%s'", from);
}

Test(matchcache, second_build_takes_the_matches_from_the_cache,
     .timeout = 120) {
  gen_team g = generate(40, 5);
  char *repo = team_repo(&g), *tmp = th_tmpdir();
  build_twice(repo, tmp, "first", false);
  char *file = cache_file(repo);
  cr_expect_not_null(file, "the cache is in the git directory");
  free(file);
  /* A body edit: the same matches. */
  edit(repo, &g, 3, "Person number 3.", "Person number three, rewritten.");
  build_twice(repo, tmp, "body", true);
  /* Mentoring edits: computed again, then cached again. */
  edit(repo, &g, 1, "capacity: ", "capacity: 1");
  build_twice(repo, tmp, "capacity", false);
  edit(repo, &g, 2, "learning: [", "learning: [Haskell, ");
  build_twice(repo, tmp, "topic", false);
  edit(repo, &g, 4, "team: ", "team: Ops");
  build_twice(repo, tmp, "team", false);
  edit(repo, &g, 5, "timezone: ", "timezone: Asia/Tokyo\nold_timezone: ");
  build_twice(repo, tmp, "timezone", false);
  edit(repo, &g, 6, "joined: 20", "joined: 19");
  build_twice(repo, tmp, "joined", false);
  edit(repo, &g, 7, "name: ", "level: 19\nname: ");
  build_twice(repo, tmp, "level", false);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
  gen_free(&g);
}

/* A damaged file costs a recomputation, never a wrong site. */
Test(matchcache, damaged_cache_gives_the_same_site, .timeout = 120) {
  gen_team g = generate(40, 9);
  char *repo = team_repo(&g), *tmp = th_tmpdir();
  build_twice(repo, tmp, "first", false);
  char *file = cache_file(repo);
  cr_assert_not_null(file);
  size_t len;
  char *good = th_slurp(file, &len);
  good[len / 3] ^= 0x40;
  th_spill(file, good, len);
  build_twice(repo, tmp, "flipped", false);
  th_spill(file, good, len / 2);
  build_twice(repo, tmp, "truncated", false);
  th_spill(file, "garbage", 7);
  build_twice(repo, tmp, "garbage", false);
  ws_str a = WS_STR_INIT, b = WS_STR_INIT;
  ws_str_printf(&a, "%s/first-1", tmp);
  ws_str_printf(&b, "%s/garbage-2", tmp);
  expect_same_site(a.ptr, b.ptr, "first and last");
  ws_str_release(&a);
  ws_str_release(&b);
  free(good);
  free(file);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
  gen_free(&g);
}

/* The demo team (content/), with its pairs, unmet needs and circles. */
Test(matchcache, demo_content_is_the_same_from_the_cache, .timeout = 120) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  ws_str cmd = WS_STR_INIT;
  ws_str_printf(&cmd, "cp -R '%s/content' '%s/'", th_root(), repo);
  cr_assert_eq(system(cmd.ptr), 0, "%s", cmd.ptr);
  th_repo_commit_all(repo, "Demo", ADA, T0);
  build_twice(repo, tmp, "demo", false);
  ws_str_release(&cmd);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}
