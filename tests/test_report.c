/* The team report: figures of a small team with known answers, the JSON
 * written by --report-json, the tables of report/index.html, and the SVG
 * charts (well-formed XML, bars proportional to the data). */
#include <criterion/criterion.h>
#include <limits.h>
#include <git2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "helpers.h"
#include "output.h"
#include "render.h"
#include "report.h"
#include "site.h"
#include "source.h"
#include "theme.h"
#include "xalloc.h"

static char *tzdir;

/* Zone files with only what the report reads (magic, version, footer), so
 * the figures do not depend on the tzdata installed. */
static void write_zone(const char *name, const char *footer) {
  char data[128] = "TZif2";
  size_t len = 44 + strlen(footer) + 2;
  snprintf(data + 44, sizeof(data) - 44, "\n%s\n", footer);
  th_write_len(tzdir, name, data, len);
}

static void setup(void) {
  git_libgit2_init();
  tzdir = th_tmpdir();
  write_zone("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3");
  write_zone("Africa/Lagos", "WAT-1");
  write_zone("Asia/Kolkata", "IST-5:30");
  write_zone("Europe/Dublin", "IST-1GMT0,M10.5.0,M3.5.0/1");
  write_zone("America/Sao_Paulo", "<-03>3");
  setenv("TZDIR", tzdir, 1);
}

static void teardown(void) {
  th_rm_rf(tzdir);
  free(tzdir);
  git_libgit2_shutdown();
}

TestSuite(report, .init = setup, .fini = teardown);

/* Four people with known figures (worked out in the comments below). */
static const char ana[] =
    "---\nname: Ana\nrole: Engineer\nteam: Platform\nlocation: Berlin\n"
    "timezone: Europe/Berlin\nstrengths: [SQL, hiring]\nlearning: [rust]\n"
    "mentoring:\n  seeking:\n    types: [challenger]\n  offering:\n"
    "    types: [coach, advisor]\n    capacity: 2\n  formats: [one-on-one]\n"
    "  modes: [virtual]\ngoals:\n  short_term: Ship it.\n---\n"
    "## Background\n\nHi.\n\n## Strengths\n\nx\n\n"
    "## Successes and challenges\n\nx\n\n## Values\n\nx\n";
static const char bo[] =
    "---\nname: Bo\nteam: Platform\nlocation: Lagos\ntimezone: Africa/Lagos\n"
    "strengths: [SQL]\nlearning: [Rust, design]\nmentoring:\n  seeking:\n"
    "    types: [challenger, coach]\n  formats: [group]\n"
    "  modes: [in-person]\n---\n## Background\n\nHello.\n";
static const char cy[] =
    "---\nname: Cy\nrole: Analyst\nteam: Data\nlocation: Pune\n"
    "timezone: Asia/Kolkata\nstrengths: [statistics]\nlearning: [design]\n"
    "mentoring:\n  seeking:\n    types: [challenger]\n  offering:\n"
    "    types: [challenger]\n    topics: [Design]\n    capacity: 1\n"
    "goals:\n  long_term: Lead.\n---\n## Background\n\nNamaste.\n";
static const char di[] = "---\nname: Di\n---\n";

static char *team_repo(bool commit) {
  char *repo = th_repo_new(false);
  th_write(repo, "people/ana.md", ana);
  th_write(repo, "people/bo.md", bo);
  th_write(repo, "people/cy.md", cy);
  th_write(repo, "people/di.md", di);
  if (commit)
    th_repo_commit_all(repo, "Add the team", "Ada <ada@example.org>",
                       1700000000);
  return repo;
}

static ws_site *load_site(const char *repo, ws_source **src) {
  ws_source_opts o = {.repo = repo};
  ws_diag diag = WS_DIAG_INIT;
  ws_site *site = NULL;
  cr_assert_eq(ws_source_open(src, &o), 0, "%s", ws_error_last());
  cr_assert_eq(ws_site_load(&site, *src, &diag), 0, "%s", ws_error_last());
  cr_assert_eq(ws_diag_count(&diag, WS_DIAG_ERROR), 0);
  ws_diag_release(&diag);
  cr_assert_eq(site->npeople, 4);
  return site;
}

/* Noon UTC on the given days. */
#define T_2024_06_15 1718452800LL
#define T_2024_06_01 1717243200LL
#define T_2023_12_20 1703073600LL
#define T_2022_01_10 1641816000LL

static void add_event(ws_site *site, ws_event_kind kind, long long time,
                      const char *slug) {
  site->events =
      ws_xreallocarray(site->events, site->nevents + 1, sizeof(ws_event));
  ws_event *e = &site->events[site->nevents++];
  memset(e, 0, sizeof(*e));
  e->kind = kind;
  e->time = time;
  if (!site->event_text) /* the site frees its events' strings with it */
    site->event_text = ws_value_arena_new();
  e->slug = ws_value_arena_strdup(site->event_text, slug);
}

