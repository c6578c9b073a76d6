#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <git2.h>

#include "xalloc.h"

static char *join(const char *dir, const char *rel) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, dir);
  if (rel && rel[0]) {
    if (s.len && s.ptr[s.len - 1] != '/')
      ws_str_putc(&s, '/');
    ws_str_puts(&s, rel);
  }
  return ws_str_detach(&s);
}

char *th_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  if (!base || !base[0])
    base = "/tmp";
  char *path = join(base, "wholeself-test-XXXXXX");
  if (!mkdtemp(path))
    cr_assert_fail("mkdtemp in %s: %s", base, strerror(errno));
  return path;
}

static void rm_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    DIR *dir = opendir(path);
    if (dir) {
      struct dirent *de;
      while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
          continue;
        char *child = join(path, de->d_name);
        rm_tree(child);
        free(child);
      }
      closedir(dir);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

/* A build into 'path' keeps its lock, its record and its staging folder
 * beside it; a test that built into a temporary folder must not leave
 * those behind in TMPDIR either. */
void th_rm_rf(const char *path) {
  static const char *const beside[] = {".lock", ".manifest", ".staging"};
  rm_tree(path);
  for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
    ws_str sibling = WS_STR_INIT;
    ws_str_puts(&sibling, path);
    ws_str_puts(&sibling, beside[i]);
    rm_tree(sibling.ptr);
    ws_str_release(&sibling);
  }
}

void th_discard(char *path) {
  th_rm_rf(path);
  free(path);
}

/* mkdir -p for the folders above 'path'. */
static void mkdir_parents(const char *path) {
  char *copy = ws_xstrdup(path);
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, 0777) < 0 && errno != EEXIST)
      cr_assert_fail("mkdir %s: %s", copy, strerror(errno));
    *p = '/';
  }
  free(copy);
}

void th_write_len(const char *dir, const char *rel, const char *data,
                  size_t len) {
  char *path = join(dir, rel);
  mkdir_parents(path);
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot write %s: %s", path, strerror(errno));
  cr_assert(fwrite(data, 1, len, f) == len, "short write to %s", path);
  cr_assert(fclose(f) == 0, "cannot close %s", path);
  free(path);
}

void th_write(const char *dir, const char *rel, const char *data) {
  th_write_len(dir, rel, data, strlen(data));
}

char *th_read(const char *dir, const char *rel) {
  char *path = join(dir, rel);
  FILE *f = fopen(path, "rb");
  free(path);
  if (!f)
    return NULL;
  ws_str s = WS_STR_INIT;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    ws_str_put(&s, buf, n);
  fclose(f);
  if (s.cap == 0)
    return ws_xstrdup("");
  return ws_str_detach(&s);
}

bool th_exists(const char *dir, const char *rel) {
  char *path = join(dir, rel);
  struct stat st;
  bool ok = lstat(path, &st) == 0;
  free(path);
  return ok;
}

ino_t th_inode(const char *dir, const char *rel) {
  char *path = join(dir, rel);
  struct stat st;
  cr_assert(stat(path, &st) == 0, "no %s", path);
  free(path);
  return st.st_ino;
}

const char *th_bin(void) {
  const char *bin = getenv("WS_BIN");
  return bin && bin[0] ? bin : "build/wholeself";
}

const char *th_root(void) {
  const char *root = getenv("WS_ROOT");
  return root && root[0] ? root : ".";
}

/* The child changes folder before exec, so a relative binary path is made
 * absolute first. */
static char *absolute_bin(void) {
  const char *bin = th_bin();
  if (bin[0] == '/' || !strchr(bin, '/'))
    return ws_xstrdup(bin);
  char *cwd = getcwd(NULL, 0);
  cr_assert(cwd, "getcwd: %s", strerror(errno));
  char *path = join(cwd, bin);
  free(cwd);
  return path;
}

