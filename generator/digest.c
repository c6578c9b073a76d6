#include "digest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "xalloc.h"

/* Fingerprints are made of many tiny pieces (a tag byte, a length, a
 * key); gathering them here first spares a library call per piece. The
 * bytes hashed are the same either way. A digester with this buffer is
 * just small enough for glibc's per-thread cache of freed blocks (1,032
 * bytes at most): a rebuild makes 52,000 of them, and at 1,024 each went
 * through the shared heap (12.7M instructions more at 10,000 profiles). */
#define GATHER 1000

/* Most digests (a card's entries, a page's references) are shorter than
 * the gathering buffer: those are hashed in one call at the end, and the
 * streaming state, which is large, is made only for longer ones. XXH3 gives
 * the same result either way. */
struct ws_digester {
  XXH3_state_t *state; /* NULL until the buffer first fills */
  size_t n;
  unsigned char buf[GATHER];
};

/* One tag byte per value type, so that a list of one string and the string
 * itself can never hash alike. */
enum {
  TAG_NULL = 'n',
  TAG_FALSE = 'f',
  TAG_TRUE = 't',
  TAG_NUMBER = 'd',
  TAG_STRING = 's',
  TAG_LIST = 'l',
  TAG_MAP = 'm',
  TAG_MEMO = 'r'
};

/* A digester on the caller's stack, for the memo's many small digests. */
static void digester_init(ws_digester *d) {
  d->state = NULL;
  d->n = 0;
}

/* The buffer is not cleared: only what was put in it is ever read. A push
 * at 10,000 profiles makes 61,000 digesters, and clearing each cost about
 * as much as hashing a small fingerprint. */
ws_digester *ws_digester_new(void) {
  ws_digester *d = ws_xmalloc(sizeof(ws_digester));
  digester_init(d);
  return d;
}

static void digester_release(ws_digester *d) {
  XXH3_freeState(d->state);
}

void ws_digester_free(ws_digester *d) {
  if (!d)
    return;
  digester_release(d);
  free(d);
}

static void flush(ws_digester *d) {
  if (!d->state) {
    d->state = XXH3_createState();
    if (!d->state) {
      fputs("wholeself: out of memory (hash state)\n", stderr);
      abort();
    }
    XXH3_128bits_reset(d->state);
  }
  if (d->n)
    XXH3_128bits_update(d->state, d->buf, d->n);
  d->n = 0;
}

static void put_raw(ws_digester *d, const void *data, size_t len) {
  if (len > GATHER - d->n) {
    flush(d);
    if (len >= GATHER) {
      XXH3_128bits_update(d->state, data, len);
      return;
    }
  }
  memcpy(d->buf + d->n, data, len);
  d->n += len;
}

static void put_tag(ws_digester *d, unsigned char tag) {
  put_raw(d, &tag, 1);
}

static void put_size(ws_digester *d, size_t n) {
  uint64_t v = n;
  put_raw(d, &v, sizeof(v));
}

void ws_digester_bytes(ws_digester *d, const void *data, size_t len) {
  put_size(d, len);
  put_raw(d, data, len);
}

void ws_digester_parts(ws_digester *d, size_t len) {
  put_size(d, len);
}

void ws_digester_part(ws_digester *d, const void *data, size_t len) {
  put_raw(d, data, len);
}

void ws_digester_str(ws_digester *d, const char *s) {
  ws_digester_bytes(d, s ? s : "", s ? strlen(s) : 0);
}

void ws_digester_digest(ws_digester *d, const ws_digest *x) {
  put_raw(d, &x->hi, sizeof(x->hi));
  put_raw(d, &x->lo, sizeof(x->lo));
}

void ws_digester_text(ws_digester *d, const char *s) {
  ws_digester_bytes(d, s ? "+" : "-", 1);
  ws_digester_str(d, s);
}

void ws_digester_num(ws_digester *d, unsigned long long n) {
  ws_digester_bytes(d, &n, sizeof(n));
}