/* The history the walk of issue 5 would give: people's last changes, and
 * events newest first. Months 2024-01..06 end with 2, 2, 4, 4, 4, 4 people. */
static void fake_history(ws_site *site) {
  static const long long last[] = {T_2024_06_01, T_2023_12_20, T_2022_01_10};
  for (size_t i = 0; i < 3; i++) {
    site->people[i]->history.known = true;
    site->people[i]->history.last_time = last[i];
  }
  add_event(site, WS_EVENT_UPDATED, T_2024_06_01, "ana");
  add_event(site, WS_EVENT_ADDED, 1713182400LL, "di");  /* 2024-04-15 */
  add_event(site, WS_EVENT_REMOVED, 1712836800LL, "x"); /* 2024-04-11 */
  add_event(site, WS_EVENT_ADDED, 1710072000LL, "x");   /* 2024-03-10 */
  add_event(site, WS_EVENT_ADDED, 1709380800LL, "cy");  /* 2024-03-02 */
  add_event(site, WS_EVENT_ADDED, 1705752000LL, "bo");  /* 2024-01-20 */
  add_event(site, WS_EVENT_ADDED, 1704456000LL, "ana"); /* 2024-01-05 */
}

/* Follows a path like "mentoring.types.3.unmet" (numbers index lists). */
static const ws_value *at(const ws_value *v, const char *path) {
  char *copy = ws_xstrdup(path), *save = NULL;
  for (char *k = strtok_r(copy, ".", &save); k && v;
       k = strtok_r(NULL, ".", &save)) {
    if (v->type == WS_VALUE_LIST) {
      size_t i = strtoul(k, NULL, 10);
      v = i < v->u.list.len ? v->u.list.items[i] : NULL;
    } else {
      v = ws_value_get(v, k);
    }
  }
  free(copy);
  return v;
}

static double num_at(const ws_value *v, const char *path) {
  const ws_value *n = at(v, path);
  cr_assert(n && n->type == WS_VALUE_NUMBER, "%s is not a number", path);
  return n->u.number;
}

static const char *str_at(const ws_value *v, const char *path) {
  const char *s = ws_value_cstr(at(v, path));
  cr_assert(s, "%s is not a string", path);
  return s;
}

static size_t len_at(const ws_value *v, const char *path) {
  const ws_value *l = at(v, path);
  cr_assert(l && l->type == WS_VALUE_LIST, "%s is not a list", path);
  return l->u.list.len;
}

typedef struct {
  const char *path;
  double want;
} num_case;

static void expect_nums(const ws_value *f, const num_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++)
    cr_expect_eq(num_at(f, cases[i].path), cases[i].want, "%s: %g, want %g",
                 cases[i].path, num_at(f, cases[i].path), cases[i].want);
}

/* Types are in enum order: advisor 0, advocate 1, affirmer 2, challenger 3,
 * coach 4, connector 5, sponsor 6. */
static const num_case mentoring_cases[] = {
    {"people", 4},
    {"mentoring.types.0.seekers", 0},
    {"mentoring.types.0.offerers", 1},
    {"mentoring.types.0.capacity", 2},
    {"mentoring.types.0.unmet", 0},
    {"mentoring.types.3.seekers", 3}, /* Ana, Bo, Cy */
    {"mentoring.types.3.offerers", 1},
    {"mentoring.types.3.capacity", 1},
    {"mentoring.types.3.unmet", 2},
    {"mentoring.types.3.formats.one-on-one.seekers", 2}, /* Ana, Cy */
    {"mentoring.types.3.formats.one-on-one.capacity", 1},
    {"mentoring.types.3.formats.one-on-one.unmet", 1},
    {"mentoring.types.3.formats.group.seekers", 2}, /* Bo, Cy */
    {"mentoring.types.3.modes.virtual.seekers", 2},
    {"mentoring.types.3.modes.in-person.seekers", 2},
    {"mentoring.types.3.modes.in-person.unmet", 1},
    {"mentoring.types.4.seekers", 1},  /* Bo: group, in person */
    {"mentoring.types.4.capacity", 2}, /* Ana: one-on-one, virtual */
    {"mentoring.types.4.unmet", 0},
    {"mentoring.types.4.formats.one-on-one.seekers", 0},
    {"mentoring.types.4.formats.one-on-one.capacity", 2},
    {"mentoring.types.4.formats.group.seekers", 1},
    {"mentoring.types.4.formats.group.capacity", 0},
    {"mentoring.types.4.formats.group.unmet", 1},
    {"mentoring.types.4.modes.virtual.capacity", 2},
    {"mentoring.types.4.modes.in-person.unmet", 1},
    {"mentoring.types.6.seekers", 0},
    {"mentoring.types.6.capacity", 0},
    {"mentoring.total.seekers", 3},
    {"mentoring.total.offerers", 2},
    {"mentoring.total.capacity", 3},
    {"mentoring.total.unmet", 2},
    {"mentoring.total.types_unmet", 1},
    {"mentoring.formats.one-on-one.seekers", 2},
    {"mentoring.formats.one-on-one.capacity", 3},
    {"mentoring.formats.one-on-one.unmet", 0},
    {"mentoring.formats.group.seekers", 2},
    {"mentoring.formats.group.capacity", 1},
    {"mentoring.formats.group.unmet", 1},
    {"mentoring.modes.virtual.capacity", 3},
    {"mentoring.modes.in-person.capacity", 1},
};

