/* renameat2 and RENAME_EXCHANGE are Linux extensions. */
#define _GNU_SOURCE
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binio.h"
#include "digest.h"
#include "error.h"
#include "pool.h"
#include "str.h"
#include "xalloc.h"

/* What a folder holds: each page's path and the fingerprint of the inputs
 * it was rendered from, sorted by path. */
typedef struct {
  char *path;
  ws_digest fp;
} made;

typedef struct {
  made *items;
  size_t len, cap;
} manifest;

/* The folders this build has made sure of, so that each is made once and
 * not asked for again for every page below it. */
typedef struct {
  char **slots;
  size_t len, cap; /* cap is a power of two, or 0 */
} dirset;

struct ws_output {
  unsigned jobs; /* threads for the sweep (0: one per core) */
  char *dir, *staging, *lock_path, *manifest_path;
  int lock_fd;
  /* The two folders, open: a kept page is looked up and linked relative
   * to them, which spares resolving the whole path of each page. */
  int staging_fd, out_fd;
  bool committed;
  size_t count, pages, reused;
  char **written; /* every path written, for the sweep of stale files */
  size_t nwritten, capwritten;
  manifest old_out;     /* what the published folder holds (may be empty) */
  manifest old_staging; /* what the staging folder holds (may be empty) */
  manifest now;         /* pages of this build with their fingerprints */
  /* Published pages without a record found to hold what this build made
   * (see confirm_published): the published folder's record grows by them. */
  manifest confirmed;
  struct stat out_st; /* the published folder when opened (st_ino 0: none) */
  /* The staging folder was made by this build, so it holds nothing but
   * what this build writes: nothing to compare with, clear or sweep. */
  bool fresh;
  dirset dirs;
  pthread_mutex_t mu; /* guards 'dirs', 'written', 'now' and counts */
};

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void rm_tree(const char *path) {
  nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static char *parent_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return ws_xstrdup(".");
  if (slash == path)
    return ws_xstrdup("/");
  return ws_xstrndup(path, (size_t)(slash - path));
}

static bool dirset_has(const dirset *d, const char *path) {
  if (!d->cap)
    return false;
  for (size_t i = (size_t)ws_str_hash(path) & (d->cap - 1); d->slots[i];
       i = (i + 1) & (d->cap - 1))
    if (strcmp(d->slots[i], path) == 0)
      return true;
  return false;
}

static void dirset_put(dirset *d, char *path) {
  size_t i = (size_t)ws_str_hash(path) & (d->cap - 1);
  while (d->slots[i])
    i = (i + 1) & (d->cap - 1);
  d->slots[i] = path;
  d->len++;
}

static void dirset_add(dirset *d, const char *path) {
  if (dirset_has(d, path))
    return;
  if ((d->len + 1) * 2 > d->cap) {
    dirset old = *d;
    d->cap = old.cap ? old.cap * 2 : 64;
    d->len = 0;
    d->slots = ws_xcalloc(d->cap, sizeof(char *));
    for (size_t i = 0; i < old.cap; i++)
      if (old.slots[i])
        dirset_put(d, old.slots[i]);
    free(old.slots);
  }
  dirset_put(d, ws_xstrdup(path));
}

static void dirset_release(dirset *d) {
  for (size_t i = 0; i < d->cap; i++)
    free(d->slots[i]);
  free(d->slots);
}

/* --- the manifest: what each folder was rendered from --- */

/* <out>.manifest lists, for the published folder and for the staging
 * folder, each page's fingerprint. A section names its folder by device,
 * inode and change time (see folder_id), so a folder that was deleted,
 * replaced or swapped by hand is simply not recognised. */
#define MANIFEST_MAGIC "wholeself manifest 1"

static void manifest_add(manifest *m, const char *path, const ws_digest *fp) {
  if (m->len == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 256;
    m->items = ws_xreallocarray(m->items, m->cap, sizeof(made));
  }
  m->items[m->len].path = ws_xstrdup(path);
  m->items[m->len++].fp = *fp;
}

