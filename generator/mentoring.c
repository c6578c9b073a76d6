#include "mentoring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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
  ws_render_person_url(&url, p->slug);
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

struct ws_mentoring_shared {
  const ws_site *site;
  /* person_ref by person, circle_value by circle, then pair_value by pair */
  ws_value **values;
  size_t npeople, ncircles, npairs;
  atomic_uchar *made; /* per value: it is made */
  /* Lazily: each value is made on first use, under 'mu' (recursive: a
   * pair makes its people's links), in 'arena'. */
  bool lazy;
  pthread_mutex_t mu;
  ws_value_arena *arena;
  /* All at once: a block of values per job, each block in an arena. */
  ws_value_arena **blocks;
  size_t nblocks;
};

static ws_value *make_value(ws_mentoring_shared *s, size_t i);

/* Value 'i', made now if it is not yet. The set of values is fixed; only
 * when each is made varies, hence the cast. */
static const ws_value *shared_value(const ws_mentoring_shared *cs, size_t i) {
  ws_mentoring_shared *s = (ws_mentoring_shared *)(uintptr_t)cs;
  if (atomic_load_explicit(&s->made[i], memory_order_acquire))
    return s->values[i];
  pthread_mutex_lock(&s->mu);
  if (!atomic_load_explicit(&s->made[i], memory_order_relaxed)) {
    ws_value_arena *before = ws_value_arena_use(s->arena);
    s->values[i] = make_value(s, i);
    ws_value_arena_use(before);
    atomic_store_explicit(&s->made[i], 1, memory_order_release);
  }
  pthread_mutex_unlock(&s->mu);
  return s->values[i];
}

/* Person 'i' as a link: the shared one when there is one. */
static ws_value *ref_of(const ws_site *site, const ws_mentoring_shared *sh,
                        size_t i) {
  return sh ? ws_value_ref(shared_value(sh, i)) : person_ref(site, i);
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
  return sh ? ws_value_ref(shared_value(sh, sh->npeople + sh->ncircles + k))
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
  return sh ? ws_value_ref(shared_value(sh, sh->npeople + k))
            : circle_value(site, &site->matches->circles[k]);
}

static ws_value *make_value(ws_mentoring_shared *s, size_t i) {
  const ws_match *m = s->site->matches;
  if (i < s->npeople)
    return person_ref(s->site, i);
  if (i < s->npeople + s->ncircles)
    return circle_value(s->site, &m->circles[i - s->npeople]);
  return pair_value(s->site, s, &m->pairs[i - s->npeople - s->ncircles]);
}

/* Made all at once, on the pool: the links and circles first, then the
 * pairs, which point at the links. A job makes a block of BLOCK values in
 * an arena of its own: made and freed one by one on the heap, the values
 * of 10,000 people cost 7% of a full build's instructions. */
#define BLOCK 64

typedef struct {
  ws_mentoring_shared *s;
  size_t from, to;    /* the values [from, to) */
  size_t first_block; /* the arena of value 'from' */
} block_job;

static int make_block(void *payload, size_t b) {
  const block_job *job = payload;
  ws_mentoring_shared *s = job->s;
  size_t from = job->from + b * BLOCK;
  size_t to = from + BLOCK < job->to ? from + BLOCK : job->to;
  ws_value_arena *before = ws_value_arena_use(s->blocks[job->first_block + b]);
  for (size_t i = from; i < to; i++) {
    s->values[i] = make_value(s, i);
    atomic_store_explicit(&s->made[i], 1, memory_order_release);
  }
  ws_value_arena_use(before);
  return 0;
}

static size_t blocks_of(size_t n) {
  return (n + BLOCK - 1) / BLOCK;
}

static void make_all(ws_mentoring_shared *s, unsigned jobs) {
  size_t first = s->npeople + s->ncircles, all = first + s->npairs;
  s->nblocks = blocks_of(first) + blocks_of(s->npairs);
  s->blocks = ws_xcalloc(s->nblocks + 1, sizeof(ws_value_arena *));
  for (size_t b = 0; b < s->nblocks; b++)
    s->blocks[b] = ws_value_arena_new();
  block_job links = {s, 0, first, 0}, pairs = {s, first, all, blocks_of(first)};
  ws_pool_run(jobs, blocks_of(first), make_block, &links);
  ws_pool_run(jobs, blocks_of(s->npairs), make_block, &pairs);
}

ws_mentoring_shared *ws_mentoring_shared_new(const ws_site *site, unsigned jobs,
                                             bool lazy) {
  ws_mentoring_shared *s = ws_xcalloc(1, sizeof(*s));
  pthread_mutexattr_t attr;
  s->site = site;
  s->npeople = site->npeople;
  s->ncircles = site->matches ? site->matches->ncircles : 0;
  s->npairs = site->matches ? site->matches->npairs : 0;
  size_t n = s->npeople + s->ncircles + s->npairs;
  s->values = ws_xcalloc(n + 1, sizeof(ws_value *));
  s->made = ws_xcalloc(n + 1, sizeof(atomic_uchar));
  for (size_t i = 0; i < n; i++)
    atomic_init(&s->made[i], 0);
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&s->mu, &attr);
  pthread_mutexattr_destroy(&attr);
  s->lazy = lazy;
  if (lazy) {
    s->arena = ws_value_arena_new();
  } else {
    make_all(s, jobs);
  }
  return s;
}

