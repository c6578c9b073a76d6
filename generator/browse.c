#include "browse.h"

#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "str.h"
#include "xalloc.h"

/* How many people a learner is pointed to on a strength page: a hint, not
 * a list to read through. */
#define LEARN_FROM_MAX 3
/* How many strengths the directory links to without JavaScript, and a team
 * shows on the teams overview. */
#define DIRECTORY_STRENGTHS 12
#define TEAM_TOP_STRENGTHS 3

/* --- small builders --- */

static const char *people_word(size_t n) {
  return n == 1 ? "person" : "people";
}

static ws_value *tag_value(const ws_tag *t, const char *section) {
  ws_value *v = ws_value_map();
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "%s/%s/", section, t->slug);
  ws_value_set_str(v, "name", t->label);
  ws_value_set_str(v, "slug", t->slug);
  ws_value_set_str(v, "url", url.ptr);
  ws_value_set_num(v, "count", (double)t->npeople);
  ws_value_set_str(v, "people_word", people_word(t->npeople));
  ws_value_set_num(v, "learners", (double)t->nlearners);
  ws_value_set_bool(v, "has_learners", t->nlearners > 0);
  ws_str_release(&url);
  return v;
}

static ws_value *person_list(ws_renderer *r, const size_t *idx, size_t n) {
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++)
    ws_value_push(l, ws_render_person_ref(r, idx[i]));
  return l;
}

/* A person as a link: their name (as their context has it: none when it
 * is empty) and the address of their page. Made from the profile, so a
 * page's fingerprint can take it without the person's context. */
static const char *link_name(const ws_profile *p) {
  return p->name && *p->name ? p->name : NULL;
}

static ws_value *link_value(ws_renderer *r, size_t person) {
  const ws_profile *p = ws_renderer_site(r)->people[person];
  ws_value *v = ws_value_map();
  ws_str url = WS_STR_INIT;
  ws_render_person_url(&url, p->slug);
  ws_value_set_str(v, "name", link_name(p));
  ws_value_set_str(v, "url", url.ptr);
  ws_str_release(&url);
  return v;
}

/* --- strengths --- */

static size_t max_count(const ws_site *site) {
  size_t max = 0;
  for (size_t i = 0; i < site->nstrengths; i++)
    if (site->strengths[i].npeople > max)
      max = site->strengths[i].npeople;
  return max;
}

static int render_strengths_index(ws_renderer *r) {
  const ws_site *site = ws_renderer_site(r);
  ws_page pg = {"strengths", "strengths/index.html", "strengths", "Strengths",
                "Every strength on the team, most common first, with the "
                "number of people who have it."};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value *have = ws_value_list(), *learn_only = ws_value_list();
  size_t max = max_count(site);
  for (size_t i = 0; i < site->nstrengths; i++) {
    const ws_tag *t = &site->strengths[i];
    ws_value *v = tag_value(t, "strengths");
    if (t->npeople == 0) {
      ws_value_push(learn_only, v);
      continue;
    }
    /* Whole percent of the most common strength: the bar's length. */
    ws_value_set_num(v, "percent",
                     (double)((t->npeople * 100 + max / 2) / max));
    ws_value_push(have, v);
  }
  ws_value_set_num(ctx, "count", (double)have->u.list.len);
  ws_value_set_list(ctx, "strengths", have);
  ws_value_set_list(ctx, "learning_only", learn_only);
  return ws_render_page(r, &pg, ctx);
}

/* Who a learner could ask: people with the strength, those who offer
 * mentoring first, never the learner. Fills 'who' and returns how many. */
static size_t ask_whom(const ws_site *site, const ws_tag *t, size_t learner,
                       size_t who[LEARN_FROM_MAX]) {
  size_t n = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < t->npeople && n < LEARN_FROM_MAX; i++) {
      size_t p = t->people[i];
      bool offers = site->people[p]->offer_types != 0;
      if (p != learner && offers == (pass == 0))
        who[n++] = p;
    }
  return n;
}

static ws_value *learn_from(ws_renderer *r, const ws_tag *t, size_t learner) {
  size_t who[LEARN_FROM_MAX];
  size_t n = ask_whom(ws_renderer_site(r), t, learner, who);
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++)
    ws_value_push(l, link_value(r, who[i]));
  return l;
}

typedef struct {
  ws_renderer *r;
  const ws_tag *t;
} learners;

/* Each learner's card is their whole context, borrowed, and who to ask: a
 * strength page's fingerprint takes the context as it takes any card (by
 * its recorded digest, under the page's keys) and each person to ask as
 * a link (ws_render_digest_link: name, slug, role, team). So the cards are
 * made only when the page is rendered. */