int th_run(const char *cwd, ws_str *out, ws_str *err, const char *const *argv) {
  size_t argc = 0;
  while (argv[argc])
    argc++;
  char *bin = absolute_bin();
  char **args = ws_xcalloc(argc + 2, sizeof(*args));
  args[0] = bin;
  for (size_t i = 0; i < argc; i++)
    args[i + 1] = (char *)argv[i];

  int po[2];
  int pe[2];
  cr_assert(pipe(po) == 0 && pipe(pe) == 0, "pipe: %s", strerror(errno));
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(po[1], 1);
    dup2(pe[1], 2);
    close(po[0]);
    close(po[1]);
    close(pe[0]);
    close(pe[1]);
    if (cwd && chdir(cwd) < 0)
      _exit(127);
    execv(bin, args);
    _exit(127);
  }
  close(po[1]);
  close(pe[1]);

  /* Drain both pipes together so that a child filling one never blocks. */
  struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  ws_str *dest[2] = {out, err};
  int open_fds = 2;
  char buf[8192];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      cr_assert_fail("poll: %s", strerror(errno));
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      } else if (dest[i]) {
        ws_str_put(dest[i], buf, (size_t)n);
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  free(args);
  free(bin);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

/* --- tree comparison --- */

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of 'dir' (without . and ..); an absent dir has none. */
static char **list_names(const char *dir, size_t *len) {
  char **names = NULL;
  size_t n = 0;
  size_t cap = 0;
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 16;
        names = ws_xreallocarray(names, cap, sizeof(*names));
      }
      names[n++] = ws_xstrdup(de->d_name);
    }
    closedir(d);
  }
  if (n > 1)
    qsort(names, n, sizeof(*names), cmp_name);
  *len = n;
  return names;
}

static void free_names(char **names, size_t len) {
  for (size_t i = 0; i < len; i++)
    free(names[i]);
  free(names);
}

static bool same_file(const char *a, const char *b, const struct stat *sa,
                      const struct stat *sb) {
  if ((sa->st_mode & S_IFMT) != (sb->st_mode & S_IFMT))
    return false;
  if (S_ISLNK(sa->st_mode)) {
    char la[4096];
    char lb[4096];
    ssize_t na = readlink(a, la, sizeof(la));
    ssize_t nb = readlink(b, lb, sizeof(lb));
    return na >= 0 && na == nb && memcmp(la, lb, (size_t)na) == 0;
  }
  if (!S_ISREG(sa->st_mode))
    return true;
  char *da = th_read(a, NULL);
  char *db = th_read(b, NULL);
  bool same = da && db && sa->st_size == sb->st_size &&
              memcmp(da, db, (size_t)sa->st_size) == 0;
  free(da);
  free(db);
  return same;
}

static char *diff_rel(const char *a, const char *b, const char *rel) {
  char *da = join(a, rel);
  char *db = join(b, rel);
  size_t na;
  size_t nb;
  char **la = list_names(da, &na);
  char **lb = list_names(db, &nb);
  char *found = NULL;
  size_t i = 0;
  size_t j = 0;
  while (!found && (i < na || j < nb)) {
    int c = i == na ? 1 : j == nb ? -1 : strcmp(la[i], lb[j]);
    const char *name = c <= 0 ? la[i] : lb[j];
    char *sub = join(rel, name);
    if (c != 0) {
      found = sub;
      sub = NULL;
    } else {
      char *pa = join(da, name);
      char *pb = join(db, name);
      struct stat sa;
      struct stat sb;
      if (lstat(pa, &sa) < 0 || lstat(pb, &sb) < 0) {
        found = ws_xstrdup(sub);
      } else if (S_ISDIR(sa.st_mode) && S_ISDIR(sb.st_mode)) {
        found = diff_rel(a, b, sub);
      } else if (!same_file(pa, pb, &sa, &sb)) {
        found = ws_xstrdup(sub);
      }
      free(pa);
      free(pb);
    }
    free(sub);
    if (c <= 0)
      i++;
    if (c >= 0)
      j++;
  }
  free_names(la, na);
  free_names(lb, nb);
  free(da);
  free(db);
  return found;
}

char *th_tree_diff(const char *a, const char *b) {
  return diff_rel(a, b, "");
}

/* --- git repositories --- */

