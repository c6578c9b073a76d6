#include "match.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "site.h"
#include "str.h"
#include "xalloc.h"

#define NONE ((size_t)-1)
#define SCORE_MAX                                                              \
  (WS_MATCH_W_TOPIC * WS_MATCH_TOPIC_CAP + WS_MATCH_W_CROSS_TEAM)
#define SCORE_MIN (-(12 / WS_MATCH_TZ_HOURS) * WS_MATCH_W_TZ)

/* --- time zones --- */

/* Standard (winter) offsets of the zones teams use most. A table instead of
 * tzset()/localtime_r(): the result must not depend on the machine's tzdata
 * or on the date of the build, and TZ is process-wide state. */
static const struct {
  const char *name;
  int minutes;
} zones[] = {{"Africa/Abidjan", 0},
             {"Africa/Accra", 0},
             {"Africa/Addis_Ababa", 180},
             {"Africa/Algiers", 60},
             {"Africa/Cairo", 120},
             {"Africa/Casablanca", 60},
             {"Africa/Dar_es_Salaam", 180},
             {"Africa/Johannesburg", 120},
             {"Africa/Kampala", 180},
             {"Africa/Kigali", 120},
             {"Africa/Kinshasa", 60},
             {"Africa/Lagos", 60},
             {"Africa/Nairobi", 180},
             {"Africa/Tunis", 60},
             {"America/Anchorage", -540},
             {"America/Argentina/Buenos_Aires", -180},
             {"America/Bogota", -300},
             {"America/Caracas", -240},
             {"America/Chicago", -360},
             {"America/Denver", -420},
             {"America/Edmonton", -420},
             {"America/Halifax", -240},
             {"America/Lima", -300},
             {"America/Los_Angeles", -480},
             {"America/Mexico_City", -360},
             {"America/Montevideo", -180},
             {"America/New_York", -300},
             {"America/Phoenix", -420},
             {"America/Santiago", -240},
             {"America/Sao_Paulo", -180},
             {"America/St_Johns", -210},
             {"America/Toronto", -300},
             {"America/Vancouver", -480},
             {"America/Winnipeg", -360},
             {"Asia/Almaty", 300},
             {"Asia/Amman", 180},
             {"Asia/Baghdad", 180},
             {"Asia/Bangkok", 420},
             {"Asia/Beirut", 120},
             {"Asia/Colombo", 330},
             {"Asia/Dhaka", 360},
             {"Asia/Dubai", 240},
             {"Asia/Ho_Chi_Minh", 420},
             {"Asia/Hong_Kong", 480},
             {"Asia/Jakarta", 420},
             {"Asia/Jerusalem", 120},
             {"Asia/Karachi", 300},
             {"Asia/Kathmandu", 345},
             {"Asia/Kolkata", 330},
             {"Asia/Kuala_Lumpur", 480},
             {"Asia/Manila", 480},
             {"Asia/Riyadh", 180},
             {"Asia/Seoul", 540},
             {"Asia/Shanghai", 480},
             {"Asia/Singapore", 480},
             {"Asia/Taipei", 480},
             {"Asia/Tashkent", 300},
             {"Asia/Tehran", 210},
             {"Asia/Tokyo", 540},
             {"Asia/Yangon", 390},
             {"Atlantic/Reykjavik", 0},
             {"Australia/Adelaide", 570},
             {"Australia/Brisbane", 600},
             {"Australia/Melbourne", 600},
             {"Australia/Perth", 480},
             {"Australia/Sydney", 600},
             {"Etc/UTC", 0},
             {"Europe/Amsterdam", 60},
             {"Europe/Athens", 120},
             {"Europe/Belgrade", 60},
             {"Europe/Berlin", 60},
             {"Europe/Brussels", 60},
             {"Europe/Bucharest", 120},
             {"Europe/Budapest", 60},
             {"Europe/Copenhagen", 60},
             {"Europe/Dublin", 0},
             {"Europe/Helsinki", 120},
             {"Europe/Istanbul", 180},
             {"Europe/Kiev", 120},
             {"Europe/Kyiv", 120},
             {"Europe/Lisbon", 0},
             {"Europe/London", 0},
             {"Europe/Madrid", 60},
             {"Europe/Moscow", 180},
             {"Europe/Oslo", 60},
             {"Europe/Paris", 60},
             {"Europe/Prague", 60},
             {"Europe/Rome", 60},
             {"Europe/Stockholm", 60},
             {"Europe/Vienna", 60},
             {"Europe/Warsaw", 60},
             {"Europe/Zurich", 60},
             {"GMT", 0},
             {"Pacific/Auckland", 720},
             {"Pacific/Honolulu", -600},
             {"UTC", 0}};

bool ws_match_tz_offset(const char *tz, int *out) {
  for (size_t i = 0; tz && i < sizeof(zones) / sizeof(zones[0]); i++)
    if (strcasecmp(zones[i].name, tz) == 0) {
      *out = zones[i].minutes;
      return true;
    }
  return false;
}

/* --- the world: profiles turned into ids and sorted lists --- */

typedef struct {
  size_t *off, *len, *ids; /* per person: ids[off[i] .. off[i] + len[i]) */
} id_lists;

/* What the rules read of a person, packed so the inner loops stay in
 * cache instead of chasing profile pointers. */
typedef struct {
  size_t team, place; /* ids, or NONE */
  unsigned offer, formats, modes, capacity;
  bool cross_team;
} traits;

typedef struct {
  ws_profile *const *people;
  size_t n;
  traits *tr;
  size_t *order;      /* person indices by slug: every tie is broken by slug */
  size_t *rank;       /* position of each person in 'order' */
  int *tz;            /* minutes, or INT_MIN */
  int *level;         /* -1 when not given */
  id_lists interest;  /* learning + seeking topics */
  id_lists expertise; /* strengths + offering topics */
  char **labels, **slugs; /* per topic id */
  size_t ntopics;
  size_t *offerers[WS_MENTOR__COUNT]; /* by slug */
  size_t noffer[WS_MENTOR__COUNT];
} world;

typedef struct {
  char *slug;
  const char *label;
  size_t person;
  unsigned kind;
} entry;

typedef struct {
  entry *items;
  size_t len, cap;
} entries;

static void entry_add(entries *e, const char *label, size_t person,
                      unsigned kind) {
  if (!label || !*label)
    return;
  if (e->len == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 64;
    e->items = ws_xreallocarray(e->items, e->cap, sizeof(entry));
  }
  e->items[e->len++] = (entry){ws_slugify(label), label, person, kind};
}

static int cmp_entry(const void *a, const void *b) {
  const entry *x = a, *y = b;
  int c = strcmp(x->slug, y->slug);
  if (!c)
    c = strcmp(x->label, y->label);
  if (!c && x->person != y->person)
    c = x->person < y->person ? -1 : 1;
  if (!c && x->kind != y->kind)
    c = x->kind < y->kind ? -1 : 1;
  return c;
}

/* Sorts 'e' and numbers its distinct slugs in slug order, writing each
 * entry's id into 'ids'; returns how many there are. When 'labels' is given,
 * each id gets its most common spelling (ties: the smallest). */
