#include "matchcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binio.h"
#include "pool.h"
#include "value.h"
#include "xalloc.h"

/* --- the file ---
 *
 * <git dir>/wholeself/matches-<hash of the content folder>:
 *
 *   "wholeself match cache\n", u64 version, digest key, u64 npeople,
 *   u64 demand, i64 total_score, u64 rounds,
 *   u64 npairs, npairs x (u64 mentee, u64 mentor, u8 type, i32 score,
 *     u8 reverse, u32 nreasons, nreasons x text),
 *   u64 nunmet, nunmet x (u64 person, u8 type, text reason),
 *   u64 ncircles, ncircles x (text topic, text slug, u64 noffering,
 *     u64 nmembers, nmembers x u64 person),
 *   digest of everything before it.
 *
 * A text is a u32 length, the bytes and a NUL. Numbers are little-endian
 * (signed ones in two's complement); a digest is XXH3-128 as u64 hi, u64
 * lo, the checksum that of ws_digester_bytes over the bytes before it.
 * The per-person lookups (mentor_start, by_mentor, circle_of) are not
 * stored: ws_match_index rebuilds them from the pairs and circles. */

#define MAGIC "wholeself match cache\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)
#define VERSION 2
#define DIGEST 16
#define HEADER (MAGIC_LEN + 8 + DIGEST)
#define MIN_TEXT (4 + 1)
#define MIN_PAIR (8 + 8 + 1 + 4 + 1 + 4)
#define MIN_UNMET (8 + 1 + MIN_TEXT)
#define MIN_CIRCLE (2 * MIN_TEXT + 8 + 8)

/* Why a file is not used when that is no fault of the file. */
#define MISSING "missing"
#define STALE "out of date"

/* --- the key ---
 *
 * The fields are laid out in a buffer, each with its length, and hashed a
 * block of people at a time, the blocks on every core: the time goes in
 * reaching 10,000 profiles' strings in memory, not in hashing them. */

#define KEY_BLOCK 512 /* people */

static void key_u64(ws_str *b, uint64_t v) {
  ws_str_put(b, (const char *)&v, sizeof(v));
}

/* NULL and "" are told apart: match.c compares 'joined' when it is not
 * NULL, even when it is empty. */
static void key_text(ws_str *b, const char *s) {
  if (!s) {
    key_u64(b, UINT64_MAX);
    return;
  }
  size_t len = strlen(s);
  key_u64(b, len);
  ws_str_put(b, s, len);
}

static void key_list(ws_str *b, const ws_strlist *l) {
  key_u64(b, l->len);
  for (size_t i = 0; i < l->len; i++)
    key_text(b, l->items[i]);
}

/* Everything match.c reads of a person; keep it in step (see the comment
 * at the top of match.c): a field read there but missing here means stale
 * matches after an edit of that field. tests/test_matchcache.c changes
 * each field alone and checks that the key follows.
 *
 *   slug           order of every list and every tie
 *   team, location same team, cross_team, in person; reason texts
 *   timezone       the built-in table of ws_match_tz_offset, not the
 *                  machine's tzdata: the program identity covers it
 *   joined         reverse mentoring and its reason text
 *   strengths, learning, seek_topics, offer_topics
 *                  shared topics, circles; spellings appear in texts
 *   seek_types, offer_types, formats, modes, capacity, cross_team
 *   data "level"   reverse mentoring (the whole value: match.c decides
 *                  what counts as a level)
 *
 * Nothing else: not the name, role, body, photo, links or history, nor
 * the number of jobs (the result is the same for any). The libc calls
 * (strcmp, strcasecmp, qsort, printf of numbers) run in the C locale, as
 * wholeself never calls setlocale, so only the executable matters. */
