#include "source.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "binio.h"
#include "error.h"
#include "rawtree.h"
#include "xalloc.h"

/* Thread safety: once opened, a ws_source may be read from several threads.
 * libgit2 objects (the repository, its odb and caches, the tree) must not be
 * used from two threads at once, so every libgit2 call made after
 * ws_source_open happens under 'lock'. Work-tree reads only use openat() on
 * the content folder's descriptor and need no lock.
 *
 * Initializing libgit2 is the caller's job: ws_source_global_init() from
 * main, git_libgit2_init() in test setup. */
struct ws_source {
  git_repository *repo;
  git_tree *tree; /* the content folder at the ref; NULL in work-tree mode */
  int root_fd;    /* work-tree mode: the content folder; -1 otherwise */
  bool worktree;
  char *content; /* normalized: "" or "a/b" */
  char *workdir; /* without trailing '/', NULL when bare */
  char *describe;
  char commit[GIT_OID_HEXSZ + 1];
  long long commit_time;
  pthread_mutex_t lock;
};

/* Sets the message from 'fmt' followed by libgit2's own message, which may
 * be missing on libgit2 1.5. */
static int error_git(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int error_git(int code, const char *fmt, ...) {
  ws_str msg = WS_STR_INIT;
  va_list ap;
  va_start(ap, fmt);
  ws_str_vprintf(&msg, fmt, ap);
  va_end(ap);
  const git_error *e = git_error_last();
  if (e && e->message && e->message[0])
    ws_str_printf(&msg, ": %s", e->message);
  ws_error(code, "%s", msg.ptr);
  ws_str_release(&msg);
  return code;
}

/* Accepts a relative, '/'-separated path without empty, "." or ".."
 * components, so that nothing can name a place outside the content folder. */
static bool path_is_safe(const char *path) {
  if (!path[0] || path[0] == '/')
    return false;
  const char *p = path;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
      return false;
    if (!slash)
      return true;
    p = slash + 1;
  }
}

/* "./content/" -> "content"; "" and "." -> "". */
static char *normalize_content(const char *content) {
  if (!content)
    return ws_xstrdup("");
  while (content[0] == '.' && content[1] == '/')
    content += 2;
  size_t len = strlen(content);
  while (len > 0 && content[len - 1] == '/')
    len--;
  if (len == 1 && content[0] == '.')
    len = 0;
  return ws_xstrndup(content, len);
}

static void oid_hex(char out[GIT_OID_HEXSZ + 1], const git_oid *oid) {
  git_oid_tostr(out, GIT_OID_HEXSZ + 1, oid);
}

static int open_repo(ws_source *src, const char *path) {
  struct stat st;
  if (stat(path, &st) < 0)
    return ws_error(WS_ENOTFOUND, "not a git repository: %s: %s", path,
                    strerror(errno));
  int rc = git_repository_open_ext(&src->repo, path, 0, NULL);
  if (rc == GIT_ENOTFOUND)
    return ws_error(WS_ENOTFOUND,
                    "not a git repository (nor any parent folder): %s "
                    "(use -C to name one)",
                    path);
  if (rc < 0)
    return error_git(WS_ERROR, "cannot open repository %s", path);
  const char *wd = git_repository_workdir(src->repo);
  if (wd) {
    size_t len = strlen(wd);
    while (len > 1 && wd[len - 1] == '/')
      len--;
    src->workdir = ws_xstrndup(wd, len);
  }
  return 0;
}

static int open_ref(ws_source *src, const char *repo_path, const char *ref) {
  int error = 0;
  git_object *obj = NULL;
  git_commit *commit = NULL;
  git_tree *root = NULL;
  git_tree_entry *entry = NULL;

  int rc = git_revparse_single(&obj, src->repo, ref);
  if (rc < 0) {
    if (rc == GIT_ENOTFOUND && strcmp(ref, "HEAD") == 0 &&
        git_repository_head_unborn(src->repo) == 1)
      error = ws_error(WS_ENOTFOUND,
                       "cannot resolve ref 'HEAD' in %s: no commits yet",
                       repo_path);
    else
      error = ws_error(WS_ENOTFOUND, "cannot resolve ref '%s' in %s", ref,
                       repo_path);
    goto cleanup;
  }
  if (git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT) < 0) {
    error = ws_error(WS_ENOTFOUND, "ref '%s' in %s does not name a commit", ref,
                     repo_path);
    goto cleanup;
  }
  oid_hex(src->commit, git_commit_id(commit));
  src->commit_time = (long long)git_commit_time(commit);
  ws_str desc = WS_STR_INIT;
  ws_str_printf(&desc, "%s (%.7s)", ref, src->commit);
  src->describe = ws_str_detach(&desc);

  if ((rc = git_commit_tree(&root, commit)) < 0) {
    error = error_git(WS_ERROR, "cannot read the tree of %s", src->describe);
    goto cleanup;
  }
  if (!src->content[0]) {
    src->tree = root;
    root = NULL;
    goto cleanup;
  }
  rc = git_tree_entry_bypath(&entry, root, src->content);
  if (rc == GIT_ENOTFOUND ||
      (rc == 0 && git_tree_entry_type(entry) != GIT_OBJECT_TREE)) {
    error = ws_error(WS_ENOTFOUND, "content folder '%s' not found at %s",
                     src->content, src->describe);
    goto cleanup;
  }
  if (rc < 0 || (rc = git_tree_lookup(&src->tree, src->repo,
                                      git_tree_entry_id(entry))) < 0) {
    error = error_git(WS_ERROR, "cannot read content folder '%s' at %s",
                      src->content, src->describe);
    goto cleanup;
  }

cleanup:
  git_tree_entry_free(entry);
  git_tree_free(root);
  git_commit_free(commit);
  git_object_free(obj);
  return error;
}

/* Opens 'rel' below 'dirfd' one component at a time, refusing symlinks, so
 * that the result is a real folder inside the tree. Returns the descriptor
 * or -1 with errno set (ELOOP for a link). */
static int open_dir_nofollow(int dirfd, const char *rel) {
  int fd = dup(dirfd);
  if (fd < 0 || !rel[0])
    return fd;
  char *copy = ws_xstrdup(rel);
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c;
       c = strtok_r(NULL, "/", &save)) {
    int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    struct stat st;
    /* Linux says ENOTDIR for a link with O_DIRECTORY: report ELOOP. */
    if (next < 0 && fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode))
      saved = ELOOP;
    close(fd);
    fd = next;
    if (fd < 0) {
      errno = saved;
      break;
    }
  }
  free(copy);
  return fd;
}

static int open_worktree(ws_source *src, const char *repo_path) {
  if (!src->workdir)
    return ws_error(WS_ENOTFOUND,
                    "%s is a bare repository: it has no work tree to read "
                    "(drop --worktree)",
                    repo_path);
  src->describe = ws_xstrdup("work tree");
  /* A preview dates the site by the commit it starts from, so it matches a
   * build of HEAD; a repository without commits has no date. */
  git_reference *head = NULL;
  git_commit *commit = NULL;
  if (git_repository_head(&head, src->repo) == 0 &&
      git_commit_lookup(&commit, src->repo, git_reference_target(head)) == 0)
    src->commit_time = (long long)git_commit_time(commit);
  git_commit_free(commit);
  git_reference_free(head);
  int top = open(src->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0)
    return ws_error(WS_ERROR, "cannot open work tree %s: %s", src->workdir,
                    strerror(errno));
  src->root_fd = open_dir_nofollow(top, src->content);
  int saved = errno;
  close(top);
  if (src->root_fd < 0) {
    if (saved == ENOENT || saved == ENOTDIR || saved == ELOOP)
      return ws_error(WS_ENOTFOUND,
                      "content folder '%s' not found in the work tree %s",
                      src->content, src->workdir);
    return ws_error(WS_ERROR, "cannot open content folder '%s' in %s: %s",
                    src->content, src->workdir, strerror(saved));
  }
  return 0;
}

int ws_source_open(ws_source **out, const ws_source_opts *opts) {
  assert(out && opts);
  *out = NULL;
  const char *repo_path = opts->repo ? opts->repo : ".";
  const char *ref = opts->ref && opts->ref[0] ? opts->ref : "HEAD";
  int error = 0;
  ws_source *src = ws_xcalloc(1, sizeof(*src));
  src->root_fd = -1;
  src->worktree = opts->worktree;
  src->content = normalize_content(opts->content);
  pthread_mutex_init(&src->lock, NULL);

  if (src->content[0] && !path_is_safe(src->content)) {
    error = ws_error(WS_EINVALID,
                     "content folder '%s' must be a relative path inside "
                     "the repository",
                     opts->content);
    goto cleanup;
  }
  if ((error = open_repo(src, repo_path)) < 0)
    goto cleanup;
  if (src->worktree)
    error = open_worktree(src, repo_path);
  else
    error = open_ref(src, repo_path, ref);

cleanup:
  if (error < 0)
    ws_source_free(src);
  else
    *out = src;
  return error;
}