static size_t intern(entries *e, size_t *ids, char ***labels, char ***slugs) {
  size_t nid = 0;
  if (e->len)
    qsort(e->items, e->len, sizeof(entry), cmp_entry);
  for (size_t i = 0; i < e->len;) {
    size_t j = i, best = i, best_n = 0;
    while (j < e->len && strcmp(e->items[j].slug, e->items[i].slug) == 0) {
      size_t k = j;
      while (k < e->len && strcmp(e->items[k].slug, e->items[j].slug) == 0 &&
             strcmp(e->items[k].label, e->items[j].label) == 0)
        k++;
      if (k - j > best_n) {
        best_n = k - j;
        best = j;
      }
      for (; j < k; j++)
        ids[j] = nid;
    }
    if (labels) {
      *labels = ws_xreallocarray(*labels, nid + 1, sizeof(char *));
      *slugs = ws_xreallocarray(*slugs, nid + 1, sizeof(char *));
      (*labels)[nid] = ws_xstrdup(e->items[best].label);
      (*slugs)[nid] = ws_xstrdup(e->items[i].slug);
    }
    nid++;
    i = j;
  }
  return nid;
}

static void entries_release(entries *e) {
  for (size_t i = 0; i < e->len; i++)
    free(e->items[i].slug);
  free(e->items);
}

/* One id per person from a single field (team, location). */
static void person_ids(world *w, size_t *out, size_t field) {
  entries e = {0};
  for (size_t i = 0; i < w->n; i++) {
    out[i] = NONE;
    entry_add(&e, field ? w->people[i]->location : w->people[i]->team, i, 0);
  }
  size_t *ids = ws_xcalloc(e.len ? e.len : 1, sizeof(size_t));
  intern(&e, ids, NULL, NULL);
  for (size_t k = 0; k < e.len; k++)
    out[e.items[k].person] = ids[k];
  free(ids);
  entries_release(&e);
}

static void add_list(entries *e, const ws_strlist *l, size_t person,
                     unsigned kind) {
  for (size_t k = 0; k < l->len; k++)
    entry_add(e, l->items[k], person, kind);
}

/* Fills one id_lists per kind; entries are in id order, so every list comes
 * out sorted and duplicates are neighbours. */
static void topic_lists(world *w) {
  entries e = {0};
  for (size_t i = 0; i < w->n; i++) {
    const ws_profile *p = w->people[i];
    add_list(&e, &p->learning, i, 0);
    add_list(&e, &p->seek_topics, i, 0);
    add_list(&e, &p->strengths, i, 1);
    add_list(&e, &p->offer_topics, i, 1);
  }
  size_t *ids = ws_xcalloc(e.len ? e.len : 1, sizeof(size_t));
  w->ntopics = intern(&e, ids, &w->labels, &w->slugs);
  id_lists *lists[2] = {&w->interest, &w->expertise};
  for (size_t k = 0; k < 2; k++) {
    lists[k]->off = ws_xcalloc(w->n + 1, sizeof(size_t));
    lists[k]->len = ws_xcalloc(w->n + 1, sizeof(size_t));
    lists[k]->ids = ws_xcalloc(e.len ? e.len : 1, sizeof(size_t));
  }
  for (size_t k = 0; k < e.len; k++)
    lists[e.items[k].kind]->off[e.items[k].person + 1]++;
  for (size_t k = 0; k < 2; k++)
    for (size_t i = 0; i < w->n; i++)
      lists[k]->off[i + 1] += lists[k]->off[i];
  for (size_t k = 0; k < e.len; k++) {
    id_lists *l = lists[e.items[k].kind];
    size_t p = e.items[k].person, *at = l->ids + l->off[p];
    if (l->len[p] && at[l->len[p] - 1] == ids[k])
      continue;
    at[l->len[p]++] = ids[k];
  }
  free(ids);
  entries_release(&e);
}

typedef struct {
  const char *slug;
  size_t person;
} by_slug;

static int cmp_by_slug(const void *a, const void *b) {
  return strcmp(((const by_slug *)a)->slug, ((const by_slug *)b)->slug);
}

/* Slugs are unique file names, so this order is total. */
static void sort_by_slug(world *w) {
  by_slug *tmp = ws_xcalloc(w->n ? w->n : 1, sizeof(by_slug));
  for (size_t i = 0; i < w->n; i++)
    tmp[i] = (by_slug){w->people[i]->slug, i};
  if (w->n)
    qsort(tmp, w->n, sizeof(by_slug), cmp_by_slug);
  for (size_t r = 0; r < w->n; r++) {
    w->order[r] = tmp[r].person;
    w->rank[tmp[r].person] = r;
  }
  free(tmp);
}

static void world_init(world *w, ws_profile *const *people, size_t n) {
  memset(w, 0, sizeof(*w));
  w->people = people;
  w->n = n;
  size_t cap = n ? n : 1;
  w->order = ws_xcalloc(cap, sizeof(size_t));
  w->rank = ws_xcalloc(cap, sizeof(size_t));
  w->tr = ws_xcalloc(cap, sizeof(traits));
  size_t *team = ws_xcalloc(cap, sizeof(size_t));
  size_t *place = ws_xcalloc(cap, sizeof(size_t));
  w->tz = ws_xcalloc(cap, sizeof(int));
  w->level = ws_xcalloc(cap, sizeof(int));
  sort_by_slug(w);
  person_ids(w, team, 0);
  person_ids(w, place, 1);
  for (size_t i = 0; i < n; i++) {
    const ws_profile *p = people[i];
    w->tr[i] = (traits){team[i],  place[i],    p->offer_types, p->formats,
                        p->modes, p->capacity, p->cross_team};
    if (!ws_match_tz_offset(p->timezone, &w->tz[i]))
      w->tz[i] = INT_MIN;
    const ws_value *lv = ws_value_get(p->data, "level");
    w->level[i] = lv && lv->type == WS_VALUE_NUMBER && lv->u.number >= 0 &&
                          lv->u.number <= 1000
                      ? (int)lv->u.number
                      : -1;
  }
  free(team);
  free(place);
  topic_lists(w);
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    w->offerers[t] = ws_xcalloc(cap, sizeof(size_t));
    for (size_t r = 0; r < n; r++) {
      const ws_profile *p = people[w->order[r]];
      if (p->offer_types & (1u << t))
        w->offerers[t][w->noffer[t]++] = w->order[r];
    }
  }
}

static void world_release(world *w) {
  free(w->order);
  free(w->rank);
  free(w->tr);
  free(w->tz);
  free(w->level);
  id_lists *lists[2] = {&w->interest, &w->expertise};
  for (size_t k = 0; k < 2; k++) {
    free(lists[k]->off);
    free(lists[k]->len);
    free(lists[k]->ids);
  }
  for (size_t i = 0; i < w->ntopics; i++) {
    free(w->labels[i]);
    free(w->slugs[i]);
  }
  free(w->labels);
  free(w->slugs);
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    free(w->offerers[t]);
}

/* --- rules and score --- */

/* In person needs the same place; "same" compares like tags do. */
static bool same_place(const world *w, size_t a, size_t b) {
  return w->tr[a].place != NONE && w->tr[a].place == w->tr[b].place;
}