static void manifest_release(manifest *m) {
  for (size_t i = 0; i < m->len; i++)
    free(m->items[i].path);
  free(m->items);
  *m = (manifest){0};
}

static int cmp_made(const void *a, const void *b) {
  return strcmp(((const made *)a)->path, ((const made *)b)->path);
}

/* A saved manifest is sorted already: checking costs less than sorting. */
static void manifest_sort(manifest *m) {
  size_t i = 1;
  while (i < m->len && cmp_made(&m->items[i - 1], &m->items[i]) <= 0)
    i++;
  if (i < m->len)
    qsort(m->items, m->len, sizeof(made), cmp_made);
}

static const made *manifest_find(const manifest *m, const char *path) {
  made key = {(char *)path, {0, 0}};
  return m->len ? bsearch(&key, m->items, m->len, sizeof(made), cmp_made)
                : NULL;
}

/* A folder is known by device, inode and change time: the inode follows it
 * through the swap, and the change time tells it from a new folder that got
 * a freed inode number, or one whose entries were changed by hand. */
typedef struct {
  unsigned long long dev, ino, sec, nsec;
} folder_id;

static folder_id folder_of(const struct stat *st) {
  return (folder_id){(unsigned long long)st->st_dev,
                     (unsigned long long)st->st_ino,
                     (unsigned long long)st->st_ctim.tv_sec,
                     (unsigned long long)st->st_ctim.tv_nsec};
}

static bool same_folder(const struct stat *st, const folder_id *id) {
  folder_id f = folder_of(st);
  return st->st_ino != 0 && f.dev == id->dev && f.ino == id->ino &&
         f.sec == id->sec && f.nsec == id->nsec;
}

/* Reads the sections of the two folders as they are now; anything that
 * does not parse is dropped, which only costs rendering. */
static void manifest_load(ws_output *o, const struct stat *staging) {
  FILE *f = fopen(o->manifest_path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  manifest *into = NULL;
  if (!f)
    return;
  if ((n = getline(&line, &cap, f)) < 0 ||
      strcmp(line, MANIFEST_MAGIC "\n") != 0)
    goto done;
  while ((n = getline(&line, &cap, f)) > 0) {
    folder_id id;
    ws_digest fp;
    if (line[n - 1] != '\n')
      break;
    line[n - 1] = '\0';
    if (strncmp(line, "folder ", 7) == 0 &&
        sscanf(line, "folder %llu %llu %llu %llu", &id.dev, &id.ino, &id.sec,
               &id.nsec) == 4)
      into = same_folder(&o->out_st, &id) ? &o->old_out
             : same_folder(staging, &id)  ? &o->old_staging
                                          : NULL;
    else if (into && n > 34 && line[32] == ' ' && ws_digest_parse(&fp, line) &&
             ws_output_path_ok(line + 33))
      manifest_add(into, line + 33, &fp);
  }
done:
  free(line);
  fclose(f);
  manifest_sort(&o->old_out);
  manifest_sort(&o->old_staging);
}

static void put_section(ws_str *s, const char *folder, const manifest *m) {
  struct stat st;
  if (!m || lstat(folder, &st) < 0)
    return;
  folder_id id = folder_of(&st);
  ws_str_printf(s, "folder %llu %llu %llu %llu\n", id.dev, id.ino, id.sec,
                id.nsec);
  for (size_t i = 0; i < m->len; i++) {
    char hex[33];
    ws_digest_hex(&m->items[i].fp, hex);
    ws_str_put(s, hex, 32);
    ws_str_putc(s, ' ');
    ws_str_puts(s, m->items[i].path);
    ws_str_putc(s, '\n');
  }
}

/* Replaces the manifest with sections for 'a' and 'b' (either may be NULL);
 * when it cannot be written it is removed, so it is never wrong. */
static void manifest_save(const ws_output *o, const char *dir_a,
                          const manifest *a, const char *dir_b,
                          const manifest *b) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, MANIFEST_MAGIC "\n");
  put_section(&s, dir_a, a);
  put_section(&s, dir_b, b);
  char *parent = parent_of(o->dir);
  if (!ws_bin_write_file(parent, o->manifest_path, s.ptr, s.len))
    unlink(o->manifest_path);
  free(parent);
  ws_str_release(&s);
}