static bool same_text(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

int ws_source_reopen(ws_source **out, const ws_source *src) {
  ws_source *dup = ws_xcalloc(1, sizeof(*dup));
  const char *path = git_repository_path(src->repo);
  *out = NULL;
  dup->root_fd = -1;
  dup->worktree = src->worktree;
  dup->content = ws_xstrdup(src->content);
  dup->workdir = src->workdir ? ws_xstrdup(src->workdir) : NULL;
  dup->describe = src->describe ? ws_xstrdup(src->describe) : NULL;
  memcpy(dup->commit, src->commit, sizeof(dup->commit));
  dup->commit_time = src->commit_time;
  pthread_mutex_init(&dup->lock, NULL);
  /* Opened by its git directory, a repository whose work tree lies
   * elsewhere (git init --separate-git-dir) would not know it: the
   * work-tree .mailmap is read from there. (libgit2 1.5 leaks when told
   * the work tree it already has, hence the comparison.) */
  const char *wd = git_repository_workdir(src->repo);
  if (git_repository_open(&dup->repo, path) < 0 ||
      (wd && !same_text(git_repository_workdir(dup->repo), wd) &&
       git_repository_set_workdir(dup->repo, wd, 0) < 0)) {
    int error = error_git(WS_ERROR, "cannot open repository %s", path);
    ws_source_free(dup);
    return error;
  }
  *out = dup;
  return 0;
}

void ws_source_free(ws_source *src) {
  if (!src)
    return;
  git_tree_free(src->tree);
  git_repository_free(src->repo);
  if (src->root_fd >= 0)
    close(src->root_fd);
  pthread_mutex_destroy(&src->lock);
  free(src->content);
  free(src->workdir);
  free(src->describe);
  free(src);
}

/* --- listing --- */

typedef struct {
  ws_source_entry *items;
  size_t len;
  size_t cap;
} entry_vec;

static ws_source_entry *push_entry(entry_vec *v, const ws_str *path,
                                   ws_entry_kind kind) {
  if (v->len == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 32;
    v->items = ws_xreallocarray(v->items, v->cap, sizeof(*v->items));
  }
  ws_source_entry *e = &v->items[v->len++];
  memset(e, 0, sizeof(*e));
  e->path = ws_xstrndup(path->ptr, path->len);
  e->kind = kind;
  return e;
}

static void free_entries(ws_source_entry *items, size_t len) {
  for (size_t i = 0; i < len; i++)
    free(items[i].path);
  free(items);
}

/* Git itself refuses these names; a crafted tree could still hold them, and
 * they must never turn into paths. */
static bool name_is_safe(const char *name) {
  return name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
         strcmp(name, ".git") != 0 && !strchr(name, '/');
}

static void path_push(ws_str *path, const char *name) {
  if (path->len)
    ws_str_putc(path, '/');
  ws_str_puts(path, name);
}

static int list_tree(entry_vec *v, ws_source *src, const git_tree *tree,
                     ws_str *path) {
  int error = 0;
  size_t n = git_tree_entrycount(tree);
  for (size_t i = 0; i < n && error == 0; i++) {
    const git_tree_entry *te = git_tree_entry_byindex(tree, i);
    const char *name = git_tree_entry_name(te);
    if (!name_is_safe(name))
      continue;
    size_t mark = path->len;
    path_push(path, name);
    ws_source_entry *e = NULL;
    switch (git_tree_entry_filemode(te)) {
    case GIT_FILEMODE_TREE: {
      git_tree *sub = NULL;
      if (git_tree_lookup(&sub, src->repo, git_tree_entry_id(te)) < 0)
        error = error_git(WS_ERROR, "cannot read folder '%s' at %s", path->ptr,
                          src->describe);
      else
        error = list_tree(v, src, sub, path);
      git_tree_free(sub);
      break;
    }
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
      e = push_entry(v, path, WS_ENTRY_FILE);
      break;
    case GIT_FILEMODE_LINK:
      e = push_entry(v, path, WS_ENTRY_SYMLINK);
      break;
    case GIT_FILEMODE_COMMIT:
      e = push_entry(v, path, WS_ENTRY_SUBMODULE);
      break;
    default:
      e = push_entry(v, path, WS_ENTRY_OTHER);
      break;
    }
    if (e)
      oid_hex(e->oid, git_tree_entry_id(te));
    ws_str_truncate(path, mark);
  }
  return error;
}

/* Reads all of 'fd' into 'out', appended. */
static int read_fd(ws_str *out, int fd) {
  for (;;) {
    ws_str_grow(out, 65536);
    ssize_t n = read(fd, out->ptr + out->len, out->cap - out->len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    out->len += (size_t)n;
    out->ptr[out->len] = '\0';
  }
}

/* Opens a regular file below 'dirfd' without following a symlink and
 * without blocking on a FIFO that replaced it since it was looked at. */
static int open_regular(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  return fd;
}

/* Work-tree mode lists what `git add -A` would see: files git ignores are
 * skipped unless they are tracked anyway. */
static bool wt_skip(ws_source *src, git_index *index, const char *rel,
                    bool is_dir) {
  ws_str full = WS_STR_INIT;
  ws_str_puts(&full, src->content);
  path_push(&full, rel);
  int ignored = 0;
  bool skip = false;
  if (git_ignore_path_is_ignored(&ignored, src->repo, full.ptr) == 0 &&
      ignored) {
    if (is_dir) {
      size_t at;
      ws_str_putc(&full, '/');
      skip = !index || git_index_find_prefix(&at, index, full.ptr) < 0;
    } else {
      skip = !index || !git_index_get_bypath(index, full.ptr, 0);
    }
  }
  ws_str_release(&full);
  return skip;
}

/* A nested repository is listed as a submodule with the commit it has
 * checked out (left empty when that cannot be told). */
static void wt_submodule_oid(ws_source_entry *e, ws_source *src) {
  ws_str full = WS_STR_INIT;
  ws_str_puts(&full, src->workdir);
  path_push(&full, src->content);
  path_push(&full, e->path);
  git_repository *sub = NULL;
  git_oid id;
  if (git_repository_open_ext(&sub, full.ptr, GIT_REPOSITORY_OPEN_NO_SEARCH,
                              NULL) == 0 &&
      git_reference_name_to_id(&id, sub, "HEAD") == 0)
    oid_hex(e->oid, &id);
  git_repository_free(sub);
  ws_str_release(&full);
}

static int list_dir(entry_vec *v, ws_source *src, git_index *index, int fd,
                    ws_str *path) {
  DIR *dir = fdopendir(fd);
  if (!dir) {
    int saved = errno;
    close(fd);
    return ws_error(WS_ERROR, "cannot list '%s' in the work tree: %s",
                    path->ptr, strerror(saved));
  }
  int error = 0;
  ws_str data = WS_STR_INIT;
  struct dirent *de;
  while (error == 0 && (errno = 0, de = readdir(dir)) != NULL) {
    const char *name = de->d_name;
    if (!name_is_safe(name))
      continue;
    size_t mark = path->len;
    path_push(path, name);
    struct stat st;
    if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      error = ws_error(WS_ERROR, "cannot stat '%s' in the work tree: %s",
                       path->ptr, strerror(errno));
    } else if (wt_skip(src, index, path->ptr, S_ISDIR(st.st_mode))) {
      /* ignored by git */
    } else if (S_ISDIR(st.st_mode)) {
      ws_str dotgit = WS_STR_INIT;
      ws_str_printf(&dotgit, "%s/.git", name);
      struct stat git_st;
      bool nested =
          fstatat(dirfd(dir), dotgit.ptr, &git_st, AT_SYMLINK_NOFOLLOW) == 0;
      ws_str_release(&dotgit);
      if (nested) {
        wt_submodule_oid(push_entry(v, path, WS_ENTRY_SUBMODULE), src);
      } else {
        int sub = openat(dirfd(dir), name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
          error = ws_error(WS_ERROR, "cannot open '%s' in the work tree: %s",
                           path->ptr, strerror(errno));
        else
          error = list_dir(v, src, index, sub, path);
      }
    } else if (S_ISLNK(st.st_mode)) {
      /* Hashed like git stores it: the link text as a blob. */
      ws_str_clear(&data);
      ws_str_grow(&data, (size_t)st.st_size + 1);
      ssize_t n = readlinkat(dirfd(dir), name, data.ptr, data.cap - 1);
      ws_source_entry *e = push_entry(v, path, WS_ENTRY_SYMLINK);
      git_oid id;
      if (n >= 0 &&
          git_odb_hash(&id, data.ptr, (size_t)n, GIT_OBJECT_BLOB) == 0)
        oid_hex(e->oid, &id);
    } else if (S_ISREG(st.st_mode)) {
      ws_str_clear(&data);
      int file = open_regular(dirfd(dir), name);
      git_oid id;
      if (file < 0 || read_fd(&data, file) < 0) {
        error = ws_error(WS_ERROR, "cannot read '%s' in the work tree: %s",
                         path->ptr, strerror(errno));
      } else if (git_odb_hash(&id, data.ptr, data.len, GIT_OBJECT_BLOB) < 0) {
        error = error_git(WS_ERROR, "cannot hash '%s'", path->ptr);
      } else {
        oid_hex(push_entry(v, path, WS_ENTRY_FILE)->oid, &id);
      }
      if (file >= 0)
        close(file);
    } else {
      push_entry(v, path, WS_ENTRY_OTHER);
    }
    ws_str_truncate(path, mark);
  }
  if (error == 0 && errno != 0)
    error = ws_error(WS_ERROR, "cannot list '%s' in the work tree: %s",
                     path->ptr, strerror(errno));
  ws_str_release(&data);
  closedir(dir);
  return error;
}

static int cmp_entry(const void *a, const void *b) {
  const ws_source_entry *x = a;
  const ws_source_entry *y = b;
  return strcmp(x->path, y->path);
}

/* Lists the git tree's folder 'folder' (content-relative, no trailing
 * slash) into 'v': nothing when it is not a folder there. */
static int list_folder(entry_vec *v, ws_source *src, const char *folder,
                       ws_str *path) {
  git_tree_entry *te = NULL;
  git_tree *sub = NULL;
  int error = 0, rc = git_tree_entry_bypath(&te, src->tree, folder);
  if (rc == GIT_ENOTFOUND || (rc == 0 && git_tree_entry_type(te) !=
                                             GIT_OBJECT_TREE)) {
    git_tree_entry_free(te);
    return 0;
  }
  if (rc < 0 || git_tree_lookup(&sub, src->repo, git_tree_entry_id(te)) < 0)
    error = error_git(WS_ERROR, "cannot read folder '%s' at %s", folder,
                      src->describe);
  else
    error = list_tree(v, src, sub, path);
  git_tree_free(sub);
  git_tree_entry_free(te);
  return error;
}

/* Lists what lies below 'folder' (NULL: everything). */
static int list_below(ws_source_list *out, ws_source *src,
                      const char *folder) {
  assert(out && src);
  out->items = NULL;
  out->len = 0;
  int error = 0;
  entry_vec v = {NULL, 0, 0};
  ws_str path = WS_STR_INIT;
  git_index *index = NULL;

  pthread_mutex_lock(&src->lock);
  if (folder && !src->worktree) {
    ws_str_puts(&path, folder);
    error = list_folder(&v, src, folder, &path);
  } else if (src->worktree) {
    /* A fresh descriptor: readdir() moves the offset, which a dup() would
     * share with root_fd. */
    int fd = openat(src->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      error =
          ws_error(WS_ERROR, "cannot list the work tree: %s", strerror(errno));
      goto cleanup;
    }
    /* Without an index every ignored file is skipped, which is harmless. */
    if (git_repository_index(&index, src->repo) == 0)
      git_index_read(index, 0);
    error = list_dir(&v, src, index, fd, &path);
  } else {
    error = list_tree(&v, src, src->tree, &path);
  }

cleanup:
  pthread_mutex_unlock(&src->lock);
  git_index_free(index);
  ws_str_release(&path);
  if (error < 0) {
    free_entries(v.items, v.len);
    return error;
  }
  /* Git orders a tree's entries so that a walk of it lists whole paths
   * in byte order already; a work tree's folders are listed in any order. */
  size_t sorted = 1;
  while (sorted < v.len &&
         cmp_entry(&v.items[sorted - 1], &v.items[sorted]) < 0)
    sorted++;
  if (sorted < v.len)
    qsort(v.items, v.len, sizeof(*v.items), cmp_entry);
  /* A work tree is listed whole (previews only): what is not below
   * 'folder' goes. */
  size_t n = 0, len = folder ? strlen(folder) : 0;
  for (size_t i = 0; i < v.len; i++) {
    if (!folder || (strncmp(v.items[i].path, folder, len) == 0 &&
                    v.items[i].path[len] == '/'))
      v.items[n++] = v.items[i];
    else
      free(v.items[i].path);
  }
  out->items = v.items;
  out->len = n;
  return 0;
}

int ws_source_list_all(ws_source_list *out, ws_source *src) {
  return list_below(out, src, NULL);
}

int ws_source_list_under(ws_source_list *out, ws_source *src,
                         const char *folder) {
  return list_below(out, src, folder);
}

void ws_source_list_release(ws_source_list *list) {
  if (!list)
    return;
  free_entries(list->items, list->len);
  list->items = NULL;
  list->len = 0;
}

const ws_source_entry *ws_source_list_find(const ws_source_list *list,
                                           const char *path) {
  size_t lo = 0, hi = list->len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(list->items[mid].path, path);
    if (c == 0)
      return &list->items[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* --- reading --- */

static int read_tree(ws_str *out, ws_source *src, const char *path,
                     const char *shown) {
  int error = 0;
  git_tree_entry *te = NULL;
  git_blob *blob = NULL;

  pthread_mutex_lock(&src->lock);
  int rc = git_tree_entry_bypath(&te, src->tree, path);
  if (rc == GIT_ENOTFOUND) {
    error =
        ws_error(WS_ENOTFOUND, "'%s' not found at %s", shown, src->describe);
    goto cleanup;
  }
  if (rc < 0) {
    error =
        error_git(WS_ERROR, "cannot look up '%s' at %s", shown, src->describe);
    goto cleanup;
  }
  switch (git_tree_entry_filemode(te)) {
  case GIT_FILEMODE_BLOB:
  case GIT_FILEMODE_BLOB_EXECUTABLE:
    break;
  case GIT_FILEMODE_LINK:
    error = ws_error(WS_EINVALID, "'%s' is a symlink: links are not followed",
                     shown);
    goto cleanup;
  case GIT_FILEMODE_COMMIT:
    error = ws_error(WS_EINVALID, "'%s' is a submodule: it is not read", shown);
    goto cleanup;
  case GIT_FILEMODE_TREE:
    error = ws_error(WS_EINVALID, "'%s' is a folder, not a file", shown);
    goto cleanup;
  default:
    error = ws_error(WS_EINVALID, "'%s' is not a regular file", shown);
    goto cleanup;
  }
  if (git_blob_lookup(&blob, src->repo, git_tree_entry_id(te)) < 0) {
    error = error_git(WS_ERROR, "cannot read '%s' at %s", shown, src->describe);
    goto cleanup;
  }
  git_object_size_t size = git_blob_rawsize(blob);
  if (size > SIZE_MAX - 1) {
    error = ws_error(WS_ERROR, "'%s' is too large", shown);
    goto cleanup;
  }
  ws_str_put(out, git_blob_rawcontent(blob), (size_t)size);

cleanup:
  git_blob_free(blob);
  git_tree_entry_free(te);
  pthread_mutex_unlock(&src->lock);
  return error;
}

static int read_worktree(ws_str *out, ws_source *src, const char *path,
                         const char *shown) {
  int error = 0;
  int dirfd = -1;
  int fd = -1;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  char *dir = ws_xstrndup(path, slash ? (size_t)(slash - path) : 0);
  struct stat st;

  if ((dirfd = open_dir_nofollow(src->root_fd, dir)) < 0) {
    if (errno == ELOOP)
      error =
          ws_error(WS_EINVALID,
                   "'%s' is below a symlink: links are not followed", shown);
    else if (errno == ENOENT || errno == ENOTDIR)
      error = ws_error(WS_ENOTFOUND, "'%s' not found in the work tree", shown);
    else
      error = ws_error(WS_ERROR, "cannot open '%s' in the work tree: %s", shown,
                       strerror(errno));
    goto cleanup;
  }
  if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      error = ws_error(WS_ENOTFOUND, "'%s' not found in the work tree", shown);
    else
      error = ws_error(WS_ERROR, "cannot stat '%s' in the work tree: %s", shown,
                       strerror(errno));
    goto cleanup;
  }
  if (S_ISLNK(st.st_mode)) {
    error = ws_error(WS_EINVALID, "'%s' is a symlink: links are not followed",
                     shown);
    goto cleanup;
  }
  if (S_ISDIR(st.st_mode)) {
    error = ws_error(WS_EINVALID, "'%s' is a folder, not a file", shown);
    goto cleanup;
  }
  if (!S_ISREG(st.st_mode) || (fd = open_regular(dirfd, base)) < 0) {
    error = ws_error(WS_EINVALID, "'%s' is not a regular file", shown);
    goto cleanup;
  }
  size_t before = out->len;
  if (read_fd(out, fd) < 0) {
    ws_str_truncate(out, before);
    error = ws_error(WS_ERROR, "cannot read '%s' in the work tree: %s", shown,
                     strerror(errno));
    goto cleanup;
  }

cleanup:
  if (fd >= 0)
    close(fd);
  if (dirfd >= 0)
    close(dirfd);
  free(dir);
  return error;
}

/* Reads a listed blob by its id: no tree lookup, and no lock, because
 * libgit2 reads objects from several threads safely; the lock only guards
 * the shared tree objects. */
static int read_blob_id(ws_str *out, ws_source *src, const ws_source_entry *e) {
  git_oid id;
  git_blob *blob = NULL;
  int error = 0;
  if (git_oid_fromstr(&id, e->oid) < 0 ||
      git_blob_lookup(&blob, src->repo, &id) < 0)
    return error_git(WS_ERROR, "cannot read '%s' at %s", e->path,
                     src->describe);
  git_object_size_t size = git_blob_rawsize(blob);
  if (size > SIZE_MAX - 1)
    error = ws_error(WS_ERROR, "'%s' is too large", e->path);
  else
    ws_str_put(out, git_blob_rawcontent(blob), (size_t)size);
  git_blob_free(blob);
  return error;
}

int ws_source_read_entry(ws_str *out, ws_source *src,
                         const ws_source_entry *e) {
  if (e->kind != WS_ENTRY_FILE || src->worktree)
    return ws_source_read(out, src, e->path);
  return read_blob_id(out, src, e);
}

int ws_source_read(ws_str *out, ws_source *src, const char *path) {
  assert(out && src && path);
  ws_str shown = WS_STR_INIT;
  ws_str_puts(&shown, src->content);
  path_push(&shown, path);
  int error;
  if (!path_is_safe(path))
    error = ws_error(WS_EINVALID, "invalid path '%s'", shown.ptr);
  else if (src->worktree)
    error = read_worktree(out, src, path, shown.ptr);
  else
    error = read_tree(out, src, path, shown.ptr);
  ws_str_release(&shown);
  return error;
}

const char *ws_source_describe(const ws_source *src) {
  return src->describe;
}

const char *ws_source_git_dir(const ws_source *src) {
  return git_repository_path(src->repo);
}

/* Hashing needs no lock: it touches no repository object. */
bool ws_source_entry_same(const ws_source *src, const ws_source_entry *e,
                          const char *data, size_t len) {
  if (!e)
    return false;
  if (!src->worktree)
    return true;
  git_oid id;
  char hex[GIT_OID_HEXSZ + 1];
  if (git_odb_hash(&id, data, len, GIT_OBJECT_BLOB) < 0)
    return false;
  oid_hex(hex, &id);
  return strcmp(hex, e->oid) == 0;
}

const char *ws_source_commit(const ws_source *src) {
  return src->commit;
}

long long ws_source_commit_time(const ws_source *src) {
  return src->commit_time;
}

const char *ws_source_workdir(const ws_source *src) {
  return src->workdir;
}

const char *ws_source_content(const ws_source *src) {
  return src->content;
}

void ws_source_global_init(void) {
  git_libgit2_init();
  /* libgit2 hashes every object it reads again (SHA-1 with collision
   * detection, ~200 MB/s), which made the history walk six times slower on
   * large folders. git itself does not; packs still check CRCs and zlib
   * checksums. */
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
  /* libgit2 caches only trees under 4 KiB by default, so with thousands of
   * profiles in one folder the history walk and path lookups would inflate
   * the whole people/ tree again each time. */
  git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, (int)GIT_OBJECT_TREE,
                   (size_t)64 << 20);
  /* The budget is shared by every cache; the history walk reads each
   * version of a folder once (rawtree.h) and gains nothing from more. At
   * 10,000 profiles, 64 MiB instead made a cold build's peak 49 MB higher,
   * at the same speed. */
  git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)16 << 20);
  /* Packs are read through mapped windows, 1 GiB each and up to 8 GiB in
   * all by default: every page of a large pack that was read stays in the
   * process's memory. Small windows under a low cap keep peak memory flat
   * (8 MiB and 32 MiB instead of 32 and 96 took 64 MB off a cold build's
   * peak at 10,000 profiles); reads are sequential enough that remapping
   * costs nothing measurable. */
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)8 << 20);
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)32 << 20);
}