static unsigned usable_modes(const world *w, size_t s, size_t m) {
  unsigned modes = w->tr[s].modes & w->tr[m].modes;
  if (!same_place(w, s, m))
    modes &= ~(unsigned)WS_MODE_IN_PERSON;
  return modes;
}

static bool same_team(const world *w, size_t a, size_t b) {
  return w->tr[a].team != NONE && w->tr[a].team == w->tr[b].team;
}

/* Whether 'm' may mentor 's' as 't' (capacity aside). */
static bool compatible(const world *w, size_t s, unsigned t, size_t m) {
  const traits *a = &w->tr[s], *b = &w->tr[m];
  if (s == m || !(b->offer & (1u << t)) || !(a->formats & b->formats))
    return false;
  if (!usable_modes(w, s, m))
    return false;
  return !(a->cross_team && same_team(w, s, m));
}

/* Calls 'fn' for each topic 's' wants to learn and 'm' knows. */
static size_t shared_topics(const world *w, size_t s, size_t m,
                            void (*fn)(const world *, size_t, void *),
                            void *payload) {
  const size_t *a = w->interest.ids + w->interest.off[s];
  const size_t *b = w->expertise.ids + w->expertise.off[m];
  size_t na = w->interest.len[s], nb = w->expertise.len[m], i = 0, j = 0, n = 0;
  while (i < na && j < nb) {
    if (a[i] < b[j]) {
      i++;
    } else if (a[i] > b[j]) {
      j++;
    } else {
      if (fn)
        fn(w, a[i], payload);
      n++;
      i++;
      j++;
    }
  }
  return n;
}

/* Minutes between the two zones on the clock face, or -1 if unknown. */
static int tz_distance(const world *w, size_t a, size_t b) {
  if (w->tz[a] == INT_MIN || w->tz[b] == INT_MIN)
    return -1;
  int d = abs(w->tz[a] - w->tz[b]);
  return d > 720 ? 1440 - d : d;
}

static int pair_score(const world *w, size_t s, size_t m) {
  size_t shared = shared_topics(w, s, m, NULL, NULL);
  int score = WS_MATCH_W_TOPIC *
              (int)(shared < WS_MATCH_TOPIC_CAP ? shared : WS_MATCH_TOPIC_CAP);
  if (w->tr[s].team != NONE && w->tr[m].team != NONE && !same_team(w, s, m))
    score += WS_MATCH_W_CROSS_TEAM;
  int d = tz_distance(w, s, m);
  if (d > 0)
    score -= WS_MATCH_W_TZ * (d / (60 * WS_MATCH_TZ_HOURS));
  return score;
}

/* --- demand units and their candidates --- */

typedef struct {
  size_t mentor;
  int score;
  size_t rank;
} cand;

typedef struct {
  size_t nunits;
  size_t *seeker; /* person of each unit */
  unsigned *type; /* sought type of each unit */
  size_t *first;  /* first unit of each person (by person), or NONE */
  bool *full;     /* unit keeps every candidate, not only the best */
  bool *redo;     /* unit was widened since its list was made */
  size_t *assign; /* mentor person of each unit, or NONE */
  size_t *load;   /* mentees per person */
} demand;

static void demand_init(demand *d, const world *w) {
  size_t n = 0, cap = 16;
  memset(d, 0, sizeof(*d));
  d->seeker = ws_xmalloc(cap * sizeof(size_t));
  d->type = ws_xmalloc(cap * sizeof(unsigned));
  d->first = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  for (size_t r = 0; r < w->n; r++) {
    size_t p = w->order[r];
    d->first[p] = NONE;
    for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
      if (!(w->people[p]->seek_types & (1u << t)))
        continue;
      if (n == cap) {
        cap *= 2;
        d->seeker = ws_xreallocarray(d->seeker, cap, sizeof(size_t));
        d->type = ws_xreallocarray(d->type, cap, sizeof(unsigned));
      }
      if (d->first[p] == NONE)
        d->first[p] = n;
      d->seeker[n] = p;
      d->type[n++] = t;
    }
  }
  d->nunits = n;
  d->full = ws_xcalloc(n ? n : 1, sizeof(bool));
  d->redo = ws_xcalloc(n ? n : 1, sizeof(bool));
  d->assign = ws_xcalloc(n ? n : 1, sizeof(size_t));
  d->load = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
}

static void demand_release(demand *d) {
  free(d->seeker);
  free(d->type);
  free(d->first);
  free(d->full);
  free(d->redo);
  free(d->assign);
  free(d->load);
}

static int cmp_cand(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->rank < y->rank ? -1 : x->rank > y->rank;
}

typedef struct {
  cand *items;
  size_t len, cap;
  size_t *off; /* unit u: items[off[u] .. off[u + 1]) */
} cand_pool;

static void pool_push(cand_pool *p, cand c) {
  if (p->len == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 1024;
    p->items = ws_xreallocarray(p->items, p->cap, sizeof(cand));
  }
  p->items[p->len++] = c;
}

/* Keeps the WS_MATCH_CANDIDATES best of the candidates from 'start' on,
 * plus WS_MATCH_SPREAD_CANDIDATES of the rest, evenly spaced from an offset
 * that depends on the unit: if everyone kept only the same few favourites,
 * the flow would have no room to match everyone. A counting pass over the
 * small score range finds the cut; candidates are scanned by slug, so ties
 * at the cut go to the first slugs. */
static void keep_best(cand_pool *p, size_t start, size_t salt,
                      cand_pool *rest) {
  size_t n = p->len - start, hist[SCORE_MAX - SCORE_MIN + 1] = {0};
  if (n <= WS_MATCH_CANDIDATES + WS_MATCH_SPREAD_CANDIDATES)
    return;
  for (size_t i = start; i < p->len; i++)
    hist[p->items[i].score - SCORE_MIN]++;
  int cut = SCORE_MAX;
  size_t above = 0;
  while (above + hist[cut - SCORE_MIN] < WS_MATCH_CANDIDATES) {
    above += hist[cut - SCORE_MIN];
    cut--;
  }
  size_t at_cut = WS_MATCH_CANDIDATES - above, out = start;
  rest->len = 0;
  for (size_t i = start; i < p->len; i++) {
    cand c = p->items[i];
    if (c.score > cut || (c.score == cut && at_cut > 0)) {
      at_cut -= c.score == cut;
      p->items[out++] = c;
    } else {
      pool_push(rest, c);
    }
  }
  size_t step = rest->len / WS_MATCH_SPREAD_CANDIDATES;
  for (size_t j = 0; j < WS_MATCH_SPREAD_CANDIDATES; j++)
    p->items[out++] = rest->items[salt % step + j * step];
  p->len = out;
}

/* Lists the candidates of every unit into 'p'. From the second round on,
 * only units whose list was widened ('redo') are scanned again; the rest
 * are copied from 'prev'. */