#define TH_GIT(call)                                                           \
  do {                                                                         \
    if ((call) < 0) {                                                          \
      const git_error *e_ = git_error_last();                                  \
      cr_assert_fail("%s: %s", #call, e_ && e_->message ? e_->message : "?");  \
    }                                                                          \
  } while (0)

char *th_repo_new(bool bare) {
  char *dir = th_tmpdir();
  git_libgit2_init();
  git_repository *repo = NULL;
  git_repository_init_options opts;
  TH_GIT(git_repository_init_options_init(&opts,
                                          GIT_REPOSITORY_INIT_OPTIONS_VERSION));
  opts.flags =
      GIT_REPOSITORY_INIT_MKPATH | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
  opts.initial_head = "main";
  TH_GIT(git_repository_init_ext(&repo, dir, &opts));
  git_repository_free(repo);
  git_libgit2_shutdown();
  return dir;
}

static void commit_tree(const char *path, const char *ref,
                        const char *merge_ref, const char *message,
                        const char *author, long when);

void th_repo_commit_all(const char *path, const char *message,
                        const char *author, long when) {
  commit_tree(path, "HEAD", NULL, message, author, when);
}

typedef struct {
  git_odb *from;
  git_odb *to;
} odb_pair;

static int copy_object(const git_oid *id, void *payload) {
  odb_pair *p = payload;
  git_odb_object *obj = NULL;
  git_oid out;
  int rc = git_odb_read(&obj, p->from, id);
  if (rc == 0)
    rc = git_odb_write(&out, p->to, git_odb_object_data(obj),
                       git_odb_object_size(obj), git_odb_object_type(obj));
  git_odb_object_free(obj);
  return rc;
}

/* Not git_clone(): creating a remote in libgit2 1.5.1 leaks pcre2 match data
 * for every config entry (url.*.insteadof lookup), which LeakSanitizer
 * reports. Copying every object and ref into a new bare repository gives the
 * same result as `git clone --bare --mirror` of a local repository. */
char *th_repo_clone_bare(const char *path) {
  char *dir = th_tmpdir();
  git_libgit2_init();
  git_repository *src = NULL;
  git_repository *repo = NULL;
  git_reference_iterator *it = NULL;
  git_reference *ref = NULL;
  odb_pair odbs = {NULL, NULL};

  TH_GIT(git_repository_open(&src, path));
  TH_GIT(git_repository_init(&repo, dir, 1));
  TH_GIT(git_repository_odb(&odbs.from, src));
  TH_GIT(git_repository_odb(&odbs.to, repo));
  TH_GIT(git_odb_foreach(odbs.from, copy_object, &odbs));
  TH_GIT(git_reference_iterator_new(&it, src));
  while (git_reference_next(&ref, it) == 0) {
    git_reference *copy = NULL;
    if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
        strncmp(git_reference_name(ref), "refs/", 5) == 0)
      TH_GIT(git_reference_create(&copy, repo, git_reference_name(ref),
                                  git_reference_target(ref), 1, NULL));
    git_reference_free(copy);
    git_reference_free(ref);
  }
  TH_GIT(git_reference_lookup(&ref, src, "HEAD"));
  if (git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC)
    TH_GIT(git_repository_set_head(repo, git_reference_symbolic_target(ref)));

  git_reference_free(ref);
  git_reference_iterator_free(it);
  git_odb_free(odbs.to);
  git_odb_free(odbs.from);
  git_repository_free(repo);
  git_repository_free(src);
  git_libgit2_shutdown();
  return dir;
}

/* Commits the work tree to 'ref' with its current commit as the first
 * parent and, for a merge, 'merge_ref' as the second. */
