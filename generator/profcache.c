/* dl_iterate_phdr and <link.h> are GNU extensions. */
#define _GNU_SOURCE
#include "profcache.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binio.h"
#include "digest.h"
#include "frontmatter.h"
#include "image.h"
#include "matchcache.h"
#include "str.h"
#include "value.h"
#include "xalloc.h"

/* --- the file ---
 *
 * <git dir>/wholeself/profiles-<hash of the content folder>:
 *
 *   header: "wholeself profile cache\n", u64 version, digest program,
 *           key content;
 *   then one or more segments, each written by one save: the records it
 *   added, back to back, then an index: u64 n, n × (key path, key oid,
 *   key photo, key photo oid, u64 offset, u64 length, digest of the
 *   record), then a trailer: u64 offset of the index, the digest of the
 *   header and the index, and TRAILER_MAGIC.
 *
 * The last segment's index is the file's: it lists every profile of the
 * last save, wherever its record is (offsets count from the start of the
 * file, and a record always lies before the index that lists it). A save
 * after a one-profile commit so only appends a segment of one record and
 * an index, instead of writing 89 MB again; when records no index lists
 * would make up more than half of the file, the save writes a new file
 * instead (through a temporary file and a rename). Appending never changes
 * a byte already written, so a build that mapped the file earlier still
 * reads what it mapped; appenders hold flock() on the file.
 *
 * Entries are sorted by path (the file's path in the content folder, as
 * listed), so a lookup is a binary search. A key is a u32 length, the bytes
 * and a NUL, so it can be used in place; "" stands for no photo. A record
 * is the profile and its warnings (encode_profile below), then its body.
 * The index's digest of a record covers all but the body, and is checked
 * only when the record is used, on the worker that decodes it; the body's
 * own digest is in that part, and is checked only when a page shows the
 * body (ws_profile_body). A push keeps most person pages, and the bodies
 * are most of the file: checking them all took a tenth of its time.
 * Numbers are little-endian; a digest is XXH3-128 (digest.h) as u64 hi,
 * u64 lo. 'program' covers the executable and the libcmark and libyaml it
 * runs with (the code that makes what is cached), so another build, or a
 * library upgrade, never trusts this one's results. */

#define MAGIC "wholeself profile cache\n"
#define VERSION 8
#define TRAILER_MAGIC "wsprof.\n"
#define TRAILER (8 + 16 + 8) /* index offset, digest, magic */
#define NO_TEXT 0xffffffffu
/* Front matter nests at most WS_YAML_MAX_DEPTH collections below its map. */
#define MAX_DEPTH (WS_YAML_MAX_DEPTH + 2)
#define MIN_KEY 5                                   /* u32 length and the NUL */
#define DIGEST 16                                   /* a ws_digest: hi, lo */
#define MIN_INDEX_ENTRY (4 * MIN_KEY + 16 + DIGEST) /* keys, place, sum */
#define MIN_VALUE (1 + 4 + 4)                       /* type, line, col */
#define MIN_MAP_ENTRY (4 + 4 + 4 + MIN_VALUE)       /* key, line, col, value */
#define MIN_DIAG (1 + 4 + 4 + 4 + 4 + 4) /* severity, position, texts */

/* An entry of the file that was read; strings point into it. */
typedef struct {
  const char *path, *oid, *photo, *photo_oid;
  const char *body;
  size_t off, len; /* where 'body' is in the file */
  ws_digest sum;
  const char *entry; /* its index entry's bytes, 'entry_len' of them */
  size_t entry_len;
} record;

/* One profile of this load: the record reused, or a new one. */
typedef struct {
  const record *hit;
  bool fresh;
  /* The new record is encoded again when the file is written, from these:
   * holding 10,000 of them (89 MB) until then raised the load's peak. */
  const ws_profile *p;
  const ws_diag *diag;
  size_t off, len;                      /* of the new record, once written */
  ws_digest sum;      /* of the new record's head */
  ws_digest body_sum; /* of its body */
  const ws_source_entry *entry, *photo; /* borrowed from the listing */
} slot_state;

struct ws_profcache {
  const ws_source_list *files;
  char *content;     /* the content folder, as the file records it */
  ws_digest program; /* see program_id */
  bool known;        /* 'program' could be told */
  ws_str dir, file;  /* the folder and the cache file */
  ws_bin_map data;   /* the file as read */
  size_t header;     /* its header's length */
  size_t index;      /* where its index starts */
  record *records;
  size_t nrecords;
  slot_state *slots;
  size_t n;
  const char *why; /* why the file is not used, or NULL */
};

/* Checksums are XXH3-128 (ws_digest_bytes): against truncation and damage,
 * not an adversary, and fast on the tens of megabytes of records. */

/* --- the program --- */

/* The libraries whose code makes what is cached: YAML parsing and the
 * Markdown renderer (the binary itself is covered by ws_digest_program).
 * Others (libgit2, libc, modules loaded on demand) are left out, so that
 * the identity does not depend on what else happened to be loaded. */
static bool makes_results(const char *path) {
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  return strncmp(base, "libcmark", 8) == 0 || strncmp(base, "libyaml", 7) == 0;
}

/* Finds the GNU build id in a PT_NOTE segment and adds it to 'd'. */
static bool add_build_id(ws_digester *d, const unsigned char *p, size_t len,
                         size_t align) {
  size_t a = align == 8 ? 8 : 4, off = 0;
  while (len - off >= sizeof(ElfW(Nhdr))) {
    ElfW(Nhdr) nh;
    memcpy(&nh, p + off, sizeof(nh));
    size_t name = off + sizeof(nh);
    size_t nlen = ((size_t)nh.n_namesz + a - 1) / a * a;
    size_t dlen = ((size_t)nh.n_descsz + a - 1) / a * a;
    if (nlen > len - name || dlen > len - name - nlen)
      return false;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        memcmp(p + name, "GNU", 4) == 0) {
      ws_digester_bytes(d, p + name + nlen, nh.n_descsz);
      return true;
    }
    off = name + nlen + dlen;
  }
  return false;
}