static const num_case other_cases[] = {
    {"strengths.distinct", 3},
    {"strengths.top.0.people", 2}, /* SQL */
    {"strengths.top.1.people", 1},
    {"strengths.top.2.people", 1},
    {"strengths.unoffered_learning.0.learners", 2},
    {"teams.teams.0.people", 1}, /* Data */
    {"teams.teams.1.people", 2}, /* Platform */
    {"teams.no_team", 1},
    {"teams.zones.0.offset_minutes", 60},
    {"teams.zones.0.people", 2},
    {"teams.zones.1.offset_minutes", 330},
    {"teams.zones.1.people", 1},
    {"teams.zones.2.people", 1},
    {"freshness.completeness.complete", 1},
    {"freshness.completeness.incomplete", 3},
    {"freshness.completeness.fields.0.missing", 2},  /* role: Bo, Di */
    {"freshness.completeness.fields.1.missing", 1},  /* team: Di */
    {"freshness.completeness.fields.6.missing", 1},  /* mentoring: Di */
    {"freshness.completeness.fields.7.missing", 2},  /* goals: Bo, Di */
    {"freshness.completeness.fields.8.missing", 1},  /* background: Di */
    {"freshness.completeness.fields.9.missing", 3},  /* ## Strengths */
    {"freshness.completeness.fields.11.missing", 3}, /* ## Values */
};

Test(report, figures_of_a_small_team) {
  char *repo = team_repo(true);
  ws_source *src = NULL;
  ws_site *site = load_site(repo, &src);
  ws_value *f = ws_report_figures(site, T_2024_06_15);
  expect_nums(f, mentoring_cases,
              sizeof(mentoring_cases) / sizeof(mentoring_cases[0]));
  expect_nums(f, other_cases, sizeof(other_cases) / sizeof(other_cases[0]));
  cr_expect_str_eq(str_at(f, "mentoring.types.3.type"), "challenger");
  cr_expect_str_eq(str_at(f, "strengths.top.0.name"), "SQL");
  cr_expect_str_eq(str_at(f, "strengths.top.1.name"), "hiring");
  cr_expect_eq(len_at(f, "strengths.single_holder"), 2);
  cr_expect_str_eq(str_at(f, "strengths.single_holder.0.name"), "hiring");
  cr_expect_str_eq(str_at(f, "strengths.single_holder.0.person.url"),
                   "people/ana/");
  cr_expect_str_eq(str_at(f, "strengths.single_holder.1.person.name"), "Cy");
  /* design is learned but Cy offers it as a topic; Rust is offered by no
   * one (its label is the byte-wise smallest of two spellings). */
  cr_expect_eq(len_at(f, "strengths.unoffered_learning"), 1);
  cr_expect_str_eq(str_at(f, "strengths.unoffered_learning.0.name"), "Rust");
  cr_expect_str_eq(str_at(f, "strengths.unoffered_learning.0.people.1.name"),
                   "Bo");
  cr_expect_str_eq(str_at(f, "teams.teams.1.name"), "Platform");
  cr_expect_str_eq(str_at(f, "teams.zones.0.band"), "UTC+1");
  cr_expect_str_eq(str_at(f, "teams.zones.0.locations.0"), "Berlin");
  cr_expect_str_eq(str_at(f, "teams.zones.0.locations.1"), "Lagos");
  cr_expect_str_eq(str_at(f, "teams.zones.1.band"), "UTC+5:30");
  cr_expect_str_eq(str_at(f, "teams.zones.2.band"), "unknown");
  cr_expect_eq(at(f, "teams.zones.2.offset_minutes")->type, WS_VALUE_NULL);
  cr_expect_str_eq(str_at(f, "freshness.completeness.fields.0.profiles.1.url"),
                   "people/di/");
  /* Without history, freshness and growth are empty. */
  cr_expect_eq(at(f, "history")->u.boolean, false);
  cr_expect_eq(len_at(f, "freshness.ages"), 0);
  cr_expect_eq(len_at(f, "growth.months"), 0);
  cr_expect_str_eq(str_at(f, "as_of"), "2024-06-15");
  ws_value_free(f);
  ws_site_free(site);
  ws_source_free(src);
  th_rm_rf(repo);
  free(repo);
}

