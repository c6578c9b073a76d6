/* test_rawtree.c - git trees read as bytes (rawtree): a tree read near
 * another finds the same entries as a full read, and libgit2 the same
 * names, ids and modes; what they share is shared and what differs is only
 * the edited entries; malformed trees are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "helpers.h"
#include "rawtree.h"

static char *dir;
static git_repository *repo;
static git_odb *odb;

static void setup(void) {
  git_libgit2_init();
  /* Entries point at ids that are never written: only trees are read. */
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
  dir = th_repo_new(true);
  cr_assert_eq(git_repository_open(&repo, dir), 0);
  cr_assert_eq(git_repository_odb(&odb, repo), 0);
}

static void teardown(void) {
  git_odb_free(odb);
  git_repository_free(repo);
  th_rm_rf(dir);
  free(dir);
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1);
  git_libgit2_shutdown();
}

TestSuite(rawtree, .init = setup, .fini = teardown);

typedef struct {
  char name[24];
  git_filemode_t mode;
  unsigned char id[GIT_OID_RAWSZ];
} entry;

enum { MAX_ENTRIES = 700 };

typedef struct {
  entry e[MAX_ENTRIES];
  size_t n;
} folder;

static unsigned long seed = 20261126;

static unsigned next(unsigned n) {
  seed = seed * 6364136223846793005u + 1442695040888963407u;
  return (unsigned)((seed >> 33) % n);
}

/* Random ids, some salted with bytes that look like the start of an entry
 * ("100644 ", a NUL), so that nothing can find entries by their looks. */
static void random_id(unsigned char *id) {
  for (size_t i = 0; i < GIT_OID_RAWSZ; i++)
    id[i] = (unsigned char)next(256);
  if (next(3) == 0)
    memcpy(id + next(8), "\0" "100644 p", 9);
}

static const git_filemode_t modes[] = {
    GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB,
    GIT_FILEMODE_BLOB_EXECUTABLE, GIT_FILEMODE_LINK, GIT_FILEMODE_TREE,
    GIT_FILEMODE_COMMIT};

/* Names share long heads ("person-0412.md"), as profiles do; a few differ
 * only in a suffix, or name a folder. */
static void random_name(char *name) {
  static const char *const tails[] = {".md", ".md", ".md", "", ".jpg", "-x"};
  snprintf(name, 24, "person-%04u%s", next(2000), tails[next(6)]);
}

static bool has(const folder *f, const char *name) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->e[i].name, name) == 0)
      return true;
  return false;
}

static void add_random(folder *f) {
  entry *e = &f->e[f->n];
  do
    random_name(e->name);
  while (has(f, e->name));
  e->mode = modes[next(sizeof(modes) / sizeof(modes[0]))];
  random_id(e->id);
  f->n++;
}

static void write_folder(git_oid *out, const folder *f) {
  git_treebuilder *tb = NULL;
  cr_assert_eq(git_treebuilder_new(&tb, repo, NULL), 0);
  for (size_t i = 0; i < f->n; i++) {
    git_oid id;
    git_oid_fromraw(&id, f->e[i].id);
    cr_assert_eq(git_treebuilder_insert(NULL, tb, f->e[i].name, &id,
                                        f->e[i].mode),
                 0, "%s", git_error_last()->message);
  }
  cr_assert_eq(git_treebuilder_write(out, tb), 0);
  git_treebuilder_free(tb);
}

/* The kinds of edit; the first three touch one entry in place. */
enum { MODIFY, ADD, DELETE, RENAME, RETYPE, NKINDS };

static void edit(folder *f, int kind) {
  size_t i = next((unsigned)f->n);
  entry *e = &f->e[i];
  switch (kind) {
  case MODIFY:
    random_id(e->id);
    break;
  case ADD:
    add_random(f);
    break;
  case DELETE:
    *e = f->e[--f->n];
    break;
  case RENAME: {
    char name[24];
    do
      random_name(name);
    while (has(f, name));
    memcpy(e->name, name, sizeof(name));
    break;
  }
  default:
    e->mode = e->mode == GIT_FILEMODE_TREE ? GIT_FILEMODE_BLOB
                                           : GIT_FILEMODE_TREE;
    break;
  }
}

static bool same_bytes(const ws_rawtree *a, size_t i, const ws_rawtree *b,
                       size_t j) {
  size_t la = a->starts[i + 1] - a->starts[i];
  size_t lb = b->starts[j + 1] - b->starts[j];
  return la == lb &&
         memcmp(a->data + a->starts[i], b->data + b->starts[j], la) == 0;
}

/* Reads 'id' fully and near 'near_id', and checks the two reads, the span
 * and libgit2's reading of the same tree against each other. */