void ws_digester_texts(ws_digester *d, char *const *items, size_t n) {
  ws_digester_num(d, n);
  for (size_t i = 0; i < n; i++)
    ws_digester_text(d, items[i]);
}

static bool put_memo(ws_digester *d, const ws_value *v, ws_digest_memo *m,
                     const ws_digest_keys *keys);
static bool keys_has(const ws_digest_keys *k, const char *key, uint64_t hash);

void ws_digester_value(ws_digester *d, const ws_value *v, ws_digest_memo *memo,
                       const ws_digest_keys *keys) {
  if (!v) {
    put_tag(d, TAG_NULL);
    return;
  }
  if (v->type == WS_VALUE_REF) {
    if (!put_memo(d, v->u.ref, memo, keys))
      ws_digester_value(d, v->u.ref, memo, keys);
    return;
  }
  switch (v->type) {
  case WS_VALUE_BOOL:
    put_tag(d, v->u.boolean ? TAG_TRUE : TAG_FALSE);
    break;
  case WS_VALUE_NUMBER:
    put_tag(d, TAG_NUMBER);
    put_raw(d, &v->u.number, sizeof(v->u.number));
    break;
  case WS_VALUE_STRING:
    put_tag(d, TAG_STRING);
    ws_digester_bytes(d, v->u.string.ptr, v->u.string.len);
    break;
  case WS_VALUE_LIST:
    put_tag(d, TAG_LIST);
    put_size(d, v->u.list.len);
    for (size_t i = 0; i < v->u.list.len; i++)
      ws_digester_value(d, v->u.list.items[i], memo, keys);
    break;
  case WS_VALUE_MAP:
    put_tag(d, TAG_MAP);
    put_size(d, v->u.map.len);
    for (size_t i = 0; i < v->u.map.len; i++) {
      const ws_value_entry *e = &v->u.map.entries[i];
      if (keys && !ws_digest_keys_has(keys, e->key))
        continue;
      ws_digester_str(d, e->key);
      ws_digester_value(d, e->val, memo, keys);
    }
    break;
  default:
    put_tag(d, TAG_NULL);
    break;
  }
}

ws_digest ws_digester_end(ws_digester *d) {
  XXH128_hash_t h;
  if (d->state) {
    flush(d);
    h = XXH3_128bits_digest(d->state);
    XXH3_128bits_reset(d->state);
  } else {
    h = XXH3_128bits(d->buf, d->n);
    d->n = 0;
  }
  return (ws_digest){h.high64, h.low64};
}

ws_digest ws_digest_bytes(const void *data, size_t len) {
  ws_digester *d = ws_digester_new();
  ws_digester_bytes(d, data, len);
  ws_digest out = ws_digester_end(d);
  ws_digester_free(d);
  return out;
}

ws_digest ws_digest_value(const ws_value *v, ws_digest_memo *memo,
                          const ws_digest_keys *keys) {
  ws_digester *d = ws_digester_new();
  ws_digester_value(d, v, memo, keys);
  ws_digest out = ws_digester_end(d);
  ws_digester_free(d);
  return out;
}

bool ws_digest_equal(const ws_digest *a, const ws_digest *b) {
  return a->hi == b->hi && a->lo == b->lo;
}

/* Written for every page of every manifest saved: digits by hand, not
 * by snprintf. */
void ws_digest_hex(const ws_digest *d, char out[33]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    out[i] = digits[(d->hi >> (60 - 4 * i)) & 0xf];
    out[16 + i] = digits[(d->lo >> (60 - 4 * i)) & 0xf];
  }
  out[32] = '\0';
}

/* The value of each lowercase hex digit plus one; 0 for any other byte. A
 * manifest holds 10,000 fingerprints at 10,000 profiles. */
static const unsigned char hex_values[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16};

/* Sixteen hex digits at 's' into '*out'; false at the first other byte
 * (the NUL too, so nothing after it is read). */
static bool parse_half(uint64_t *out, const char *s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 16; i++) {
    unsigned x = hex_values[(unsigned char)s[i]];
    if (!x)
      return false;
    v = v << 4 | (uint64_t)(x - 1);
  }
  *out = v;
  return true;
}