static void commit_tree(const char *path, const char *ref,
                        const char *merge_ref, const char *message,
                        const char *author, long when) {
  git_libgit2_init();
  git_repository *repo = NULL;
  git_index *index = NULL;
  git_signature *sig = NULL;
  git_tree *tree = NULL;
  git_commit *parents[2] = {NULL, NULL};
  size_t nparents = 0;
  git_oid tree_id, commit_id, id;

  const char *lt = strchr(author, '<');
  const char *gt = lt ? strchr(lt, '>') : NULL;
  cr_assert(lt && gt, "author must be \"Name <email>\": %s", author);
  size_t name_len = (size_t)(lt - author);
  while (name_len > 0 && author[name_len - 1] == ' ')
    name_len--;
  char *name = ws_xstrndup(author, name_len);
  char *email = ws_xstrndup(lt + 1, (size_t)(gt - lt - 1));

  TH_GIT(git_repository_open(&repo, path));
  TH_GIT(git_repository_index(&index, repo));
  TH_GIT(git_index_add_all(index, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL));
  TH_GIT(git_index_update_all(index, NULL, NULL, NULL));
  TH_GIT(git_index_write(index));
  TH_GIT(git_index_write_tree(&tree_id, index));
  TH_GIT(git_tree_lookup(&tree, repo, &tree_id));
  TH_GIT(git_signature_new(&sig, name, email, (git_time_t)when, 0));
  if (git_reference_name_to_id(&id, repo, ref) == 0)
    TH_GIT(git_commit_lookup(&parents[nparents++], repo, &id));
  if (merge_ref) {
    TH_GIT(git_reference_name_to_id(&id, repo, merge_ref));
    TH_GIT(git_commit_lookup(&parents[nparents++], repo, &id));
  }
  TH_GIT(git_commit_create(&commit_id, repo, ref, sig, sig, NULL, message, tree,
                           nparents, (const git_commit **)parents));

  git_commit_free(parents[0]);
  git_commit_free(parents[1]);
  git_tree_free(tree);
  git_signature_free(sig);
  git_index_free(index);
  git_repository_free(repo);
  free(name);
  free(email);
  git_libgit2_shutdown();
}

void th_repo_commit_to(const char *repo, const char *ref, const char *message,
                       const char *author, long when) {
  commit_tree(repo, ref, NULL, message, author, when);
}

void th_repo_merge(const char *repo, const char *ref, const char *message,
                   const char *author, long when) {
  commit_tree(repo, "HEAD", ref, message, author, when);
}

void th_repo_branch(const char *path, const char *name) {
  git_libgit2_init();
  git_repository *repo = NULL;
  git_commit *head = NULL;
  git_reference *ref = NULL;
  git_oid id;
  TH_GIT(git_repository_open(&repo, path));
  TH_GIT(git_reference_name_to_id(&id, repo, "HEAD"));
  TH_GIT(git_commit_lookup(&head, repo, &id));
  TH_GIT(git_branch_create(&ref, repo, name, head, 0));
  git_reference_free(ref);
  git_commit_free(head);
  git_repository_free(repo);
  git_libgit2_shutdown();
}

char *th_repo_head(const char *path) {
  git_libgit2_init();
  git_repository *repo = NULL;
  git_oid id;
  char hex[GIT_OID_HEXSZ + 1];
  TH_GIT(git_repository_open(&repo, path));
  TH_GIT(git_reference_name_to_id(&id, repo, "HEAD"));
  git_oid_tostr(hex, sizeof(hex), &id);
  git_repository_free(repo);
  git_libgit2_shutdown();
  return ws_xstrdup(hex);
}

void th_repo_make_shallow(const char *repo, const char *hex) {
  ws_str line = WS_STR_INIT;
  ws_str_printf(&line, "%s\n", hex);
  th_write(repo, ".git/shallow", line.ptr);
  ws_str_release(&line);
}

char *th_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "cannot open %s", path);
  ws_str s = WS_STR_INIT;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    ws_str_put(&s, buf, n);
  fclose(f);
  *len = s.len;
  return ws_str_detach(&s);
}

void th_spill(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot write %s", path);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

char *th_cache_file(const char *repo, const char *prefix) {
  ws_str dir = WS_STR_INIT;
  ws_str_printf(&dir, "%s/.git/wholeself", repo);
  DIR *d = opendir(dir.ptr);
  char *found = NULL;
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
        !strchr(e->d_name, '.')) {
      free(found);
      ws_str p = WS_STR_INIT;
      ws_str_printf(&p, "%s/%s", dir.ptr, e->d_name);
      found = ws_str_detach(&p);
      n++;
    }
  if (d)
    closedir(d);
  ws_str_release(&dir);
  cr_assert_leq(n, 1, "one %s* cache file per content folder", prefix);
  return found;
}
