#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "str.h"
#include "xalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const format_keys[] = {"one-on-one", "group"};
static const char *const mode_keys[] = {"virtual", "in-person"};

/* --- small value builders --- */

/* The figures list people by the tens of thousands (every profile by
 * freshness, and again by each field it misses), and never outlive the
 * site: the texts are the profile's own. */
static ws_value *person_ref(const ws_profile *p) {
  ws_value *v = ws_value_map();
  ws_value_map_reserve(v, 3);
  /* Put together on the stack: 13,000 of these are made per report. A
   * slug has 64 bytes at most (ws_slug_valid); a longer text is cut, and
   * never comes from a loaded profile. */
  char url[7 + 64 + 2];
  size_t n = strlen(p->slug);
  n = n > 64 ? 64 : n;
  memcpy(url, "people/", 7);
  memcpy(url + 7, p->slug, n);
  memcpy(url + 7 + n, "/", 2);
  /* Added, not looked for first: the map is new. */
  ws_value_add(v, "name", ws_value_borrowz(p->name));
  ws_value_add(v, "slug", ws_value_borrowz(p->slug));
  ws_value_add(v, "url", ws_value_string(url, 7 + n + 1));
  return v;
}

static void set_tag(ws_value *v, const char *label, const char *slug,
                    const char *section) {
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "%s/%s/", section, slug);
  ws_value_set_str(v, "name", label);
  ws_value_set_str(v, "slug", slug);
  ws_value_set_str(v, "url", url.ptr);
  ws_str_release(&url);
}

static void set_size(ws_value *map, const char *key, size_t n) {
  ws_value_set_num(map, key, (double)n);
}

static double num(const ws_value *map, const char *key) {
  const ws_value *v = ws_value_get(map, key);
  return v && v->type == WS_VALUE_NUMBER ? v->u.number : 0;
}

static const ws_value *list_at(const ws_value *map, const char *key,
                               size_t *len) {
  const ws_value *v = ws_value_get(map, key);
  *len = v && v->type == WS_VALUE_LIST ? v->u.list.len : 0;
  return v;
}

/* --- dates: the report counts calendar months, by date only, so a build
 * date and a build time on the same day give the same figures --- */

typedef struct {
  int year, month, day; /* month 1-12 */
} date;

static date date_of(long long t) {
  struct tm tm;
  date d = {1970, 1, 1};
  if (ws_render_utc(&tm, t)) {
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
  }
  return d;
}

static long month_number(date d) {
  return (long)d.year * 12 + d.month - 1;
}

/* Whole months from 'from' to 'to': 31 Jan to 28 Feb is 0 months. */
static long months_between(date from, date to) {
  long m = month_number(to) - month_number(from);
  if (to.day < from.day)
    m--;
  return m < 0 ? 0 : m;
}

/* The month of a time, remembered with its bounds: the events come in time
 * order, most in the month of the one before, and converting each of
 * 50,000 to a calendar date was a sixth of the report's figures. */
typedef struct {
  long long from, to; /* seconds; 'to' excluded */
  long month;
  bool known;
} month_span;

static long month_at(month_span *s, long long t) {
  if (s->known && t >= s->from && t < s->to)
    return s->month;
  date d = date_of(t);
  bool dec = d.month == 12;
  s->month = month_number(d);
  s->from = ws_render_days_from_civil(d.year, (unsigned)d.month, 1) * 86400;
  s->to = ws_render_days_from_civil(d.year + dec,
                                    dec ? 1u : (unsigned)d.month + 1, 1) *
          86400;
  s->known = true;
  return s->month;
}

static void put_month(ws_str *out, long month) {
  ws_str_printf(out, "%04ld-%02ld", month / 12, month % 12 + 1);
}

/* --- mentoring supply and demand --- */

typedef struct {
  size_t seekers, offerers, capacity;
} flow;

static void flow_set(ws_value *v, const flow *f) {
  set_size(v, "seekers", f->seekers);
  set_size(v, "offerers", f->offerers);
  set_size(v, "capacity", f->capacity);
  set_size(v, "unmet", f->seekers > f->capacity ? f->seekers - f->capacity : 0);
}

static ws_value *flow_value(const flow *f) {
  ws_value *v = ws_value_map();
  flow_set(v, f);
  return v;
}

/* Counts 'p' in 'f' for the type bits 'types' (any of them). */
static void flow_add(flow *f, const ws_profile *p, unsigned types) {
  if (p->seek_types & types)
    f->seekers++;
  if (p->offer_types & types) {
    f->offerers++;
    f->capacity += p->capacity;
  }
}

/* Supply and demand among people open to each format (or, with 'modes',
 * each mode), keyed by its name. */
static ws_value *split_value(const ws_site *site, unsigned types,
                             const char *const *keys, size_t nkeys,
                             bool modes) {
  ws_value *v = ws_value_map();
  for (size_t k = 0; k < nkeys; k++) {
    flow f = {0};
    for (size_t i = 0; i < site->npeople; i++) {
      const ws_profile *p = site->people[i];
      if ((modes ? p->modes : p->formats) & (1u << k))
        flow_add(&f, p, types);
    }
    ws_value_set(v, keys[k], flow_value(&f));
  }
  return v;
}

static ws_value *mentoring_figures(const ws_site *site) {
  ws_value *m = ws_value_map(), *types = ws_value_list();
  size_t unmet = 0, types_unmet = 0;
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    flow f = {0};
    for (size_t i = 0; i < site->npeople; i++)
      flow_add(&f, site->people[i], 1u << t);
    ws_value *e = ws_value_map();
    ws_value_set_str(e, "type", ws_mentor_type_name(t));
    flow_set(e, &f);
    ws_value_set(e, "formats",
                 split_value(site, 1u << t, format_keys, 2, false));
    ws_value_set(e, "modes", split_value(site, 1u << t, mode_keys, 2, true));
    if (f.seekers > f.capacity) {
      unmet += f.seekers - f.capacity;
      types_unmet++;
    }
    ws_value_push(types, e);
  }
  flow all = {0};
  for (size_t i = 0; i < site->npeople; i++)
    flow_add(&all, site->people[i], ~0u);
  ws_value *total = ws_value_map();
  set_size(total, "seekers", all.seekers);
  set_size(total, "offerers", all.offerers);
  set_size(total, "capacity", all.capacity);
  set_size(total, "unmet", unmet);
  set_size(total, "types_unmet", types_unmet);
  ws_value_set(m, "types", types);
  ws_value_set(m, "total", total);
  ws_value_set(m, "formats", split_value(site, ~0u, format_keys, 2, false));
  ws_value_set(m, "modes", split_value(site, ~0u, mode_keys, 2, true));
  return m;
}

