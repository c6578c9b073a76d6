#include "profile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "frontmatter.h"
#include "markdown.h"
#include "str.h"
#include "xalloc.h"

static const char *const type_names[WS_MENTOR__COUNT] = {
    "advisor", "advocate",  "affirmer", "challenger",
    "coach",   "connector", "sponsor"};

static const char *const type_defs[WS_MENTOR__COUNT] = {
    "Shares what they know from having been there: answers, options and "
    "perspective when you face a decision.",
    "Speaks up for you in rooms you are not in, and makes sure your work is "
    "seen.",
    "Reminds you of what you are good at and keeps you going when the work "
    "gets hard.",
    "Asks the uncomfortable questions, pushes back on your plans and raises "
    "the bar.",
    "Helps you find your own answers through questions, practice and "
    "regular reflection.",
    "Knows who you should meet, and introduces you: a referral when they are "
    "not the right mentor themselves.",
    "Puts their reputation behind you: names you for stretch projects, "
    "promotions and new roles."};

const char *ws_mentor_type_name(ws_mentor_type t) {
  return t < WS_MENTOR__COUNT ? type_names[t] : "?";
}

const char *ws_mentor_type_definition(ws_mentor_type t) {
  return t < WS_MENTOR__COUNT ? type_defs[t] : "";
}

static const char *const format_names[] = {"one-on-one", "group"};
static const char *const mode_names[] = {"virtual", "in-person"};

/* Short text fields, and the longest value accepted (bytes). */
#define TEXT_MAX 500
#define LONG_TEXT_MAX 4000

typedef struct {
  ws_profile *p;
  const char *path;
  ws_diag *diag;
  int errors;
  bool (*photo_exists)(const char *, void *);
  void *payload;
} checker;

static void problem(checker *c, ws_diag_severity sev, const ws_value *at,
                    unsigned line, unsigned col, const char *code,
                    const char *msg) {
  if (at) {
    line = at->line;
    col = at->col;
  }
  ws_diag_add(c->diag, sev, c->path, line, col, code, "%s", msg);
  if (sev == WS_DIAG_ERROR)
    c->errors++;
}

static void errorf(checker *c, const ws_value *at, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void errorf(checker *c, const ws_value *at, const char *code,
                   const char *fmt, ...) {
  ws_str msg = WS_STR_INIT;
  va_list ap;
  va_start(ap, fmt);
  ws_str_vprintf(&msg, fmt, ap);
  va_end(ap);
  problem(c, WS_DIAG_ERROR, at, 1, 1, code, msg.ptr);
  ws_str_release(&msg);
}

size_t ws_edit_distance(const char *a, const char *b, size_t limit) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return limit + 1;
  size_t prev[65], cur[65];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    size_t best = cur[0];
    for (size_t j = 1; j <= lb; j++) {
      size_t cost =
          tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      size_t v = prev[j - 1] + cost;
      if (prev[j] + 1 < v)
        v = prev[j] + 1;
      if (cur[j - 1] + 1 < v)
        v = cur[j - 1] + 1;
      cur[j] = v;
      if (v < best)
        best = v;
    }
    if (best > limit)
      return limit + 1;
    memcpy(prev, cur, sizeof(prev));
  }
  return prev[lb] > limit ? limit + 1 : prev[lb];
}

/* Returns the closest of 'names' within two edits, or NULL. */
static const char *suggest(const char *word, const char *const *names,
                           size_t n) {
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; i < n; i++) {
    size_t d = ws_edit_distance(word, names[i], 2);
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  return best;
}

static bool utf8_valid(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    unsigned char c = u[i];
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || i + n > len || c == 0)
      return false;
    for (size_t k = 1; k < n; k++)
      if ((u[i + k] & 0xc0) != 0x80)
        return false;
    i += n;
  }
  return true;
}

static bool blank(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  return *s == '\0';
}

/* Bidi embedding, override and isolate controls (U+202A-202E,
 * U+2066-2069) could make a name reorder the text around it; they are
 * dropped with a warning. Marks (U+200E/F) are harmless and kept. */
