#include "site.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "frontmatter.h"
#include "image.h"
#include "str.h"
#include "xalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Lowercases one UTF-8 character at 's' into 'out'; returns its length.
 * Covers Latin-1, Greek and Cyrillic capitals: enough for tags to merge
 * "Ärger" and "ärger" without a Unicode library. */
static size_t fold_char(ws_str *out, const unsigned char *s)
{
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

char *ws_slugify(const char *label)
{
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

static int cmp_people(const void *a, const void *b)
{
  const ws_profile *x = *(ws_profile *const *)a, *y = *(ws_profile *const *)b;
  int c = strcasecmp(x->name, y->name);
  if (!c)
    c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->slug, y->slug);
}

/* --- tag index --- */

typedef struct {
  char *slug;
  char **spellings; /* every spelling seen, for the most common one */
  size_t nspell;
  size_t *people, npeople, *learners, nlearners;
} tag_acc;

typedef struct {
  tag_acc *items;
  size_t len, cap;
} tag_set;

static tag_acc *tag_get(tag_set *set, const char *label)
{
  char *slug = ws_slugify(label);
  for (size_t i = 0; i < set->len; i++)
    if (strcmp(set->items[i].slug, slug) == 0) {
      free(slug);
      return &set->items[i];
    }
  if (set->len == set->cap) {
    set->cap = set->cap ? set->cap * 2 : 32;
    set->items = ws_xreallocarray(set->items, set->cap, sizeof(tag_acc));
  }
  tag_acc *t = &set->items[set->len++];
  memset(t, 0, sizeof(*t));
  t->slug = slug;
  return t;
}

static void push_index(size_t **arr, size_t *n, size_t v)
{
  if (*n && (*arr)[*n - 1] == v)
    return; /* the same person listing a tag twice counts once */
  *arr = ws_xreallocarray(*arr, *n + 1, sizeof(size_t));
  (*arr)[(*n)++] = v;
}

static void tag_add(tag_set *set, const char *label, size_t person,
                    bool learner)
{
  tag_acc *t = tag_get(set, label);
  t->spellings = ws_xreallocarray(t->spellings, t->nspell + 1, sizeof(char *));
  t->spellings[t->nspell++] = ws_xstrdup(label);
  if (learner)
    push_index(&t->learners, &t->nlearners, person);
  else
    push_index(&t->people, &t->npeople, person);
}

static int cmp_cstr(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The most common spelling wins; ties go to the smallest byte-wise, so the
 * choice never depends on file order. */
static char *common_spelling(char **sp, size_t n)
{
  qsort(sp, n, sizeof(char *), cmp_cstr);
  size_t best = 0, best_n = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && strcmp(sp[j], sp[i]) == 0)
      j++;
    if (j - i > best_n) {
      best_n = j - i;
      best = i;
    }
    i = j;
  }
  return ws_xstrdup(sp[best]);
}

static int cmp_tag_count(const void *a, const void *b)
{
  const ws_tag *x = a, *y = b;
  if (x->npeople != y->npeople)
    return x->npeople > y->npeople ? -1 : 1;
  return strcmp(x->slug, y->slug);
}

static int cmp_tag_slug(const void *a, const void *b)
{
  return strcmp(((const ws_tag *)a)->slug, ((const ws_tag *)b)->slug);
}

static void tags_finish(ws_tag **out, size_t *n, tag_set *set, bool by_count)
{
  *out = ws_xcalloc(set->len, sizeof(ws_tag));
  *n = 0;
  for (size_t i = 0; i < set->len; i++) {
    tag_acc *t = &set->items[i];
    ws_tag *tag = &(*out)[(*n)++];
    tag->slug = t->slug;
    tag->label = common_spelling(t->spellings, t->nspell);
    tag->people = t->people;
    tag->npeople = t->npeople;
    tag->learners = t->learners;
    tag->nlearners = t->nlearners;
    for (size_t k = 0; k < t->nspell; k++)
      free(t->spellings[k]);
    free(t->spellings);
  }
  free(set->items);
  qsort(*out, *n, sizeof(ws_tag),
        by_count ? cmp_tag_count : cmp_tag_slug);
}