static void build_candidates(cand_pool *p, const world *w, const demand *d,
                             const cand_pool *prev, const bool *redo) {
  cand_pool rest = {0};
  p->len = 0;
  p->off = ws_xreallocarray(p->off, d->nunits + 1, sizeof(size_t));
  for (size_t u = 0; u < d->nunits; u++) {
    size_t s = d->seeker[u], start = p->len;
    unsigned t = d->type[u];
    p->off[u] = start;
    if (prev && !redo[u]) {
      for (size_t k = prev->off[u]; k < prev->off[u + 1]; k++)
        pool_push(p, prev->items[k]);
      continue;
    }
    for (size_t k = 0; k < w->noffer[t]; k++) {
      size_t m = w->offerers[t][k];
      if (w->tr[m].capacity && compatible(w, s, t, m))
        pool_push(p, (cand){m, pair_score(w, s, m), w->rank[m]});
    }
    if (!d->full[u])
      keep_best(p, start, u, &rest);
    if (p->len > start) /* items is NULL while the pool is empty */
      qsort(p->items + start, p->len - start, sizeof(cand), cmp_cand);
  }
  p->off[d->nunits] = p->len;
  free(rest.items);
}

/* --- min-cost flow --- */

typedef struct {
  uint32_t to, rev;
  int32_t cost, cap;
} edge;

typedef struct {
  uint32_t from, to;
  int32_t cost;
} arc;

typedef struct {
  size_t nnodes, narcs, arc_cap;
  arc *arcs;
  size_t *start; /* CSR: edges of node v are edges[start[v] .. start[v+1]) */
  edge *edges;
  size_t *pos;         /* forward edge of each arc */
  size_t *node_person; /* mentor nodes: the person; pair nodes: the mentor */
} graph;

enum { SRC = 0, SINK = 1 };

static uint32_t node_new(graph *g, size_t person) {
  g->node_person =
      ws_xreallocarray(g->node_person, g->nnodes + 1, sizeof(size_t));
  g->node_person[g->nnodes] = person;
  assert(g->nnodes < UINT32_MAX);
  return (uint32_t)g->nnodes++;
}

static void arc_add(graph *g, uint32_t from, uint32_t to, int cost) {
  if (g->narcs == g->arc_cap) {
    g->arc_cap = g->arc_cap ? g->arc_cap * 2 : 1024;
    g->arcs = ws_xreallocarray(g->arcs, g->arc_cap, sizeof(arc));
  }
  g->arcs[g->narcs++] = (arc){from, to, (int32_t)cost};
}

/* Lays the arcs out as adjacency arrays, each node's edges in the order
 * its arcs were added: that order is the tie-break between equal paths. */
static void graph_finish(graph *g) {
  size_t n = g->nnodes;
  g->start = ws_xcalloc(n + 2, sizeof(size_t));
  g->edges = ws_xcalloc(g->narcs * 2 + 1, sizeof(edge));
  g->pos = ws_xcalloc(g->narcs + 1, sizeof(size_t));
  for (size_t a = 0; a < g->narcs; a++) {
    g->start[g->arcs[a].from + 2]++;
    g->start[g->arcs[a].to + 2]++;
  }
  for (size_t v = 2; v < n + 2; v++)
    g->start[v] += g->start[v - 1];
  /* start[v + 1] is now the fill cursor of node v. */
  for (size_t a = 0; a < g->narcs; a++) {
    const arc *c = &g->arcs[a];
    size_t f = g->start[c->from + 1]++, r = g->start[c->to + 1]++;
    g->edges[f] = (edge){c->to, (uint32_t)r, c->cost, 1};
    g->edges[r] = (edge){c->from, (uint32_t)f, -c->cost, 0};
    g->pos[a] = f;
  }
}

static void graph_release(graph *g) {
  free(g->arcs);
  free(g->start);
  free(g->edges);
  free(g->pos);
  free(g->node_person);
}

typedef struct {
  long long d;
  uint32_t v;
} heap_item;

typedef struct {
  heap_item *items;
  size_t len, cap;
} heap;

static bool heap_less(heap_item a, heap_item b) {
  return a.d < b.d || (a.d == b.d && a.v < b.v);
}

static void heap_push(heap *h, heap_item it) {
  if (h->len == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 256;
    h->items = ws_xreallocarray(h->items, h->cap, sizeof(heap_item));
  }
  size_t i = h->len++;
  while (i > 0 && heap_less(it, h->items[(i - 1) / 2])) {
    h->items[i] = h->items[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->items[i] = it;
}

static heap_item heap_pop(heap *h) {
  heap_item top = h->items[0], last = h->items[--h->len];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->len)
      break;
    if (c + 1 < h->len && heap_less(h->items[c + 1], h->items[c]))
      c++;
    if (!heap_less(h->items[c], last))
      break;
    h->items[i] = h->items[c];
    i = c;
  }
  if (h->len)
    h->items[i] = last;
  return top;
}

typedef struct {
  graph *g;
  long long *pot, *dist;
  heap heap;
  long *level;
  size_t *it, *stack;
  size_t *settled, phase; /* settled[v] == phase: v was settled this phase */
  bool whole; /* ignore the settled region (a phase that found nothing) */
} flow;

static long long reduced(const flow *f, uint32_t u, const edge *e) {
  return e->cost + f->pot[u] - f->pot[e->to];
}

/* Dijkstra on reduced costs, stopped past the sink's distance; then every
 * potential moves by min(dist, dist(sink)), which keeps reduced costs
 * non-negative and makes every shortest path to the sink cost 0. */
static bool shortest_paths(flow *f) {
  graph *g = f->g;
  for (size_t v = 0; v < g->nnodes; v++)
    f->dist[v] = LLONG_MAX;
  f->heap.len = 0;
  f->dist[SRC] = 0;
  heap_push(&f->heap, (heap_item){0, SRC});
  while (f->heap.len) {
    heap_item top = heap_pop(&f->heap);
    if (top.d != f->dist[top.v])
      continue;
    /* Settle everything as near as the sink: every shortest path. */
    if (f->dist[SINK] < top.d)
      break;
    f->settled[top.v] = f->phase;
    for (size_t k = g->start[top.v]; k < g->start[top.v + 1]; k++) {
      const edge *e = &g->edges[k];
      long long nd = top.d + reduced(f, top.v, e);
      if (e->cap > 0 && nd < f->dist[e->to]) {
        f->dist[e->to] = nd;
        heap_push(&f->heap, (heap_item){nd, e->to});
      }
    }
  }
  long long dt = f->dist[SINK];
  if (dt == LLONG_MAX)
    return false;
  for (size_t v = 0; v < g->nnodes; v++)
    f->pot[v] += f->dist[v] < dt ? f->dist[v] : dt;
  return true;
}

/* Whether the augmenting passes of this phase may use edge 'e': zero
 * reduced cost, room left, and inside the region Dijkstra settled. That
 * region holds the path Dijkstra found; skipping the rest (mostly seekers
 * nobody can take) keeps passes short, and what they miss the next phase
 * finds at the same distance. */
static bool usable(const flow *f, uint32_t u, const edge *e) {
  return e->cap > 0 && (f->whole || f->settled[e->to] == f->phase) &&
         reduced(f, u, e) == 0;
}