bool ws_digest_parse(ws_digest *d, const char *s) {
  uint64_t hi, lo;
  if (!parse_half(&hi, s) || !parse_half(&lo, s + 16))
    return false;
  d->hi = hi;
  d->lo = lo;
  return true;
}

/* --- the program's identity --- */

static ws_digest program;
static bool program_ok;
static pthread_once_t program_once = PTHREAD_ONCE_INIT;

/* Hashing the whole executable (a few MB, under a millisecond with XXH3)
 * needs no build-time step and catches every rebuild, even one that keeps
 * the version string. */
static void read_program(void) {
  FILE *f = fopen("/proc/self/exe", "rb");
  if (!f)
    return;
  ws_digester *d = ws_digester_new();
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    put_raw(d, buf, n);
  program_ok = !ferror(f);
  program = ws_digester_end(d);
  ws_digester_free(d);
  fclose(f);
}

bool ws_digest_program(ws_digest *out) {
  pthread_once(&program_once, read_program);
  *out = program;
  return program_ok;
}

/* --- memo: open addressing on the value's address --- */

/* Every page of a build reads the memo, from every thread, so reading it
 * takes no lock: what a thread finished is published with a release store
 * and read with an acquire load. Two threads that meet the same map at once
 * both hash it and the first to publish wins; the results are equal. */

typedef struct {
  const char *key; /* borrowed from the map */
  uint64_t hash;   /* of 'key': every view tests it again; 0 when seeded */
  ws_digest digest;
} entry_digest;

/* A slot's entry digests: not yet made, being made, ready. */
enum { ENTRIES_NONE, ENTRIES_MAKING, ENTRIES_READY };

typedef struct {
  const ws_value *key;
  size_t first, len;    /* its entry digests: entries[first..first + len) */
  atomic_uchar state;   /* ENTRIES_* */
  entry_digest *seeded; /* given by ws_digest_memo_seed, instead */
  ws_digest_view *seeded_views; /* its digests under some key sets */
  size_t nseeded_views;
} memo_slot;

/* A view's digest of one slot: not yet made, being stored, ready. */
enum { VIEW_NONE, VIEW_STORING, VIEW_READY };

/* What a shared map adds under one key set, by memo slot: a directory of
 * 10,000 cards then costs 10,000 lookups, not 300,000 key tests. */
typedef struct {
  const ws_digest_keys *keys; /* NULL: all keys */
  ws_digest id;               /* ws_digest_keys_id(keys) */
  ws_digest *digest;          /* by slot */
  atomic_uchar *state;        /* by slot: VIEW_* */
} memo_view;

/* Key sets are per page template, so a handful per build. */
#define MEMO_VIEWS 32

struct ws_digest_memo {
  memo_slot *slots;
  entry_digest *entries; /* every slot's, in one piece: one free */
  size_t mask;           /* capacity - 1; capacity is a power of two */
  memo_view views[MEMO_VIEWS];
  atomic_size_t nviews; /* views[0..nviews) are made and never change */
  pthread_mutex_t mu;   /* taken only to add a view */
};

static size_t slot_of(const ws_digest_memo *m, const ws_value *v) {
  uint64_t x = (uint64_t)(uintptr_t)v;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)x & m->mask;
}

static memo_slot *memo_find(ws_digest_memo *m, const ws_value *v) {
  size_t i = slot_of(m, v);
  while (m->slots[i].key) {
    if (m->slots[i].key == v)
      return &m->slots[i];
    i = (i + 1) & m->mask;
  }
  return NULL;
}