/* Adds a library's build id; without one, its path, size, time and inode. */
static int add_library(struct dl_phdr_info *info, size_t size, void *payload) {
  ws_digester *d = payload;
  struct stat st;
  (void)size;
  if (!info->dlpi_name || !makes_results(info->dlpi_name) ||
      stat(info->dlpi_name, &st) < 0)
    return 0;
  bool found = false;
  for (size_t i = 0; i < info->dlpi_phnum && !found; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_NOTE)
      found = add_build_id(
          d, (const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
          ph->p_memsz, ph->p_align);
  }
  if (!found) {
    uint64_t id[3] = {(uint64_t)st.st_size, (uint64_t)st.st_mtime,
                      (uint64_t)st.st_ino};
    ws_digester_str(d, info->dlpi_name);
    ws_digester_bytes(d, id, sizeof(id));
  }
  return 0;
}

/* Identifies the code that made the cached results: the executable (hashed
 * once per process) and the libraries above. False when the executable
 * cannot be read: then no cache is trusted or written. */
static bool program_id(ws_digest *out) {
  ws_digest exe;
  if (!ws_digest_program(&exe))
    return false;
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, &exe);
  dl_iterate_phdr(add_library, d);
  *out = ws_digester_end(d);
  ws_digester_free(d);
  return true;
}

/* --- writing --- */

/* Bytes with a u32 length; false when they do not fit one. */
static bool put_bytes(ws_str *b, const char *s, size_t len) {
  if (len >= NO_TEXT)
    return false;
  ws_bin_put_u32(b, (uint32_t)len);
  ws_str_put(b, s, len);
  return true;
}

/* A C string or NULL; the NUL is kept, so the text can be used where it
 * lies in the mapped file. */
static bool put_text(ws_str *b, const char *s) {
  if (!s) {
    ws_bin_put_u32(b, NO_TEXT);
    return true;
  }
  if (!put_bytes(b, s, strlen(s)))
    return false;
  ws_str_putc(b, '\0');
  return true;
}

static void put_key(ws_str *b, const char *s) {
  put_bytes(b, s, strlen(s));
  ws_str_putc(b, '\0');
}

static bool put_value(ws_str *b, const ws_value *v) {
  ws_bin_put_u8(b, (unsigned)v->type);
  ws_bin_put_u32(b, v->line);
  ws_bin_put_u32(b, v->col);
  switch (v->type) {
  case WS_VALUE_NULL:
    return true;
  case WS_VALUE_BOOL:
    ws_bin_put_u8(b, v->u.boolean);
    return true;
  case WS_VALUE_NUMBER: {
    uint64_t bits;
    memcpy(&bits, &v->u.number, 8);
    ws_bin_put_u64(b, bits);
    return true;
  }
  case WS_VALUE_STRING:
    return put_bytes(b, v->u.string.ptr, v->u.string.len);
  case WS_VALUE_LIST:
    if (v->u.list.len >= NO_TEXT)
      return false;
    ws_bin_put_u32(b, (uint32_t)v->u.list.len);
    for (size_t i = 0; i < v->u.list.len; i++)
      if (!put_value(b, v->u.list.items[i]))
        return false;
    return true;
  case WS_VALUE_MAP:
    if (v->u.map.len >= NO_TEXT)
      return false;
    ws_bin_put_u32(b, (uint32_t)v->u.map.len);
    for (size_t i = 0; i < v->u.map.len; i++) {
      const ws_value_entry *e = &v->u.map.entries[i];
      if (!put_text(b, e->key))
        return false;
      ws_bin_put_u32(b, e->line);
      ws_bin_put_u32(b, e->col);
      if (!put_value(b, e->val))
        return false;
    }
    return true;
  case WS_VALUE_REF: /* parsing never makes one */
    return false;
  }
  return false;
}

static bool put_opt_value(ws_str *b, const ws_value *v) {
  ws_bin_put_u8(b, v != NULL);
  return !v || put_value(b, v);
}

static bool put_list(ws_str *b, char *const *items, size_t n) {
  if (n >= NO_TEXT)
    return false;
  ws_bin_put_u32(b, (uint32_t)n);
  for (size_t i = 0; i < n; i++)
    if (!put_text(b, items[i]))
      return false;
  return true;
}

/* The text fields of 'p' in record order, all but slug and path (which
 * are the keys). */
#define NTEXTS 13
static void text_fields(char **f[NTEXTS], ws_profile *p) {
  char **all[NTEXTS] = {&p->name,      &p->pronouns,   &p->pronunciation,
                        &p->role,      &p->team,       &p->location,
                        &p->timezone,  &p->joined,     &p->photo,
                        &p->dream_job, &p->goal_short, &p->goal_long,
                        &p->summary};
  memcpy(f, all, sizeof(all));
}

#define NNUMBERS 12
static void number_fields(unsigned *f[NNUMBERS], ws_profile *p) {
  unsigned *all[NNUMBERS] = {&p->photo_type, &p->photo_w,     &p->photo_h,
                             &p->seek_types, &p->offer_types, &p->formats,
                             &p->modes,      &p->capacity,    &p->name_line,
                             &p->name_col,   &p->photo_line,  &p->photo_col};
  memcpy(f, all, sizeof(all));
}