/* Breadth-first levels over the zero-reduced-cost edges (Dinic). */
static bool levels(flow *f) {
  graph *g = f->g;
  size_t head = 0, tail = 0;
  for (size_t v = 0; v < g->nnodes; v++)
    f->level[v] = -1;
  f->level[SRC] = 0;
  f->stack[tail++] = SRC;
  while (head < tail) {
    uint32_t v = (uint32_t)f->stack[head++];
    /* Nothing at or beyond the sink's level lies on a shortest path. */
    if (f->level[SINK] >= 0 && f->level[v] >= f->level[SINK])
      break;
    for (size_t k = g->start[v]; k < g->start[v + 1]; k++) {
      const edge *e = &g->edges[k];
      if (usable(f, v, e) && f->level[e->to] < 0) {
        f->level[e->to] = f->level[v] + 1;
        f->stack[tail++] = e->to;
      }
    }
  }
  return f->level[SINK] >= 0;
}

/* Pushes unit flows along admissible level paths until none is left; an
 * explicit stack instead of recursion, since chains of re-assignments can
 * be as long as the team. Every capacity is 1. */
static size_t blocking_flow(flow *f) {
  graph *g = f->g;
  size_t pushed = 0, depth = 0;
  uint32_t v = SRC;
  for (size_t u = 0; u < g->nnodes; u++)
    f->it[u] = g->start[u];
  for (;;) {
    if (v == SINK) {
      for (size_t i = 0; i < depth; i++) {
        edge *e = &g->edges[f->stack[i]];
        e->cap--;
        g->edges[e->rev].cap++;
      }
      pushed++;
      depth = 0;
      v = SRC;
      continue;
    }
    size_t k = f->it[v];
    for (; k < g->start[v + 1]; k++) {
      const edge *e = &g->edges[k];
      if (f->level[e->to] == f->level[v] + 1 && usable(f, v, e))
        break;
    }
    f->it[v] = k;
    if (k < g->start[v + 1]) {
      f->stack[depth++] = k;
      v = g->edges[k].to;
      continue;
    }
    f->level[v] = -1; /* a dead end for the rest of this phase */
    if (depth == 0)
      return pushed;
    size_t back = f->stack[--depth];
    v = g->edges[g->edges[back].rev].to;
    f->it[v]++;
  }
}

static void min_cost_flow(graph *g) {
  flow f = {g, NULL, NULL, {NULL, 0, 0}, NULL, NULL, NULL, NULL, 0, false};
  size_t n = g->nnodes;
  f.pot = ws_xcalloc(n, sizeof(long long));
  f.dist = ws_xcalloc(n, sizeof(long long));
  f.level = ws_xcalloc(n, sizeof(long));
  f.it = ws_xcalloc(n, sizeof(size_t));
  f.stack = ws_xcalloc(n + 1, sizeof(size_t));
  f.settled = ws_xcalloc(n, sizeof(size_t));
  /* Costs start non-negative, so zero potentials are feasible. */
  /* Every phase must push at least one unit, or the loop would never end:
   * if the settled region hides the path Dijkstra found, the phase is tried
   * again on the whole graph, and a phase that still pushes nothing ends the
   * search rather than spinning. */
  for (f.phase = 1; shortest_paths(&f); f.phase++) {
    size_t pushed = 0, got;
    f.whole = false;
    while (levels(&f) && (got = blocking_flow(&f)) > 0)
      pushed += got;
    if (pushed == 0) {
      f.whole = true;
      while (levels(&f) && (got = blocking_flow(&f)) > 0)
        pushed += got;
    }
    if (pushed == 0)
      break;
  }
  free(f.pot);
  free(f.dist);
  free(f.level);
  free(f.it);
  free(f.stack);
  free(f.settled);
  free(f.heap.items);
}

/* Builds the network source -> unit -> [seeker-mentor pair] -> mentor ->
 * sink. A pair node appears only where one mentor is a candidate for two
 * of the seeker's types, so that they mentor the seeker at most once. The
 * k-th mentee of a mentor costs WS_MATCH_W_SPREAD * (k - 1) more. */
static void build_graph(graph *g, const world *w, const demand *d,
                        const cand_pool *p, size_t *unit_arc) {
  size_t *mnode = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  size_t *stamp = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  size_t *count = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  size_t *pnode = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  node_new(g, NONE);
  node_new(g, NONE);
  for (size_t u = 0; u < d->nunits; u++)
    node_new(g, NONE);
  for (size_t r = 0; r < w->n; r++) {
    size_t m = w->order[r];
    mnode[m] = NONE;
    stamp[m] = NONE;
    if (w->tr[m].offer && w->tr[m].capacity > 0)
      mnode[m] = node_new(g, m);
  }
  for (size_t u = 0; u < d->nunits; u++)
    arc_add(g, SRC, (uint32_t)(2 + u), 0);
  for (size_t u0 = 0; u0 < d->nunits;) {
    size_t s = d->seeker[u0], u1 = u0;
    while (u1 < d->nunits && d->seeker[u1] == s)
      u1++;
    for (size_t k = p->off[u0]; k < p->off[u1]; k++) {
      size_t m = p->items[k].mentor;
      count[m] = stamp[m] == s ? count[m] + 1 : 1;
      stamp[m] = s;
      pnode[m] = NONE;
    }
    for (size_t u = u0; u < u1; u++) {
      unit_arc[2 * u] = g->narcs;
      for (size_t k = p->off[u]; k < p->off[u + 1]; k++) {
        size_t m = p->items[k].mentor;
        size_t to = mnode[m];
        if (count[m] > 1) {
          if (pnode[m] == NONE)
            pnode[m] = node_new(g, m);
          to = pnode[m];
        }
        arc_add(g, (uint32_t)(2 + u), (uint32_t)to,
                SCORE_MAX - p->items[k].score);
      }
      unit_arc[2 * u + 1] = g->narcs;
    }
    for (size_t k = p->off[u0]; k < p->off[u1]; k++) {
      size_t m = p->items[k].mentor;
      if (pnode[m] != NONE) {
        arc_add(g, (uint32_t)pnode[m], (uint32_t)mnode[m], 0);
        pnode[m] = NONE;
        count[m] = 0;
      }
    }
    u0 = u1;
  }
  for (size_t r = 0; r < w->n; r++) {
    size_t m = w->order[r];
    for (unsigned k = 0; mnode[m] != NONE && k < w->tr[m].capacity; k++)
      arc_add(g, (uint32_t)mnode[m], SINK, WS_MATCH_W_SPREAD * (int)k);
  }
  free(mnode);
  free(stamp);
  free(count);
  free(pnode);
}

/* --- rounds: candidates, flow, and widening where it falls short --- */

static void run_flow(const world *w, demand *d, cand_pool *p, bool first) {
  graph g = {0};
  cand_pool prev = *p;
  size_t *unit_arc = ws_xcalloc(2 * d->nunits + 1, sizeof(size_t));
  *p = (cand_pool){0};
  build_candidates(p, w, d, first ? NULL : &prev, d->redo);
  memset(d->redo, 0, (d->nunits ? d->nunits : 1) * sizeof(bool));
  free(prev.items);
  free(prev.off);
  build_graph(&g, w, d, p, unit_arc);
  graph_finish(&g);
  min_cost_flow(&g);
  memset(d->load, 0, (w->n ? w->n : 1) * sizeof(size_t));
  for (size_t u = 0; u < d->nunits; u++) {
    d->assign[u] = NONE;
    for (size_t a = unit_arc[2 * u]; a < unit_arc[2 * u + 1]; a++)
      if (g.edges[g.pos[a]].cap == 0) {
        d->assign[u] = g.node_person[g.arcs[a].to];
        d->load[d->assign[u]]++;
        break;
      }
  }
  graph_release(&g);
  free(unit_arc);
}

