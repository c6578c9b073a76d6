#include "site.h"

#include <ctype.h>
#include <pthread.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "frontmatter.h"
#include "image.h"
#include "pool.h"
#include "match.h"
#include "matchcache.h"
#include "profcache.h"
#include "str.h"
#include "xalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Lowercases one UTF-8 character at 's' into 'out'; returns its length.
 * Covers Latin-1, Greek and Cyrillic capitals: enough for tags to merge
 * "Ärger" and "ärger" without a Unicode library. */
static size_t fold_char(ws_str *out, const unsigned char *s) {
  if (s[0] < 0x80) {
    ws_str_putc(out, (char)tolower(s[0]));
    return 1;
  }
  if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80) {
    unsigned cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
    if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) ||
        (cp >= 0x391 && cp <= 0x3a9) || (cp >= 0x410 && cp <= 0x42f))
      cp += 0x20;
    else if (cp >= 0x400 && cp <= 0x40f)
      cp += 0x50;
    ws_str_putc(out, (char)(0xc0 | (cp >> 6)));
    ws_str_putc(out, (char)(0x80 | (cp & 0x3f)));
    return 2;
  }
  size_t n = (s[0] >> 4) == 0xe ? 3 : (s[0] >> 3) == 0x1e ? 4 : 1;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      n = 1;
  if (n == 1) {
    ws_str_putc(out, '-'); /* a stray byte never reaches a path */
    return 1;
  }
  ws_str_put(out, (const char *)s, n);
  return n;
}

char *ws_slugify(const char *label) {
  ws_str out = WS_STR_INIT;
  const unsigned char *s = (const unsigned char *)label;
  while (*s) {
    if (*s < 0x80 && !isalnum(*s) && *s != '+' && *s != '#') {
      if (out.len && out.ptr[out.len - 1] != '-')
        ws_str_putc(&out, '-');
      s++;
      continue;
    }
    /* "C++" and "C#" deserve their own tags, not "c". */
    if (*s == '+') {
      ws_str_puts(&out, "plus");
      s++;
      continue;
    }
    if (*s == '#') {
      ws_str_puts(&out, "sharp");
      s++;
      continue;
    }
    s += fold_char(&out, s);
  }
  while (out.len && out.ptr[out.len - 1] == '-')
    ws_str_truncate(&out, out.len - 1);
  if (out.len && out.ptr[0] == '-') {
    char *p = ws_xstrdup(out.ptr + 1);
    ws_str_release(&out);
    ws_str_puts(&out, p);
    free(p);
  }
  if (out.len == 0)
    ws_str_puts(&out, "tag");
  return ws_str_detach(&out);
}

static int cmp_people(const void *a, const void *b) {
  const ws_profile *x = *(ws_profile *const *)a, *y = *(ws_profile *const *)b;
  int c = strcasecmp(x->name, y->name);
  if (!c)
    c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->slug, y->slug);
}

/* The first sixteen bytes of a name as strcasecmp sees them (folded with
 * tolower, as it does), as two numbers: two names whose numbers differ
 * compare as their numbers do. Eight were too few: "Amara Ab" begins
 * dozens of names. */
typedef struct {
  uint64_t hi, lo;
  ws_profile *p;
} by_name;

static uint64_t fold_prefix(const char *s, size_t *used) {
  uint64_t k = 0;
  size_t i = 0;
  for (; i < 8 && s[i]; i++)
    k = k << 8 | (unsigned char)tolower((unsigned char)s[i]);
  *used = i;
  return i ? k << (8 * (8 - i)) : 0;
}

static by_name name_of(ws_profile *p) {
  size_t n;
  by_name v = {fold_prefix(p->name, &n), 0, p};
  if (n == 8)
    v.lo = fold_prefix(p->name + 8, &n);
  return v;
}

static int cmp_by_name(const void *a, const void *b) {
  const by_name *x = *(by_name *const *)a, *y = *(by_name *const *)b;
  if (x->hi != y->hi)
    return x->hi < y->hi ? -1 : 1;
  if (x->lo != y->lo)
    return x->lo < y->lo ? -1 : 1;
  return cmp_people(&x->p, &y->p);
}

/* Sorting 10,000 people with cmp_people alone took 15M instructions of
 * every rebuild, most of them in strcasecmp; the keys settle nearly every
 * comparison. glibc's qsort moves items of eight bytes fastest, so it
 * sorts pointers to the keys. */
static void sort_people(ws_site *site) {
  by_name *v = ws_xcalloc(site->npeople, sizeof(*v));
  by_name **order = ws_xcalloc(site->npeople, sizeof(*order));
  for (size_t i = 0; i < site->npeople; i++) {
    /* Each name is two hops away: started ahead (see prefetch_tags). */
    if (i + 8 < site->npeople)
      __builtin_prefetch(site->people[i + 8]);
    if (i + 4 < site->npeople)
      __builtin_prefetch(site->people[i + 4]->name);
    v[i] = name_of(site->people[i]);
    order[i] = &v[i];
  }
  qsort(order, site->npeople, sizeof(*order), cmp_by_name);
  for (size_t i = 0; i < site->npeople; i++)
    site->people[i] = order[i]->p;
  free(order);
  free(v);
}

/* --- tag index --- */

typedef struct {
  char *slug;
  size_t *people, npeople, people_cap, *learners, nlearners, learners_cap;
} tag_acc;

/* A spelling already met, its tag and how often it was written: most of a
 * team's 50,000 strengths are a few dozen spellings, slugified once each,
 * and the most common spelling of a tag is found among those alone. */
typedef struct {
  const char *label; /* borrowed */
  size_t tag, count;
} seen_label;

typedef struct {
  tag_acc *items;
  size_t len, cap;
  seen_label *seen; /* open addressing on the label's hash */
  size_t seen_mask, nseen;
  const char **order; /* the spellings as first met (see ws_site) */
  size_t norder, order_cap;
} tag_set;