#define NLISTS 5
static void list_fields(ws_strlist *f[NLISTS], ws_profile *p) {
  ws_strlist *all[NLISTS] = {&p->strengths, &p->learning, &p->passion_projects,
                             &p->seek_topics, &p->offer_topics};
  memcpy(f, all, sizeof(all));
}

/* The record: the body's u32 length (so that the head is found without
 * going near the body, which a build mostly never reads), u32 count of
 * list slots, 13 texts (u32 length or NO_TEXT, bytes, NUL), 12 u32
 * numbers (with the positions of the name and the photo), u8 cross_team,
 * 5 lists and the sections (u32 count, texts), links and level (u8
 * present, value), u32 count of diagnostics (u8 severity, u32 line, u32
 * col, texts file, code, message) and the body's digest (of its bytes and
 * NUL): the head, which the index's digest covers. Then the body and a
 * NUL. A value is u8 type, u32 line, u32 col and its payload: u8, the
 * double's bits as u64, bytes, or u32 count and items (a map's items: key
 * text, u32 line, u32 col, value). */
/* The pointers the lists of 'p' take in its block: one at least each. */
static size_t list_slots(ws_profile *p) {
  ws_strlist *lists[NLISTS];
  list_fields(lists, p);
  size_t n = p->nsections ? p->nsections : 1;
  for (size_t i = 0; i < NLISTS; i++)
    n += lists[i]->len ? lists[i]->len : 1;
  return n;
}

/* Encodes the record of 'cp', whose body's digest is 'body_sum', and sets
 * '*head' to the length of its head. */
static bool encode_profile(ws_str *b, const ws_profile *cp,
                           const ws_diag *diag, const ws_digest *body_sum,
                           size_t *head) {
  ws_profile *p = (ws_profile *)cp; /* only read: the field tables */
  char **texts[NTEXTS];
  unsigned *numbers[NNUMBERS];
  ws_strlist *lists[NLISTS];
  text_fields(texts, p);
  number_fields(numbers, p);
  list_fields(lists, p);
  size_t start = b->len, body = p->body_html ? strlen(p->body_html) : 0;
  bool ok = p->body_html && body < NO_TEXT;
  ws_bin_put_u32(b, (uint32_t)body);
  ws_bin_put_u32(b, (uint32_t)list_slots(p));
  for (size_t i = 0; i < NTEXTS; i++)
    ok = ok && put_text(b, *texts[i]);
  for (size_t i = 0; i < NNUMBERS; i++)
    ws_bin_put_u32(b, *numbers[i]);
  ws_bin_put_u8(b, p->cross_team);
  for (size_t i = 0; i < NLISTS; i++)
    ok = ok && put_list(b, lists[i]->items, lists[i]->len);
  ok = ok && put_list(b, p->sections, p->nsections) &&
       put_opt_value(b, p->links) && put_opt_value(b, p->level) &&
       diag->len < NO_TEXT;
  ws_bin_put_digest(b, &p->card);
  ws_bin_put_digest(b, &p->link);
  ws_bin_put_digest(b, &p->match_key);
  ws_bin_put_u32(b, (uint32_t)diag->len);
  for (size_t i = 0; ok && i < diag->len; i++) {
    const ws_diag_item *it = &diag->items[i];
    ws_bin_put_u8(b, (unsigned)it->severity);
    ws_bin_put_u32(b, it->line);
    ws_bin_put_u32(b, it->col);
    ok = put_text(b, it->file) && put_text(b, it->code) &&
         put_text(b, it->message);
  }
  if (!ok)
    return false;
  ws_bin_put_digest(b, body_sum);
  *head = b->len - start;
  ws_str_put(b, p->body_html, body + 1);
  return true;
}

/* --- reading --- */

/* A key in place (see the layout), or NULL. */
static const char *get_key(ws_bin_reader *r) {
  uint32_t n = ws_bin_get_u32(r);
  const char *s = ws_bin_get_span(r, n < NO_TEXT ? (size_t)n + 1 : SIZE_MAX);
  if (!s || s[n] != '\0' || memchr(s, 0, n)) {
    r->bad = true;
    return NULL;
  }
  return s;
}

/* Where a decoded profile's lists, slug and path go (its texts stay in
 * the file): one allocation, sized by the count of list slots the record
 * starts with. A cached profile is thus one block instead of a dozen small
 * ones, allocated and later freed on every build, and is read in one pass
 * (measuring it first was half of decoding). */
typedef struct {
  char *next, *end;
} text_block;

static size_t aligned(size_t n) {
  return (n + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *);
}

/* 'n' bytes of the block, aligned for pointers, or NULL when the record
 * said it needed less. */
static void *block_take(text_block *b, size_t n) {
  if (aligned(n) > (size_t)(b->end - b->next))
    return NULL;
  void *p = b->next;
  b->next += aligned(n);
  return p;
}