static void build_indexes(ws_site *site)
{
  tag_set strengths = {0}, teams = {0};
  for (size_t i = 0; i < site->npeople; i++) {
    const ws_profile *p = site->people[i];
    for (size_t k = 0; k < p->strengths.len; k++)
      tag_add(&strengths, p->strengths.items[k], i, false);
    for (size_t k = 0; k < p->learning.len; k++)
      tag_add(&strengths, p->learning.items[k], i, true);
    if (p->team)
      tag_add(&teams, p->team, i, false);
  }
  tags_finish(&site->strengths, &site->nstrengths, &strengths, true);
  tags_finish(&site->teams, &site->nteams, &teams, false);
}

/* --- loading --- */

typedef struct {
  ws_source_list *files;
} lookup;

static bool file_exists(const char *rel, void *payload)
{
  const ws_source_list *files = ((lookup *)payload)->files;
  size_t lo = 0, hi = files->len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(files->items[mid].path, rel);
    if (c == 0)
      return files->items[mid].kind == WS_ENTRY_FILE;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

static char *repo_path(const ws_source *src, const char *rel)
{
  ws_str s = WS_STR_INIT;
  const char *content = ws_source_content(src);
  if (content && *content)
    ws_str_printf(&s, "%s/", content);
  ws_str_puts(&s, rel);
  return ws_str_detach(&s);
}

static int load_config(ws_site *site, ws_source *src, ws_diag *diag)
{
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

static bool is_image(const char *name)
{
  const char *dot = strrchr(name, '.');
  return dot && (strcasecmp(dot, ".jpg") == 0 ||
                 strcasecmp(dot, ".jpeg") == 0 ||
                 strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".webp") == 0);
}

static void add_person(ws_site *site, ws_profile *p)
{
  site->people =
      ws_xreallocarray(site->people, site->npeople + 1, sizeof(ws_profile *));
  site->people[site->npeople++] = p;
}

/* The extension of a photo can lie; its first bytes cannot. SVG is never
 * accepted because it can carry script. */
static int check_photo(ws_profile *p, ws_source *src, ws_diag *diag)
{
  ws_str data = WS_STR_INIT;
  int error = ws_source_read(&data, src, p->photo);
  if (error < 0) {
    ws_str_release(&data);
    return error;
  }
  ws_image_info info =
      ws_image_probe((const unsigned char *)data.ptr, data.len);
  const ws_value *at = ws_value_get(p->data, "photo");
  unsigned line = at ? at->line : 1, col = at ? at->col : 1;
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

/* A profile file: people/<slug>.md directly under people/. */
static int load_profile(ws_site *site, ws_source *src, lookup *lk,
                        const ws_source_entry *e, ws_diag *diag)
{
  char *path = repo_path(src, e->path);
  const char *file = e->path + strlen("people/");
  size_t stem = strlen(file) - 3;
  char *slug = ws_xstrndup(file, stem);
  int error = 0;
  if (e->kind != WS_ENTRY_FILE) {
    ws_diag_add(diag, WS_DIAG_ERROR, path, 0, 0, "not-a-file",
                "%s is a %s; profiles must be regular files", e->path,
                e->kind == WS_ENTRY_SYMLINK ? "symbolic link" : "submodule");
  } else if (!ws_slug_valid(slug)) {
    ws_diag_add(diag, WS_DIAG_ERROR, path, 0, 0, "slug",
                "file name '%s' must be lowercase letters, digits and '-' "
                "(it becomes the page address)",
                file);
  } else {
    ws_str text = WS_STR_INIT;
    ws_profile *p = NULL;
    if ((error = ws_source_read(&text, src, e->path)) == 0 &&
        ws_profile_load(&p, path, slug, text.ptr, text.len, file_exists, lk,
                        diag) == 0) {
      if (p->photo)
        error = check_photo(p, src, diag);
      add_person(site, p);
    }
    ws_str_release(&text);
  }
  free(slug);
  free(path);
  return error;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void check_unique_names(ws_site *site, ws_diag *diag)
{
  for (size_t i = 1; i < site->npeople; i++) {
    const ws_profile *a = site->people[i - 1], *b = site->people[i];
    if (strcmp(a->name, b->name) == 0)
      ws_diag_add(diag, WS_DIAG_ERROR, b->path, 0, 0, "duplicate-name",
                  "'%s' is also the name in %s; add something that tells "
                  "the two apart",
                  b->name, a->path);
  }
}

static int load_people(ws_site *site, ws_source *src, ws_diag *diag)
{
  ws_source_list files = {0};
  lookup lk = {&files};
  int error = ws_source_list_all(&files, src);
  for (size_t i = 0; error == 0 && i < files.len; i++) {
    const ws_source_entry *e = &files.items[i];
    if (strncmp(e->path, "people/", 7) != 0)
      continue;
    const char *rest = e->path + 7;
    if (ends_with(rest, ".md") && !strchr(rest, '/')) {
      error = load_profile(site, src, &lk, e, diag);
    } else if (!is_image(rest)) {
      char *path = repo_path(src, e->path);
      ws_diag_add(diag, WS_DIAG_WARNING, path, 0, 0, "unused-file",
                  "not a profile (people/<slug>.md) or a photo; it is not "
                  "used");
      free(path);
    }
  }
  ws_source_list_release(&files);
  return error;
}

int ws_site_load(ws_site **out, ws_source *src, ws_diag *diag)
{
  ws_site *site = ws_xcalloc(1, sizeof(*site));
  int error;
  *out = NULL;
  site->content = repo_path(src, "");
  if ((error = load_config(site, src, diag)) < 0 ||
      (error = load_people(site, src, diag)) < 0) {
    ws_site_free(site);
    return error;
  }
  if (site->npeople > 1)
    qsort(site->people, site->npeople, sizeof(ws_profile *), cmp_people);
  check_unique_names(site, diag);
  build_indexes(site);
  *out = site;
  return 0;
}

static void tags_free(ws_tag *tags, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(tags[i].slug);
    free(tags[i].label);
    free(tags[i].people);
    free(tags[i].learners);
  }
  free(tags);
}

void ws_site_free(ws_site *site)
{
  if (!site)
    return;
  for (size_t i = 0; i < site->npeople; i++)
    ws_profile_free(site->people[i]);
  free(site->people);
  tags_free(site->strengths, site->nstrengths);
  tags_free(site->teams, site->nteams);
  ws_value_free(site->config);
  for (size_t i = 0; i < site->nevents; i++) {
    free(site->events[i].author);
    free(site->events[i].subject);
    free(site->events[i].slug);
    free(site->events[i].old_slug);
  }
  free(site->events);
  free(site->content);
  free(site);
}

size_t ws_site_find(const ws_site *site, const char *slug)
{
  for (size_t i = 0; i < site->npeople; i++)
    if (strcmp(site->people[i]->slug, slug) == 0)
      return i;
  return (size_t)-1;
}

const ws_tag *ws_site_tag(const ws_tag *tags, size_t n, const char *label)
{
  char *slug = ws_slugify(label);
  const ws_tag *found = NULL;
  for (size_t i = 0; i < n && !found; i++)
    if (strcmp(tags[i].slug, slug) == 0)
      found = &tags[i];
  free(slug);
  return found;
}

const char *ws_site_config(const ws_site *site, const char *key,
                           const char *fallback)
{
  const char *s = ws_value_cstr(ws_value_get(site->config, key));
  return s ? s : fallback;
}
