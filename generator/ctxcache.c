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
 *     nentries x (u16 key, digest)),
 *   at keys_at: u32 nkeys, nkeys x text,
 *   digest of everything before it.
 *
 * A text is a u32 length, the bytes and a NUL; a key is an index into the
 * texts, which come last so that the file is written in one pass. Numbers
 * are little-endian; a digest is u64 hi, u64 lo, the checksum that of
 * ws_digester_bytes over the bytes before it. */

#define MAGIC "wholeself context cache\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)
#define VERSION 1
#define HEADER (MAGIC_LEN + 8 + DIGEST + 8)
#define DIGEST 16
#define MIN_PERSON (DIGEST + 4)
#define ENTRY (2 + DIGEST)
#define MAX_KEYS 65535

typedef struct {
  ws_digest inputs;
  size_t at; /* where its entries start in the file */
  size_t n;
} person;

struct ws_ctxcache {
  ws_digest program;
  ws_str dir, file;
  ws_bin_map data;
  char **keys; /* the key texts, copied out of the file */
  size_t nkeys;
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

static bool read_keys(ws_ctxcache *c, ws_bin_reader *r) {
  uint32_t n = ws_bin_get_u32(r);
  if (r->bad || n > MAX_KEYS || n > (r->len - r->pos) / 5)
    return false;
  c->keys = ws_xcalloc(n ? n : 1, sizeof(char *));
  for (; c->nkeys < n; c->nkeys++) {
    uint32_t len = ws_bin_get_u32(r);
    const char *s = ws_bin_get_span(r, len < UINT32_MAX ? len + 1 : SIZE_MAX);
    if (!s || s[len] != '\0' || memchr(s, 0, len))
      return false;
    c->keys[c->nkeys] = ws_xstrndup(s, len);
  }
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
    ws_digest inputs = ws_bin_get_digest(r);
    uint32_t count = ws_bin_get_u32(r);
    size_t at = r->pos;
    if (r->bad || count > (r->len - r->pos) / ENTRY)
      return false;
    for (uint32_t e = 0; e < count; e++) {
      const char *p = r->p + at + (size_t)e * ENTRY;
      if ((size_t)((unsigned char)p[0] | (unsigned char)p[1] << 8) >= c->nkeys)
        return false;
    }
    r->pos += (size_t)count * ENTRY;
    if (is_empty(&inputs))
      return false;
    person *s = slot_for(c, &inputs);
    *s = (person){inputs, at, count};
  }
  return true;
}

static const char *decode(ws_ctxcache *c) {
  const ws_bin_map *m = &c->data;
  if (m->len < HEADER + 8 + 4 + DIGEST || memcmp(m->ptr, MAGIC, MAGIC_LEN) != 0)
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
  uint64_t keys_at = ws_bin_get_u64(&r);
  if (keys_at < HEADER || keys_at > end)
    return "malformed";
  ws_bin_reader people = {m->ptr, (size_t)keys_at, HEADER, false};
  ws_bin_reader keys = {m->ptr, end, (size_t)keys_at, false};
  if (!read_keys(c, &keys) || keys.pos != end || !read_people(c, &people) ||
      people.pos != people.len)
    return "malformed";
  return NULL;
}