void ws_source_global_shutdown(void) {
  git_libgit2_shutdown();
}

/* --- history ---
 *
 * One pass along first parents, newest first. A commit whose folder has the
 * same tree id as its parent's is skipped without reading the folder, and a
 * changed folder is read as raw bytes near the version read before it
 * (rawtree.h), so only the entries between their shared head and tail are
 * compared, in tree order, descending only into subtrees whose ids differ;
 * libgit2's diff with similarity detection runs only on the few commits
 * that both add and delete files. So the cost is commits plus the entries
 * that changed, not commits times profiles.
 *
 * The walk yields the change log (revs and changes); the files are then
 * replayed from the log, oldest first (replay_files). The log of a commit's
 * first-parent chain never changes, so it is cached (see "the history
 * cache" below) and the next walk stops at the cached tip. */

#define DEAD ((size_t)-1)

/* Keys are borrowed: the history's texts, which outlive the map. */
typedef struct {
  const char **keys;
  size_t *vals;
  size_t len, cap; /* cap is a power of two, or 0 */
} path_map;

typedef struct {
  ws_source *src;
  git_mailmap *mailmap;
  git_oid *shallow; /* sorted boundary commits of a shallow clone */
  size_t nshallow;
  ws_source_history *h;
  size_t cap_revs, cap_changes;
  ws_source_change *pending; /* the changes of the commit being compared */
  size_t npending, cap_pending;
  const char *prefix;  /* "people/" or "": prepended to folder-relative paths */
  const git_oid *stop; /* the cached tip: its log is known, stop there */
  bool met_stop;
  /* The cached log: a walk from another branch that reaches one of its
   * commits has reached the chain the cache describes (see is_known). */
  const ws_source_history *known_log;
  struct known_rev *known; /* its commits by id, once many were looked up */
  size_t nknown, known_checks;
  bool met_known;
  size_t met_known_at; /* where in known_log the walk stopped */
  git_oid root; /* the oldest commit walked: a root or a shallow boundary */
  git_odb *odb; /* the folders are read as raw trees (rawtree.h) */
} walker;

static size_t *map_slot(path_map *m, const char *key, bool create);

static void map_grow(path_map *m) {
  path_map old = *m;
  m->cap = old.cap ? old.cap * 2 : 256;
  m->len = 0;
  m->keys = ws_xcalloc(m->cap, sizeof(char *));
  m->vals = ws_xcalloc(m->cap, sizeof(size_t));
  for (size_t i = 0; i < old.cap; i++)
    if (old.keys[i])
      *map_slot(m, old.keys[i], true) = old.vals[i];
  free(old.keys);
  free(old.vals);
}

/* Returns the value slot of 'key', adding it (as DEAD) when 'create'; NULL
 * when absent and not created. */
static size_t *map_slot(path_map *m, const char *key, bool create) {
  if (create && (m->len + 1) * 2 > m->cap)
    map_grow(m);
  if (!m->cap)
    return NULL;
  size_t i = (size_t)ws_str_hash(key) & (m->cap - 1);
  while (m->keys[i]) {
    if (strcmp(m->keys[i], key) == 0)
      return &m->vals[i];
    i = (i + 1) & (m->cap - 1);
  }
  if (!create)
    return NULL;
  m->keys[i] = key;
  m->vals[i] = DEAD;
  m->len++;
  return &m->vals[i];
}

/* Gives an empty map room for 'n' keys at once, not step by step. */
static void map_reserve(path_map *m, size_t n) {
  size_t cap = 256;
  while (cap < n * 2)
    cap *= 2;
  if (m->cap >= cap)
    return;
  free(m->keys);
  free(m->vals);
  m->cap = cap;
  m->len = 0;
  m->keys = ws_xcalloc(cap, sizeof(char *));
  m->vals = ws_xcalloc(cap, sizeof(size_t));
}

static void map_release(path_map *m) {
  free(m->keys);
  free(m->vals);
}

static int cmp_oid(const void *a, const void *b) {
  return git_oid_cmp(a, b);
}

typedef struct known_rev {
  git_oid id;
  size_t at; /* in walker.known_log */
} known_rev;

static int cmp_known(const void *a, const void *b) {
  return git_oid_cmp(&((const known_rev *)a)->id, &((const known_rev *)b)->id);
}

static void sort_known(walker *w) {
  const ws_source_history *c = w->known_log;
  w->known = ws_xcalloc(c->nrevs + 1, sizeof(known_rev));
  for (size_t i = 0; i < c->nrevs; i++)
    if (git_oid_fromstr(&w->known[w->nknown].id, c->revs[i].id) == 0)
      w->known[w->nknown++].at = i;
  qsort(w->known, w->nknown, sizeof(known_rev), cmp_known);
}

/* Whether commit 'id' is in the cached log, and where ('*at'). A push
 * walks a commit or two: comparing their ids with the log's as text costs
 * far less than parsing and sorting 50,000 ids (12 ms), which pays only
 * after a few dozen lookups. */
static bool is_known(walker *w, const git_oid *id, size_t *at) {
  enum { SCANS = 32 };
  const ws_source_history *c = w->known_log;
  if (!c || !c->nrevs)
    return false;
  if (++w->known_checks < SCANS) {
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof(hex), id);
    for (size_t i = 0; i < c->nrevs; i++)
      if (strcmp(c->revs[i].id, hex) == 0) {
        *at = i;
        return true;
      }
    return false;
  }
  if (!w->known)
    sort_known(w);
  known_rev key = {*id, 0};
  const known_rev *k =
      bsearch(&key, w->known, w->nknown, sizeof(known_rev), cmp_known);
  if (k)
    *at = k->at;
  return k != NULL;
}

/* libgit2 1.5 does not read .git/shallow when walking, so the boundary
 * commits are read here and treated as having no parent, as git does. */
static void read_shallow(walker *w) {
  if (git_repository_is_shallow(w->src->repo) != 1)
    return;
  ws_str path = WS_STR_INIT, text = WS_STR_INIT;
  ws_str_printf(&path, "%sshallow", git_repository_commondir(w->src->repo));
  int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read_fd(&text, fd) == 0) {
    for (char *line = text.ptr; *line;) {
      char *end = strchr(line, '\n');
      size_t n = end ? (size_t)(end - line) : strlen(line);
      git_oid id;
      if (n >= GIT_OID_HEXSZ &&
          git_oid_fromstrn(&id, line, GIT_OID_HEXSZ) == 0) {
        w->shallow =
            ws_xreallocarray(w->shallow, w->nshallow + 1, sizeof(git_oid));
        w->shallow[w->nshallow++] = id;
      }
      line += n + (end ? 1 : 0);
    }
    qsort(w->shallow, w->nshallow, sizeof(git_oid), cmp_oid);
  }
  if (fd >= 0)
    close(fd);
  ws_str_release(&path);
  ws_str_release(&text);
}

static bool is_boundary(const walker *w, const git_oid *id) {
  return w->nshallow &&
         bsearch(id, w->shallow, w->nshallow, sizeof(git_oid), cmp_oid);
}

/* The build reads .mailmap from the walked commit, so the same commit gives
 * the same names whatever the work tree holds; a preview reads the work
 * tree's, like git. */
