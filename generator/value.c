#include "value.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* --- arenas --- */

#define BLOCK_SIZE 8192

typedef struct block {
  struct block *next;
  size_t used, size;
  max_align_t data[];
} block;

struct ws_value_arena {
  block *head;
};

static _Thread_local ws_value_arena *current;

ws_value_arena *ws_value_arena_new(void) {
  return ws_xcalloc(1, sizeof(ws_value_arena));
}

ws_value_arena *ws_value_arena_use(ws_value_arena *a) {
  ws_value_arena *before = current;
  current = a;
  return before;
}

void ws_value_arena_free(ws_value_arena *a) {
  if (!a)
    return;
  for (block *b = a->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  free(a);
}

/* Values hold pointers, sizes and doubles: 8 bytes is their alignment. */
#define ALIGN                                                                  \
  (sizeof(double) > sizeof(void *) ? sizeof(double) : sizeof(void *))

static size_t rounded(size_t n) {
  return (n + ALIGN - 1) / ALIGN * ALIGN;
}

static void *carve(ws_value_arena *a, size_t n) {
  if (!a) {
    /* A pooled value can only grow while its arena is in use. */
    fputs("wholeself: a pooled value changed outside its arena\n", stderr);
    abort();
  }
  n = rounded(n);
  block *b = a->head;
  if (!b || b->size - b->used < n) {
    size_t size = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
    b = ws_xmalloc(sizeof(block) + size);
    b->used = 0;
    b->size = size;
    if (size == BLOCK_SIZE || !a->head) {
      b->next = a->head;
      a->head = b;
    } else { /* a large piece gets a block of its own, behind the head */
      b->next = a->head->next;
      a->head->next = b;
    }
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  return p;
}

char *ws_value_arena_strdup(ws_value_arena *a, const char *s) {
  size_t len = strlen(s);
  char *p = carve(a, len + 1);
  memcpy(p, s, len + 1);
  return p;
}

/* Memory for a value's parts: from the arena when the value is pooled. */
static void *part_alloc(bool pooled, size_t n) {
  return pooled ? carve(current, n) : ws_xmalloc(n);
}

static void *part_grow(bool pooled, void *old, size_t old_n, size_t n) {
  if (!pooled)
    return ws_xrealloc(old, n);
  /* The last piece carved grows where it is when its block has room. */
  block *b = current ? current->head : NULL;
  size_t have = rounded(old_n), want = rounded(n);
  if (old && b && (char *)old + have == (char *)b->data + b->used &&
      want - have <= b->size - b->used) {
    b->used += want - have;
    return old;
  }
  void *p = carve(current, n);
  if (old_n)
    memcpy(p, old, old_n);
  return p;
}

static char *part_strndup(bool pooled, const char *s, size_t len) {
  if (!pooled)
    return ws_xstrndup(s, len);
  char *p = carve(current, len + 1);
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

static void part_free(bool pooled, void *p) {
  if (!pooled)
    free(p);
}

/* --- values --- */

static ws_value *make(ws_value_type type) {
  ws_value *v;
  if (current) {
    v = carve(current, sizeof(*v));
    memset(v, 0, sizeof(*v));
    v->pooled = true;
  } else {
    v = ws_xcalloc(1, sizeof(*v));
  }
  v->type = type;
  return v;
}

ws_value *ws_value_null(void) {
  return make(WS_VALUE_NULL);
}

/* Pooled values are never freed one by one, and a boolean is never changed
 * once made, so every arena shares these two: contexts hold hundreds of
 * thousands of flags (has_strengths, was_updated...). */
static ws_value pooled_bools[2] = {
    {.type = WS_VALUE_BOOL, .pooled = true, .u.boolean = false},
    {.type = WS_VALUE_BOOL, .pooled = true, .u.boolean = true}};

ws_value *ws_value_bool(bool b) {
  if (current)
    return &pooled_bools[b];
  ws_value *v = make(WS_VALUE_BOOL);
  v->u.boolean = b;
  return v;
}

ws_value *ws_value_number(double n) {
  ws_value *v = make(WS_VALUE_NUMBER);
  v->u.number = n;
  return v;
}

ws_value *ws_value_string(const char *s, size_t len) {
  ws_value *v = make(WS_VALUE_STRING);
  v->u.string.ptr = part_strndup(v->pooled, s, len);
  v->u.string.len = len;
  return v;
}

ws_value *ws_value_strz(const char *s) {
  return ws_value_string(s, strlen(s));
}

ws_value *ws_value_string_own(char *s, size_t len) {
  ws_value *v = make(WS_VALUE_STRING);
  v->u.string.len = len;
  if (v->pooled) {
    v->u.string.ptr = part_strndup(true, s, len);
    free(s);
  } else {
    v->u.string.ptr = s;
  }
  return v;
}

ws_value *ws_value_string_borrow(const char *s, size_t len) {
  ws_value *v = make(WS_VALUE_STRING);
  /* The bytes are never written through a value, only freed, and a
   * borrowed string is never freed. */
  v->u.string.ptr = (char *)(uintptr_t)s;
  v->u.string.len = len;
  v->borrowed = true;
  return v;
}

ws_value *ws_value_borrowz(const char *s) {
  return ws_value_string_borrow(s, strlen(s));
}

ws_value *ws_value_ref(const ws_value *target) {
  ws_value *v = make(WS_VALUE_REF);
  v->u.ref = ws_value_deref(target);
  return v;
}

const ws_value *ws_value_deref(const ws_value *v) {
  return v && v->type == WS_VALUE_REF ? v->u.ref : v;
}

ws_value *ws_value_list(void) {
  return make(WS_VALUE_LIST);
}

ws_value *ws_value_map(void) {
  return make(WS_VALUE_MAP);
}

void ws_value_map_reserve(ws_value *map, size_t n) {
  if (n <= map->u.map.cap)
    return;
  map->u.map.entries = part_grow(map->pooled, map->u.map.entries,
                                 map->u.map.cap * sizeof(ws_value_entry),
                                 n * sizeof(ws_value_entry));
  map->u.map.cap = n;
}

/* A pooled container may still hold values from the heap (set into it
 * after its arena was put away), so it is walked all the same. */
void ws_value_free(ws_value *v) {
  if (!v)
    return;
  bool pooled = v->pooled;
  switch (v->type) {
  case WS_VALUE_STRING:
    if (!v->borrowed)
      part_free(pooled, v->u.string.ptr);
    break;
  case WS_VALUE_LIST:
    for (size_t i = 0; i < v->u.list.len; i++)
      ws_value_free(v->u.list.items[i]);
    part_free(pooled, v->u.list.items);
    break;
  case WS_VALUE_MAP:
    for (size_t i = 0; i < v->u.map.len; i++) {
      part_free(pooled, v->u.map.entries[i].key);
      ws_value_free(v->u.map.entries[i].val);
    }
    part_free(pooled, v->u.map.entries);
    break;
  default:
    break;
  }
  part_free(pooled, v);
}

ws_value *ws_value_borrow_map(const ws_value *v) {
  v = ws_value_deref(v);
  ws_value *c = ws_value_map();
  /* Room for the few keys a borrower adds. A pooled copy keeps the keys of
   * 'v', which outlives it: its keys are never freed one by one. */
  c->u.map.cap = v->u.map.len + 4;
  c->u.map.entries =
      part_alloc(c->pooled, c->u.map.cap * sizeof(ws_value_entry));
  for (size_t i = 0; i < v->u.map.len; i++) {
    const ws_value_entry *e = &v->u.map.entries[i];
    char *key = c->pooled ? (char *)(uintptr_t)e->key
                          : part_strndup(false, e->key, strlen(e->key));
    c->u.map.entries[i] =
        (ws_value_entry){key, e->line, e->col, e->hash, ws_value_ref(e->val)};
  }
  c->u.map.len = v->u.map.len;
  return c;
}

ws_value *ws_value_copy(const ws_value *v) {
  ws_value *c;
  switch (v->type) {
  case WS_VALUE_STRING:
    c = ws_value_string(v->u.string.ptr, v->u.string.len);
    break;
  case WS_VALUE_LIST:
    c = ws_value_list();
    for (size_t i = 0; i < v->u.list.len; i++)
      ws_value_push(c, ws_value_copy(v->u.list.items[i]));
    break;
  case WS_VALUE_MAP:
    c = ws_value_map();
    for (size_t i = 0; i < v->u.map.len; i++) {
      const ws_value_entry *e = &v->u.map.entries[i];
      ws_value_set(c, e->key, ws_value_copy(e->val));
      c->u.map.entries[c->u.map.len - 1].line = e->line;
      c->u.map.entries[c->u.map.len - 1].col = e->col;
    }
    break;
  default:
    c = make(v->type);
    c->u = v->u;
    break;
  }
  c->line = v->line;
  c->col = v->col;
  return c;
}

void ws_value_push(ws_value *list, ws_value *item) {
  if (list->u.list.len == list->u.list.cap) {
    size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
    list->u.list.items = part_grow(list->pooled, list->u.list.items,
                                   list->u.list.cap * sizeof(ws_value *),
                                   cap * sizeof(ws_value *));
    list->u.list.cap = cap;
  }
  list->u.list.items[list->u.list.len++] = item;
}

void ws_value_map_keyed(ws_value_entry *e) {
  e->hash = ws_str_hash32(e->key);
}

/* Keys are short: a loop beats a call to strcmp. */
static bool same_key(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}

/* Templates look up every name in every enclosing map: comparing a hash
 * kept beside each key skips the other keys without reading them. */
static ws_value_entry *find_hashed(const ws_value *map, const char *key,
                                   uint32_t hash) {
  map = ws_value_deref(map);
  if (!map || map->type != WS_VALUE_MAP)
    return NULL;
  ws_value_entry *e = map->u.map.entries, *end = e + map->u.map.len;
  for (; e < end; e++)
    if (e->hash == hash && same_key(e->key, key))
      return e;
  return NULL;
}

static ws_value_entry *find(const ws_value *map, const char *key) {
  return find_hashed(map, key, ws_str_hash32(key));
}

void ws_value_set(ws_value *map, const char *key, ws_value *val) {
  uint32_t hash = ws_str_hash32(key);
  ws_value_entry *e = find_hashed(map, key, hash);
  if (e) {
    ws_value_free(e->val);
    e->val = val;
    return;
  }
  if (map->u.map.len == map->u.map.cap)
    ws_value_map_reserve(map, map->u.map.cap ? map->u.map.cap * 2 : 8);
  e = &map->u.map.entries[map->u.map.len++];
  e->key = part_strndup(map->pooled, key, strlen(key));
  e->line = e->col = 0;
  e->hash = hash;
  e->val = val;
}

void ws_value_add(ws_value *map, const char *key, ws_value *val) {
  if (map->u.map.len == map->u.map.cap)
    ws_value_map_reserve(map, map->u.map.cap ? map->u.map.cap * 2 : 8);
  ws_value_entry *e = &map->u.map.entries[map->u.map.len++];
  /* A pooled map's keys are never freed one by one (part_free). */
  e->key = map->pooled ? (char *)(uintptr_t)key
                       : part_strndup(false, key, strlen(key));
  e->line = e->col = 0;
  e->hash = ws_str_hash32(key);
  e->val = val;
}

void ws_value_set_str(ws_value *map, const char *key, const char *s) {
  if (s)
    ws_value_set(map, key, ws_value_strz(s));
}

void ws_value_set_borrowed(ws_value *map, const char *key, const char *s) {
  if (s)
    ws_value_set(map, key, ws_value_borrowz(s));
}

void ws_value_set_num(ws_value *map, const char *key, double n) {
  ws_value_set(map, key, ws_value_number(n));
}

void ws_value_set_bool(ws_value *map, const char *key, bool b) {
  ws_value_set(map, key, ws_value_bool(b));
}

void ws_value_set_list(ws_value *map, const char *key, ws_value *list) {
  ws_str has = WS_STR_INIT;
  char small[64] = "has_";
  size_t n = strlen(key);
  const char *name = small;
  if (n < sizeof(small) - 4) { /* every key of the program: no allocation */
    memcpy(small + 4, key, n + 1);
  } else {
    ws_str_puts(&has, "has_");
    ws_str_puts(&has, key);
    name = has.ptr;
  }
  ws_value_set_bool(map, name, list->u.list.len > 0);
  ws_value_set(map, key, list);
  ws_str_release(&has);
}

const ws_value *ws_value_get(const ws_value *map, const char *key) {
  const ws_value_entry *e = find(map, key);
  return e ? ws_value_deref(e->val) : NULL;
}

const ws_value *ws_value_get_hashed(const ws_value *map, const char *key,
                                    uint32_t hash) {
  const ws_value_entry *e = find_hashed(map, key, hash);
  return e ? ws_value_deref(e->val) : NULL;
}

const ws_value_entry *ws_value_entry_get(const ws_value *map, const char *key) {
  return find(map, key);
}

const char *ws_value_cstr(const ws_value *v) {
  v = ws_value_deref(v);
  return v && v->type == WS_VALUE_STRING ? v->u.string.ptr : NULL;
}

bool ws_value_truthy(const ws_value *v) {
  v = ws_value_deref(v);
  if (!v)
    return false;
  switch (v->type) {
  case WS_VALUE_NULL:
    return false;
  case WS_VALUE_BOOL:
    return v->u.boolean;
  case WS_VALUE_LIST:
    return v->u.list.len > 0;
  default:
    return true;
  }
}

/* Pages print counts by the hundred thousand: whole numbers below 1e15
 * (which %.15g prints as plain digits) are written by hand. */
static void put_number(ws_str *out, double n) {
  if (n > -1e15 && n < 1e15 && n == (double)(long long)n &&
      !(n == 0 && signbit(n)))
    ws_str_put_int(out, (long long)n, 0);
  else
    ws_str_printf(out, "%.15g", n);
}

void ws_value_put_text(ws_str *out, const ws_value *v) {
  v = ws_value_deref(v);
  if (!v)
    return;
  switch (v->type) {
  case WS_VALUE_BOOL:
    ws_str_puts(out, v->u.boolean ? "true" : "false");
    break;
  case WS_VALUE_NUMBER:
    if (isfinite(v->u.number))
      put_number(out, v->u.number);
    break;
  case WS_VALUE_STRING:
    ws_str_put(out, v->u.string.ptr, v->u.string.len);
    break;
  default:
    break;
  }
}

void ws_value_put_json(ws_str *out, const ws_value *v) {
  v = ws_value_deref(v);
  switch (v->type) {
  case WS_VALUE_NULL:
    ws_str_puts(out, "null");
    break;
  case WS_VALUE_BOOL:
  case WS_VALUE_NUMBER:
    if (v->type == WS_VALUE_NUMBER && !isfinite(v->u.number))
      ws_str_puts(out, "null");
    else
      ws_value_put_text(out, v);
    break;
  case WS_VALUE_STRING:
    ws_str_putc(out, '"');
    ws_str_put_json(out, v->u.string.ptr, v->u.string.len);
    ws_str_putc(out, '"');
    break;
  case WS_VALUE_LIST:
    ws_str_putc(out, '[');
    for (size_t i = 0; i < v->u.list.len; i++) {
      if (i)
        ws_str_putc(out, ',');
      ws_value_put_json(out, v->u.list.items[i]);
    }
    ws_str_putc(out, ']');
    break;
  case WS_VALUE_MAP:
    ws_str_putc(out, '{');
    for (size_t i = 0; i < v->u.map.len; i++) {
      const ws_value_entry *e = &v->u.map.entries[i];
      if (i)
        ws_str_putc(out, ',');
      ws_str_putc(out, '"');
      ws_str_put_json(out, e->key, strlen(e->key));
      ws_str_puts(out, "\":");
      ws_value_put_json(out, e->val);
    }
    ws_str_putc(out, '}');
    break;
  case WS_VALUE_REF: /* resolved above */
    break;
  }
}

const char *ws_value_type_name(ws_value_type t) {
  switch (t) {
  case WS_VALUE_NULL:
    return "null";
  case WS_VALUE_BOOL:
    return "boolean";
  case WS_VALUE_NUMBER:
    return "number";
  case WS_VALUE_STRING:
    return "string";
  case WS_VALUE_LIST:
    return "list";
  case WS_VALUE_MAP:
    return "map";
  case WS_VALUE_REF:
    return "reference";
  }
  return "?";
}