static void key_person(ws_str *b, ws_digester *values, const ws_profile *p) {
  key_text(b, p->slug);
  key_text(b, p->team);
  key_text(b, p->location);
  key_text(b, p->timezone);
  key_text(b, p->joined);
  key_list(b, &p->strengths);
  key_list(b, &p->learning);
  key_list(b, &p->seek_topics);
  key_list(b, &p->offer_topics);
  key_u64(b, p->seek_types);
  key_u64(b, p->offer_types);
  key_u64(b, p->formats);
  key_u64(b, p->modes);
  key_u64(b, p->capacity);
  key_u64(b, p->cross_team);
  ws_digester_value(values, p->level, NULL, NULL);
  ws_digest level = ws_digester_end(values);
  key_u64(b, level.hi);
  key_u64(b, level.lo);
}

typedef struct {
  ws_profile *const *people;
  size_t n;
  ws_digest *blocks;
} key_job;

/* The digest of what key_person writes of 'p', with 'b' and 'values' as
 * scratch. */
static ws_digest person_key(ws_str *b, ws_digester *values,
                            const ws_profile *p) {
  ws_str_clear(b);
  key_person(b, values, p);
  return ws_digest_bytes(b->ptr, b->len);
}

ws_digest ws_matchcache_person_key(const ws_profile *p) {
  ws_str b = WS_STR_INIT;
  ws_digester *values = ws_digester_new();
  ws_digest out = person_key(&b, values, p);
  ws_digester_free(values);
  ws_str_release(&b);
  return out;
}

/* A profile from the profile cache brings its key, made when it was
 * parsed; only the others are worked out here. */
static int key_block(void *payload, size_t i) {
  key_job *j = payload;
  ws_digester *d = ws_digester_new(), *values = ws_digester_new();
  ws_str b = WS_STR_INIT;
  for (size_t k = i * KEY_BLOCK; k < (i + 1) * KEY_BLOCK && k < j->n; k++) {
    const ws_profile *p = j->people[k];
    ws_digest key = p->match_key;
    if (!key.hi && !key.lo)
      key = person_key(&b, values, p);
    ws_digester_digest(d, &key);
  }
  j->blocks[i] = ws_digester_end(d);
  ws_str_release(&b);
  ws_digester_free(values);
  ws_digester_free(d);
  return 0;
}

bool ws_matchcache_key(ws_digest *out, ws_profile *const *people, size_t n,
                       unsigned jobs) {
  ws_digest program;
  if (!ws_digest_program(&program))
    return false;
  size_t nblocks = (n + KEY_BLOCK - 1) / KEY_BLOCK;
  key_job j = {people, n, ws_xcalloc(nblocks + 1, sizeof(ws_digest))};
  ws_pool_run(jobs, nblocks, key_block, &j);
  ws_digester *d = ws_digester_new();
  ws_digester_str(d, MAGIC);
  ws_digester_bytes(d, &(uint64_t){VERSION}, sizeof(uint64_t));
  ws_digester_digest(d, &program);
  ws_digester_bytes(d, &(uint64_t){n}, sizeof(uint64_t));
  for (size_t i = 0; i < nblocks; i++)
    ws_digester_digest(d, &j.blocks[i]);
  *out = ws_digester_end(d);
  ws_digester_free(d);
  free(j.blocks);
  return true;
}

/* --- writing --- */

/* Texts are reasons and topics: far below 4 GB, but cut rather than wrap
 * (a cut text fails the check on reading, and the matches are computed). */
static void put_text(ws_str *b, const char *s) {
  size_t len = s ? strlen(s) : 0;
  ws_bin_put_u32(b, len < UINT32_MAX ? (uint32_t)len : UINT32_MAX);
  ws_str_put(b, s ? s : "", len);
  ws_str_putc(b, '\0');
}

static void put_pair(ws_str *b, const ws_match_pair *p) {
  ws_bin_put_u64(b, p->mentee);
  ws_bin_put_u64(b, p->mentor);
  ws_bin_put_u8(b, p->type);
  ws_bin_put_u32(b, (uint32_t)p->score);
  ws_bin_put_u8(b, p->reverse);
  ws_bin_put_u32(b, (uint32_t)p->reasons.len);
  for (size_t k = 0; k < p->reasons.len; k++)
    put_text(b, p->reasons.items[k]);
}