static void learner_inputs(ws_renderer *r, const ws_page *pg, ws_digester *d,
                           void *payload) {
  const learners *l = payload;
  const ws_site *site = ws_renderer_site(r);
  for (size_t i = 0; i < l->t->nlearners; i++) {
    size_t learner = l->t->learners[i], who[LEARN_FROM_MAX];
    ws_render_digest_person(r, pg, d, learner);
    size_t n = ask_whom(site, l->t, learner, who);
    ws_digester_bytes(d, &n, sizeof(n));
    for (size_t k = 0; k < n; k++)
      ws_render_digest_link(r, d, who[k]);
  }
}

static void add_learners(ws_value *ctx, void *payload) {
  const learners *l = payload;
  ws_value *list = ws_value_list();
  for (size_t i = 0; i < l->t->nlearners; i++) {
    ws_value *v =
        ws_value_borrow_map(ws_renderer_person(l->r, l->t->learners[i]));
    ws_value_set_list(v, "learn_from",
                      learn_from(l->r, l->t, l->t->learners[i]));
    ws_value_push(list, v);
  }
  ws_value_set(ctx, "learners", list);
}

static int render_strength(ws_renderer *r, const ws_tag *t) {
  ws_str file = WS_STR_INIT, desc = WS_STR_INIT;
  ws_str_printf(&file, "strengths/%s/index.html", t->slug);
  ws_str_printf(&desc, "%zu %s on the team %s good at %s; %zu %s learning it.",
                t->npeople, people_word(t->npeople),
                t->npeople == 1 ? "is" : "are", t->label, t->nlearners,
                t->nlearners == 1 ? "is" : "are");
  ws_page pg = {"strength", file.ptr, "strengths", t->label, desc.ptr};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value *s = tag_value(t, "strengths");
  ws_value_set_str(s, "learners_word", people_word(t->nlearners));
  ws_value_set(ctx, "strength", s);
  ws_value_set_list(ctx, "people", person_list(r, t->people, t->npeople));
  ws_value_set_bool(ctx, "has_learners", t->nlearners > 0);
  learners l = {r, t};
  ws_page_rest rest = {learner_inputs, add_learners, &l};
  int error = ws_render_page_rest(r, &pg, ctx, &rest);
  ws_str_release(&file);
  ws_str_release(&desc);
  return error;
}

/* --- teams --- */

typedef struct {
  size_t tag; /* index into site->strengths */
  size_t n;   /* members who have it (or learn it) */
} team_count;

static int cmp_team_count(const void *a, const void *b) {
  const team_count *x = a, *y = b;
  if (x->n != y->n)
    return x->n > y->n ? -1 : 1;
  return x->tag < y->tag ? -1 : x->tag > y->tag;
}

/* Each person's strengths, and learning goals, as indices into
 * site->strengths: the strengths' lists of people turned around, once for
 * every team page and the overview. (A table of teams by strengths would
 * be quicker to read, but a thousand one-person teams, each with strengths
 * of its own, would make it millions of cells.) */
typedef struct {
  size_t *start; /* person i's tags are tag[start[i] .. start[i + 1]) */
  size_t *tag;
} person_tags;

typedef struct {
  person_tags have, learn;
} member_tags;

static person_tags tags_by_person(const ws_site *site, bool learning) {
  size_t n = site->npeople, total = 0;
  person_tags pt = {ws_xcalloc(n + 2, sizeof(size_t)), NULL};
  for (size_t s = 0; s < site->nstrengths; s++) {
    const ws_tag *g = &site->strengths[s];
    const size_t *who = learning ? g->learners : g->people;
    size_t nwho = learning ? g->nlearners : g->npeople;
    for (size_t k = 0; k < nwho; k++)
      pt.start[who[k] + 2]++;
    total += nwho;
  }
  for (size_t i = 2; i < n + 2; i++)
    pt.start[i] += pt.start[i - 1];
  pt.tag = ws_xcalloc(total + 1, sizeof(size_t));
  for (size_t s = 0; s < site->nstrengths; s++) {
    const ws_tag *g = &site->strengths[s];
    const size_t *who = learning ? g->learners : g->people;
    size_t nwho = learning ? g->nlearners : g->npeople;
    for (size_t k = 0; k < nwho; k++)
      pt.tag[pt.start[who[k] + 1]++] = s;
  }
  return pt; /* start[i] now begins person i, start[i + 1] ends it */
}

static member_tags member_tags_of(const ws_site *site) {
  return (member_tags){tags_by_person(site, false), tags_by_person(site, true)};
}