static char *block_text(text_block *b, const char *s, size_t n) {
  char *p = block_take(b, n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* A text in place, NUL-terminated: '*s' NULL for NO_TEXT. False when the
 * bytes are missing, hold a NUL or do not end with one. */
static bool get_span(ws_bin_reader *r, const char **s, size_t *n) {
  uint32_t len = ws_bin_get_u32(r);
  *s = NULL;
  *n = 0;
  if (len == NO_TEXT)
    return !r->bad;
  *s = ws_bin_get_span(r, (size_t)len + 1);
  if (!*s || (*s)[len] != '\0' || memchr(*s, 0, len)) {
    *s = NULL;
    r->bad = true;
    return false;
  }
  *n = len;
  return true;
}

/* A C string into '*out', NULL for NO_TEXT: where it lies in the mapped
 * file, which outlives the profile (ws_profcache_keep_map). Copying the
 * texts of 10,000 profiles (a body each) cost more than decoding them. */
static bool get_text(ws_bin_reader *r, char **out) {
  const char *s;
  size_t n;
  bool ok = get_span(r, &s, &n);
  *out = (char *)(uintptr_t)s; /* never written: see profile.h */
  return ok;
}

/* A C string (caller frees) into '*out', as get_text reads it. */
static bool get_own_text(ws_bin_reader *r, char **out) {
  const char *s;
  size_t n;
  bool ok = get_span(r, &s, &n);
  *out = s ? ws_xstrndup(s, n) : NULL;
  return ok;
}

/* Reads a count of items at least 'min' bytes each; 0 and bad when the
 * rest of the record cannot hold them, so no allocation trusts it. */
static size_t get_count(ws_bin_reader *r, size_t min) {
  uint32_t n = ws_bin_get_u32(r);
  if (r->bad || n > (r->len - r->pos) / min) {
    r->bad = true;
    return 0;
  }
  return n;
}

static ws_value *get_value(ws_bin_reader *r, unsigned depth);

static bool get_list_items(ws_bin_reader *r, ws_value *v, unsigned depth) {
  size_t n = get_count(r, MIN_VALUE);
  if (r->bad)
    return false;
  v->u.list.items = ws_xcalloc(n ? n : 1, sizeof(ws_value *));
  v->u.list.cap = n ? n : 1;
  for (size_t i = 0; i < n; i++) {
    ws_value *item = get_value(r, depth + 1);
    if (!item)
      return false;
    v->u.list.items[v->u.list.len++] = item;
  }
  return true;
}

static bool get_map_entries(ws_bin_reader *r, ws_value *v, unsigned depth) {
  size_t n = get_count(r, MIN_MAP_ENTRY);
  if (r->bad)
    return false;
  v->u.map.entries = ws_xcalloc(n ? n : 1, sizeof(ws_value_entry));
  v->u.map.cap = n ? n : 1;
  for (size_t i = 0; i < n; i++) {
    ws_value_entry *e = &v->u.map.entries[i];
    char *key;
    if (!get_own_text(r, &key) || !key) {
      free(key);
      return false;
    }
    e->key = key;
    e->line = ws_bin_get_u32(r);
    e->col = ws_bin_get_u32(r);
    ws_value_map_keyed(e);
    v->u.map.len++; /* freed with the map from here on */
    if (!(e->val = get_value(r, depth + 1)))
      return false;
  }
  return true;
}

/* A value, or NULL (and the reader bad) when the bytes do not make one. */
static ws_value *get_value(ws_bin_reader *r, unsigned depth) {
  unsigned type = ws_bin_get_u8(r);
  unsigned line = ws_bin_get_u32(r), col = ws_bin_get_u32(r);
  ws_value *v = NULL;
  if (r->bad || depth > MAX_DEPTH) {
    r->bad = true;
    return NULL;
  }
  switch (type) {
  case WS_VALUE_NULL:
    v = ws_value_null();
    break;
  case WS_VALUE_BOOL: {
    unsigned b = ws_bin_get_u8(r);
    v = b <= 1 ? ws_value_bool(b == 1) : NULL;
    break;
  }
  case WS_VALUE_NUMBER: {
    uint64_t bits = ws_bin_get_u64(r);
    double d;
    memcpy(&d, &bits, 8);
    v = ws_value_number(d);
    break;
  }
  case WS_VALUE_STRING: {
    uint32_t n = ws_bin_get_u32(r);
    const char *s = ws_bin_get_span(r, n < NO_TEXT ? n : SIZE_MAX);
    v = s ? ws_value_string(s, n) : NULL;
    break;
  }
  case WS_VALUE_LIST:
    v = ws_value_list();
    if (!get_list_items(r, v, depth)) {
      ws_value_free(v);
      v = NULL;
    }
    break;
  case WS_VALUE_MAP:
    v = ws_value_map();
    if (!get_map_entries(r, v, depth)) {
      ws_value_free(v);
      v = NULL;
    }
    break;
  default:
    break;
  }
  if (!v || r->bad) {
    ws_value_free(v);
    r->bad = true;
    return NULL;
  }
  v->line = line;
  v->col = col;
  return v;
}

/* An optional value of type 'want', or of any type when 'any'. */
static bool get_opt_value(ws_bin_reader *r, ws_value **out, ws_value_type want,
                          bool any) {
  unsigned present = ws_bin_get_u8(r);
  *out = NULL;
  if (r->bad || present > 1)
    return false;
  if (present && !(*out = get_value(r, 0)))
    return false;
  return !*out || any || (*out)->type == want;
}

static bool get_list(ws_bin_reader *r, char ***items, size_t *n, size_t max,
                     text_block *b) {
  size_t count = get_count(r, 4);
  if (r->bad || count > max)
    return false;
  char **all = block_take(b, (count ? count : 1) * sizeof(char *));
  if (!all)
    return false;
  for (size_t i = 0; i < count; i++)
    if (!get_text(r, &all[i]) || !all[i])
      return false;
  *items = all;
  *n = count;
  return true;
}

/* The numbers must be ones the schema check can produce: pages index
 * tables with them. */
static bool numbers_valid(const ws_profile *p) {
  unsigned types = (1u << WS_MENTOR__COUNT) - 1;
  unsigned formats = WS_FORMAT_ONE_ON_ONE | WS_FORMAT_GROUP;
  unsigned modes = WS_MODE_VIRTUAL | WS_MODE_IN_PERSON;
  return p->photo_type <= WS_IMAGE_WEBP && !(p->seek_types & ~types) &&
         !(p->offer_types & ~types) && !(p->formats & ~formats) &&
         !(p->modes & ~modes) && p->capacity <= WS_PROFILE_MAX_CAPACITY;
}

/* The texts, numbers and lists of a record into 'p', the texts and lists
 * from 'b'. */
static bool decode_texts(ws_bin_reader *r, ws_profile *p, text_block *b) {
  char **texts[NTEXTS];
  unsigned *numbers[NNUMBERS];
  ws_strlist *lists[NLISTS];
  text_fields(texts, p);
  number_fields(numbers, p);
  list_fields(lists, p);
  for (size_t i = 0; i < NTEXTS; i++)
    if (!get_text(r, texts[i]))
      return false;
  for (size_t i = 0; i < NNUMBERS; i++)
    *numbers[i] = ws_bin_get_u32(r);
  unsigned cross = ws_bin_get_u8(r);
  p->cross_team = cross == 1;
  if (r->bad || cross > 1 || !numbers_valid(p))
    return false;
  for (size_t i = 0; i < NLISTS; i++)
    if (!get_list(r, &lists[i]->items, &lists[i]->len, WS_PROFILE_MAX_ITEMS, b))
      return false;
  return get_list(r, &p->sections, &p->nsections, SIZE_MAX, b);
}

/* Decodes the record into 'p' (empty but for its block), its slug and path
 * with it, into one block. */
static bool decode_fields(ws_bin_reader *r, ws_profile *p, const char *path,
                          const char *slug) {
  /* Each slot stands for a list item of at least 5 bytes, or an empty
   * list, so the rest of the record bounds them. */
  (void)ws_bin_get_u32(r); /* the body's length: see head_length */
  size_t slots = ws_bin_get_u32(r);
  if (r->bad || slots > (r->len - r->pos) / 4 + NLISTS + 1)
    return false;
  size_t need = slots * sizeof(char *) + aligned(strlen(slug) + 1) +
                aligned(strlen(path) + 1);
  p->block = ws_xmalloc(need);
  text_block b = {p->block, p->block + need};
  if (!decode_texts(r, p, &b))
    return false;
  p->slug = block_text(&b, slug, strlen(slug));
  p->path = block_text(&b, path, strlen(path));
  if (!p->slug || !p->path)
    return false;
  if (!get_opt_value(r, &p->links, WS_VALUE_LIST, false) ||
      !get_opt_value(r, &p->level, WS_VALUE_NULL, true))
    return false;
  p->card = ws_bin_get_digest(r);
  p->link = ws_bin_get_digest(r);
  p->match_key = ws_bin_get_digest(r);
  return !r->bad && p->name && p->summary;
}

/* Only warnings are kept; they go through ws_diag_add like new ones. */
static bool decode_diags(ws_bin_reader *r, ws_diag *out) {
  size_t n = get_count(r, MIN_DIAG);
  for (size_t i = 0; i < n && !r->bad; i++) {
    unsigned sev = ws_bin_get_u8(r);
    unsigned line = ws_bin_get_u32(r), col = ws_bin_get_u32(r);
    char *file = NULL, *code = NULL, *message = NULL;
    if (get_own_text(r, &file) && get_own_text(r, &code) &&
        get_own_text(r, &message) && file && code && message &&
        sev == WS_DIAG_WARNING)
      ws_diag_add(out, WS_DIAG_WARNING, file, line, col, code, "%s", message);
    else
      r->bad = true;
    free(file);
    free(code);
    free(message);
  }
  return !r->bad;
}

/* The length of the head of 'rec' (see the layout), from the body's length
 * it starts with; 0 when that cannot be right. The head's digest then
 * tells whether it was. */
static size_t head_length(const record *rec) {
  ws_bin_reader r = {rec->body, rec->len, 0, false};
  size_t body = ws_bin_get_u32(&r);
  return !r.bad && body + 1 + 4 < rec->len ? rec->len - body - 1 : 0;
}

/* The body's digest that closes the head, into 'p': its body lies right
 * after the head. */
static bool decode_body(ws_bin_reader *r, const record *rec, ws_profile *p) {
  size_t body = rec->len - r->len - 1;
  p->cached_body_sum = ws_bin_get_digest(r);
  if (r->bad || r->pos != r->len)
    return false;
  p->cached_body = rec->body + r->len;
  p->cached_body_len = body;
  return true;
}

/* --- the cache file --- */

/* Checks that every record lies between the header and the index, and
 * that the paths are sorted. */
static const char *place_records(ws_profcache *pc) {
  for (size_t i = 0; i < pc->nrecords; i++) {
    record *rec = &pc->records[i];
    if (rec->off < pc->header || rec->off > pc->index ||
        rec->len > pc->index - rec->off)
      return "corrupt (a record out of place)";
    rec->body = pc->data.ptr + rec->off;
    if (i && strcmp(pc->records[i - 1].path, rec->path) >= 0)
      return "corrupt (not sorted)";
  }
  return NULL;
}

/* The digest a trailer holds: of the header and of the index. */
static ws_digest index_sum(const char *header, size_t header_len,
                           const char *index, size_t index_len) {
  ws_digester *d = ws_digester_new();
  ws_digester_bytes(d, header, header_len);
  ws_digester_bytes(d, index, index_len);
  ws_digest sum = ws_digester_end(d);
  ws_digester_free(d);
  return sum;
}

/* Checks the header, the trailer and the index; returns why the file
 * cannot be used, or NULL. */
static const char *decode_index(ws_profcache *pc) {
  size_t magic = strlen(MAGIC), len = pc->data.len;
  if (len < magic || memcmp(pc->data.ptr, MAGIC, magic) != 0)
    return "not a profile cache";
  ws_bin_reader r = {pc->data.ptr, len, magic, false};
  uint64_t version = ws_bin_get_u64(&r);
  ws_digest prog = ws_bin_get_digest(&r);
  const char *folder = get_key(&r);
  if (r.bad)
    return "truncated";
  if (version != VERSION)
    return "another format version";
  pc->header = r.pos;
  if (len - pc->header < TRAILER)
    return "truncated";
  const char *tail = pc->data.ptr + len - TRAILER;
  if (memcmp(tail + 24, TRAILER_MAGIC, 8) != 0)
    return "truncated";
  ws_bin_reader t = {tail, TRAILER, 0, false};
  uint64_t index = ws_bin_get_u64(&t);
  ws_digest sum = ws_bin_get_digest(&t);
  if (index < pc->header || index > len - TRAILER)
    return "corrupt";
  pc->index = (size_t)index;
  size_t index_len = len - TRAILER - pc->index;
  ws_digest want =
      index_sum(pc->data.ptr, pc->header, pc->data.ptr + pc->index, index_len);
  if (!ws_digest_equal(&sum, &want))
    return "corrupt (checksum)";
  if (!ws_digest_equal(&prog, &pc->program))
    return "written by another build of wholeself";
  if (strcmp(folder, pc->content) != 0)
    return "another content folder";
  ws_bin_reader x = {pc->data.ptr + pc->index, index_len, 0, false};
  size_t n = (size_t)ws_bin_get_u64(&x);
  if (x.bad || n > (index_len - x.pos) / MIN_INDEX_ENTRY)
    return "corrupt";
  pc->records = ws_xcalloc(n ? n : 1, sizeof(record));
  for (size_t i = 0; i < n && !x.bad; i++) {
    record *rec = &pc->records[i];
    size_t from = x.pos;
    rec->path = get_key(&x);
    rec->oid = get_key(&x);
    rec->photo = get_key(&x);
    rec->photo_oid = get_key(&x);
    uint64_t off = ws_bin_get_u64(&x), rlen = ws_bin_get_u64(&x);
    rec->off = (size_t)(off < SIZE_MAX ? off : SIZE_MAX);
    rec->len = (size_t)(rlen < SIZE_MAX ? rlen : SIZE_MAX);
    rec->sum = ws_bin_get_digest(&x);
    rec->entry = pc->data.ptr + pc->index + from;
    rec->entry_len = x.pos - from;
  }
  if (x.bad)
    return "corrupt";
  if (x.pos != index_len)
    return "corrupt (trailing bytes)";
  pc->nrecords = n;
  return place_records(pc);
}

ws_profcache *ws_profcache_open(ws_source *src, const ws_source_list *files,
                                size_t n) {
  ws_profcache *pc = ws_xcalloc(1, sizeof(*pc));
  const char *content = ws_source_content(src);
  pc->files = files;
  pc->content = ws_xstrdup(content);
  pc->known = program_id(&pc->program);
  pc->dir = (ws_str)WS_STR_INIT;
  pc->file = (ws_str)WS_STR_INIT;
  pc->n = n;
  pc->slots = ws_xcalloc(n ? n : 1, sizeof(slot_state));
  ws_str_printf(&pc->dir, "%swholeself", ws_source_git_dir(src));
  ws_digest folder = ws_digest_bytes(content, strlen(content));
  ws_str_printf(&pc->file, "%s/profiles-%016llx", pc->dir.ptr,
                (unsigned long long)folder.hi);
  pc->why = pc->known ? ws_bin_map_file(&pc->data, pc->file.ptr)
                      : "cannot identify the program";
  if (!pc->why)
    pc->why = decode_index(pc);
  if (pc->why) {
    free(pc->records);
    pc->records = NULL;
    pc->nrecords = 0;
    ws_bin_unmap(&pc->data);
  }
  return pc;
}

/* A listed regular file with a known blob id, or NULL. */
static const ws_source_entry *find_file(const ws_source_list *files,
                                        const char *path) {
  const ws_source_entry *e = ws_source_list_find(files, path);
  return e && e->kind == WS_ENTRY_FILE && e->oid[0] ? e : NULL;
}

static const record *find_record(const ws_profcache *pc, const char *path) {
  size_t lo = 0, hi = pc->nrecords;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(pc->records[mid].path, path);
    if (c == 0)
      return &pc->records[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* A profile without a photo does not depend on the photos at all; one
 * with a photo was checked against that file. */
static bool photo_same(const ws_profcache *pc, const record *rec) {
  if (!rec->photo[0])
    return true;
  const ws_source_entry *ph = find_file(pc->files, rec->photo);
  return ph && strcmp(ph->oid, rec->photo_oid) == 0;
}

/* What tells this profile from any other: its record, by the checksum
 * just verified, where it was read from, and its slug. */
static ws_digest profile_digest(const ws_digest *sum, const char *path,
                                const char *slug) {
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, sum);
  ws_digester_str(d, path);
  ws_digester_str(d, slug);
  ws_digest out = ws_digester_end(d);
  ws_digester_free(d);
  return out;
}

static ws_profile *decode(const record *rec, size_t head, const ws_digest *sum,
                          const char *path, const char *slug, ws_diag *diag) {
  ws_bin_reader r = {rec->body, head, 0, false};
  ws_profile *p = ws_xcalloc(1, sizeof(*p));
  if (!decode_fields(&r, p, path, slug) ||
      strcmp(p->photo ? p->photo : "", rec->photo) != 0 ||
      !decode_diags(&r, diag) || !decode_body(&r, rec, p)) {
    ws_profile_free(p);
    return NULL;
  }
  p->digest = profile_digest(sum, path, slug);
  return p;
}

bool ws_profcache_get(ws_profcache *pc, size_t slot, const ws_source_entry *e,
                      const char *path, const char *slug, ws_profile **out,
                      ws_diag *diag) {
  const record *rec = find_record(pc, e->path);
  if (!rec || !e->oid[0] || strcmp(rec->oid, e->oid) != 0 ||
      !photo_same(pc, rec))
    return false;
  size_t head = head_length(rec);
  ws_digest sum = ws_digest_bytes(rec->body, head);
  if (!head || !ws_digest_equal(&sum, &rec->sum))
    return false;
  ws_diag warnings = WS_DIAG_INIT;
  ws_profile *p = decode(rec, head, &sum, path, slug, &warnings);
  if (!p) {
    ws_diag_release(&warnings);
    return false;
  }
  ws_diag_move(diag, &warnings);
  pc->slots[slot].hit = rec;
  *out = p;
  return true;
}

void ws_profcache_put(ws_profcache *pc, size_t slot, const ws_source_entry *e,
                      ws_profile *p, const ws_diag *diag) {
  slot_state *s = &pc->slots[slot];
  const ws_source_entry *photo =
      p->photo ? find_file(pc->files, p->photo) : NULL;
  if (!pc->known || !e->oid[0] || (p->photo && !photo) ||
      ws_diag_count(diag, WS_DIAG_ERROR) > 0)
    return;
  ws_str body = WS_STR_INIT;
  /* Made once here, where the profile was parsed, and kept with it:
   * every later build reads them instead of hashing every field again. */
  ws_profile_card_digests(p, &p->card, &p->link);
  p->match_key = ws_matchcache_person_key(p);
  size_t head = 0;
  if (p->body_html)
    s->body_sum = ws_digest_bytes(p->body_html, strlen(p->body_html) + 1);
  if (encode_profile(&body, p, diag, &s->body_sum, &head)) {
    s->fresh = true;
    s->p = p;
    s->diag = diag;
    s->len = body.len;
    s->sum = ws_digest_bytes(body.ptr, head);
    /* The same digest a load from the cache will give it. */
    p->digest = profile_digest(&s->sum, p->path, p->slug);
    s->entry = e;
    s->photo = photo;
  }
  ws_str_release(&body);
}

/* Buffered output to a descriptor at offset 'at'; 'ok' turns false on the
 * first error. */
typedef struct {
  int fd;
  size_t at; /* where the next byte goes in the file */
  ws_str buf;
  bool ok;
} sink;

static void sink_flush(sink *k) {
  size_t off = 0;
  while (k->ok && off < k->buf.len) {
    ssize_t n = write(k->fd, k->buf.ptr + off, k->buf.len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      k->ok = false;
    else
      off += (size_t)n;
  }
  ws_str_clear(&k->buf);
}

static void sink_put(sink *k, const char *data, size_t len) {
  ws_str_put(&k->buf, data, len);
  k->at += len;
  if (k->buf.len >= (1u << 20))
    sink_flush(k);
}

/* Writes the new record of 's' where the sink is, encoding it again as
 * ws_profcache_put did, and notes where it went. */
static void sink_record(sink *k, slot_state *s) {
  size_t start = k->buf.len;
  size_t head;
  s->off = k->at;
  encode_profile(&k->buf, s->p, s->diag, &s->body_sum, &head);
  if (k->buf.len - start != s->len) /* the profile changed since: never */
    k->ok = false;
  k->at += k->buf.len - start;
  if (k->buf.len >= (1u << 20))
    sink_flush(k);
}

static void encode_header(ws_str *b, const ws_profcache *pc) {
  ws_str_puts(b, MAGIC);
  ws_bin_put_u64(b, VERSION);
  ws_bin_put_digest(b, &pc->program);
  put_key(b, pc->content);
}

static void encode_entry(ws_str *b, const char *path, const char *oid,
                         const char *photo, const char *photo_oid, size_t off,
                         size_t len, const ws_digest *sum) {
  put_key(b, path);
  put_key(b, oid);
  put_key(b, photo);
  put_key(b, photo_oid);
  ws_bin_put_u64(b, off);
  ws_bin_put_u64(b, len);
  ws_bin_put_digest(b, sum);
}

/* The index of every slot kept ('where' tells where each hit's record is
 * in the file being written), then the trailer. 'header' is that file's
 * header and 'at' where the index starts. */
static void encode_index(ws_str *b, const ws_profcache *pc, size_t n,
                         const size_t *where, const ws_str *header, size_t at) {
  size_t start = b->len;
  ws_bin_put_u64(b, n);
  for (size_t i = 0; i < pc->n; i++) {
    const slot_state *s = &pc->slots[i];
    /* A record left where it was (appending) keeps its entry as read:
     * encoding 10,000 entries again was most of saving after a push. */
    if (s->hit && where[i] == s->hit->off)
      ws_str_put(b, s->hit->entry, s->hit->entry_len);
    else if (s->hit)
      encode_entry(b, s->hit->path, s->hit->oid, s->hit->photo,
                   s->hit->photo_oid, where[i], s->hit->len, &s->hit->sum);
    else if (s->fresh)
      encode_entry(b, s->entry->path, s->entry->oid,
                   s->photo ? s->photo->path : "",
                   s->photo ? s->photo->oid : "", s->off, s->len, &s->sum);
  }
  ws_digest sum =
      index_sum(header->ptr, header->len, b->ptr + start, b->len - start);
  ws_bin_put_u64(b, at);
  ws_bin_put_digest(b, &sum);
  ws_str_put(b, TRAILER_MAGIC, 8);
}

/* Writes a new file through a temporary file and a rename, so that a
 * concurrent build reads the old file or the new one. */
static bool write_whole(ws_profcache *pc, size_t n) {
  ws_str tmp = WS_STR_INIT, header = WS_STR_INIT;
  size_t *where = ws_xcalloc(pc->n ? pc->n : 1, sizeof(size_t));
  sink k = {-1, 0, WS_STR_INIT, true};
  ws_str_printf(&tmp, "%s.tmp.%ld", pc->file.ptr, (long)getpid());
  (void)mkdir(pc->dir.ptr, 0777);
  k.fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  k.ok = k.fd >= 0;
  encode_header(&header, pc);
  sink_put(&k, header.ptr, header.len);
  for (size_t i = 0; i < pc->n && k.ok; i++) {
    slot_state *s = &pc->slots[i];
    if (s->hit) {
      where[i] = k.at;
      sink_put(&k, s->hit->body, s->hit->len);
    } else if (s->fresh) {
      sink_record(&k, s);
    }
  }
  encode_index(&k.buf, pc, n, where, &header, k.at);
  sink_flush(&k);
  bool ok = k.fd >= 0 && close(k.fd) == 0 && k.ok &&
            rename(tmp.ptr, pc->file.ptr) == 0;
  if (!ok && k.fd >= 0)
    unlink(tmp.ptr);
  free(where);
  ws_str_release(&k.buf);
  ws_str_release(&header);
  ws_str_release(&tmp);
  return ok;
}

/* Appends a segment to the file that was read: the new records, then an
 * index of every slot kept. False, leaving the file as it was, when that
 * file is no longer the one at the path or has grown since (another build
 * saved meanwhile) or cannot be written. */
static bool write_append(ws_profcache *pc, size_t n) {
  int fd = open(pc->file.ptr, O_WRONLY | O_CLOEXEC);
  struct stat now, was;
  if (fd < 0)
    return false;
  if (flock(fd, LOCK_EX) < 0 || fstat(fd, &now) < 0 ||
      stat(pc->file.ptr, &was) < 0 || now.st_ino != was.st_ino ||
      now.st_dev != was.st_dev || (uint64_t)now.st_size != pc->data.len ||
      lseek(fd, (off_t)pc->data.len, SEEK_SET) < 0) {
    close(fd);
    return false;
  }
  ws_str header = WS_STR_INIT;
  size_t *where = ws_xcalloc(pc->n ? pc->n : 1, sizeof(size_t));
  sink k = {fd, pc->data.len, WS_STR_INIT, true};
  ws_str_put(&header, pc->data.ptr, pc->header);
  for (size_t i = 0; i < pc->n && k.ok; i++) {
    slot_state *s = &pc->slots[i];
    if (s->hit)
      where[i] = s->hit->off;
    else if (s->fresh)
      sink_record(&k, s);
  }
  encode_index(&k.buf, pc, n, where, &header, k.at);
  sink_flush(&k);
  /* A segment cut short (a full disk) is left as it is, not cut off: a
   * build that mapped the file meanwhile would fault on pages cut from
   * under it. The next load finds no trailer at the end and writes a new
   * file. */
  bool ok = close(fd) == 0 && k.ok;
  free(where);
  ws_str_release(&k.buf);
  ws_str_release(&header);
  return ok;
}

/* Appending pays while most of the file is still listed: the records of
 * this save must be at least half of what the file would hold. */
static bool worth_appending(const ws_profcache *pc) {
  size_t live = 0, added = 0;
  for (size_t i = 0; i < pc->n; i++) {
    const slot_state *s = &pc->slots[i];
    live += s->hit ? s->hit->len : s->fresh ? s->len : 0;
    added += s->fresh ? s->len : 0;
  }
  size_t index = pc->n * (MIN_INDEX_ENTRY + 64); /* about: keys vary */
  return !pc->why && live >= (pc->data.len + added + index) / 2;
}

void ws_profcache_save(ws_profcache *pc, ws_profcache_stats *out) {
  size_t hits = 0, fresh = 0;
  for (size_t i = 0; i < pc->n; i++) {
    hits += pc->slots[i].hit != NULL;
    fresh += pc->slots[i].fresh;
  }
  bool missing = pc->why && strcmp(pc->why, "missing") == 0;
  out->hits = hits;
  out->ignored = missing ? NULL : pc->why;
  if (!pc->known) {
    out->status = "not used";
    return;
  }
  if (!pc->why && !fresh && hits == pc->nrecords) {
    out->status = "up to date";
    return;
  }
  if (missing && !fresh) {
    out->status = "not needed (nothing to keep)";
    return;
  }
  out->status = !pc->why ? "updated" : missing ? "created" : "rebuilt";
  if (!(worth_appending(pc) && write_append(pc, hits + fresh)) &&
      !write_whole(pc, hits + fresh))
    out->status = "not saved (cannot write it)";
}

void ws_profcache_keep_map(ws_profcache *pc, ws_bin_map *out) {
  *out = pc->data;
  pc->data = (ws_bin_map){NULL, 0};
}

void ws_profcache_free(ws_profcache *pc) {
  if (!pc)
    return;
  free(pc->slots);
  free(pc->records);
  ws_bin_unmap(&pc->data);
  ws_str_release(&pc->dir);
  ws_str_release(&pc->file);
  free(pc->content);
  free(pc);
}