void ws_mentoring_shared_free(ws_mentoring_shared *s) {
  if (!s)
    return;
  ws_value_arena_free(s->arena);
  for (size_t b = 0; b < s->nblocks; b++)
    ws_value_arena_free(s->blocks[b]);
  free(s->blocks);
  pthread_mutex_destroy(&s->mu);
  free(s->made);
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

/* The hub's and the type pages' lists of pairs, circles and unmet needs
 * are made only when the page is rendered: they show every pair (10,000
 * at 10,000 profiles) and would need every shared value made (see
 * ws_mentoring_shared_new). Their fingerprints take the digests of what
 * those are made from instead (render.h). 't' is a type, or
 * WS_MENTOR__COUNT for the hub's every pair, circle and need. */
typedef struct {
  ws_renderer *r;
  unsigned t;
} lists;

static void list_inputs(ws_renderer *r, const ws_page *pg, ws_digester *d,
                        void *payload) {
  const lists *l = payload;
  const ws_match *m = ws_renderer_site(r)->matches;
  size_t n[3] = {m ? m->npairs : 0, 0, 0};
  (void)pg;
  if (m && l->t == WS_MENTOR__COUNT) {
    n[1] = m->ncircles;
    n[2] = m->nunmet;
  }
  ws_digester_bytes(d, n, sizeof(n));
  for (size_t k = 0; k < n[0]; k++)
    if (l->t == WS_MENTOR__COUNT || m->pairs[k].type == l->t)
      ws_render_digest_pair(r, d, k);
  for (size_t k = 0; k < n[1]; k++)
    ws_render_digest_circle(r, d, k);
  for (size_t k = 0; k < n[2]; k++) {
    unsigned type = m->unmet[k].type;
    ws_digester_bytes(d, &type, sizeof(type));
    ws_digester_str(d, m->unmet[k].reason);
    ws_render_digest_link(r, d, m->unmet[k].person);
  }
}

static void add_lists(ws_value *ctx, void *payload) {
  const lists *l = payload;
  const ws_site *site = ws_renderer_site(l->r);
  const ws_match *m = site->matches;
  const ws_mentoring_shared *sh = ws_renderer_mentoring(l->r);
  bool hub = l->t == WS_MENTOR__COUNT;
  ws_value *pairs = ws_value_list();
  for (size_t k = 0; m && k < m->npairs; k++)
    if (hub || m->pairs[k].type == l->t)
      ws_value_push(pairs, pair_of(site, sh, k));
  ws_value_set_list(ctx, "pairs", pairs);
  if (!hub)
    return;
  ws_value *circles = ws_value_list(), *unmet = ws_value_list();
  for (size_t k = 0; m && k < m->ncircles; k++)
    ws_value_push(circles, circle_of(site, sh, k));
  for (size_t k = 0; m && k < m->nunmet; k++)
    ws_value_push(unmet, unmet_value(site, sh, &m->unmet[k]));
  ws_value_set_list(ctx, "circles", circles);
  ws_value_set_list(ctx, "unmet", unmet);
}

static int render_hub(ws_renderer *r, const type_stats *st) {
  const ws_site *site = ws_renderer_site(r);
  const ws_match *m = site->matches;
  ws_page pg = {"mentoring", "mentoring/index.html", "mentoring", "Mentoring",
                "Who offers and seeks each kind of mentoring, suggested "
                "pairs and why, mentorship circles and unmet needs."};
  ws_value *ctx = ws_render_context(r, &pg);
  size_t reverse = 0;
  for (size_t k = 0; m && k < m->npairs; k++)
    reverse += m->pairs[k].reverse;
  ws_value_set(ctx, "types", types_value(st));
  ws_value_set_num(ctx, "pair_count", m ? (double)m->npairs : 0);
  ws_value_set_num(ctx, "demand_count", m ? (double)m->demand : 0);
  ws_value_set_num(ctx, "reverse_count", (double)reverse);
  ws_value_set_num(ctx, "circle_count", m ? (double)m->ncircles : 0);
  lists l = {r, WS_MENTOR__COUNT};
  ws_page_rest rest = {list_inputs, add_lists, &l};
  return ws_render_page_rest(r, &pg, ctx, &rest);
}

static int render_type(ws_renderer *r, ws_mentor_type t, const type_stats *st) {
  const ws_site *site = ws_renderer_site(r);
  ws_str file = WS_STR_INIT, title = WS_STR_INIT;
  const char *name = ws_mentor_type_name(t);
  ws_str_printf(&file, "mentoring/%s/index.html", name);
  ws_str_printf(&title, "Mentor type: %s", name);
  ws_page pg = {"mentor-type", file.ptr, "mentoring", title.ptr,
                ws_mentor_type_definition(t)};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value *type = ws_value_map(), *offer = ws_value_list(),
           *seek = ws_value_list();
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
  ws_value_set(ctx, "type", type);
  ws_value_set_list(ctx, "offering", offer);
  ws_value_set_list(ctx, "seeking", seek);
  ws_value_set(ctx, "types", types_value(st));
  lists l = {r, t};
  ws_page_rest rest = {list_inputs, add_lists, &l};
  int error = ws_render_page_rest(r, &pg, ctx, &rest);
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