/* --- strengths coverage --- */

/* Tells whether anyone offers mentoring on a topic with slug 'slug'. */
static bool topic_offered(const ws_site *site, const char *slug) {
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_strlist *l = &site->people[i]->offer_topics;
    for (size_t k = 0; k < l->len; k++) {
      char *s = ws_slugify(l->items[k]);
      bool same = strcmp(s, slug) == 0;
      free(s);
      if (same)
        return true;
    }
  }
  return false;
}

static ws_value *tag_people(const ws_site *site, const size_t *idx, size_t n) {
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++)
    ws_value_push(l, person_ref(site->people[idx[i]]));
  return l;
}

/* Learning tags nobody holds as a strength or offers as a topic, most
 * learners first (then by slug, the order of site->strengths ties). */
static int cmp_learners(const void *a, const void *b) {
  const ws_tag *x = *(const ws_tag *const *)a, *y = *(const ws_tag *const *)b;
  if (x->nlearners != y->nlearners)
    return x->nlearners > y->nlearners ? -1 : 1;
  return strcmp(x->slug, y->slug);
}

static ws_value *unoffered_learning(const ws_site *site) {
  const ws_tag **gaps = ws_xcalloc(site->nstrengths + 1, sizeof(*gaps));
  size_t n = 0;
  for (size_t i = 0; i < site->nstrengths; i++) {
    const ws_tag *t = &site->strengths[i];
    if (t->nlearners && !t->npeople && !topic_offered(site, t->slug))
      gaps[n++] = t;
  }
  qsort(gaps, n, sizeof(*gaps), cmp_learners);
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < n; i++) {
    ws_value *e = ws_value_map();
    set_tag(e, gaps[i]->label, gaps[i]->slug, "strengths");
    set_size(e, "learners", gaps[i]->nlearners);
    ws_value_set(e, "people",
                 tag_people(site, gaps[i]->learners, gaps[i]->nlearners));
    ws_value_push(l, e);
  }
  free(gaps);
  return l;
}

/* How many strengths the "most common" chart shows. */
#define TOP_STRENGTHS 10

static ws_value *strengths_figures(const ws_site *site) {
  ws_value *s = ws_value_map(), *top = ws_value_list(),
           *single = ws_value_list();
  size_t held = 0;
  /* site->strengths is sorted by people, most first, then by slug. */
  for (size_t i = 0; i < site->nstrengths; i++) {
    const ws_tag *t = &site->strengths[i];
    if (!t->npeople)
      continue;
    held++;
    if (top->u.list.len < TOP_STRENGTHS) {
      ws_value *e = ws_value_map();
      set_tag(e, t->label, t->slug, "strengths");
      set_size(e, "people", t->npeople);
      set_size(e, "learners", t->nlearners);
      ws_value_push(top, e);
    }
    if (t->npeople == 1) {
      ws_value *e = ws_value_map();
      set_tag(e, t->label, t->slug, "strengths");
      ws_value_set(e, "person", person_ref(site->people[t->people[0]]));
      ws_value_push(single, e);
    }
  }
  set_size(s, "distinct", held);
  ws_value_set(s, "top", top);
  ws_value_set(s, "single_holder", single);
  ws_value_set(s, "unoffered_learning", unoffered_learning(site));
  return s;
}

/* --- team composition --- */

/* Reads a POSIX TZ offset ("-1", "+5:30", "3") into seconds; POSIX counts
 * west of Greenwich as positive, so the caller negates it. */
static const char *tz_offset(const char *p, long *secs) {
  int sign = 1;
  long parts[3] = {0, 0, 0};
  if (*p == '+' || *p == '-')
    sign = *p++ == '-' ? -1 : 1;
  if (*p < '0' || *p > '9')
    return NULL;
  for (size_t i = 0; i < 3; i++) {
    while (*p >= '0' && *p <= '9')
      parts[i] = parts[i] * 10 + (*p++ - '0');
    if (*p != ':' || i == 2)
      break;
    p++;
  }
  *secs = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return p;
}

static const char *tz_name(const char *p) {
  const char *start = p;
  if (*p == '<') {
    while (*p && *p != '>')
      p++;
    return *p ? p + 1 : NULL;
  }
  while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
    p++;
  return p - start >= 3 ? p : NULL;
}

/* Parses the TZ string that ends a version 2+ TZif file ("CET-1CEST,...").
 * The smaller of the standard and daylight offsets is the one a zone keeps
 * most of the year (Ireland declares its summer time "standard"). */
static bool footer_offset(const char *tz, long *out) {
  long std, dst;
  const char *p = tz_name(tz);
  if (!p || !(p = tz_offset(p, &std)))
    return false;
  std = -std;
  *out = std;
  if (*p && *p != ',' && (p = tz_name(p))) {
    dst = std + 3600;
    if (*p && *p != ',' && tz_offset(p, &dst))
      dst = -dst;
    if (dst < std)
      *out = dst;
  }
  return true;
}

static bool zone_name_safe(const char *name) {
  if (!*name || *name == '/' || strstr(name, ".."))
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
      return false;
  return true;
}

bool ws_report_zone_offset(long *out, const char *name) {
  const char *dir = getenv("TZDIR");
  ws_str path = WS_STR_INIT, data = WS_STR_INIT;
  bool ok = false;
  if (!name || !zone_name_safe(name))
    return false;
  ws_str_printf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
                name);
  FILE *f = fopen(path.ptr, "rb");
  if (f) {
    char buf[4096];
    size_t n;
    /* Zone files are a few kilobytes; the cap keeps a stray path cheap. */
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && data.len < (1 << 20))
      ws_str_put(&data, buf, n);
    fclose(f);
  }
  if (data.len > 6 && memcmp(data.ptr, "TZif", 4) == 0 && data.ptr[4] >= '2' &&
      data.ptr[data.len - 1] == '\n') {
    /* The footer is the last line; the binary data before it holds NULs,
     * so look for its start from the end. */
    size_t start = data.len - 1;
    data.ptr[start] = '\0';
    while (start > 0 && data.ptr[start - 1] != '\n')
      start--;
    if (start > 0)
      ok = footer_offset(data.ptr + start, out);
  } else if (!f && (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 ||
                    strcmp(name, "GMT") == 0)) {
    *out = 0; /* without tzdata installed, UTC is still UTC */
    ok = true;
  }
  if (ok)
    *out /= 60;
  ws_str_release(&path);
  ws_str_release(&data);
  return ok;
}