Test(report, freshness_and_growth_from_history) {
  char *repo = team_repo(true);
  ws_source *src = NULL;
  ws_site *site = load_site(repo, &src);
  fake_history(site);
  ws_value *f = ws_report_figures(site, T_2024_06_15);
  static const num_case cases[] = {
      {"freshness.ages.0.count", 1}, /* Ana: 0 months */
      {"freshness.ages.0.profiles.0.months", 0},
      {"freshness.ages.1.count", 1}, /* Bo: 20 Dec to 15 Jun, 5 months */
      {"freshness.ages.1.profiles.0.months", 5},
      {"freshness.ages.2.count", 0},
      {"freshness.ages.3.count", 0},
      {"freshness.ages.4.count", 1}, /* Cy: 29 months */
      {"freshness.ages.4.profiles.0.months", 29},
      {"freshness.ages.5.count", 1}, /* Di: not in history */
      {"growth.months.0.added", 2},
      {"growth.months.0.people", 2},
      {"growth.months.1.people", 2},
      {"growth.months.2.added", 2},
      {"growth.months.2.people", 4},
      {"growth.months.3.added", 1},
      {"growth.months.3.removed", 1},
      {"growth.months.3.people", 4},
      {"growth.months.5.added", 0},
      {"growth.months.5.people", 4},
  };
  expect_nums(f, cases, sizeof(cases) / sizeof(cases[0]));
  cr_expect_eq(at(f, "history")->u.boolean, true);
  cr_expect_eq(len_at(f, "freshness.ages"), 6);
  cr_expect_str_eq(str_at(f, "freshness.ages.4.profiles.0.name"), "Cy");
  cr_expect_str_eq(str_at(f, "freshness.ages.5.profiles.0.slug"), "di");
  cr_expect_eq(len_at(f, "growth.months"), 6);
  cr_expect_str_eq(str_at(f, "growth.months.0.month"), "2024-01");
  cr_expect_str_eq(str_at(f, "growth.months.5.month"), "2024-06");
  ws_value_free(f);
  ws_site_free(site);
  ws_source_free(src);
  th_rm_rf(repo);
  free(repo);
}

/* A month ends at its last second: events on either side of the ends of
 * a year, of a month and of a leap February land in their own months,
 * whichever month the event before them was in. */
Test(report, growth_counts_each_event_in_its_own_month) {
  char *repo = team_repo(true);
  ws_source *src = NULL;
  ws_site *site = load_site(repo, &src);
  add_event(site, WS_EVENT_ADDED, 1709251200LL, "e");   /* 2024-03-01 00:00 */
  add_event(site, WS_EVENT_REMOVED, 1709251199LL, "d"); /* 2024-02-29 23:59:59 */
  add_event(site, WS_EVENT_ADDED, 1706745600LL, "d");   /* 2024-02-01 00:00 */
  add_event(site, WS_EVENT_REMOVED, 1706745599LL, "c"); /* 2024-01-31 23:59:59 */
  add_event(site, WS_EVENT_ADDED, 1704067200LL, "b");   /* 2024-01-01 00:00 */
  add_event(site, WS_EVENT_ADDED, 1704067199LL, "a");   /* 2023-12-31 23:59:59 */
  add_event(site, WS_EVENT_ADDED, 1704067199LL, "c");
  ws_value *f = ws_report_figures(site, 1710460800LL); /* 2024-03-15 */
  static const num_case cases[] = {
      {"growth.months.0.added", 2},   {"growth.months.0.removed", 0},
      {"growth.months.0.people", 2},  {"growth.months.1.added", 1},
      {"growth.months.1.removed", 1}, {"growth.months.1.people", 2},
      {"growth.months.2.added", 1},   {"growth.months.2.removed", 1},
      {"growth.months.2.people", 2},  {"growth.months.3.added", 1},
      {"growth.months.3.removed", 0}, {"growth.months.3.people", 3},
  };
  expect_nums(f, cases, sizeof(cases) / sizeof(cases[0]));
  cr_expect_eq(len_at(f, "growth.months"), 4);
  cr_expect_str_eq(str_at(f, "growth.months.0.month"), "2023-12");
  cr_expect_str_eq(str_at(f, "growth.months.2.month"), "2024-02");
  cr_expect_str_eq(str_at(f, "growth.months.3.month"), "2024-03");
  ws_value_free(f);
  ws_site_free(site);
  ws_source_free(src);
  th_rm_rf(repo);
  free(repo);
}

/* Profiles of one age bucket are listed stalest first, and those of the
 * same age in the site's order; so are they with a date from before any
 * calendar the counting expects (a crafted commit), which is sorted the
 * slow way. */