static int load_mailmap(walker *w, const git_commit *start) {
  ws_source *src = w->src;
  if (src->worktree)
    return git_mailmap_from_repository(&w->mailmap, src->repo) < 0
               ? error_git(WS_ERROR, "cannot read .mailmap")
               : 0;
  git_tree *root = NULL;
  git_tree_entry *te = NULL;
  git_blob *blob = NULL;
  int error = 0;
  if (git_commit_tree(&root, start) == 0 &&
      git_tree_entry_bypath(&te, root, ".mailmap") == 0 &&
      git_tree_entry_type(te) == GIT_OBJECT_BLOB &&
      git_blob_lookup(&blob, src->repo, git_tree_entry_id(te)) == 0)
    error = git_mailmap_from_buffer(&w->mailmap, git_blob_rawcontent(blob),
                                    (size_t)git_blob_rawsize(blob));
  else
    error = git_mailmap_new(&w->mailmap);
  git_blob_free(blob);
  git_tree_entry_free(te);
  git_tree_free(root);
  return error < 0 ? error_git(WS_ERROR, "cannot read .mailmap") : 0;
}

/* --- comparing two folders --- */

static void pend(walker *w, ws_change_kind kind, const ws_str *path) {
  if (w->npending == w->cap_pending) {
    w->cap_pending = w->cap_pending ? w->cap_pending * 2 : 16;
    w->pending =
        ws_xreallocarray(w->pending, w->cap_pending, sizeof(*w->pending));
  }
  ws_source_change *c = &w->pending[w->npending++];
  c->kind = kind;
  c->rev = 0;
  c->path = ws_xstrndup(path->ptr, path->len);
  c->old_path = NULL;
}

static bool entry_is_file(const ws_rawtree_entry *e) {
  return e->mode == GIT_FILEMODE_BLOB ||
         e->mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
         e->mode == GIT_FILEMODE_LINK;
}

/* Git's tree order: a folder sorts as if its name ended with '/'. */
static int cmp_entries(const ws_rawtree_entry *a, const ws_rawtree_entry *b) {
  const char *x = a->name, *y = b->name;
  size_t i = 0;
  while (x[i] && x[i] == y[i])
    i++;
  unsigned char cx = (unsigned char)x[i], cy = (unsigned char)y[i];
  if (!cx && ws_rawtree_is_tree(a))
    cx = '/';
  if (!cy && ws_rawtree_is_tree(b))
    cy = '/';
  return cx < cy ? -1 : cx > cy ? 1 : 0;
}

static bool same_entry(const ws_rawtree_entry *a, const ws_rawtree_entry *b) {
  return a->mode == b->mode && memcmp(a->id, b->id, GIT_OID_RAWSZ) == 0;
}

static int diff_range(walker *w, const ws_rawtree *a, size_t i, size_t na,
                      const ws_rawtree *b, size_t j, size_t nb, ws_str *path);

static int read_folder(ws_rawtree *t, walker *w, const unsigned char *raw,
                       const ws_str *path) {
  git_oid id;
  git_oid_fromraw(&id, raw);
  if (ws_rawtree_read(t, w->odb, &id) < 0)
    return error_git(WS_ERROR, "cannot read folder '%s'", path->ptr);
  return 0;
}

/* Compares two versions of a subfolder, whole; NULL is an empty one. */
static int diff_folders(walker *w, const unsigned char *a_id,
                        const unsigned char *b_id, ws_str *path) {
  ws_rawtree a = WS_RAWTREE_INIT, b = WS_RAWTREE_INIT;
  int error = 0;
  if (a_id)
    error = read_folder(&a, w, a_id, path);
  if (error == 0 && b_id)
    error = read_folder(&b, w, b_id, path);
  if (error == 0)
    error = diff_range(w, &a, 0, a.n, &b, 0, b.n, path);
  ws_rawtree_release(&a);
  ws_rawtree_release(&b);
  return error;
}

/* One side of a comparison: a file is added or deleted, a folder's files
 * all are. */
static int diff_side(walker *w, const ws_rawtree_entry *e, bool added,
                     ws_str *path) {
  if (entry_is_file(e)) {
    pend(w, added ? WS_CHANGE_ADDED : WS_CHANGE_DELETED, path);
    return 0;
  }
  if (!ws_rawtree_is_tree(e))
    return 0;
  return added ? diff_folders(w, NULL, e->id, path)
               : diff_folders(w, e->id, NULL, path);
}

static int diff_pair(walker *w, const ws_rawtree_entry *a,
                     const ws_rawtree_entry *b, ws_str *path) {
  if (same_entry(a, b))
    return 0;
  if (entry_is_file(a) && entry_is_file(b)) {
    pend(w, WS_CHANGE_MODIFIED, path);
    return 0;
  }
  if (!ws_rawtree_is_tree(a) || !ws_rawtree_is_tree(b)) {
    int error = diff_side(w, a, false, path);
    return error < 0 ? error : diff_side(w, b, true, path);
  }
  return diff_folders(w, a->id, b->id, path);
}

/* Walks entries [i, na) of 'a' and [j, nb) of 'b' in tree order at once. */
static int diff_range(walker *w, const ws_rawtree *a, size_t i, size_t na,
                      const ws_rawtree *b, size_t j, size_t nb, ws_str *path) {
  int error = 0;
  while (error == 0 && (i < na || j < nb)) {
    ws_rawtree_entry ea, eb;
    if (i < na)
      ws_rawtree_entry_at(&ea, a, i);
    if (j < nb)
      ws_rawtree_entry_at(&eb, b, j);
    /* In a whole subfolder nearly every entry is unchanged: skip those
     * first, cheaply. */
    if (i < na && j < nb && same_entry(&ea, &eb) &&
        strcmp(ea.name, eb.name) == 0) {
      i++;
      j++;
      continue;
    }
    int c = i >= na ? 1 : j >= nb ? -1 : cmp_entries(&ea, &eb);
    const char *name = c <= 0 ? ea.name : eb.name;
    size_t mark = path->len;
    if (!name_is_safe(name)) {
      /* never turned into a path */
    } else {
      path_push(path, name);
      if (c < 0)
        error = diff_side(w, &ea, false, path);
      else if (c > 0)
        error = diff_side(w, &eb, true, path);
      else
        error = diff_pair(w, &ea, &eb, path);
    }
    ws_str_truncate(path, mark);
    i += c <= 0;
    j += c >= 0;
  }
  return error;
}

static ws_source_change *find_pending(walker *w, ws_change_kind kind,
                                      const char *path) {
  for (size_t i = 0; i < w->npending; i++)
    if (w->pending[i].kind == kind && strcmp(w->pending[i].path, path) == 0)
      return &w->pending[i];
  return NULL;
}

/* Pairs deleted and added files by content similarity (libgit2's rename
 * detection, 50% by default), limited to the files that came and went. */
static int find_renames(walker *w, const git_oid *a_id, const git_oid *b_id) {
  size_t nadd = 0, ndel = 0;
  for (size_t i = 0; i < w->npending; i++) {
    nadd += w->pending[i].kind == WS_CHANGE_ADDED;
    ndel += w->pending[i].kind == WS_CHANGE_DELETED;
  }
  if (!nadd || !ndel)
    return 0;
  git_tree *a = NULL, *b = NULL;
  git_diff_options opts;
  git_diff_find_options fopts;
  git_diff *diff = NULL;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  git_diff_find_options_init(&fopts, GIT_DIFF_FIND_OPTIONS_VERSION);
  char **specs = ws_xcalloc(nadd + ndel, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < w->npending; i++)
    if (w->pending[i].kind != WS_CHANGE_MODIFIED)
      specs[n++] = w->pending[i].path;
  opts.flags = GIT_DIFF_DISABLE_PATHSPEC_MATCH;
  opts.pathspec.strings = specs;
  opts.pathspec.count = n;
  fopts.flags = GIT_DIFF_FIND_RENAMES;
  int error = 0;
  if ((a_id && git_tree_lookup(&a, w->src->repo, a_id) < 0) ||
      (b_id && git_tree_lookup(&b, w->src->repo, b_id) < 0) ||
      git_diff_tree_to_tree(&diff, w->src->repo, a, b, &opts) < 0 ||
      git_diff_find_similar(diff, &fopts) < 0) {
    error = error_git(WS_ERROR, "cannot detect renames");
    goto cleanup;
  }
  for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
    const git_diff_delta *d = git_diff_get_delta(diff, i);
    if (d->status != GIT_DELTA_RENAMED)
      continue;
    ws_source_change *del =
        find_pending(w, WS_CHANGE_DELETED, d->old_file.path);
    ws_source_change *add = find_pending(w, WS_CHANGE_ADDED, d->new_file.path);
    if (!del || !add)
      continue;
    add->kind = WS_CHANGE_RENAMED;
    add->old_path = del->path;
    *del = w->pending[--w->npending];
  }

cleanup:
  git_diff_free(diff);
  git_tree_free(a);
  git_tree_free(b);
  free(specs);
  return error;
}

static int cmp_change(const void *a, const void *b) {
  return strcmp(((const ws_source_change *)a)->path,
                ((const ws_source_change *)b)->path);
}

static void push_rev(walker *w, git_commit *c, bool cut) {
  ws_source_history *h = w->h;
  if (h->nrevs == w->cap_revs) {
    w->cap_revs = w->cap_revs ? w->cap_revs * 2 : 64;
    h->revs = ws_xreallocarray(h->revs, w->cap_revs, sizeof(*h->revs));
  }
  ws_source_rev *r = &h->revs[h->nrevs++];
  const git_signature *sig = git_commit_author(c);
  const char *name = sig->name, *email = sig->email;
  if (git_mailmap_resolve(&name, &email, w->mailmap, sig->name, sig->email) < 0)
    name = sig->name;
  oid_hex(r->id, git_commit_id(c));
  r->time = (long long)git_commit_time(c);
  r->author = ws_xstrdup(name ? name : "");
  const char *subject = git_commit_summary(c);
  r->subject = ws_xstrdup(subject ? subject : "");
  r->cut = cut;
}

static ws_digest change_digest(const ws_source_change *c,
                               const ws_source_rev *r) {
  ws_digester *d = ws_digester_new();
  unsigned char kind = (unsigned char)c->kind;
  ws_digester_bytes(d, &kind, 1);
  ws_digester_bytes(d, &r->time, sizeof(r->time));
  ws_digester_str(d, r->id);
  ws_digester_str(d, r->author);
  ws_digester_str(d, r->subject);
  ws_digester_str(d, c->path);
  ws_digester_text(d, c->old_path);
  ws_digest out = ws_digester_end(d);
  ws_digester_free(d);
  return out;
}

/* Records the pending changes of commit 'c', with their paths made
 * content-relative. */
static void take_pending(walker *w, git_commit *c, bool cut) {
  if (!w->npending)
    return;
  push_rev(w, c, cut);
  qsort(w->pending, w->npending, sizeof(*w->pending), cmp_change);
  ws_source_history *h = w->h;
  for (size_t i = 0; i < w->npending; i++) {
    ws_source_change *p = &w->pending[i];
    if (h->nchanges == w->cap_changes) {
      w->cap_changes = w->cap_changes ? w->cap_changes * 2 : 64;
      h->changes =
          ws_xreallocarray(h->changes, w->cap_changes, sizeof(*h->changes));
    }
    ws_source_change *out = &h->changes[h->nchanges++];
    ws_str s = WS_STR_INIT;
    out->kind = p->kind;
    out->rev = h->nrevs - 1;
    ws_str_printf(&s, "%s%s", w->prefix, p->path);
    out->path = ws_str_detach(&s);
    out->old_path = NULL;
    if (p->old_path) {
      ws_str_printf(&s, "%s%s", w->prefix, p->old_path);
      out->old_path = ws_str_detach(&s);
    }
    free(p->path);
    free(p->old_path);
    out->digest = change_digest(out, &h->revs[out->rev]);
  }
  w->npending = 0;
}

/* --- the walk --- */

/* The id of commit 'c''s folder; '*present' is false when it has none. */
static int folder_of(git_oid *id, bool *present, git_commit *c,
                     const char *folder) {
  git_tree *root = NULL;
  git_tree_entry *te = NULL;
  int error = 0;
  *present = false;
  if (!folder[0]) {
    git_oid_cpy(id, git_commit_tree_id(c));
    *present = true;
    return 0;
  }
  if (git_commit_tree(&root, c) < 0)
    return error_git(WS_ERROR, "cannot read the tree of a commit");
  int rc = git_tree_entry_bypath(&te, root, folder);
  if (rc == 0 && git_tree_entry_type(te) == GIT_OBJECT_TREE) {
    git_oid_cpy(id, git_tree_entry_id(te));
    *present = true;
  } else if (rc < 0 && rc != GIT_ENOTFOUND) {
    error = error_git(WS_ERROR, "cannot read folder '%s'", folder);
  }
  git_tree_entry_free(te);
  git_tree_free(root);
  return error;
}