static seen_label *seen_put(tag_set *set, const seen_label *e) {
  size_t i = (size_t)ws_str_hash(e->label) & set->seen_mask;
  while (set->seen[i].label)
    i = (i + 1) & set->seen_mask;
  set->seen[i] = *e;
  set->nseen++;
  return &set->seen[i];
}

static void seen_grow(tag_set *set) {
  seen_label *old = set->seen;
  size_t cap = old ? (set->seen_mask + 1) * 2 : 64;
  set->seen = ws_xcalloc(cap, sizeof(seen_label));
  set->seen_mask = cap - 1;
  set->nseen = 0;
  for (size_t i = 0; old && i < cap / 2; i++)
    if (old[i].label)
      seen_put(set, &old[i]);
  free(old);
}

static size_t tag_of_slug(tag_set *set, char *slug) {
  for (size_t i = 0; i < set->len; i++)
    if (strcmp(set->items[i].slug, slug) == 0) {
      free(slug);
      return i;
    }
  if (set->len == set->cap) {
    set->cap = set->cap ? set->cap * 2 : 32;
    set->items = ws_xreallocarray(set->items, set->cap, sizeof(tag_acc));
  }
  tag_acc *t = &set->items[set->len];
  memset(t, 0, sizeof(*t));
  t->slug = slug;
  return set->len++;
}

/* The spelling 'label' as met in the set, counted once more. */
static seen_label *spelling(tag_set *set, const char *label) {
  if ((set->nseen + 1) * 2 > set->seen_mask + 1)
    seen_grow(set);
  size_t h = (size_t)ws_str_hash(label) & set->seen_mask;
  for (size_t i = h; set->seen[i].label; i = (i + 1) & set->seen_mask)
    if (strcmp(set->seen[i].label, label) == 0) {
      set->seen[i].count++;
      return &set->seen[i];
    }
  if (set->norder == set->order_cap) {
    set->order_cap = set->order_cap ? set->order_cap * 2 : 32;
    set->order = ws_xreallocarray(set->order, set->order_cap, sizeof(char *));
  }
  set->order[set->norder++] = label;
  seen_label e = {label, tag_of_slug(set, ws_slugify(label)), 1};
  return seen_put(set, &e);
}

static void push_index(size_t **arr, size_t *n, size_t *cap, size_t v) {
  if (*n && (*arr)[*n - 1] == v)
    return; /* the same person listing a tag twice counts once */
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 8;
    *arr = ws_xreallocarray(*arr, *cap, sizeof(size_t));
  }
  (*arr)[(*n)++] = v;
}

static void tag_add(tag_set *set, const char *label, size_t person,
                    bool learner) {
  size_t tag = spelling(set, label)->tag; /* may move set->items */
  tag_acc *t = &set->items[tag];
  if (learner)
    push_index(&t->learners, &t->nlearners, &t->learners_cap, person);
  else
    push_index(&t->people, &t->npeople, &t->people_cap, person);
}

static int cmp_tag_count(const void *a, const void *b) {
  const ws_tag *x = a, *y = b;
  if (x->npeople != y->npeople)
    return x->npeople > y->npeople ? -1 : 1;
  return strcmp(x->slug, y->slug);
}

static int cmp_tag_slug(const void *a, const void *b) {
  return strcmp(((const ws_tag *)a)->slug, ((const ws_tag *)b)->slug);
}

/* Each tag's label is its most common spelling; ties go to the smallest
 * byte-wise, so the choice never depends on file order. */
static void tags_finish(ws_tag **out, size_t *n, tag_set *set, bool by_count) {
  const seen_label **best =
      ws_xcalloc(set->len ? set->len : 1, sizeof(seen_label *));
  for (size_t i = 0; i <= set->seen_mask && set->seen; i++) {
    const seen_label *e = &set->seen[i], **b = &best[e->tag];
    if (e->label &&
        (!*b || e->count > (*b)->count ||
         (e->count == (*b)->count && strcmp(e->label, (*b)->label) < 0)))
      *b = e;
  }
  *out = ws_xcalloc(set->len ? set->len : 1, sizeof(ws_tag));
  *n = 0;
  for (size_t i = 0; i < set->len; i++) {
    tag_acc *t = &set->items[i];
    ws_tag *tag = &(*out)[(*n)++];
    tag->slug = t->slug;
    tag->label = ws_xstrdup(best[i]->label);
    tag->people = t->people;
    tag->npeople = t->npeople;
    tag->learners = t->learners;
    tag->nlearners = t->nlearners;
  }
  free(best);
  free(set->items);
  free(set->seen);
  qsort(*out, *n, sizeof(ws_tag), by_count ? cmp_tag_count : cmp_tag_slug);
}

/* Starts loading what build_indexes reads of the people ahead of person
 * 'i': each is three hops away (the profile, its lists, their texts in the
 * cache file) and the loop does little at each; waiting on every hop in
 * turn took 6.2 ms of a rebuild at 10,000 profiles on ext4, 3.0 ms this
 * way. */
static void prefetch_tags(const ws_site *site, size_t i) {
  if (i + 8 < site->npeople)
    __builtin_prefetch(site->people[i + 8]);
  if (i + 4 < site->npeople) {
    const ws_profile *q = site->people[i + 4];
    __builtin_prefetch(q->strengths.items);
    __builtin_prefetch(q->learning.items);
    __builtin_prefetch(q->team);
  }
  if (i + 2 < site->npeople) {
    const ws_profile *q = site->people[i + 2];
    for (size_t k = 0; k < q->strengths.len; k++)
      __builtin_prefetch(q->strengths.items[k]);
    for (size_t k = 0; k < q->learning.len; k++)
      __builtin_prefetch(q->learning.items[k]);
  }
}