ws_digest_memo *ws_digest_memo_new(const ws_value *const *shared, size_t n) {
  ws_digest_memo *m = ws_xcalloc(1, sizeof(*m));
  size_t cap = 16;
  while (cap < n * 2)
    cap *= 2;
  m->slots = ws_xcalloc(cap, sizeof(memo_slot));
  m->mask = cap - 1;
  atomic_init(&m->nviews, 0);
  pthread_mutex_init(&m->mu, NULL);
  for (size_t i = 0; i < cap; i++)
    atomic_init(&m->slots[i].state, ENTRIES_NONE);
  size_t total = 0;
  for (size_t k = 0; k < n; k++) {
    const ws_value *v = ws_value_deref(shared[k]);
    if (!v || v->type != WS_VALUE_MAP)
      continue;
    size_t i = slot_of(m, v);
    while (m->slots[i].key && m->slots[i].key != v)
      i = (i + 1) & m->mask;
    if (m->slots[i].key)
      continue; /* registered twice */
    m->slots[i].key = v;
    m->slots[i].first = total;
    m->slots[i].len = v->u.map.len;
    total += v->u.map.len;
  }
  m->entries = ws_xcalloc(total + 1, sizeof(entry_digest));
  return m;
}

void ws_digest_memo_free(ws_digest_memo *m) {
  if (!m)
    return;
  free(m->entries);
  for (size_t i = 0; i <= m->mask; i++) {
    free(m->slots[i].seeded);
    free(m->slots[i].seeded_views);
  }
  size_t nviews = atomic_load(&m->nviews);
  for (size_t i = 0; i < nviews; i++) {
    free(m->views[i].digest);
    free(m->views[i].state);
  }
  pthread_mutex_destroy(&m->mu);
  free(m->slots);
  free(m);
}

static void make_entries(ws_digest_memo *m, const ws_value *v,
                         entry_digest *e) {
  ws_digester d;
  digester_init(&d);
  for (size_t i = 0; i < v->u.map.len; i++) {
    e[i].key = v->u.map.entries[i].key;
    e[i].hash = ws_str_hash(e[i].key);
    ws_digester_value(&d, v->u.map.entries[i].val, m, NULL);
    e[i].digest = ws_digester_end(&d);
  }
  digester_release(&d);
}

/* The entry digests of slot 's'. A thread that finds another making them
 * makes its own copy rather than wait: '*own' is then set, for the caller
 * to free. */
static const entry_digest *memo_entries(ws_digest_memo *m, memo_slot *s,
                                        entry_digest **own) {
  entry_digest *e = m->entries + s->first;
  unsigned char state = ENTRIES_NONE;
  *own = NULL;
  if (s->seeded)
    return s->seeded;
  if (s->key->u.map.len != s->len) /* grew since: its place is too small */
    goto private;
  if (atomic_load_explicit(&s->state, memory_order_acquire) == ENTRIES_READY)
    return e;
  if (atomic_compare_exchange_strong_explicit(&s->state, &state, ENTRIES_MAKING,
                                              memory_order_acquire,
                                              memory_order_acquire)) {
    make_entries(m, s->key, e);
    atomic_store_explicit(&s->state, ENTRIES_READY, memory_order_release);
    return e;
  }
  if (state == ENTRIES_READY)
    return e;

private:
  *own = ws_xcalloc(s->key->u.map.len + 1, sizeof(entry_digest));
  make_entries(m, s->key, *own);
  return *own;
}

static memo_view *find_view(ws_digest_memo *m, const ws_digest_keys *keys,
                            size_t nviews) {
  for (size_t i = 0; i < nviews; i++)
    if (m->views[i].keys == keys)
      return &m->views[i];
  return NULL;
}

/* The view of 'keys', made on first use; NULL when there are more key sets
 * than views. */
static memo_view *view_of(ws_digest_memo *m, const ws_digest_keys *keys) {
  memo_view *v = find_view(
      m, keys, atomic_load_explicit(&m->nviews, memory_order_acquire));
  if (v)
    return v;
  pthread_mutex_lock(&m->mu);
  size_t n = atomic_load_explicit(&m->nviews, memory_order_relaxed);
  v = find_view(m, keys, n);
  if (!v && n < MEMO_VIEWS) {
    v = &m->views[n];
    v->keys = keys;
    v->id = ws_digest_keys_id(keys);
    v->digest = ws_xcalloc(m->mask + 1, sizeof(ws_digest));
    v->state = ws_xcalloc(m->mask + 1, sizeof(atomic_uchar));
    for (size_t i = 0; i <= m->mask; i++)
      atomic_init(&v->state[i], VIEW_NONE);
    atomic_store_explicit(&m->nviews, n + 1, memory_order_release);
  }
  pthread_mutex_unlock(&m->mu);
  return v;
}

