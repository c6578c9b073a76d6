/* Mentoring matches: the flow, the rules, the reasons and the circles, on
 * small hand-made teams whose best assignment is known. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "match.h"
#include "str.h"

typedef struct {
  const char *slug, *seek, *offer, *formats, *modes, *extra;
  int capacity; /* 0: not given */
  bool cross_team;
} who;

static ws_profile *mk(who w) {
  ws_str src = WS_STR_INIT, path = WS_STR_INIT;
  ws_diag diag = WS_DIAG_INIT;
  ws_profile *p = NULL;
  ws_str_printf(&src, "---\nname: %s\n%s", w.slug, w.extra ? w.extra : "");
  if (w.seek || w.offer || w.formats || w.modes)
    ws_str_puts(&src, "mentoring:\n");
  if (w.seek)
    ws_str_printf(&src, "  seeking:\n    types: %s\n%s", w.seek,
                  w.cross_team ? "    cross_team: true\n" : "");
  if (w.offer) {
    ws_str_printf(&src, "  offering:\n    types: %s\n", w.offer);
    if (w.capacity)
      ws_str_printf(&src, "    capacity: %d\n", w.capacity);
  }
  if (w.formats)
    ws_str_printf(&src, "  formats: %s\n", w.formats);
  if (w.modes)
    ws_str_printf(&src, "  modes: %s\n", w.modes);
  ws_str_puts(&src, "---\n## Background\n\nHello.\n");
  ws_str_printf(&path, "people/%s.md", w.slug);
  int rc = ws_profile_load(&p, path.ptr, w.slug, src.ptr, src.len, NULL, NULL,
                           &diag);
  cr_assert_eq(rc, 0, "%s: %s", w.slug, diag.len ? diag.items[0].message : "?");
  ws_diag_release(&diag);
  ws_str_release(&src);
  ws_str_release(&path);
  return p;
}

typedef struct {
  ws_profile **p;
  size_t n;
} team;

static team mk_team(const who *ws, size_t n) {
  team t = {calloc(n ? n : 1, sizeof(ws_profile *)), n};
  for (size_t i = 0; i < n; i++)
    t.p[i] = mk(ws[i]);
  return t;
}

static void team_free(team *t) {
  for (size_t i = 0; i < t->n; i++)
    ws_profile_free(t->p[i]);
  free(t->p);
}

#define TEAM(...)                                                              \
  ((const who[]){__VA_ARGS__}), sizeof((const who[]){__VA_ARGS__}) / sizeof(who)

static const char *slug(const team *t, size_t i) {
  return t->p[i]->slug;
}

/* The mentor of 'mentee' for 'type', or NULL. */
static const char *mentor_of(const team *t, const ws_match *m,
                             const char *mentee, ws_mentor_type type) {
  for (size_t i = 0; i < m->npairs; i++)
    if (strcmp(slug(t, m->pairs[i].mentee), mentee) == 0 &&
        m->pairs[i].type == type)
      return slug(t, m->pairs[i].mentor);
  return NULL;
}

static const char *unmet_of(const team *t, const ws_match *m,
                            const char *person, ws_mentor_type type) {
  for (size_t i = 0; i < m->nunmet; i++)
    if (strcmp(slug(t, m->unmet[i].person), person) == 0 &&
        m->unmet[i].type == type)
      return m->unmet[i].reason;
  return NULL;
}

static char *reasons(const ws_match_pair *p) {
  ws_str s = WS_STR_INIT;
  for (size_t i = 0; i < p->reasons.len; i++)
    ws_str_printf(&s, "%s%s", i ? "; " : "", p->reasons.items[i]);
  return ws_str_detach(&s);
}

/* --- the assignment --- */

/* A greedy pass in slug order gives ann her favourite (xena) and leaves
 * bob, who can only have xena, with nobody. The flow matches both. */