static void member_tags_release(member_tags *c) {
  free(c->have.start);
  free(c->have.tag);
  free(c->learn.start);
  free(c->learn.tag);
}

/* Team 'team''s strengths (or, with 'learning', learning goals), most
 * common in the team first, at most 'max'; '*n' gets how many. Caller
 * frees. */
static team_count *ranked(const ws_site *site, const member_tags *c,
                          size_t team, bool learning, size_t max, size_t *n) {
  const person_tags *pt = learning ? &c->learn : &c->have;
  const ws_tag *t = &site->teams[team];
  size_t *count =
      ws_xcalloc(site->nstrengths ? site->nstrengths : 1, sizeof(size_t));
  size_t total = 0;
  for (size_t i = 0; i < t->npeople; i++)
    total += pt->start[t->people[i] + 1] - pt->start[t->people[i]];
  team_count *out = ws_xcalloc(total ? total : 1, sizeof(team_count));
  *n = 0;
  for (size_t i = 0; i < t->npeople; i++) {
    size_t p = t->people[i];
    for (size_t k = pt->start[p]; k < pt->start[p + 1]; k++)
      if (count[pt->tag[k]]++ == 0)
        out[(*n)++].tag = pt->tag[k];
  }
  for (size_t i = 0; i < *n; i++)
    out[i].n = count[out[i].tag];
  free(count);
  qsort(out, *n, sizeof(team_count), cmp_team_count);
  if (*n > max)
    *n = max;
  return out;
}

static ws_value *team_strengths(const ws_site *site, const member_tags *c,
                                size_t team, bool learning, size_t max) {
  size_t n;
  team_count *counts = ranked(site, c, team, learning, max, &n);
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++) {
    ws_value *v = tag_value(&site->strengths[counts[i].tag], "strengths");
    ws_value_set_num(v, "in_team", (double)counts[i].n);
    ws_value_push(l, v);
  }
  free(counts);
  return l;
}

static ws_value *team_value(ws_renderer *r, const member_tags *c, size_t team) {
  const ws_site *site = ws_renderer_site(r);
  const ws_tag *t = &site->teams[team];
  ws_value *v = tag_value(t, "teams");
  ws_value *members = ws_value_list();
  for (size_t i = 0; i < t->npeople; i++)
    ws_value_push(members, link_value(r, t->people[i]));
  ws_value_set_list(v, "members", members);
  ws_value_set_list(v, "top_strengths",
                    team_strengths(site, c, team, false, TEAM_TOP_STRENGTHS));
  return v;
}

/* What tag_value shows of 't'. */
static void digest_tag(ws_digester *d, const ws_tag *t) {
  ws_digester_str(d, t->slug);
  ws_digester_str(d, t->label);
  ws_digester_bytes(d, &t->npeople, sizeof(t->npeople));
  ws_digester_bytes(d, &t->nlearners, sizeof(t->nlearners));
}

typedef struct {
  ws_renderer *r;
  const member_tags *tags;
} teams_list;

/* The overview lists every member of every team, a link each: 10,000 at
 * 10,000 profiles, 9 ms to make. Its fingerprint takes what they are made
 * from instead (the links' digests, render.h), so an unchanged overview
 * is kept without making them. */
static void teams_inputs(ws_renderer *r, const ws_page *pg, ws_digester *d,
                         void *payload) {
  const teams_list *l = payload;
  const ws_site *site = ws_renderer_site(r);
  (void)pg;
  ws_digester_bytes(d, &site->nteams, sizeof(site->nteams));
  for (size_t i = 0; i < site->nteams; i++) {
    const ws_tag *t = &site->teams[i];
    size_t n;
    team_count *top = ranked(site, l->tags, i, false, TEAM_TOP_STRENGTHS, &n);
    digest_tag(d, t);
    for (size_t k = 0; k < t->npeople; k++)
      ws_render_digest_link(r, d, t->people[k]);
    ws_digester_bytes(d, &n, sizeof(n));
    for (size_t k = 0; k < n; k++) {
      digest_tag(d, &site->strengths[top[k].tag]);
      ws_digester_bytes(d, &top[k].n, sizeof(top[k].n));
    }
    free(top);
  }
}

static void add_teams(ws_value *ctx, void *payload) {
  const teams_list *l = payload;
  const ws_site *site = ws_renderer_site(l->r);
  ws_value *teams = ws_value_list();
  for (size_t i = 0; i < site->nteams; i++)
    ws_value_push(teams, team_value(l->r, l->tags, i));
  ws_value_set_list(ctx, "teams", teams);
}