/* The first parent, or NULL at a root or a shallow boundary ('*cut'). */
static int parent_of(git_commit **out, walker *w, git_commit *c, bool *cut) {
  *out = NULL;
  if (git_commit_parentcount(c) == 0)
    return 0;
  const git_oid *pid = git_commit_parent_id(c, 0);
  if (is_boundary(w, git_commit_id(c))) {
    *cut = true;
    return 0;
  }
  int rc = git_commit_lookup(out, w->src->repo, pid);
  if (rc == GIT_ENOTFOUND && w->nshallow) {
    *cut = true;
    return 0;
  }
  return rc < 0 ? error_git(WS_ERROR, "cannot read commit %.7s",
                            git_oid_tostr_s(pid))
                : 0;
}

/* Compares the folder of commit 'c' (its tree 'ct', 'cid') with its
 * parent's ('pid'), reading the parent's near the commit's own so that
 * only the entries between their shared head and tail are compared; then
 * the parent's tree takes the place of the commit's in 'ct'. */
static int diff_commit(walker *w, git_commit *c, bool cut, ws_rawtree *ct,
                       const git_oid *cid, const git_oid *pid,
                       const char *folder, ws_str *path) {
  static const ws_rawtree none = WS_RAWTREE_INIT;
  ws_rawtree pt = WS_RAWTREE_INIT;
  const ws_rawtree *old = &none, *new = cid ? ct : &none;
  ws_rawtree_span span = {0, 0, new->n};
  int rc = 0;
  if (pid && cid)
    rc = ws_rawtree_read_near(&pt, w->odb, pid, ct, &span);
  else if (pid)
    rc = ws_rawtree_read(&pt, w->odb, pid);
  if (rc < 0) {
    ws_rawtree_release(&pt);
    return error_git(WS_ERROR, "cannot read folder '%s'", folder);
  }
  if (pid) {
    old = &pt;
    if (!cid)
      span.to = pt.n;
  }
  int error = diff_range(w, old, span.from, span.to, new, span.from,
                         span.near_to, path);
  if (error == 0)
    error = find_renames(w, pid, cid);
  if (error == 0)
    take_pending(w, c, cut);
  ws_rawtree_swap(ct, &pt);
  ws_rawtree_release(&pt);
  return error;
}

static int walk(walker *w, git_commit *start, const char *folder) {
  git_commit *c = start, *p = NULL;
  git_oid cid, pid;
  bool chas = false, phas = false;
  ws_rawtree ct = WS_RAWTREE_INIT;
  ws_str path = WS_STR_INIT;
  int error = folder_of(&cid, &chas, c, folder);
  if (error == 0 && git_repository_odb(&w->odb, w->src->repo) < 0)
    error = error_git(WS_ERROR, "cannot open the object database");
  if (error == 0 && chas && ws_rawtree_read(&ct, w->odb, &cid) < 0)
    error = error_git(WS_ERROR, "cannot read folder '%s'", folder);
  while (error == 0 && c) {
    bool cut = false;
    if (w->stop && git_oid_equal(git_commit_id(c), w->stop)) {
      w->met_stop = true;
      break;
    }
    if ((w->met_known = is_known(w, git_commit_id(c), &w->met_known_at)))
      break;
    phas = false;
    if ((error = parent_of(&p, w, c, &cut)) < 0 ||
        (p && (error = folder_of(&pid, &phas, p, folder)) < 0))
      break;
    w->h->partial |= cut;
    if (phas != chas || (phas && !git_oid_equal(&pid, &cid))) {
      error = diff_commit(w, c, cut, &ct, chas ? &cid : NULL,
                          phas ? &pid : NULL, folder, &path);
      if (error < 0)
        break;
    }
    w->h->walked++;
    if (!p)
      git_oid_cpy(&w->root, git_commit_id(c));
    if (c != start)
      git_commit_free(c);
    c = p;
    p = NULL;
    cid = pid;
    chas = phas;
  }
  for (size_t i = 0; i < w->npending; i++) {
    free(w->pending[i].path);
    free(w->pending[i].old_path);
  }
  w->npending = 0;
  if (c != start)
    git_commit_free(c);
  git_commit_free(p);
  ws_rawtree_release(&ct);
  git_odb_free(w->odb);
  w->odb = NULL;
  ws_str_release(&path);
  return error;
}

/* --- files from the change log ---
 *
 * The files at the end of the log follow from the log alone, replayed
 * oldest first: an addition starts a record (a re-adding starts over), a
 * change or a rename updates it, a rename moves it, a deletion ends it.
 * Within one commit the order does not matter: a path is at most once on
 * each side of a comparison. The history cache keeps the records of its
 * tip (with one rev per author), so a load that walked a few commits on
 * top of it replays only theirs (replay_seed). */

typedef struct {
  const char *path; /* a text of the history's */
  bool alive;
  size_t first, last, revisions;
  /* Revs that touched it; after replay_authors, one per author, the
   * newest, in the order of the authors' names. With 'cap' 0 they are
   * borrowed (the cache's) and copied before they grow. */
  size_t *revs;
  size_t nrevs, cap;
  bool settled; /* one rev per author already: as read from the cache */
} replay_rec;

typedef struct {
  replay_rec *recs;
  size_t n, cap;
  path_map paths; /* path -> the record living there, or DEAD */
  size_t *seed_revs;  /* the cache's revs, which records borrow */
  replay_rec **alive; /* by path, once replayed */
  size_t nalive;
  bool ordered; /* the records are in the order of their paths */
} replay;

static replay_rec *replay_add(replay *rp) {
  if (rp->n == rp->cap) {
    rp->cap = rp->cap ? rp->cap * 2 : 64;
    rp->recs = ws_xreallocarray(rp->recs, rp->cap, sizeof(replay_rec));
  }
  replay_rec *r = &rp->recs[rp->n++];
  memset(r, 0, sizeof(*r));
  r->alive = true;
  return r;
}

static void replay_touch(replay_rec *r, size_t rev) {
  r->settled = false;
  r->last = rev;
  r->revisions++;
  if (r->nrevs == r->cap || !r->cap) {
    size_t cap = r->nrevs < 2 ? 4 : r->nrevs * 2;
    size_t *revs =
        ws_xreallocarray(r->cap ? r->revs : NULL, cap, sizeof(size_t));
    if (!r->cap && r->nrevs)
      memcpy(revs, r->revs, r->nrevs * sizeof(size_t));
    r->revs = revs;
    r->cap = cap;
  }
  r->revs[r->nrevs++] = rev;
}

/* Ends the life of the record at 'slot' and leaves the slot empty. */
static void replay_end(replay *rp, size_t *slot) {
  if (*slot != DEAD)
    rp->recs[*slot].alive = false;
  *slot = DEAD;
}

static void replay_change(replay *rp, const ws_source_change *c) {
  size_t r = DEAD;
  if (c->kind == WS_CHANGE_RENAMED) {
    size_t *old = map_slot(&rp->paths, c->old_path, false);
    if (old) {
      r = *old;
      *old = DEAD;
    }
  }
  size_t *slot = map_slot(&rp->paths, c->path, true);
  if (c->kind == WS_CHANGE_MODIFIED)
    r = *slot;
  else
    replay_end(rp, slot);
  if (c->kind == WS_CHANGE_DELETED)
    return;
  if (r == DEAD) {
    r = (size_t)(replay_add(rp) - rp->recs);
    rp->recs[r].first = c->rev;
    rp->ordered = false;
  } else if (c->kind == WS_CHANGE_RENAMED) {
    rp->ordered = false;
  }
  rp->recs[r].path = c->path;
  replay_touch(&rp->recs[r], c->rev);
  *slot = r;
}

typedef struct {
  const char *name;
  size_t rev;
} author_rev;

/* By name, then newest first. */
static int cmp_author_rev(const void *a, const void *b) {
  const author_rev *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->rev > y->rev) - (x->rev < y->rev);
}

/* Sorts 'n' authors. A file has a handful of revisions, and qsort on
 * 10,000 such lists cost a tenth of loading the history. */
static void sort_authors(author_rev *v, size_t n) {
  if (n > 16) {
    qsort(v, n, sizeof(*v), cmp_author_rev);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    author_rev x = v[i];
    size_t k = i;
    for (; k > 0 && cmp_author_rev(&v[k - 1], &x) > 0; k--)
      v[k] = v[k - 1];
    v[k] = x;
  }
}

/* Keeps one rev per author of 'r': the newest, in the order of their
 * names. 'tmp' is scratch space that grows as needed. */
static void replay_authors(replay_rec *r, const ws_source_history *h,
                           author_rev **tmp, size_t *cap) {
  if (r->nrevs > *cap) {
    *cap = r->nrevs * 2;
    *tmp = ws_xreallocarray(*tmp, *cap, sizeof(author_rev));
  }
  author_rev *v = *tmp;
  for (size_t k = 0; k < r->nrevs; k++)
    v[k] = (author_rev){h->revs[r->revs[k]].author, r->revs[k]};
  sort_authors(v, r->nrevs);
  size_t n = 0;
  for (size_t k = 0; k < r->nrevs; k++)
    if (!n || strcmp(v[n - 1].name, v[k].name) != 0)
      v[n++] = v[k];
  for (size_t k = 0; k < n; k++)
    r->revs[k] = v[k].rev;
  r->nrevs = n;
}

static int cmp_rec_path(const void *a, const void *b) {
  return strcmp((*(replay_rec *const *)a)->path,
                (*(replay_rec *const *)b)->path);
}

/* Puts the changes [0, n) of 'h' into 'rp', oldest first, then lists the
 * records alive at the end by path. */
static void replay_run(replay *rp, const ws_source_history *h, size_t n) {
  for (size_t i = n; i-- > 0;)
    replay_change(rp, &h->changes[i]);
  rp->alive = ws_xcalloc(rp->n ? rp->n : 1, sizeof(*rp->alive));
  bool sorted = true;
  for (size_t i = 0; i < rp->n; i++) {
    if (!rp->recs[i].alive)
      continue;
    rp->alive[rp->nalive] = &rp->recs[i];
    sorted = sorted && (rp->ordered || !rp->nalive ||
                        cmp_rec_path(&rp->alive[rp->nalive - 1],
                                     &rp->alive[rp->nalive]) < 0);
    rp->nalive++;
  }
  /* Records seeded from the cache come in the order of their paths, and
   * a push rarely adds or renames one. */
  if (!sorted)
    qsort(rp->alive, rp->nalive, sizeof(*rp->alive), cmp_rec_path);
}

/* Fills h->files from the records 'rp' replayed. */
static void replay_files(ws_source_history *h, replay *rp) {
  author_rev *tmp = NULL;
  size_t cap = 0;
  h->files = ws_xcalloc(rp->nalive ? rp->nalive : 1, sizeof(ws_source_file));
  h->nfiles = rp->nalive;
  for (size_t i = 0; i < rp->nalive; i++) {
    replay_rec *r = rp->alive[i];
    ws_source_file *f = &h->files[i];
    if (!r->settled)
      replay_authors(r, h, &tmp, &cap);
    f->path = r->path;
    f->first = r->first;
    f->last = r->last;
    f->revisions = r->revisions;
    f->authors = ws_xcalloc(r->nrevs ? r->nrevs : 1, sizeof(char *));
    for (size_t k = 0; k < r->nrevs; k++)
      f->authors[k] = h->revs[r->revs[k]].author;
    f->nauthors = r->nrevs;
  }
  free(tmp);
}

/* Starts 'rp' from the records of the cache's tip, whose revs come after
 * the 'fresh' ones walked since: only the changes of those are replayed
 * on top. The paths are looked up only when there are such changes. */
static void replay_seed(replay *rp, size_t fresh, size_t changes) {
  if (changes)
    map_reserve(&rp->paths, rp->n + changes);
  for (size_t i = 0; i < rp->n; i++) {
    replay_rec *r = &rp->recs[i];
    r->first += fresh;
    r->last += fresh;
    for (size_t k = 0; k < r->nrevs; k++)
      r->revs[k] += fresh;
    if (changes)
      *map_slot(&rp->paths, r->path, true) = i;
  }
}

static void replay_release(replay *rp) {
  for (size_t i = 0; i < rp->n; i++)
    if (rp->recs[i].cap)
      free(rp->recs[i].revs);
  free(rp->recs);
  free(rp->seed_revs);
  free(rp->alive);
  map_release(&rp->paths);
  memset(rp, 0, sizeof(*rp));
}

static int start_commit(git_commit **out, ws_source *src) {
  git_oid id;
  *out = NULL;
  if (!src->worktree) {
    if (git_oid_fromstr(&id, src->commit) < 0)
      return error_git(WS_ERROR, "invalid commit id %s", src->commit);
  } else if (git_reference_name_to_id(&id, src->repo, "HEAD") < 0) {
    return 0; /* no commits yet: no history */
  }
  return git_commit_lookup(out, src->repo, &id) < 0
             ? error_git(WS_ERROR, "cannot read commit %s",
                         git_oid_tostr_s(&id))
             : 0;
}

