/* rawtree.h - a git tree read as its bytes, for the history walk.
 *
 * The walk compares one folder in each of thousands of commits, and in a
 * team repository that folder is one flat tree of thousands of profiles of
 * which a commit changes one or two. Parsing every version entry by entry
 * (as git_tree_lookup does) costs the whole folder per commit. Two versions
 * of a tree, though, are the same bytes except around the entries that
 * changed, and a run of bytes that two trees share, read from the same
 * entry start, holds the same entries. So a version read "near" another
 * takes the entry starts of their shared head and tail from it, and parses
 * only what lies between.
 */
#ifndef WS_RAWTREE_H
#define WS_RAWTREE_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>

/* One entry; 'name' points into the tree's bytes and ends with a NUL. */
typedef struct {
  const char *name;
  unsigned mode; /* normalised as libgit2 does (git_tree_entry_filemode) */
  const unsigned char *id; /* GIT_OID_RAWSZ bytes */
} ws_rawtree_entry;

typedef struct {
  git_odb_object *obj; /* holds the bytes */
  const unsigned char *data;
  size_t len;
  size_t *starts; /* where each entry begins; starts[n] == len */
  size_t n, cap;
} ws_rawtree;

/* Where a tree read near another differs from it: its entries
 * [from, to) against the other's [from, near_to). Every other entry is
 * the same bytes as its counterpart: the first 'from' of both, and the
 * rest of each after 'to' and 'near_to', in order. */
typedef struct {
  size_t from, to, near_to;
} ws_rawtree_span;

#define WS_RAWTREE_INIT {NULL, NULL, 0, NULL, 0, 0}

/** Reads tree 'id' from 'odb' into 't' (released first), finding every
 * entry. Returns 0, or -1 when the object is missing, not a tree or
 * malformed. */
int ws_rawtree_read(ws_rawtree *t, git_odb *odb, const git_oid *id);

/** Like ws_rawtree_read, but takes what it can from 'near' (another tree,
 * e.g. the same folder one commit later; not 't') and says in '*span'
 * where the two differ. */
int ws_rawtree_read_near(ws_rawtree *t, git_odb *odb, const git_oid *id,
                         const ws_rawtree *near, ws_rawtree_span *span);

/** Reads entry 'i' (< t->n). */
void ws_rawtree_entry_at(ws_rawtree_entry *e, const ws_rawtree *t, size_t i);

/** Tells whether an entry is a folder (a tree, not a submodule). */
bool ws_rawtree_is_tree(const ws_rawtree_entry *e);

/** Frees what 't' holds and empties it; it may be read into again. */
void ws_rawtree_release(ws_rawtree *t);

/** Swaps two trees (the walk's "this commit" and "its parent"). */
void ws_rawtree_swap(ws_rawtree *a, ws_rawtree *b);

#endif