/* The unit of seeker 's' other than 'u' that has mentor 'm', or NONE. */
static size_t sibling_with(const demand *d, size_t s, size_t u, size_t m) {
  for (size_t v = d->first[s]; v < d->nunits && d->seeker[v] == s; v++)
    if (v != u && d->assign[v] == m)
      return v;
  return NONE;
}

typedef struct {
  size_t *queue, *from, head, tail;
  bool *seen_unit, *seen_mentor;
  size_t *moff, *mlist; /* units of each mentor: mlist[moff[m] ..] */
  size_t *fill;
  size_t *hits, nhits; /* last units of paths that end at a free mentor */
  size_t *hit_mentor;
  size_t *stamp; /* per seeker: the pass that moved it */
} search;

static void visit(search *q, size_t v, size_t from) {
  if (q->seen_unit[v])
    return;
  q->seen_unit[v] = true;
  q->from[v] = from;
  q->queue[q->tail++] = v;
}

static void search_reset(search *q, const world *w, const demand *d) {
  size_t nu = d->nunits;
  memset(q->moff, 0, (w->n + 1) * sizeof(size_t));
  memset(q->seen_unit, 0, (nu ? nu : 1) * sizeof(bool));
  memset(q->seen_mentor, 0, (w->n ? w->n : 1) * sizeof(bool));
  q->head = q->tail = q->nhits = 0;
  for (size_t u = 0; u < nu; u++)
    if (d->assign[u] != NONE)
      q->moff[d->assign[u] + 1]++;
  for (size_t i = 0; i < w->n; i++)
    q->moff[i + 1] += q->moff[i];
  memcpy(q->fill, q->moff, w->n * sizeof(size_t));
  for (size_t u = 0; u < nu; u++)
    if (d->assign[u] != NONE)
      q->mlist[q->fill[d->assign[u]]++] = u;
}

/* One breadth-first search of the whole network (every compatible mentor,
 * not only the candidates kept) from all unmatched units at once. */
static void search_paths(search *q, const world *w, const demand *d) {
  search_reset(q, w, d);
  for (size_t u = 0; u < d->nunits; u++)
    if (d->assign[u] == NONE)
      visit(q, u, NONE);
  while (q->head < q->tail) {
    size_t u = q->queue[q->head++], s = d->seeker[u];
    unsigned t = d->type[u];
    bool alone = u + 1 >= d->nunits || d->seeker[u + 1] != s;
    alone = alone && d->first[s] == u;
    for (size_t k = 0; k < w->noffer[t]; k++) {
      size_t m = w->offerers[t][k], sib;
      /* A seeker with one unit has no sibling to displace, so a mentor
       * seen before is done with before the rules are checked. */
      if ((alone && q->seen_mentor[m]) || m == d->assign[u] ||
          !w->tr[m].capacity || !compatible(w, s, t, m))
        continue;
      /* The seeker already has 'm' for another type: that unit must move. */
      if (!alone && (sib = sibling_with(d, s, u, m)) != NONE) {
        visit(q, sib, u);
        continue;
      }
      if (q->seen_mentor[m])
        continue;
      q->seen_mentor[m] = true;
      if (d->load[m] < w->tr[m].capacity) {
        q->hit_mentor[q->nhits] = m;
        q->hits[q->nhits++] = u;
        continue;
      }
      for (size_t i = q->moff[m]; i < q->moff[m + 1]; i++)
        visit(q, q->mlist[i], u);
    }
  }
}

/* Moves every unit on the path ending at hit 'h' to the mentor the next
 * one gives up, unless an earlier path of this pass touched one of its
 * seekers or filled its mentor. Marks the units for widening. */
static bool augment(search *q, const world *w, demand *d, size_t h,
                    size_t pass) {
  size_t m = q->hit_mentor[h];
  if (d->load[m] >= w->tr[m].capacity)
    return false;
  for (size_t x = q->hits[h]; x != NONE; x = q->from[x])
    if (q->stamp[d->seeker[x]] == pass)
      return false;
  size_t take = m;
  for (size_t x = q->hits[h]; x != NONE; x = q->from[x]) {
    size_t old = d->assign[x];
    q->stamp[d->seeker[x]] = pass;
    d->assign[x] = take;
    d->full[x] = d->redo[x] = true;
    take = old;
  }
  d->load[m]++;
  return true;
}

/* Looks for augmenting paths in the whole network, including candidates
 * the round left out, and applies them (Hopcroft-Karp style: passes of one
 * search each, seeker-disjoint paths per pass) until there are none. Units
 * on a path keep all their candidates from now on, so the next round's
 * flow can match as many units; returns whether any were widened. When a
 * round has no path, no assignment matches more units (Berge's theorem):
 * keeping few candidates never costs anyone a match. */
static bool widen(const world *w, demand *d) {
  size_t nu = d->nunits ? d->nunits : 1, n = w->n ? w->n : 1;
  search q = {ws_xcalloc(nu, sizeof(size_t)),
              ws_xcalloc(nu, sizeof(size_t)),
              0,
              0,
              ws_xcalloc(nu, sizeof(bool)),
              ws_xcalloc(n, sizeof(bool)),
              ws_xcalloc(n + 1, sizeof(size_t)),
              ws_xcalloc(nu, sizeof(size_t)),
              ws_xcalloc(n, sizeof(size_t)),
              ws_xcalloc(n, sizeof(size_t)),
              0,
              ws_xcalloc(n, sizeof(size_t)),
              ws_xcalloc(n, sizeof(size_t))};
  bool widened = false, moved = true;
  for (size_t i = 0; i < n; i++)
    q.stamp[i] = NONE;
  for (size_t pass = 0; moved; pass++) {
    moved = false;
    search_paths(&q, w, d);
    for (size_t h = 0; h < q.nhits; h++)
      moved |= augment(&q, w, d, h, pass);
    widened |= moved;
  }
  free(q.queue);
  free(q.from);
  free(q.seen_unit);
  free(q.seen_mentor);
  free(q.moff);
  free(q.mlist);
  free(q.fill);
  free(q.hits);
  free(q.hit_mentor);
  free(q.stamp);
  return widened;
}

/* --- explanations --- */

static void push_reason(ws_strlist *l, ws_str *s) {
  l->items = ws_xreallocarray(l->items, l->len + 1, sizeof(char *));
  l->items[l->len++] = ws_str_detach(s);
}

static void say_topic(const world *w, size_t id, void *payload) {
  ws_str s = WS_STR_INIT;
  ws_str_printf(&s, "shares '%s'", w->labels[id]);
  push_reason(payload, &s);
}

