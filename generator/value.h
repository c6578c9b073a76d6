/* value.h - the data model shared by front matter, site model and templates.
 *
 * A ws_value is null, a boolean, a number, a string, a list or a map. Maps
 * keep their insertion order, so output built from them is deterministic.
 * Values parsed from YAML carry the line and column where they started.
 * Containers own their elements.
 */
#ifndef WS_VALUE_H
#define WS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

typedef enum {
  WS_VALUE_NULL,
  WS_VALUE_BOOL,
  WS_VALUE_NUMBER,
  WS_VALUE_STRING,
  WS_VALUE_LIST,
  WS_VALUE_MAP,
  WS_VALUE_REF /* borrows another value (see ws_value_ref) */
} ws_value_type;

typedef struct ws_value ws_value;

typedef struct {
  char *key;
  unsigned line, col; /* where the key was written; 0 when not parsed */
  uint32_t hash;      /* ws_str_hash32(key): see ws_value_map_keyed */
  ws_value *val;
} ws_value_entry;

struct ws_value {
  ws_value_type type;
  unsigned line, col; /* 1-based source position; 0 when not parsed */
  bool borrowed;      /* a string whose bytes belong to someone else */
  bool pooled;        /* made in an arena: its memory goes with the arena */
  bool lasting;       /* set by its owner: neither it nor anything it leads to
                       * changes or goes while a ws_mustache_memo lives */
  union {
    bool boolean;
    double number;
    struct {
      char *ptr; /* NUL-terminated; may contain NUL bytes within 'len' */
      size_t len;
    } string;
    struct {
      ws_value **items;
      size_t len, cap;
    } list;
    struct {
      ws_value_entry *entries;
      size_t len, cap;
    } map;
    const ws_value *ref;
  } u;
};

/* An arena: values made while it is in use on a thread (and their keys,
 * strings and arrays) are carved from a few large blocks, and freeing the
 * arena frees them all at once. Thousands of person contexts of a hundred
 * small values each cost a million mallocs and frees otherwise. */
typedef struct ws_value_arena ws_value_arena;

/** Creates an empty arena. */
ws_value_arena *ws_value_arena_new(void);
/** Makes the values this thread creates come from 'a' (NULL: from the
 * heap again); returns the arena in use before. A pooled list or map may
 * only gain items while its own arena is in use. */
ws_value_arena *ws_value_arena_use(ws_value_arena *a);
/** Frees the arena and every value made in it; ws_value_free on them must
 * come first (it frees what they hold from the heap) or not at all. */
void ws_value_arena_free(ws_value_arena *a);
/** Copies 's' into 'a' (with no arena in use needed): text that lives as
 * long as the arena, with no free of its own. */
char *ws_value_arena_strdup(ws_value_arena *a, const char *s);

/** Creates a null value. Free it (and every value below) with ws_value_free. */
ws_value *ws_value_null(void);
/** Creates a boolean value (in an arena: one shared, never-changing value
 * per truth). */
ws_value *ws_value_bool(bool b);
/** Creates a number value. */
ws_value *ws_value_number(double n);
/** Creates a string value holding a copy of 'len' bytes of 's'. */
ws_value *ws_value_string(const char *s, size_t len);
/** Creates a string value holding a copy of the NUL-terminated 's'. */
ws_value *ws_value_strz(const char *s);
/** Creates a string value that takes ownership of the malloc'd 's'. */
ws_value *ws_value_string_own(char *s, size_t len);
/** Creates a string value that points at 's' ('len' bytes, NUL-terminated)
 * without copying it: 's' must outlive the value. For large text shared by
 * a model and a page context (a body of HTML). */