static void build_indexes(ws_site *site) {
  tag_set strengths = {0}, teams = {0};
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_profile *p = site->people[i];
    prefetch_tags(site, i);
    for (size_t k = 0; k < p->strengths.len; k++)
      tag_add(&strengths, p->strengths.items[k], i, false);
    for (size_t k = 0; k < p->learning.len; k++)
      tag_add(&strengths, p->learning.items[k], i, true);
    if (p->team)
      tag_add(&teams, p->team, i, false);
  }
  tags_finish(&site->strengths, &site->nstrengths, &strengths, true);
  tags_finish(&site->teams, &site->nteams, &teams, false);
  site->spellings = strengths.order;
  site->nspellings = strengths.norder;
  free(teams.order);
}

/* --- loading --- */

/* A profile's name and where it is written, for the duplicate check:
 * borrowed from a loaded profile, owned for one that failed to load. */
typedef struct {
  const char *name, *path;
  unsigned line, col;
  bool owned;
} name_at;

typedef struct {
  ws_source_list *files;
  name_at *names; /* of every profile read, valid or not */
  size_t nnames, capnames;
} lookup;

static void note_name(lookup *lk, const char *name, const char *path,
                      unsigned line, unsigned col, bool copy) {
  if (lk->nnames == lk->capnames) {
    lk->capnames = lk->capnames ? lk->capnames * 2 : 64;
    lk->names = ws_xreallocarray(lk->names, lk->capnames, sizeof(name_at));
  }
  name_at *n = &lk->names[lk->nnames++];
  n->name = copy ? ws_xstrdup(name) : name;
  n->path = copy ? ws_xstrdup(path) : path;
  n->line = line;
  n->col = col;
  n->owned = copy;
}

/* A profile with errors is not loaded, but its name still counts: a
 * duplicate must not hide until the other problem is fixed. */
static void note_invalid_name(lookup *lk, const char *path, const char *text,
                              size_t len) {
  ws_diag scratch = WS_DIAG_INIT;
  ws_frontmatter fm = WS_FRONTMATTER_INIT;
  if (len <= WS_PROFILE_MAX_BYTES &&
      ws_frontmatter_parse(&fm, path, text, len, &scratch) == 0) {
    const ws_value *v = ws_value_get(fm.data, "name");
    const char *name = ws_value_cstr(v);
    if (name && name[strspn(name, " \t\r\n")])
      note_name(lk, name, path, v->line, v->col, true);
  }
  ws_frontmatter_release(&fm);
  ws_diag_release(&scratch);
}

/* The listed regular file 'rel', or NULL. */
static const ws_source_entry *find_file(const lookup *lk, const char *rel) {
  const ws_source_entry *e = ws_source_list_find(lk->files, rel);
  return e && e->kind == WS_ENTRY_FILE ? e : NULL;
}

static bool file_exists(const char *rel, void *payload) {
  return find_file(payload, rel) != NULL;
}

static char *repo_path(const ws_source *src, const char *rel) {
  ws_str s = WS_STR_INIT;
  const char *content = ws_source_content(src);
  if (content && *content)
    ws_str_printf(&s, "%s/", content);
  ws_str_puts(&s, rel);
  return ws_str_detach(&s);
}

static int load_config(ws_site *site, ws_source *src, ws_diag *diag) {
  ws_str text = WS_STR_INIT;
  int error = ws_source_read(&text, src, "site.yml");
  char *path = repo_path(src, "site.yml");
  if (error == WS_ENOTFOUND) {
    site->config = ws_value_map();
    error = 0;
  } else if (error == 0) {
    if (ws_yaml_load(&site->config, path, text.ptr, text.len, 1, diag) < 0)
      site->config = ws_value_map();
    else if (site->config->type != WS_VALUE_MAP) {
      ws_diag_add(diag, WS_DIAG_ERROR, path, 1, 1, "config",
                  "site.yml must be a map of settings");
      ws_value_free(site->config);
      site->config = ws_value_map();
    }
  }
  free(path);
  ws_str_release(&text);
  return error;
}

static bool is_image(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot &&
         (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
          strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".webp") == 0);
}

/* Room for 'n' people is made before the first is added (load_profiles):
 * growing by one, 10,000 times, was a reallocation each. */
static void add_person(ws_site *site, ws_profile *p) {
  site->people[site->npeople++] = p;
}

/* The extension of a photo can lie; its first bytes cannot. SVG is never
 * accepted because it can carry script. '*same' turns false when the photo
 * read is not the one listed (changed in the work tree meanwhile). */