static void put_circle(ws_str *b, const ws_circle *c) {
  put_text(b, c->topic);
  put_text(b, c->slug);
  ws_bin_put_u64(b, c->noffering);
  ws_bin_put_u64(b, c->nmembers);
  for (size_t k = 0; k < c->nmembers; k++)
    ws_bin_put_u64(b, c->members[k]);
}

void ws_matchcache_encode(ws_str *out, const ws_digest *key,
                          const ws_match *m) {
  size_t start = out->len;
  ws_str_puts(out, MAGIC);
  ws_bin_put_u64(out, VERSION);
  ws_bin_put_digest(out, key);
  ws_bin_put_u64(out, m->npeople);
  ws_bin_put_u64(out, m->demand);
  ws_bin_put_u64(out, (uint64_t)m->total_score);
  ws_bin_put_u64(out, m->rounds);
  ws_bin_put_u64(out, m->npairs);
  for (size_t i = 0; i < m->npairs; i++)
    put_pair(out, &m->pairs[i]);
  ws_bin_put_u64(out, m->nunmet);
  for (size_t i = 0; i < m->nunmet; i++) {
    ws_bin_put_u64(out, m->unmet[i].person);
    ws_bin_put_u8(out, m->unmet[i].type);
    put_text(out, m->unmet[i].reason);
  }
  ws_bin_put_u64(out, m->ncircles);
  for (size_t i = 0; i < m->ncircles; i++)
    put_circle(out, &m->circles[i]);
  ws_digest sum = ws_digest_bytes(out->ptr + start, out->len - start);
  ws_bin_put_digest(out, &sum);
}

/* --- reading: every count and index checked before it is used --- */

/* A count of items of at least 'min' bytes each: 0 and bad when the rest
 * of the file cannot hold them, so no allocation trusts it. */
static size_t get_count(ws_bin_reader *r, uint64_t n, size_t min) {
  if (r->bad || n > (r->len - r->pos) / min) {
    r->bad = true;
    return 0;
  }
  return (size_t)n;
}

/* A person's index: below 'n', else 0 and bad. */
static size_t get_index(ws_bin_reader *r, size_t n) {
  uint64_t v = ws_bin_get_u64(r);
  if (v >= n)
    r->bad = true;
  return r->bad ? 0 : (size_t)v;
}

static ws_mentor_type get_type(ws_bin_reader *r) {
  unsigned t = ws_bin_get_u8(r);
  if (t >= WS_MENTOR__COUNT)
    r->bad = true;
  return r->bad ? 0 : (ws_mentor_type)t;
}

/* A text (caller frees), or NULL when it is not a whole NUL-terminated
 * string without NULs inside. */
/* A text where it lies in the match's own copy of the file (ws_match
 * texts): 77,000 of them at 10,000 profiles, copied one by one, were most
 * of reading the cache. */
static char *get_text(ws_bin_reader *r) {
  uint32_t n = ws_bin_get_u32(r);
  if (!ws_bin_need(r, (size_t)n + 1) || r->p[r->pos + n] != '\0' ||
      memchr(r->p + r->pos, 0, n)) {
    r->bad = true;
    return NULL;
  }
  char *s = (char *)(uintptr_t)(r->p + r->pos);
  r->pos += (size_t)n + 1;
  return s;
}

static bool get_pair(ws_bin_reader *r, ws_match_pair *p, size_t npeople) {
  p->mentee = get_index(r, npeople);
  p->mentor = get_index(r, npeople);
  p->type = get_type(r);
  p->score = (int)(int32_t)ws_bin_get_u32(r);
  unsigned reverse = ws_bin_get_u8(r);
  size_t n = get_count(r, ws_bin_get_u32(r), MIN_TEXT);
  if (r->bad || reverse > 1 || p->mentee == p->mentor)
    return false;
  p->reverse = reverse;
  p->reasons.items = ws_xcalloc(n ? n : 1, sizeof(char *));
  for (size_t k = 0; k < n; k++) {
    char *s = get_text(r);
    if (!s)
      return false;
    p->reasons.items[p->reasons.len++] = s;
  }
  return true;
}