static void expect_near_agrees(const git_oid *id, const git_oid *near_id,
                               bool one_edit, const char *what) {
  ws_rawtree near = WS_RAWTREE_INIT, full = WS_RAWTREE_INIT,
             t = WS_RAWTREE_INIT;
  ws_rawtree_span span;
  cr_assert_eq(ws_rawtree_read(&near, odb, near_id), 0, "%s", what);
  cr_assert_eq(ws_rawtree_read(&full, odb, id), 0, "%s", what);
  cr_assert_eq(ws_rawtree_read_near(&t, odb, id, &near, &span), 0, "%s",
               what);
  cr_assert_eq(t.n, full.n, "%s: %zu entries, want %zu", what, t.n, full.n);
  cr_assert_eq(memcmp(t.starts, full.starts, (t.n + 1) * sizeof(size_t)), 0,
               "%s: the entries start elsewhere", what);
  cr_assert(span.from <= span.to && span.to <= t.n, "%s", what);
  cr_assert(span.from <= span.near_to && span.near_to <= near.n, "%s", what);
  cr_assert_eq(t.n - span.to, near.n - span.near_to, "%s", what);
  for (size_t i = 0; i < span.from; i++)
    cr_assert(same_bytes(&t, i, &near, i), "%s: head entry %zu", what, i);
  for (size_t k = 0; span.to + k < t.n; k++)
    cr_assert(same_bytes(&t, span.to + k, &near, span.near_to + k),
              "%s: tail entry %zu", what, k);
  if (one_edit)
    cr_assert(span.to - span.from <= 2 && span.near_to - span.from <= 2,
              "%s: one edit, but entries %zu-%zu against %zu-%zu differ",
              what, span.from, span.to, span.from, span.near_to);

  git_tree *tree = NULL;
  cr_assert_eq(git_tree_lookup(&tree, repo, id), 0);
  cr_assert_eq(git_tree_entrycount(tree), t.n, "%s", what);
  for (size_t i = 0; i < t.n; i++) {
    const git_tree_entry *ge = git_tree_entry_byindex(tree, i);
    ws_rawtree_entry re;
    ws_rawtree_entry_at(&re, &t, i);
    cr_assert_str_eq(re.name, git_tree_entry_name(ge), "%s", what);
    cr_assert_eq(memcmp(re.id, git_tree_entry_id(ge)->id, GIT_OID_RAWSZ), 0);
    cr_assert_eq(re.mode, (unsigned)git_tree_entry_filemode(ge), "%s: %s",
                 what, re.name);
    cr_assert_eq(ws_rawtree_is_tree(&re),
                 git_tree_entry_type(ge) == GIT_OBJECT_TREE);
  }
  git_tree_free(tree);
  ws_rawtree_release(&near);
  ws_rawtree_release(&full);
  ws_rawtree_release(&t);
}

Test(rawtree, near_reads_agree_with_full_reads, .timeout = 60) {
  static folder f, g;
  char what[64];
  for (int round = 0; round < 300; round++) {
    f.n = 0;
    size_t size = round % 10 == 0 ? next(4) : 50 + next(600);
    while (f.n < size)
      add_random(&f);
    g = f;
    int nedits = round % 3 == 0 ? 2 + (int)next(4) : 1;
    int kind = (int)next(NKINDS);
    for (int k = 0; k < nedits && g.n > 1; k++)
      edit(&g, nedits == 1 ? kind : (int)next(NKINDS));
    if (g.n == 0)
      add_random(&g);
    git_oid a, b;
    write_folder(&a, &f);
    write_folder(&b, &g);
    bool one = nedits == 1 && kind <= DELETE;
    snprintf(what, sizeof(what), "round %d (%d edits)", round, nedits);
    /* Both ways: a parent read near its child, and the other way round. */
    expect_near_agrees(&a, &b, one, what);
    expect_near_agrees(&b, &a, one, what);
  }
}

Test(rawtree, an_unchanged_head_and_tail_are_shared) {
  static folder f;
  for (unsigned i = 0; i < 500; i++) {
    snprintf(f.e[i].name, 24, "person-%04u.md", i);
    f.e[i].mode = GIT_FILEMODE_BLOB;
    random_id(f.e[i].id);
  }
  f.n = 500;
  git_oid a, b;
  write_folder(&a, &f);
  random_id(f.e[250].id);
  write_folder(&b, &f);
  ws_rawtree near = WS_RAWTREE_INIT, t = WS_RAWTREE_INIT;
  ws_rawtree_span span;
  cr_assert_eq(ws_rawtree_read(&near, odb, &b), 0);
  cr_assert_eq(ws_rawtree_read_near(&t, odb, &a, &near, &span), 0);
  cr_expect_eq(span.from, 250);
  cr_expect_eq(span.to, 251);
  cr_expect_eq(span.near_to, 251);
  ws_rawtree_release(&near);
  ws_rawtree_release(&t);
}

