#include "rawtree.h"

#include <string.h>

#include "xalloc.h"

/* Shared runs are found a large block at a time with memcmp, which is
 * vectorised, then a small block at a time, then byte by byte. */
#define BIG 4096
#define SMALL 64

static size_t common_head(const unsigned char *a, const unsigned char *b,
                          size_t n) {
  size_t i = 0;
  while (n - i >= BIG && memcmp(a + i, b + i, BIG) == 0)
    i += BIG;
  while (n - i >= SMALL && memcmp(a + i, b + i, SMALL) == 0)
    i += SMALL;
  while (i < n && a[i] == b[i])
    i++;
  return i;
}

/* 'a' and 'b' point just past the ends of their buffers. */
static size_t common_tail(const unsigned char *a, const unsigned char *b,
                          size_t n) {
  size_t i = 0;
  while (n - i >= BIG && memcmp(a - i - BIG, b - i - BIG, BIG) == 0)
    i += BIG;
  while (n - i >= SMALL && memcmp(a - i - SMALL, b - i - SMALL, SMALL) == 0)
    i += SMALL;
  while (i < n && a[-1 - (ptrdiff_t)i] == b[-1 - (ptrdiff_t)i])
    i++;
  return i;
}

/* The end of the entry at 'x' ("<octal mode> <name>\0<raw id>"), or 0 when
 * it is malformed; an entry ends after its start, so 0 is never an end. */
static size_t entry_end(const unsigned char *d, size_t len, size_t x) {
  size_t i = x;
  while (i < len && d[i] != ' ') {
    if (d[i] < '0' || d[i] > '7' || i - x >= 7)
      return 0;
    i++;
  }
  if (i == x || i >= len)
    return 0;
  i++;
  const unsigned char *nul = memchr(d + i, '\0', len - i);
  if (!nul || nul == d + i)
    return 0;
  i = (size_t)(nul - d) + 1;
  if (len - i < GIT_OID_RAWSZ)
    return 0;
  return i + GIT_OID_RAWSZ;
}

/* Makes room for 'more' entries and the end mark. */
static void reserve(ws_rawtree *t, size_t more) {
  if (t->n + more + 1 <= t->cap)
    return;
  size_t cap = t->cap ? t->cap : 256;
  while (cap < t->n + more + 1)
    cap *= 2;
  t->starts = ws_xreallocarray(t->starts, cap, sizeof(size_t));
  t->cap = cap;
}

static void push_start(ws_rawtree *t, size_t x) {
  reserve(t, 1);
  t->starts[t->n++] = x;
}

static int malformed(void) {
  git_error_set_str(GIT_ERROR_OBJECT, "malformed tree");
  return -1;
}

static int load(ws_rawtree *t, git_odb *odb, const git_oid *id) {
  git_odb_object_free(t->obj);
  t->obj = NULL;
  t->data = NULL;
  t->len = t->n = 0;
  if (git_odb_read(&t->obj, odb, id) < 0)
    return -1;
  if (git_odb_object_type(t->obj) != GIT_OBJECT_TREE) {
    git_error_set_str(GIT_ERROR_OBJECT, "not a tree");
    return -1;
  }
  t->data = git_odb_object_data(t->obj);
  t->len = git_odb_object_size(t->obj);
  return 0;
}

/* Parses entries from 'x' to the end; 'starts[n]' is then the length. */
static int parse_rest(ws_rawtree *t, size_t x) {
  while (x < t->len) {
    size_t end = entry_end(t->data, t->len, x);
    if (!end)
      return malformed();
    push_start(t, x);
    x = end;
  }
  push_start(t, t->len);
  t->n--;
  return 0;
}

int ws_rawtree_read(ws_rawtree *t, git_odb *odb, const git_oid *id) {
  if (load(t, odb, id) < 0)
    return -1;
  return parse_rest(t, 0);
}

/* The first i in [lo, hi] with s[i] >= x (hi when none). */
static size_t lower_bound(const size_t *s, size_t lo, size_t hi, size_t x) {
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int ws_rawtree_read_near(ws_rawtree *t, git_odb *odb, const git_oid *id,
                         const ws_rawtree *near, ws_rawtree_span *span) {
  if (load(t, odb, id) < 0)
    return -1;
  size_t m = t->len < near->len ? t->len : near->len;
  size_t head = common_head(t->data, near->data, m);
  size_t tail =
      common_tail(t->data + t->len, near->data + near->len, m - head);
  /* Entries that end within the shared head are shared, at the same
   * places: 'from' is the first one that does not. */
  size_t from = lower_bound(near->starts, 0, near->n + 1, head + 1) - 1;
  reserve(t, near->n);
  memcpy(t->starts, near->starts, from * sizeof(size_t));
  t->n = from;
  size_t x = near->starts[from];
  for (;;) {
    /* From an entry start within the shared tail on, both trees hold the
     * same bytes; if 'near' has an entry start at the same place, they
     * hold the same entries from there on. */
    if (x >= t->len - tail) {
      size_t y = x + near->len - t->len;
      size_t j = lower_bound(near->starts, from, near->n, y);
      if (near->starts[j] == y) {
        span->from = from;
        span->to = t->n;
        span->near_to = j;
        reserve(t, near->n - j);
        size_t *out = t->starts + t->n;
        const size_t *in = near->starts + j;
        for (size_t k = 0, rest = near->n - j; k <= rest; k++)
          out[k] = in[k] + t->len - near->len; /* the end mark too */
        t->n += near->n - j;
        return 0;
      }
    }
    size_t end = entry_end(t->data, t->len, x);
    if (!end)
      return malformed();
    push_start(t, x);
    x = end;
  }
}

static unsigned normalise(unsigned mode) {
  unsigned type = mode & 0170000;
  if (type == 0040000)
    return GIT_FILEMODE_TREE;
  if (mode & 0111)
    return GIT_FILEMODE_BLOB_EXECUTABLE;
  if (type == 0160000)
    return GIT_FILEMODE_COMMIT;
  if (type == 0120000)
    return GIT_FILEMODE_LINK;
  return GIT_FILEMODE_BLOB;
}

void ws_rawtree_entry_at(ws_rawtree_entry *e, const ws_rawtree *t, size_t i) {
  const unsigned char *p = t->data + t->starts[i];
  unsigned mode = 0;
  for (; *p != ' '; p++)
    mode = mode * 8 + (unsigned)(*p - '0');
  e->name = (const char *)p + 1;
  e->mode = normalise(mode);
  e->id = (const unsigned char *)e->name + strlen(e->name) + 1;
}

bool ws_rawtree_is_tree(const ws_rawtree_entry *e) {
  return e->mode == GIT_FILEMODE_TREE;
}

void ws_rawtree_release(ws_rawtree *t) {
  git_odb_object_free(t->obj);
  free(t->starts);
  *t = (ws_rawtree)WS_RAWTREE_INIT;
}

void ws_rawtree_swap(ws_rawtree *a, ws_rawtree *b) {
  ws_rawtree tmp = *a;
  *a = *b;
  *b = tmp;
}