static int check_photo(ws_profile *p, ws_source *src, const lookup *lk,
                       bool *same, ws_diag *diag) {
  ws_str data = WS_STR_INIT;
  int error = ws_source_read(&data, src, p->photo);
  if (error < 0) {
    ws_str_release(&data);
    return error;
  }
  *same = *same && ws_source_entry_same(src, find_file(lk, p->photo), data.ptr,
                                        data.len);
  ws_image_info info =
      ws_image_probe((const unsigned char *)data.ptr, data.len);
  unsigned line = p->photo_line, col = p->photo_col;
  if (data.len > WS_IMAGE_MAX_BYTES)
    ws_diag_add(diag, WS_DIAG_ERROR, p->path, line, col, "photo-size",
                "photo is %zu bytes; the limit is %d", data.len,
                WS_IMAGE_MAX_BYTES);
  else if (info.type == WS_IMAGE_UNKNOWN)
    ws_diag_add(diag, WS_DIAG_ERROR, p->path, line, col, "photo-type",
                "photo '%s' is not a JPEG, PNG or WebP image (checked by its "
                "content, not its name)",
                p->photo + strlen("people/"));
  p->photo_type = info.type;
  p->photo_w = info.width;
  p->photo_h = info.height;
  ws_str_release(&data);
  return 0;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Also amara.MD and amara.markdown: a profile with an odd extension must
 * get an error, not be skipped as an unused file. */
static bool is_profile_name(const char *name) {
  size_t n = strlen(name);
  return (n > 3 && strcasecmp(name + n - 3, ".md") == 0) ||
         (n > 9 && strcasecmp(name + n - 9, ".markdown") == 0);
}

/* Turns a file stem into the slug it was probably meant to be ("Amara
 * Okafor" -> "amara-okafor"); NULL when there is no good guess. */
static char *guess_slug(const char *stem) {
  ws_str out = WS_STR_INIT;
  for (const char *q = stem; *q; q++) {
    unsigned char ch = (unsigned char)*q;
    if (ch >= 0x80) {
      ws_str_release(&out);
      return NULL; /* "José" -> "jos" would be a worse name */
    }
    if (isalnum(ch))
      ws_str_putc(&out, (char)tolower(ch));
    else if (out.len && out.ptr[out.len - 1] != '-')
      ws_str_putc(&out, '-');
  }
  while (out.len && out.ptr[out.len - 1] == '-')
    ws_str_truncate(&out, out.len - 1);
  if (!ws_slug_valid(out.ptr)) {
    ws_str_release(&out);
    return NULL;
  }
  return ws_str_detach(&out);
}

/* The file name is the page address, so a bad one is an error that says
 * what to rename it to, or which profile it collides with after
 * lowercasing (People/Amara.md next to people/amara.md is one page). */
static void bad_file_name(const ws_source *src, lookup *lk, const char *path,
                          const char *stem, ws_diag *diag) {
  char *guess = guess_slug(stem);
  ws_str want = WS_STR_INIT, msg = WS_STR_INIT;
  const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  ws_str_printf(&msg,
                "file name '%s' must be lowercase letters, digits and "
                "'-', then '.md' (it becomes the page address)",
                file);
  if (guess) {
    ws_str_printf(&want, "people/%s.md", guess);
    char *full = repo_path(src, want.ptr);
    if (strcmp(want.ptr + 7, file) != 0 && file_exists(want.ptr, lk))
      ws_str_printf(&msg,
                    "; %s already exists, so this is a second profile "
                    "for the same page: merge the two and delete %s",
                    full, path);
    else
      ws_str_printf(&msg, "; rename it: git mv '%s' %s", path, full);
    free(full);
  }
  ws_diag_add(diag, WS_DIAG_ERROR, path, 0, 0, "slug", "%s", msg.ptr);
  ws_str_release(&msg);
  ws_str_release(&want);
  free(guess);
}

/* A profile file: people/<slug>.md directly under people/. */
/* What reading one profile gave, made on a worker thread and merged in
 * file order afterwards, so diagnostics and names never depend on the
 * schedule. */
typedef struct {
  const ws_source_entry *e;
  char *path, *slug;
  ws_profile *p;
  ws_str text; /* kept only when the profile failed, for its name */
  ws_diag diag;
} loaded;

typedef struct {
  ws_source *src;
  lookup *lk;
  loaded *items;
  ws_profcache *cache;
} load_job;

/* A profile is kept in the cache only under the blob ids of the very bytes
 * it was made from. */
static int load_one(void *payload, size_t i) {
  load_job *job = payload;
  loaded *l = &job->items[i];
  const char *file = l->e->path + strlen("people/");
  l->path = repo_path(job->src, l->e->path);
  l->slug = ws_xstrndup(file, strlen(file) - 3);
  if (ws_profcache_get(job->cache, i, l->e, l->path, l->slug, &l->p, &l->diag))
    return 0;
  int error = ws_source_read_entry(&l->text, job->src, l->e);
  if (error == 0 &&
      ws_profile_load(&l->p, l->path, l->slug, l->text.ptr, l->text.len,
                      file_exists, job->lk, &l->diag) == 0) {
    bool same = ws_source_entry_same(job->src, l->e, l->text.ptr, l->text.len);
    if (l->p->photo)
      error = check_photo(l->p, job->src, job->lk, &same, &l->diag);
    if (error == 0 && same)
      ws_profcache_put(job->cache, i, l->e, l->p, &l->diag);
    ws_str_release(&l->text);
  }
  return error;
}

/* The body does not depend on the photos: a profile read again for it
 * needs no listing. */
static bool any_photo(const char *rel, void *payload) {
  (void)rel;
  (void)payload;
  return true;
}

char *ws_site_body_again(ws_source *src, const ws_profile *p) {
  ws_str rel = WS_STR_INIT, text = WS_STR_INIT;
  ws_profile *again = NULL;
  ws_diag diag = WS_DIAG_INIT;
  char *body = NULL;
  /* Pages call this while an arena of theirs is in use; the profile parsed
   * here is freed value by value, as the heap's. */
  ws_value_arena *arena = ws_value_arena_use(NULL);
  ws_str_printf(&rel, "people/%s.md", p->slug);
  if (ws_source_read(&text, src, rel.ptr) == 0 &&
      ws_profile_load(&again, p->path, p->slug, text.ptr, text.len, any_photo,
                      NULL, &diag) == 0) {
    body = again->body_html;
    again->body_html = NULL;
  }
  ws_profile_free(again);
  ws_value_arena_use(arena);
  ws_diag_release(&diag);
  ws_str_release(&text);
  ws_str_release(&rel);
  return body;
}

/* Checks what can be told from the entry alone; returns true when the file
 * is a profile to read. */
static bool profile_entry(ws_source *src, lookup *lk, const ws_source_entry *e,
                          ws_diag *diag) {
  const char *file = e->path + strlen("people/");
  size_t stem = (size_t)(strrchr(file, '.') - file);
  /* Nearly every entry is a good one: its slug is checked on the stack,
   * and the path and slug that messages name are made only for a
   * message (20,000 allocations at 10,000 profiles otherwise). */
  char quick[80];
  if (e->kind == WS_ENTRY_FILE && stem < sizeof(quick) &&
      ends_with(file, ".md")) {
    memcpy(quick, file, stem);
    quick[stem] = '\0';
    if (ws_slug_valid(quick))
      return true;
  }
  char *path = repo_path(src, e->path);
  char *slug = ws_xstrndup(file, stem);
  bool ok = false;
  if (e->kind != WS_ENTRY_FILE)
    ws_diag_add(diag, WS_DIAG_ERROR, path, 0, 0, "not-a-file",
                "%s is a %s; profiles must be regular files", e->path,
                e->kind == WS_ENTRY_SYMLINK ? "symbolic link" : "submodule");
  else if (!ws_slug_valid(slug) || !ends_with(file, ".md"))
    bad_file_name(src, lk, path, slug, diag);
  else
    ok = true;
  free(slug);
  free(path);
  return ok;
}

static int load_profiles(ws_site *site, ws_source *src, lookup *lk,
                         const ws_source_entry **wanted, size_t n,
                         unsigned jobs, ws_diag *diag) {
  load_job job = {src, lk, ws_xcalloc(n ? n : 1, sizeof(loaded)),
                  ws_profcache_open(src, lk->files, n)};
  site->people = ws_xreallocarray(site->people, site->npeople + n + 1,
                                  sizeof(ws_profile *));
  /* Each item's path and slug are made on the worker that reads it. */
  for (size_t i = 0; i < n; i++) {
    job.items[i].e = wanted[i];
    job.items[i].text = (ws_str)WS_STR_INIT;
  }
  int error = ws_pool_run(jobs, n, load_one, &job);
  if (error == 0) {
    ws_profcache_stats st = {0};
    ws_profcache_save(job.cache, &st);
    site->profiles_cached = st.hits;
    site->profile_cache = st.status;
    site->profile_cache_ignored = st.ignored;
  }
  ws_profcache_keep_map(job.cache, &site->profile_map);
  ws_profcache_free(job.cache);
  for (size_t i = 0; i < n; i++) {
    loaded *l = &job.items[i];
    ws_diag_move(diag, &l->diag);
    if (l->p) {
      note_name(lk, l->p->name, l->p->path, l->p->name_line, l->p->name_col,
                false);
      add_person(site, l->p);
    } else if (l->text.len) {
      note_invalid_name(lk, l->path, l->text.ptr, l->text.len);
    }
    ws_str_release(&l->text);
    free(l->path);
    free(l->slug);
  }
  free(job.items);
  return error;
}

static int cmp_names(const void *a, const void *b) {
  const name_at *x = a, *y = b;
  int c = strcasecmp(x->name, y->name);
  if (!c)
    c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->path, y->path);
}