static char *strip_bidi(checker *c, const ws_value *v, const char *key) {
  const char *s = v->u.string.ptr;
  size_t len = v->u.string.len;
  ws_str out = WS_STR_INIT;
  bool dropped = false;
  for (size_t i = 0; i < len; i++) {
    const unsigned char *u = (const unsigned char *)s + i;
    if (i + 2 < len && u[0] == 0xe2 &&
        ((u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae) ||
         (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9))) {
      dropped = true;
      i += 2;
      continue;
    }
    ws_str_putc(&out, s[i]);
  }
  if (dropped) {
    ws_str msg = WS_STR_INIT;
    ws_str_printf(&msg,
                  "bidirectional control characters removed from '%s' (they "
                  "could reorder the text around it)",
                  key);
    problem(c, WS_DIAG_WARNING, v, 0, 0, "bidi", msg.ptr);
    ws_str_release(&msg);
  }
  return ws_str_detach(&out);
}

/* Reads a text field: a string (never empty or too long). Numbers and
 * booleans are refused so that "1.10" never silently becomes "1.1". */
static char *text_field(checker *c, const ws_value *v, const char *key,
                        size_t max) {
  if (!v || v->type == WS_VALUE_NULL)
    return NULL;
  if (v->type != WS_VALUE_STRING) {
    errorf(c, v, "type", "'%s' must be text, not a %s%s", key,
           ws_value_type_name(v->type),
           v->type == WS_VALUE_LIST || v->type == WS_VALUE_MAP
               ? ""
               : "; put it in quotes");
    return NULL;
  }
  if (v->u.string.len > max) {
    errorf(c, v, "too-long", "'%s' is %zu bytes long; the limit is %zu", key,
           v->u.string.len, max);
    return NULL;
  }
  if (memchr(v->u.string.ptr, '\0', v->u.string.len) ||
      !utf8_valid(v->u.string.ptr, v->u.string.len)) {
    errorf(c, v, "encoding", "'%s' is not valid UTF-8 text", key);
    return NULL;
  }
  /* `role: ""` is how a template leaves a field for later: not shared, and
   * never an empty team or a blank line on the page. */
  if (blank(v->u.string.ptr))
    return NULL;
  return strip_bidi(c, v, key);
}

static void list_field(checker *c, ws_strlist *out, const ws_value *v,
                       const char *key) {
  if (!v || v->type == WS_VALUE_NULL)
    return;
  if (v->type != WS_VALUE_LIST) {
    errorf(c, v, "type", "'%s' must be a list, e.g. %s: [first, second]", key,
           key);
    return;
  }
  if (v->u.list.len > WS_PROFILE_MAX_ITEMS) {
    errorf(c, v, "too-many", "'%s' has %zu items; the limit is %d", key,
           v->u.list.len, WS_PROFILE_MAX_ITEMS);
    return;
  }
  out->items = ws_xcalloc(v->u.list.len, sizeof(char *));
  for (size_t i = 0; i < v->u.list.len; i++) {
    const ws_value *it = v->u.list.items[i];
    char *s = text_field(c, it, key, TEXT_MAX);
    if (s)
      out->items[out->len++] = s;
  }
}

/* Parses a list of enum values into bits; unknown values get a suggestion. */
static unsigned enum_field(checker *c, const ws_value *v, const char *key,
                           const char *what, const char *const *names,
                           size_t n) {
  unsigned bits = 0;
  if (!v || v->type == WS_VALUE_NULL)
    return 0;
  if (v->type == WS_VALUE_STRING) {
    errorf(c, v, "type", "'%s' must be a list, e.g. %s: [%s]", key, key,
           v->u.string.ptr);
    return 0;
  }
  if (v->type != WS_VALUE_LIST) {
    errorf(c, v, "type", "'%s' must be a list of %ss", key, what);
    return 0;
  }
  for (size_t i = 0; i < v->u.list.len; i++) {
    const ws_value *it = v->u.list.items[i];
    const char *s = ws_value_cstr(it);
    size_t k = 0;
    for (; s && k < n; k++)
      if (strcasecmp(s, names[k]) == 0)
        break;
    if (s && k < n) {
      bits |= 1u << k;
      continue;
    }
    if (!s) {
      errorf(c, it, "type", "each %s must be text", what);
      continue;
    }
    const char *near = suggest(s, names, n);
    ws_str all = WS_STR_INIT;
    for (size_t j = 0; j < n; j++)
      ws_str_printf(&all, "%s%s", j ? ", " : "", names[j]);
    if (near)
      errorf(c, it, "unknown-value", "unknown %s '%s'; did you mean '%s'?",
             what, s, near);
    else
      errorf(c, it, "unknown-value", "unknown %s '%s'; expected one of %s",
             what, s, all.ptr);
    ws_str_release(&all);
  }
  return bits;
}