static void put_band(ws_str *out, long minutes) {
  long a = minutes < 0 ? -minutes : minutes;
  ws_str_puts(out, "UTC");
  if (minutes)
    ws_str_printf(out, "%c%ld", minutes < 0 ? '-' : '+', a / 60);
  if (a % 60)
    ws_str_printf(out, ":%02ld", a % 60);
}

typedef struct {
  long offset; /* minutes; unknown zones sort last */
  bool known;
  size_t person; /* index into site->people */
} zone_row;

static bool list_has(const ws_value *list, const char *s) {
  for (size_t i = 0; i < list->u.list.len; i++)
    if (strcmp(ws_value_cstr(list->u.list.items[i]), s) == 0)
      return true;
  return false;
}

static int cmp_value_str(const void *a, const void *b) {
  return strcmp(ws_value_cstr(*(ws_value *const *)a),
                ws_value_cstr(*(ws_value *const *)b));
}

/* A team has thousands of people in a few dozen zones: each zone file is
 * read once. The memo is capped, so that thousands of distinct (invalid)
 * names cost no more than reading each. */
#define ZONE_MEMO 256

typedef struct {
  const char *name;
  bool known;
  long offset;
} zone_memo;

/* A team names a few dozen zones among 10,000 profiles: each is looked up
 * once, and remembered by its text's hash. */
/* The rows of the figures are made in person order and sorted by a key
 * that takes few values (a zone's offset in minutes, a profile's age in
 * months), then by person. Counting the rows into their keys' places keeps
 * person order within a key, in two passes: sorting 10,000 rows took 14M
 * instructions of every report. Sets order[k] to the row that goes k-th,
 * by 'key' ascending; a spread of keys too wide to count falls back to
 * sorting. */
typedef struct {
  long key;
  size_t row;
} keyed_row;

static int cmp_keyed(const void *a, const void *b) {
  const keyed_row *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

static void order_by_key(size_t *order, const long *key, size_t n) {
  if (n == 0)
    return;
  long lo = key[0], hi = key[0];
  for (size_t i = 1; i < n; i++) {
    lo = key[i] < lo ? key[i] : lo;
    hi = key[i] > hi ? key[i] : hi;
  }
  unsigned long span = (unsigned long)hi - (unsigned long)lo;
  if (span > 4 * (unsigned long)n + 4096) {
    keyed_row *v = ws_xcalloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++)
      v[i] = (keyed_row){key[i], i};
    qsort(v, n, sizeof(*v), cmp_keyed);
    for (size_t i = 0; i < n; i++)
      order[i] = v[i].row;
    free(v);
    return;
  }
  size_t *at = ws_xcalloc((size_t)span + 2, sizeof(size_t));
  for (size_t i = 0; i < n; i++)
    at[(unsigned long)key[i] - (unsigned long)lo + 1]++;
  for (size_t k = 1; k <= (size_t)span; k++)
    at[k] += at[k - 1];
  for (size_t i = 0; i < n; i++)
    order[at[(unsigned long)key[i] - (unsigned long)lo]++] = i;
  free(at);
}

static void find_offsets(zone_row *rows, const ws_site *site) {
  zone_memo memo[2 * ZONE_MEMO] = {{NULL, false, 0}};
  size_t n = 0;
  for (size_t i = 0; i < site->npeople; i++) {
    const char *tz = site->people[i]->timezone;
    size_t k = tz ? (size_t)ws_str_hash(tz) % (2 * ZONE_MEMO) : 0;
    rows[i].person = i;
    while (tz && memo[k].name && strcmp(memo[k].name, tz) != 0)
      k = (k + 1) % (2 * ZONE_MEMO);
    if (tz && memo[k].name) {
      rows[i].known = memo[k].known;
      rows[i].offset = memo[k].offset;
      continue;
    }
    rows[i].known = ws_report_zone_offset(&rows[i].offset, tz);
    if (tz && n < ZONE_MEMO) {
      memo[k] = (zone_memo){tz, rows[i].known, rows[i].offset};
      n++;
    }
  }
}

/* One band per standard UTC offset, west to east, then "unknown". */
/* Known offsets west to east, then the unknown, each in person order. */
static void sort_zones(zone_row *rows, size_t n) {
  long *key = ws_xcalloc(n + 1, sizeof(long));
  size_t *order = ws_xcalloc(n + 1, sizeof(size_t)), known = 0;
  size_t *row = ws_xcalloc(n + 1, sizeof(size_t)); /* of each known one */
  zone_row *sorted = ws_xcalloc(n + 1, sizeof(*sorted));
  for (size_t i = 0; i < n; i++)
    if (rows[i].known) {
      row[known] = i;
      key[known++] = rows[i].offset;
    }
  order_by_key(order, key, known);
  for (size_t k = 0; k < known; k++)
    sorted[k] = rows[row[order[k]]];
  for (size_t i = 0, k = known; i < n; i++)
    if (!rows[i].known)
      sorted[k++] = rows[i];
  memcpy(rows, sorted, n * sizeof(*rows));
  free(sorted);
  free(row);
  free(order);
  free(key);
}

static ws_value *zone_figures(const ws_site *site) {
  zone_row *rows = ws_xcalloc(site->npeople + 1, sizeof(*rows));
  find_offsets(rows, site);
  sort_zones(rows, site->npeople);
  ws_value *bands = ws_value_list();
  for (size_t i = 0; i < site->npeople;) {
    size_t j = i;
    ws_value *e = ws_value_map(), *locs = ws_value_list();
    ws_str label = WS_STR_INIT;
    if (rows[i].known)
      put_band(&label, rows[i].offset);
    else
      ws_str_puts(&label, "unknown");
    ws_value_set_str(e, "band", label.ptr);
    if (rows[i].known)
      ws_value_set_num(e, "offset_minutes", (double)rows[i].offset);
    else
      ws_value_set(e, "offset_minutes", ws_value_null());
    for (; j < site->npeople && rows[j].known == rows[i].known &&
           (!rows[i].known || rows[j].offset == rows[i].offset);
         j++) {
      const char *loc = site->people[rows[j].person]->location;
      if (loc && !list_has(locs, loc))
        ws_value_push(locs, ws_value_strz(loc));
    }
    if (locs->u.list.len > 1)
      qsort(locs->u.list.items, locs->u.list.len, sizeof(ws_value *),
            cmp_value_str);
    set_size(e, "people", j - i);
    ws_value_set(e, "locations", locs);
    ws_value_push(bands, e);
    ws_str_release(&label);
    i = j;
  }
  free(rows);
  return bands;
}

