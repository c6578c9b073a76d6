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
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "error.h"
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
  char *content;  /* normalized: "" or "a/b" */
  char *workdir;  /* without trailing '/', NULL when bare */
  char *describe;
  char commit[GIT_OID_HEXSZ + 1];
  long long commit_time;
  pthread_mutex_t lock;
};

/* Sets the message from 'fmt' followed by libgit2's own message, which may
 * be missing on libgit2 1.5. */
static int error_git(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int error_git(int code, const char *fmt, ...)
{
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
static bool path_is_safe(const char *path)
{
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
static char *normalize_content(const char *content)
{
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

static void oid_hex(char out[GIT_OID_HEXSZ + 1], const git_oid *oid)
{
  git_oid_tostr(out, GIT_OID_HEXSZ + 1, oid);
}

static int open_repo(ws_source *src, const char *path)
{
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

static int open_ref(ws_source *src, const char *repo_path, const char *ref)
{
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
    error = ws_error(WS_ENOTFOUND, "ref '%s' in %s does not name a commit",
                     ref, repo_path);
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
  if (rc < 0 ||
      (rc = git_tree_lookup(&src->tree, src->repo, git_tree_entry_id(entry))) <
          0) {
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
static int open_dir_nofollow(int dirfd, const char *rel)
{
  int fd = dup(dirfd);
  if (fd < 0 || !rel[0])
    return fd;
  char *copy = ws_xstrdup(rel);
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
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

static int open_worktree(ws_source *src, const char *repo_path)
{
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

int ws_source_open(ws_source **out, const ws_source_opts *opts)
{
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

void ws_source_free(ws_source *src)
{
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
                                   ws_entry_kind kind)
{
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

static void free_entries(ws_source_entry *items, size_t len)
{
  for (size_t i = 0; i < len; i++)
    free(items[i].path);
  free(items);
}

/* Git itself refuses these names; a crafted tree could still hold them, and
 * they must never turn into paths. */
static bool name_is_safe(const char *name)
{
  return name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
         strcmp(name, ".git") != 0 && !strchr(name, '/');
}

static void path_push(ws_str *path, const char *name)
{
  if (path->len)
    ws_str_putc(path, '/');
  ws_str_puts(path, name);
}

static int list_tree(entry_vec *v, ws_source *src, git_odb *odb,
                     const git_tree *tree, ws_str *path)
{
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
        error = list_tree(v, src, odb, sub, path);
      git_tree_free(sub);
      break;
    }
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE: {
      size_t size = 0;
      git_object_t type;
      if (git_odb_read_header(&size, &type, odb, git_tree_entry_id(te)) < 0) {
        error = error_git(WS_ERROR, "cannot read '%s' at %s", path->ptr,
                          src->describe);
        break;
      }
      e = push_entry(v, path, WS_ENTRY_FILE);
      e->size = size;
      break;
    }
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
static int read_fd(ws_str *out, int fd)
{
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
static int open_regular(int dirfd, const char *name)
{
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
                    bool is_dir)
{
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
static void wt_submodule_oid(ws_source_entry *e, ws_source *src)
{
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
                    ws_str *path)
{
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
      bool nested = fstatat(dirfd(dir), dotgit.ptr, &git_st,
                            AT_SYMLINK_NOFOLLOW) == 0;
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
      if (n >= 0 && git_odb_hash(&id, data.ptr, (size_t)n, GIT_OBJECT_BLOB) == 0)
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
        ws_source_entry *e = push_entry(v, path, WS_ENTRY_FILE);
        e->size = data.len;
        oid_hex(e->oid, &id);
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

static int cmp_entry(const void *a, const void *b)
{
  const ws_source_entry *x = a;
  const ws_source_entry *y = b;
  return strcmp(x->path, y->path);
}

int ws_source_list_all(ws_source_list *out, ws_source *src)
{
  assert(out && src);
  out->items = NULL;
  out->len = 0;
  int error = 0;
  entry_vec v = {NULL, 0, 0};
  ws_str path = WS_STR_INIT;
  git_odb *odb = NULL;
  git_index *index = NULL;

  pthread_mutex_lock(&src->lock);
  if (src->worktree) {
    /* A fresh descriptor: readdir() moves the offset, which a dup() would
     * share with root_fd. */
    int fd = openat(src->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      error = ws_error(WS_ERROR, "cannot list the work tree: %s",
                       strerror(errno));
      goto cleanup;
    }
    /* Without an index every ignored file is skipped, which is harmless. */
    if (git_repository_index(&index, src->repo) == 0)
      git_index_read(index, 0);
    error = list_dir(&v, src, index, fd, &path);
  } else {
    if (git_repository_odb(&odb, src->repo) < 0) {
      error = error_git(WS_ERROR, "cannot open the object database");
      goto cleanup;
    }
    error = list_tree(&v, src, odb, src->tree, &path);
  }

cleanup:
  pthread_mutex_unlock(&src->lock);
  git_index_free(index);
  git_odb_free(odb);
  ws_str_release(&path);
  if (error < 0) {
    free_entries(v.items, v.len);
    return error;
  }
  if (v.len > 1)
    qsort(v.items, v.len, sizeof(*v.items), cmp_entry);
  out->items = v.items;
  out->len = v.len;
  return 0;
}

void ws_source_list_release(ws_source_list *list)
{
  if (!list)
    return;
  free_entries(list->items, list->len);
  list->items = NULL;
  list->len = 0;
}

/* --- reading --- */

static int read_tree(ws_str *out, ws_source *src, const char *path,
                     const char *shown)
{
  int error = 0;
  git_tree_entry *te = NULL;
  git_blob *blob = NULL;

  pthread_mutex_lock(&src->lock);
  int rc = git_tree_entry_bypath(&te, src->tree, path);
  if (rc == GIT_ENOTFOUND) {
    error = ws_error(WS_ENOTFOUND, "'%s' not found at %s", shown,
                     src->describe);
    goto cleanup;
  }
  if (rc < 0) {
    error = error_git(WS_ERROR, "cannot look up '%s' at %s", shown,
                      src->describe);
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
    error = ws_error(WS_EINVALID, "'%s' is a submodule: it is not read",
                     shown);
    goto cleanup;
  case GIT_FILEMODE_TREE:
    error = ws_error(WS_EINVALID, "'%s' is a folder, not a file", shown);
    goto cleanup;
  default:
    error = ws_error(WS_EINVALID, "'%s' is not a regular file", shown);
    goto cleanup;
  }
  if (git_blob_lookup(&blob, src->repo, git_tree_entry_id(te)) < 0) {
    error = error_git(WS_ERROR, "cannot read '%s' at %s", shown,
                      src->describe);
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
                         const char *shown)
{
  int error = 0;
  int dirfd = -1;
  int fd = -1;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  char *dir = ws_xstrndup(path, slash ? (size_t)(slash - path) : 0);
  struct stat st;

  if ((dirfd = open_dir_nofollow(src->root_fd, dir)) < 0) {
    if (errno == ELOOP)
      error = ws_error(WS_EINVALID,
                       "'%s' is below a symlink: links are not followed",
                       shown);
    else if (errno == ENOENT || errno == ENOTDIR)
      error = ws_error(WS_ENOTFOUND, "'%s' not found in the work tree", shown);
    else
      error = ws_error(WS_ERROR, "cannot open '%s' in the work tree: %s",
                       shown, strerror(errno));
    goto cleanup;
  }
  if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      error = ws_error(WS_ENOTFOUND, "'%s' not found in the work tree", shown);
    else
      error = ws_error(WS_ERROR, "cannot stat '%s' in the work tree: %s",
                       shown, strerror(errno));
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

int ws_source_read(ws_str *out, ws_source *src, const char *path)
{
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

const char *ws_source_describe(const ws_source *src)
{
  return src->describe;
}

const char *ws_source_commit(const ws_source *src)
{
  return src->commit;
}

long long ws_source_commit_time(const ws_source *src)
{
  return src->commit_time;
}

const char *ws_source_workdir(const ws_source *src)
{
  return src->workdir;
}

const char *ws_source_content(const ws_source *src)
{
  return src->content;
}

void ws_source_global_init(void)
{
  git_libgit2_init();
}

void ws_source_global_shutdown(void)
{
  git_libgit2_shutdown();
}
