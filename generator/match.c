#include "match.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pool.h"
#include "site.h"
#include "str.h"
#include "xalloc.h"

/* The result is cached between builds (matchcache.c), keyed by a digest of
 * every profile field read here: whoever makes the matcher read another
 * field (or anything outside the profiles) must add it to the key list in
 * matchcache.c, or builds will keep serving stale matches. */

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

/* The offerers of one type who have room, by slug, and the rules as bit
 * sets over their positions: a seeker's possible mentors come out of a few
 * word operations, in slug order, instead of a rule check per offerer. */
typedef struct {
  size_t n, words;
  size_t *who;               /* person at each position */
  uint64_t *format[2];       /* positions offering one-on-one; group */
  uint64_t *virtually;       /* positions offering virtual meetings */
  size_t *at_off, *at;       /* positions offering in person, by place id */
  size_t *team_off, *team;   /* positions by team id */
  size_t *topic_off, *topic; /* positions by topic id they know */
  size_t nzones;
  int *zone_tz;            /* each zone's UTC offset, or INT_MIN */
  size_t *zone_off, *zone; /* positions by zone */
  size_t *zone_of;         /* each position's zone */
  size_t *team_at;         /* each position's team id, or NONE */
  size_t *pos_of;          /* each person's position, or NONE */
} offer_index;

typedef struct {
  ws_profile *const *people;
  size_t n;
  traits *tr;
  size_t nteams, nplaces;
  offer_index ix[WS_MENTOR__COUNT];
  size_t words;       /* the most any offer_index needs */
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
  unsigned jobs; /* threads for scoring and pricing; 0: one per core */
} world;

/* Distinct labels, each slugified once: a team of thousands writes the
 * same few hundred topics again and again. */
typedef struct {
  const char **text; /* by first appearance */
  size_t *count;     /* how often each was written */
  size_t n, cap;
  size_t *slot, nslots; /* open addressing: index + 1, or 0 */
} label_set;

static void label_grow(label_set *ls) {
  size_t ns = ls->nslots ? ls->nslots * 2 : 256;
  size_t *slot = ws_xcalloc(ns, sizeof(size_t));
  for (size_t i = 0; i < ls->n; i++) {
    size_t h = (size_t)ws_str_hash(ls->text[i]) & (ns - 1);
    while (slot[h])
      h = (h + 1) & (ns - 1);
    slot[h] = i + 1;
  }
  free(ls->slot);
  ls->slot = slot;
  ls->nslots = ns;
}

/* The index of 'text' in 'ls', added the first time it is seen. */
static size_t label_index(label_set *ls, const char *text) {
  if (2 * (ls->n + 1) > ls->nslots)
    label_grow(ls);
  size_t h = (size_t)ws_str_hash(text) & (ls->nslots - 1);
  for (; ls->slot[h]; h = (h + 1) & (ls->nslots - 1))
    if (strcmp(ls->text[ls->slot[h] - 1], text) == 0) {
      ls->count[ls->slot[h] - 1]++;
      return ls->slot[h] - 1;
    }
  if (ls->n == ls->cap) {
    ls->cap = ls->cap ? ls->cap * 2 : 64;
    ls->text = ws_xreallocarray(ls->text, ls->cap, sizeof(char *));
    ls->count = ws_xreallocarray(ls->count, ls->cap, sizeof(size_t));
  }
  ls->text[ls->n] = text;
  ls->count[ls->n] = 1;
  ls->slot[h] = ++ls->n;
  return ls->n - 1;
}

static void label_set_release(label_set *ls) {
  free(ls->text);
  free(ls->count);
  free(ls->slot);
}

typedef struct {
  char *slug;
  const char *text;
  size_t index;
} spelling;

static int cmp_spelling(const void *a, const void *b) {
  const spelling *x = a, *y = b;
  int c = strcmp(x->slug, y->slug);
  return c ? c : strcmp(x->text, y->text);
}

/* Numbers the distinct slugs of the labels of 'ls' in slug order, writing
 * the id of label i into id_of[i]; returns how many there are. When
 * 'labels' is given, each id gets its most common spelling (ties: the
 * smallest). */
static size_t intern(const label_set *ls, size_t *id_of, char ***labels,
                     char ***slugs) {
  spelling *sp = ws_xcalloc(ls->n + 1, sizeof(spelling));
  size_t nid = 0;
  for (size_t i = 0; i < ls->n; i++)
    sp[i] = (spelling){ws_slugify(ls->text[i]), ls->text[i], i};
  if (ls->n)
    qsort(sp, ls->n, sizeof(spelling), cmp_spelling);
  for (size_t i = 0, j; i < ls->n; i = j, nid++) {
    size_t best = i;
    for (j = i; j < ls->n && strcmp(sp[j].slug, sp[i].slug) == 0; j++) {
      id_of[sp[j].index] = nid;
      if (ls->count[sp[j].index] > ls->count[sp[best].index])
        best = j;
    }
    if (labels) {
      *labels = ws_xreallocarray(*labels, nid + 1, sizeof(char *));
      *slugs = ws_xreallocarray(*slugs, nid + 1, sizeof(char *));
      (*labels)[nid] = ws_xstrdup(sp[best].text);
      (*slugs)[nid] = ws_xstrdup(sp[i].slug);
    }
  }
  for (size_t i = 0; i < ls->n; i++)
    free(sp[i].slug);
  free(sp);
  return nid;
}

/* One id per person from a single field (team, location); returns how many
 * distinct ones there are. */
static size_t person_ids(world *w, size_t *out, size_t field) {
  label_set ls = {0};
  for (size_t i = 0; i < w->n; i++) {
    const char *v = field ? w->people[i]->location : w->people[i]->team;
    out[i] = v && *v ? label_index(&ls, v) : NONE;
  }
  size_t *id_of = ws_xcalloc(ls.n + 1, sizeof(size_t));
  size_t nid = intern(&ls, id_of, NULL, NULL);
  for (size_t i = 0; i < w->n; i++)
    if (out[i] != NONE)
      out[i] = id_of[out[i]];
  free(id_of);
  label_set_release(&ls);
  return nid;
}

typedef struct {
  size_t label, person;
  unsigned kind;
} entry;

typedef struct {
  entry *items;
  size_t len, cap;
} entries;