Test(report, the_stalest_profiles_come_first) {
  static const long long stale[] = {1577836800LL, -60000000000000000LL};
  for (size_t c = 0; c < 2; c++) {
    char *repo = team_repo(true);
    ws_source *src = NULL;
    ws_site *site = load_site(repo, &src);
    cr_assert_geq(site->npeople, 3);
    const long long last[] = {T_2022_01_10, stale[c], T_2022_01_10};
    for (size_t i = 0; i < 3; i++) {
      site->people[i]->history.known = true;
      site->people[i]->history.last_time = last[i];
    }
    add_event(site, WS_EVENT_ADDED, T_2022_01_10, "x");
    ws_value *f = ws_report_figures(site, T_2024_06_15);
    cr_expect_eq(len_at(f, "freshness.ages.4.profiles"), 3, "case %zu", c);
    const size_t want[] = {1, 0, 2};
    for (size_t k = 0; k < 3; k++) {
      char path[64];
      snprintf(path, sizeof(path), "freshness.ages.4.profiles.%zu.slug", k);
      cr_expect_str_eq(str_at(f, path), site->people[want[k]]->slug,
                       "case %zu, place %zu", c, k);
    }
    ws_value_free(f);
    ws_site_free(site);
    ws_source_free(src);
    th_rm_rf(repo);
    free(repo);
  }
}

Test(report, json_has_a_stable_layout) {
  char *repo = team_repo(true);
  ws_source *src = NULL;
  ws_site *site = load_site(repo, &src);
  ws_value *f = ws_report_figures(site, T_2024_06_15);
  ws_str a = WS_STR_INIT, b = WS_STR_INIT;
  ws_report_json(&a, f);
  ws_report_json(&b, f);
  cr_expect_str_eq(a.ptr, b.ptr);
  const char *head = "{\"version\":1,\n \"as_of\":\"2024-06-15\",\n "
                     "\"people\":4,\n \"history\":false,\n";
  cr_expect(strncmp(a.ptr, head, strlen(head)) == 0, "%.120s", a.ptr);
  cr_expect(strstr(a.ptr, "{\"type\":\"challenger\",\"seekers\":3,"
                          "\"offerers\":1,\"capacity\":1,\"unmet\":2,"
                          "\"formats\":{\"one-on-one\":{\"seekers\":2,"
                          "\"offerers\":1,\"capacity\":1,\"unmet\":1},"),
            "%s", a.ptr);
  cr_expect(strstr(a.ptr, "\"total\":{\"seekers\":3,\"offerers\":2,"
                          "\"capacity\":3,\"unmet\":2,\"types_unmet\":1}"));
  cr_expect(strstr(a.ptr, "{\"band\":\"UTC+5:30\",\"offset_minutes\":330,"
                          "\"people\":1,\"locations\":[\"Pune\"]}"));
  cr_expect(strstr(a.ptr, "\"freshness\":{\"ages\":[],"));
  cr_expect(strstr(a.ptr, "\"growth\":{\"months\":[]}}\n"));
  ws_str_release(&a);
  ws_str_release(&b);
  ws_value_free(f);
  ws_site_free(site);
  ws_source_free(src);
  th_rm_rf(repo);
  free(repo);
}

/* --- the page, built by the binary (a work tree without commits: no
 * history) --- */