static ws_value *team_figures(const ws_site *site) {
  ws_value *t = ws_value_map(), *teams = ws_value_list();
  size_t with_team = 0;
  for (size_t i = 0; i < site->nteams; i++) {
    ws_value *e = ws_value_map();
    set_tag(e, site->teams[i].label, site->teams[i].slug, "teams");
    set_size(e, "people", site->teams[i].npeople);
    with_team += site->teams[i].npeople;
    ws_value_push(teams, e);
  }
  ws_value_set(t, "teams", teams);
  set_size(t, "no_team", site->npeople - with_team);
  ws_value_set(t, "zones", zone_figures(site));
  return t;
}

/* --- freshness and completeness --- */

static const struct {
  const char *label;
  long min, max; /* months since the last change, max exclusive */
} buckets[] = {{"under 3 months", 0, 3},
               {"3 to 5 months", 3, 6},
               {"6 to 11 months", 6, 12},
               {"12 to 23 months", 12, 24},
               {"2 years or more", 24, -1}};

typedef struct {
  long months;
  size_t person;
} age_row;

/* Stalest first, each age in person order. */
static void sort_ages(age_row *rows, size_t n) {
  long *key = ws_xcalloc(n + 1, sizeof(long));
  size_t *order = ws_xcalloc(n + 1, sizeof(size_t));
  age_row *sorted = ws_xcalloc(n + 1, sizeof(*sorted));
  for (size_t i = 0; i < n; i++)
    key[i] = -rows[i].months;
  order_by_key(order, key, n);
  for (size_t k = 0; k < n; k++)
    sorted[k] = rows[order[k]];
  memcpy(rows, sorted, n * sizeof(*rows));
  free(sorted);
  free(order);
  free(key);
}

static ws_value *bucket_value(const char *label, long min, long max) {
  ws_value *e = ws_value_map();
  ws_value_set_str(e, "label", label);
  ws_value_set_num(e, "min_months", (double)min);
  if (max >= 0)
    ws_value_set_num(e, "max_months", (double)max);
  else
    ws_value_set(e, "max_months", ws_value_null());
  return e;
}

/* Profiles by months since their last change, stalest first; profiles the
 * history walk did not find go to a last "not in history" bucket. */
static ws_value *age_buckets(const ws_site *site, date now) {
  age_row *rows = ws_xcalloc(site->npeople + 1, sizeof(*rows));
  size_t n = 0;
  ws_value *unknown = ws_value_list(), *list = ws_value_list();
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_history *h = &site->people[i]->history;
    if (!h->known) {
      ws_value_push(unknown, person_ref(site->people[i]));
      continue;
    }
    rows[n].months = months_between(date_of(h->last_time), now);
    rows[n++].person = i;
  }
  sort_ages(rows, n);
  for (size_t b = 0; b < COUNT(buckets); b++) {
    ws_value *e =
        bucket_value(buckets[b].label, buckets[b].min, buckets[b].max);
    ws_value *people = ws_value_list();
    for (size_t i = 0; i < n; i++) {
      if (rows[i].months < buckets[b].min ||
          (buckets[b].max >= 0 && rows[i].months >= buckets[b].max))
        continue;
      ws_value *p = person_ref(site->people[rows[i].person]);
      ws_value_set_num(p, "months", (double)rows[i].months);
      ws_value_push(people, p);
    }
    set_size(e, "count", people->u.list.len);
    ws_value_set(e, "profiles", people);
    ws_value_push(list, e);
  }
  ws_value *e = bucket_value("not in history", 0, -1);
  ws_value_set(e, "min_months", ws_value_null());
  set_size(e, "count", unknown->u.list.len);
  ws_value_set(e, "profiles", unknown);
  ws_value_push(list, e);
  free(rows);
  return list;
}

static bool has_section(const ws_profile *p, const char *name) {
  for (size_t i = 0; i < p->nsections; i++)
    if (strcasecmp(p->sections[i], name) == 0)
      return true;
  return false;
}

/* The fields and sections `wholeself new` scaffolds. Pronouns and a photo
 * are personal choices, not gaps, so they are never counted as missing. */
typedef enum {
  CHECK_ROLE,
  CHECK_TEAM,
  CHECK_LOCATION,
  CHECK_TIMEZONE,
  CHECK_STRENGTHS,
  CHECK_LEARNING,
  CHECK_MENTORING,
  CHECK_GOALS,
  CHECK_SECTION
} check_kind;

static const struct {
  const char *field, *label, *section;
  check_kind kind; /* what is read: checked 120,000 times at 10,000 */
} checks[] = {
    {"role", "Role", NULL, CHECK_ROLE},
    {"team", "Team", NULL, CHECK_TEAM},
    {"location", "Location", NULL, CHECK_LOCATION},
    {"timezone", "Time zone", NULL, CHECK_TIMEZONE},
    {"strengths", "Strengths", NULL, CHECK_STRENGTHS},
    {"learning", "Learning", NULL, CHECK_LEARNING},
    {"mentoring", "Mentoring (seeking or offering)", NULL, CHECK_MENTORING},
    {"goals", "Goals", NULL, CHECK_GOALS},
    {"background", "## Background", "Background", CHECK_SECTION},
    {"strengths_section", "## Strengths", "Strengths", CHECK_SECTION},
    {"successes", "## Successes and challenges", "Successes and challenges",
     CHECK_SECTION},
    {"values", "## Values", "Values", CHECK_SECTION}};

_Static_assert(COUNT(checks) <= 32, "completeness keeps a bit per check");

static bool missing(const ws_profile *p, size_t check) {
  switch (checks[check].kind) {
  case CHECK_ROLE:
    return !p->role;
  case CHECK_TEAM:
    return !p->team;
  case CHECK_LOCATION:
    return !p->location;
  case CHECK_TIMEZONE:
    return !p->timezone;
  case CHECK_STRENGTHS:
    return !p->strengths.len;
  case CHECK_LEARNING:
    return !p->learning.len;
  case CHECK_MENTORING:
    return !p->seek_types && !p->offer_types;
  case CHECK_GOALS:
    return !p->goal_short && !p->goal_long;
  case CHECK_SECTION:
    break;
  }
  return !has_section(p, checks[check].section);
}