ws_value *ws_value_string_borrow(const char *s, size_t len);
/** ws_value_string_borrow of the NUL-terminated 's'. */
ws_value *ws_value_borrowz(const char *s);
/** Sets 'key' of 'map' to ws_value_borrowz('s'); NULL 's' sets nothing. */
void ws_value_set_borrowed(ws_value *map, const char *key, const char *s);
/** Creates an empty list. */
ws_value *ws_value_list(void);
/** Creates an empty map. */
ws_value *ws_value_map(void);
/** Makes room in 'map' for 'n' entries in all. In an arena, where a grown
 * array leaves the old one unused, a builder that knows its size asks once
 * instead of growing 8, 16, 32. */
void ws_value_map_reserve(ws_value *map, size_t n);
/** Creates a value that stands for 'target' without owning or copying it:
 * lookups, truthiness, text and JSON see through it. 'target' must outlive
 * it. Lets thousands of pages share one person's context. */
ws_value *ws_value_ref(const ws_value *target);
/** Returns what 'v' stands for: the target of a reference, else 'v'. */
const ws_value *ws_value_deref(const ws_value *v);
/** Frees 'v' and everything it contains; NULL does nothing. */
void ws_value_free(ws_value *v);
/** Deep-copies 'v'. */
ws_value *ws_value_copy(const ws_value *v);
/** Makes a new map with the keys of map 'v', each borrowing its value (see
 * ws_value_ref): a cheap copy to add keys to, valid while 'v' lives. */
ws_value *ws_value_borrow_map(const ws_value *v);

/** Sets the hash of entry 'e' of a map, for parsers that fill entries
 * themselves: lookups compare hashes before keys. */
void ws_value_map_keyed(ws_value_entry *e);
/** ws_value_get with the key's ws_str_hash32 known: a template name's
 * hash is computed once, when the template is compiled. */
const ws_value *ws_value_get_hashed(const ws_value *map, const char *key,
                                    uint32_t hash);

/** Appends 'item' to 'list', which takes ownership. */
void ws_value_push(ws_value *list, ws_value *item);
/** Sets 'key' of 'map' to 'val' (owned), replacing and freeing an old value. */
void ws_value_set(ws_value *map, const char *key, ws_value *val);
/** Adds 'key' to 'map' with 'val' (owned), for builders of many maps with
 * the same keys: 'map' must not have 'key' yet (it is not looked for), and
 * 'key' must outlive the map (a string literal), which keeps it without a
 * copy when it is pooled. */
void ws_value_add(ws_value *map, const char *key, ws_value *val);
/** Sets 'key' of 'map' to a copy of the string 's' (nothing when 's' is NULL).
 */
void ws_value_set_str(ws_value *map, const char *key, const char *s);
/** Sets 'key' of 'map' to the number 'n'. */
void ws_value_set_num(ws_value *map, const char *key, double n);
/** Sets 'key' of 'map' to the boolean 'b'. */
void ws_value_set_bool(ws_value *map, const char *key, bool b);
/** Sets 'key' to 'list' and "has_<key>" to whether it has items: Mustache
 * cannot ask a list for its length, and themes wrap lists in <ul>. */
void ws_value_set_list(ws_value *map, const char *key, ws_value *list);
/** Returns the value of 'key' in 'map' (borrowed, references resolved), or
 * NULL; a NULL map is fine. */
const ws_value *ws_value_get(const ws_value *map, const char *key);
/** Returns the entry of 'key' in 'map' (borrowed), or NULL. */
const ws_value_entry *ws_value_entry_get(const ws_value *map, const char *key);
/** Returns the string of 'v' when it is a string, else NULL. */
const char *ws_value_cstr(const ws_value *v);
/** Tells whether 'v' is truthy in Mustache's sense (false, null, [] are not).
 */
bool ws_value_truthy(const ws_value *v);
/** Appends the text of a scalar 'v' (numbers as %.15g; null as nothing). */
void ws_value_put_text(ws_str *out, const ws_value *v);
/** Appends 'v' as JSON; maps keep their order. */
void ws_value_put_json(ws_str *out, const ws_value *v);
/** Returns the name of a type, for messages ("string", "list", ...). */
const char *ws_value_type_name(ws_value_type t);

#endif
