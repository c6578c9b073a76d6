/* helpers.h - shared test helpers (prefix th_).
 *
 * Temporary folders, files, running the built binary, and git repositories
 * built with libgit2.
 */
#ifndef TH_HELPERS_H
#define TH_HELPERS_H

#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>

#include "str.h"

/** Creates a fresh temporary directory; caller frees the path (not the dir). */
char *th_tmpdir(void);
/** Removes 'path' recursively (files, dirs, symlinks), and the lock,
 * record and staging folder a build into 'path' keeps beside it. */
void th_rm_rf(const char *path);
/** th_rm_rf('path'), then frees the string: the end of a test's folder. */
void th_discard(char *path);
/** Writes 'data' to 'dir'/'rel', creating parent folders. */
void th_write(const char *dir, const char *rel, const char *data);
/** Writes 'len' bytes of 'data' to 'dir'/'rel', creating parent folders. */
void th_write_len(const char *dir, const char *rel, const char *data,
                  size_t len);
/** Reads 'dir'/'rel' (rel may be NULL) into a new string, or NULL if absent. */
char *th_read(const char *dir, const char *rel);
/** Reads the whole (binary) file 'path'; '*len' gets its size. Fails the
 * test when it cannot be read. Caller frees. */
char *th_slurp(const char *path, size_t *len);
/** Writes 'len' bytes of 'data' to 'path'; fails the test on error. */
void th_spill(const char *path, const char *data, size_t len);
/** Returns the one cache file named '<prefix><key>' in the git directory of
 * the work-tree repository 'repo' (.git/wholeself/), or NULL; temporary
 * files are not counted, and two matches fail the test. Caller frees. */
char *th_cache_file(const char *repo, const char *prefix);
/** Tells whether 'dir'/'rel' exists. */
bool th_exists(const char *dir, const char *rel);
/** Returns the inode of 'dir'/'rel', which must exist: a page linked from
 * the published site keeps its inode, one written again gets a new one. */
ino_t th_inode(const char *dir, const char *rel);
/** Returns the path of the built binary (WS_BIN, else build/wholeself). */
const char *th_bin(void);
/** Returns the source root of the project (WS_ROOT, else "."). */
const char *th_root(void);
/** Runs the binary with the NULL-terminated 'argv' (argv[0] excluded) in
 * 'cwd' (NULL: current); captures stdout and stderr into 'out'/'err' (either
 * may be NULL) and returns the exit status (or 128+signal). */
int th_run(const char *cwd, ws_str *out, ws_str *err, const char *const *argv);
/** Compares two directory trees byte for byte; returns the first differing
 * relative path (caller frees), or NULL when identical. */
char *th_tree_diff(const char *a, const char *b);

/* --- git repositories, built with libgit2 (no git executable) --- */

/** Initialises a repository in a new temporary dir ('bare' or with a work
 * tree); returns its path (caller frees). */
char *th_repo_new(bool bare);
/** Commits the files of the work tree of 'repo' (all of them, like
 * `git add -A && git commit`) on HEAD with 'message', author 'author'
 * ("Name <email>") at 'when' (seconds since epoch). Returns 0 or aborts. */
void th_repo_commit_all(const char *repo, const char *message,
                        const char *author, long when);
/** Clones 'repo' into a new temporary bare repository; returns its path. */
char *th_repo_clone_bare(const char *repo);
/** Like th_repo_commit_all, but commits to the branch 'ref'
 * ("refs/heads/side"; parent: its current commit, if any) and leaves HEAD
 * alone. */
void th_repo_commit_to(const char *repo, const char *ref, const char *message,
                       const char *author, long when);
/** Commits the work tree on HEAD as a merge: parents HEAD and 'ref'. */
void th_repo_merge(const char *repo, const char *ref, const char *message,
                   const char *author, long when);
/** Creates the branch 'name' at HEAD. */
void th_repo_branch(const char *repo, const char *name);
/** Returns the commit id HEAD points at, in hex (caller frees). */
char *th_repo_head(const char *repo);
/** Makes 'repo' (a work tree) a shallow clone cut at commit 'hex', the way
 * `git clone --depth` records it: .git/shallow lists the boundary. */
void th_repo_make_shallow(const char *repo, const char *hex);

#endif