/* Says what a number field got instead, so the author sees their value. */
static void bad_number(checker *c, const ws_value *v, const char *code,
                       const char *key, const char *want) {
  ws_str got = WS_STR_INIT;
  if (v->type == WS_VALUE_NUMBER)
    ws_str_printf(&got, "%g", v->u.number);
  else if (v->type == WS_VALUE_STRING && v->u.string.len <= 40)
    ws_str_printf(&got, "'%s'", v->u.string.ptr);
  else
    ws_str_printf(&got, "a %s", ws_value_type_name(v->type));
  errorf(c, v, code, "'%s' must be %s, not %s", key, want, got.ptr);
  ws_str_release(&got);
}

typedef struct {
  const char *key;
  const char *const *children; /* known keys of a nested map, or NULL */
} known_key;

static const char *const top_keys[] = {
    "name",     "pronouns",  "pronunciation", "role",      "team",
    "location", "timezone",  "joined",        "photo",     "strengths",
    "learning", "mentoring", "goals",         "dream_job", "passion_projects",
    "links",    "level"};
static const char *const mentoring_keys[] = {"seeking", "offering", "formats",
                                             "modes"};
static const char *const seeking_keys[] = {"types", "topics", "cross_team"};
static const char *const offering_keys[] = {"types", "topics", "capacity"};
static const char *const goals_keys[] = {"short_term", "long_term"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Unknown keys are warnings, never silent: a typo in a key would otherwise
 * drop what the person wrote. */
static void check_keys(checker *c, const ws_value *map, const char *where,
                       const char *const *known, size_t n) {
  if (!map || map->type != WS_VALUE_MAP)
    return;
  for (size_t i = 0; i < map->u.map.len; i++) {
    const ws_value_entry *e = &map->u.map.entries[i];
    size_t k = 0;
    while (k < n && strcmp(e->key, known[k]) != 0)
      k++;
    if (k < n)
      continue;
    const char *near = suggest(e->key, known, n);
    ws_str msg = WS_STR_INIT;
    ws_str_printf(&msg, "unknown key '%s'%s%s", e->key, where, "");
    if (near)
      ws_str_printf(&msg, "; did you mean '%s'?", near);
    else
      ws_str_puts(&msg, "; it is not shown on the site");
    problem(c, WS_DIAG_WARNING, NULL, e->line, e->col, "unknown-key", msg.ptr);
    ws_str_release(&msg);
  }
}

static const ws_value *sub_map(checker *c, const ws_value *parent,
                               const char *key) {
  const ws_value *v = ws_value_get(parent, key);
  if (!v || v->type == WS_VALUE_NULL)
    return NULL;
  if (v->type != WS_VALUE_MAP) {
    errorf(c, v, "type", "'%s' must be a map of keys to values, not a %s", key,
           ws_value_type_name(v->type));
    return NULL;
  }
  return v;
}

static bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void check_date(checker *c, const ws_value *v) {
  const char *s = c->p->joined;
  int y, m, d, n = 0;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 &&
      n == 10 && m >= 1 && m <= 12 && d >= 1 &&
      d <= days[m - 1] + (m == 2 && leap(y)) && y >= 1900)
    return;
  errorf(c, v, "date", "'joined' must be a date written YYYY-MM-DD, not '%s'",
         s);
  free(c->p->joined);
  c->p->joined = NULL;
}

static const char *const tz_areas[] = {
    "Africa",    "America", "Antarctica", "Arctic",  "Asia", "Atlantic",
    "Australia", "Europe",  "Indian",     "Pacific", "Etc"};

static bool tz_valid(const char *s) {
  if (strcmp(s, "UTC") == 0)
    return true;
  const char *slash = strchr(s, '/');
  if (!slash)
    return false;
  size_t k = 0;
  for (; k < COUNT(tz_areas); k++)
    if (strlen(tz_areas[k]) == (size_t)(slash - s) &&
        strncmp(s, tz_areas[k], (size_t)(slash - s)) == 0)
      break;
  if (k == COUNT(tz_areas) || !slash[1])
    return false;
  for (const char *q = slash + 1; *q; q++)
    if (!isalnum((unsigned char)*q) && !strchr("_-+/", *q))
      return false;
  return true;
}