Test(match, matches_everyone_where_greedy_strands_someone) {
  team t =
      mk_team(TEAM({.slug = "ann",
                    .seek = "[coach]",
                    .modes = "[virtual, in-person]",
                    .extra = "location: Oslo\nlearning: [rust]\n"},
                   {.slug = "bob", .seek = "[coach]", .modes = "[virtual]"},
                   {.slug = "xena",
                    .offer = "[coach]",
                    .modes = "[virtual]",
                    .extra = "strengths: [rust]\n"},
                   {.slug = "yuri",
                    .offer = "[coach]",
                    .modes = "[in-person]",
                    .extra = "location: oslo\n"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_eq(m->npairs, 2);
  cr_expect_eq(m->nunmet, 0);
  cr_expect_str_eq(mentor_of(&t, m, "ann", WS_MENTOR_COACH), "yuri");
  cr_expect_str_eq(mentor_of(&t, m, "bob", WS_MENTOR_COACH), "xena");
  ws_match_free(m);
  team_free(&t);
}

/* Greedy in slug order: a takes x (2 topics), b gets y (none): 4 points
 * in total. The best is a with y (1 topic) and b with x (3 topics): 8. */
Test(match, maximises_total_score_where_greedy_does_not) {
  team t = mk_team(TEAM(
      {.slug = "a", .seek = "[coach]", .extra = "learning: [t1, t2]\n"},
      {.slug = "b", .seek = "[coach]", .extra = "learning: [t2, t3, t4]\n"},
      {.slug = "x",
       .offer = "[coach]",
       .extra = "strengths: [t1, t2, t3, t4]\n"},
      {.slug = "y", .offer = "[coach]", .extra = "strengths: [T1]\n"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_str_eq(mentor_of(&t, m, "a", WS_MENTOR_COACH), "y");
  cr_expect_str_eq(mentor_of(&t, m, "b", WS_MENTOR_COACH), "x");
  cr_expect_eq(m->total_score, 4 * WS_MATCH_W_TOPIC);
  ws_match_free(m);
  team_free(&t);
}

Test(match, respects_capacity_and_says_who_is_full) {
  team t = mk_team(
      TEAM({.slug = "m", .offer = "[coach]", .capacity = 2},
           {.slug = "s1", .seek = "[coach]"}, {.slug = "s2", .seek = "[coach]"},
           {.slug = "s3", .seek = "[coach]"},
           {.slug = "s4", .seek = "[coach]", .modes = "[virtual]"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_eq(m->npairs, 2);
  cr_expect_eq(m->nunmet, 2);
  cr_expect_eq(m->demand, 4);
  /* Ties go to the first slugs. */
  cr_expect_str_eq(mentor_of(&t, m, "s1", WS_MENTOR_COACH), "m");
  cr_expect_str_eq(mentor_of(&t, m, "s2", WS_MENTOR_COACH), "m");
  cr_expect_str_eq(unmet_of(&t, m, "s3", WS_MENTOR_COACH),
                   "the one person who offers 'coach' is at capacity");
  cr_expect_str_eq(unmet_of(&t, m, "s4", WS_MENTOR_COACH),
                   "the one person who offers 'coach' virtually is at "
                   "capacity");
  ws_match_free(m);
  team_free(&t);
}

Test(match, capacity_zero_offers_nothing) {
  team t = mk_team(TEAM({.slug = "m1", .offer = "[coach]", .capacity = 0},
                        {.slug = "m2", .offer = "[coach]", .capacity = 0},
                        {.slug = "s", .seek = "[coach]"}));
  /* mk() leaves capacity out when 0; write it explicitly. */
  t.p[0]->capacity = 0;
  t.p[1]->capacity = 0;
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_eq(m->npairs, 0);
  cr_expect_str_eq(unmet_of(&t, m, "s", WS_MENTOR_COACH),
                   "all 2 people who offer 'coach' are at capacity");
  ws_match_free(m);
  team_free(&t);
}

/* One constraint per row: 'yes' is a mentor who fits, 'no' one who does not
 * for exactly that reason; 'why' is what the seeker is told then. */
typedef struct {
  const char *name;
  who seeker, yes, no;
  const char *why;
} rule_case;

Test(match, every_rule_both_ways) {
  static const rule_case cases[] = {
      {"type",
       {.slug = "s", .seek = "[coach]"},
       {.slug = "m", .offer = "[coach, sponsor]"},
       {.slug = "m", .offer = "[advisor]"},
       "no one offers 'coach'"},
      {"format",
       {.slug = "s", .seek = "[coach]", .formats = "[group]"},
       {.slug = "m", .offer = "[coach]", .formats = "[group, one-on-one]"},
       {.slug = "m", .offer = "[coach]", .formats = "[one-on-one]"},
       "no one offers 'coach' in a group"},
      {"format one-on-one",
       {.slug = "s", .seek = "[coach]", .formats = "[one-on-one]"},
       {.slug = "m", .offer = "[coach]", .formats = "[one-on-one]"},
       {.slug = "m", .offer = "[coach]", .formats = "[group]"},
       "no one offers 'coach' one-on-one"},
      {"mode",
       {.slug = "s", .seek = "[coach]", .modes = "[virtual]"},
       {.slug = "m", .offer = "[coach]", .modes = "[virtual]"},
       {.slug = "m", .offer = "[coach]", .modes = "[in-person]"},
       "no one offers 'coach' virtually"},
      {"in person, place",
       {.slug = "s",
        .seek = "[sponsor]",
        .modes = "[in-person]",
        .extra = "location: Lagos\n"},
       {.slug = "m", .offer = "[sponsor]", .extra = "location: LAGOS\n"},
       {.slug = "m", .offer = "[sponsor]", .extra = "location: Accra\n"},
       "no one offers 'sponsor' in person in Lagos"},
      {"in person, no place",
       {.slug = "s",
        .seek = "[sponsor]",
        .modes = "[in-person]",
        .extra = "location: Lagos\n"},
       {.slug = "m",
        .offer = "[sponsor]",
        .modes = "[in-person]",
        .extra = "location: lagos\n"},
       {.slug = "m", .offer = "[sponsor]", .modes = "[in-person]"},
       "no one offers 'sponsor' in person in Lagos"},
      {"both modes, place",
       {.slug = "s", .seek = "[coach]", .extra = "location: Lagos\n"},
       {.slug = "m",
        .offer = "[coach]",
        .modes = "[virtual]",
        .extra = "location: Accra\n"},
       {.slug = "m",
        .offer = "[coach]",
        .modes = "[in-person]",
        .extra = "location: Accra\n"},
       "no one offers 'coach' virtually or in person in Lagos"},
      {"same person",
       {.slug = "s", .seek = "[coach]", .offer = "[advisor]"},
       {.slug = "m", .offer = "[coach]"},
       {.slug = "m", .seek = "[advisor]"},
       "no one offers 'coach'"},
      {"cross team",
       {.slug = "s",
        .seek = "[coach]",
        .cross_team = true,
        .extra = "team: Platform\n"},
       {.slug = "m", .offer = "[coach]", .extra = "team: Data\n"},
       {.slug = "m", .offer = "[coach]", .extra = "team: platform\n"},
       "no one outside Platform offers 'coach'"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const rule_case *c = &cases[i];
    for (int fits = 1; fits >= 0; fits--) {
      team t = mk_team((const who[]){c->seeker, fits ? c->yes : c->no}, 2);
      ws_match *m = ws_match_new(t.p, t.n);
      ws_mentor_type type = t.p[0]->seek_types & (1u << WS_MENTOR_COACH)
                                ? WS_MENTOR_COACH
                                : WS_MENTOR_SPONSOR;
      const char *got = mentor_of(&t, m, "s", type);
      if (fits) {
        cr_expect(got && strcmp(got, "m") == 0, "%s: should match", c->name);
      } else {
        cr_expect_null(got, "%s: should not match", c->name);
        const char *why = unmet_of(&t, m, "s", type);
        cr_expect(why && strcmp(why, c->why) == 0, "%s: reason '%s'", c->name,
                  why ? why : "(none)");
      }
      ws_match_free(m);
      team_free(&t);
    }
  }
}

Test(match, same_team_is_fine_without_cross_team) {
  team t = mk_team(
      TEAM({.slug = "s", .seek = "[coach]", .extra = "team: Platform\n"},
           {.slug = "m", .offer = "[coach]", .extra = "team: Platform\n"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_str_eq(mentor_of(&t, m, "s", WS_MENTOR_COACH), "m");
  ws_match_free(m);
  team_free(&t);
}

/* A mentor offering two of the seeker's types mentors them once; the
 * other type goes to someone else, or stays open with its reason. */
Test(match, one_mentor_per_seeker_and_mentor) {
  team t = mk_team(TEAM({.slug = "s", .seek = "[coach, advisor]"},
                        {.slug = "x",
                         .offer = "[coach, advisor]",
                         .capacity = 2,
                         .extra = "strengths: [go]\n"},
                        {.slug = "y", .offer = "[advisor]"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_eq(m->npairs, 2);
  cr_expect_str_eq(mentor_of(&t, m, "s", WS_MENTOR_COACH), "x");
  cr_expect_str_eq(mentor_of(&t, m, "s", WS_MENTOR_ADVISOR), "y");
  ws_match_free(m);
  ws_profile_free(t.p[2]);
  t.n = 2;
  m = ws_match_new(t.p, t.n);
  cr_expect_eq(m->npairs, 1);
  cr_expect_str_eq(unmet_of(&t, m, "s", WS_MENTOR_COACH),
                   "everyone who offers 'coach' and has room is already "
                   "your mentor for another type");
  ws_match_free(m);
  team_free(&t);
}

/* Two equal mentors with room for three: the second mentee costs the first
 * mentor WS_MATCH_W_SPREAD, so each gets one. */
Test(match, spreads_mentees) {
  team t = mk_team(TEAM({.slug = "a", .seek = "[coach]"},
                        {.slug = "b", .seek = "[coach]"},
                        {.slug = "x", .offer = "[coach]", .capacity = 3},
                        {.slug = "y", .offer = "[coach]", .capacity = 3}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_str_eq(mentor_of(&t, m, "a", WS_MENTOR_COACH), "x");
  cr_expect_str_eq(mentor_of(&t, m, "b", WS_MENTOR_COACH), "y");
  ws_match_free(m);
  team_free(&t);
}

/* 18 seekers, 17 stars who share their topic and one plain mentor: with
 * few candidates each, some stars or the plain mentor are nobody's until
 * pricing the pairs left out adds them to the lists. */
Test(match, widens_candidates_instead_of_stranding_people) {
  who ws[18 + 17 + 1];
  char names[36][16];
  size_t n = 0;
  for (int i = 0; i < 18; i++) {
    snprintf(names[n], sizeof(names[n]), "s%02d", i);
    ws[n] = (who){
        .slug = names[n], .seek = "[coach]", .extra = "learning: [rust]\n"};
    n++;
  }
  for (int i = 0; i < 17; i++) {
    snprintf(names[n], sizeof(names[n]), "star%02d", i);
    ws[n] = (who){
        .slug = names[n], .offer = "[coach]", .extra = "strengths: [rust]\n"};
    n++;
  }
  ws[n++] = (who){.slug = "plain", .offer = "[coach]"};
  team t = mk_team(ws, n);
  ws_match *m = ws_match_new(t.p, t.n);
  cr_expect_eq(m->npairs, 18);
  cr_expect_eq(m->nunmet, 0);
  cr_expect_gt(m->rounds, 1);
  ws_match_free(m);
  team_free(&t);
}

/* --- explanations --- */

Test(match, explains_each_suggestion) {
  team t = mk_team(TEAM(
      {.slug = "amara",
       .seek = "[coach]",
       .formats = "[one-on-one]",
       .modes = "[virtual]",
       .extra = "team: Data\ntimezone: Europe/Berlin\njoined: 2016-02-01\n"
                "learning: [Distributed Systems, cooking]\n"},
      {.slug = "kai",
       .offer = "[coach]",
       .extra = "team: Platform\ntimezone: America/New_York\n"
                "joined: 2025-03-10\nstrengths: [distributed systems]\n"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_assert_eq(m->npairs, 1);
  char *why = reasons(&m->pairs[0]);
  cr_expect_str_eq(why, "offers coach; both one-on-one; both virtual; "
                        "shares 'Distributed Systems'; other team; "
                        "time zones 6 h apart; reverse mentoring: joined "
                        "2025, mentee 2016");
  cr_expect(m->pairs[0].reverse);
  /* One topic, the other team, 6 hours apart (one 4-hour step). */
  cr_expect_eq(m->pairs[0].score,
               WS_MATCH_W_TOPIC + WS_MATCH_W_CROSS_TEAM - WS_MATCH_W_TZ);
  free(why);
  ws_match_free(m);
  team_free(&t);
}

Test(match, explains_place_and_half_hour_zones) {
  team t = mk_team(
      TEAM({.slug = "a",
            .seek = "[advisor]",
            .formats = "[group, one-on-one]",
            .extra = "location: Pune\ntimezone: Asia/Kolkata\nlevel: 5\n"
                     "joined: 2020-01-01\n"},
           {.slug = "b",
            .offer = "[advisor]",
            .formats = "[group, one-on-one]",
            .extra = "location: pune\ntimezone: Europe/Berlin\nlevel: 2\n"
                     "joined: 2019-01-01\n"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_assert_eq(m->npairs, 1);
  char *why = reasons(&m->pairs[0]);
  cr_expect_str_eq(why, "offers advisor; both one-on-one or group; both "
                        "virtual or in person in pune; time zones 4 h 30 "
                        "min apart; reverse mentoring: level 2, mentee "
                        "level 5");
  free(why);
  ws_match_free(m);
  team_free(&t);
}

Test(match, reverse_mentoring_by_date_and_level) {
  static const struct {
    const char *mentee, *mentor, *text; /* text NULL: not reverse */
  } cases[] = {
      {"joined: 2016-09-12\n", "joined: 2025-02-03\n",
       "reverse mentoring: joined 2025, mentee 2016"},
      {"joined: 2025-01-06\n", "joined: 2025-02-03\n",
       "reverse mentoring: joined 2025-02-03, mentee 2025-01-06"},
      {"joined: 2025-02-03\n", "joined: 2016-09-12\n", NULL},
      {"joined: 2025-02-03\n", "joined: 2025-02-03\n", NULL},
      {"level: 6\n", "level: 3\n",
       "reverse mentoring: level 3, mentee level 6"},
      {"level: 3\n", "level: 6\n", NULL},
      {"level: 3\n", "joined: 2020-01-01\n", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    team t = mk_team(
        TEAM({.slug = "e", .seek = "[coach]", .extra = cases[i].mentee},
             {.slug = "r", .offer = "[coach]", .extra = cases[i].mentor}));
    ws_match *m = ws_match_new(t.p, t.n);
    cr_assert_eq(m->npairs, 1);
    const ws_match_pair *p = &m->pairs[0];
    cr_expect_eq(p->reverse, cases[i].text != NULL, "case %zu", i);
    const char *last = p->reasons.items[p->reasons.len - 1];
    if (cases[i].text)
      cr_expect_str_eq(last, cases[i].text, "case %zu", i);
    else
      cr_expect_null(strstr(last, "reverse"), "case %zu: %s", i, last);
    ws_match_free(m);
    team_free(&t);
  }
}

/* --- circles --- */

static size_t circle_count(const ws_match *m, const char *topic_slug) {
  size_t n = 0;
  for (size_t i = 0; i < m->ncircles; i++)
    n += strcmp(m->circles[i].slug, topic_slug) == 0;
  return n;
}

Test(match, circles_around_shared_topics) {
  team t = mk_team(TEAM(
      /* rust: one offerer, three learners */
      {.slug = "r0",
       .offer = "[coach]",
       .formats = "[group]",
       .extra = "strengths: [Rust]\n"},
      {.slug = "r1",
       .seek = "[coach]",
       .formats = "[group]",
       .extra = "learning: [rust]\n"},
      {.slug = "r2", .seek = "[coach]", .extra = "learning: [rust]\n"},
      {.slug = "r3",
       .seek = "[coach]",
       .formats = "[one-on-one, group]",
       .extra = "learning: [Rust]\n"},
      /* one-on-one only: never in a circle */
      {.slug = "r4",
       .seek = "[coach]",
       .formats = "[one-on-one]",
       .extra = "learning: [rust]\n"},
      /* go: learners but nobody offers it */
      {.slug = "g1",
       .seek = "[coach]",
       .formats = "[group]",
       .extra = "learning: [go]\n"},
      {.slug = "g2",
       .seek = "[coach]",
       .formats = "[group]",
       .extra = "learning: [go]\n"},
      {.slug = "g3",
       .seek = "[coach]",
       .formats = "[group]",
       .extra = "learning: [go]\n"},
      /* sql: an offerer and one learner: too small */
      {.slug = "q0",
       .offer = "[coach]",
       .formats = "[group]",
       .extra = "strengths: [sql]\n"},
      {.slug = "q1",
       .seek = "[coach]",
       .formats = "[group]",
       .extra = "learning: [sql]\n"}));
  ws_match *m = ws_match_new(t.p, t.n);
  cr_assert_eq(m->ncircles, 1);
  const ws_circle *c = &m->circles[0];
  cr_expect_str_eq(c->slug, "rust");
  cr_expect_str_eq(c->topic, "rust"); /* the most common spelling */
  cr_assert_eq(c->nmembers, 4);
  cr_expect_eq(c->noffering, 1);
  const char *want[] = {"r0", "r1", "r2", "r3"};
  for (size_t i = 0; i < 4; i++)
    cr_expect_str_eq(slug(&t, c->members[i]), want[i]);
  cr_expect_eq(circle_count(m, "go"), 0);
  cr_expect_eq(circle_count(m, "sql"), 0);
  ws_match_free(m);
  team_free(&t);
}

/* 2 offerers and 12 learners: two circles of 7, an offerer in each. One
 * offerer and 12 learners: one circle of 8; the rest wait. */
Test(match, circles_split_and_stay_within_sizes) {
  for (int offerers = 2; offerers >= 1; offerers--) {
    who ws[14];
    char names[14][16];
    size_t n = 0;
    for (int i = 0; i < offerers; i++, n++) {
      snprintf(names[n], sizeof(names[n]), "o%d", i);
      ws[n] = (who){.slug = names[n],
                    .offer = "[coach]",
                    .formats = "[group]",
                    .extra = "strengths: [ml]\n"};
    }
    for (int i = 0; i < 12; i++, n++) {
      snprintf(names[n], sizeof(names[n]), "l%02d", i);
      ws[n] = (who){.slug = names[n],
                    .seek = "[coach]",
                    .formats = "[group]",
                    .extra = "learning: [ml]\n"};
    }
    team t = mk_team(ws, n);
    ws_match *m = ws_match_new(t.p, t.n);
    cr_assert_eq(m->ncircles, (size_t)offerers);
    for (size_t i = 0; i < m->ncircles; i++) {
      const ws_circle *c = &m->circles[i];
      cr_expect_eq(c->nmembers, offerers == 2 ? 7u : 8u);
      cr_expect_eq(c->noffering, 1);
      cr_expect_eq(c->members[0], i, "offerer leads circle %zu", i);
      cr_expect_geq(c->nmembers, WS_CIRCLE_MIN);
      cr_expect_leq(c->nmembers, WS_CIRCLE_MAX);
    }
    ws_match_free(m);
    team_free(&t);
  }
}

/* --- determinism --- */

static unsigned long next(unsigned long *s) {
  *s = *s * 6364136223846793005ul + 1442695040888963407ul;
  return *s >> 33;
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything the result says, by slug, in a canonical text. */
static char *canonical(const team *t, const ws_match *m) {
  ws_str s = WS_STR_INIT;
  char **lines = calloc(m->npairs + m->nunmet + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < m->npairs; i++) {
    ws_str l = WS_STR_INIT;
    char *why = reasons(&m->pairs[i]);
    ws_str_printf(&l, "%s %d %s: %s", slug(t, m->pairs[i].mentee),
                  m->pairs[i].type, slug(t, m->pairs[i].mentor), why);
    free(why);
    lines[n++] = ws_str_detach(&l);
  }
  for (size_t i = 0; i < m->nunmet; i++) {
    ws_str l = WS_STR_INIT;
    ws_str_printf(&l, "%s %d unmet: %s", slug(t, m->unmet[i].person),
                  m->unmet[i].type, m->unmet[i].reason);
    lines[n++] = ws_str_detach(&l);
  }
  qsort(lines, n, sizeof(char *), cmp_line);
  for (size_t i = 0; i < n; i++) {
    ws_str_printf(&s, "%s\n", lines[i]);
    free(lines[i]);
  }
  free(lines);
  for (size_t i = 0; i < m->ncircles; i++) {
    ws_str_printf(&s, "circle %s:", m->circles[i].topic);
    for (size_t k = 0; k < m->circles[i].nmembers; k++)
      ws_str_printf(&s, " %s", slug(t, m->circles[i].members[k]));
    ws_str_putc(&s, '\n');
  }
  ws_str_printf(&s, "total %ld\n", m->total_score);
  return ws_str_detach(&s);
}

Test(match, same_people_in_any_order_same_result) {
  static const char *const types[] = {"advisor", "coach", "sponsor",
                                      "challenger", "connector"};
  static const char *const topics[] = {"rust",   "go",      "sql",
                                       "design", "writing", "ml"};
  static const char *const places[] = {"Lagos", "Oslo", "Pune"};
  static const char *const teams[] = {"Data", "Platform", "Design"};
  static const char *const modes[] = {"[virtual]", "[in-person]",
                                      "[virtual, in-person]"};
  enum { N = 60 };
  who ws[N];
  char names[N][16], seek[N][64], offer[N][64], extra[N][200];
  unsigned long seed = 42;
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof(names[i]), "p%02d", i);
    snprintf(seek[i], sizeof(seek[i]), "[%s, %s]", types[next(&seed) % 5],
             types[next(&seed) % 5]);
    snprintf(offer[i], sizeof(offer[i]), "[%s]", types[next(&seed) % 5]);
    snprintf(extra[i], sizeof(extra[i]),
             "team: %s\nlocation: %s\nlearning: [%s]\nstrengths: [%s, %s]\n",
             teams[next(&seed) % 3], places[next(&seed) % 3],
             topics[next(&seed) % 6], topics[next(&seed) % 6],
             topics[next(&seed) % 6]);
    bool seeks = next(&seed) % 3 != 0, offers = next(&seed) % 2;
    ws[i] = (who){.slug = names[i],
                  .seek = seeks ? seek[i] : NULL,
                  .offer = offers ? offer[i] : NULL,
                  .modes = modes[next(&seed) % 3],
                  .extra = extra[i],
                  .capacity = (int)(next(&seed) % 3) + 1,
                  .cross_team = next(&seed) % 4 == 0};
  }
  team t = mk_team(ws, N);
  ws_match *m = ws_match_new(t.p, t.n);
  char *first = canonical(&t, m);
  cr_expect_gt(m->npairs, 10);
  ws_match_free(m);
  for (int round = 0; round < 5; round++) {
    for (size_t i = t.n - 1; i > 0; i--) {
      size_t j = next(&seed) % (i + 1);
      ws_profile *tmp = t.p[i];
      t.p[i] = t.p[j];
      t.p[j] = tmp;
    }
    m = ws_match_new(t.p, t.n);
    char *again = canonical(&t, m);
    cr_expect_str_eq(again, first, "shuffle %d", round);
    free(again);
    ws_match_free(m);
  }
  free(first);
  team_free(&t);
}

/* --- the whole team's optimum, checked against a slow reference --- */

/* A min-cost maximum flow the simplest way (Bellman-Ford for every unit of
 * flow) on the whole network: every compatible pair, no candidate lists. */
typedef struct {
  int from, to, cap, cost;
} ref_edge;

typedef struct {
  ref_edge *e; /* edge i and i ^ 1 are each other's reverse */
  int n, nodes;
} ref_net;

static void ref_add(ref_net *g, int from, int to, int cost) {
  g->e = realloc(g->e, (size_t)(g->n + 2) * sizeof(ref_edge));
  g->e[g->n++] = (ref_edge){from, to, 1, cost};
  g->e[g->n++] = (ref_edge){to, from, 0, -cost};
}

/* Pushes units from node 0 to node 1 along cheapest paths while any is
 * left; returns how many, and their cost through 'cost'. */
static int ref_solve(ref_net *g, long *cost) {
  long *dist = calloc((size_t)g->nodes, sizeof(long));
  int *via = calloc((size_t)g->nodes, sizeof(int)), flow = 0;
  *cost = 0;
  for (;;) {
    for (int v = 0; v < g->nodes; v++)
      dist[v] = LONG_MAX;
    dist[0] = 0;
    for (bool changed = true; changed;) {
      changed = false;
      for (int i = 0; i < g->n; i++) {
        const ref_edge *e = &g->e[i];
        if (e->cap > 0 && dist[e->from] != LONG_MAX &&
            dist[e->from] + e->cost < dist[e->to]) {
          dist[e->to] = dist[e->from] + e->cost;
          via[e->to] = i;
          changed = true;
        }
      }
    }
    if (dist[1] == LONG_MAX)
      break;
    for (int v = 1; v != 0; v = g->e[via[v]].from) {
      g->e[via[v]].cap--;
      g->e[via[v] ^ 1].cap++;
    }
    flow++;
    *cost += dist[1];
  }
  free(dist);
  free(via);
  return flow;
}

typedef struct {
  bool coach, advisor;
  int capacity, team;
  unsigned topics; /* learning (seekers) or strengths (mentors), as bits */
} ref_person;

static int ref_score(const ref_person *s, const ref_person *m) {
  int shared = __builtin_popcount(s->topics & m->topics);
  if (shared > WS_MATCH_TOPIC_CAP)
    shared = WS_MATCH_TOPIC_CAP;
  return WS_MATCH_W_TOPIC * shared +
         (s->team != m->team ? WS_MATCH_W_CROSS_TEAM : 0);
}

/* The network of ws_match (docs/mentoring.md) over every compatible pair;
 * returns the best total score less the spreading, and the pairs. */
static long ref_best(const ref_person *sk, int ns, const ref_person *mt, int nm,
                     int *pairs) {
  enum { MOST = WS_MATCH_W_TOPIC * WS_MATCH_TOPIC_CAP + WS_MATCH_W_CROSS_TEAM };
  ref_net g = {NULL, 0, 2 + nm};
  for (int j = 0; j < nm; j++)
    for (int k = 0; k < mt[j].capacity; k++)
      ref_add(&g, 2 + j, 1, WS_MATCH_W_SPREAD * k);
  for (int i = 0; i < ns; i++) {
    int coach = sk[i].coach ? g.nodes++ : -1;
    int advisor = sk[i].advisor ? g.nodes++ : -1;
    if (coach >= 0)
      ref_add(&g, 0, coach, 0);
    if (advisor >= 0)
      ref_add(&g, 0, advisor, 0);
    for (int j = 0; j < nm; j++) {
      int cost = MOST - ref_score(&sk[i], &mt[j]), to = 2 + j;
      bool both = coach >= 0 && advisor >= 0 && mt[j].coach && mt[j].advisor;
      if (both) { /* mentors a seeker once, whatever the type */
        to = g.nodes++;
        ref_add(&g, to, 2 + j, 0);
      }
      if (coach >= 0 && mt[j].coach)
        ref_add(&g, coach, to, cost);
      if (advisor >= 0 && mt[j].advisor)
        ref_add(&g, advisor, to, cost);
    }
  }
  long cost;
  *pairs = ref_solve(&g, &cost);
  free(g.e);
  return (long)MOST * *pairs - cost;
}

static void ref_topics(ws_str *s, const char *key, unsigned bits) {
  static const char *const topics[] = {"rust", "go", "sql", "ml", "ux", "qa"};
  ws_str_printf(s, "%s: [", key);
  for (int k = 0, n = 0; k < 6; k++)
    if (bits & (1u << k))
      ws_str_printf(s, "%s%s", n++ ? ", " : "", topics[k]);
  ws_str_puts(s, "]\n");
}

/* More mentors per request than the candidate lists keep, and fewer places
 * than requests: the best assignment often needs a mentor some seeker did
 * not keep, which only pricing every pair left out finds. */
Test(match, finds_the_best_assignment_of_the_whole_team) {
  enum { NS = 18, NM = 20 };
  static const char *const teams[] = {"a", "b", "c"};
  unsigned long seed = 7;
  for (int round = 0; round < 12; round++) {
    ref_person sk[NS], mt[NM];
    who ws[NS + NM];
    char names[NS + NM][16], extra[NS + NM][128];
    for (int i = 0; i < NS + NM; i++) {
      bool seeker = i < NS;
      ref_person *p = seeker ? &sk[i] : &mt[i - NS];
      ws_str s = WS_STR_INIT;
      p->coach = !seeker || next(&seed) % 4 != 0;
      p->advisor = !p->coach || next(&seed) % 2 == 0;
      p->capacity = seeker ? 0 : 1 + (next(&seed) % 4 == 0);
      p->team = (int)(next(&seed) % 3);
      p->topics = (unsigned)(next(&seed) % 64);
      snprintf(names[i], sizeof(names[i]), "%c%02d", seeker ? 's' : 'm', i);
      ws_str_printf(&s, "team: %s\n", teams[p->team]);
      ref_topics(&s, seeker ? "learning" : "strengths", p->topics);
      snprintf(extra[i], sizeof(extra[i]), "%s", s.ptr);
      ws_str_release(&s);
      const char *types = p->coach && p->advisor ? "[coach, advisor]"
                          : p->coach             ? "[coach]"
                                                 : "[advisor]";
      ws[i] = (who){.slug = names[i],
                    .seek = seeker ? types : NULL,
                    .offer = seeker ? NULL : types,
                    .extra = extra[i],
                    .capacity = p->capacity};
    }
    team t = mk_team(ws, NS + NM);
    ws_match *m = ws_match_new(t.p, t.n);
    int pairs = 0;
    long best = ref_best(sk, NS, mt, NM, &pairs), spread = 0;
    for (size_t j = 0; j < t.n; j++) {
      long k = (long)(m->mentor_start[j + 1] - m->mentor_start[j]);
      spread += WS_MATCH_W_SPREAD * k * (k - 1) / 2;
    }
    cr_expect_eq(m->npairs, (size_t)pairs, "round %d: pairs", round);
    cr_expect_eq(m->total_score - spread, best, "round %d: score", round);
    ws_match_free(m);
    team_free(&t);
  }
}

Test(match, knows_time_zones) {
  int off = 0;
  cr_expect(ws_match_tz_offset("Asia/Kolkata", &off));
  cr_expect_eq(off, 330);
  cr_expect(ws_match_tz_offset("america/new_york", &off));
  cr_expect_eq(off, -300);
  cr_expect_not(ws_match_tz_offset("Mars/Olympus_Mons", &off));
  cr_expect_not(ws_match_tz_offset(NULL, &off));
}

/* --- the pages --- */

Test(match, pages_show_pairs_reasons_and_types) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  th_write(repo, "people/amara.md",
           "---\nname: Amara\nteam: Data\njoined: 2016-02-01\n"
           "learning: [Rust]\nmentoring:\n  seeking:\n    types: [coach, "
           "sponsor]\n  modes: [virtual]\n---\nHi.\n");
  th_write(repo, "people/kai.md",
           "---\nname: Kai\nteam: Platform\njoined: 2025-03-10\n"
           "strengths: [rust]\nmentoring:\n  offering:\n    types: [coach]"
           "\n---\nHi.\n");
  th_repo_commit_all(repo, "Add", "Ada <ada@example.org>", 1700000000);
  ws_str out = WS_STR_INIT;
  ws_str_printf(&out, "%s/pub", tmp);
  const char *argv[] = {"build", "-C", repo, "--out", out.ptr, "--quiet", NULL};
  cr_assert_eq(th_run(NULL, NULL, NULL, argv), 0);
  char *hub = th_read(out.ptr, "mentoring/index.html");
  char *kai = th_read(out.ptr, "people/kai/index.html");
  char *amara = th_read(out.ptr, "people/amara/index.html");
  cr_assert(hub && kai && amara);
  cr_expect(strstr(hub, "<span class=\"reason\">shares &#39;Rust&#39;</span>"),
            "hub lists the reasons");
  cr_expect(strstr(hub, "reverse mentoring: joined 2025, mentee 2016"));
  cr_expect(strstr(hub, "no one offers &#39;sponsor&#39;"));
  cr_expect(strstr(kai, "Could mentor"));
  cr_expect(strstr(amara, "Suggested <a href=\"../../mentoring/coach/\">"));
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    ws_str rel = WS_STR_INIT;
    ws_str_printf(&rel, "mentoring/%s/index.html", ws_mentor_type_name(t));
    char *page = th_read(out.ptr, rel.ptr);
    cr_expect(page && strstr(page, ws_mentor_type_definition(t)), "%s",
              rel.ptr);
    free(page);
    ws_str_release(&rel);
  }
  free(hub);
  free(kai);
  free(amara);
  ws_str_release(&out);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}