/* Each person is checked once, into a bit per check: the lists below read
 * the bits 12 times over. */
static ws_value *completeness(const ws_site *site) {
  ws_value *c = ws_value_map(), *fields = ws_value_list();
  unsigned *gaps = ws_xcalloc(site->npeople + 1, sizeof(unsigned));
  size_t complete = 0;
  for (size_t i = 0; i < site->npeople; i++) {
    for (size_t k = 0; k < COUNT(checks); k++)
      gaps[i] |= (unsigned)missing(site->people[i], k) << k;
    complete += gaps[i] == 0;
  }
  for (size_t k = 0; k < COUNT(checks); k++) {
    ws_value *e = ws_value_map(), *people = ws_value_list();
    for (size_t i = 0; i < site->npeople; i++)
      if (gaps[i] >> k & 1u)
        ws_value_push(people, person_ref(site->people[i]));
    ws_value_set_str(e, "field", checks[k].field);
    ws_value_set_str(e, "label", checks[k].label);
    set_size(e, "missing", people->u.list.len);
    ws_value_set(e, "profiles", people);
    ws_value_push(fields, e);
  }
  set_size(c, "complete", complete);
  set_size(c, "incomplete", site->npeople - complete);
  ws_value_set(c, "fields", fields);
  free(gaps);
  return c;
}

/* --- growth --- */

/* People on the directory at the end of each month, from the first event
 * to the month of 'now' (or of the newest event). */
static ws_value *growth_months(const ws_site *site, long long now) {
  ws_value *months = ws_value_list();
  if (!site->nevents)
    return months;
  /* Events are newest first. */
  long first = month_number(date_of(site->events[site->nevents - 1].time));
  long last = month_number(date_of(site->events[0].time));
  if (now > 0 && month_number(date_of(now)) > last)
    last = month_number(date_of(now));
  long people = 0;
  size_t e = site->nevents;
  month_span span = {0, 0, 0, false};
  for (long m = first; m <= last; m++) {
    size_t added = 0, removed = 0;
    while (e > 0 && month_at(&span, site->events[e - 1].time) <= m) {
      ws_event_kind k = site->events[--e].kind;
      added += k == WS_EVENT_ADDED;
      removed += k == WS_EVENT_REMOVED;
    }
    people += (long)added - (long)removed;
    ws_value *v = ws_value_map();
    ws_str label = WS_STR_INIT;
    put_month(&label, m);
    ws_value_set_str(v, "month", label.ptr);
    set_size(v, "added", added);
    set_size(v, "removed", removed);
    ws_value_set_num(v, "people", (double)(people < 0 ? 0 : people));
    ws_value_push(months, v);
    ws_str_release(&label);
  }
  return months;
}

ws_value *ws_report_figures(const ws_site *site, long long now) {
  ws_value *f = ws_value_map();
  long long ref = now > 0 ? now : site->nevents ? site->events[0].time : 0;
  bool history = site->nevents > 0;
  ws_value_set_num(f, "version", WS_REPORT_VERSION);
  if (ref > 0) {
    date d = date_of(ref);
    ws_str s = WS_STR_INIT;
    ws_str_printf(&s, "%04d-%02d-%02d", d.year, d.month, d.day);
    ws_value_set_str(f, "as_of", s.ptr);
    ws_str_release(&s);
  } else {
    ws_value_set(f, "as_of", ws_value_null());
  }
  set_size(f, "people", site->npeople);
  ws_value_set_bool(f, "history", history);
  ws_value_set_bool(f, "history_partial", site->history_partial);
  ws_value_set(f, "mentoring", mentoring_figures(site));
  ws_value_set(f, "strengths", strengths_figures(site));
  ws_value_set(f, "teams", team_figures(site));
  ws_value *fresh = ws_value_map();
  ws_value_set(fresh, "ages",
               history ? age_buckets(site, date_of(ref)) : ws_value_list());
  ws_value_set(fresh, "completeness", completeness(site));
  ws_value_set(f, "freshness", fresh);
  ws_value *growth = ws_value_map();
  ws_value_set(growth, "months", growth_months(site, ref));
  ws_value_set(f, "growth", growth);
  return f;
}

void ws_report_json(ws_str *out, const ws_value *figures) {
  ws_str_puts(out, "{");
  for (size_t i = 0; i < figures->u.map.len; i++) {
    const ws_value_entry *e = &figures->u.map.entries[i];
    ws_str_puts(out, i ? ",\n \"" : "\"");
    ws_str_put_json(out, e->key, strlen(e->key));
    ws_str_puts(out, "\":");
    ws_value_put_json(out, e->val);
  }
  ws_str_puts(out, "}\n");
}

int ws_report_write_json(const char *path, const ws_site *site, long long now) {
  ws_value *fig = ws_report_figures(site, now);
  ws_str json = WS_STR_INIT;
  bool out = strcmp(path, "-") == 0;
  int error = 0;
  ws_report_json(&json, fig);
  FILE *f = out ? stdout : fopen(path, "w");
  if (!f || fwrite(json.ptr, 1, json.len, f) != json.len ||
      (out ? fflush(f) : fclose(f)) != 0) {
    error = ws_error(WS_ERROR, "cannot write %s: %s", path, strerror(errno));
    if (f && !out)
      fclose(f);
  }
  ws_str_release(&json);
  ws_value_free(fig);
  return error;
}

/* --- SVG --- */

/* Chart geometry, in SVG user units; the viewBox scales it to the column. */
/* The geometry, in SVG user units, is close to the pixels of a phone
 * column, so the text stays readable when the viewBox scales it down. */
#define CHART_W 340.0
#define LABEL_W 112.0
#define BAR_X 118.0
#define BAR_MAX (CHART_W - BAR_X - 86.0) /* room for "12, 10 unmet" */
#define BAR_H 13.0
#define FONT 13.0
#define LABEL_CHARS 16

/* Appends 's' escaped for XML. Control characters other than tab and
 * newline are not allowed in XML 1.0 even as references, so they go. */
static void put_xml(ws_str *out, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 && c != '\t' && c != '\n')
      continue;
    if (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')
      ws_str_put_html(out, s, 1);
    else
      ws_str_putc(out, *s);
  }
}

/* Appends 's' escaped, cut to 'max' characters with an ellipsis: labels
 * sit in a fixed column, and the full text is in the table. */