static void say_how(ws_strlist *l, const world *w, size_t s, size_t m) {
  static const char *const formats[] = {"", "one-on-one", "group",
                                        "one-on-one or group"};
  ws_str r = WS_STR_INIT;
  unsigned f = w->people[s]->formats & w->people[m]->formats & 3u;
  unsigned modes = usable_modes(w, s, m);
  const char *where = w->people[m]->location;
  ws_str_printf(&r, "both %s", formats[f]);
  push_reason(l, &r);
  if ((modes & WS_MODE_VIRTUAL) && (modes & WS_MODE_IN_PERSON))
    ws_str_printf(&r, "both virtual or in person in %s", where);
  else if (modes & WS_MODE_VIRTUAL)
    ws_str_puts(&r, "both virtual");
  else
    ws_str_printf(&r, "both in person in %s", where);
  push_reason(l, &r);
}

static void say_distance(ws_strlist *l, int d) {
  ws_str r = WS_STR_INIT;
  if (d < 0)
    return;
  if (d == 0)
    ws_str_puts(&r, "same time zone");
  else if (d % 60)
    ws_str_printf(&r, "time zones %d h %d min apart", d / 60, d % 60);
  else
    ws_str_printf(&r, "time zones %d h apart", d / 60);
  push_reason(l, &r);
}

/* Reverse mentoring: the mentor joined later, or holds a lower level. */
static bool say_reverse(ws_strlist *l, const world *w, size_t s, size_t m) {
  const ws_profile *a = w->people[s], *b = w->people[m];
  bool by_date = a->joined && b->joined && strcmp(b->joined, a->joined) > 0;
  bool by_level =
      w->level[s] >= 0 && w->level[m] >= 0 && w->level[m] < w->level[s];
  ws_str r = WS_STR_INIT;
  if (!by_date && !by_level)
    return false;
  ws_str_puts(&r, "reverse mentoring: ");
  /* Years say it best; the same year needs the dates. */
  if (by_date && strncmp(a->joined, b->joined, 4) == 0)
    ws_str_printf(&r, "joined %s, mentee %s", b->joined, a->joined);
  else if (by_date)
    ws_str_printf(&r, "joined %.4s, mentee %.4s", b->joined, a->joined);
  if (by_level)
    ws_str_printf(&r, "%slevel %d, mentee level %d", by_date ? ", " : "",
                  w->level[m], w->level[s]);
  push_reason(l, &r);
  return true;
}

static void explain(ws_match_pair *p, const world *w) {
  ws_str r = WS_STR_INIT;
  size_t s = p->mentee, m = p->mentor;
  ws_str_printf(&r, "offers %s", ws_mentor_type_name(p->type));
  push_reason(&p->reasons, &r);
  say_how(&p->reasons, w, s, m);
  shared_topics(w, s, m, say_topic, &p->reasons);
  if (w->tr[s].team != NONE && w->tr[m].team != NONE && !same_team(w, s, m)) {
    ws_str_puts(&r, "other team");
    push_reason(&p->reasons, &r);
  }
  say_distance(&p->reasons, tz_distance(w, s, m));
  p->reverse = say_reverse(&p->reasons, w, s, m);
}

/* " virtually", " in person in Lagos", " virtually or in person in Lagos" */
static void put_modes(ws_str *r, const ws_profile *a) {
  if (a->modes & WS_MODE_VIRTUAL)
    ws_str_puts(r, " virtually");
  if ((a->modes & WS_MODE_VIRTUAL) && (a->modes & WS_MODE_IN_PERSON))
    ws_str_puts(r, " or");
  if (a->modes & WS_MODE_IN_PERSON)
    ws_str_puts(r, " in person");
  if ((a->modes & WS_MODE_IN_PERSON) && a->location && *a->location)
    ws_str_printf(r, " in %s", a->location);
}

/* Names the first rule, in the order they are checked, that left no one;
 * or says that everyone who fits is taken. */
static char *unmet_reason(const world *w, const demand *d, size_t s,
                          unsigned t) {
  const ws_profile *a = w->people[s];
  const char *tn = ws_mentor_type_name(t);
  size_t offer = 0, outside = 0, format = 0, fit = 0, full = 0;
  ws_str r = WS_STR_INIT;
  for (size_t k = 0; k < w->noffer[t]; k++) {
    size_t m = w->offerers[t][k];
    if (m == s)
      continue;
    offer++;
    if (a->cross_team && same_team(w, s, m))
      continue;
    outside++;
    if (!(a->formats & w->tr[m].formats))
      continue;
    format++;
    if (!usable_modes(w, s, m))
      continue;
    fit++;
    full += d->load[m] >= w->tr[m].capacity;
  }
  if (offer == 0) {
    ws_str_printf(&r, "no one offers '%s'", tn);
  } else if (outside == 0) {
    ws_str_printf(&r, "no one outside %s offers '%s'", a->team, tn);
  } else if (format == 0) {
    ws_str_printf(&r, "no one offers '%s' %s", tn,
                  a->formats & WS_FORMAT_GROUP ? "in a group" : "one-on-one");
  } else if (fit == 0) {
    ws_str_printf(&r, "no one offers '%s'", tn);
    put_modes(&r, a);
  } else if (full == fit) {
    if (fit == 1)
      ws_str_printf(&r, "the one person who offers '%s'", tn);
    else
      ws_str_printf(&r, "all %zu people who offer '%s'", fit, tn);
    if (a->modes != (WS_MODE_VIRTUAL | WS_MODE_IN_PERSON))
      put_modes(&r, a);
    ws_str_puts(&r, fit == 1 ? " is at capacity" : " are at capacity");
  } else {
    ws_str_printf(&r,
                  "everyone who offers '%s' and has room is already "
                  "your mentor for another type",
                  tn);
  }
  return ws_str_detach(&r);
}

static int cmp_pair(const void *a, const void *b) {
  const ws_match_pair *x = a, *y = b;
  if (x->mentee != y->mentee)
    return x->mentee < y->mentee ? -1 : 1;
  return (int)x->type - (int)y->type;
}

static int cmp_unmet(const void *a, const void *b) {
  const ws_match_unmet *x = a, *y = b;
  if (x->person != y->person)
    return x->person < y->person ? -1 : 1;
  return (int)x->type - (int)y->type;
}

static void collect(ws_match *out, const world *w, const demand *d) {
  size_t nu = d->nunits ? d->nunits : 1;
  out->pairs = ws_xcalloc(nu, sizeof(ws_match_pair));
  out->unmet = ws_xcalloc(nu, sizeof(ws_match_unmet));
  for (size_t u = 0; u < d->nunits; u++) {
    size_t s = d->seeker[u];
    if (d->assign[u] == NONE) {
      out->unmet[out->nunmet++] =
          (ws_match_unmet){s, d->type[u], unmet_reason(w, d, s, d->type[u])};
      continue;
    }
    ws_match_pair *p = &out->pairs[out->npairs++];
    p->mentee = s;
    p->mentor = d->assign[u];
    p->type = d->type[u];
    p->score = pair_score(w, s, p->mentor);
    out->total_score += p->score;
    explain(p, w);
  }
  qsort(out->pairs, out->npairs, sizeof(ws_match_pair), cmp_pair);
  qsort(out->unmet, out->nunmet, sizeof(ws_match_unmet), cmp_unmet);
}