static bool get_unmet(ws_bin_reader *r, ws_match_unmet *u, size_t npeople) {
  u->person = get_index(r, npeople);
  u->type = get_type(r);
  u->reason = r->bad ? NULL : get_text(r);
  return u->reason != NULL;
}

static bool get_circle(ws_bin_reader *r, ws_circle *c, size_t npeople) {
  c->topic = get_text(r);
  c->slug = r->bad ? NULL : get_text(r);
  uint64_t offering = ws_bin_get_u64(r);
  c->members = NULL;
  size_t n = get_count(r, ws_bin_get_u64(r), 8);
  if (r->bad || n == 0 || n > WS_CIRCLE_MAX || offering > n)
    return false;
  c->noffering = (size_t)offering;
  c->members = ws_xcalloc(n, sizeof(size_t));
  for (; c->nmembers < n && !r->bad; c->nmembers++)
    c->members[c->nmembers] = get_index(r, npeople);
  return !r->bad;
}

/* Each list item is counted in its list as soon as it is allocated, so
 * that ws_match_free frees what a failure leaves half read. */
static bool get_lists(ws_bin_reader *r, ws_match *m) {
  size_t n = get_count(r, ws_bin_get_u64(r), MIN_PAIR);
  m->pairs = ws_xcalloc(n ? n : 1, sizeof(ws_match_pair));
  for (; m->npairs < n;)
    if (!get_pair(r, &m->pairs[m->npairs++], m->npeople))
      return false;
  n = get_count(r, ws_bin_get_u64(r), MIN_UNMET);
  m->unmet = ws_xcalloc(n ? n : 1, sizeof(ws_match_unmet));
  for (; m->nunmet < n;)
    if (!get_unmet(r, &m->unmet[m->nunmet++], m->npeople))
      return false;
  n = get_count(r, ws_bin_get_u64(r), MIN_CIRCLE);
  m->circles = ws_xcalloc(n ? n : 1, sizeof(ws_circle));
  for (; m->ncircles < n;)
    if (!get_circle(r, &m->circles[m->ncircles++], m->npeople))
      return false;
  return !r->bad && r->pos == r->len;
}

/* (p, t) strictly before (q, u). */
static bool in_order(size_t p, ws_mentor_type t, size_t q, ws_mentor_type u) {
  return p < q || (p == q && t < u);
}

/* What ws_match_new always gives: pairs and unmet needs sorted by person,
 * then type, each (person, type) once; every sought type either way; the
 * total the sum of the scores. */
static bool consistent(const ws_match *m) {
  /* Unsigned, so that garbage scores wrap instead of overflowing. */
  unsigned long long total =
      m->npairs ? (unsigned long long)m->pairs[0].score : 0;
  for (size_t i = 1; i < m->npairs; i++) {
    const ws_match_pair *a = &m->pairs[i - 1], *b = &m->pairs[i];
    if (!in_order(a->mentee, a->type, b->mentee, b->type))
      return false;
    total += (unsigned long long)b->score;
  }
  for (size_t i = 1; i < m->nunmet; i++) {
    const ws_match_unmet *a = &m->unmet[i - 1], *b = &m->unmet[i];
    if (!in_order(a->person, a->type, b->person, b->type))
      return false;
  }
  return total == (unsigned long long)m->total_score &&
         m->demand == m->npairs + m->nunmet;
}

/* Decodes from 'r', which reads 'copy' (taken: it becomes m->texts). */
static ws_match *decode_body(ws_bin_reader *r, size_t npeople, char *copy) {
  ws_match *m = ws_xcalloc(1, sizeof(*m));
  m->texts = copy;
  if (ws_bin_get_u64(r) != npeople)
    r->bad = true;
  m->npeople = npeople;
  m->demand = (size_t)ws_bin_get_u64(r);
  m->total_score = (long)(int64_t)ws_bin_get_u64(r);
  m->rounds = (size_t)ws_bin_get_u64(r);
  if (r->bad || !get_lists(r, m) || !consistent(m)) {
    ws_match_free(m);
    return NULL;
  }
  ws_match_index(m, npeople);
  return m;
}

