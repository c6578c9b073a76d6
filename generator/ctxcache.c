#include "ctxcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binio.h"
#include "str.h"
#include "xalloc.h"

/* --- the file ---
 *
 * <git dir>/wholeself/contexts-<hash of the content folder>:
 *
 *   "wholeself context cache\n", u64 version, digest program, u64 keys_at,
 *   u64 npeople, npeople x (digest inputs, u32 nentries,
 *     nentries x (u16 key, digest), u32 nviews, nviews x (u16 view, digest)),
 *   at keys_at: u32 nkeys, nkeys x text, u32 nviews, nviews x digest,
 *   digest of everything before it.
 *
 * A text is a u32 length, the bytes and a NUL; a key is an index into the
 * texts, a view an index into the key sets' ids (ws_digest_keys_id), which
 * come last so that the file is written in one pass. Numbers are
 * little-endian; a digest is u64 hi, u64 lo, the checksum that of
 * ws_digester_bytes over the bytes before it. */

#define MAGIC "wholeself context cache\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)
#define VERSION 2
#define DIGEST 16
#define HEADER (MAGIC_LEN + 8 + DIGEST + 8)
#define MIN_PERSON (DIGEST + 4 + 4)
#define ITEM (2 + DIGEST) /* an entry or a view */
#define MAX_NAMES 65535   /* keys, or views */

typedef struct {
  ws_digest inputs;
  size_t entries, views; /* where they start in the file */
  size_t nentries, nviews;
} person;

struct ws_ctxcache {
  ws_digest program;
  ws_str dir, file;
  ws_bin_map data;
  char **keys; /* the key texts, copied out of the file */
  size_t nkeys;
  ws_digest *views; /* the key sets' ids */
  size_t nviews;
  person *slots; /* open addressing on inputs.lo; inputs zero: empty */
  size_t mask;
  const char *why; /* why the file is not used, or NULL */
};

static bool is_empty(const ws_digest *d) {
  return d->hi == 0 && d->lo == 0;
}

static person *slot_for(const ws_ctxcache *c, const ws_digest *inputs) {
  size_t i = (size_t)inputs->lo & c->mask;
  while (!is_empty(&c->slots[i].inputs) &&
         !ws_digest_equal(&c->slots[i].inputs, inputs))
    i = (i + 1) & c->mask;
  return &c->slots[i];
}

/* --- reading --- */

static bool read_names(ws_ctxcache *c, ws_bin_reader *r) {
  uint32_t n = ws_bin_get_u32(r);
  if (r->bad || n > MAX_NAMES || n > (r->len - r->pos) / 5)
    return false;
  c->keys = ws_xcalloc(n ? n : 1, sizeof(char *));
  for (; c->nkeys < n; c->nkeys++) {
    uint32_t len = ws_bin_get_u32(r);
    const char *s = ws_bin_get_span(r, len < UINT32_MAX ? len + 1 : SIZE_MAX);
    if (!s || s[len] != '\0' || memchr(s, 0, len))
      return false;
    c->keys[c->nkeys] = ws_xstrndup(s, len);
  }
  n = ws_bin_get_u32(r);
  if (r->bad || n > MAX_NAMES || n > (r->len - r->pos) / DIGEST)
    return false;
  c->views = ws_xcalloc(n ? n : 1, sizeof(ws_digest));
  for (; c->nviews < n; c->nviews++)
    c->views[c->nviews] = ws_bin_get_digest(r);
  return !r->bad;
}

/* Steps over 'count' items whose u16 names must be below 'names'. */
static bool skip_items(ws_bin_reader *r, size_t count, size_t names) {
  if (r->bad || count > (r->len - r->pos) / ITEM)
    return false;
  for (size_t k = 0; k < count; k++) {
    const unsigned char *p = (const unsigned char *)r->p + r->pos + k * ITEM;
    if ((size_t)(p[0] | p[1] << 8) >= names)
      return false;
  }
  r->pos += count * ITEM;
  return true;
}