/* --- the history cache ---
 *
 * The change log of the first-parent chain ending at commit T is a pure
 * function of T, the folder and the .mailmap applied, so it is stored in
 * the repository's git directory (never in the published site) as
 * wholeself/history-<hash of the folder>:
 *
 *   header: "wholeself history cache\n", u64 version, str content,
 *           str subdir, u64 mailmap, u64 shallow, str root;
 *   then one or more segments, each written by one save: the records of
 *   the commits it walked, newest first, each
 *     str id, u64 time, str author, str subject, u8 cut, u64 n,
 *     n × (u8 kind, str path, str old_path or "",
 *          u64 u64 digest of the change, see ws_source_change),
 *   then a trailer: str tip, u8 partial, u64 nspans,
 *     nspans × (u64 offset, u64 length, u64 nrevs, u64 nchanges,
 *               u64 checksum), the records of the log, newest first,
 *     u64 nfiles, u64 nauthors (of all files),
 *     nfiles × (str path, u64 first, u64 last, u64 revisions, u64 n,
 *               n × u64 rev), the files at T by path, each author's
 *               newest rev in the order of their names (replay_authors),
 *     u64 checksum of the header and the trailer before it, u64 offset of
 *     the trailer, TRAILER_MAGIC.
 *
 * Checksums are the high half of an XXH3-128 digest (ws_digest_bytes: a
 * byte-wise FNV-1a took 10 ms over 8 MB). Numbers are little-endian, a str
 * is a u64 length, the bytes and a NUL: a history read from the cache
 * points at its texts in the mapped file (see "texts read from the
 * cache"). The last trailer is the file's. After a push, a save appends
 * the new commits' records and a trailer that lists them before the
 * spans already there (1 MB at 10,000 profiles, where writing the whole
 * 10 MB again was a tenth of a push's history thread), and the files are
 * replayed from T's, not from 50,000 changes. Appending never changes a
 * byte already written, so a build that mapped the file earlier still
 * reads what it mapped; appenders hold flock() on the file. When old
 * trailers would make up half of the file, or the log is not the cached
 * one continued, the save writes a new file instead (a temporary file
 * renamed over the old one). The next walk stops at T and appends the
 * cached log; when it never meets T (the history was rewritten, or T is
 * not in this repository) it has walked the whole chain and the cache is
 * just rewritten. Anything unexpected in the
 * file means a full walk, never an error. */

#define CACHE_MAGIC "wholeself history cache\n"
#define CACHE_VERSION 6
#define TRAILER_MAGIC "wshtrail"
#define TRAILER_END (8 + 8 + 8) /* checksum, offset, magic */
#define CACHE_MIN_REV (8 + 41 + 8 + 9 + 9 + 1 + 8)
#define CACHE_MIN_CHANGE (1 + 9 + 9 + 16)
#define CACHE_MIN_FILE (10 + 8 * 5)

typedef struct {
  uint64_t mailmap; /* hash of the .mailmap the authors were resolved with */
  uint64_t shallow; /* hash of the shallow boundary, 0 when complete */
  const char *content, *subdir;
} cache_keys;

/* Where one save's records lie in the file. */
typedef struct {
  uint64_t off, len, nrevs, nchanges, sum;
} cache_span;

typedef struct {
  git_oid root, tip;
  ws_source_history *h; /* revs, changes and partial; no files */
  replay files;         /* the records of the files at the tip */
  /* The file as read, which h's pool keeps mapped: its header and the
   * spans of its records, for a save that appends (cache_write). */
  const char *header;
  size_t header_len, len;
  cache_span *spans;
  size_t nspans;
  struct stat st; /* the file read, to append only to that one */
} cache_data;

static uint64_t fnv64(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211u;
  return h;
}

static uint64_t file_checksum(const void *data, size_t len) {
  return ws_digest_bytes(data, len).hi;
}

#define FNV64_INIT 14695981039346656037u

/* The .mailmap a walk applies: at the walked commit, its blob id; in a
 * preview, the work tree's file and the mailmap.* settings. */
static uint64_t mailmap_key(ws_source *src, git_commit *start) {
  uint64_t h = FNV64_INIT;
  if (!src->worktree) {
    git_tree *root = NULL;
    git_tree_entry *te = NULL;
    if (git_commit_tree(&root, start) == 0 &&
        git_tree_entry_bypath(&te, root, ".mailmap") == 0)
      h = fnv64(h, git_tree_entry_id(te)->id, GIT_OID_RAWSZ);
    git_tree_entry_free(te);
    git_tree_free(root);
    return h;
  }
  ws_str text = WS_STR_INIT, path = WS_STR_INIT;
  ws_str_printf(&path, "%s/.mailmap", src->workdir);
  int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    read_fd(&text, fd);
    close(fd);
  }
  h = fnv64(h, text.ptr, text.len + 1);
  git_config *cfg = NULL;
  git_buf buf = {0};
  if (git_repository_config_snapshot(&cfg, src->repo) == 0) {
    if (git_config_get_path(&buf, cfg, "mailmap.file") == 0) {
      ws_str_clear(&text);
      h = fnv64(h, buf.ptr, buf.size + 1);
      if ((fd = open(buf.ptr, O_RDONLY | O_CLOEXEC)) >= 0) {
        read_fd(&text, fd);
        close(fd);
      }
      h = fnv64(h, text.ptr, text.len + 1);
    }
    git_buf_dispose(&buf);
    git_object *blob = NULL;
    if (git_config_get_string_buf(&buf, cfg, "mailmap.blob") == 0 &&
        git_revparse_single(&blob, src->repo, buf.ptr) == 0)
      h = fnv64(h, git_object_id(blob)->id, GIT_OID_RAWSZ);
    git_object_free(blob);
    git_buf_dispose(&buf);
  }
  git_config_free(cfg);
  ws_str_release(&text);
  ws_str_release(&path);
  return h;
}

static uint64_t shallow_key(const walker *w) {
  return w->nshallow
             ? fnv64(FNV64_INIT, w->shallow, w->nshallow * sizeof(git_oid))
             : 0;
}

/* --- writing --- */

static void put_cstr(ws_str *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  ws_bin_put_u64(b, n);
  ws_str_put(b, s ? s : "", n);
  ws_bin_put_u8(b, 0);
}

static void encode_header(ws_str *b, const cache_keys *k, const git_oid *root) {
  char hex[GIT_OID_HEXSZ + 1];
  ws_str_puts(b, CACHE_MAGIC);
  ws_bin_put_u64(b, CACHE_VERSION);
  put_cstr(b, k->content);
  put_cstr(b, k->subdir);
  ws_bin_put_u64(b, k->mailmap);
  ws_bin_put_u64(b, k->shallow);
  oid_hex(hex, root);
  put_cstr(b, hex);
}

/* The records of revs [0, nrevs) of 'h', whose changes are the first. */
static void encode_records(ws_str *b, const ws_source_history *h,
                           size_t nrevs) {
  size_t c = 0;
  for (size_t i = 0; i < nrevs; i++) {
    const ws_source_rev *r = &h->revs[i];
    size_t from = c;
    while (c < h->nchanges && h->changes[c].rev == i)
      c++;
    put_cstr(b, r->id);
    ws_bin_put_u64(b, (uint64_t)r->time);
    put_cstr(b, r->author);
    put_cstr(b, r->subject);
    ws_bin_put_u8(b, r->cut);
    ws_bin_put_u64(b, c - from);
    for (size_t k = from; k < c; k++) {
      const ws_source_change *ch = &h->changes[k];
      ws_bin_put_u8(b, (unsigned)ch->kind);
      put_cstr(b, ch->path);
      put_cstr(b, ch->old_path);
      ws_bin_put_u64(b, ch->digest.hi);
      ws_bin_put_u64(b, ch->digest.lo);
    }
  }
}

/* The files replayed, by path (see replay_authors for their revs). */
static void encode_files(ws_str *b, const replay *rp) {
  size_t authors = 0;
  for (size_t i = 0; i < rp->nalive; i++)
    authors += rp->alive[i]->nrevs;
  ws_bin_put_u64(b, rp->nalive);
  ws_bin_put_u64(b, authors);
  for (size_t i = 0; i < rp->nalive; i++) {
    const replay_rec *r = rp->alive[i];
    put_cstr(b, r->path);
    ws_bin_put_u64(b, r->first);
    ws_bin_put_u64(b, r->last);
    ws_bin_put_u64(b, r->revisions);
    ws_bin_put_u64(b, r->nrevs);
    for (size_t k = 0; k < r->nrevs; k++)
      ws_bin_put_u64(b, r->revs[k]);
  }
}

/* The checksum of the header 'head' and the trailer 't' before its end. */
static uint64_t trailer_sum(const char *head, size_t head_len, const char *t,
                            size_t t_len) {
  ws_digester *d = ws_digester_new();
  ws_digester_parts(d, head_len + t_len);
  ws_digester_part(d, head, head_len);
  if (t_len)
    ws_digester_part(d, t, t_len);
  uint64_t v = ws_digester_end(d).hi;
  ws_digester_free(d);
  return v;
}

/* Puts into 't' (empty) the trailer of a file whose header is 'head' and
 * in which the trailer starts at offset 'at'. */
static void encode_trailer(ws_str *t, const char *head, size_t head_len,
                           size_t at, const git_oid *tip,
                           const ws_source_history *h, const cache_span *spans,
                           size_t nspans, const replay *rp) {
  char hex[GIT_OID_HEXSZ + 1];
  oid_hex(hex, tip);
  put_cstr(t, hex);
  ws_bin_put_u8(t, h->partial);
  ws_bin_put_u64(t, nspans);
  for (size_t i = 0; i < nspans; i++) {
    ws_bin_put_u64(t, spans[i].off);
    ws_bin_put_u64(t, spans[i].len);
    ws_bin_put_u64(t, spans[i].nrevs);
    ws_bin_put_u64(t, spans[i].nchanges);
    ws_bin_put_u64(t, spans[i].sum);
  }
  encode_files(t, rp);
  ws_bin_put_u64(t, trailer_sum(head, head_len, t->ptr, t->len));
  ws_bin_put_u64(t, at);
  ws_str_put(t, TRAILER_MAGIC, 8);
}

/* --- reading --- */

/* A string without NUL bytes where it lies, NUL-terminated ('*len' bytes
 * before the NUL), or NULL when the file is bad. */
static const char *get_bytes(ws_bin_reader *r, size_t *len) {
  uint64_t n = ws_bin_get_u64(r);
  if (r->bad || n >= r->len - r->pos || r->p[r->pos + n] != '\0' ||
      memchr(r->p + r->pos, 0, (size_t)n)) {
    r->bad = true;
    return NULL;
  }
  const char *s = (const char *)r->p + r->pos;
  r->pos += (size_t)n + 1;
  *len = (size_t)n;
  return s;
}

/* --- texts read from the cache ---
 *
 * The cache holds 200,000 texts at 50,000 commits (authors, subjects,
 * paths), each followed by a NUL. A history read from it points at them
 * in the mapped file, which goes with the history, rather than copying
 * them: copies were 8 MB of heap and a sixth of loading the cache. The
 * texts of commits walked since stay allocated on their own. */
struct ws_text_pool {
  struct ws_text_pool *next;
  ws_bin_map map;
};

/* Hands the mapped file 'm' to 'h' (and zeroes 'm'): its texts live as long
 * as 'h'. */
static void pool_take(ws_source_history *h, ws_bin_map *m) {
  struct ws_text_pool *b = ws_xcalloc(1, sizeof(*b));
  b->map = *m;
  b->next = h->texts;
  h->texts = b;
  *m = (ws_bin_map){NULL, 0};
}

static bool in_pool(const ws_source_history *h, const char *s) {
  uintptr_t p = (uintptr_t)s;
  for (const struct ws_text_pool *b = h->texts; b; b = b->next)
    if (p >= (uintptr_t)b->map.ptr && p < (uintptr_t)b->map.ptr + b->map.len)
      return true;
  return false;
}

/* Frees a text of 'h' unless its pool holds it. */
static void text_free(const ws_source_history *h, char *s) {
  if (s && !in_pool(h, s))
    free(s);
}

/* Hands the pool of 'from' to 'to', with the texts that moved along. */
static void pool_adopt(ws_source_history *to, ws_source_history *from) {
  while (from->texts) {
    struct ws_text_pool *b = from->texts;
    from->texts = b->next;
    b->next = to->texts;
    to->texts = b;
  }
}

/* The hexadecimal digits, either case. */
static const bool hex_digit[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1};

/* A commit id as git writes it: 40 hexadecimal digits. Checked by hand:
 * parsing each of 50,000 ids with git_oid_fromstr only to check it was 15%
 * of loading the cache; a test per kind of byte was still 28M
 * instructions of a one-profile rebuild at 10,000 profiles, one lookup a
 * byte is 14M. */
