#include "mentoring.h"

#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "pool.h"
#include "str.h"
#include "xalloc.h"

/* Texts of the site, its matches or the program outlive every value made
 * here (contexts are freed before the site), so values point at them. */

/* A person as a link: enough for lists of pairs, without the card. */
static ws_value *person_ref(const ws_site *site, size_t i) {
  const ws_profile *p = site->people[i];
  ws_value *v = ws_value_map();
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "people/%s/", p->slug);
  ws_value_set_borrowed(v, "name", p->name);
  ws_value_set_borrowed(v, "slug", p->slug);
  ws_value_set_str(v, "url", url.ptr);
  ws_value_set_borrowed(v, "role", p->role);
  ws_value_set_borrowed(v, "team", p->team);
  ws_str_release(&url);
  return v;
}

static void set_type(ws_value *v, ws_mentor_type t) {
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "mentoring/%s/", ws_mentor_type_name(t));
  ws_value_set_borrowed(v, "type", ws_mentor_type_name(t));
  ws_value_set_str(v, "type_url", url.ptr);
  ws_str_release(&url);
}

/* With arenas, each batch of VALUES_PER_ARENA values is made in an arena
 * of its own, so freeing 30,000 of them is freeing a few hundred blocks. */
#define VALUES_PER_ARENA 64

struct ws_mentoring_shared {
  const ws_site *site;
  /* person_ref by person, circle_value by circle, then pair_value by pair */
  ws_value **values;
  ws_value **refs, **circles, **pairs; /* into 'values' */
  size_t npeople, ncircles, npairs;
  ws_value_arena **arenas; /* the first values' batches, then the pairs';
                              NULL: the values are on the heap */
  size_t nfirst;           /* batches of refs and circles */
};

/* Person 'i' as a link: the shared one when there is one. */
static ws_value *ref_of(const ws_site *site, const ws_mentoring_shared *sh,
                        size_t i) {
  return sh ? ws_value_ref(sh->refs[i]) : person_ref(site, i);
}

static ws_value *pair_value(const ws_site *site, const ws_mentoring_shared *sh,
                            const ws_match_pair *p) {
  ws_value *v = ws_value_map(), *why = ws_value_list();
  set_type(v, p->type);
  ws_value_set(v, "mentee", ref_of(site, sh, p->mentee));
  ws_value_set(v, "mentor", ref_of(site, sh, p->mentor));
  for (size_t k = 0; k < p->reasons.len; k++)
    ws_value_push(why, ws_value_borrowz(p->reasons.items[k]));
  ws_value_set_list(v, "reasons", why);
  ws_value_set_bool(v, "reverse", p->reverse);
  ws_value_set_num(v, "score", p->score);
  return v;
}

/* Pair 'k' of the matches: the shared one when there is one. Each pair is
 * shown by its mentee, its mentor, the hub and its type's page. */
static ws_value *pair_of(const ws_site *site, const ws_mentoring_shared *sh,
                         size_t k) {
  return sh ? ws_value_ref(sh->pairs[k])
            : pair_value(site, NULL, &site->matches->pairs[k]);
}

static ws_value *circle_value(const ws_site *site, const ws_circle *c) {
  ws_value *v = ws_value_map(), *members = ws_value_list();
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "strengths/%s/", c->slug);
  ws_value_set_borrowed(v, "topic", c->topic);
  ws_value_set_str(v, "topic_url", url.ptr);
  ws_value_set_num(v, "size", (double)c->nmembers);
  for (size_t k = 0; k < c->nmembers; k++) {
    ws_value *m = person_ref(site, c->members[k]);
    ws_value_set_bool(m, "offers", k < c->noffering);
    ws_value_push(members, m);
  }
  ws_value_set_list(v, "members", members);
  ws_str_release(&url);
  return v;
}

/* Circle 'k': the shared one when there is one. */
static ws_value *circle_of(const ws_site *site, const ws_mentoring_shared *sh,
                           size_t k) {
  return sh ? ws_value_ref(sh->circles[k])
            : circle_value(site, &site->matches->circles[k]);
}

static size_t batches(size_t n) {
  return (n + VALUES_PER_ARENA - 1) / VALUES_PER_ARENA;
}

static void make_value(ws_mentoring_shared *s, size_t i) {
  s->values[i] =
      i < s->npeople
          ? person_ref(s->site, i)
          : circle_value(s->site, &s->site->matches->circles[i - s->npeople]);
}

/* Item 'b' of the first pass: a batch of values with arenas, one value
 * without. */
static int make_shared(void *payload, size_t b) {
  ws_mentoring_shared *s = payload;
  if (!s->arenas) {
    make_value(s, b);
    return 0;
  }
  size_t n = s->npeople + s->ncircles, i = b * VALUES_PER_ARENA;
  ws_value_arena *before = ws_value_arena_use(s->arenas[b]);
  for (; i < n && i < (b + 1) * VALUES_PER_ARENA; i++)
    make_value(s, i);
  ws_value_arena_use(before);
  return 0;
}