static bool read_people(ws_ctxcache *c, ws_bin_reader *r) {
  uint64_t n = ws_bin_get_u64(r);
  if (r->bad || n > (r->len - r->pos) / MIN_PERSON)
    return false;
  size_t cap = 16;
  while (cap < n * 2)
    cap *= 2;
  c->slots = ws_xcalloc(cap, sizeof(person));
  c->mask = cap - 1;
  for (uint64_t k = 0; k < n; k++) {
    person p = {.inputs = ws_bin_get_digest(r)};
    p.nentries = ws_bin_get_u32(r);
    p.entries = r->pos;
    if (!skip_items(r, p.nentries, c->nkeys))
      return false;
    p.nviews = ws_bin_get_u32(r);
    p.views = r->pos;
    if (!skip_items(r, p.nviews, c->nviews) || is_empty(&p.inputs))
      return false;
    *slot_for(c, &p.inputs) = p;
  }
  return true;
}

static const char *decode(ws_ctxcache *c) {
  const ws_bin_map *m = &c->data;
  if (m->len < HEADER + 8 + 8 + DIGEST || memcmp(m->ptr, MAGIC, MAGIC_LEN) != 0)
    return "not a context cache";
  size_t end = m->len - DIGEST;
  ws_bin_reader r = {m->ptr, end, MAGIC_LEN, false};
  ws_bin_reader tail = {m->ptr, m->len, end, false};
  ws_digest sum = ws_digest_bytes(m->ptr, end);
  ws_digest want = ws_bin_get_digest(&tail);
  if (ws_bin_get_u64(&r) != VERSION)
    return "written by another version";
  ws_digest program = ws_bin_get_digest(&r);
  if (!ws_digest_equal(&program, &c->program))
    return "written by another build of wholeself";
  if (!ws_digest_equal(&sum, &want))
    return "corrupt";
  uint64_t names_at = ws_bin_get_u64(&r);
  if (names_at < HEADER || names_at > end)
    return "malformed";
  ws_bin_reader people = {m->ptr, (size_t)names_at, HEADER, false};
  ws_bin_reader names = {m->ptr, end, (size_t)names_at, false};
  if (!read_names(c, &names) || names.pos != end || !read_people(c, &people) ||
      people.pos != people.len)
    return "malformed";
  return NULL;
}

static void drop(ws_ctxcache *c) {
  for (size_t i = 0; i < c->nkeys; i++)
    free(c->keys[i]);
  free(c->keys);
  free(c->views);
  free(c->slots);
  c->keys = NULL;
  c->nkeys = 0;
  c->views = NULL;
  c->nviews = 0;
  c->slots = NULL;
  c->mask = 0;
  ws_bin_unmap(&c->data);
}

ws_ctxcache *ws_ctxcache_open(ws_source *src, const ws_digest *program) {
  ws_ctxcache *c = ws_xcalloc(1, sizeof(*c));
  const char *content = ws_source_content(src);
  c->program = *program;
  c->dir = (ws_str)WS_STR_INIT;
  c->file = (ws_str)WS_STR_INIT;
  ws_str_printf(&c->dir, "%swholeself", ws_source_git_dir(src));
  ws_digest folder = ws_digest_bytes(content, strlen(content));
  ws_str_printf(&c->file, "%s/contexts-%016llx", c->dir.ptr,
                (unsigned long long)folder.hi);
  c->why = ws_bin_map_file(&c->data, c->file.ptr);
  if (!c->why)
    c->why = decode(c);
  if (c->why)
    drop(c);
  return c;
}

/* Item 'k' of those at 'at': its name's number and its digest. */
static unsigned get_item(const ws_ctxcache *c, size_t at, size_t k,
                         ws_digest *d) {
  ws_bin_reader r = {c->data.ptr, c->data.len, at + k * ITEM, false};
  unsigned name = ws_bin_get_u8(&r);
  name |= ws_bin_get_u8(&r) << 8;
  *d = ws_bin_get_digest(&r);
  return name;
}