/* The digest of the shared map 'v' (in slot 's') under 'keys', from its
 * entry digests. */
static ws_digest combine(ws_digest_memo *m, memo_slot *s,
                         const ws_digest_keys *keys) {
  entry_digest *own;
  const entry_digest *e = memo_entries(m, s, &own);
  /* A seeded slot counts the entries it was given: its map may be empty
   * still, or being filled on another thread. */
  size_t n = s->seeded ? s->len : s->key->u.map.len;
  ws_digester d;
  digester_init(&d);
  put_size(&d, n);
  for (size_t i = 0; i < n; i++) {
    /* Seeded entries come without their key's hash (see seeding). */
    if (keys && !keys_has(keys, e[i].key,
                          s->seeded ? ws_str_hash(e[i].key) : e[i].hash))
      continue;
    ws_digester_str(&d, e[i].key);
    ws_digester_digest(&d, &e[i].digest);
  }
  ws_digest out = ws_digester_end(&d);
  digester_release(&d);
  free(own);
  return out;
}

void ws_digest_memo_seed(ws_digest_memo *m, const ws_value *v,
                         const ws_digest_entry *e, size_t n,
                         const ws_digest_view *views, size_t nviews) {
  memo_slot *s = memo_find(m, ws_value_deref(v));
  if (!s || s->seeded)
    return;
  s->seeded = ws_xcalloc(n + 1, sizeof(entry_digest));
  /* The keys' hashes are left out: a rebuild seeds 290,000 entries, and a
   * seeded slot rarely needs its entries combined again (its views were
   * seeded too), so they are hashed when they are. */
  for (size_t i = 0; i < n; i++) {
    s->seeded[i].key = e[i].key;
    s->seeded[i].digest = e[i].digest;
  }
  s->len = n;
  if (nviews) {
    s->seeded_views = ws_xcalloc(nviews, sizeof(ws_digest_view));
    memcpy(s->seeded_views, views, nviews * sizeof(ws_digest_view));
    s->nseeded_views = nviews;
  }
}

size_t ws_digest_memo_views(ws_digest_memo *m, const ws_value *v,
                            ws_digest_view *out, size_t max) {
  memo_slot *s = memo_find(m, ws_value_deref(v));
  size_t n = 0, slot = s ? (size_t)(s - m->slots) : 0;
  size_t nviews = atomic_load_explicit(&m->nviews, memory_order_acquire);
  for (size_t i = 0; s && i < nviews && n < max; i++)
    if (atomic_load_explicit(&m->views[i].state[slot], memory_order_acquire) ==
        VIEW_READY)
      out[n++] = (ws_digest_view){m->views[i].id, m->views[i].digest[slot]};
  return n;
}

/* The digest a seed gave slot 's' under 'view', if any. */
static bool seeded_view(const memo_slot *s, const memo_view *view,
                        ws_digest *out) {
  for (size_t i = 0; view && i < s->nseeded_views; i++)
    if (ws_digest_equal(&s->seeded_views[i].keys, &view->id)) {
      *out = s->seeded_views[i].digest;
      return true;
    }
  return false;
}

size_t ws_digest_memo_entries(ws_digest_memo *m, const ws_value *v,
                              ws_digest_entry *out, size_t max) {
  memo_slot *s = memo_find(m, ws_value_deref(v));
  if (!s)
    return 0;
  entry_digest *own;
  const entry_digest *e = memo_entries(m, s, &own);
  size_t n = s->seeded ? s->len : s->key->u.map.len;
  for (size_t i = 0; i < n && i < max; i++)
    out[i] = (ws_digest_entry){e[i].key, e[i].digest};
  free(own);
  return n;
}