static void add_list(entries *e, label_set *ls, const ws_strlist *l,
                     size_t person, unsigned kind) {
  for (size_t k = 0; k < l->len; k++) {
    if (!l->items[k] || !*l->items[k])
      continue;
    if (e->len == e->cap) {
      e->cap = e->cap ? e->cap * 2 : 1024;
      e->items = ws_xreallocarray(e->items, e->cap, sizeof(entry));
    }
    e->items[e->len++] = (entry){label_index(ls, l->items[k]), person, kind};
  }
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts each person's ids and drops the repeats. */
static void sort_lists(id_lists *l, size_t n) {
  for (size_t p = 0; p < n; p++) {
    size_t *at = l->ids + l->off[p], len = 0;
    if (l->len[p] > 1)
      qsort(at, l->len[p], sizeof(size_t), cmp_size);
    for (size_t k = 0; k < l->len[p]; k++)
      if (len == 0 || at[len - 1] != at[k])
        at[len++] = at[k];
    l->len[p] = len;
  }
}

/* Fills one id_lists per kind, each person's list sorted and without
 * repeats. */
static void topic_lists(world *w) {
  entries e = {0};
  label_set ls = {0};
  for (size_t i = 0; i < w->n; i++) {
    const ws_profile *p = w->people[i];
    add_list(&e, &ls, &p->learning, i, 0);
    add_list(&e, &ls, &p->seek_topics, i, 0);
    add_list(&e, &ls, &p->strengths, i, 1);
    add_list(&e, &ls, &p->offer_topics, i, 1);
  }
  size_t *id_of = ws_xcalloc(ls.n + 1, sizeof(size_t));
  w->ntopics = intern(&ls, id_of, &w->labels, &w->slugs);
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
    size_t p = e.items[k].person;
    l->ids[l->off[p] + l->len[p]++] = id_of[e.items[k].label];
  }
  for (size_t k = 0; k < 2; k++)
    sort_lists(lists[k], w->n);
  free(id_of);
  free(e.items);
  label_set_release(&ls);
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

/* --- bit sets over the offerers of a type --- */

static void bit_set(uint64_t *b, size_t k) {
  b[k / 64] |= (uint64_t)1 << (k % 64);
}

static void bit_clear(uint64_t *b, size_t k) {
  b[k / 64] &= ~((uint64_t)1 << (k % 64));
}

/* The first set bit at or after 'k', or NONE. */
static size_t bit_next(const uint64_t *b, size_t words, size_t k) {
  size_t i = k / 64;
  if (i >= words)
    return NONE;
  uint64_t x = b[i] & (~(uint64_t)0 << (k % 64));
  while (!x) {
    if (++i == words)
      return NONE;
    x = b[i];
  }
  return i * 64 + (size_t)__builtin_ctzll(x);
}

/* Groups the positions of 'x' by 'id' (one per position, NONE: none) into
 * pos[off[i] .. off[i + 1]), in position order. */
static void group_positions(const offer_index *x, const size_t *id, size_t nid,
                            size_t **off, size_t **pos) {
  *off = ws_xcalloc(nid + 2, sizeof(size_t));
  *pos = ws_xcalloc(x->n ? x->n : 1, sizeof(size_t));
  for (size_t k = 0; k < x->n; k++)
    if (id[k] != NONE)
      (*off)[id[k] + 2]++;
  for (size_t i = 2; i < nid + 2; i++)
    (*off)[i] += (*off)[i - 1];
  for (size_t k = 0; k < x->n; k++)
    if (id[k] != NONE)
      (*pos)[(*off)[id[k] + 1]++] = k;
}

/* Who knows each topic, so a seeker's shared topics with every offerer are
 * counted by walking the seeker's few topics instead of every offerer's. */
static void index_topics_known(offer_index *x, const id_lists *l,
                               size_t ntopics) {
  size_t total = 0;
  x->topic_off = ws_xcalloc(ntopics + 2, sizeof(size_t));
  for (size_t k = 0; k < x->n; k++)
    for (size_t j = 0; j < l->len[x->who[k]]; j++, total++)
      x->topic_off[l->ids[l->off[x->who[k]] + j] + 2]++;
  for (size_t i = 2; i < ntopics + 2; i++)
    x->topic_off[i] += x->topic_off[i - 1];
  x->topic = ws_xcalloc(total + 1, sizeof(size_t));
  for (size_t k = 0; k < x->n; k++)
    for (size_t j = 0; j < l->len[x->who[k]]; j++)
      x->topic[x->topic_off[l->ids[l->off[x->who[k]] + j] + 1]++] = k;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* Groups the positions of 'x' by time zone (the offsets met, in order). */
static void index_zones(offer_index *x, const int *tz) {
  size_t *id = x->zone_of = ws_xcalloc(x->n + 1, sizeof(size_t));
  x->zone_tz = ws_xcalloc(x->n + 1, sizeof(int));
  for (size_t k = 0; k < x->n; k++)
    x->zone_tz[k] = tz[x->who[k]];
  if (x->n)
    qsort(x->zone_tz, x->n, sizeof(int), cmp_int);
  for (size_t k = 0; k < x->n; k++)
    if (x->nzones == 0 || x->zone_tz[x->nzones - 1] != x->zone_tz[k])
      x->zone_tz[x->nzones++] = x->zone_tz[k];
  for (size_t k = 0; k < x->n; k++) {
    const int *at =
        bsearch(&tz[x->who[k]], x->zone_tz, x->nzones, sizeof(int), cmp_int);
    id[k] = (size_t)(at - x->zone_tz);
  }
  group_positions(x, id, x->nzones, &x->zone_off, &x->zone);
}

/* The rules as bit sets and groups over the positions of 'x'. */
static void index_rules(offer_index *x, const world *w) {
  size_t *place = ws_xcalloc(x->n + 1, sizeof(size_t));
  x->team_at = ws_xcalloc(x->n + 1, sizeof(size_t));
  for (size_t f = 0; f < 2; f++)
    x->format[f] = ws_xcalloc(x->words + 1, sizeof(uint64_t));
  x->virtually = ws_xcalloc(x->words + 1, sizeof(uint64_t));
  for (size_t k = 0; k < x->n; k++) {
    const traits *b = &w->tr[x->who[k]];
    if (b->formats & WS_FORMAT_ONE_ON_ONE)
      bit_set(x->format[0], k);
    if (b->formats & WS_FORMAT_GROUP)
      bit_set(x->format[1], k);
    if (b->modes & WS_MODE_VIRTUAL)
      bit_set(x->virtually, k);
    place[k] = b->modes & WS_MODE_IN_PERSON ? b->place : NONE;
    x->team_at[k] = b->team;
  }
  group_positions(x, place, w->nplaces, &x->at_off, &x->at);
  group_positions(x, x->team_at, w->nteams, &x->team_off, &x->team);
  free(place);
}

static void index_offers(world *w, unsigned t) {
  offer_index *x = &w->ix[t];
  x->who = ws_xcalloc(w->noffer[t] + 1, sizeof(size_t));
  x->pos_of = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  for (size_t p = 0; p < w->n; p++)
    x->pos_of[p] = NONE;
  for (size_t k = 0; k < w->noffer[t]; k++)
    if (w->tr[w->offerers[t][k]].capacity) {
      x->pos_of[w->offerers[t][k]] = x->n;
      x->who[x->n++] = w->offerers[t][k];
    }
  x->words = (x->n + 63) / 64;
  index_rules(x, w);
  index_topics_known(x, &w->expertise, w->ntopics);
  index_zones(x, w->tz);
  if (x->words > w->words)
    w->words = x->words;
}

static void offer_index_release(offer_index *x) {
  free(x->who);
  free(x->format[0]);
  free(x->format[1]);
  free(x->virtually);
  free(x->at_off);
  free(x->at);
  free(x->team_off);
  free(x->team);
  free(x->topic_off);
  free(x->topic);
  free(x->zone_tz);
  free(x->zone_off);
  free(x->zone);
  free(x->zone_of);
  free(x->pos_of);
  free(x->team_at);
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
  w->nteams = person_ids(w, team, 0);
  w->nplaces = person_ids(w, place, 1);
  for (size_t i = 0; i < n; i++) {
    const ws_profile *p = people[i];
    w->tr[i] = (traits){team[i],  place[i],    p->offer_types, p->formats,
                        p->modes, p->capacity, p->cross_team};
    if (!ws_match_tz_offset(p->timezone, &w->tz[i]))
      w->tz[i] = INT_MIN;
    const ws_value *lv = p->level;
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
    index_offers(w, t);
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
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    free(w->offerers[t]);
    offer_index_release(&w->ix[t]);
  }
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

/* The position of person 'p' among the offerers of 't' with room, or NONE. */
static size_t position(const world *w, unsigned t, size_t p) {
  return w->ix[t].pos_of[p];
}

/* Sets the positions of the offerers of 't' with room who may mentor 's' as
 * 't', all at once: not 's', a shared format, a usable mode (virtual on
 * both sides, or in person at the same place), and another team when 's'
 * asked for one. */
static void compat_bits(const world *w, size_t s, unsigned t, uint64_t *out) {
  const offer_index *x = &w->ix[t];
  const traits *a = &w->tr[s];
  uint64_t one = a->formats & WS_FORMAT_ONE_ON_ONE ? ~(uint64_t)0 : 0;
  uint64_t group = a->formats & WS_FORMAT_GROUP ? ~(uint64_t)0 : 0;
  uint64_t virt = a->modes & WS_MODE_VIRTUAL ? ~(uint64_t)0 : 0;
  for (size_t i = 0; i < x->words; i++)
    out[i] = ((x->format[0][i] & one) | (x->format[1][i] & group)) &
             x->virtually[i] & virt;
  if ((a->modes & WS_MODE_IN_PERSON) && a->place != NONE)
    for (size_t k = x->at_off[a->place]; k < x->at_off[a->place + 1]; k++)
      if (a->formats & w->tr[x->who[x->at[k]]].formats)
        bit_set(out, x->at[k]);
  if (a->cross_team && a->team != NONE)
    for (size_t k = x->team_off[a->team]; k < x->team_off[a->team + 1]; k++)
      bit_clear(out, x->team[k]);
  size_t self = position(w, t, s);
  if (self != NONE)
    bit_clear(out, self);
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

/* Minutes between two UTC offsets on the clock face, or -1 if either is
 * unknown (INT_MIN). */
static int zone_distance(int a, int b) {
  if (a == INT_MIN || b == INT_MIN)
    return -1;
  int d = abs(a - b);
  return d > 720 ? 1440 - d : d;
}

static int tz_distance(const world *w, size_t a, size_t b) {
  return zone_distance(w->tz[a], w->tz[b]);
}

/* What the time zones take off a pair's score. */
static int zone_penalty(int a, int b) {
  int d = zone_distance(a, b);
  return d > 0 ? WS_MATCH_W_TZ * (d / (60 * WS_MATCH_TZ_HOURS)) : 0;
}

/* The score of a pair but for its shared topics. */
static int score_apart(const world *w, size_t s, size_t m) {
  int score = 0;
  if (w->tr[s].team != NONE && w->tr[m].team != NONE && !same_team(w, s, m))
    score += WS_MATCH_W_CROSS_TEAM;
  return score - zone_penalty(w->tz[s], w->tz[m]);
}

static int topic_score(size_t shared) {
  return WS_MATCH_W_TOPIC *
         (int)(shared < WS_MATCH_TOPIC_CAP ? shared : WS_MATCH_TOPIC_CAP);
}

static int pair_score(const world *w, size_t s, size_t m) {
  return topic_score(shared_topics(w, s, m, NULL, NULL)) + score_apart(w, s, m);
}

/* Adds 'by' to shared[k] for every topic 's' wants to learn that the
 * offerer of 't' at position k knows: with 'by' = 1 that counts the shared
 * topics of every offerer at once; -1 clears the counts again. */
static void count_shared(const world *w, size_t s, unsigned t, unsigned *shared,
                         unsigned by) {
  const offer_index *x = &w->ix[t];
  const size_t *a = w->interest.ids + w->interest.off[s];
  for (size_t i = 0; i < w->interest.len[s]; i++)
    for (size_t k = x->topic_off[a[i]]; k < x->topic_off[a[i] + 1]; k++)
      shared[x->topic[k]] += by;
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
  d->assign = ws_xcalloc(n ? n : 1, sizeof(size_t));
  d->load = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
}

static void demand_release(demand *d) {
  free(d->seeker);
  free(d->type);
  free(d->first);
  free(d->assign);
  free(d->load);
}

/* The units of the seeker of 'u': [*first, *end). */
static void seeker_units(const demand *d, size_t u, size_t *first,
                         size_t *end) {
  *first = d->first[d->seeker[u]];
  *end = *first;
  while (*end < d->nunits && d->seeker[*end] == d->seeker[u])
    (*end)++;
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

#define KEPT (WS_MATCH_CANDIDATES + WS_MATCH_SPREAD_CANDIDATES)

/* Writes into 'out' the WS_MATCH_CANDIDATES best of the 'n' candidates in
 * 'all', plus WS_MATCH_SPREAD_CANDIDATES of the rest, evenly spaced from an
 * offset that depends on the unit ('salt'): if everyone started from the
 * same few favourites, the first flow would leave much to price in. A
 * counting pass over the small score range finds the cut; candidates come
 * by slug, so ties at the cut go to the first slugs. Returns how many were
 * kept (all of them when there are at most KEPT). */
static size_t keep_best(const cand *all, size_t n, size_t salt, cand *rest,
                        cand *out) {
  size_t hist[SCORE_MAX - SCORE_MIN + 1] = {0}, nrest = 0, kept = 0;
  if (n <= KEPT) {
    memcpy(out, all, n * sizeof(cand));
    return n;
  }
  for (size_t i = 0; i < n; i++)
    hist[all[i].score - SCORE_MIN]++;
  int cut = SCORE_MAX;
  size_t above = 0;
  while (above + hist[cut - SCORE_MIN] < WS_MATCH_CANDIDATES) {
    above += hist[cut - SCORE_MIN];
    cut--;
  }
  size_t at_cut = WS_MATCH_CANDIDATES - above;
  for (size_t i = 0; i < n; i++) {
    if (all[i].score > cut || (all[i].score == cut && at_cut > 0)) {
      at_cut -= all[i].score == cut;
      out[kept++] = all[i];
    } else {
      rest[nrest++] = all[i];
    }
  }
  size_t step = nrest / WS_MATCH_SPREAD_CANDIDATES;
  for (size_t j = 0; j < WS_MATCH_SPREAD_CANDIDATES; j++)
    out[kept++] = rest[salt % step + j * step];
  return kept;
}

/* Scratch space for scoring one unit against all the offerers of its type. */
typedef struct {
  uint64_t *fits;   /* compatible positions */
  unsigned *shared; /* topics shared, by position */
  int *penalty;     /* what each zone takes off the score */
  cand *all, *rest;
} scratch;

static void scratch_init(scratch *sc, const world *w) {
  sc->fits = ws_xcalloc(w->words + 1, sizeof(uint64_t));
  sc->shared = ws_xcalloc(w->words * 64 + 1, sizeof(unsigned));
  sc->penalty = ws_xcalloc(w->words * 64 + 1, sizeof(int));
  sc->all = ws_xcalloc(w->words * 64 + 1, sizeof(cand));
  sc->rest = ws_xcalloc(w->words * 64 + 1, sizeof(cand));
}

static void scratch_release(scratch *sc) {
  free(sc->fits);
  free(sc->shared);
  free(sc->penalty);
  free(sc->all);
  free(sc->rest);
}

/* Readies 'sc' to score seeker 's' against the offerers of 't' by
 * position: which may mentor them, their shared topics, what each zone
 * costs. Undone by scratch_done. */
static void scratch_ready(scratch *sc, const world *w, size_t s, unsigned t) {
  const offer_index *x = &w->ix[t];
  compat_bits(w, s, t, sc->fits);
  count_shared(w, s, t, sc->shared, 1);
  for (size_t z = 0; z < x->nzones; z++)
    sc->penalty[z] = zone_penalty(w->tz[s], x->zone_tz[z]);
}

static void scratch_done(scratch *sc, const world *w, size_t s, unsigned t) {
  count_shared(w, s, t, sc->shared, (unsigned)-1);
}

/* pair_score() of seeker 's' and the offerer of 't' at position 'k', from
 * what scratch_ready worked out. */
static int score_at(const scratch *sc, const world *w, size_t s, unsigned t,
                    size_t k) {
  const offer_index *x = &w->ix[t];
  size_t team = w->tr[s].team;
  int score = topic_score(sc->shared[k]) - sc->penalty[x->zone_of[k]];
  if (team != NONE && x->team_at[k] != NONE && x->team_at[k] != team)
    score += WS_MATCH_W_CROSS_TEAM;
  return score;
}

/* Scores every mentor who may take unit 'u', by slug, into sc->all. */
static size_t score_all(const world *w, const demand *d, size_t u,
                        scratch *sc) {
  size_t s = d->seeker[u], n = 0;
  unsigned t = d->type[u];
  const offer_index *x = &w->ix[t];
  scratch_ready(sc, w, s, t);
  for (size_t k = bit_next(sc->fits, x->words, 0); k != NONE;
       k = bit_next(sc->fits, x->words, k + 1)) {
    size_t m = x->who[k];
    sc->all[n++] = (cand){m, score_at(sc, w, s, t, k), w->rank[m]};
  }
  scratch_done(sc, w, s, t);
  return n;
}

typedef struct {
  const world *w;
  const demand *d;
  cand *kept;    /* KEPT slots per unit */
  size_t *nkept; /* per unit */
} list_job;

#define LIST_CHUNK 256

/* Lists the first candidates of one chunk of units. Each unit writes only
 * its own slots, so the lists do not depend on the number of threads. */
static int list_chunk(void *payload, size_t i) {
  list_job *j = payload;
  scratch sc;
  size_t end = (i + 1) * LIST_CHUNK;
  scratch_init(&sc, j->w);
  for (size_t u = i * LIST_CHUNK; u < end && u < j->d->nunits; u++) {
    size_t n = score_all(j->w, j->d, u, &sc);
    cand *out = j->kept + u * KEPT;
    j->nkept[u] = keep_best(sc.all, n, u, sc.rest, out);
    qsort(out, j->nkept[u], sizeof(cand), cmp_cand);
  }
  scratch_release(&sc);
  return 0;
}

/* The first candidates of every unit, on every core: scoring every
 * compatible pair is the one step that reads all of them. */
static void build_candidates(cand_pool *p, const world *w, const demand *d) {
  size_t nu = d->nunits;
  list_job j = {w, d, ws_xcalloc(nu * KEPT + 1, sizeof(cand)),
                ws_xcalloc(nu + 1, sizeof(size_t))};
  ws_pool_run(w->jobs, (nu + LIST_CHUNK - 1) / LIST_CHUNK, list_chunk, &j);
  p->off = ws_xcalloc(nu + 1, sizeof(size_t));
  for (size_t u = 0; u < nu; u++) {
    p->off[u] = p->len;
    for (size_t k = 0; k < j.nkept[u]; k++)
      pool_push(p, j.kept[u * KEPT + k]);
  }
  p->off[nu] = p->len;
  free(j.kept);
  free(j.nkept);
}

/* Adds the candidates of 'extra' to those of 'p', each unit's list again
 * by score, then slug: the order of a unit's arcs, which breaks ties. */
static void add_candidates(cand_pool *p, const cand_pool *extra,
                           size_t nunits) {
  cand_pool q = {0};
  q.off = ws_xcalloc(nunits + 1, sizeof(size_t));
  for (size_t u = 0; u < nunits; u++) {
    size_t start = q.len;
    q.off[u] = start;
    for (size_t k = p->off[u]; k < p->off[u + 1]; k++)
      pool_push(&q, p->items[k]);
    for (size_t k = extra->off[u]; k < extra->off[u + 1]; k++)
      pool_push(&q, extra->items[k]);
    if (q.len > start)
      qsort(q.items + start, q.len - start, sizeof(cand), cmp_cand);
  }
  q.off[nunits] = q.len;
  free(p->items);
  free(p->off);
  *p = q;
}

/* --- min-cost flow --- */

typedef struct {
  uint32_t to, rev;
  int32_t cost, cap;
  int32_t back; /* the reverse edge's cap: the backward search reads it here */
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
  size_t *pair_arc;    /* pair nodes: their arc to the mentor; else NONE */
  size_t *mentor_node; /* per person: their node, or NONE */
  size_t *sink_arc;    /* per person: the arc of their first mentee */
  size_t *unit_arc;    /* unit u: arcs unit_arc[2u] .. unit_arc[2u + 1] */
} graph;               /* arc 0: the bypass from the source to the sink */

enum { SRC = 0, SINK = 1 };

static uint32_t node_new(graph *g, size_t person) {
  g->node_person =
      ws_xreallocarray(g->node_person, g->nnodes + 1, sizeof(size_t));
  g->pair_arc = ws_xreallocarray(g->pair_arc, g->nnodes + 1, sizeof(size_t));
  g->node_person[g->nnodes] = person;
  g->pair_arc[g->nnodes] = NONE;
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
    g->edges[f] = (edge){c->to, (uint32_t)r, c->cost, 1, 0};
    g->edges[r] = (edge){c->from, (uint32_t)f, -c->cost, 0, 1};
    g->pos[a] = f;
  }
}

static void graph_release(graph *g) {
  free(g->arcs);
  free(g->start);
  free(g->edges);
  free(g->pos);
  free(g->node_person);
  free(g->pair_arc);
  free(g->mentor_node);
  free(g->sink_arc);
  free(g->unit_arc);
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

/* Dijkstra's queue: a bucket per distance below QUEUE_BUCKETS, where the
 * small integer costs keep nearly every distance a search meets, and a
 * heap for the rest. Which of two equal distances comes out first does
 * not matter: the search only decides which nodes are settled and their
 * distances. */
#define QUEUE_BUCKETS 64

typedef struct {
  uint32_t *items;
  size_t len, cap;
} bucket;

typedef struct {
  bucket near[QUEUE_BUCKETS];
  size_t at; /* no bucket below this one holds anything */
  heap far;
} queue;

static void queue_clear(queue *q) {
  for (size_t b = 0; b < QUEUE_BUCKETS; b++)
    q->near[b].len = 0;
  q->at = 0;
  q->far.len = 0;
}

static void queue_push(queue *q, long long d, uint32_t v) {
  if (d >= QUEUE_BUCKETS) {
    heap_push(&q->far, (heap_item){d, v});
    return;
  }
  bucket *b = &q->near[d];
  if (b->len == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 256;
    b->items = ws_xreallocarray(b->items, b->cap, sizeof(uint32_t));
  }
  b->items[b->len++] = v;
}

/* Takes out an item of the least distance; false when empty. */
static bool queue_pop(queue *q, heap_item *out) {
  while (q->at < QUEUE_BUCKETS && q->near[q->at].len == 0)
    q->at++;
  if (q->at < QUEUE_BUCKETS) {
    bucket *b = &q->near[q->at];
    *out = (heap_item){(long long)q->at, b->items[--b->len]};
    return true;
  }
  if (q->far.len == 0)
    return false;
  *out = heap_pop(&q->far);
  return true;
}

static void queue_release(queue *q) {
  for (size_t b = 0; b < QUEUE_BUCKETS; b++)
    free(q->near[b].items);
  free(q->far.items);
}

/* The flow is kept as a pseudo-flow: a node may hold more flow than it
 * passes on (excess > 0, it gives) or less (excess < 0, it takes). It
 * starts with one unit of excess at the source for every unit and as much
 * shortage at the sink; a warm start (warm_start) may add some elsewhere.
 * A bypass arc from the source to the sink, dearer than any path through
 * a mentor, takes the units nobody can mentor: with it the flow of least
 * cost that balances every node is the min-cost maximum flow. */
typedef struct {
  graph *g;
  long long *pot, *dist;
  long *excess; /* inflow - outflow, plus the source's supply */
  queue queue;
  unsigned char *mark; /* FRESH, ON_PATH or DEAD in the current pass */
  size_t *it, *stack;
  size_t *settled, phase; /* settled[v] == phase: v was settled this phase */
} flow;

static void flow_init(flow *f, graph *g, size_t nunits) {
  size_t n = g->nnodes;
  memset(f, 0, sizeof(*f));
  f->g = g;
  f->pot = ws_xcalloc(n, sizeof(long long));
  f->dist = ws_xcalloc(n, sizeof(long long));
  f->excess = ws_xcalloc(n, sizeof(long));
  f->excess[SRC] = (long)nunits;
  f->excess[SINK] = -(long)nunits;
  f->mark = ws_xcalloc(n, sizeof(unsigned char));
  f->it = ws_xcalloc(n, sizeof(size_t));
  f->stack = ws_xcalloc(n + 1, sizeof(size_t));
  f->settled = ws_xcalloc(n, sizeof(size_t));
}

static void flow_release(flow *f) {
  free(f->pot);
  free(f->dist);
  free(f->excess);
  free(f->mark);
  free(f->it);
  free(f->stack);
  free(f->settled);
  queue_release(&f->queue);
}

static long long reduced(const flow *f, uint32_t u, const edge *e) {
  return e->cost + f->pot[u] - f->pot[e->to];
}

static bool gives(const flow *f, uint32_t v) {
  return f->excess[v] > 0;
}

static bool takes(const flow *f, uint32_t v) {
  return f->excess[v] < 0;
}

/* Moves one unit along edge 'k', which leaves node 'from'. */
static void push(flow *f, uint32_t from, size_t k) {
  edge *e = &f->g->edges[k], *r = &f->g->edges[e->rev];
  e->cap--;
  e->back++;
  r->cap++;
  r->back--;
  f->excess[from]--;
  f->excess[e->to]++;
}

/* Dijkstra on reduced costs, backwards from every node that takes flow,
 * stopped past the nearest node that gives; then every potential drops by
 * min(dist, that distance), which keeps reduced costs non-negative and
 * makes every shortest path from a giver to a taker cost 0. Backwards,
 * because a large team has many more seekers than free places: most
 * seekers left unmatched are far from every free place, and a search from
 * the free places does not have to walk through all of them. */
static bool shortest_paths(flow *f) {
  graph *g = f->g;
  long long near = LLONG_MAX;
  heap_item top;
  queue_clear(&f->queue);
  for (uint32_t v = 0; v < g->nnodes; v++) {
    f->dist[v] = takes(f, v) ? 0 : LLONG_MAX;
    if (takes(f, v))
      queue_push(&f->queue, 0, v);
  }
  while (queue_pop(&f->queue, &top)) {
    if (top.d != f->dist[top.v])
      continue;
    /* Settle everything as near as the nearest giver: every shortest
     * path. */
    if (top.d > near)
      break;
    f->settled[top.v] = f->phase;
    if (gives(f, top.v) && near == LLONG_MAX)
      near = top.d;
    for (size_t k = g->start[top.v]; k < g->start[top.v + 1]; k++) {
      const edge *e = &g->edges[k]; /* the arc in is e's reverse */
      long long nd = top.d - e->cost + f->pot[e->to] - f->pot[top.v];
      if (e->back > 0 && nd < f->dist[e->to]) {
        f->dist[e->to] = nd;
        queue_push(&f->queue, nd, e->to);
      }
    }
  }
  if (near == LLONG_MAX)
    return false;
  for (size_t v = 0; v < g->nnodes; v++)
    f->pot[v] -= f->dist[v] < near ? f->dist[v] : near;
  return true;
}

/* Whether the augmenting passes of this phase may use edge 'e': zero
 * reduced cost, room left, and inside the region Dijkstra settled. That
 * region holds the path Dijkstra found; skipping the rest keeps passes
 * short. */
static bool usable(const flow *f, uint32_t u, const edge *e) {
  return e->cap > 0 && f->settled[e->to] == f->phase && reduced(f, u, e) == 0;
}

enum { FRESH, ON_PATH, DEAD };

/* One depth-first search over usable edges from 'root' to a node that
 * takes flow; pushes a unit along the path found. A node whose edges have
 * all been tried is dead for the rest of the pass, so a pass reads each
 * edge about once. An explicit stack instead of recursion, since chains of
 * re-assignments can be as long as the team. */
static bool search_from(flow *f, uint32_t root) {
  graph *g = f->g;
  size_t depth = 0;
  uint32_t v = root;
  if (f->mark[root] != FRESH || f->settled[root] != f->phase)
    return false;
  f->mark[root] = ON_PATH;
  for (;;) {
    if (v != root && takes(f, v)) {
      for (size_t i = 0; i < depth; i++) {
        const edge *e = &g->edges[f->stack[i]];
        push(f, g->edges[e->rev].to, f->stack[i]);
        f->mark[e->to] = FRESH;
      }
      f->mark[root] = FRESH;
      return true;
    }
    size_t k = f->it[v];
    for (; k < g->start[v + 1]; k++) {
      const edge *e = &g->edges[k];
      if (f->mark[e->to] == FRESH && usable(f, v, e))
        break;
    }
    f->it[v] = k;
    if (k < g->start[v + 1]) {
      f->stack[depth++] = k;
      v = g->edges[k].to;
      f->mark[v] = ON_PATH;
      continue;
    }
    f->mark[v] = DEAD;
    if (depth == 0)
      return false;
    size_t back = f->stack[--depth];
    v = g->edges[g->edges[back].rev].to;
    f->it[v]++;
  }
}

/* Searches from every node with excess, as long as they find paths. The
 * first search of a pass finds a path whenever the usable edges hold one
 * (no dead end is stale before the first push), so after Dijkstra has
 * found a giver a pass always pushes. */
static size_t augment_pass(flow *f) {
  graph *g = f->g;
  size_t pushed = 0;
  for (size_t v = 0; v < g->nnodes; v++) {
    f->it[v] = g->start[v];
    f->mark[v] = FRESH;
  }
  for (uint32_t v = 0; v < g->nnodes; v++)
    while (f->excess[v] > 0 && search_from(f, v))
      pushed++;
  return pushed;
}

/* The primal-dual method: the shortest distance from a giver to a taker,
 * then passes over the edges of zero reduced cost until none pushes. Ends
 * when every node is balanced. A phase that pushes nothing would loop for
 * ever; it cannot happen (see augment_pass) but ends the search rather
 * than spinning. */
static void min_cost_flow(flow *f) {
  for (f->phase = 1; shortest_paths(f); f->phase++) {
    size_t pushed = 0, got;
    while ((got = augment_pass(f)) > 0)
      pushed += got;
    if (pushed == 0)
      break;
  }
}

/* What a round leaves the next: the potentials of the nodes every round's
 * network has (a pair node starts at its mentor's). */
typedef struct {
  long long src, sink;
  long long *unit, *mentor; /* per unit; per person */
} prices;

/* Starts from the last round's assignment and potentials instead of from
 * nothing: the new network only adds candidates, so the old flow still
 * fits, and it is far nearer the new optimum than an empty one. Where an
 * arc's reduced cost is negative (the new candidates' arcs, as pricing
 * found them), the arc is filled; where it is positive under flow, the
 * arc is emptied. That keeps every reduced cost non-negative and leaves
 * excess at one end and shortage at the other for min_cost_flow to
 * resolve along shortest paths: the result is as optimal as a cold
 * start's. */
static void warm_start(flow *f, const world *w, const demand *d,
                       const prices *pr) {
  graph *g = f->g;
  f->pot[SRC] = pr->src;
  f->pot[SINK] = pr->sink;
  for (size_t u = 0; u < d->nunits; u++)
    f->pot[2 + u] = pr->unit[u];
  for (size_t v = 2 + d->nunits; v < g->nnodes; v++)
    f->pot[v] = pr->mentor[g->node_person[v]];
  for (size_t u = 0; u < d->nunits; u++) {
    size_t a = g->unit_arc[2 * u];
    while (a < g->unit_arc[2 * u + 1] &&
           g->node_person[g->arcs[a].to] != d->assign[u])
      a++;
    if (a == g->unit_arc[2 * u + 1])
      continue;
    push(f, SRC, g->pos[1 + u]);
    push(f, g->arcs[a].from, g->pos[a]);
    if (g->pair_arc[g->arcs[a].to] != NONE)
      push(f, g->arcs[a].to, g->pos[g->pair_arc[g->arcs[a].to]]);
  }
  for (size_t m = 0; m < w->n; m++)
    for (size_t k = 0; k < d->load[m]; k++)
      push(f, (uint32_t)g->mentor_node[m], g->pos[g->sink_arc[m] + k]);
  while (f->excess[SRC] > 0)
    push(f, SRC, g->pos[0]);
  for (size_t a = 0; a < g->narcs; a++) {
    edge *e = &g->edges[g->pos[a]];
    long long r = reduced(f, g->arcs[a].from, e);
    while (e->cap > 0 && r < 0)
      push(f, g->arcs[a].from, g->pos[a]);
    while (e->back > 0 && r > 0)
      push(f, e->to, e->rev);
  }
}

static void save_prices(prices *pr, const flow *f, const world *w,
                        const demand *d) {
  pr->src = f->pot[SRC];
  pr->sink = f->pot[SINK];
  for (size_t u = 0; u < d->nunits; u++)
    pr->unit[u] = f->pot[2 + u];
  for (size_t m = 0; m < w->n; m++)
    if (f->g->mentor_node[m] != NONE)
      pr->mentor[m] = f->pot[f->g->mentor_node[m]];
}

/* Dearer than any path through the mentors, in any round's network: a
 * simple path has fewer arcs than the network has nodes (at most a pair
 * node per unit), none dearer than the widest score range or the last
 * place of the roomiest mentor. The same in every round, so that the
 * potentials carry over. */
static int bypass_cost(const world *w, const demand *d) {
  long long most = SCORE_MAX - SCORE_MIN;
  for (size_t m = 0; m < w->n; m++)
    if (WS_MATCH_W_SPREAD * (long long)w->tr[m].capacity > most)
      most = WS_MATCH_W_SPREAD * (long long)w->tr[m].capacity;
  most = (most + 1) * (long long)(3 + 2 * d->nunits + w->n);
  assert(most < INT32_MAX);
  return (int)most;
}

/* Builds the network source -> unit -> [seeker-mentor pair] -> mentor ->
 * sink. A pair node appears only where one mentor is a candidate for two
 * of the seeker's types, so that they mentor the seeker at most once. The
 * k-th mentee of a mentor costs WS_MATCH_W_SPREAD * (k - 1) more. */
static void build_graph(graph *g, const world *w, const demand *d,
                        const cand_pool *p) {
  size_t *mnode = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  size_t *stamp = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  size_t *count = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  size_t *pnode = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  g->mentor_node = mnode;
  g->sink_arc = ws_xcalloc(w->n ? w->n : 1, sizeof(size_t));
  g->unit_arc = ws_xcalloc(2 * d->nunits + 1, sizeof(size_t));
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
  /* The bypass comes first among the source's edges: once it is on a
   * shortest path, the searches take it instead of walking through every
   * unmatched seeker first. Its cost is set once the network is known. */
  arc_add(g, SRC, SINK, 0);
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
      g->unit_arc[2 * u] = g->narcs;
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
      g->unit_arc[2 * u + 1] = g->narcs;
    }
    for (size_t k = p->off[u0]; k < p->off[u1]; k++) {
      size_t m = p->items[k].mentor;
      if (pnode[m] != NONE) {
        g->pair_arc[pnode[m]] = g->narcs;
        arc_add(g, (uint32_t)pnode[m], (uint32_t)mnode[m], 0);
        pnode[m] = NONE;
        count[m] = 0;
      }
    }
    u0 = u1;
  }
  for (size_t r = 0; r < w->n; r++) {
    size_t m = w->order[r];
    g->sink_arc[m] = g->narcs;
    for (unsigned k = 0; mnode[m] != NONE && k < w->tr[m].capacity; k++)
      arc_add(g, (uint32_t)mnode[m], SINK, WS_MATCH_W_SPREAD * (int)k);
  }
  g->arcs[0].cost = bypass_cost(w, d);
  free(stamp);
  free(count);
  free(pnode);
}

/* --- pricing: the pairs the candidates left out --- */

/* The potentials are prices: a pair (unit u, mentor m) left out can only
 * lower the cost if its reduced cost, 7 - score + pot[u] - pot[m's node],
 * is negative. None negative means no cheaper flow and no larger one
 * exists in the whole network: an augmenting path costs less than the
 * bypass it would replace, so with every reduced cost of the kept arcs
 * non-negative one of its arcs must be a negative pair left out. */
#define PRICED_PER_UNIT 4 /* the most negative pairs a unit gains a round */

/* What every unit is priced against, shared by the threads. */
typedef struct {
  const world *w;
  const demand *d;
  const graph *g;
  const flow *f;
  /* Per type, laid out like offer_index's zone and topic but each list
   * dearest first: */
  size_t *by_zone[WS_MENTOR__COUNT], *by_topic[WS_MENTOR__COUNT];
  cand *kept;    /* PRICED_PER_UNIT slots per unit */
  size_t *nkept; /* per unit */
} price_job;

/* One thread's pricing of a chunk of units. */
typedef struct {
  const price_job *job;
  const world *w;
  const demand *d;
  const graph *g;
  scratch sc;
  size_t *seen;     /* per position: the unit that saw it */
  size_t *own;      /* per person: the unit whose candidate they are */
  size_t *sib;      /* per person: the seeker with them as a candidate */
  size_t *sib_node; /* ... and the node that unit's arc goes to */
  size_t u, s;      /* the unit being priced, its seeker */
  long long most;   /* a pair costs less iff score + price > most */
  cand *found;
  long long *gain; /* how much below 'most' each found pair is */
  size_t nfound;
} pricer;

static long long price_of(const pricer *pc, size_t node) {
  return pc->job->f->pot[node];
}

typedef struct {
  long long price;
  size_t pos;
} priced;

static int cmp_priced(const void *a, const void *b) {
  const priced *x = a, *y = b;
  if (x->price != y->price)
    return x->price > y->price ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts the offerers of 't' by price once, then deals them out to their
 * zones and topics in that order: every list comes out dearest first. */
static void sort_by_price(price_job *j, unsigned t) {
  const world *w = j->w;
  const offer_index *x = &w->ix[t];
  const id_lists *l = &w->expertise;
  priced *order = ws_xcalloc(x->n + 1, sizeof(priced));
  size_t *zfill = ws_xcalloc(x->nzones + 1, sizeof(size_t));
  size_t *tfill = ws_xcalloc(w->ntopics + 1, sizeof(size_t));
  j->by_zone[t] = ws_xcalloc(x->n + 1, sizeof(size_t));
  j->by_topic[t] = ws_xcalloc(x->topic_off[w->ntopics] + 1, sizeof(size_t));
  for (size_t k = 0; k < x->n; k++)
    order[k] = (priced){j->f->pot[j->g->mentor_node[x->who[k]]], k};
  if (x->n)
    qsort(order, x->n, sizeof(priced), cmp_priced);
  memcpy(zfill, x->zone_off, x->nzones * sizeof(size_t));
  memcpy(tfill, x->topic_off, w->ntopics * sizeof(size_t));
  for (size_t i = 0; i < x->n; i++) {
    size_t k = order[i].pos, m = x->who[k];
    j->by_zone[t][zfill[x->zone_of[k]]++] = k;
    for (size_t i2 = 0; i2 < l->len[m]; i2++)
      j->by_topic[t][tfill[l->ids[l->off[m] + i2]]++] = k;
  }
  free(order);
  free(zfill);
  free(tfill);
}

static void pricer_init(pricer *pc, const price_job *job) {
  const world *w = job->w;
  size_t n = w->n ? w->n : 1;
  memset(pc, 0, sizeof(*pc));
  pc->job = job;
  pc->w = w;
  pc->d = job->d;
  pc->g = job->g;
  scratch_init(&pc->sc, w);
  pc->seen = ws_xcalloc(w->words * 64 + 1, sizeof(size_t));
  pc->own = ws_xcalloc(n, sizeof(size_t));
  pc->sib = ws_xcalloc(n, sizeof(size_t));
  pc->sib_node = ws_xcalloc(n, sizeof(size_t));
  for (size_t i = 0; i < w->words * 64 + 1; i++)
    pc->seen[i] = NONE;
  for (size_t i = 0; i < n; i++)
    pc->own[i] = pc->sib[i] = NONE;
  pc->found = ws_xcalloc(w->words * 64 + 1, sizeof(cand));
  pc->gain = ws_xcalloc(w->words * 64 + 1, sizeof(long long));
}

static void pricer_release(pricer *pc) {
  scratch_release(&pc->sc);
  free(pc->seen);
  free(pc->own);
  free(pc->sib);
  free(pc->sib_node);
  free(pc->found);
  free(pc->gain);
}

/* Prices the pair of the current unit and the offerer at position 'k' of
 * its type, once. A pair left out goes to the mentor's node, or to the
 * pair node its seeker's other unit already leads to (a new pair node
 * would start at the mentor's price). */
static void consider(pricer *pc, size_t k) {
  const world *w = pc->w;
  size_t m = w->ix[pc->d->type[pc->u]].who[k];
  if (pc->seen[k] == pc->u || !(pc->sc.fits[k / 64] >> (k % 64) & 1) ||
      pc->own[m] == pc->u)
    return;
  pc->seen[k] = pc->u;
  int score = score_at(&pc->sc, w, pc->s, pc->d->type[pc->u], k);
  size_t node = pc->sib[m] == pc->s ? pc->sib_node[m] : pc->g->mentor_node[m];
  long long over = score + price_of(pc, node) - pc->most;
  if (over > 0) {
    pc->found[pc->nfound] = (cand){m, score, w->rank[m]};
    pc->gain[pc->nfound++] = over;
  }
}

/* Marks the current unit's candidates, and its seeker's other units'
 * with the nodes their arcs lead to. */
static void mark_candidates(pricer *pc) {
  const graph *g = pc->g;
  size_t first, end;
  seeker_units(pc->d, pc->u, &first, &end);
  for (size_t v = first; v < end; v++)
    for (size_t a = g->unit_arc[2 * v]; a < g->unit_arc[2 * v + 1]; a++) {
      size_t m = g->node_person[g->arcs[a].to];
      if (v == pc->u) {
        pc->own[m] = pc->u;
      } else {
        pc->sib[m] = pc->s;
        pc->sib_node[m] = g->arcs[a].to;
      }
    }
}

/* Every pair of the current unit with a negative reduced cost: those whose
 * mentor is a candidate of a sibling unit (their node's price may differ
 * from the mentor's); then, for each topic the seeker wants, the mentors
 * who know it, and in each time zone all mentors, dearest first, down to
 * the first whose price cannot pay for the largest score they could have
 * with the seeker. */
static void price_unit(pricer *pc) {
  const world *w = pc->w;
  const graph *g = pc->g;
  unsigned t = pc->d->type[pc->u];
  const offer_index *x = &w->ix[t];
  size_t first, end, k;
  int cross = WS_MATCH_W_CROSS_TEAM > 0 ? WS_MATCH_W_CROSS_TEAM : 0;
  pc->nfound = 0;
  pc->most = SCORE_MAX + price_of(pc, (size_t)(2 + pc->u));
  scratch_ready(&pc->sc, w, pc->s, t);
  seeker_units(pc->d, pc->u, &first, &end);
  for (size_t v = first; v < end; v++)
    for (size_t a = g->unit_arc[2 * v];
         v != pc->u && a < g->unit_arc[2 * v + 1]; a++)
      if ((k = position(w, t, g->node_person[g->arcs[a].to])) != NONE)
        consider(pc, k);
  const size_t *ids = w->interest.ids + w->interest.off[pc->s];
  int best = topic_score(w->interest.len[pc->s]) + cross;
  for (size_t i = 0; i < w->interest.len[pc->s]; i++)
    for (size_t j = x->topic_off[ids[i]]; j < x->topic_off[ids[i] + 1]; j++) {
      k = pc->job->by_topic[t][j];
      if (best + price_of(pc, g->mentor_node[x->who[k]]) <= pc->most)
        break;
      consider(pc, k);
    }
  for (size_t z = 0; z < x->nzones; z++) {
    best = cross - pc->sc.penalty[z];
    for (size_t j = x->zone_off[z]; j < x->zone_off[z + 1]; j++) {
      k = pc->job->by_zone[t][j];
      if (best + price_of(pc, g->mentor_node[x->who[k]]) <= pc->most)
        break;
      consider(pc, k);
    }
  }
  scratch_done(&pc->sc, w, pc->s, t);
}

/* Keeps the PRICED_PER_UNIT pairs found with the most negative reduced
 * costs (ties: the first slugs) in the unit's slots. */
static void keep_priced(pricer *pc) {
  cand *out = pc->job->kept + pc->u * PRICED_PER_UNIT;
  for (size_t i = 0; i < pc->nfound && i < PRICED_PER_UNIT; i++) {
    size_t best = i;
    for (size_t j = i + 1; j < pc->nfound; j++)
      if (pc->gain[j] > pc->gain[best] ||
          (pc->gain[j] == pc->gain[best] &&
           pc->found[j].rank < pc->found[best].rank))
        best = j;
    cand c = pc->found[best];
    long long gain = pc->gain[best];
    pc->found[best] = pc->found[i];
    pc->gain[best] = pc->gain[i];
    pc->found[i] = c;
    pc->gain[i] = gain;
    out[i] = c;
    pc->job->nkept[pc->u] = i + 1;
  }
}

#define PRICE_CHUNK 1024

/* Prices one chunk of units; each writes only its own slots, so the result
 * does not depend on the number of threads. */
static int price_chunk(void *payload, size_t i) {
  const price_job *job = payload;
  pricer pc;
  pricer_init(&pc, job);
  for (size_t u = i * PRICE_CHUNK;
       u < (i + 1) * PRICE_CHUNK && u < job->d->nunits; u++) {
    pc.u = u;
    pc.s = job->d->seeker[u];
    mark_candidates(&pc);
    price_unit(&pc);
    keep_priced(&pc);
  }
  pricer_release(&pc);
  return 0;
}

/* Prices every pair left out against the flow's potentials and lists, per
 * unit, the few with the most negative reduced costs; returns how many. */
static size_t price(const world *w, const demand *d, const graph *g,
                    const flow *f, cand_pool *extra) {
  size_t nu = d->nunits;
  price_job job = {w,
                   d,
                   g,
                   f,
                   {NULL},
                   {NULL},
                   ws_xcalloc(nu * PRICED_PER_UNIT + 1, sizeof(cand)),
                   ws_xcalloc(nu + 1, sizeof(size_t))};
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    sort_by_price(&job, t);
  ws_pool_run(w->jobs, (nu + PRICE_CHUNK - 1) / PRICE_CHUNK, price_chunk, &job);
  extra->off = ws_xcalloc(nu + 1, sizeof(size_t));
  for (size_t u = 0; u < nu; u++) {
    extra->off[u] = extra->len;
    for (size_t k = 0; k < job.nkept[u]; k++)
      pool_push(extra, job.kept[u * PRICED_PER_UNIT + k]);
  }
  extra->off[nu] = extra->len;
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    free(job.by_zone[t]);
    free(job.by_topic[t]);
  }
  free(job.kept);
  free(job.nkept);
  return extra->len;
}

/* --- rounds: flow, then pricing what the candidates left out --- */

/* The mentor of each unit and the load of each mentor, read off the flow. */
static void read_assignment(const graph *g, const world *w, demand *d) {
  memset(d->load, 0, (w->n ? w->n : 1) * sizeof(size_t));
  for (size_t u = 0; u < d->nunits; u++) {
    d->assign[u] = NONE;
    for (size_t a = g->unit_arc[2 * u]; a < g->unit_arc[2 * u + 1]; a++)
      if (g->edges[g->pos[a]].cap == 0) {
        d->assign[u] = g->node_person[g->arcs[a].to];
        d->load[d->assign[u]]++;
        break;
      }
  }
}

/* One round: the network of the candidates, its flow (from the last
 * round's flow and potentials 'pr' after the first), and the pairs left
 * out with a negative reduced cost, added to the candidates. Returns how
 * many were added: none means the flow is optimal for the whole team. */
static size_t run_round(const world *w, demand *d, cand_pool *p, prices *pr,
                        bool first) {
  graph g = {0};
  flow f;
  cand_pool extra = {0};
  build_graph(&g, w, d, p);
  graph_finish(&g);
  assert(d->nunits < INT32_MAX);
  g.edges[g.pos[0]].cap = (int32_t)d->nunits;
  g.edges[g.edges[g.pos[0]].rev].back = (int32_t)d->nunits;
  flow_init(&f, &g, d->nunits);
  if (!first)
    warm_start(&f, w, d, pr);
  min_cost_flow(&f);
  read_assignment(&g, w, d);
  save_prices(pr, &f, w, d);
  size_t added = price(w, d, &g, &f, &extra);
  if (added)
    add_candidates(p, &extra, d->nunits);
  free(extra.items);
  free(extra.off);
  flow_release(&f);
  graph_release(&g);
  return added;
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

static size_t mentee_at(const ws_match *m, size_t k) {
  return m->pairs[k].mentee;
}

static size_t unmet_at(const ws_match *m, size_t k) {
  return m->unmet[k].person;
}

/* The first of 'n' entries, sorted by person, whose person is not below
 * 'i' (n when there is none). */
static size_t first_of(const ws_match *m, size_t n, size_t i,
                       size_t (*person_at)(const ws_match *, size_t)) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (person_at(m, mid) < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

size_t ws_match_first_pair(const ws_match *m, size_t i) {
  return first_of(m, m->npairs, i, mentee_at);
}

size_t ws_match_first_unmet(const ws_match *m, size_t i) {
  return first_of(m, m->nunmet, i, unmet_at);
}

/* Counting sort of the pairs by mentor, and each person's circle. */
void ws_match_index(ws_match *m, size_t n) {
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
  return ws_match_new_jobs(people, n, 0);
}

ws_match *ws_match_new_jobs(ws_profile *const *people, size_t n,
                            unsigned jobs) {
  ws_match *m = ws_xcalloc(1, sizeof(*m));
  world w;
  demand d;
  cand_pool pool = {0};
  prices pr = {0, 0, NULL, NULL};
  world_init(&w, people, n);
  w.jobs = jobs;
  demand_init(&d, &w);
  pr.unit = ws_xcalloc(d.nunits ? d.nunits : 1, sizeof(long long));
  pr.mentor = ws_xcalloc(n ? n : 1, sizeof(long long));
  build_candidates(&pool, &w, &d);
  while (run_round(&w, &d, &pool, &pr, m->rounds++ == 0) > 0)
    continue;
  free(pr.unit);
  free(pr.mentor);
  collect(m, &w, &d);
  form_circles(m, &w);
  ws_match_index(m, n);
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
  for (size_t i = 0; i < m->npairs; i++) {
    if (m->texts)
      free(m->pairs[i].reasons.items);
    else
      ws_strlist_release(&m->pairs[i].reasons);
  }
  for (size_t i = 0; i < m->nunmet && !m->texts; i++)
    free(m->unmet[i].reason);
  for (size_t i = 0; i < m->ncircles; i++) {
    if (!m->texts) {
      free(m->circles[i].topic);
      free(m->circles[i].slug);
    }
    free(m->circles[i].members);
  }
  free(m->texts);
  free(m->pairs);
  free(m->unmet);
  free(m->circles);
  free(m->mentor_start);
  free(m->by_mentor);
  free(m->circle_of);
  free(m);
}