static int take_lock(ws_output *o) {
  o->lock_fd = open(o->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (o->lock_fd < 0)
    return ws_error(WS_ERROR, "cannot create lock file %s: %s", o->lock_path,
                    strerror(errno));
  if (flock(o->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return ws_error(WS_ERROR,
                    "another wholeself build is writing to %s (lock %s held); "
                    "try again when it has finished",
                    o->dir, o->lock_path);
  return 0;
}

int ws_output_open(ws_output **out, const char *dir) {
  ws_output *o = ws_xcalloc(1, sizeof(*o));
  ws_str s = WS_STR_INIT;
  int error;
  *out = NULL;
  o->lock_fd = -1;
  o->staging_fd = o->out_fd = -1;
  pthread_mutex_init(&o->mu, NULL);
  o->dir = ws_xstrdup(dir);
  while (strlen(o->dir) > 1 && o->dir[strlen(o->dir) - 1] == '/')
    o->dir[strlen(o->dir) - 1] = '\0';
  ws_str_printf(&s, "%s.lock", o->dir);
  o->lock_path = ws_str_detach(&s);
  ws_str_printf(&s, "%s.manifest", o->dir);
  o->manifest_path = ws_str_detach(&s);
  if ((error = take_lock(o)) < 0)
    goto fail;
  /* The staging folder holds the site before last (or what a failed or
   * killed build left). It is reused rather than deleted: files that come out
   * the same are not rewritten, and the few that are no longer made are
   * swept before the swap. Making and removing a folder per page costs far
   * more than writing the page on many file systems. */
  ws_str_printf(&s, "%s.staging", o->dir);
  o->staging = ws_str_detach(&s);
  struct stat st;
  if (lstat(o->staging, &st) == 0 && !S_ISDIR(st.st_mode))
    unlink(o->staging);
  if (mkdir(o->staging, 0755) == 0) {
    o->fresh = true;
  } else if (errno != EEXIST) {
    error =
        ws_error(WS_ERROR, "cannot create %s: %s", o->staging, strerror(errno));
    goto fail;
  }
  if (lstat(o->dir, &o->out_st) < 0 || !S_ISDIR(o->out_st.st_mode))
    o->out_st.st_ino = 0;
  o->staging_fd =
      open(o->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (o->out_st.st_ino)
    o->out_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (lstat(o->staging, &st) == 0)
    manifest_load(o, &st);
  /* This build is about to change the staging folder: until it commits,
   * only the published folder's record can be trusted. */
  manifest_save(o, o->dir, o->old_out.len ? &o->old_out : NULL, NULL, NULL);
  *out = o;
  return 0;
fail:
  ws_output_free(o);
  return error;
}

bool ws_output_path_ok(const char *rel) {
  if (!rel || !*rel || rel[0] == '/')
    return false;
  const char *seg = rel;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t n = end ? (size_t)(end - seg) : strlen(seg);
    if (n == 0 || seg[0] == '.')
      return false; /* empty, ".", "..", and hidden names */
    for (size_t i = 0; i < n; i++)
      if (seg[i] == '\\' || seg[i] == ':' || (unsigned char)seg[i] < 0x20)
        return false;
    if (!end)
      return true;
    seg = end + 1;
  }
}

/* Makes folder 'p'; a file or link that an older site left there is
 * replaced. */
static int make_dir(const char *p) {
  struct stat st;
  /* Pages are written on several threads: another may make the folder, or
   * remove the stale file, between these steps. */
  for (int tries = 0; tries < 3; tries++) {
    if (mkdir(p, 0755) == 0)
      return 0;
    if (errno != EEXIST)
      return -1;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
      return 0;
    /* EISDIR: another thread replaced the file with the folder since. */
    if (unlink(p) < 0 && errno != ENOENT && errno != EISDIR)
      return -1;
  }
  errno = EEXIST;
  return -1;
}

/* Makes the folders above 'full' that this build has not made yet; the
 * system calls run outside the lock. */
static int make_parents(ws_output *o, const char *full) {
  char *p = ws_xstrdup(full);
  int error = 0;
  for (char *q = p + strlen(o->staging) + 1; (q = strchr(q, '/')); q++) {
    *q = '\0';
    pthread_mutex_lock(&o->mu);
    bool known = dirset_has(&o->dirs, p);
    pthread_mutex_unlock(&o->mu);
    if (!known) {
      if (make_dir(p) < 0) {
        error = ws_error(WS_ERROR, "cannot create %s: %s", p, strerror(errno));
        break;
      }
      pthread_mutex_lock(&o->mu);
      dirset_add(&o->dirs, p);
      pthread_mutex_unlock(&o->mu);
    }
    *q = '/';
  }
  free(p);
  return error;
}

static int write_all(const char *path, const char *data, size_t len) {
  int fd =
      open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return ws_error(WS_ERROR, "cannot write %s: %s", path, strerror(errno));
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return ws_error(WS_ERROR, "cannot write %s: %s", path, strerror(e));
    }
    data += n;
    len -= (size_t)n;
  }
  if (close(fd) < 0)
    return ws_error(WS_ERROR, "cannot write %s: %s", path, strerror(errno));
  return 0;
}

/* Makes room for a new file at 'path': a folder an older site left there
 * goes, and so does a file, which may be a second name of a published one
 * (see link_published) and must not be written through. */
/* Empties the spot 'path' for a new file. Nearly always it holds an old
 * file, which one unlink removes; only a folder there needs more. */
static void clear_spot(const char *path) {
  struct stat st;
  if (unlink(path) == 0 || errno == ENOENT)
    return;
  if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
    rm_tree(path);
}

/* Tells whether the file at 'path' (relative to the folder 'dir') already
 * holds exactly 'data'. */
static bool same_content(int dir, const char *path, const char *data,
                         size_t len) {
  int fd = openat(dir, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  bool same = false;
  if (fd < 0)
    return false;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len) {
    char buf[65536];
    size_t off = 0;
    ssize_t n;
    same = true;
    while (same && off < len && (n = read(fd, buf, sizeof(buf))) > 0) {
      same = off + (size_t)n <= len && memcmp(buf, data + off, (size_t)n) == 0;
      off += (size_t)n;
    }
    same = same && off == len;
  }
  close(fd);
  return same;
}

static bool is_page(const char *rel) {
  size_t n = strlen(rel);
  return n >= 5 && strcmp(rel + n - 5, ".html") == 0;
}

static void note_written(ws_output *o, const char *rel) {
  if (o->nwritten == o->capwritten) {
    o->capwritten = o->capwritten ? o->capwritten * 2 : 256;
    o->written = ws_xreallocarray(o->written, o->capwritten, sizeof(char *));
  }
  o->written[o->nwritten++] = ws_xstrdup(rel);
}

int ws_output_write(ws_output *o, const char *rel, const char *data,
                    size_t len) {
  if (!ws_output_path_ok(rel))
    return ws_error(WS_EINVALID, "refusing to write unsafe path '%s'", rel);
  ws_str full = WS_STR_INIT;
  ws_str_printf(&full, "%s/%s", o->staging, rel);
  int error = make_parents(o, full.ptr);
  if (error == 0) {
    pthread_mutex_lock(&o->mu);
    o->count++;
    o->pages += is_page(rel);
    note_written(o, rel);
    pthread_mutex_unlock(&o->mu);
  }
  if (error == 0 &&
      (o->fresh || !same_content(AT_FDCWD, full.ptr, data, len))) {
    if (!o->fresh)
      clear_spot(full.ptr);
    error = write_all(full.ptr, data, len);
  }
  ws_str_release(&full);
  return error;
}

static bool link_published(ws_output *o, const char *rel, const char *full);

/* The first build into a folder records nothing, so the second renders
 * every page; most come out as the published ones are. Such a page is
 * linked rather than written, and recorded for the published folder too:
 * once the two folders trade places, the next build finds it in its
 * staging folder, where it is kept as it is, instead of linking all of
 * them again (about 0.6 s at 10,000 profiles on ext4). */
static bool confirm_published(ws_output *o, const char *rel, const char *data,
                              size_t len) {
  if (o->out_fd < 0 || manifest_find(&o->old_out, rel) ||
      !same_content(o->out_fd, rel, data, len))
    return false;
  ws_str full = WS_STR_INIT;
  ws_str_printf(&full, "%s/%s", o->staging, rel);
  bool ok = link_published(o, rel, full.ptr);
  ws_str_release(&full);
  return ok;
}

int ws_output_write_made(ws_output *o, const char *rel, const char *data,
                         size_t len, const ws_digest *fp) {
  if (ws_output_path_ok(rel) && confirm_published(o, rel, data, len)) {
    pthread_mutex_lock(&o->mu);
    o->count++;
    o->pages += is_page(rel);
    note_written(o, rel);
    manifest_add(&o->now, rel, fp);
    manifest_add(&o->confirmed, rel, fp);
    pthread_mutex_unlock(&o->mu);
    return 0;
  }
  int error = ws_output_write(o, rel, data, len);
  if (error == 0) {
    pthread_mutex_lock(&o->mu);
    manifest_add(&o->now, rel, fp);
    pthread_mutex_unlock(&o->mu);
  }
  return error;
}

static bool is_file_at(int dir, const char *rel) {
  struct stat st;
  return dir >= 0 && fstatat(dir, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

/* Puts the published copy of 'rel' into the staging folder as a second
 * name for the same file: no bytes are copied, and since every write
 * replaces a file rather than changing it, the published one stays as it
 * is. */
/* Links the published 'rel' at 'full' in the staging folder. The spot
 * usually holds an older file and its folder exists, so the link is tried
 * first and the spot cleared, or the folders made, only when it fails. */
static bool link_published(ws_output *o, const char *rel, const char *full) {
  bool ok = is_file_at(o->out_fd, rel);
  if (ok) {
    if (unlinkat(o->staging_fd, rel, 0) < 0 && errno != ENOENT)
      clear_spot(full); /* a folder, or a file in the way of one */
    ok = linkat(o->out_fd, rel, o->staging_fd, rel, 0) == 0;
    if (!ok && errno == ENOENT)
      ok = make_parents(o, full) == 0 &&
           linkat(o->out_fd, rel, o->staging_fd, rel, 0) == 0;
  }
  return ok;
}

bool ws_output_reuse(ws_output *o, const char *rel, const ws_digest *fp) {
  const made *m;
  bool ok = false;
  ws_str full = WS_STR_INIT;
  if (!ws_output_path_ok(rel))
    return false;
  ws_str_printf(&full, "%s/%s", o->staging, rel);
  if ((m = manifest_find(&o->old_staging, rel)) &&
      ws_digest_equal(&m->fp, fp) && is_file_at(o->staging_fd, rel)) {
    ok = true;
  } else if ((m = manifest_find(&o->old_out, rel)) &&
             ws_digest_equal(&m->fp, fp)) {
    ok = link_published(o, rel, full.ptr);
  }
  if (ok) {
    pthread_mutex_lock(&o->mu);
    bool page = is_page(rel);
    o->count++;
    o->reused += page;
    o->pages += page;
    note_written(o, rel);
    manifest_add(&o->now, rel, fp);
    pthread_mutex_unlock(&o->mu);
  }
  ws_str_release(&full);
  return ok;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool was_written(const ws_output *o, const char *rel) {
  return bsearch(&rel, o->written, o->nwritten, sizeof(char *), cmp_path);
}

/* Tells whether the entry 'name' of the folder 'dir' is a folder (not a
 * link to one); readdir's type spares a stat for everything else. */
static bool is_folder(int dir, const struct dirent64 *e) {
  struct stat st;
  if (e->d_type != DT_UNKNOWN)
    return e->d_type == DT_DIR;
  return fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISDIR(st.st_mode);
}

/* The entries of a folder, read in batches with getdents64: a DIR stream
 * costs a 32 KB buffer and two more system calls per folder, which add up
 * over the 10,000 folders of people/. */
typedef struct {
  int fd;
  ssize_t len, off;
  uint64_t buf[1024]; /* 8 KB, aligned for the records */
} folder_entries;

static const struct dirent64 *next_entry(folder_entries *it) {
  for (;;) {
    if (it->off < it->len) {
      const struct dirent64 *e =
          (const struct dirent64 *)((const char *)it->buf + it->off);
      it->off += e->d_reclen;
      return e;
    }
    it->len = getdents64(it->fd, it->buf, sizeof(it->buf));
    it->off = 0;
    if (it->len <= 0)
      return NULL;
  }
}

static bool sweep_at(const ws_output *o, int dir, ws_str *rel, bool spread);

/* Folders of one folder, swept on the pool: people/ alone holds one per
 * person. */
typedef struct {
  const ws_output *o;
  int dir;
  const char *rel; /* of the folder that holds them */
  char **names;
  bool *gone;
  bool spread; /* not on the pool: each may use it for its own folders */
} sweep_job;

/* Sweeps sub-folder 'i' and removes it when it is left empty. */
static int sweep_folder(void *payload, size_t i) {
  sweep_job *j = payload;
  ws_str rel = WS_STR_INIT;
  ws_str_printf(&rel, "%s%s%s", j->rel, *j->rel ? "/" : "", j->names[i]);
  int sub = openat(j->dir, j->names[i],
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  j->gone[i] = sub >= 0 && sweep_at(j->o, sub, &rel, j->spread) &&
               unlinkat(j->dir, j->names[i], AT_REMOVEDIR) == 0;
  ws_str_release(&rel);
  return 0;
}

/* Below this many sub-folders, starting threads costs more than it saves. */
#define SWEEP_SPREAD 64

/* Removes what this build did not write below the folder 'dir' (open;
 * closed here), whose path in the site is 'rel' (a ws_str, restored on
 * return), bottom-up, so the staging folder holds exactly the new site;
 * tells whether the folder is now empty, for its parent to remove it.
 * Works relative to the folder's descriptor, so it never follows links
 * and resolves no long paths. With 'spread', a folder with many
 * sub-folders has them swept on the pool. */
static bool sweep_at(const ws_output *o, int dir, ws_str *rel, bool spread) {
  folder_entries it; /* not '= {...}': that would clear 8 KB per folder */
  it.fd = dir;
  it.len = it.off = 0;
  size_t mark = rel->len;
  bool empty = true;
  char **later = NULL; /* sub-folders kept for the pool */
  size_t nlater = 0, cap = 0;
  const struct dirent64 *e;
  while ((e = next_entry(&it))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (mark)
      ws_str_putc(rel, '/');
    ws_str_puts(rel, e->d_name);
    bool folder = is_folder(dir, e);
    if (folder && spread) {
      if (nlater == cap) {
        cap = cap ? cap * 2 : 64;
        later = ws_xreallocarray(later, cap, sizeof(char *));
      }
      later[nlater++] = ws_xstrdup(e->d_name);
    } else if (folder) {
      int sub = openat(dir, e->d_name,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      bool gone = sub >= 0 && sweep_at(o, sub, rel, false) &&
                  unlinkat(dir, e->d_name, AT_REMOVEDIR) == 0;
      empty = empty && gone;
    } else if (!was_written(o, rel->ptr)) {
      bool gone = unlinkat(dir, e->d_name, 0) == 0;
      empty = empty && gone;
    } else {
      empty = false;
    }
    ws_str_truncate(rel, mark);
  }
  if (nlater) {
    bool pooled = nlater >= SWEEP_SPREAD;
    sweep_job job = {
        o, dir, rel->ptr, later, ws_xcalloc(nlater, sizeof(bool)), !pooled};
    if (pooled) {
      ws_pool_run(o->jobs, nlater, sweep_folder, &job);
    } else {
      for (size_t i = 0; i < nlater; i++)
        sweep_folder(&job, i);
    }
    for (size_t i = 0; i < nlater; i++) {
      empty = empty && job.gone[i];
      free(later[i]);
    }
    free(job.gone);
    free(later);
  }
  close(dir);
  return empty;
}

static void sweep(const ws_output *o, const char *full) {
  int dir = open(full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ws_str rel = WS_STR_INIT;
  ws_str_puts(&rel, "");
  if (dir >= 0)
    (void)sweep_at(o, dir, &rel, true);
  ws_str_release(&rel);
}

static int sync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int ws_output_commit(ws_output *o, unsigned jobs) {
  o->jobs = jobs;
  struct stat st;
  qsort(o->written, o->nwritten, sizeof(char *), cmp_path);
  if (!o->fresh)
    sweep(o, o->staging);
  if (lstat(o->dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return ws_error(WS_ERROR, "%s exists and is not a folder", o->dir);
    /* One atomic step: the old site and the new one trade places. */
    if (renameat2(AT_FDCWD, o->staging, AT_FDCWD, o->dir, RENAME_EXCHANGE) < 0)
      return ws_error(WS_ERROR, "cannot put %s in place of %s: %s", o->staging,
                      o->dir, strerror(errno));
    o->committed = true; /* the old site is the next build's staging */
  } else {
    if (rename(o->staging, o->dir) < 0)
      return ws_error(WS_ERROR, "cannot rename %s to %s: %s", o->staging,
                      o->dir, strerror(errno));
    o->committed = true;
  }
  manifest_sort(&o->now);
  for (size_t i = 0; i < o->confirmed.len; i++)
    manifest_add(&o->old_out, o->confirmed.items[i].path,
                 &o->confirmed.items[i].fp);
  manifest_sort(&o->old_out);
  manifest_save(o, o->dir, &o->now, o->staging,
                o->out_st.st_ino ? &o->old_out : NULL);
  char *parent = parent_of(o->dir);
  sync_dir(parent);
  free(parent);
  return 0;
}

void ws_output_free(ws_output *o) {
  if (!o)
    return;
  if (o->lock_fd >= 0)
    close(o->lock_fd); /* releases the flock; the file stays, harmless */
  if (o->staging_fd >= 0)
    close(o->staging_fd);
  if (o->out_fd >= 0)
    close(o->out_fd);
  pthread_mutex_destroy(&o->mu);
  free(o->dir);
  free(o->staging);
  free(o->lock_path);
  free(o->manifest_path);
  manifest_release(&o->old_out);
  manifest_release(&o->old_staging);
  manifest_release(&o->now);
  manifest_release(&o->confirmed);
  dirset_release(&o->dirs);
  for (size_t i = 0; i < o->nwritten; i++)
    free(o->written[i]);
  free(o->written);
  free(o);
}

size_t ws_output_count(const ws_output *o) {
  return o->count;
}

size_t ws_output_pages(ws_output *o) {
  pthread_mutex_lock(&o->mu);
  size_t n = o->pages;
  pthread_mutex_unlock(&o->mu);
  return n;
}

size_t ws_output_reused(ws_output *o) {
  pthread_mutex_lock(&o->mu);
  size_t n = o->reused;
  pthread_mutex_unlock(&o->mu);
  return n;
}

bool ws_output_had_site(const ws_output *o) {
  return o->out_st.st_ino != 0;
}