static void put_clipped(ws_str *out, const char *s, size_t max) {
  size_t chars = 0, i = 0, cut = 0;
  for (; s[i]; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars == max)
      cut = i;
  if (chars <= max) {
    put_xml(out, s);
    return;
  }
  char *head = ws_xstrndup(s, cut);
  put_xml(out, head);
  ws_str_puts(out, "\xe2\x80\xa6");
  free(head);
}

static void svg_open(ws_str *out, const char *id, double h, const char *title,
                     const char *desc) {
  ws_str_printf(out,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" "
                "viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "aria-labelledby=\"%s-title %s-desc\" font-size=\"%.0f\">"
                "<title id=\"%s-title\">",
                CHART_W, h, id, id, FONT, id);
  put_xml(out, title);
  ws_str_printf(out, "</title><desc id=\"%s-desc\">", id);
  put_xml(out, desc);
  ws_str_puts(out, "</desc>");
}

/* A rectangle with a tooltip; 'cls' picks its colour in style.css and the
 * fill attribute is the fallback outside the page. */
static void svg_rect(ws_str *out, const char *cls, double x, double y, double w,
                     double h, const char *tip) {
  ws_str_printf(out,
                "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                "height=\"%.2f\" fill=\"currentColor\">",
                cls, x, y, w, h);
  if (tip) {
    ws_str_puts(out, "<title>");
    put_xml(out, tip);
    ws_str_puts(out, "</title>");
  }
  ws_str_puts(out, "</rect>");
}

static void svg_text(ws_str *out, const char *cls, double x, double y,
                     const char *anchor, const char *text, size_t clip) {
  ws_str_printf(out,
                "<text class=\"%s\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\" "
                "fill=\"currentColor\">",
                cls, x, y, anchor);
  if (clip)
    put_clipped(out, text, clip);
  else
    put_xml(out, text);
  ws_str_puts(out, "</text>");
}

/* A legend entry: a swatch and its name; returns the x after it. */
static double svg_legend(ws_str *out, double x, double y, const char *cls,
                         const char *name) {
  svg_rect(out, cls, x, y - 9, 10, 10, NULL);
  svg_text(out, "chart-label", x + 14, y, "start", name, 0);
  return x + 24 + 7 * (double)strlen(name);
}

typedef struct {
  const char *label;
  double a, b; /* b is drawn only in two-series charts */
} bar_row;

typedef struct {
  const char *id, *title, *desc;
  const char *name_a, *name_b; /* series names; name_b NULL: one series */
  const char *cls_a, *cls_b;
  bool gap; /* a > b is unmet demand: draw and label the shortfall */
} bar_chart;

static double max_of(const bar_row *rows, size_t n, bool two) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    if (rows[i].a > m)
      m = rows[i].a;
    if (two && rows[i].b > m)
      m = rows[i].b;
  }
  return m;
}

/* Horizontal bars, one or two per row, scaled to the largest value; every
 * bar is labelled with its number, so the chart reads without colour. */
static void svg_bars(ws_str *out, const bar_chart *c, const bar_row *rows,
                     size_t n) {
  bool two = c->name_b != NULL;
  double top = two ? 26 : 6, row_h = two ? 2 * BAR_H + 12 : BAR_H + 9;
  double max = max_of(rows, n, two), scale = max > 0 ? BAR_MAX / max : 0;
  ws_str tip = WS_STR_INIT;
  svg_open(out, c->id, top + row_h * (double)n + 4, c->title, c->desc);
  if (two) {
    double x = svg_legend(out, 8, 14, c->cls_a, c->name_a);
    x = svg_legend(out, x, 14, c->cls_b, c->name_b);
    if (c->gap)
      svg_legend(out, x, 14, "cbar cbar-unmet", "unmet");
  }
  for (size_t i = 0; i < n; i++) {
    const bar_row *r = &rows[i];
    double y = top + row_h * (double)i;
    svg_text(out, "chart-label", LABEL_W, y + (two ? BAR_H + 4 : BAR_H - 2),
             "end", r->label, LABEL_CHARS);
    ws_str_clear(&tip);
    ws_str_printf(&tip, "%s: %g %s", r->label, r->a, c->name_a);
    svg_rect(out, c->cls_a, BAR_X, y, r->a * scale, BAR_H, tip.ptr);
    ws_str_clear(&tip);
    ws_str_printf(&tip, "%g", r->a);
    svg_text(out, "chart-value", BAR_X + r->a * scale + 4, y + BAR_H - 2,
             "start", tip.ptr, 0);
    if (!two)
      continue;
    double y2 = y + BAR_H + 2;
    bool unmet = c->gap && r->a > r->b;
    ws_str_clear(&tip);
    ws_str_printf(&tip, "%s: %g %s", r->label, r->b, c->name_b);
    svg_rect(out, c->cls_b, BAR_X, y2, r->b * scale, BAR_H, tip.ptr);
    if (unmet) {
      ws_str_clear(&tip);
      ws_str_printf(&tip, "%s: %g unmet", r->label, r->a - r->b);
      svg_rect(out, "cbar cbar-unmet", BAR_X + r->b * scale, y2,
               (r->a - r->b) * scale, BAR_H, tip.ptr);
    }
    ws_str_clear(&tip);
    if (unmet)
      ws_str_printf(&tip, "%g, %g unmet", r->b, r->a - r->b);
    else
      ws_str_printf(&tip, "%g", r->b);
    svg_text(out, unmet ? "chart-value unmet-label" : "chart-value",
             BAR_X + (unmet ? r->a : r->b) * scale + 4, y2 + BAR_H - 2, "start",
             tip.ptr, 0);
  }
  ws_str_puts(out, "</svg>");
  ws_str_release(&tip);
}