static bool photo_path_ok(const char *s) {
  if (!*s || s[0] == '/' || strchr(s, '\\') || strstr(s, "..") ||
      strchr(s, ':') || strchr(s, '%'))
    return false;
  const char *dot = strrchr(s, '.');
  return dot &&
         (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
          strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".webp") == 0);
}

/* Photos are relative to the profile's folder, like a Markdown link. */
static void check_photo(checker *c, const ws_value *v) {
  ws_profile *p = c->p;
  char *rel = p->photo;
  p->photo = NULL;
  if (!photo_path_ok(rel)) {
    errorf(c, v, "photo",
           "photo '%s' must be a relative path to a .jpg, .jpeg, .png or "
           ".webp file next to the profile, e.g. photo: amara.jpg",
           rel);
    free(rel);
    return;
  }
  ws_str full = WS_STR_INIT;
  ws_str_printf(&full, "people/%s", rel);
  if (c->photo_exists && !c->photo_exists(full.ptr, c->payload)) {
    const char *slash = strrchr(c->path, '/');
    errorf(c, v, "photo-missing",
           "photo '%s' not found: there is no file %.*s%s (names are "
           "case-sensitive, and the image must be committed next to the "
           "profile)",
           rel, slash ? (int)(slash - c->path + 1) : 0, c->path, rel);
    ws_str_release(&full);
  } else {
    p->photo = ws_str_detach(&full);
  }
  free(rel);
}

static bool url_allowed(const char *u) {
  return strncasecmp(u, "https://", 8) == 0 ||
         strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "mailto:", 7) == 0;
}

/* links: [{label: Blog, url: https://...}] — only http(s) and mailto. */
static void check_links(checker *c, const ws_value *v) {
  if (!v || v->type == WS_VALUE_NULL)
    return;
  if (v->type != WS_VALUE_LIST) {
    errorf(c, v, "type", "'links' must be a list of {label, url} maps");
    return;
  }
  if (v->u.list.len > WS_PROFILE_MAX_ITEMS) {
    errorf(c, v, "too-many", "'links' has %zu items; the limit is %d",
           v->u.list.len, WS_PROFILE_MAX_ITEMS);
    return;
  }
  ws_value *out = ws_value_list();
  for (size_t i = 0; i < v->u.list.len; i++) {
    const ws_value *it = v->u.list.items[i];
    static const char *const keys[] = {"label", "url"};
    const char *label = ws_value_cstr(ws_value_get(it, "label"));
    const char *url = ws_value_cstr(ws_value_get(it, "url"));
    if (!it || it->type != WS_VALUE_MAP || !label || !url) {
      errorf(c, it, "type", "each link must be a map with 'label' and 'url'");
      continue;
    }
    check_keys(c, it, " in a link", keys, COUNT(keys));
    if (!url_allowed(url) || strpbrk(url, " \t\r\n\"'<>`")) {
      errorf(c, ws_value_get(it, "url"), "link-url",
             "link '%s' must be an http://, https:// or mailto: URL "
             "(without spaces or quotes)",
             label);
      continue;
    }
    ws_value *link = ws_value_map();
    ws_value_set_str(link, "label", label);
    ws_value_set_str(link, "url", url);
    ws_value_push(out, link);
  }
  c->p->links = out;
}