static bool is_hex_id(const char *s, size_t n) {
  if (n != GIT_OID_HEXSZ)
    return false;
  unsigned ok = 1;
  for (size_t i = 0; i < n; i++)
    ok &= hex_digit[(unsigned char)s[i]];
  return ok;
}

/* A string without NUL bytes where it lies in the file that the pool of
 * 'h' holds, or NULL when the file is bad; never written to. */
static char *get_text(ws_bin_reader *r) {
  size_t n;
  return (char *)get_bytes(r, &n);
}

static bool decode_rev(ws_bin_reader *r, ws_source_rev *rev) {
  size_t idlen = 0;
  const char *id = get_bytes(r, &idlen);
  rev->time = (long long)ws_bin_get_u64(r);
  rev->author = get_text(r);
  rev->subject = get_text(r);
  unsigned cut = ws_bin_get_u8(r);
  bool ok = !r->bad && is_hex_id(id, idlen) && cut <= 1;
  if (ok) {
    memcpy(rev->id, id, GIT_OID_HEXSZ);
    rev->id[GIT_OID_HEXSZ] = '\0';
  }
  rev->cut = cut == 1;
  return ok;
}

static bool decode_change(ws_bin_reader *r, ws_source_change *c, size_t rev) {
  unsigned kind = ws_bin_get_u8(r);
  c->rev = rev;
  c->path = get_text(r);
  c->old_path = get_text(r);
  c->digest.hi = ws_bin_get_u64(r);
  c->digest.lo = ws_bin_get_u64(r);
  c->kind = (ws_change_kind)(kind <= WS_CHANGE_DELETED ? kind : 0);
  if (r->bad || kind > WS_CHANGE_DELETED || !c->path || !c->path[0] ||
      !c->old_path)
    return false;
  if ((c->kind == WS_CHANGE_RENAMED) != (c->old_path[0] != '\0'))
    return false;
  if (!c->old_path[0])
    c->old_path = NULL; /* in the pool, which goes with the history */
  return true;
}

/* Reads the records of one save, 'sp', each rev and then its changes,
 * after those of 'h' (room was made for them). */
static bool decode_span(ws_bin_reader *r, ws_source_history *h,
                        const cache_span *sp) {
  size_t revs = h->nrevs + (size_t)sp->nrevs;
  size_t changes = h->nchanges + (size_t)sp->nchanges;
  while (h->nrevs < revs) {
    size_t rev = h->nrevs++; /* freed with the rest, whatever follows */
    bool ok = decode_rev(r, &h->revs[rev]);
    uint64_t n = ws_bin_get_u64(r);
    if (!ok || r->bad || n > changes - h->nchanges)
      return false;
    for (uint64_t i = 0; i < n; i++)
      if (!decode_change(r, &h->changes[h->nchanges++], rev))
        return false;
  }
  return h->nchanges == changes && r->pos == r->len;
}

/* Reads the spans of the trailer 't' into 'out' and checks each against
 * its checksum; 'base' is the file, whose header ends at 'from' and whose
 * trailer starts at 'to'. */
static const char *decode_spans(ws_bin_reader *t, cache_data *out,
                                const char *base, size_t from, size_t to,
                                uint64_t *nrevs, uint64_t *nchanges) {
  uint64_t n = ws_bin_get_u64(t);
  if (t->bad || n > (t->len - t->pos) / 40)
    return "corrupt";
  out->spans = ws_xcalloc(n ? (size_t)n : 1, sizeof(*out->spans));
  *nrevs = *nchanges = 0;
  for (; out->nspans < n; out->nspans++) {
    cache_span *sp = &out->spans[out->nspans];
    sp->off = ws_bin_get_u64(t);
    sp->len = ws_bin_get_u64(t);
    sp->nrevs = ws_bin_get_u64(t);
    sp->nchanges = ws_bin_get_u64(t);
    sp->sum = ws_bin_get_u64(t);
    if (t->bad || sp->off < from || sp->off > to || sp->len > to - sp->off ||
        sp->nrevs > sp->len / CACHE_MIN_REV ||
        sp->nchanges > sp->len / CACHE_MIN_CHANGE)
      return "corrupt";
    if (file_checksum(base + sp->off, (size_t)sp->len) != sp->sum)
      return "corrupt (checksum)";
    *nrevs += sp->nrevs; /* no overflow: each is at most the file's size */
    *nchanges += sp->nchanges;
  }
  return NULL;
}

/* Reads one file's record into 'f', its revs into 'revs' (room for
 * 'room'); 'prev' is the record before it, or NULL. */
static bool decode_file(ws_bin_reader *r, const ws_source_history *h,
                        replay_rec *f, const replay_rec *prev, size_t *revs,
                        size_t room) {
  f->path = get_text(r);
  f->first = (size_t)ws_bin_get_u64(r);
  f->last = (size_t)ws_bin_get_u64(r);
  f->revisions = (size_t)ws_bin_get_u64(r);
  uint64_t n = ws_bin_get_u64(r);
  if (r->bad || !f->path[0] || (prev && strcmp(prev->path, f->path) >= 0) ||
      f->first >= h->nrevs || f->last > f->first || n == 0 ||
      n > f->revisions || n > room)
    return false;
  f->alive = true;
  f->settled = true; /* checked below */
  f->revs = revs;
  f->nrevs = (size_t)n;
  for (size_t k = 0; k < f->nrevs; k++) {
    revs[k] = (size_t)ws_bin_get_u64(r);
    if (r->bad || revs[k] >= h->nrevs ||
        (k &&
         strcmp(h->revs[revs[k - 1]].author, h->revs[revs[k]].author) >= 0))
      return false;
  }
  return true;
}

/* Reads the records of the files at the cache's tip into 'rp'. */
static const char *decode_files(ws_bin_reader *r, const ws_source_history *h,
                                replay *rp) {
  uint64_t n = ws_bin_get_u64(r), authors = ws_bin_get_u64(r);
  size_t left = r->len - r->pos, used = 0;
  if (r->bad || n > left / CACHE_MIN_FILE || authors > left / 8)
    return "corrupt";
  rp->recs = ws_xcalloc(n ? (size_t)n : 1, sizeof(*rp->recs));
  rp->seed_revs = ws_xcalloc(authors ? (size_t)authors : 1, sizeof(size_t));
  rp->cap = (size_t)n;
  rp->ordered = true; /* checked record by record */
  for (; rp->n < n; rp->n++) {
    replay_rec *f = &rp->recs[rp->n];
    if (!decode_file(r, h, f, rp->n ? f - 1 : NULL, rp->seed_revs + used,
                     (size_t)authors - used))
      return "corrupt";
    used += f->nrevs;
  }
  return r->pos == r->len && used == authors ? NULL : "corrupt";
}

/* Finds the trailer of the file 'base' ('len' bytes) whose header ends at
 * 'from' and checks it; returns where it starts, or 0. */
static size_t find_trailer(const char *base, size_t len, size_t from) {
  if (len < from + TRAILER_END || memcmp(base + len - 8, TRAILER_MAGIC, 8) != 0)
    return 0;
  ws_bin_reader e = {base, len, len - TRAILER_END, false};
  uint64_t sum = ws_bin_get_u64(&e), at = ws_bin_get_u64(&e);
  if (at < from || at > len - TRAILER_END ||
      sum != trailer_sum(base, from, base + at, len - TRAILER_END - (size_t)at))
    return 0;
  return (size_t)at;
}

/* Checks the frame and the keys; returns why the file cannot be used, or
 * NULL. */
static const char *decode(cache_data *out, ws_bin_map *file,
                          const cache_keys *k, git_odb *odb) {
  size_t magic = strlen(CACHE_MAGIC), clen, slen, rlen, tlen;
  const char *base = file->ptr;
  if (file->len < magic + 8 || memcmp(base, CACHE_MAGIC, magic) != 0)
    return "not a history cache";
  ws_bin_reader r = {base, file->len, magic, false};
  if (ws_bin_get_u64(&r) != CACHE_VERSION)
    return "another format version";
  const char *content = get_bytes(&r, &clen), *subdir = get_bytes(&r, &slen);
  uint64_t mailmap = ws_bin_get_u64(&r), shallow = ws_bin_get_u64(&r);
  const char *root = get_bytes(&r, &rlen);
  size_t at = r.bad ? 0 : find_trailer(base, file->len, r.pos);
  if (!at)
    return "corrupt (checksum)";
  out->header = base;
  out->header_len = r.pos;
  out->len = file->len;
  ws_bin_reader t = {base, file->len - TRAILER_END, at, false};
  const char *tip = get_bytes(&t, &tlen);
  if (strcmp(content, k->content) != 0 || strcmp(subdir, k->subdir) != 0)
    return "another content folder";
  if (t.bad || !is_hex_id(root, rlen) || !is_hex_id(tip, tlen) ||
      git_oid_fromstr(&out->root, root) < 0 ||
      git_oid_fromstr(&out->tip, tip) < 0)
    return "corrupt";
  if (!git_odb_exists(odb, &out->root) || !git_odb_exists(odb, &out->tip))
    return "from another repository";
  if (mailmap != k->mailmap)
    return ".mailmap changed";
  if (shallow != k->shallow)
    return "shallow boundary changed";
  unsigned partial = ws_bin_get_u8(&t);
  uint64_t nrevs, nchanges;
  const char *why = t.bad || partial > 1 ? "corrupt"
                                         : decode_spans(&t, out, base, r.pos,
                                                        at, &nrevs, &nchanges);
  if (why)
    return why;
  ws_source_history *h = out->h = ws_xcalloc(1, sizeof(*out->h));
  h->partial = partial == 1;
  pool_take(h, file);
  h->revs = ws_xcalloc(nrevs ? (size_t)nrevs : 1, sizeof(*h->revs));
  h->changes = ws_xcalloc(nchanges ? (size_t)nchanges : 1, sizeof(*h->changes));
  for (size_t i = 0; i < out->nspans; i++) {
    const cache_span *sp = &out->spans[i];
    ws_bin_reader sr = {base, (size_t)(sp->off + sp->len), (size_t)sp->off,
                        false};
    if (!decode_span(&sr, h, sp))
      return "corrupt";
  }
  return decode_files(&t, h, &out->files);
}

/* Loads the cache at 'path' into 'out'; returns why it cannot be used
 * ("missing" when there is none), or NULL. */
static const char *cache_read(cache_data *out, const char *path,
                              const cache_keys *k, git_odb *odb) {
  /* Mapped, not read: reading 8 MB (50,000 commits) into a growing
   * buffer cost more than decoding it. A history decoded from it keeps the
   * mapping (ws_text_pool); otherwise it is unmapped here. */
  ws_bin_map file;
  const char *why = ws_bin_map_file(&file, path);
  if (!why && stat(path, &out->st) < 0)
    memset(&out->st, 0, sizeof(out->st)); /* then never appended to */
  if (!why)
    why = decode(out, &file, k, odb);
  ws_bin_unmap(&file);
  if (why) {
    ws_source_history_free(out->h);
    out->h = NULL;
    replay_release(&out->files);
  }
  return why;
}

/* Appends the cached log 'c' (older) to the walked one 'h' (newer). */
static void append_log(ws_source_history *h, ws_source_history *c) {
  size_t base = h->nrevs;
  /* The cached log is the long one (50,000 commits): its arrays grow to
   * take the few walked commits in front, rather than being copied into
   * new ones behind them. */
  c->revs =
      ws_xreallocarray(c->revs, h->nrevs + c->nrevs + 1, sizeof(*c->revs));
  memmove(c->revs + h->nrevs, c->revs, c->nrevs * sizeof(*c->revs));
  if (h->nrevs)
    memcpy(c->revs, h->revs, h->nrevs * sizeof(*h->revs));
  c->changes = ws_xreallocarray(c->changes, h->nchanges + c->nchanges + 1,
                                sizeof(*c->changes));
  memmove(c->changes + h->nchanges, c->changes,
          c->nchanges * sizeof(*c->changes));
  if (h->nchanges)
    memcpy(c->changes, h->changes, h->nchanges * sizeof(*h->changes));
  for (size_t i = h->nchanges; i < h->nchanges + c->nchanges; i++)
    c->changes[i].rev += base;
  free(h->revs);
  free(h->changes);
  h->revs = c->revs;
  h->nrevs += c->nrevs;
  h->changes = c->changes;
  h->nchanges += c->nchanges;
  h->partial |= c->partial;
  c->revs = NULL;
  c->changes = NULL;
  c->nrevs = 0;
  c->nchanges = 0;
  pool_adopt(h, c);
}

/* --- loading --- */

/* <git dir>/wholeself/history-<hash of content and subdir>: one file per
 * folder walked, shared by every ref built from this repository. */