/* Adds the shared map 'v' as its digest under 'keys'; false when 'v' is
 * not in the memo. */
static bool put_memo(ws_digester *d, const ws_value *v, ws_digest_memo *m,
                     const ws_digest_keys *keys) {
  memo_slot *s = m ? memo_find(m, v) : NULL;
  if (!s)
    return false;
  size_t slot = (size_t)(s - m->slots);
  memo_view *view = view_of(m, keys);
  ws_digest out;
  if (view && atomic_load_explicit(&view->state[slot], memory_order_acquire) ==
                  VIEW_READY) {
    out = view->digest[slot];
  } else {
    if (!seeded_view(s, view, &out))
      out = combine(m, s, keys);
    unsigned char none = VIEW_NONE;
    if (view && atomic_compare_exchange_strong_explicit(
                    &view->state[slot], &none, VIEW_STORING,
                    memory_order_acquire, memory_order_relaxed)) {
      view->digest[slot] = out;
      atomic_store_explicit(&view->state[slot], VIEW_READY,
                            memory_order_release);
    }
  }
  put_tag(d, TAG_MEMO);
  ws_digester_digest(d, &out);
  return true;
}

/* --- key sets: open addressing on the key's hash --- */

struct ws_digest_keys {
  char **slots;
  size_t mask; /* capacity - 1 */
  size_t len;
};

static size_t key_slot(const ws_digest_keys *k, uint64_t hash) {
  return (size_t)hash & k->mask;
}

ws_digest_keys *ws_digest_keys_new(void) {
  ws_digest_keys *k = ws_xcalloc(1, sizeof(*k));
  k->slots = ws_xcalloc(64, sizeof(char *));
  k->mask = 63;
  return k;
}

void ws_digest_keys_free(ws_digest_keys *k) {
  if (!k)
    return;
  for (size_t i = 0; i <= k->mask; i++)
    free(k->slots[i]);
  free(k->slots);
  free(k);
}

static void keys_insert(ws_digest_keys *k, char *key) {
  size_t i = key_slot(k, ws_str_hash(key));
  while (k->slots[i])
    i = (i + 1) & k->mask;
  k->slots[i] = key;
  k->len++;
}

void ws_digest_keys_add(ws_digest_keys *k, const char *key) {
  if (ws_digest_keys_has(k, key))
    return;
  if ((k->len + 1) * 2 > k->mask + 1) {
    char **old = k->slots;
    size_t cap = k->mask + 1;
    k->slots = ws_xcalloc(cap * 2, sizeof(char *));
    k->mask = cap * 2 - 1;
    k->len = 0;
    for (size_t i = 0; i < cap; i++)
      if (old[i])
        keys_insert(k, old[i]);
    free(old);
  }
  keys_insert(k, ws_xstrdup(key));
}

static bool keys_has(const ws_digest_keys *k, const char *key, uint64_t hash) {
  size_t i = key_slot(k, hash);
  while (k->slots[i]) {
    if (strcmp(k->slots[i], key) == 0)
      return true;
    i = (i + 1) & k->mask;
  }
  return false;
}

static int cmp_key(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

ws_digest ws_digest_keys_id(const ws_digest_keys *k) {
  if (!k)
    return ws_digest_bytes("*", 1);
  char **keys = ws_xcalloc(k->len + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i <= k->mask; i++)
    if (k->slots[i])
      keys[n++] = k->slots[i];
  qsort(keys, n, sizeof(char *), cmp_key);
  ws_digester *d = ws_digester_new();
  ws_digester_bytes(d, "keys", 4);
  for (size_t i = 0; i < n; i++)
    ws_digester_str(d, keys[i]);
  ws_digest out = ws_digester_end(d);
  ws_digester_free(d);
  free(keys);
  return out;
}

bool ws_digest_keys_has(const ws_digest_keys *k, const char *key) {
  return keys_has(k, key, ws_str_hash(key));
}