static char *build_report(const char *repo, const char *json) {
  char *tmp = th_tmpdir(), out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  const char *argv[] = {"build", "-C", repo,      "--worktree",
                        "--out", out,  "--quiet", "--report-json",
                        json,    NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  ws_str_release(&err);
  char *html = th_read(out, "report/index.html");
  cr_assert(html);
  th_rm_rf(tmp);
  free(tmp);
  return html;
}

/* Calls 'fn' on every <svg>...</svg> of 'html', parsed as XML. */
static size_t each_svg(const char *html, void (*fn)(xmlNode *, void *),
                       void *payload) {
  size_t n = 0;
  for (const char *p = strstr(html, "<svg"); p; p = strstr(p + 1, "<svg")) {
    const char *end = strstr(p, "</svg>");
    cr_assert(end, "unclosed svg");
    int len = (int)(end + 6 - p);
    xmlDoc *doc = xmlReadMemory(p, len, "chart.svg", "UTF-8",
                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    cr_assert(doc, "chart %zu is not well-formed XML: %.200s", n, p);
    xmlNode *root = xmlDocGetRootElement(doc);
    cr_expect_str_eq((const char *)root->name, "svg");
    xmlChar *role = xmlGetProp(root, (const xmlChar *)"role");
    cr_expect_str_eq((const char *)role, "img");
    xmlFree(role);
    xmlNode *first = xmlFirstElementChild(root);
    cr_expect(first && strcmp((const char *)first->name, "title") == 0);
    cr_expect(
        first && xmlNextElementSibling(first) &&
        strcmp((const char *)xmlNextElementSibling(first)->name, "desc") == 0);
    if (fn)
      fn(root, payload);
    xmlFreeDoc(doc);
    n++;
  }
  return n;
}

typedef struct {
  const char *id, *cls, *attr; /* attr: "width" or "height" */
  double widths[16];
  size_t n;
} bars;

static void collect_bars(xmlNode *root, void *payload) {
  bars *b = payload;
  xmlChar *id = xmlGetProp(root, (const xmlChar *)"aria-labelledby");
  bool mine = id && strncmp((const char *)id, b->id, strlen(b->id)) == 0;
  xmlFree(id);
  if (!mine)
    return;
  for (xmlNode *c = xmlFirstElementChild(root); c;
       c = xmlNextElementSibling(c)) {
    xmlChar *cls = xmlGetProp(c, (const xmlChar *)"class");
    xmlChar *w = xmlGetProp(c, (const xmlChar *)b->attr);
    /* Legend swatches are 10 wide and come first; bars carry a tooltip. */
    if (cls && w && strcmp((const char *)cls, b->cls) == 0 &&
        xmlFirstElementChild(c) && b->n < 16)
      b->widths[b->n++] = strtod((const char *)w, NULL);
    xmlFree(cls);
    xmlFree(w);
  }
}

/* The bars of 'id' with class 'cls' have their 'attr' (width or height)
 * proportional to 'want'. */
static void expect_proportional(const char *html, const char *id,
                                const char *cls, const char *attr,
                                const double *want, size_t n) {
  bars b = {id, cls, attr, {0}, 0};
  each_svg(html, collect_bars, &b);
  cr_assert_eq(b.n, n, "%s: %zu bars of class %s", id, b.n, cls);
  double wmax = 0, vmax = 0;
  for (size_t i = 0; i < n; i++) {
    wmax = b.widths[i] > wmax ? b.widths[i] : wmax;
    vmax = want[i] > vmax ? want[i] : vmax;
  }
  cr_assert(wmax > 0 && vmax > 0);
  for (size_t i = 0; i < n; i++)
    cr_expect(b.widths[i] / wmax - want[i] / vmax < 0.001 &&
                  want[i] / vmax - b.widths[i] / wmax < 0.001,
              "%s bar %zu: width %g of %g, value %g of %g", id, i, b.widths[i],
              wmax, want[i], vmax);
}

Test(report, page_tables_charts_and_json) {
  char *repo = team_repo(false), *tmp = th_tmpdir(), json[4096];
  snprintf(json, sizeof(json), "%s/report.json", tmp);
  char *html = build_report(repo, json);
  char *text = th_read(json, NULL);
  cr_assert(text);
  /* The page: one row per table, numbers as in the figures. */
  static const char *const rows[] = {
      "<th scope=\"row\"><a href=\"../mentoring/challenger/\">challenger</a>"
      "</th><td class=\"num\">3</td><td class=\"num\">1</td><td "
      "class=\"num\">1</td><td class=\"num\"><strong>2</strong></td></tr>",
      "<tr class=\"unmet\"><th scope=\"row\"><a "
      "href=\"../mentoring/challenger/\">",
      "<th scope=\"row\"><a href=\"../mentoring/coach/\">coach</a></th><td "
      "class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">2</td>"
      "<td class=\"num\">0</td></tr>",
      "<tfoot><tr><th scope=\"row\">any type</th><td class=\"num\">3</td><td "
      "class=\"num\">2</td><td class=\"num\">3</td><td class=\"num\">2</td>",
      "<tr><th scope=\"row\">coach</th><td class=\"num\">0 / 2</td><td "
      "class=\"num unmet\">1 / 0</td><td class=\"num\">0 / 2</td><td "
      "class=\"num unmet\">1 / 0</td></tr>",
      "<th scope=\"row\"><a href=\"../strengths/sql/\" dir=\"auto\">SQL</a>"
      "</th><td class=\"num\">2</td><td class=\"num\">0</td>",
      "<th scope=\"row\"><a href=\"../strengths/hiring/\" dir=\"auto\">"
      "hiring</a></th><td><a href=\"../people/ana/\" dir=\"auto\">Ana</a>",
      "<th scope=\"row\"><a href=\"../strengths/rust/\" dir=\"auto\">Rust</a>"
      "</th><td><a href=\"../people/ana/\" dir=\"auto\">Ana</a>",
      "<th scope=\"row\"><a href=\"../teams/platform/\" dir=\"auto\">"
      "Platform</a></th><td class=\"num\">2</td>",
      "<th scope=\"row\">no team given</th><td class=\"num\">1</td>",
      "<th scope=\"row\">UTC+1</th><td class=\"num\">2</td><td><span "
      "dir=\"auto\">Berlin</span>",
      "<th scope=\"row\">UTC+5:30</th><td class=\"num\">1</td>",
      "<th scope=\"row\">Role</th><td class=\"num\">2</td><td><a "
      "href=\"../people/bo/\" dir=\"auto\">Bo</a>",
      "<th scope=\"row\">## Values</th><td class=\"num\">3</td>",
      "1 profiles have every recommended field and section; 3 miss",
      "No history available (built with --no-history or from a work tree "
      "without commits).",
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
    cr_expect(strstr(html, rows[i]), "page lacks: %s", rows[i]);
  cr_expect(strstr(html, "2 requests are unmet, in 1 of the seven types."));
  /* Six charts without history (no ages, no growth), all valid XML. */
  cr_expect_eq(each_svg(html, NULL, NULL), 6);
  /* Seekers per type: 0 0 0 3 1 0 0; places: 2 0 0 1 2 0 0. */
  const double seek[] = {0, 0, 0, 3, 1, 0, 0}, cap[] = {2, 0, 0, 1, 2, 0, 0};
  expect_proportional(html, "chart-supply", "cbar cbar-demand", "width", seek,
                      7);
  expect_proportional(html, "chart-supply", "cbar cbar-supply", "width", cap,
                      7);
  const double unmet[] = {2};
  expect_proportional(html, "chart-supply", "cbar cbar-unmet", "width", unmet,
                      1);
  /* The JSON has the same figures. */
  cr_expect(strstr(text, "\"total\":{\"seekers\":3,\"offerers\":2,"
                         "\"capacity\":3,\"unmet\":2,\"types_unmet\":1}"));
  cr_expect(strstr(text, "\"history\":false"));
  cr_expect(strstr(text, "\"completeness\":{\"complete\":1,\"incomplete\":3,"));
  free(text);
  free(html);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

/* Labels come from profiles: markup in them stays text in the SVG and the
 * tables, and control characters do not break the XML. */
Test(report, labels_are_escaped) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir(), json[4096];
  th_write(repo, "people/eve.md",
           "---\nname: \"Eve <b>&amp;\"\nteam: \"R&D <i>\"\n"
           "strengths: [\"<script>alert(1)</script>\", \"a\\x01b\", "
           "\"x]]>y\"]\n---\n");
  snprintf(json, sizeof(json), "%s/r.json", tmp);
  char *html = build_report(repo, json);
  cr_expect_null(strstr(html, "<script>"));
  cr_expect_null(strstr(html, "<i>"));
  cr_expect(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  cr_expect(strstr(html, "R&amp;D &lt;i&gt;"));
  cr_expect_eq(each_svg(html, NULL, NULL), 6);
  free(html);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

/* With history, the page draws ages and growth too (rendered in process,
 * with the history of fake_history). */
Test(report, page_with_history_draws_ages_and_growth) {
  char *repo = team_repo(true), *tmp = th_tmpdir(), themes[4096];
  ws_source *src = NULL;
  ws_site *site = load_site(repo, &src);
  fake_history(site);
  ws_theme *theme = NULL;
  ws_output *out = NULL;
  snprintf(themes, sizeof(themes), "%s/themes/default", th_root());
  cr_assert_eq(ws_theme_open(&theme, themes, src), 0, "%s", ws_error_last());
  cr_assert_eq(ws_output_open(&out, tmp), 0, "%s", ws_error_last());
  ws_render_opts ro = {.build_time = T_2024_06_15};
  cr_assert_eq(ws_render_site(site, theme, src, out, &ro), 0, "%s",
               ws_error_last());
  cr_assert_eq(ws_output_commit(out, 0), 0);
  char *html = th_read(tmp, "report/index.html");
  cr_assert(html);
  cr_expect_eq(each_svg(html, NULL, NULL), 8);
  cr_expect_null(strstr(html, "No history available"));
  cr_expect(strstr(html, "<th scope=\"row\">3 to 5 months</th><td "
                         "class=\"num\">1</td><td><a href=\"../people/bo/\""));
  cr_expect(strstr(html, "<th scope=\"row\">2024-04</th><td class=\"num\">1"
                         "</td><td class=\"num\">1</td><td class=\"num\">4"
                         "</td>"));
  const double people[] = {2, 2, 4, 4, 4, 4};
  expect_proportional(html, "chart-growth", "cbar cbar-a", "height", people, 6);
  free(html);
  ws_output_free(out);
  ws_theme_free(theme);
  ws_site_free(site);
  ws_source_free(src);
  th_rm_rf(tmp);
  free(tmp);
  th_rm_rf(repo);
  free(repo);
}

Test(report, zone_offsets_from_tzif_footers) {
  static const struct {
    const char *zone;
    bool ok;
    long minutes;
  } cases[] = {
      {"Europe/Berlin", true, 60}, {"Asia/Kolkata", true, 330},
      {"Europe/Dublin", true, 0},  {"America/Sao_Paulo", true, -180},
      {"Nowhere/Zone", false, 0},  {"../Europe/Berlin", false, 0},
      {"/etc/passwd", false, 0},   {"", false, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    long m = 12345;
    bool ok = ws_report_zone_offset(&m, cases[i].zone);
    cr_expect_eq(ok, cases[i].ok, "%s", cases[i].zone);
    if (ok)
      cr_expect_eq(m, cases[i].minutes, "%s: %ld", cases[i].zone, m);
  }
}

/* The dates of pages and of the feed, formatted by hand for speed, read as
 * printf would write them, over a spread of times from year 1 to 9999. */
Test(report, dates_read_as_printf_writes_them) {
  static const char *months[] = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  /* Years 0, -1 and -1000 first (the sign counts in printf's width), then
   * a walk from year 1. */
  static const long long early[] = {-62167219200LL, -62198755200LL,
                                    -93724128000LL};
  long long t = -62135596800LL; /* 0001-01-01T00:00:00Z */
  unsigned long long x = 88172645463325252ULL;
  for (int i = -3; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i < 0)
      t = early[i + 3];
    else if (i == 0)
      t = -62135596800LL;
    else
      t += (long long)(x % 20000000);
    time_t tt = (time_t)t;
    struct tm tm;
    cr_assert(gmtime_r(&tt, &tm));
    char want[64], want_date[64];
    snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    snprintf(want_date, sizeof(want_date), "%d %s %d", tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900);
    ws_str iso = WS_STR_INIT, day = WS_STR_INIT, date = WS_STR_INIT;
    ws_render_iso(&iso, t, false);
    ws_render_iso(&day, t, true);
    ws_render_date(&date, t);
    cr_assert_str_eq(iso.ptr, want, "at %lld", t);
    size_t date_len = (size_t)(strchr(want, 'T') - want);
    cr_assert_eq(day.len, date_len, "%s at %lld", day.ptr, t);
    cr_assert(strncmp(day.ptr, want, date_len) == 0, "%s at %lld", day.ptr, t);
    cr_assert_str_eq(date.ptr, want_date, "at %lld", t);
    ws_str_release(&iso);
    ws_str_release(&day);
    ws_str_release(&date);
  }
  cr_expect_gt(t, 946684800LL, "the walk passed the year 2000");
}

/* The calendar worked out by hand agrees with gmtime_r field by field,
 * at times spread over billions of years both ways, around the turns of
 * days, leap years and centuries, and at the last times the calendar can
 * hold (one second past them, both give up). */
Test(report, the_utc_calendar_agrees_with_gmtime) {
  static const long long edge[] = {0,
                                   -1,
                                   86399,
                                   86400,
                                   951782399,  /* 2000-02-28T23:59:59Z */
                                   951868800,  /* 2000-03-01 */
                                   4107542399, /* 2100-02-28T23:59:59Z */
                                   -2203891200,
                                   -62135596800LL,
                                   -62135596801LL,
                                   67768036191676799LL, /* the last second */
                                   67768036191676800LL,
                                   -67768040609740800LL, /* the first */
                                   -67768040609740801LL,
                                   LLONG_MAX,
                                   LLONG_MIN};
  unsigned long long x = 88172645463325252ULL;
  size_t nedge = sizeof(edge) / sizeof(edge[0]);
  for (size_t i = 0; i < nedge + 200000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    long long t = i < nedge ? edge[i]
                  : i % 2   ? (long long)(x % 20000000000ULL) - 10000000000LL
                            : (long long)(x >> (x % 64));
    if (i >= nedge && x % 3 == 0)
      t = -t;
    time_t tt = (time_t)t;
    struct tm want, got;
    bool ok = gmtime_r(&tt, &want) != NULL;
    cr_assert_eq(ws_render_utc(&got, t), ok, "at %lld", t);
    if (!ok)
      continue;
    cr_assert(got.tm_year == want.tm_year && got.tm_mon == want.tm_mon &&
                  got.tm_mday == want.tm_mday && got.tm_hour == want.tm_hour &&
                  got.tm_min == want.tm_min && got.tm_sec == want.tm_sec &&
                  got.tm_wday == want.tm_wday && got.tm_yday == want.tm_yday,
              "at %lld: %d-%d-%d %d:%d:%d (%d, %d) for %d-%d-%d %d:%d:%d (%d, "
              "%d)",
              t, got.tm_year, got.tm_mon, got.tm_mday, got.tm_hour, got.tm_min,
              got.tm_sec, got.tm_wday, got.tm_yday, want.tm_year, want.tm_mon,
              want.tm_mday, want.tm_hour, want.tm_min, want.tm_sec,
              want.tm_wday, want.tm_yday);
    /* And back: the day of that date is the day of the time. */
    long long day = t / 86400 - (t % 86400 < 0);
    cr_assert_eq(ws_render_days_from_civil((long long)want.tm_year + 1900,
                                           (unsigned)want.tm_mon + 1,
                                           (unsigned)want.tm_mday),
                 day, "at %lld", t);
  }
}