/* A hash of 'name' with ASCII letters folded, as strcasecmp compares
 * (wholeself never sets a locale): names equal in any case hash alike. */
static uint64_t folded_hash(const char *name) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    unsigned c = *p >= 'A' && *p <= 'Z' ? *p + 32u : *p;
    h = (h ^ c) * 1099511628211ull;
  }
  return h;
}

/* Within 'n' names that hash alike, sorted by name (case-insensitively
 * first), the same name in any case is adjacent; each repeat points back
 * to the first one. */
static void report_repeats(name_at *group, size_t n, ws_diag *diag) {
  qsort(group, n, sizeof(name_at), cmp_names);
  size_t first = 0;
  for (size_t i = 1; i < n; i++) {
    const name_at *a = &group[first], *b = &group[i];
    if (strcasecmp(a->name, b->name) != 0) {
      first = i;
      continue;
    }
    ws_diag_add(diag, WS_DIAG_ERROR, b->path, b->line, b->col, "duplicate-name",
                "'%s' is also the name in %s; two people cannot share a "
                "name on the directory: add a middle name, initial or "
                "nickname to one of them",
                b->name, a->path);
  }
}

/* Names are grouped by a case-folded hash, and only names that hash alike
 * are compared: sorting 10,000 names with strcasecmp took 11 ms of every
 * build. The groups are found with a table rather than by sorting the
 * hashes (6M instructions); each lists its names in the order read. */
typedef struct {
  uint64_t hash;
  size_t first, last, count; /* names[first..last], linked by 'next' */
} name_group;

static void check_unique_names(lookup *lk, ws_diag *diag) {
  size_t cap = 16, n = lk->nnames;
  while (cap < n * 2)
    cap *= 2;
  name_group *table = ws_xcalloc(cap, sizeof(name_group));
  size_t *next = ws_xcalloc(n + 1, sizeof(size_t));
  uint64_t *hashes = ws_xcalloc(n + 1, sizeof(uint64_t));
  name_at *group = ws_xcalloc(n + 1, sizeof(name_at));
  for (size_t i = 0; i < n; i++) {
    if (i + 4 < n)
      __builtin_prefetch(lk->names[i + 4].name);
    uint64_t h = hashes[i] = folded_hash(lk->names[i].name);
    size_t k = (size_t)h & (cap - 1);
    while (table[k].count && table[k].hash != h)
      k = (k + 1) & (cap - 1);
    if (table[k].count++)
      next[table[k].last] = i;
    else
      table[k].hash = h, table[k].first = i;
    table[k].last = i;
  }
  /* Groups in the order of their first name: the same on every build. */
  for (size_t i = 0; i < n; i++) {
    uint64_t h = hashes[i];
    size_t k = (size_t)h & (cap - 1);
    while (table[k].hash != h)
      k = (k + 1) & (cap - 1);
    if (table[k].first != i || table[k].count < 2)
      continue;
    size_t m = 0;
    for (size_t at = i;; at = next[at]) {
      group[m++] = lk->names[at];
      if (at == table[k].last)
        break;
    }
    report_repeats(group, m, diag);
  }
  for (size_t i = 0; i < n; i++) {
    if (lk->names[i].owned) {
      free((char *)lk->names[i].name);
      free((char *)lk->names[i].path);
    }
  }
  free(lk->names);
  free(table);
  free(next);
  free(hashes);
  free(group);
}