/* The context made from 'inputs' if it is kept and fits. */
static const person *find(const ws_ctxcache *c, const ws_digest *inputs) {
  if (!c->slots || is_empty(inputs))
    return NULL;
  const person *s = slot_for(c, inputs);
  return is_empty(&s->inputs) || s->nentries > WS_CTX_ENTRIES ||
                 s->nviews > WS_CTX_VIEWS
             ? NULL
             : s;
}

bool ws_ctxcache_has(const ws_ctxcache *c, const ws_digest *inputs) {
  return find(c, inputs) != NULL;
}

bool ws_ctxcache_find(const ws_ctxcache *c, const ws_digest *inputs,
                      ws_ctx_digests *out) {
  const person *s = find(c, inputs);
  if (!s)
    return false;
  for (size_t k = 0; k < s->nentries; k++)
    out->entries[k].key =
        c->keys[get_item(c, s->entries, k, &out->entries[k].digest)];
  for (size_t k = 0; k < s->nviews; k++)
    out->views[k].keys =
        c->views[get_item(c, s->views, k, &out->views[k].digest)];
  out->nentries = s->nentries;
  out->nviews = s->nviews;
  return true;
}

/* --- writing --- */

/* The names of the file (key texts, or key sets' ids, told apart by
 * 'texts'), each once, found by their hash. Most keys come from a few
 * places in memory (the keys of the file read, which every recorded
 * context shares), so the number last found for each of 64 addresses is
 * tried first. */
#define RECENT 64

typedef struct {
  bool texts;
  const char **text;
  ws_digest *id;
  size_t n;
  uint16_t *index; /* open addressing: 1 + name number; 0 empty */
  size_t mask;
  const char *recent[RECENT];
  uint16_t recent_number[RECENT];
} names;

static void names_init(names *t, bool texts) {
  /* Twice as many places as there can be names, a power of two. */
  size_t cap = (size_t)1 << 17;
  *t = (names){.texts = texts,
               .index = ws_xcalloc(cap, sizeof(uint16_t)),
               .mask = cap - 1};
  if (texts)
    t->text = ws_xcalloc(MAX_NAMES, sizeof(char *));
  else
    t->id = ws_xcalloc(MAX_NAMES, sizeof(ws_digest));
}

static void names_release(names *t) {
  free(t->text);
  free(t->id);
  free(t->index);
}

static bool same_name(const names *t, size_t k, const char *text,
                      const ws_digest *id) {
  return t->texts ? strcmp(t->text[k], text) == 0
                  : ws_digest_equal(&t->id[k], id);
}

/* The number of a key text ('text') or of a key set ('id'). */
static bool find_name(names *t, const char *text, const ws_digest *id,
                      uint16_t *out) {
  size_t i = (t->texts ? (size_t)ws_str_hash(text) : (size_t)id->lo) & t->mask;
  while (t->index[i]) {
    if (same_name(t, t->index[i] - 1u, text, id)) {
      *out = (uint16_t)(t->index[i] - 1);
      return true;
    }
    i = (i + 1) & t->mask;
  }
  if (t->n >= MAX_NAMES)
    return false;
  if (t->texts)
    t->text[t->n] = text;
  else
    t->id[t->n] = *id;
  t->index[i] = (uint16_t)(t->n + 1);
  *out = (uint16_t)t->n++;
  return true;
}

static bool key_number(names *t, const char *key, uint16_t *out) {
  size_t r = (size_t)((uintptr_t)key >> 3) % RECENT;
  if (t->recent[r] == key) {
    *out = t->recent_number[r];
    return true;
  }
  if (!find_name(t, key, NULL, out))
    return false;
  t->recent[r] = key;
  t->recent_number[r] = *out;
  return true;
}

/* Writes 'v' as 'n' bytes, little-endian, at 'p'. */
static void put_le(char *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (char)(unsigned char)(v >> (8 * i));
}

