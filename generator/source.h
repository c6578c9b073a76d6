/* source.h - where the content comes from: a git tree at a ref, or the work
 * tree.
 *
 * Opens the repository given by -C (a work tree, a folder inside one, or a
 * bare repository), resolves --ref, and lists and reads the files under the
 * content folder straight from git objects. In work-tree mode the same files
 * are read from disk. Paths handed out are relative to the content folder
 * and use '/'. The only module that includes <git2.h>.
 *
 * The caller initializes libgit2: ws_source_global_init in main,
 * git_libgit2_init in test setup.
 * Once opened, a source may be listed and read from several threads. In
 * work-tree mode files git ignores are skipped unless tracked, and nested
 * repositories are listed as submodules.
 */
#ifndef WS_SOURCE_H
#define WS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "str.h"

typedef struct ws_source ws_source;

typedef struct {
  const char *repo;    /* -C: path to the repository or inside it; NULL: "." */
  const char *ref;     /* --ref: branch, tag, commit id; NULL: "HEAD" */
  const char *content; /* --content: folder in the tree; NULL or "": root */
  bool worktree;       /* --worktree: read the working directory instead */
} ws_source_opts;

typedef enum {
  WS_ENTRY_FILE,      /* a regular (or executable) blob */
  WS_ENTRY_SYMLINK,   /* a symlink blob: never followed */
  WS_ENTRY_SUBMODULE, /* a gitlink: never followed */
  WS_ENTRY_OTHER      /* work tree only: a device, socket, ... */
} ws_entry_kind;

typedef struct {
  char *path; /* relative to the content folder, '/'-separated */
  ws_entry_kind kind;
  char oid[41]; /* blob id in hex (work tree: hash of the file) */
} ws_source_entry;

typedef struct {
  ws_source_entry *items; /* sorted by path (strcmp) */
  size_t len;
} ws_source_list;

/** Initialises libgit2 for the process; call once from main before any other
 * ws_source function (the only place outside source.c that needs it). */
void ws_source_global_init(void);
/** Releases what ws_source_global_init set up. */
void ws_source_global_shutdown(void);
/** Opens the source described by 'opts'. Fails with WS_ENOTFOUND when there
 * is no repository or the ref or content folder does not exist, WS_ERROR on
 * other failures; the message names what was asked for. Free with
 * ws_source_free. */
int ws_source_open(ws_source **out, const ws_source_opts *opts);
/** Opens a second handle on the repository of 'src', at the same commit
 * and content folder, with libgit2 objects of its own: a thread can walk
 * the history through it while others read 'src' (see the lock in
 * source.c). Only the history functions may be used on it. */
int ws_source_reopen(ws_source **out, const ws_source *src);
/** Frees 'src'; NULL does nothing. */
void ws_source_free(ws_source *src);
/** Lists every entry below the content folder, recursively (folders
 * themselves are not listed). Caller releases 'out' with
 * ws_source_list_release. */
int ws_source_list_all(ws_source_list *out, ws_source *src);
/** Like ws_source_list_all, but only what lies below 'folder' (a
 * content-relative path without a trailing slash): from git, without
 * reading the rest of the tree. */
int ws_source_list_under(ws_source_list *out, ws_source *src,
                         const char *folder);
/** Frees the entries of 'list'. */
void ws_source_list_release(ws_source_list *list);
/** Returns the entry of 'list' at 'path' (binary search), or NULL. */
const ws_source_entry *ws_source_list_find(const ws_source_list *list,
                                           const char *path);
/** Reads the file 'path' (relative to the content folder) into 'out'
 * (appended). WS_ENOTFOUND when absent; WS_EINVALID for a symlink, a
 * submodule or a folder; never follows links out of the repository. */
int ws_source_read(ws_str *out, ws_source *src, const char *path);
/** Reads the listed file 'e' (from ws_source_list_all of this source) into
 * 'out' like ws_source_read, but by its blob id, without looking up the
 * path: the fast way to read many files, safe from several threads. */
int ws_source_read_entry(ws_str *out, ws_source *src, const ws_source_entry *e);
/** Returns a short description for messages: "HEAD (1a2b3c4)" or
 * "work tree". Borrowed. */
const char *ws_source_describe(const ws_source *src);
/** Returns the full commit id the ref resolved to (hex), or "" in work-tree
 * mode. Borrowed. */
const char *ws_source_commit(const ws_source *src);
/** Returns the commit time (seconds since epoch) of the resolved commit; in
 * work-tree mode that of HEAD, or 0 when the repository has no commits. */
