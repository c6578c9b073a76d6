/* bench/mustache.c - how fast a compiled person page renders.
 *
 * Compiles a person-page-sized template once (a parent layout, partials
 * through an environment, sections over lists) and renders it 100,000
 * times against a realistic context, reusing one output buffer, the way
 * the site renderer does. Prints renders/s and MB/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "mustache.h"
#include "str.h"
#include "value.h"

#define RENDERS 100000

static const char *const layout =
    "<!doctype html>\n"
    "<html lang=\"{{site.lang}}\">\n"
    "<head>\n"
    "  <meta charset=\"utf-8\">\n"
    "  <title>{{$title}}{{site.title}}{{/title}}</title>\n"
    "  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "  <link rel=\"stylesheet\" href=\"{{site.base}}/style.css\">\n"
    "  {{$head}}{{/head}}\n"
    "</head>\n"
    "<body>\n"
    "  <header class=\"site\">\n"
    "    <a class=\"home\" href=\"{{site.base}}/\">{{site.title}}</a>\n"
    "    <nav>\n"
    "      {{#site.nav}}\n"
    "      <a href=\"{{site.base}}{{href}}\">{{label}}</a>\n"
    "      {{/site.nav}}\n"
    "    </nav>\n"
    "  </header>\n"
    "  <main>\n"
    "    {{$body}}<p>Nothing here.</p>{{/body}}\n"
    "  </main>\n"
    "  <footer>\n"
    "    <p>{{site.footer}} &middot; built {{site.built}}</p>\n"
    "  </footer>\n"
    "</body>\n"
    "</html>\n";

static const char *const chip =
    "<li class=\"chip chip-{{kind}}\"><a href=\"{{site.base}}/{{kind}}/"
    "{{slug}}/\">{{label}}</a>{{#count}} <span class=\"n\">{{count}}</span>"
    "{{/count}}</li>\n";

static const char *const card =
    "<article class=\"card\">\n"
    "  <a href=\"{{site.base}}/people/{{slug}}/\">\n"
    "    {{#photo}}<img src=\"{{site.base}}/{{photo}}\" alt=\"\" "
    "loading=\"lazy\">{{/photo}}\n"
    "    {{^photo}}<span class=\"initials\">{{initials}}</span>{{/photo}}\n"
    "    <strong>{{name}}</strong>\n"
    "  </a>\n"
    "  {{#role}}<small>{{role}}</small>{{/role}}\n"
    "</article>\n";

static const char *const page =
    "{{<layout}}\n"
    "{{$title}}{{person.name}} &middot; {{site.title}}{{/title}}\n"
    "{{$head}}<meta name=\"description\" content=\"{{person.summary}}\">"
    "{{/head}}\n"
    "{{$body}}\n"
    "{{#person}}\n"
    "<section class=\"person\" id=\"{{slug}}\">\n"
    "  <div class=\"intro\">\n"
    "    {{#photo}}\n"
    "    <img class=\"photo\" src=\"{{site.base}}/{{photo}}\" alt=\"{{name}}\">\n"
    "    {{/photo}}\n"
    "    <h1>{{name}}</h1>\n"
    "    <p class=\"title\">{{title}}{{#team}} &middot; <a "
    "href=\"{{site.base}}/teams/{{slug}}/\">{{name}}</a>{{/team}}</p>\n"
    "    {{#location}}<p class=\"where\">{{location}}</p>{{/location}}\n"
    "    <p class=\"summary\">{{summary}}</p>\n"
    "  </div>\n"
    "  <div class=\"bio\">\n"
    "    {{{bio_html}}}\n"
    "  </div>\n"
    "  {{#has.strengths}}\n"
    "  <h2>Strengths</h2>\n"
    "  <ul class=\"chips\">\n"
    "    {{#strengths}}\n"
    "    {{>chip}}\n"
    "    {{/strengths}}\n"
    "  </ul>\n"
    "  {{/has.strengths}}\n"
    "  {{#has.interests}}\n"
    "  <h2>Interests</h2>\n"
    "  <ul class=\"chips\">\n"
    "    {{#interests}}\n"
    "    {{>chip}}\n"
    "    {{/interests}}\n"
    "  </ul>\n"
    "  {{/has.interests}}\n"
    "  <h2>Mentoring</h2>\n"
    "  {{#has.mentors}}\n"
    "  <h3>Mentors</h3>\n"
    "  <div class=\"cards\">\n"
    "    {{#mentors}}\n"
    "    {{>card}}\n"
    "    {{/mentors}}\n"
    "  </div>\n"
    "  {{/has.mentors}}\n"
    "  {{#has.mentees}}\n"
    "  <h3>Mentees</h3>\n"
    "  <div class=\"cards\">\n"
    "    {{#mentees}}\n"
    "    {{>card}}\n"
    "    {{/mentees}}\n"
    "  </div>\n"
    "  {{/has.mentees}}\n"
    "  {{^mentors}}{{^mentees}}<p class=\"none\">No mentoring yet.</p>"
    "{{/mentees}}{{/mentors}}\n"
    "  <h2>History</h2>\n"
    "  <ol class=\"history\">\n"
    "    {{#history}}\n"
    "    <li><time datetime=\"{{date}}\">{{date}}</time> {{what}}"
    "{{#by}} <span class=\"by\">by {{by}}</span>{{/by}}</li>\n"
    "    {{/history}}\n"
    "  </ol>\n"
    "  {{#has.links}}\n"
    "  <h2>Elsewhere</h2>\n"
    "  <ul class=\"links\">\n"
    "    {{#links}}\n"
    "    <li><a rel=\"me\" href=\"{{url}}\">{{label}}</a></li>\n"
    "    {{/links}}\n"
    "  </ul>\n"
    "  {{/has.links}}\n"
    "  <h2>Circles</h2>\n"
    "  <table class=\"circles\">\n"
    "    <thead><tr><th>Circle</th><th>Since</th><th>Role</th>"
    "<th>Members</th></tr></thead>\n"
    "    <tbody>\n"
    "      {{#circles}}\n"
    "      <tr class=\"{{#lead}}lead{{/lead}}{{^lead}}member{{/lead}}\">\n"
    "        <td><a href=\"{{site.base}}/circles/{{slug}}/\">{{name}}</a>"
    "</td>\n"
    "        <td><time datetime=\"{{since}}\">{{since}}</time></td>\n"
    "        <td>{{#lead}}Lead{{/lead}}{{^lead}}Member{{/lead}}</td>\n"
    "        <td>{{members}}</td>\n"
    "      </tr>\n"
    "      {{/circles}}\n"
    "    </tbody>\n"
    "  </table>\n"
    "  <aside class=\"matches\">\n"
    "    <h2>People you might pair with</h2>\n"
    "    <p>Shared strengths with {{matches.count}} colleagues; the "
    "closest are listed here.</p>\n"
    "    <div class=\"cards\">\n"
    "      {{#matches.people}}\n"
    "      {{>card}}\n"
    "      {{/matches.people}}\n"
    "    </div>\n"
    "  </aside>\n"
    "  <p class=\"meta\">Profile updated {{updated}} &middot; "
    "{{stats.commits}} edits &middot; score {{stats.score}}</p>\n"
    "</section>\n"
    "{{/person}}\n"
    "{{/body}}\n"
    "{{/layout}}\n";

static int load(ws_str *out, const char *name, void *payload) {
  (void)payload;
  const char *src = strcmp(name, "layout") == 0 ? layout
                    : strcmp(name, "chip") == 0 ? chip
                    : strcmp(name, "card") == 0 ? card
                                                : NULL;
  if (!src)
    return WS_ENOTFOUND;
  ws_str_puts(out, src);
  return 0;
}

static ws_value *chips(const char *kind, const char *const *labels, int n) {
  ws_value *list = ws_value_list();
  for (int i = 0; i < n; i++) {
    ws_value *c = ws_value_map();
    ws_str slug = WS_STR_INIT;
    for (const char *s = labels[i]; *s; s++)
      ws_str_putc(&slug, *s == ' ' ? '-' : (char)(*s | 0x20));
    ws_value_set_str(c, "kind", kind);
    ws_value_set_str(c, "slug", slug.ptr);
    ws_value_set_str(c, "label", labels[i]);
    ws_value_set_num(c, "count", 3 + i * 7);
    ws_value_push(list, c);
    ws_str_release(&slug);
  }
  return list;
}

static ws_value *people(const char *const *names, int n) {
  ws_value *list = ws_value_list();
  for (int i = 0; i < n; i++) {
    ws_value *p = ws_value_map();
    ws_value_set_str(p, "slug", names[i]);
    ws_value_set_str(p, "name", names[i]);
    ws_value_set_str(p, "initials", "AB");
    if (i % 2)
      ws_value_set_str(p, "photo", "img/people/someone.jpg");
    ws_value_set_str(p, "role", i % 2 ? "advisor" : "coach");
    ws_value_push(list, p);
  }
  return list;
}

static ws_value *context(void) {
  static const char *const strengths[] = {
      "Distributed systems", "Mentoring", "Technical writing",
      "Incident response",   "Go",        "PostgreSQL"};
  static const char *const interests[] = {"Climbing", "Sourdough", "Typography",
                                          "Chess"};
  static const char *const mentors[] = {"grace-hopper", "barbara-liskov"};
  static const char *const mentees[] = {"alan-kay", "ken-thompson",
                                        "frances-allen"};
  ws_value *ctx = ws_value_map(), *site = ws_value_map();
  ws_value *nav = ws_value_list(), *p = ws_value_map();
  ws_value_set_str(site, "lang", "en");
  ws_value_set_str(site, "title", "Example & Co. people");
  ws_value_set_str(site, "base", "/people-site");
  ws_value_set_str(site, "footer", "Made with wholeself");
  ws_value_set_str(site, "built", "2024-05-01");
  for (int i = 0; i < 4; i++) {
    ws_value *link = ws_value_map();
    static const char *const labels[] = {"People", "Teams", "Strengths",
                                         "Report"};
    ws_value_set_str(link, "label", labels[i]);
    ws_value_set_str(link, "href", "/section/");
    ws_value_push(nav, link);
  }
  ws_value_set(site, "nav", nav);
  ws_value_set(ctx, "site", site);

  ws_value_set_str(p, "slug", "ada-lovelace");
  ws_value_set_str(p, "name", "Ada Lovelace");
  ws_value_set_str(p, "title", "Principal Engineer");
  ws_value_set_str(p, "location", "London <UK>");
  ws_value_set_str(p, "photo", "img/people/ada.jpg");
  ws_value_set_str(p, "summary",
                   "Builds analytical engines and writes the \"first\" "
                   "programs; mentors new engineers.");
  ws_value_set_str(
      p, "bio_html",
      "<p>Ada works on the <em>platform</em> team, where she designs the "
      "scheduling core and reviews most of the storage changes.</p>\n"
      "<p>Before that she led the migration of the billing system and "
      "wrote the on-call handbook that every new hire reads.</p>\n"
      "<p>Her notes on the engine are widely quoted: {{not a tag}}.</p>");
  ws_value *team = ws_value_map();
  ws_value_set_str(team, "slug", "platform");
  ws_value_set_str(team, "name", "Platform");
  ws_value_set(p, "team", team);
  ws_value_set(p, "strengths", chips("strengths", strengths, 6));
  ws_value_set(p, "interests", chips("interests", interests, 4));
  ws_value_set(p, "mentors", people(mentors, 2));
  ws_value_set(p, "mentees", people(mentees, 3));
  ws_value *history = ws_value_list();
  for (int i = 0; i < 8; i++) {
    ws_value *h = ws_value_map();
    ws_value_set_str(h, "date", "2023-11-14");
    ws_value_set_str(h, "what", "Updated strengths & interests");
    if (i % 3 == 0)
      ws_value_set_str(h, "by", "Grace Hopper");
    ws_value_push(history, h);
  }
  ws_value_set(p, "history", history);
  ws_value *links = ws_value_list();
  for (int i = 0; i < 3; i++) {
    ws_value *l = ws_value_map();
    ws_value_set_str(l, "url", "https://example.org/~ada?x=1&y=2");
    ws_value_set_str(l, "label", "Homepage");
    ws_value_push(links, l);
  }
  ws_value_set(p, "links", links);
  ws_value_set_str(p, "updated", "2024-04-30");
  ws_value *stats = ws_value_map();
  ws_value_set_num(stats, "commits", 42);
  ws_value_set_num(stats, "score", 0.875);
  ws_value_set(p, "stats", stats);
  ws_value *has = ws_value_map();
  static const char *const keys[] = {"strengths", "interests", "mentors",
                                     "mentees", "links"};
  for (int i = 0; i < 5; i++)
    ws_value_set_bool(has, keys[i], true);
  ws_value_set(p, "has", has);
  ws_value *circles = ws_value_list();
  for (int i = 0; i < 4; i++) {
    ws_value *c = ws_value_map();
    ws_value_set_str(c, "slug", "reliability-guild");
    ws_value_set_str(c, "name", "Reliability <guild>");
    ws_value_set_str(c, "since", "2021-03-01");
    ws_value_set_bool(c, "lead", i == 0);
    ws_value_set_num(c, "members", 12 + i);
    ws_value_push(circles, c);
  }
  ws_value_set(p, "circles", circles);
  ws_value *matches = ws_value_map();
  ws_value_set_num(matches, "count", 17);
  ws_value_set(matches, "people", people(mentees, 3));
  ws_value_set(p, "matches", matches);
  ws_value_set(ctx, "person", p);
  return ctx;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
  ws_mustache *tpl;
  ws_mustache_env *env = ws_mustache_env_new(load, NULL);
  ws_value *ctx = context();
  ws_str out = WS_STR_INIT;
  size_t bytes = 0,
         src_len = strlen(page) + strlen(layout) + strlen(chip) + strlen(card);
  int rc = ws_mustache_compile(&tpl, "person", page, strlen(page));
  for (int i = 0; rc == 0 && i < RENDERS; i++) {
    if (i == 1)
      bytes = 0; /* the first render also loads the partials */
    ws_str_clear(&out);
    rc = ws_mustache_render(&out, tpl, ctx, env);
    bytes += out.len;
  }
  double start = now();
  for (int i = 0; rc == 0 && i < RENDERS; i++) {
    ws_str_clear(&out);
    rc = ws_mustache_render(&out, tpl, ctx, env);
  }
  double secs = now() - start;
  if (rc < 0) {
    fprintf(stderr, "bench/mustache: %s\n", ws_error_last());
    return 1;
  }
  bytes = out.len * (size_t)RENDERS;
  printf("mustache: %zu B of templates, %zu B per page, %d renders in "
         "%.3f s\n",
         src_len, out.len, RENDERS, secs);
  printf("mustache: %.0f renders/s, %.1f MB/s\n", RENDERS / secs,
         (double)bytes / secs / 1e6);
  if (getenv("WS_BENCH_SHOW"))
    fputs(out.ptr, stdout);
  ws_str_release(&out);
  ws_value_free(ctx);
  ws_mustache_free(tpl);
  ws_mustache_env_free(env);
  return 0;
}