static int load_people(ws_site *site, ws_source *src, unsigned jobs,
                       ws_diag *diag) {
  ws_source_list files = {0};
  lookup lk = {.files = &files};
  const ws_source_entry **wanted = NULL;
  size_t nwanted = 0, capwanted = 0;
  int error = ws_source_list_all(&files, src);
  for (size_t i = 0; error == 0 && i < files.len; i++) {
    const ws_source_entry *e = &files.items[i];
    if (strncasecmp(e->path, "people/", 7) == 0 &&
        strncmp(e->path, "people/", 7) != 0) {
      char *path = repo_path(src, e->path);
      size_t dir = strlen(path) - strlen(e->path) + 6;
      ws_diag_add(diag, WS_DIAG_ERROR, path, 0, 0, "folder",
                  "nothing in '%.*s/' is read: the folder must be called "
                  "'people' (lowercase): git mv '%.*s' %.*speople",
                  (int)dir, path, (int)dir, path, (int)(dir - 6), path);
      free(path);
      continue;
    }
    if (strncmp(e->path, "people/", 7) != 0)
      continue;
    const char *rest = e->path + 7;
    if (is_profile_name(rest) && !strchr(rest, '/')) {
      site->nchecked++;
      if (profile_entry(src, &lk, e, diag)) {
        if (nwanted == capwanted) {
          capwanted = capwanted ? capwanted * 2 : 64;
          wanted = ws_xreallocarray(wanted, capwanted, sizeof(*wanted));
        }
        wanted[nwanted++] = e;
      }
    } else if (!is_image(rest)) {
      char *path = repo_path(src, e->path);
      ws_diag_add(diag, WS_DIAG_WARNING, path, 0, 0, "unused-file",
                  "this file is not used: people/ holds profiles "
                  "(<slug>.md, directly in people/) and their photos "
                  "(.jpg, .jpeg, .png, .webp); move or delete it");
      free(path);
    }
  }
  if (error == 0)
    error = load_profiles(site, src, &lk, wanted, nwanted, jobs, diag);
  free(wanted);
  check_unique_names(&lk, diag);
  ws_source_list_release(&files);
  return error;
}

int ws_site_load(ws_site **out, ws_source *src, ws_diag *diag) {
  int error = ws_site_load_jobs(out, src, 0, diag);
  if (error == 0)
    ws_site_match(*out, NULL, 0);
  return error;
}

void ws_site_match(ws_site *site, ws_source *src, unsigned jobs) {
  ws_matchcache_stats st;
  if (site->matches)
    return;
  if (!src) {
    site->matches = ws_match_new_jobs(site->people, site->npeople, jobs);
    return;
  }
  site->matches =
      ws_matchcache_get(src, site->people, site->npeople, jobs, &st);
  site->matches_cached = st.hit;
}

int ws_site_load_jobs(ws_site **out, ws_source *src, unsigned jobs,
                      ws_diag *diag) {
  ws_site *site = ws_xcalloc(1, sizeof(*site));
  int error;
  *out = NULL;
  site->content = repo_path(src, "");
  if ((error = load_config(site, src, diag)) < 0 ||
      (error = load_people(site, src, jobs, diag)) < 0) {
    ws_site_free(site);
    return error;
  }
  if (site->npeople > 1)
    sort_people(site);
  /* An empty site is almost always a build pointed at the wrong folder. */
  if (site->npeople == 0 && ws_diag_count(diag, WS_DIAG_ERROR) == 0) {
    char *path = repo_path(src, "people");
    ws_diag_add(diag, WS_DIAG_WARNING, path, 0, 0, "no-profiles",
                "no profiles: there is no <slug>.md file here; if the "
                "team's profiles are in a subfolder, point --content at it");
    free(path);
  }
  build_indexes(site);
  *out = site;
  return 0;
}

static void tags_free(ws_tag *tags, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(tags[i].slug);
    free(tags[i].label);
    free(tags[i].people);
    free(tags[i].learners);
  }
  free(tags);
}

static void join_freeing(ws_site *site);

void ws_site_free(ws_site *site) {
  if (!site)
    return;
  join_freeing(site);
  for (size_t i = 0; i < site->npeople; i++)
    ws_profile_free(site->people[i]);
  free(site->people);
  tags_free(site->strengths, site->nstrengths);
  free(site->spellings);
  tags_free(site->teams, site->nteams);
  ws_value_free(site->config);
  free(site->events);
  ws_value_arena_free(site->event_text);
  free(site->content);
  ws_match_free(site->matches);
  ws_bin_unmap(&site->profile_map); /* after the profiles that point in */
  free(site);
}

size_t ws_site_find(const ws_site *site, const char *slug) {
  for (size_t i = 0; i < site->npeople; i++)
    if (strcmp(site->people[i]->slug, slug) == 0)
      return i;
  return (size_t)-1;
}

const ws_tag *ws_site_tag(const ws_tag *tags, size_t n, const char *label) {
  char *slug = ws_slugify(label);
  const ws_tag *found = NULL;
  for (size_t i = 0; i < n && !found; i++)
    if (strcmp(tags[i].slug, slug) == 0)
      found = &tags[i];
  free(slug);
  return found;
}

const char *ws_site_config(const ws_site *site, const char *key,
                           const char *fallback) {
  const char *s = ws_value_cstr(ws_value_get(site->config, key));
  return s ? s : fallback;
}

/* --- history --- */

/* Slug -> place in site->people, open addressing on the slug's hash: the
 * history's files and events (50,000 at 10,000 profiles) are looked up in
 * it, on several threads at once (it is only read then). */
typedef struct {
  const char **slugs; /* NULL: empty */
  size_t *people;
  size_t mask;
} slug_table;

#define NOBODY SIZE_MAX

static void slug_table_init(slug_table *t, const ws_site *site) {
  size_t cap = 16;
  while (cap < site->npeople * 2)
    cap *= 2;
  t->slugs = ws_xcalloc(cap, sizeof(char *));
  t->people = ws_xcalloc(cap, sizeof(size_t));
  t->mask = cap - 1;
  for (size_t i = 0; i < site->npeople; i++) {
    size_t k = (size_t)ws_str_hash(site->people[i]->slug) & t->mask;
    while (t->slugs[k])
      k = (k + 1) & t->mask;
    t->slugs[k] = site->people[i]->slug;
    t->people[k] = i;
  }
}

static size_t slug_table_find(const slug_table *t, const char *slug) {
  size_t k = (size_t)ws_str_hash(slug) & t->mask;
  for (; t->slugs[k]; k = (k + 1) & t->mask)
    if (strcmp(t->slugs[k], slug) == 0)
      return t->people[k];
  return NOBODY;
}