static int render_teams_index(ws_renderer *r, const member_tags *c) {
  const ws_site *site = ws_renderer_site(r);
  ws_page pg = {"teams", "teams/index.html", "teams", "Teams",
                "Every team, who is on it and what it is good at."};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value_set_num(ctx, "count", (double)site->nteams);
  teams_list l = {r, c};
  ws_page_rest rest = {teams_inputs, add_teams, &l};
  return ws_render_page_rest(r, &pg, ctx, &rest);
}

static int render_team(ws_renderer *r, const member_tags *c, size_t team) {
  const ws_site *site = ws_renderer_site(r);
  const ws_tag *t = &site->teams[team];
  ws_str file = WS_STR_INIT, desc = WS_STR_INIT;
  ws_str_printf(&file, "teams/%s/index.html", t->slug);
  ws_str_printf(&desc, "The %zu %s of %s and what they are good at.",
                t->npeople, people_word(t->npeople), t->label);
  ws_page pg = {"team", file.ptr, "teams", t->label, desc.ptr};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value_set(ctx, "team", tag_value(t, "teams"));
  ws_value_set_list(ctx, "people", person_list(r, t->people, t->npeople));
  ws_value_set_list(ctx, "strengths",
                    team_strengths(site, c, team, false, (size_t)-1));
  ws_value_set_list(ctx, "learning",
                    team_strengths(site, c, team, true, (size_t)-1));
  int error = ws_render_page(r, &pg, ctx);
  ws_str_release(&file);
  ws_str_release(&desc);
  return error;
}

static int strength_step(ws_renderer *r, size_t i, void *payload) {
  (void)payload;
  return render_strength(r, &ws_renderer_site(r)->strengths[i]);
}

static int team_step(ws_renderer *r, size_t i, void *payload) {
  return render_team(r, payload, i);
}

int ws_browse_render(ws_renderer *r) {
  const ws_site *site = ws_renderer_site(r);
  member_tags tags = member_tags_of(site);
  int error = render_strengths_index(r);
  if (error == 0)
    error = ws_render_each(r, site->nstrengths, strength_step, NULL);
  if (error == 0)
    error = render_teams_index(r, &tags);
  if (error == 0)
    error = ws_render_each(r, site->nteams, team_step, &tags);
  member_tags_release(&tags);
  return error;
}

/* --- the directory's filter choices --- */

static int cmp_tag_ptr_slug(const void *a, const void *b) {
  const ws_tag *x = *(const ws_tag *const *)a, *y = *(const ws_tag *const *)b;
  return strcmp(x->slug, y->slug);
}

/* Every strength someone has, by slug: a select is read alphabetically. */
static ws_value *strength_choices(const ws_site *site) {
  const ws_tag **sorted =
      ws_xcalloc(site->nstrengths ? site->nstrengths : 1, sizeof(ws_tag *));
  size_t n = 0;
  for (size_t i = 0; i < site->nstrengths; i++)
    if (site->strengths[i].npeople)
      sorted[n++] = &site->strengths[i];
  qsort(sorted, n, sizeof(ws_tag *), cmp_tag_ptr_slug);
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++)
    ws_value_push(l, tag_value(sorted[i], "strengths"));
  free(sorted);
  return l;
}

static ws_value *name_list(const char *const *names, size_t n) {
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++) {
    ws_value *v = ws_value_map();
    ws_value_set_str(v, "name", names[i]);
    ws_value_push(l, v);
  }
  return l;
}

void ws_browse_directory(ws_renderer *r, ws_value *ctx) {
  static const char *const formats[] = {"one-on-one", "group"};
  static const char *const modes[] = {"virtual", "in-person"};
  const ws_site *site = ws_renderer_site(r);
  ws_value *teams = ws_value_list(), *top = ws_value_list();
  for (size_t i = 0; i < site->nteams; i++)
    ws_value_push(teams, tag_value(&site->teams[i], "teams"));
  for (size_t i = 0; i < site->nstrengths && i < DIRECTORY_STRENGTHS; i++)
    if (site->strengths[i].npeople)
      ws_value_push(top, tag_value(&site->strengths[i], "strengths"));
  ws_value *types = ws_value_list();
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    ws_value_push(types, ws_render_mentor_type(t));
  ws_value_set_list(ctx, "teams", teams);
  ws_value_set_list(ctx, "strengths", strength_choices(site));
  ws_value_set_list(ctx, "top_strengths", top);
  ws_value_set_list(ctx, "mentor_types", types);
  ws_value_set_list(ctx, "formats", name_list(formats, 2));
  ws_value_set_list(ctx, "modes", name_list(modes, 2));
}