static void drop(ws_ctxcache *c) {
  for (size_t i = 0; i < c->nkeys; i++)
    free(c->keys[i]);
  free(c->keys);
  free(c->slots);
  c->keys = NULL;
  c->nkeys = 0;
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

bool ws_ctxcache_find(const ws_ctxcache *c, const ws_digest *inputs,
                      ws_digest_entry *out, size_t max, size_t *n) {
  if (!c->slots || is_empty(inputs))
    return false;
  const person *s = slot_for(c, inputs);
  if (is_empty(&s->inputs) || s->n > max)
    return false;
  ws_bin_reader r = {c->data.ptr, c->data.len, s->at, false};
  for (size_t i = 0; i < s->n; i++) {
    unsigned key = ws_bin_get_u8(&r);
    key |= ws_bin_get_u8(&r) << 8;
    out[i].key = c->keys[key];
    out[i].digest = ws_bin_get_digest(&r);
  }
  *n = s->n;
  return true;
}

/* --- writing --- */

/* The key table: each distinct key once, found by its text's hash. Most
 * keys come from a few places in memory (the keys of the file read, which
 * every recorded context shares), so the last number found for each of
 * 64 addresses is tried first. */
#define RECENT 64

typedef struct {
  const char **texts;
  size_t n;
  uint16_t *index; /* open addressing: 1 + text number; 0 empty */
  size_t mask;
  const char *recent[RECENT];
  uint16_t recent_number[RECENT];
} key_table;

static bool find_key(key_table *t, const char *key, uint16_t *out);

static bool key_number(key_table *t, const char *key, uint16_t *out) {
  size_t r = (size_t)((uintptr_t)key >> 3) % RECENT;
  if (t->recent[r] == key) {
    *out = t->recent_number[r];
    return true;
  }
  if (!find_key(t, key, out))
    return false;
  t->recent[r] = key;
  t->recent_number[r] = *out;
  return true;
}

static bool find_key(key_table *t, const char *key, uint16_t *out) {
  size_t i = (size_t)ws_str_hash(key) & t->mask;
  while (t->index[i]) {
    if (strcmp(t->texts[t->index[i] - 1], key) == 0) {
      *out = (uint16_t)(t->index[i] - 1);
      return true;
    }
    i = (i + 1) & t->mask;
  }
  if (t->n >= MAX_KEYS)
    return false;
  t->texts[t->n] = key;
  t->index[i] = (uint16_t)(t->n + 1);
  *out = (uint16_t)t->n++;
  return true;
}

/* The most entries a context can have here. */
#define MAX_ENTRIES 256

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

/* The people part of the file: every context that fits, and their count
 * in front. */
static bool put_people(ws_str *b, key_table *t, size_t n,
                       const ws_digest *inputs, ws_ctxcache_entries entries,
                       void *payload) {
  ws_digest_entry e[MAX_ENTRIES];
  size_t count_at = b->len, kept = 0;
  room(b, 8);
  for (size_t i = 0; i < n; i++) {
    size_t m = entries(payload, i, e, MAX_ENTRIES);
    if (m > MAX_ENTRIES || is_empty(&inputs[i]))
      continue;
    char *p = room(b, DIGEST + 4 + m * ENTRY);
    put_le(p, inputs[i].hi, 8);
    put_le(p + 8, inputs[i].lo, 8);
    put_le(p + DIGEST, m, 4);
    p += DIGEST + 4;
    for (size_t k = 0; k < m; k++, p += ENTRY) {
      uint16_t key = 0;
      if (!key_number(t, e[k].key, &key))
        return false;
      put_le(p, key, 2);
      put_le(p + 2, e[k].digest.hi, 8);
      put_le(p + 10, e[k].digest.lo, 8);
    }
    kept++;
  }
  put_le(b->ptr + count_at, kept, 8);
  return true;
}

void ws_ctxcache_save(ws_ctxcache *c, size_t n, const ws_digest *inputs,
                      ws_ctxcache_entries entries, void *payload) {
  /* Twice as many places as keys can be, a power of two. */
  size_t cap = (size_t)1 << 17;
  key_table t = {.texts = ws_xcalloc(MAX_KEYS, sizeof(char *)),
                 .index = ws_xcalloc(cap, sizeof(uint16_t)),
                 .mask = cap - 1};
  ws_str data = WS_STR_INIT;
  ws_str_grow(&data, HEADER + 8 + n * (DIGEST + 4 + 40 * ENTRY) + 4096);
  ws_str_put(&data, MAGIC, MAGIC_LEN);
  ws_bin_put_u64(&data, VERSION);
  ws_bin_put_digest(&data, &c->program);
  room(&data, 8); /* keys_at */
  if (put_people(&data, &t, n, inputs, entries, payload)) {
    put_le(data.ptr + HEADER - 8, data.len, 8);
    ws_bin_put_u32(&data, (uint32_t)t.n);
    for (size_t k = 0; k < t.n; k++) {
      size_t len = strlen(t.texts[k]);
      ws_bin_put_u32(&data, (uint32_t)len);
      ws_str_put(&data, t.texts[k], len + 1);
    }
    ws_digest sum = ws_digest_bytes(data.ptr, data.len);
    ws_bin_put_digest(&data, &sum);
    ws_bin_write_file(c->dir.ptr, c->file.ptr, data.ptr, data.len);
  }
  ws_str_release(&data);
  free(t.texts);
  free(t.index);
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