static void slug_table_release(slug_table *t) {
  free(t->slugs);
  free(t->people);
}

/* The name of people/<name>.md at 'path' into 'out' (at most 64 bytes),
 * whether or not it is a valid slug; false when 'path' is not a profile's
 * or the name is longer. No allocation: a history has tens of thousands
 * of changes. */
static bool name_into(const char *path, char out[65]) {
  if (!path || strncmp(path, "people/", 7) != 0)
    return false;
  const char *file = path + 7;
  size_t n = strlen(file);
  if (n < 3 || n - 3 > 64 || strchr(file, '/') || !ends_with(file, ".md"))
    return false;
  memcpy(out, file, n - 3);
  out[n - 3] = '\0';
  return true;
}

/* name_into, for a name that is a valid slug only. */
static bool slug_into(const char *path, char out[65]) {
  return name_into(path, out) && ws_slug_valid(out);
}

/* Copies 's' to '*at' and moves past it. */
static char *put_text_at(char **at, const char *s) {
  size_t n = strlen(s) + 1;
  char *out = memcpy(*at, s, n);
  *at += n;
  return out;
}

/* The history's texts and list of authors go into one allocation: eight
 * each for 10,000 people were a tenth of what applying the history cost. */
static void fill_history(ws_history *out, const ws_source_history *h,
                         const ws_source_file *f) {
  const ws_source_rev *first = &h->revs[f->first], *last = &h->revs[f->last];
  ws_history_release(out);
  out->known = true;
  out->partial = first->cut;
  out->first_time = first->time;
  out->last_time = last->time;
  memcpy(out->last_commit, last->id, sizeof(out->last_commit));
  out->revisions = f->revisions;
  size_t size = (f->nauthors + 1) * sizeof(char *) + strlen(first->author) +
                strlen(last->author) + strlen(last->subject) + 3;
  for (size_t k = 0; k < f->nauthors; k++)
    size += strlen(f->authors[k]) + 1;
  out->block = ws_xmalloc(size);
  out->authors.items = (char **)(void *)out->block;
  char *at = out->block + (f->nauthors + 1) * sizeof(char *);
  out->first_author = put_text_at(&at, first->author);
  out->last_author = put_text_at(&at, last->author);
  out->last_subject = put_text_at(&at, last->subject);
  for (size_t k = 0; k < f->nauthors; k++)
    out->authors.items[k] = put_text_at(&at, f->authors[k]);
  out->authors.len = f->nauthors;
}

static void map_people(ws_site *site, const slug_table *t,
                       const ws_source_history *h) {
  for (size_t i = 0; i < h->nfiles; i++) {
    char slug[65];
    /* Not checked as a slug: every person's is, so a name that is not
     * one is not found. */
    size_t k =
        name_into(h->files[i].path, slug) ? slug_table_find(t, slug) : NOBODY;
    if (k != NOBODY)
      fill_history(&site->people[k]->history, h, &h->files[i]);
  }
}

/* A rename into or out of people/<slug>.md is an arrival or a departure.
 * The slugs go into the site's event texts. */
static bool event_of(ws_site *site, ws_event *e, const ws_source_change *c) {
  char now[65], before[65];
  const char *slug = slug_into(c->path, now) ? now : NULL;
  const char *old = slug_into(c->old_path, before) ? before : NULL;
  switch (c->kind) {
  case WS_CHANGE_ADDED:
    e->kind = WS_EVENT_ADDED;
    break;
  case WS_CHANGE_MODIFIED:
    e->kind = WS_EVENT_UPDATED;
    break;
  case WS_CHANGE_DELETED:
    e->kind = WS_EVENT_REMOVED;
    break;
  case WS_CHANGE_RENAMED:
    e->kind = !old                ? WS_EVENT_ADDED
              : !slug             ? WS_EVENT_REMOVED
              : strcmp(old, slug) ? WS_EVENT_RENAMED
                                  : WS_EVENT_UPDATED;
    break;
  }
  if (e->kind == WS_EVENT_REMOVED && c->kind == WS_CHANGE_RENAMED) {
    slug = old;
    old = NULL;
  }
  if (e->kind != WS_EVENT_RENAMED)
    old = NULL;
  e->slug = slug ? ws_value_arena_strdup(site->event_text, slug) : NULL;
  e->old_slug = old ? ws_value_arena_strdup(site->event_text, old) : NULL;
  return slug != NULL;
}

static int cmp_event(const void *a, const void *b) {
  const ws_event *x = a, *y = b;
  if (x->time != y->time)
    return x->time > y->time ? -1 : 1;
  int c = strcmp(x->commit, y->commit);
  return c ? c : strcmp(x->slug, y->slug);
}

static bool events_sorted(const ws_site *site) {
  for (size_t i = 1; i < site->nevents; i++)
    if (cmp_event(&site->events[i - 1], &site->events[i]) > 0)
      return false;
  return true;
}

/* An event's strings go into one arena: a large team's history has
 * tens of thousands of events, four strings each, freed all at once. */
static void build_events(ws_site *site, const ws_source_history *h) {
  site->events = ws_xcalloc(h->nchanges ? h->nchanges : 1, sizeof(ws_event));
  site->event_text = ws_value_arena_new();
  for (size_t i = 0; i < h->nchanges; i++) {
    const ws_source_change *c = &h->changes[i];
    const ws_source_rev *r = &h->revs[c->rev];
    ws_event *e = &site->events[site->nevents];
    memset(e, 0, sizeof(*e));
    if (!event_of(site, e, c))
      continue;
    e->time = r->time;
    e->author = ws_value_arena_strdup(site->event_text, r->author);
    e->subject = ws_value_arena_strdup(site->event_text, r->subject);
    memcpy(e->commit, r->id, sizeof(e->commit));
    /* What the event shows follows from the change and its commit. */
    e->digest = c->digest;
    site->nevents++;
  }
  /* The walk lists changes newest first, so the events are usually in
   * order already: checking costs far less than sorting 50,000. */
  if (site->nevents > 1 && !events_sorted(site))
    qsort(site->events, site->nevents, sizeof(ws_event), cmp_event);
}