/* Pairs point at the people's shared links, so they come second. */
static int make_shared_pairs(void *payload, size_t b) {
  ws_mentoring_shared *s = payload;
  size_t k = s->arenas ? b * VALUES_PER_ARENA : b;
  size_t end = s->arenas ? (b + 1) * VALUES_PER_ARENA : b + 1;
  ws_value_arena *before =
      s->arenas ? ws_value_arena_use(s->arenas[s->nfirst + b]) : NULL;
  for (; k < s->npairs && k < end; k++)
    s->pairs[k] = pair_value(s->site, s, &s->site->matches->pairs[k]);
  if (s->arenas)
    ws_value_arena_use(before);
  return 0;
}

ws_mentoring_shared *ws_mentoring_shared_new(const ws_site *site, unsigned jobs,
                                             bool arenas) {
  ws_mentoring_shared *s = ws_xcalloc(1, sizeof(*s));
  s->site = site;
  s->npeople = site->npeople;
  s->ncircles = site->matches ? site->matches->ncircles : 0;
  s->npairs = site->matches ? site->matches->npairs : 0;
  s->values =
      ws_xcalloc(s->npeople + s->ncircles + s->npairs + 1, sizeof(ws_value *));
  s->refs = s->values;
  s->circles = s->values + s->npeople;
  s->pairs = s->circles + s->ncircles;
  size_t first = s->npeople + s->ncircles, pairs = s->npairs;
  if (arenas) {
    s->nfirst = first = batches(first);
    pairs = batches(pairs);
    s->arenas = ws_xcalloc(first + pairs + 1, sizeof(ws_value_arena *));
    for (size_t b = 0; b < first + pairs; b++)
      s->arenas[b] = ws_value_arena_new();
  }
  ws_pool_run(jobs, first, make_shared, s);
  ws_pool_run(jobs, pairs, make_shared_pairs, s);
  return s;
}

const ws_value *const *ws_mentoring_shared_values(const ws_mentoring_shared *s,
                                                  size_t *n) {
  *n = s->npeople + s->ncircles + s->npairs;
  return (const ws_value *const *)s->values;
}

void ws_mentoring_shared_free(ws_mentoring_shared *s) {
  if (!s)
    return;
  if (s->arenas) {
    size_t n = s->nfirst + batches(s->npairs);
    for (size_t b = 0; b < n; b++)
      ws_value_arena_free(s->arenas[b]);
    free(s->arenas);
  } else {
    for (size_t i = 0; i < s->npeople + s->ncircles + s->npairs; i++)
      ws_value_free(s->values[i]);
  }
  free(s->values);
  free(s);
}

static ws_value *unmet_value(const ws_site *site, const ws_mentoring_shared *sh,
                             const ws_match_unmet *u) {
  ws_value *v = ws_value_map();
  set_type(v, u->type);
  ws_value_set(v, "person", ref_of(site, sh, u->person));
  ws_value_set_borrowed(v, "reason", u->reason);
  return v;
}

void ws_mentoring_person(ws_value *v, const ws_site *site,
                         const ws_mentoring_shared *sh, size_t i) {
  const ws_match *m = site->matches;
  ws_value *s = ws_value_map(), *mentors = ws_value_list(),
           *mentees = ws_value_list(), *unmet = ws_value_list();
  bool any = false;
  for (size_t k = m ? ws_match_first_pair(m, i) : 0;
       m && k < m->npairs && m->pairs[k].mentee == i; k++)
    ws_value_push(mentors, pair_of(site, sh, k));
  for (size_t k = m ? m->mentor_start[i] : 0; m && k < m->mentor_start[i + 1];
       k++)
    ws_value_push(mentees, pair_of(site, sh, m->by_mentor[k]));
  for (size_t k = m ? ws_match_first_unmet(m, i) : 0;
       m && k < m->nunmet && m->unmet[k].person == i; k++)
    ws_value_push(unmet, unmet_value(site, sh, &m->unmet[k]));
  if (m && m->circle_of[i] != (size_t)-1)
    ws_value_set(s, "circle", circle_of(site, sh, m->circle_of[i]));
  any = mentors->u.list.len || mentees->u.list.len || unmet->u.list.len ||
        ws_value_get(s, "circle");
  ws_value_set_list(s, "mentors", mentors);
  ws_value_set_list(s, "mentees", mentees);
  ws_value_set_list(s, "unmet", unmet);
  ws_value_set(v, "suggestions", s);
  ws_value_set_bool(v, "has_suggestions", any);
}

/* --- the hub --- */

typedef struct {
  size_t offerers, supply, seekers, matched;
} type_stats;

static void count_types(const ws_site *site, type_stats *st) {
  memset(st, 0, sizeof(type_stats) * WS_MENTOR__COUNT);
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_profile *p = site->people[i];
    for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
      if (p->offer_types & (1u << t)) {
        st[t].offerers++;
        st[t].supply += p->capacity;
      }
      st[t].seekers += (p->seek_types >> t) & 1u;
    }
  }
  for (size_t k = 0; site->matches && k < site->matches->npairs; k++)
    st[site->matches->pairs[k].type].matched++;
}