static void check_mentoring(checker *c, const ws_value *fm) {
  ws_profile *p = c->p;
  const ws_value *m = sub_map(c, fm, "mentoring");
  if (!m)
    return;
  check_keys(c, m, " in 'mentoring'", mentoring_keys, COUNT(mentoring_keys));
  const ws_value *seek = sub_map(c, m, "seeking");
  const ws_value *offer = sub_map(c, m, "offering");
  check_keys(c, seek, " in 'mentoring.seeking'", seeking_keys,
             COUNT(seeking_keys));
  check_keys(c, offer, " in 'mentoring.offering'", offering_keys,
             COUNT(offering_keys));
  p->seek_types = enum_field(c, ws_value_get(seek, "types"), "types",
                             "mentor type", type_names, WS_MENTOR__COUNT);
  p->offer_types = enum_field(c, ws_value_get(offer, "types"), "types",
                              "mentor type", type_names, WS_MENTOR__COUNT);
  list_field(c, &p->seek_topics, ws_value_get(seek, "topics"), "topics");
  list_field(c, &p->offer_topics, ws_value_get(offer, "topics"), "topics");
  p->formats = enum_field(c, ws_value_get(m, "formats"), "formats", "format",
                          format_names, COUNT(format_names));
  p->modes = enum_field(c, ws_value_get(m, "modes"), "modes", "mode",
                        mode_names, COUNT(mode_names));
  const ws_value *xt = ws_value_get(seek, "cross_team");
  if (xt && xt->type != WS_VALUE_BOOL)
    errorf(c, xt, "type", "'cross_team' must be true or false");
  p->cross_team = xt && xt->type == WS_VALUE_BOOL && xt->u.boolean;
  const ws_value *cap = ws_value_get(offer, "capacity");
  p->capacity = p->offer_types ? 1 : 0;
  if (cap && cap->type != WS_VALUE_NULL) {
    double d = cap->type == WS_VALUE_NUMBER ? cap->u.number : -1;
    if (d < 0 || d > WS_PROFILE_MAX_CAPACITY || d != (double)(unsigned)d)
      bad_number(c, cap, "capacity", "capacity",
                 "a whole number of mentees from 0 to 20");
    else
      p->capacity = (unsigned)d;
  }
  /* Someone who offers or seeks mentoring but names no format or mode is
   * open to all of them: that is what people mean when they leave it out. */
  if ((p->seek_types || p->offer_types) && !p->formats)
    p->formats = WS_FORMAT_ONE_ON_ONE | WS_FORMAT_GROUP;
  if ((p->seek_types || p->offer_types) && !p->modes)
    p->modes = WS_MODE_VIRTUAL | WS_MODE_IN_PERSON;
}

static void check_fields(checker *c, const ws_value *fm) {
  ws_profile *p = c->p;
  struct {
    const char *key;
    char **dst;
    size_t max;
  } texts[] = {
      {"name", &p->name, TEXT_MAX},
      {"pronouns", &p->pronouns, 60},
      {"pronunciation", &p->pronunciation, 200},
      {"role", &p->role, TEXT_MAX},
      {"team", &p->team, 200},
      {"location", &p->location, 200},
      {"timezone", &p->timezone, 64},
      {"joined", &p->joined, 32},
      {"photo", &p->photo, 255},
      {"dream_job", &p->dream_job, LONG_TEXT_MAX},
  };
  for (size_t i = 0; i < COUNT(texts); i++)
    *texts[i].dst = text_field(c, ws_value_get(fm, texts[i].key), texts[i].key,
                               texts[i].max);
  const ws_value *goals = sub_map(c, fm, "goals");
  check_keys(c, goals, " in 'goals'", goals_keys, COUNT(goals_keys));
  p->goal_short = text_field(c, ws_value_get(goals, "short_term"), "short_term",
                             LONG_TEXT_MAX);
  p->goal_long = text_field(c, ws_value_get(goals, "long_term"), "long_term",
                            LONG_TEXT_MAX);
  list_field(c, &p->strengths, ws_value_get(fm, "strengths"), "strengths");
  list_field(c, &p->learning, ws_value_get(fm, "learning"), "learning");
  list_field(c, &p->passion_projects, ws_value_get(fm, "passion_projects"),
             "passion_projects");
  check_mentoring(c, fm);
  check_links(c, ws_value_get(fm, "links"));
  const ws_value *level = ws_value_get(fm, "level");
  if (level && level->type != WS_VALUE_NULL &&
      (level->type != WS_VALUE_NUMBER || level->u.number < 0 ||
       level->u.number > 20 ||
       level->u.number != (double)(unsigned)level->u.number))
    bad_number(c, level, "type", "level", "a whole number from 0 to 20");
}

static void check_values(checker *c, const ws_value *fm, bool has_fm) {
  ws_profile *p = c->p;
  const ws_value_entry *name = ws_value_entry_get(fm, "name");
  const ws_value *nv = name ? name->val : NULL;
  /* A name of the wrong type already has its own error. */
  if (!p->name && (!nv || nv->type == WS_VALUE_NULL ||
                   (nv->type == WS_VALUE_STRING && blank(nv->u.string.ptr))))
    problem(c, WS_DIAG_ERROR, NULL, name ? name->line : 1, name ? name->col : 1,
            "missing-name",
            !name && !has_fm
                ? "a profile needs a 'name' (the only required field): start "
                  "the file with a '---' line, 'name: Your Name' and "
                  "another '---' line"
            : name ? "'name' is empty; it is the only required field"
                   : "a profile needs a 'name' (the only required field); "
                     "add 'name: Your Name' to the front matter");
  if (p->joined)
    check_date(c, ws_value_get(fm, "joined"));
  if (p->timezone && !tz_valid(p->timezone)) {
    errorf(c, ws_value_get(fm, "timezone"), "timezone",
           "'%s' is not an IANA time zone name such as Europe/Berlin or UTC",
           p->timezone);
  }
  if (p->photo)
    check_photo(c, ws_value_get(fm, "photo"));
  if (p->strengths.len == 0)
    problem(c, WS_DIAG_WARNING, ws_value_get(fm, "strengths"), 1, 1,
            "no-strengths",
            "no strengths listed; add a few, e.g. strengths: [public "
            "speaking, SQL], so people can find you");
}