long long ws_source_commit_time(const ws_source *src);
/** Returns the repository's work-tree root, or NULL when bare. Borrowed. */
const char *ws_source_workdir(const ws_source *src);
/** Returns the content folder prefix as given ("" or "content"). Borrowed. */
const char *ws_source_content(const ws_source *src);
/** Returns the repository's git directory, ending in '/': ".git/" of a
 * clone, ".git/worktrees/<name>/" of a linked work tree, the repository
 * itself when bare. Caches are kept in its "wholeself/" folder. Borrowed. */
const char *ws_source_git_dir(const ws_source *src);
/** Tells whether the 'len' bytes 'data', read from the listed file 'e', are
 * what was listed. Always true for a git tree (one tree, read by id); in
 * work-tree mode the file may have changed since it was hashed for the
 * listing, so 'data' is hashed again. False when 'e' is NULL. */
bool ws_source_entry_same(const ws_source *src, const ws_source_entry *e,
                          const char *data, size_t len);

/* --- history --- */

/* One commit of the history walk. */
typedef struct {
  char id[41];    /* full commit id (hex) */
  long long time; /* committer time, seconds since epoch */
  char *author;   /* author name, .mailmap applied */
  char *subject;  /* first line of the message */
  bool cut;       /* a shallow boundary: compared with an empty folder */
} ws_source_rev;

typedef enum {
  WS_CHANGE_ADDED,
  WS_CHANGE_MODIFIED,
  WS_CHANGE_RENAMED, /* detected by content similarity; may also modify */
  WS_CHANGE_DELETED
} ws_change_kind;

/* One file changed by one commit. */
typedef struct {
  ws_change_kind kind;
  size_t rev;     /* index into ws_source_history.revs */
  char *path;     /* content-relative; for a deletion, the deleted path */
  char *old_path; /* renames: the path before; else NULL */
  /* Of everything above and the commit's id, time, author and subject:
   * what a page showing the change depends on. Kept in the history cache,
   * so a build does not hash 50,000 changes again. */
  ws_digest digest;
} ws_source_change;

/* What the walk says about one file that exists at the end of the walk. */
typedef struct {
  const char *path; /* content-relative path at the walked commit */
  size_t first;     /* rev that added it (in its current life), see below */
  size_t last;      /* rev that changed it last */
  size_t revisions; /* revs that added, changed or renamed it */
  char **authors;   /* distinct author names, sorted with strcmp (the
                       revs' own texts) */
  size_t nauthors;
} ws_source_file;

typedef struct {
  ws_source_rev *revs; /* revs that changed a file, newest first */
  size_t nrevs;
  ws_source_change *changes; /* newest first; within a rev, by path */
  size_t nchanges;
  ws_source_file *files; /* sorted by path */
  size_t nfiles;
  bool partial;               /* shallow clone: older history is missing */
  size_t walked;              /* commits compared by this load; the others
                                 came from the history cache */
  const char *cache;          /* static, for --verbose: "created", "up to
                                 date", "updated", "rebuilt", "not saved
                                 (...)"; NULL without the cache */
  const char *cache_ignored;  /* static: why a cache file was not used */
  struct ws_text_pool *texts; /* internal: where the texts read from the
                                 history cache live */
} ws_source_history;

/** Walks the history of the files under 'subdir' of the content folder
 * ("people") in one pass: from the resolved commit (work-tree mode: HEAD;
 * nothing when there is none) along first parents, each commit's folder
 * compared with its first parent's, renames detected by similarity and
 * .mailmap applied to author names. A file's 'first' is the commit that
 * added it in its current life: after a deletion and re-adding, the history
 * starts again. In a shallow clone the walk stops at the shallow boundary,
 * whose files count as added there, and 'partial' is set. Caller frees 'out'
 * with ws_source_history_free. */
int ws_source_history_load(ws_source_history **out, ws_source *src,
                           const char *subdir);
/** Like ws_source_history_load, but reuses the history cache and updates
 * it: only the commits made since the cached one are walked. The cache is
 * <git dir>/wholeself/history-<hash>; one that is missing, corrupt, from
 * another repository or history, or made with another .mailmap is ignored
 * and rewritten (see 'cache'); failing to write it is not an error. */
int ws_source_history_load_cached(ws_source_history **out, ws_source *src,
                                  const char *subdir);
/** Frees 'h'; NULL does nothing. */
void ws_source_history_free(ws_source_history *h);

/** Makes 'dir' (created if missing) a git repository on branch main and
 * commits every file in it, honouring .gitignore, with 'message'. The
 * author is git's user.name/user.email, else "wholeself". WS_ERROR with
 * the message set on failure. */
int ws_source_init_commit(const char *dir, const char *message);

#endif