static ws_value *types_value(const type_stats *st) {
  ws_value *l = ws_value_list();
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    ws_value *v = ws_render_mentor_type(t);
    ws_value_set_num(v, "offerers", (double)st[t].offerers);
    ws_value_set_num(v, "supply", (double)st[t].supply);
    ws_value_set_num(v, "seekers", (double)st[t].seekers);
    ws_value_set_num(v, "matched", (double)st[t].matched);
    ws_value_set_bool(v, "short", st[t].seekers > st[t].supply);
    ws_value_push(l, v);
  }
  return l;
}

static int render_hub(ws_renderer *r, const type_stats *st) {
  const ws_site *site = ws_renderer_site(r);
  const ws_match *m = site->matches;
  ws_page pg = {"mentoring", "mentoring/index.html", "mentoring", "Mentoring",
                "Who offers and seeks each kind of mentoring, suggested "
                "pairs and why, mentorship circles and unmet needs."};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value *pairs = ws_value_list(), *circles = ws_value_list(),
           *unmet = ws_value_list();
  const ws_mentoring_shared *sh = ws_renderer_mentoring(r);
  size_t reverse = 0;
  for (size_t k = 0; m && k < m->npairs; k++) {
    ws_value_push(pairs, pair_of(site, sh, k));
    reverse += m->pairs[k].reverse;
  }
  for (size_t k = 0; m && k < m->ncircles; k++)
    ws_value_push(circles, circle_of(site, sh, k));
  for (size_t k = 0; m && k < m->nunmet; k++)
    ws_value_push(unmet, unmet_value(site, sh, &m->unmet[k]));
  ws_value_set(ctx, "types", types_value(st));
  ws_value_set_list(ctx, "pairs", pairs);
  ws_value_set_list(ctx, "circles", circles);
  ws_value_set_list(ctx, "unmet", unmet);
  ws_value_set_num(ctx, "pair_count", m ? (double)m->npairs : 0);
  ws_value_set_num(ctx, "demand_count", m ? (double)m->demand : 0);
  ws_value_set_num(ctx, "reverse_count", (double)reverse);
  ws_value_set_num(ctx, "circle_count", m ? (double)m->ncircles : 0);
  return ws_render_page(r, &pg, ctx);
}

static int render_type(ws_renderer *r, ws_mentor_type t, const type_stats *st) {
  const ws_site *site = ws_renderer_site(r);
  const ws_match *m = site->matches;
  ws_str file = WS_STR_INIT, title = WS_STR_INIT;
  const char *name = ws_mentor_type_name(t);
  ws_str_printf(&file, "mentoring/%s/index.html", name);
  ws_str_printf(&title, "Mentor type: %s", name);
  ws_page pg = {"mentor-type", file.ptr, "mentoring", title.ptr,
                ws_mentor_type_definition(t)};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value *type = ws_value_map(), *offer = ws_value_list(),
           *seek = ws_value_list(), *pairs = ws_value_list();
  ws_value_set_str(type, "name", name);
  ws_value_set_str(type, "definition", ws_mentor_type_definition(t));
  ws_value_set_num(type, "offerers", (double)st[t].offerers);
  ws_value_set_num(type, "supply", (double)st[t].supply);
  ws_value_set_num(type, "seekers", (double)st[t].seekers);
  ws_value_set_num(type, "matched", (double)st[t].matched);
  for (size_t i = 0; i < site->npeople; i++) {
    if (site->people[i]->offer_types & (1u << t))
      ws_value_push(offer, ws_render_person_ref(r, i));
    if (site->people[i]->seek_types & (1u << t))
      ws_value_push(seek, ws_render_person_ref(r, i));
  }
  for (size_t k = 0; m && k < m->npairs; k++)
    if (m->pairs[k].type == t)
      ws_value_push(pairs, pair_of(site, ws_renderer_mentoring(r), k));
  ws_value_set(ctx, "type", type);
  ws_value_set_list(ctx, "offering", offer);
  ws_value_set_list(ctx, "seeking", seek);
  ws_value_set_list(ctx, "pairs", pairs);
  ws_value_set(ctx, "types", types_value(st));
  int error = ws_render_page(r, &pg, ctx);
  ws_str_release(&file);
  ws_str_release(&title);
  return error;
}

/* The hub lists every pair and each type page its own: they render side
 * by side, the hub (the largest) first. */
static int mentoring_step(ws_renderer *r, size_t i, void *payload) {
  const type_stats *st = payload;
  return i == 0 ? render_hub(r, st)
                : render_type(r, (ws_mentor_type)(i - 1), st);
}

int ws_mentoring_render(ws_renderer *r) {
  type_stats st[WS_MENTOR__COUNT];
  count_types(ws_renderer_site(r), st);
  return ws_render_each(r, 1 + WS_MENTOR__COUNT, mentoring_step, st);
}