static void check_body(checker *c, unsigned body_line) {
  ws_profile *p = c->p;
  for (size_t i = 0; i < p->nsections; i++)
    if (strcasecmp(p->sections[i], "Background") == 0)
      return;
  problem(c, WS_DIAG_WARNING, NULL, body_line ? body_line : 1, 1,
          "missing-section",
          "missing recommended section '## Background' (its first paragraph "
          "is your summary on cards)");
}

/* Returns the offset of the first byte that is not UTF-8, or 'len'. */
static size_t utf8_prefix(const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t n = 1;
    while (n <= 4 && i + n <= len && !utf8_valid(s + i, n))
      n++;
    if (n > 4 || i + n > len)
      return i;
    i += n;
  }
  return i;
}

/* A Markdown body that is not UTF-8 (a file saved as Latin-1) would come
 * out garbled, so it is an error, at the first bad byte. */
static void check_body_encoding(checker *c, const char *body, size_t len,
                                unsigned line) {
  size_t bad = utf8_prefix(body, len), start = 0;
  if (bad == len)
    return;
  for (size_t i = 0; i < bad; i++)
    if (body[i] == '\r' ||
        (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))) {
      line++;
      start = i + 1;
    } else if (body[i] == '\n') {
      start = i + 1;
    }
  unsigned col = 1;
  for (size_t i = start; i < bad; i++)
    col += ((unsigned char)body[i] & 0xc0) != 0x80;
  problem(c, WS_DIAG_ERROR, NULL, line, col, "encoding",
          "invalid UTF-8 text; save the file as UTF-8");
}

/* Where the value of 'key' is written in the front matter; 1:1 when it is
 * not there. */
static void position_of(const ws_value *data, const char *key, unsigned *line,
                        unsigned *col) {
  const ws_value *v = ws_value_get(data, key);
  *line = v ? v->line : 1;
  *col = v ? v->col : 1;
}

/* What is read of the front matter after loading; the rest of it goes with
 * the parse. */
static void keep_from_front_matter(ws_profile *p, const ws_value *data) {
  const ws_value *level = ws_value_get(data, "level");
  p->level = level ? ws_value_copy(level) : NULL;
  position_of(data, "name", &p->name_line, &p->name_col);
  position_of(data, "photo", &p->photo_line, &p->photo_col);
}

int ws_profile_load(ws_profile **out, const char *path, const char *slug,
                    const char *src, size_t len,
                    bool (*photo_exists)(const char *rel, void *payload),
                    void *payload, ws_diag *diag) {
  *out = NULL;
  ws_profile *p = ws_xcalloc(1, sizeof(*p));
  checker c = {p, path, diag, 0, photo_exists, payload};
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  p->slug = ws_xstrdup(slug);
  p->path = ws_xstrdup(path);
  if (len > WS_PROFILE_MAX_BYTES) {
    errorf(&c, NULL, "too-large", "profile is %zu bytes; the limit is %d", len,
           WS_PROFILE_MAX_BYTES);
    goto done;
  }
  if (len >= 2 && ((src[0] == '\xff' && src[1] == '\xfe') ||
                   (src[0] == '\xfe' && src[1] == '\xff'))) {
    errorf(&c, NULL, "encoding",
           "the file is UTF-16; save it as UTF-8 (without a byte-order mark)");
    goto done;
  }
  if (ws_frontmatter_parse(&fm, path, src, len, diag) < 0) {
    c.errors++;
    goto done;
  }
  check_keys(&c, fm.data, "", top_keys, COUNT(top_keys));
  check_fields(&c, fm.data);
  check_values(&c, fm.data, fm.body_line > 1);
  check_body_encoding(&c, fm.body, fm.body_len, fm.body_line);
  ws_markdown md;
  ws_markdown_render(&md, fm.body, fm.body_len);
  p->body_html = md.html;
  p->summary = md.summary;
  p->sections = md.sections;
  p->nsections = md.nsections;
  check_body(&c, fm.body_line);
  keep_from_front_matter(p, fm.data);
done:
  ws_frontmatter_release(&fm);
  if (c.errors) {
    ws_profile_free(p);
    return WS_EINVALID;
  }
  *out = p;
  return 0;
}