/* One bar split into segments, with a legend below: shares of a whole. */
static void svg_stacked(ws_str *out, const bar_chart *c, const bar_row *rows,
                        size_t n) {
  double total = 0, x = 8, w = CHART_W - 16;
  for (size_t i = 0; i < n; i++)
    total += rows[i].a;
  ws_str tip = WS_STR_INIT, cls = WS_STR_INIT;
  svg_open(out, c->id, 54 + 20 * (double)n, c->title, c->desc);
  for (size_t i = 0; i < n; i++) {
    double sw = total > 0 ? rows[i].a / total * w : 0;
    ws_str_clear(&tip);
    ws_str_clear(&cls);
    ws_str_printf(&tip, "%s: %g", rows[i].label, rows[i].a);
    ws_str_printf(&cls, "cbar cseg cseg-%zu", i);
    svg_rect(out, cls.ptr, x, 8, sw, 32, tip.ptr);
    if (sw >= 22) {
      ws_str_clear(&tip);
      ws_str_printf(&tip, "%g", rows[i].a);
      svg_text(out, "chart-value cseg-value", x + sw / 2, 29, "middle", tip.ptr,
               0);
    }
    x += sw;
  }
  for (size_t i = 0; i < n; i++) {
    double y = 64 + 20 * (double)i;
    ws_str_clear(&cls);
    ws_str_printf(&cls, "cbar cseg cseg-%zu", i);
    ws_str_clear(&tip);
    ws_str_printf(&tip, "%s: %g", rows[i].label, rows[i].a);
    svg_legend(out, 8, y, cls.ptr, tip.ptr);
  }
  ws_str_puts(out, "</svg>");
  ws_str_release(&tip);
  ws_str_release(&cls);
}

/* Columns over time (one per month), with a baseline, the largest value on
 * the axis and a few evenly spaced month labels. */
static void svg_columns(ws_str *out, const bar_chart *c, const bar_row *rows,
                        size_t n) {
  double x0 = 30, x1 = CHART_W - 8, y0 = 10, y1 = 150;
  double max = max_of(rows, n, false), scale = max > 0 ? (y1 - y0) / max : 0;
  double slot = n ? (x1 - x0) / (double)n : 0;
  /* Month labels ("2024-03") are about 7 units a character wide: the first
   * and the last are always drawn, flush with the ends, and the others
   * where they do not run into a neighbour. */
  double lw = n ? 7.2 * (double)strlen(rows[0].label) : 0;
  double left = x0 + lw + 8, right = x1 - lw - 8;
  ws_str tip = WS_STR_INIT;
  svg_open(out, c->id, 172, c->title, c->desc);
  ws_str_printf(&tip, "%g", max);
  svg_text(out, "chart-value", x0 - 4, y0 + 4, "end", tip.ptr, 0);
  svg_text(out, "chart-value", x0 - 4, y1, "end", "0", 0);
  for (size_t i = 0; i < n; i++) {
    double h = rows[i].a * scale;
    ws_str_clear(&tip);
    ws_str_printf(&tip, "%s: %g %s", rows[i].label, rows[i].a, c->name_a);
    svg_rect(out, c->cls_a, x0 + slot * (double)i + slot * 0.1, y1 - h,
             slot * 0.8, h, tip.ptr);
    double mid = x0 + slot * ((double)i + 0.5);
    if (i == 0)
      svg_text(out, "chart-label", x0, y1 + 16, "start", rows[i].label, 0);
    else if (i + 1 == n)
      svg_text(out, "chart-label", x1, y1 + 16, "end", rows[i].label, 0);
    else if (mid - lw / 2 >= left && mid + lw / 2 <= right) {
      svg_text(out, "chart-label", mid, y1 + 16, "middle", rows[i].label, 0);
      left = mid + lw / 2 + 8;
    }
  }
  ws_str_printf(out,
                "<line class=\"axis\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                "y2=\"%.2f\" stroke=\"currentColor\"/>",
                x0, y1, x1, y1);
  ws_str_puts(out, "</svg>");
  ws_str_release(&tip);
}

/* --- the page --- */

static bar_row *rows_new(size_t n) {
  return ws_xcalloc(n ? n : 1, sizeof(bar_row));
}

static char *chart_supply(const ws_value *f) {
  size_t n;
  const ws_value *types = list_at(ws_value_get(f, "mentoring"), "types", &n);
  bar_row *rows = rows_new(n);
  for (size_t i = 0; i < n; i++) {
    const ws_value *t = types->u.list.items[i];
    rows[i] = (bar_row){ws_value_cstr(ws_value_get(t, "type")),
                        num(t, "seekers"), num(t, "capacity")};
  }
  bar_chart c = {"chart-supply",
                 "Mentoring supply and demand by type",
                 "For each of the seven mentor types, the number of people "
                 "seeking it next to the mentee places offered; a shortfall "
                 "is marked as unmet. The table beside the chart has the "
                 "same figures.",
                 "seeking",
                 "places offered",
                 "cbar cbar-demand",
                 "cbar cbar-supply",
                 true};
  ws_str out = WS_STR_INIT;
  svg_bars(&out, &c, rows, n);
  free(rows);
  return ws_str_detach(&out);
}

static char *chart_split(const ws_value *f) {
  const ws_value *m = ws_value_get(f, "mentoring");
  const char *labels[] = {"one-on-one", "group", "virtual", "in-person"};
  bar_row rows[4];
  for (size_t i = 0; i < 4; i++) {
    const ws_value *cell =
        ws_value_get(ws_value_get(m, i < 2 ? "formats" : "modes"), labels[i]);
    rows[i] = (bar_row){labels[i], num(cell, "seekers"), num(cell, "capacity")};
  }
  bar_chart c = {"chart-split",
                 "Mentoring supply and demand by format and mode",
                 "People seeking mentoring and the mentee places offered by "
                 "people open to each format (one-on-one, group) and mode "
                 "(virtual, in-person).",
                 "seeking",
                 "places offered",
                 "cbar cbar-demand",
                 "cbar cbar-supply",
                 true};
  ws_str out = WS_STR_INIT;
  svg_bars(&out, &c, rows, 4);
  return ws_str_detach(&out);
}

/* A one-series bar chart of the list 'key' of 'parent': label from
 * 'label_key', length from 'value_key'. */
static char *chart_list(const ws_value *parent, const char *key,
                        const char *label_key, const char *value_key,
                        const bar_chart *c) {
  size_t n;
  const ws_value *l = list_at(parent, key, &n);
  bar_row *rows = rows_new(n);
  for (size_t i = 0; i < n; i++) {
    const ws_value *e = l->u.list.items[i];
    rows[i] = (bar_row){ws_value_cstr(ws_value_get(e, label_key)),
                        num(e, value_key), 0};
  }
  ws_str out = WS_STR_INIT;
  if (strcmp(c->id, "chart-ages") == 0)
    svg_stacked(&out, c, rows, n);
  else if (strcmp(c->id, "chart-growth") == 0)
    svg_columns(&out, c, rows, n);
  else
    svg_bars(&out, c, rows, n);
  free(rows);
  return ws_str_detach(&out);
}