typedef struct {
  ws_site *site;
  slug_table slugs;
  const ws_source_history *h;
} apply_job;

/* The people's histories and the site's events come from the same walk
 * but touch nothing in common: one thread each. The slug table is made on
 * the people's, the lighter of the two. */
static int apply_step(void *payload, size_t i) {
  apply_job *j = payload;
  if (i == 0) {
    slug_table_init(&j->slugs, j->site);
    map_people(j->site, &j->slugs, j->h);
  } else {
    build_events(j->site, j->h);
  }
  return 0;
}

/* Who has each event's slug now, for events [i * EVENT_CHUNK, ...): one
 * lookup each, on every core, once the events are made (it reaches into
 * 10,000 profiles' slugs all over memory). */
#define EVENT_CHUNK 4096

static int person_step(void *payload, size_t i) {
  apply_job *j = payload;
  ws_site *site = j->site;
  size_t end = (i + 1) * EVENT_CHUNK;
  for (size_t k = i * EVENT_CHUNK; k < end && k < site->nevents; k++) {
    size_t who = slug_table_find(&j->slugs, site->events[k].slug);
    site->events[k].person = who == NOBODY ? 0 : who + 1;
  }
  return 0;
}

/* The walk's results are 200,000 small allocations at 50,000 changes: 7
 * ms to free, which a thread of its own does while the build goes on (the
 * steps that follow use one core). ws_site_free waits for it. */
struct ws_site_freeing {
  pthread_t thread;
  ws_source_history *h;
};

static void *freeing_main(void *payload) {
  struct ws_site_freeing *f = payload;
  ws_source_history_free(f->h);
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  /* The build trims the heap once the history is in the site (build.c),
   * usually before this thread is done: trim what it freed too, or the
   * pages stay with the process while rendering adds its own. Under
   * AddressSanitizer the heap is not glibc's, and glibc's trim from a
   * thread that never used it reads arenas that were never made. */
  malloc_trim(0);
#endif
  return NULL;
}

static void free_later(ws_site *site, ws_source_history *h) {
  struct ws_site_freeing *f = ws_xcalloc(1, sizeof(*f));
  f->h = h;
  if (site->freeing || pthread_create(&f->thread, NULL, freeing_main, f) != 0) {
    ws_source_history_free(h);
    free(f);
    return;
  }
  site->freeing = f;
}

static void join_freeing(ws_site *site) {
  if (!site->freeing)
    return;
  pthread_join(site->freeing->thread, NULL);
  free(site->freeing);
  site->freeing = NULL;
}

/* Puts what the walk 'h' learned into the site, on 'jobs' threads, and
 * frees 'h' (see free_later). */
static void history_apply(ws_site *site, ws_source_history *h, ws_source *src,
                          ws_diag *diag, unsigned jobs) {
  apply_job job = {site, {0}, h};
  ws_pool_run(jobs, 2, apply_step, &job);
  ws_pool_run(jobs, (site->nevents + EVENT_CHUNK - 1) / EVENT_CHUNK,
              person_step, &job);
  slug_table_release(&job.slugs);
  site->history_partial = h->partial;
  site->history_walked = h->walked;
  site->history_cache = h->cache;
  site->history_cache_ignored = h->cache_ignored;
  if (h->partial) {
    char *path = repo_path(src, "people");
    ws_diag_add(diag, WS_DIAG_WARNING, path, 0, 0, "shallow-history",
                "history is incomplete (shallow clone): 'on the team page "
                "since' dates, revisions and contributors of profiles that "
                "already existed at the oldest commit available are those of "
                "that commit, not the real ones; fetch with "
                "'git fetch --unshallow'");
    free(path);
  }
  free_later(site, h);
}

int ws_site_history(ws_site *site, ws_source *src, ws_diag *diag) {
  ws_source_history *h = NULL;
  int error = ws_source_history_load_cached(&h, src, "people");
  if (error < 0)
    return error;
  history_apply(site, h, src, diag, 1);
  return 0;
}

struct ws_history_walk {
  ws_source *src; /* the build's source */
  unsigned jobs;  /* threads for putting the history into the site */
  ws_source *own; /* the walk thread's handle on it; NULL: no thread */
  ws_source_history *h;
  pthread_t thread;
  int error;
  char message[1024]; /* the walk thread's error message */
};

static void *walk_main(void *arg) {
  ws_history_walk *w = arg;
  w->error = ws_source_history_load_cached(&w->h, w->own, "people");
  if (w->error < 0)
    snprintf(w->message, sizeof(w->message), "%s", ws_error_last());
  return NULL;
}

ws_history_walk *ws_site_history_start(ws_source *src, unsigned jobs) {
  ws_history_walk *w = ws_xcalloc(1, sizeof(*w));
  w->src = src;
  w->jobs = jobs;
  /* The walk gets libgit2 objects of its own: sharing the build's would
   * hold the source's lock, which loading the profiles needs, all along. */
  if (ws_source_reopen(&w->own, src) < 0) {
    ws_error_clear();
    return w;
  }
  if (pthread_create(&w->thread, NULL, walk_main, w) != 0) {
    ws_source_free(w->own);
    w->own = NULL;
  }
  return w;
}

int ws_site_history_finish(ws_site *site, ws_history_walk *w, ws_diag *diag) {
  int error = 0;
  if (w->own) {
    pthread_join(w->thread, NULL);
    if ((error = w->error) < 0 && site)
      ws_error(error, "%s", w->message);
  } else if (site) {
    error = ws_source_history_load_cached(&w->h, w->src, "people");
  }
  if (error == 0 && site)
    history_apply(site, w->h, w->src, diag, w->jobs);
  else
    ws_source_history_free(w->h);
  ws_source_free(w->own);
  free(w);
  return error;
}