void ws_strlist_release(ws_strlist *l) {
  for (size_t i = 0; i < l->len; i++)
    free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->len = 0;
}

void ws_history_release(ws_history *h) {
  if (h->block) {
    free(h->block);
  } else {
    free(h->first_author);
    free(h->last_author);
    free(h->last_subject);
    ws_strlist_release(&h->authors);
  }
  memset(h, 0, sizeof(*h));
}

void ws_profile_free(ws_profile *p) {
  if (!p)
    return;
  ws_value_free(p->links);
  ws_value_free(p->level);
  ws_history_release(&p->history);
  if (p->block) {
    free(p->block);
    free(p);
    return;
  }
  char *texts[] = {p->slug,          p->path,      p->name,      p->pronouns,
                   p->pronunciation, p->role,      p->team,      p->location,
                   p->timezone,      p->joined,    p->photo,     p->dream_job,
                   p->goal_short,    p->goal_long, p->body_html, p->summary};
  for (size_t i = 0; i < COUNT(texts); i++)
    free(texts[i]);
  ws_strlist_release(&p->strengths);
  ws_strlist_release(&p->learning);
  ws_strlist_release(&p->passion_projects);
  ws_strlist_release(&p->seek_topics);
  ws_strlist_release(&p->offer_topics);
  for (size_t i = 0; i < p->nsections; i++)
    free(p->sections[i]);
  free(p->sections);
  free(p);
}

const char *ws_profile_body(const ws_profile *p) {
  if (p->body_html || !p->cached_body)
    return p->body_html;
  /* The NUL is covered too: equal bytes are a C string of this length. */
  ws_digest sum = ws_digest_bytes(p->cached_body, p->cached_body_len + 1);
  return ws_digest_equal(&sum, &p->cached_body_sum) ? p->cached_body : NULL;
}

bool ws_slug_valid(const char *slug) {
  size_t n = strlen(slug);
  if (n == 0 || n > 64 || slug[0] == '-' || slug[n - 1] == '-')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!(islower((unsigned char)slug[i]) || isdigit((unsigned char)slug[i]) ||
          slug[i] == '-'))
      return false;
  return true;
}

/* What cards show of 'p': every field ws_render_person reads but the body,
 * its summary and the slug. Keep it in step with ws_render_person: a field
 * read there and not hashed here would let a page keep what it showed
 * before. */
static void put_card(ws_digester *d, const ws_profile *p) {
  const char *const texts[] = {p->name,     p->pronouns,   p->pronunciation,
                               p->role,     p->team,       p->location,
                               p->timezone, p->joined,     p->dream_job,
                               p->photo,    p->goal_short, p->goal_long};
  const ws_strlist *lists[] = {&p->strengths, &p->learning,
                               &p->passion_projects, &p->seek_topics,
                               &p->offer_topics};
  const unsigned numbers[] = {p->photo_type, p->photo_w,     p->photo_h,
                              p->seek_types, p->offer_types, p->formats,
                              p->modes,      p->capacity,    p->cross_team};
  for (size_t k = 0; k < COUNT(texts); k++)
    ws_digester_text(d, texts[k]);
  for (size_t k = 0; k < COUNT(lists); k++)
    ws_digester_texts(d, lists[k]->items, lists[k]->len);
  for (size_t k = 0; k < COUNT(numbers); k++)
    ws_digester_num(d, numbers[k]);
  ws_digester_value(d, p->links, NULL, NULL);
  ws_digester_texts(d, p->sections, p->nsections);
}

void ws_profile_card_digests(const ws_profile *p, ws_digest *card,
                             ws_digest *link) {
  ws_digester *d = ws_digester_new();
  put_card(d, p);
  *card = ws_digester_end(d);
  ws_digester_text(d, p->name);
  ws_digester_text(d, p->role);
  ws_digester_text(d, p->team);
  *link = ws_digester_end(d);
  ws_digester_free(d);
}