static ws_value *charts_value(const ws_value *f) {
  static const bar_chart strengths = {
      "chart-strengths",
      "Most common strengths",
      "How many people list each of the most common strengths.",
      "people",
      NULL,
      "cbar cbar-a",
      NULL,
      false};
  static const bar_chart teams = {"chart-teams",
                                  "People per team",
                                  "How many people are in each team.",
                                  "people",
                                  NULL,
                                  "cbar cbar-a",
                                  NULL,
                                  false};
  static const bar_chart zones = {
      "chart-zones",
      "People per time-zone band",
      "How many people work in each standard UTC offset, west to east.",
      "people",
      NULL,
      "cbar cbar-b",
      NULL,
      false};
  static const bar_chart ages = {
      "chart-ages",
      "Months since each profile was last updated",
      "One bar split by how long ago each profile last changed in git.",
      "profiles",
      NULL,
      "cbar",
      NULL,
      false};
  static const bar_chart gaps = {
      "chart-missing",
      "Recommended fields and sections missing",
      "How many profiles miss each recommended field or section.",
      "profiles",
      NULL,
      "cbar cbar-missing",
      NULL,
      false};
  static const bar_chart growth = {
      "chart-growth",
      "People on the directory per month",
      "How many profiles were on the directory at the end of each month.",
      "people",
      NULL,
      "cbar cbar-a",
      NULL,
      false};
  const ws_value *fresh = ws_value_get(f, "freshness");
  ws_value *c = ws_value_map();
  struct {
    const char *key;
    char *svg;
  } all[] = {{"supply", chart_supply(f)},
             {"split", chart_split(f)},
             {"strengths", chart_list(ws_value_get(f, "strengths"), "top",
                                      "name", "people", &strengths)},
             {"teams", chart_list(ws_value_get(f, "teams"), "teams", "name",
                                  "people", &teams)},
             {"zones", chart_list(ws_value_get(f, "teams"), "zones", "band",
                                  "people", &zones)},
             {"ages", chart_list(fresh, "ages", "label", "count", &ages)},
             {"missing", chart_list(ws_value_get(fresh, "completeness"),
                                    "fields", "label", "missing", &gaps)},
             {"growth", chart_list(ws_value_get(f, "growth"), "months", "month",
                                   "people", &growth)}};
  for (size_t i = 0; i < COUNT(all); i++)
    ws_value_set(c, all[i].key,
                 ws_value_string_own(all[i].svg, strlen(all[i].svg)));
  return c;
}

/* Counts the page tests for being above zero, and the flag it tests. */
static const struct {
  const char *key, *flag;
} count_flags[] = {{"unmet", "is_unmet"}, {"incomplete", "has_incomplete"}};

/* Mustache cannot test a list's length or compare numbers, so the page's
 * copy of the figures gets has_<list> for every list and a flag for each
 * count of count_flags. */
static void decorate(ws_value *v) {
  if (v->type == WS_VALUE_LIST) {
    for (size_t i = 0; i < v->u.list.len; i++)
      decorate(v->u.list.items[i]);
    return;
  }
  if (v->type != WS_VALUE_MAP)
    return;
  size_t n = v->u.map.len;
  for (size_t i = 0; i < n; i++) {
    ws_value *val = v->u.map.entries[i].val;
    const char *key = v->u.map.entries[i].key;
    if (val->type == WS_VALUE_LIST || val->type == WS_VALUE_MAP)
      decorate(val);
    if (val->type == WS_VALUE_LIST) {
      ws_str has = WS_STR_INIT;
      ws_str_printf(&has, "has_%s", key);
      ws_value_set_bool(v, has.ptr, val->u.list.len > 0);
      ws_str_release(&has);
    } else {
      for (size_t k = 0; k < COUNT(count_flags); k++)
        if (strcmp(key, count_flags[k].key) == 0)
          ws_value_set_bool(v, count_flags[k].flag, num(v, key) > 0);
    }
  }
}

/* The build date of the site ("YYYY-MM-DD"), as seconds at midnight UTC. */
static long long build_day(const ws_renderer *r) {
  const char *s = ws_renderer_build_date(r);
  int y, m, d;
  if (!s || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
    return 0;
  if (m < 1 || m > 12 || d < 1 || d > 31)
    return 0;
  return ws_render_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400;
}

/* The report's figures and charts are made only when the page is
 * rendered: they cost tens of milliseconds at 10,000 profiles on every
 * build, and most pushes (a paragraph of a body) change none of them. Its
 * fingerprint takes what ws_report_figures reads instead: every person's
 * fields but the body (ws_render_digest_fields), the events' times and
 * kinds, whether the history is partial and the build day. */
static void report_inputs(ws_renderer *r, const ws_page *pg, ws_digester *d,
                          void *payload) {
  const ws_site *site = ws_renderer_site(r);
  long long day = build_day(r);
  unsigned char partial = site->history_partial;
  (void)pg;
  (void)payload;
  ws_digester_bytes(d, &day, sizeof(day));
  ws_digester_bytes(d, &partial, 1);
  ws_digester_bytes(d, &site->npeople, sizeof(site->npeople));
  for (size_t i = 0; i < site->npeople; i++)
    ws_render_digest_fields(r, d, i);
  ws_digester_bytes(d, &site->nevents, sizeof(site->nevents));
  for (size_t i = 0; i < site->nevents; i++) {
    unsigned char kind = (unsigned char)site->events[i].kind;
    ws_digester_bytes(d, &site->events[i].time, sizeof(site->events[i].time));
    ws_digester_bytes(d, &kind, 1);
  }
}

/* The charts are drawn from the figures as --report-json has them; the
 * template's flags are added after, to the figures themselves rather than
 * to a copy of their 30,000 person references. */
static void add_figures(ws_value *ctx, void *payload) {
  ws_renderer *r = payload;
  ws_value *fig = ws_report_figures(ws_renderer_site(r), build_day(r));
  ws_value_set(ctx, "charts", charts_value(fig));
  decorate(fig);
  ws_value_set(ctx, "report", fig);
}

int ws_report_render(ws_renderer *r) {
  ws_page pg = {"report", "report/index.html", "report", "Team report",
                "How the team is doing: mentoring supply and demand, "
                "strengths coverage, team composition, profile freshness "
                "and growth."};
  ws_value *ctx = ws_render_context(r, &pg);
  if (*ws_renderer_build_date(r))
    ws_value_set_str(ctx, "build_date", ws_renderer_build_date(r));
  ws_page_rest rest = {report_inputs, add_figures, r};
  return ws_render_page_rest(r, &pg, ctx, &rest);
}