/* --- circles --- */

typedef struct {
  size_t *off, *ids; /* people of topic t: ids[off[t] .. off[t + 1]) */
} topic_people;

static bool has_id(const id_lists *l, size_t p, size_t id) {
  const size_t *a = l->ids + l->off[p];
  size_t lo = 0, hi = l->len[p];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] == id)
      return true;
    if (a[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

/* Who offers (kind 1) or only learns (kind 0) each topic, among the people
 * who chose the group format, in slug order. */
static void index_topics(topic_people *tp, const world *w, unsigned kind) {
  const id_lists *l = kind ? &w->expertise : &w->interest;
  size_t *fill = ws_xcalloc(w->ntopics + 1, sizeof(size_t));
  tp->off = ws_xcalloc(w->ntopics + 2, sizeof(size_t));
  tp->ids = ws_xcalloc(l->off[w->n] + 1, sizeof(size_t));
  for (size_t pass = 0; pass < 2; pass++) {
    for (size_t r = 0; r < w->n; r++) {
      size_t p = w->order[r];
      if (!(w->people[p]->formats & WS_FORMAT_GROUP))
        continue;
      for (size_t k = 0; k < l->len[p]; k++) {
        size_t id = l->ids[l->off[p] + k];
        if (!kind && has_id(&w->expertise, p, id))
          continue;
        if (pass == 0)
          tp->off[id + 1]++;
        else
          tp->ids[tp->off[id] + fill[id]++] = p;
      }
    }
    for (size_t t = 0; pass == 0 && t < w->ntopics; t++)
      tp->off[t + 1] += tp->off[t];
  }
  free(fill);
}

static size_t unseated(const topic_people *tp, size_t t, const bool *seated,
                       size_t *out) {
  size_t n = 0;
  for (size_t k = tp->off[t]; k < tp->off[t + 1]; k++)
    if (!seated[tp->ids[k]]) {
      if (out)
        out[n] = tp->ids[k];
      n++;
    }
  return n;
}

/* Seats the free offerers and learners of topic 't' in k circles, one
 * offerer each at least, dealt round-robin so sizes differ by one at most. */
static void seat(ws_match *out, const world *w, size_t t, size_t *who,
                 size_t no, size_t nl, bool *seated) {
  size_t k = (no + nl + WS_CIRCLE_MAX - 1) / WS_CIRCLE_MAX;
  if (k > no)
    k = no;
  size_t total = no + nl < k * WS_CIRCLE_MAX ? no + nl : k * WS_CIRCLE_MAX;
  out->circles =
      ws_xreallocarray(out->circles, out->ncircles + k, sizeof(ws_circle));
  ws_circle *c = out->circles + out->ncircles;
  for (size_t i = 0; i < k; i++) {
    c[i].topic = ws_xstrdup(w->labels[t]);
    c[i].slug = ws_xstrdup(w->slugs[t]);
    c[i].members = ws_xcalloc(WS_CIRCLE_MAX, sizeof(size_t));
    c[i].nmembers = c[i].noffering = 0;
  }
  for (size_t j = 0; j < total; j++) {
    ws_circle *ci = &c[j % k];
    ci->members[ci->nmembers++] = who[j];
    ci->noffering += j < no;
    seated[who[j]] = true;
  }
  out->ncircles += k;
}

/* Greedy and deterministic: while some topic has a free offerer, a free
 * learner and at least WS_CIRCLE_MIN free people, take the topic with the
 * most free people (ties: the first slug) and seat them. Each person sits
 * in one circle; each topic is chosen once, since it then runs out of free
 * learners or of free offerers. */
static void form_circles(ws_match *out, const world *w) {
  topic_people off, learn;
  bool *seated = ws_xcalloc(w->n ? w->n : 1, sizeof(bool));
  size_t *who = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  index_topics(&off, w, 1);
  index_topics(&learn, w, 0);
  for (;;) {
    size_t best = NONE, best_n = 0;
    for (size_t t = 0; t < w->ntopics; t++) {
      size_t no = unseated(&off, t, seated, NULL);
      size_t nl = unseated(&learn, t, seated, NULL);
      if (no && nl && no + nl >= WS_CIRCLE_MIN && no + nl > best_n) {
        best = t;
        best_n = no + nl;
      }
    }
    if (best == NONE)
      break;
    size_t no = unseated(&off, best, seated, who);
    size_t nl = unseated(&learn, best, seated, who + no);
    seat(out, w, best, who, no, nl, seated);
  }
  free(off.off);
  free(off.ids);
  free(learn.off);
  free(learn.ids);
  free(seated);
  free(who);
}

/* --- the whole --- */

/* Counting sort of the pairs by mentor, and each person's circle. */
static void index_people(ws_match *m, size_t n) {
  m->npeople = n;
  m->mentor_start = ws_xcalloc(n + 1, sizeof(size_t));
  m->by_mentor = ws_xcalloc(m->npairs ? m->npairs : 1, sizeof(size_t));
  m->circle_of = ws_xcalloc(n ? n : 1, sizeof(size_t));
  for (size_t k = 0; k < m->npairs; k++)
    m->mentor_start[m->pairs[k].mentor + 1]++;
  for (size_t i = 0; i < n; i++)
    m->mentor_start[i + 1] += m->mentor_start[i];
  size_t *fill = ws_xcalloc(n ? n : 1, sizeof(size_t));
  for (size_t k = 0; k < m->npairs; k++) {
    size_t who = m->pairs[k].mentor;
    m->by_mentor[m->mentor_start[who] + fill[who]++] = k;
  }
  free(fill);
  for (size_t i = 0; i < n; i++)
    m->circle_of[i] = (size_t)-1;
  for (size_t k = 0; k < m->ncircles; k++)
    for (size_t j = 0; j < m->circles[k].nmembers; j++)
      m->circle_of[m->circles[k].members[j]] = k;
}

ws_match *ws_match_new(ws_profile *const *people, size_t n) {
  ws_match *m = ws_xcalloc(1, sizeof(*m));
  world w;
  demand d;
  cand_pool pool = {0};
  world_init(&w, people, n);
  demand_init(&d, &w);
  do {
    run_flow(&w, &d, &pool, m->rounds == 0);
    m->rounds++;
  } while (widen(&w, &d));
  collect(m, &w, &d);
  form_circles(m, &w);
  index_people(m, n);
  m->demand = d.nunits;
  free(pool.items);
  free(pool.off);
  demand_release(&d);
  world_release(&w);
  return m;
}

void ws_match_free(ws_match *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->npairs; i++)
    ws_strlist_release(&m->pairs[i].reasons);
  for (size_t i = 0; i < m->nunmet; i++)
    free(m->unmet[i].reason);
  for (size_t i = 0; i < m->ncircles; i++) {
    free(m->circles[i].topic);
    free(m->circles[i].slug);
    free(m->circles[i].members);
  }
  free(m->pairs);
  free(m->unmet);
  free(m->circles);
  free(m->mentor_start);
  free(m->by_mentor);
  free(m->circle_of);
  free(m);
}