static void write_raw(git_oid *out, const char *data, size_t len) {
  cr_assert_eq(git_odb_write(out, odb, data, len, GIT_OBJECT_TREE), 0);
}

/* "<mode> <name>\0" and an id of 20 bytes of 'c'. */
static size_t put_entry(char *buf, const char *mode, const char *name,
                        char c) {
  size_t n = (size_t)sprintf(buf, "%s %s", mode, name) + 1;
  memset(buf + n, c, GIT_OID_RAWSZ);
  return n + GIT_OID_RAWSZ;
}

Test(rawtree, modes_are_read_as_libgit2_reads_them) {
  static const char *const raw_modes[] = {"100644", "100664", "100755",
                                          "120000", "160000", "40000",
                                          "040000"};
  char buf[1024];
  size_t len = 0;
  for (size_t i = 0; i < sizeof(raw_modes) / sizeof(raw_modes[0]); i++) {
    char name[8];
    snprintf(name, sizeof(name), "%c", (char)('a' + i));
    len += put_entry(buf + len, raw_modes[i], name, (char)(0x41 + i));
  }
  git_oid id;
  write_raw(&id, buf, len);
  expect_near_agrees(&id, &id, true, "modes");
}

Test(rawtree, malformed_trees_are_refused) {
  static const struct {
    const char *what;
    const char *data;
    size_t len;
  } bad[] = {
      {"no NUL after the name", "100644 a", 8},
      {"an empty name", "100644 \0aaaaaaaaaaaaaaaaaaaa", 28},
      {"a short id", "100644 a\0aaaa", 13},
      {"a mode that is not octal", "100694 a\0aaaaaaaaaaaaaaaaaaaa", 29},
      {"no mode", " a\0aaaaaaaaaaaaaaaaaaaa", 23},
      {"a mode too long", "10000644 a\0aaaaaaaaaaaaaaaaaaaa", 31},
      {"no space", "100644", 6},
  };
  char good[64];
  size_t glen = put_entry(good, "100644", "a", 'x');
  git_oid good_id;
  write_raw(&good_id, good, glen);
  ws_rawtree near = WS_RAWTREE_INIT, t = WS_RAWTREE_INIT;
  ws_rawtree_span span;
  cr_assert_eq(ws_rawtree_read(&near, odb, &good_id), 0);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    git_oid id;
    write_raw(&id, bad[i].data, bad[i].len);
    cr_expect_eq(ws_rawtree_read(&t, odb, &id), -1, "%s", bad[i].what);
    cr_expect_str_eq(git_error_last()->message, "malformed tree", "%s",
                     bad[i].what);
    cr_expect_eq(ws_rawtree_read_near(&t, odb, &id, &near, &span), -1, "%s",
                 bad[i].what);
  }
  git_oid blob;
  cr_assert_eq(git_blob_create_from_buffer(&blob, repo, "hi", 2), 0);
  cr_expect_eq(ws_rawtree_read(&t, odb, &blob), -1);
  cr_expect_str_eq(git_error_last()->message, "not a tree");
  git_oid missing;
  memset(&missing, 0x5a, sizeof(missing));
  cr_expect_eq(ws_rawtree_read(&t, odb, &missing), -1);
  ws_rawtree_release(&near);
  ws_rawtree_release(&t);
}

/* A name may hold what looks like an entry: here the last bytes of the
 * parent's folder, "100644 z\0<id>", are both a whole entry of its own and
 * the end of one entry of the child's ("a100644 z"). Sharing bytes at the
 * end is not enough: the entries must start at the same place. */
Test(rawtree, a_tail_that_looks_like_entries_is_not_trusted) {
  unsigned char ida[GIT_OID_RAWSZ], idz[GIT_OID_RAWSZ];
  for (size_t i = 0; i < GIT_OID_RAWSZ; i++) {
    ida[i] = (unsigned char)(0x80 + i);
    idz[i] = (unsigned char)(0xc0 + i);
  }
  memcpy(ida + GIT_OID_RAWSZ - 8, "100644 a", 8);
  char parent[128], child[128];
  size_t plen = 0, clen = 0;
  plen += (size_t)sprintf(parent, "100644 a") + 1;
  memcpy(parent + plen, ida, GIT_OID_RAWSZ);
  plen += GIT_OID_RAWSZ;
  plen += (size_t)sprintf(parent + plen, "100644 z") + 1;
  memcpy(parent + plen, idz, GIT_OID_RAWSZ);
  plen += GIT_OID_RAWSZ;
  clen += (size_t)sprintf(child, "100644 a100644 z") + 1;
  memcpy(child + clen, idz, GIT_OID_RAWSZ);
  clen += GIT_OID_RAWSZ;
  git_oid p, c;
  write_raw(&p, parent, plen);
  write_raw(&c, child, clen);
  expect_near_agrees(&p, &c, false, "parent near child");
  expect_near_agrees(&c, &p, false, "child near parent");
}