/* 'n' more bytes at the end of 'b', to be written by the caller. */
static char *room(ws_str *b, size_t n) {
  ws_str_grow(b, n);
  char *p = b->ptr + b->len;
  b->len += n;
  b->ptr[b->len] = '\0';
  return p;
}

static void put_item(char *p, uint16_t name, const ws_digest *d) {
  put_le(p, name, 2);
  put_le(p + 2, d->hi, 8);
  put_le(p + 10, d->lo, 8);
}

/* One person: inputs, entries, views. */
static bool put_person(ws_str *b, names *keys, names *views,
                       const ws_digest *inputs, const ws_ctx_digests *d) {
  char *p = room(b, DIGEST + 4 + d->nentries * ITEM + 4 + d->nviews * ITEM);
  put_le(p, inputs->hi, 8);
  put_le(p + 8, inputs->lo, 8);
  put_le(p + DIGEST, d->nentries, 4);
  p += DIGEST + 4;
  for (size_t k = 0; k < d->nentries; k++, p += ITEM) {
    uint16_t key = 0;
    if (!key_number(keys, d->entries[k].key, &key))
      return false;
    put_item(p, key, &d->entries[k].digest);
  }
  put_le(p, d->nviews, 4);
  p += 4;
  for (size_t k = 0; k < d->nviews; k++, p += ITEM) {
    uint16_t view = 0;
    if (!find_name(views, NULL, &d->views[k].keys, &view))
      return false;
    put_item(p, view, &d->views[k].digest);
  }
  return true;
}

/* The people part of the file: every context that 'get' gives, and their
 * count in front. */
static bool put_people(ws_str *b, names *keys, names *views, size_t n,
                       const ws_digest *inputs, ws_ctxcache_get get,
                       void *payload) {
  ws_ctx_digests *d = ws_xcalloc(1, sizeof(*d));
  size_t count_at = b->len, kept = 0;
  bool ok = true;
  room(b, 8);
  for (size_t i = 0; i < n && ok; i++) {
    if (is_empty(&inputs[i]) || !get(payload, i, d))
      continue;
    ok = put_person(b, keys, views, &inputs[i], d);
    kept++;
  }
  put_le(b->ptr + count_at, kept, 8);
  free(d);
  return ok;
}

void ws_ctxcache_save(ws_ctxcache *c, size_t n, const ws_digest *inputs,
                      ws_ctxcache_get get, void *payload) {
  names keys, views;
  names_init(&keys, true);
  names_init(&views, false);
  ws_str data = WS_STR_INIT;
  ws_str_grow(&data, HEADER + 8 + n * (DIGEST + 8 + 48 * ITEM) + 4096);
  ws_str_put(&data, MAGIC, MAGIC_LEN);
  ws_bin_put_u64(&data, VERSION);
  ws_bin_put_digest(&data, &c->program);
  room(&data, 8); /* where the names start */
  if (put_people(&data, &keys, &views, n, inputs, get, payload)) {
    put_le(data.ptr + HEADER - 8, data.len, 8);
    ws_bin_put_u32(&data, (uint32_t)keys.n);
    for (size_t k = 0; k < keys.n; k++) {
      size_t len = strlen(keys.text[k]);
      ws_bin_put_u32(&data, (uint32_t)len);
      ws_str_put(&data, keys.text[k], len + 1);
    }
    ws_bin_put_u32(&data, (uint32_t)views.n);
    for (size_t k = 0; k < views.n; k++)
      ws_bin_put_digest(&data, &views.id[k]);
    ws_digest sum = ws_digest_bytes(data.ptr, data.len);
    ws_bin_put_digest(&data, &sum);
    ws_bin_write_file(c->dir.ptr, c->file.ptr, data.ptr, data.len);
  }
  ws_str_release(&data);
  names_release(&keys);
  names_release(&views);
}

const char *ws_ctxcache_ignored(const ws_ctxcache *c) {
  return c->why;
}

void ws_ctxcache_free(ws_ctxcache *c) {
  if (!c)
    return;
  drop(c);
  ws_str_release(&c->dir);
  ws_str_release(&c->file);
  free(c);
}