/* Decodes the file 'data' ('len' bytes), which it takes: a match keeps
 * its texts where they lie in it. On failure 'data' is freed. */
static ws_match *decode_taking(char *data, size_t len, const ws_digest *key,
                               size_t npeople, const char **why) {
  ws_bin_reader r = {data, len >= HEADER + DIGEST ? len - DIGEST : 0, 0, false};
  *why = NULL;
  if (len < HEADER + DIGEST || memcmp(data, MAGIC, MAGIC_LEN) != 0) {
    *why = len < HEADER + DIGEST && len >= MAGIC_LEN &&
                   memcmp(data, MAGIC, MAGIC_LEN) == 0
               ? "truncated"
               : "not a mentoring cache";
  } else {
    r.pos = MAGIC_LEN;
    if (ws_bin_get_u64(&r) != VERSION)
      *why = "another format version";
  }
  if (!*why) {
    ws_bin_reader tail = {data, len, len - DIGEST, false};
    ws_digest sum = ws_bin_get_digest(&tail),
              want = ws_digest_bytes(data, len - DIGEST);
    ws_digest stored = ws_bin_get_digest(&r);
    *why = !ws_digest_equal(&sum, &want)    ? "truncated or corrupt (checksum)"
           : !ws_digest_equal(&stored, key) ? STALE
                                            : NULL;
  }
  if (*why) {
    free(data);
    return NULL;
  }
  ws_match *m = decode_body(&r, npeople, data);
  *why = m ? NULL : "malformed";
  return m;
}

ws_match *ws_matchcache_decode(const char *data, size_t len,
                               const ws_digest *key, size_t npeople,
                               const char **why) {
  char *copy = ws_xmalloc(len ? len : 1);
  if (len)
    memcpy(copy, data, len);
  return decode_taking(copy, len, key, npeople, why);
}

/* --- the file on disk --- */

static void file_names(ws_str *dir, ws_str *file, ws_source *src) {
  const char *content = ws_source_content(src);
  ws_digest folder = ws_digest_bytes(content, strlen(content));
  ws_str_printf(dir, "%swholeself", ws_source_git_dir(src));
  ws_str_printf(file, "%s/matches-%016llx", dir->ptr,
                (unsigned long long)folder.hi);
}

ws_match *ws_matchcache_get(ws_source *src, ws_profile *const *people, size_t n,
                            unsigned jobs, ws_matchcache_stats *out) {
  ws_matchcache_stats st = {false, "not used", NULL};
  ws_str dir = WS_STR_INIT, file = WS_STR_INIT, data = WS_STR_INIT;
  ws_digest key;
  ws_match *m = NULL;
  const char *why = NULL;
  if (!ws_matchcache_key(&key, people, n, jobs)) {
    m = ws_match_new_jobs(people, n, jobs);
    goto done;
  }
  file_names(&dir, &file, src);
  why = ws_bin_read_file(&data, file.ptr);
  if (!why) {
    /* The buffer read goes to the match as it is, not copied again. */
    size_t len = data.len;
    m = decode_taking(ws_str_detach(&data), len, &key, n, &why);
  }
  ws_str_release(&data);
  if (m) {
    st = (ws_matchcache_stats){true, "up to date", NULL};
    goto done;
  }
  m = ws_match_new_jobs(people, n, jobs);
  bool missing = strcmp(why, MISSING) == 0, stale = strcmp(why, STALE) == 0;
  st.status = missing ? "created" : stale ? "updated" : "rebuilt";
  st.ignored = missing || stale ? NULL : why;
  ws_matchcache_encode(&data, &key, m);
  if (!ws_bin_write_file(dir.ptr, file.ptr, data.ptr, data.len))
    st.status = "not saved (cannot write it)";
done:
  ws_str_release(&data);
  ws_str_release(&dir);
  ws_str_release(&file);
  if (out)
    *out = st;
  return m;
}