static void cache_paths(ws_str *dir, ws_str *file, ws_source *src,
                        const cache_keys *k) {
  uint64_t id = fnv64(FNV64_INIT, k->content, strlen(k->content) + 1);
  id = fnv64(id, k->subdir, strlen(k->subdir) + 1);
  ws_str_printf(dir, "%swholeself", git_repository_path(src->repo));
  ws_str_printf(file, "%s/history-%016llx", dir->ptr, (unsigned long long)id);
}

/* One load's use of the cache. */
typedef struct {
  cache_keys keys;
  cache_data data;
  ws_str dir, file;
  git_odb *odb;
  const char *why; /* why the cache is not used, or NULL */
  size_t fresh;    /* revs walked on top of the cached ones */
  size_t fresh_changes; /* and their changes, the log's first */
  /* The log is the cached one with the walked revs on top: the files start
   * from the cache's (data.files), and a save may append to the file. */
  bool seeded;
} cache_use;

/* Drops the 'n' newest revs of the log 'c' and their changes. */
static void drop_newest(ws_source_history *c, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    text_free(c, c->revs[i].author);
    text_free(c, c->revs[i].subject);
  }
  memmove(c->revs, c->revs + n, (c->nrevs - n) * sizeof(*c->revs));
  c->nrevs -= n;
  while (k < c->nchanges && c->changes[k].rev < n) {
    text_free(c, c->changes[k].path);
    text_free(c, c->changes[k].old_path);
    k++;
  }
  memmove(c->changes, c->changes + k, (c->nchanges - k) * sizeof(*c->changes));
  c->nchanges -= k;
  for (size_t i = 0; i < c->nchanges; i++)
    c->changes[i].rev -= n;
}

/* Reads the cache and tells the walk where to stop. */
static void cache_begin(cache_use *cu, walker *w, git_commit *start,
                        const char *subdir) {
  ws_source *src = w->src;
  cu->keys.content = src->content;
  cu->keys.subdir = subdir ? subdir : "";
  cu->keys.mailmap = mailmap_key(src, start);
  cu->keys.shallow = shallow_key(w);
  cache_paths(&cu->dir, &cu->file, src, &cu->keys);
  if (git_repository_odb(&cu->odb, src->repo) < 0)
    cu->why = "unreadable";
  else if (!(cu->why =
                 cache_read(&cu->data, cu->file.ptr, &cu->keys, cu->odb))) {
    w->stop = &cu->data.tip;
    w->known_log = cu->data.h;
  }
}

/* Appends the cached log when the walk met the cached commit. */
static void cache_join(cache_use *cu, walker *w) {
  ws_source_history *h = w->h;
  cu->fresh = h->nrevs; /* revs walked: the newest */
  cu->fresh_changes = h->nchanges;
  if (w->met_stop) {
    cu->seeded = true;
    append_log(h, cu->data.h);
    git_oid_cpy(&w->root, &cu->data.root);
  } else if (w->met_known) {
    /* Another branch's cache: below the commit where the two chains meet,
     * its log is this one's too (a commit has one first-parent chain). */
    drop_newest(cu->data.h, w->met_known_at);
    append_log(h, cu->data.h);
    git_oid_cpy(&w->root, &cu->data.root);
  } else if (cu->data.h) {
    cu->why = "its commit is not on the first-parent chain";
  }
  bool missing = cu->why && strcmp(cu->why, "missing") == 0;
  h->cache = !cu->why  ? (h->walked ? "updated" : "up to date")
             : missing ? "created"
                       : "rebuilt";
  h->cache_ignored = missing ? NULL : cu->why;
}

/* Writes 'recs' and then 'tail' at offset 'at' of the file 'path', which
 * must still be the file 'st' that was read, at that length; under flock()
 * against other appenders. A segment cut short (a full disk) is left as
 * it is: a build that mapped the file meanwhile would fault on pages cut
 * from under it. The next load finds no trailer at the end and writes a
 * new file. */
static bool append_to(const char *path, const struct stat *st, size_t at,
                      const ws_str *recs, const ws_str *tail) {
  struct stat now, named;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = st->st_ino != 0 && flock(fd, LOCK_EX) == 0 &&
            fstat(fd, &now) == 0 && stat(path, &named) == 0 &&
            now.st_ino == st->st_ino && now.st_dev == st->st_dev &&
            named.st_ino == st->st_ino && named.st_dev == st->st_dev &&
            (uint64_t)now.st_size == at;
  const ws_str *parts[] = {recs, tail};
  for (size_t i = 0; i < 2 && ok; i++) {
    ok = (size_t)pwrite(fd, parts[i]->ptr, parts[i]->len, (off_t)at) ==
         parts[i]->len;
    at += parts[i]->len;
  }
  return close(fd) == 0 && ok;
}

/* Appends the records of the revs walked since the cache was read and a
 * trailer to the file, while old trailers stay under half of it. */
static bool save_appending(cache_use *cu, const ws_source_history *h,
                           const git_oid *tip, const replay *rp) {
  const cache_data *c = &cu->data;
  ws_str recs = WS_STR_INIT, tail = WS_STR_INIT;
  encode_records(&recs, h, cu->fresh);
  cache_span *spans = ws_xcalloc(c->nspans + 1, sizeof(*spans));
  spans[0] = (cache_span){c->len, recs.len, cu->fresh, cu->fresh_changes,
                          file_checksum(recs.ptr, recs.len)};
  memcpy(spans + 1, c->spans, c->nspans * sizeof(*spans));
  encode_trailer(&tail, c->header, c->header_len, c->len + recs.len, tip, h,
                 spans, c->nspans + 1, rp);
  size_t live = c->header_len + tail.len;
  for (size_t i = 0; i <= c->nspans; i++)
    live += (size_t)spans[i].len;
  bool ok = live * 2 >= c->len + recs.len + tail.len &&
            append_to(cu->file.ptr, &c->st, c->len, &recs, &tail);
  free(spans);
  ws_str_release(&recs);
  ws_str_release(&tail);
  return ok;
}

/* Writes a new file: the header, every record and a trailer. */
static bool save_whole(cache_use *cu, const walker *w, const git_oid *tip,
                       const replay *rp) {
  const ws_source_history *h = w->h;
  ws_str head = WS_STR_INIT, recs = WS_STR_INIT, tail = WS_STR_INIT;
  encode_header(&head, &cu->keys, &w->root);
  encode_records(&recs, h, h->nrevs);
  cache_span span = {head.len, recs.len, h->nrevs, h->nchanges,
                     file_checksum(recs.ptr, recs.len)};
  encode_trailer(&tail, head.ptr, head.len, head.len + recs.len, tip, h, &span,
                 1, rp);
  ws_bin_part parts[] = {
      {head.ptr, head.len}, {recs.ptr, recs.len}, {tail.ptr, tail.len}};
  bool ok = ws_bin_write_parts(cu->dir.ptr, cu->file.ptr, parts, 3);
  ws_str_release(&head);
  ws_str_release(&recs);
  ws_str_release(&tail);
  return ok;
}

/* Writes the cache back when it changed; 'rp' holds the files replayed. */
static void cache_write(cache_use *cu, walker *w, git_commit *start,
                        const replay *rp) {
  ws_source_history *h = w->h;
  if (!cu->why && !h->walked)
    return;
  const git_oid *tip = git_commit_id(start);
  if (!(cu->seeded && save_appending(cu, h, tip, rp)) &&
      !save_whole(cu, w, tip, rp))
    h->cache = "not saved (cannot write it)";
}

/* Replays the files of 'h': on top of the cache's when the walk met its
 * commit, replaying only the changes of the revs walked since. */
static void replay_history(replay *rp, ws_source_history *h, cache_use *cu) {
  size_t n = h->nchanges;
  if (cu->seeded) {
    *rp = cu->data.files;
    memset(&cu->data.files, 0, sizeof(cu->data.files));
    n = cu->fresh_changes;
    replay_seed(rp, cu->fresh, n);
  }
  replay_run(rp, h, n);
  replay_files(h, rp);
}

static void cache_release(cache_use *cu) {
  ws_source_history_free(cu->data.h);
  replay_release(&cu->data.files);
  free(cu->data.spans);
  git_odb_free(cu->odb);
  ws_str_release(&cu->dir);
  ws_str_release(&cu->file);
}

static int history_load(ws_source_history **out, ws_source *src,
                        const char *subdir, bool use_cache) {
  assert(out && src);
  ws_source_history *h = ws_xcalloc(1, sizeof(*h));
  walker w = {.src = src, .h = h};
  git_commit *start = NULL;
  cache_use cu = {.dir = WS_STR_INIT, .file = WS_STR_INIT};
  ws_str folder = WS_STR_INIT, prefix = WS_STR_INIT;
  int error = 0;
  *out = NULL;
  if (subdir && subdir[0])
    ws_str_printf(&prefix, "%s/", subdir);
  w.prefix = prefix.ptr;
  ws_str_puts(&folder, src->content);
  if (subdir && subdir[0])
    path_push(&folder, subdir);

  pthread_mutex_lock(&src->lock);
  if ((error = start_commit(&start, src)) < 0 || !start)
    goto cleanup;
  read_shallow(&w);
  if ((error = load_mailmap(&w, start)) < 0)
    goto cleanup;
  if (use_cache)
    cache_begin(&cu, &w, start, subdir);
  if ((error = walk(&w, start, folder.ptr)) < 0)
    goto cleanup;
  if (use_cache)
    cache_join(&cu, &w);

cleanup:
  pthread_mutex_unlock(&src->lock);
  if (error == 0) {
    replay rp = {0};
    replay_history(&rp, h, &cu);
    if (use_cache)
      cache_write(&cu, &w, start, &rp);
    replay_release(&rp);
  }
  cache_release(&cu);
  git_commit_free(start);
  git_mailmap_free(w.mailmap);
  free(w.pending);
  free(w.known);
  free(w.shallow);
  ws_str_release(&folder);
  ws_str_release(&prefix);
  if (error < 0)
    ws_source_history_free(h);
  else
    *out = h;
  return error;
}

int ws_source_history_load(ws_source_history **out, ws_source *src,
                           const char *subdir) {
  return history_load(out, src, subdir, false);
}

int ws_source_history_load_cached(ws_source_history **out, ws_source *src,
                                  const char *subdir) {
  return history_load(out, src, subdir, true);
}

void ws_source_history_free(ws_source_history *h) {
  if (!h)
    return;
  for (size_t i = 0; i < h->nrevs; i++) {
    text_free(h, h->revs[i].author);
    text_free(h, h->revs[i].subject);
  }
  for (size_t i = 0; i < h->nchanges; i++) {
    text_free(h, h->changes[i].path);
    text_free(h, h->changes[i].old_path);
  }
  for (size_t i = 0; i < h->nfiles; i++)
    free(h->files[i].authors); /* the path and names are its texts */
  while (h->texts) {
    struct ws_text_pool *b = h->texts;
    h->texts = b->next;
    ws_bin_unmap(&b->map);
    free(b);
  }
  free(h->revs);
  free(h->changes);
  free(h->files);
  free(h);
}

/* --- a new repository (wholeself init) --- */

int ws_source_init_commit(const char *dir, const char *message) {
  git_repository *repo = NULL;
  git_index *index = NULL;
  git_tree *tree = NULL;
  git_signature *sig = NULL;
  git_oid tree_id, commit_id;
  git_repository_init_options opts;
  int error;
  git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
  opts.flags = GIT_REPOSITORY_INIT_MKPATH;
  opts.initial_head = "main";
  if ((error = git_repository_init_ext(&repo, dir, &opts)) < 0 ||
      (error = git_repository_index(&index, repo)) < 0 ||
      (error = git_index_add_all(index, NULL, 0, NULL, NULL)) < 0 ||
      (error = git_index_write(index)) < 0 ||
      (error = git_index_write_tree(&tree_id, index)) < 0 ||
      (error = git_tree_lookup(&tree, repo, &tree_id)) < 0) {
    error = error_git(WS_ERROR, "cannot make a repository in %s", dir);
    goto cleanup;
  }
  /* A machine without user.name still gets its first commit; the person
   * can amend the author later. */
  if (git_signature_default(&sig, repo) < 0 &&
      (error = git_signature_now(&sig, "wholeself", "wholeself@localhost")) <
          0) {
    error = error_git(WS_ERROR, "cannot make a commit signature");
    goto cleanup;
  }
  if ((error = git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL,
                                   message, tree, 0)) < 0)
    error = error_git(WS_ERROR, "cannot commit in %s", dir);
cleanup:
  git_signature_free(sig);
  git_tree_free(tree);
  git_index_free(index);
  git_repository_free(repo);
  return error;
}
