/* renameat2 and RENAME_EXCHANGE are Linux extensions. */
#define _GNU_SOURCE
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* The paths of a list, copied into a few blocks rather than allocated
 * one by one: the records of 10,000 profiles hold 60,000 of them, and
 * freeing each was most of a build's last, serial step. A list's paths
 * live as long as the list, or the list that takes its items. */
typedef struct text_block {
  struct text_block *next;
  size_t used, cap;
  char bytes[];
} text_block;

#define TEXT_BLOCK_MIN 256
#define TEXT_BLOCK_MAX 65536

static char *texts_copy(text_block **pool, const char *s) {
  size_t n = strlen(s) + 1;
  text_block *b = *pool;
  if (!b || b->cap - b->used < n) {
    size_t cap = b ? b->cap * 2 : TEXT_BLOCK_MIN;
    cap = cap > TEXT_BLOCK_MAX ? TEXT_BLOCK_MAX : cap;
    cap = cap < n ? n : cap;
    text_block *fresh = ws_xmalloc(sizeof(*fresh) + cap);
    fresh->next = b;
    fresh->used = 0;
    fresh->cap = cap;
    *pool = b = fresh;
  }
  char *p = b->bytes + b->used;
  memcpy(p, s, n);
  b->used += n;
  return p;
}

/* Hands the blocks of 'from' to 'to'. */
static void texts_move(text_block **to, text_block **from) {
  text_block *last = *from;
  if (!last)
    return;
  while (last->next)
    last = last->next;
  last->next = *to;
  *to = *from;
  *from = NULL;
}

static void texts_release(text_block **pool) {
  while (*pool) {
    text_block *b = *pool;
    *pool = b->next;
    free(b);
  }
}

/* What a folder holds: each page's path and the fingerprint of the inputs
 * it was rendered from, sorted by path. */
typedef struct {
  char *path;
  ws_digest fp;
} made;

typedef struct {
  made *items;
  size_t len, cap;
  text_block *texts; /* the paths */
} manifest;

/* A folder below the top as a build left it: its path in the site, inode
 * and change time. */
typedef struct {
  char *path;
  unsigned long long ino, sec, nsec;
} dir_rec;

typedef struct {
  dir_rec *items;
  size_t len, cap;
  text_block *texts; /* the paths */
} dir_list;

/* The record of one folder's site: its pages with their fingerprints,
 * every other file ('files', fingerprints unused), and every folder below
 * its top, stated at time 'at' (seconds, nanoseconds). A section holds
 * all the entries of every folder it lists, so a folder whose change time
 * is still the recorded one holds exactly them (see sweep_dir). */
typedef struct {
  manifest pages, files;
  dir_list dirs;
  unsigned long long at_sec, at_nsec;
} section;

/* The folders this build has made sure of, so that each is made once and
 * not asked for again for every page below it. */
typedef struct {
  char **slots;
  size_t len, cap; /* cap is a power of two, or 0 */
  text_block *texts;
} dirset;

/* Where the lines of a section lie in the manifest as read, and whether
 * each of them was taken: then they say what writing the section again
 * would. */
typedef struct {
  size_t at, len;
  bool clean;
} lines_at;

struct ws_output {
  unsigned jobs; /* threads for the sweep (0: one per core) */
  char *dir, *staging, *lock_path, *manifest_path;
  int lock_fd;
  /* The two folders, open: a kept page is looked up and linked relative
   * to them, which spares resolving the whole path of each page. */
  int staging_fd, out_fd;
  bool committed;
  size_t count, pages, reused;
  size_t by_record; /* kept files found by their folder's record */
  char **written; /* every path written, for the sweep of stale files */
  size_t nwritten, capwritten;
  text_block *written_texts;
  section old_out;     /* what the published folder holds (may be empty) */
  section old_staging; /* what the staging folder holds (may be empty) */
  /* Where the manifest's first section of the staging folder starts (-1:
   * none), and whether only sections of it follow (forget_staging). */
  long long staging_at;
  bool staging_last;
  /* The manifest as read, kept while the published folder's lines in it
   * ('out_lines') can be written again as they are (manifest_save). */
  ws_str record_text;
  lines_at out_lines;
  /* Per folder of old_staging.dirs: whether it was found as recorded
   * (folder_trusted). */
  atomic_uchar *trust;
  dir_list new_dirs;   /* the folders of this build's site, as swept */
  unsigned long long new_sec, new_nsec; /* when they were stated */
  manifest now; /* pages of this build with their fingerprints */
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
  dirset_put(d, texts_copy(&d->texts, path));
}

static void dirset_release(dirset *d) {
  free(d->slots);
  texts_release(&d->texts);
}

/* --- the manifest: what each folder was rendered from --- */

/* <out>.manifest lists, for the published folder and for the staging
 * folder, each page's fingerprint. A section names its folder by device,
 * inode and change time (see folder_id), so a folder that was deleted,
 * replaced or swapped by hand is simply not recognised. */
#define MANIFEST_MAGIC "wholeself manifest 2"

static void manifest_add(manifest *m, const char *path, const ws_digest *fp) {
  if (m->len == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 256;
    m->items = ws_xreallocarray(m->items, m->cap, sizeof(made));
  }
  m->items[m->len].path = texts_copy(&m->texts, path);
  m->items[m->len++].fp = *fp;
}

static void manifest_release(manifest *m) {
  free(m->items);
  texts_release(&m->texts);
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

/* Lists start small: the sweep keeps one per folder of people/. */
static void dirs_push(dir_list *l, const char *path, unsigned long long ino,
                      unsigned long long sec, unsigned long long nsec) {
  if (l->len == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 4;
    l->items = ws_xreallocarray(l->items, l->cap, sizeof(dir_rec));
  }
  l->items[l->len++] = (dir_rec){texts_copy(&l->texts, path), ino, sec, nsec};
}

static void dirs_add(dir_list *l, const char *path, const struct stat *st) {
  dirs_push(l, path, (unsigned long long)st->st_ino,
            (unsigned long long)st->st_ctim.tv_sec,
            (unsigned long long)st->st_ctim.tv_nsec);
}

/* Moves the items of 'from' to the end of 'to'. */
static void dirs_move(dir_list *to, dir_list *from) {
  if (to->len + from->len > to->cap) {
    to->cap =
        to->cap * 2 > to->len + from->len ? to->cap * 2 : to->len + from->len;
    to->items = ws_xreallocarray(to->items, to->cap, sizeof(dir_rec));
  }
  if (from->len)
    memcpy(to->items + to->len, from->items, from->len * sizeof(dir_rec));
  to->len += from->len;
  texts_move(&to->texts, &from->texts);
  free(from->items);
  *from = (dir_list){0};
}

static void dirs_release(dir_list *l) {
  free(l->items);
  texts_release(&l->texts);
  *l = (dir_list){0};
}

static int cmp_dir(const void *a, const void *b) {
  return strcmp(((const dir_rec *)a)->path, ((const dir_rec *)b)->path);
}

/* A saved list is sorted already: checking costs less than sorting. */
static void dirs_sort(dir_list *l) {
  size_t i = 1;
  while (i < l->len && cmp_dir(&l->items[i - 1], &l->items[i]) <= 0)
    i++;
  if (i < l->len)
    qsort(l->items, l->len, sizeof(dir_rec), cmp_dir);
}

/* The record of the folder 'path' (its first 'n' bytes), or NULL. */
static const dir_rec *dirs_find_n(const dir_list *l, const char *path,
                                  size_t n) {
  size_t lo = 0, hi = l->len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *p = l->items[mid].path;
    int c = strncmp(p, path, n);
    if (c == 0 && p[n])
      c = 1;
    if (c == 0)
      return &l->items[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static const dir_rec *dirs_find(const dir_list *l, const char *path) {
  return dirs_find_n(l, path, strlen(path));
}

static bool section_empty(const section *s) {
  return !s->pages.len && !s->files.len && !s->dirs.len;
}

static void section_release(section *s) {
  manifest_release(&s->pages);
  manifest_release(&s->files);
  dirs_release(&s->dirs);
  *s = (section){0};
}

/* Reads "<number> " at '*p' (up to 2^64 - 1), moving past it. The
 * overflow check is the compiler's: a division per digit was a fifth of
 * reading the manifest (63,000 numbers at 10,000 profiles). */
static bool get_number(const char **p, unsigned long long *out) {
  const char *s = *p;
  unsigned long long v = 0;
  size_t n = 0;
  for (; s[n] >= '0' && s[n] <= '9'; n++)
    if (__builtin_mul_overflow(v, 10ull, &v) ||
        __builtin_add_overflow(v, (unsigned long long)(s[n] - '0'), &v))
      return false;
  if (n == 0 || s[n] != ' ')
    return false;
  *out = v;
  *p = s + n + 1;
  return true;
}

/* Adds the line 'line' ("file PATH", "dir INO SEC NSEC PATH", "at SEC
 * NSEC" or "FINGERPRINT PATH") to 'into'; anything else is dropped, and
 * false returned. */
static bool section_line(section *into, const char *line, size_t n) {
  ws_digest fp;
  unsigned long long v[3];
  if (strncmp(line, "file ", 5) == 0 && ws_output_path_ok(line + 5)) {
    manifest_add(&into->files, line + 5, &(ws_digest){0, 0});
  } else if (strncmp(line, "dir ", 4) == 0) {
    const char *p = line + 4;
    if (!get_number(&p, &v[0]) || !get_number(&p, &v[1]) ||
        !get_number(&p, &v[2]) || !ws_output_path_ok(p))
      return false;
    dirs_push(&into->dirs, p, v[0], v[1], v[2]);
  } else if (strncmp(line, "at ", 3) == 0 &&
             sscanf(line, "at %llu %llu", &v[0], &v[1]) == 2) {
    into->at_sec = v[0];
    into->at_nsec = v[1];
  } else if (n > 34 && line[32] == ' ' && ws_digest_parse(&fp, line) &&
             ws_output_path_ok(line + 33)) {
    manifest_add(&into->pages, line + 33, &fp);
  } else {
    return false;
  }
  return true;
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
  ws_str *text = &o->record_text;
  section *into = NULL;
  size_t magic = strlen(MANIFEST_MAGIC "\n"), at, outs = 0;
  if (ws_bin_read_file(text, o->manifest_path) || text->len < magic ||
      memcmp(text->ptr, MANIFEST_MAGIC "\n", magic) != 0)
    goto done;
  for (at = magic; at < text->len;) {
    char *line = text->ptr + at, *nl = memchr(line, '\n', text->len - at);
    folder_id id;
    if (!nl)
      break;
    *nl = '\0'; /* put back below: the published folder's lines are kept */
    if (strncmp(line, "folder ", 7) == 0 &&
        sscanf(line, "folder %llu %llu %llu %llu", &id.dev, &id.ino, &id.sec,
               &id.nsec) == 4) {
      if (into == &o->old_out)
        o->out_lines.len = (size_t)(line - text->ptr) - o->out_lines.at;
      into = same_folder(&o->out_st, &id) ? &o->old_out
             : same_folder(staging, &id)  ? &o->old_staging
                                          : NULL;
      if (into == &o->old_out && outs++ == 0)
        o->out_lines = (lines_at){(size_t)(nl + 1 - text->ptr), 0, true};
      if (into == &o->old_staging && o->staging_at < 0)
        o->staging_at = (long long)at;
      o->staging_last = o->staging_at >= 0 && into == &o->old_staging;
    } else if (into) {
      size_t n = (size_t)(nl - line);
      bool taken = section_line(into, line, n) && strlen(line) == n;
      if (!taken && into == &o->old_out)
        o->out_lines.clean = false;
    }
    *nl = '\n';
    at = (size_t)(nl + 1 - text->ptr);
  }
  if (into == &o->old_out)
    o->out_lines.len = at - o->out_lines.at;
  /* Lines from two sections, or cut short: written again in full. */
  if (outs > 1 || at < text->len)
    o->out_lines.clean = false;
done:
  if (!o->out_lines.clean)
    ws_str_release(text);
  section *all[] = {&o->old_out, &o->old_staging};
  for (size_t i = 0; i < 2; i++) {
    manifest_sort(&all[i]->pages);
    manifest_sort(&all[i]->files);
    dirs_sort(&all[i]->dirs);
  }
}

/* Room for 'm''s lines: the manifest of 10,000 profiles is megabytes,
 * written twice a build, and growing it line by line copied it over and
 * over. */
static size_t section_size(const section *m) {
  size_t n = 128;
  for (size_t i = 0; i < m->pages.len; i++)
    n += 34 + strlen(m->pages.items[i].path);
  for (size_t i = 0; i < m->files.len; i++)
    n += 6 + strlen(m->files.items[i].path);
  for (size_t i = 0; i < m->dirs.len; i++)
    n += 4 + 3 * 21 + strlen(m->dirs.items[i].path) + 1;
  return n;
}

/* The published folder's lines as read, when writing its section again
 * would give them: 'm' is that section, unchanged since, and every line
 * was taken. NULL otherwise. */
static const char *lines_as_read(const ws_output *o, const section *m,
                                 size_t *len) {
  if (m != &o->old_out || !o->out_lines.clean)
    return NULL;
  *len = o->out_lines.len;
  return o->record_text.ptr + o->out_lines.at;
}

/* Writes the section 'm' of 'folder'. The staging folder's is the
 * published folder's of the build before, which are mostly the lines read
 * (2.6 MB at 10,000 profiles): those go as they are, under the folder's
 * new identity. */
static void put_section(ws_str *s, const ws_output *o, const char *folder,
                        const section *m) {
  struct stat st;
  const char *lines;
  size_t len = 0;
  if (!m || section_empty(m) || lstat(folder, &st) < 0)
    return;
  folder_id id = folder_of(&st);
  ws_str_printf(s, "folder %llu %llu %llu %llu\n", id.dev, id.ino, id.sec,
                id.nsec);
  if ((lines = lines_as_read(o, m, &len))) {
    ws_str_put(s, lines, len);
    return;
  }
  ws_str_grow(s, section_size(m));
  if (m->dirs.len)
    ws_str_printf(s, "at %llu %llu\n", m->at_sec, m->at_nsec);
  for (size_t i = 0; i < m->pages.len; i++) {
    char hex[33];
    ws_digest_hex(&m->pages.items[i].fp, hex);
    ws_str_put(s, hex, 32);
    ws_str_putc(s, ' ');
    ws_str_puts(s, m->pages.items[i].path);
    ws_str_putc(s, '\n');
  }
  for (size_t i = 0; i < m->files.len; i++) {
    ws_str_puts(s, "file ");
    ws_str_puts(s, m->files.items[i].path);
    ws_str_putc(s, '\n');
  }
  for (size_t i = 0; i < m->dirs.len; i++) {
    const dir_rec *d = &m->dirs.items[i];
    ws_str_puts(s, "dir ");
    ws_str_put_uint(s, d->ino);
    ws_str_putc(s, ' ');
    ws_str_put_uint(s, d->sec);
    ws_str_putc(s, ' ');
    ws_str_put_uint(s, d->nsec);
    ws_str_putc(s, ' ');
    ws_str_puts(s, d->path);
    ws_str_putc(s, '\n');
  }
}

/* Replaces the manifest with sections for 'a' and 'b' (either may be NULL);
 * when it cannot be written it is removed, so it is never wrong. */
static void manifest_save(const ws_output *o, const char *dir_a,
                          const section *a, const char *dir_b,
                          const section *b) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, MANIFEST_MAGIC "\n");
  put_section(&s, o, dir_a, a);
  put_section(&s, o, dir_b, b);
  char *parent = parent_of(o->dir);
  if (!ws_bin_write_alone(parent, o->manifest_path, s.ptr, s.len))
    unlink(o->manifest_path);
  free(parent);
  ws_str_release(&s);
}

/* This build is about to change the staging folder: until it commits,
 * only the published folder's record can be trusted. The staging
 * folder's section is written last, so cutting the manifest short drops
 * it without writing the published folder's again (2.6 MB at 10,000
 * profiles); otherwise the manifest is written again without it. */
static void forget_staging(const ws_output *o) {
  if (o->staging_at < 0)
    return;
  if (o->staging_last && truncate(o->manifest_path, (off_t)o->staging_at) == 0)
    return;
  manifest_save(o, o->dir, &o->old_out, NULL, NULL);
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
  o->staging_at = -1;
  o->record_text = (ws_str)WS_STR_INIT;
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
  o->trust = ws_xcalloc(o->old_staging.dirs.len + 1, sizeof(atomic_uchar));
  forget_staging(o);
  *out = o;
  return 0;
fail:
  ws_output_free(o);
  return error;
}

/* What each byte ends: 1 a name ('/'), 2 the path (the NUL, and the
 * bytes that may not be in a path at all: a control character, a
 * backslash or a colon), 0 nothing. */
#define STOP4(c) [c] = 2, [c + 1] = 2, [c + 2] = 2, [c + 3] = 2
#define STOP16(c) STOP4(c), STOP4(c + 4), STOP4(c + 8), STOP4(c + 12)
static const unsigned char path_stops[256] = {
    STOP16(0), STOP16(16), ['/'] = 1, [':'] = 2, ['\\'] = 2};
#undef STOP16
#undef STOP4

/* One pass over the bytes, one lookup each: the manifest's paths are
 * checked at every build, 50,000 of them at 10,000 profiles (17.8M
 * instructions of a one-profile rebuild with a test per kind of byte). */
bool ws_output_path_ok(const char *rel) {
  if (!rel)
    return false;
  const unsigned char *p = (const unsigned char *)rel;
  for (;;) {
    /* The first byte of a name: not empty, ".", ".." or hidden. */
    if (*p == '.' || path_stops[*p])
      return false;
    while (!path_stops[*++p])
      ;
    if (*p != '/')
      return *p == '\0';
    p++;
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
  o->written[o->nwritten++] = texts_copy(&o->written_texts, rel);
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
  if (o->out_fd < 0 || manifest_find(&o->old_out.pages, rel) ||
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

typedef enum { NOT_THERE, STATED, BY_RECORD } staged;
static staged in_staging(ws_output *o, const char *rel);

bool ws_output_reuse(ws_output *o, const char *rel, const ws_digest *fp) {
  const made *m;
  bool ok = false;
  staged where = NOT_THERE;
  if (!ws_output_path_ok(rel))
    return false;
  if ((m = manifest_find(&o->old_staging.pages, rel)) &&
      ws_digest_equal(&m->fp, fp) &&
      (where = in_staging(o, rel)) != NOT_THERE) {
    ok = true;
  } else if ((m = manifest_find(&o->old_out.pages, rel)) &&
             ws_digest_equal(&m->fp, fp)) {
    ws_str full = WS_STR_INIT;
    ws_str_printf(&full, "%s/%s", o->staging, rel);
    ok = link_published(o, rel, full.ptr);
    ws_str_release(&full);
  }
  if (ok) {
    pthread_mutex_lock(&o->mu);
    bool page = is_page(rel);
    o->count++;
    o->reused += page;
    o->pages += page;
    o->by_record += where == BY_RECORD;
    note_written(o, rel);
    manifest_add(&o->now, rel, fp);
    pthread_mutex_unlock(&o->mu);
  }
  return ok;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
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

/* --- the sweep ---
 *
 * Before the swap, everything in the staging folder that this build did
 * not write goes, so that it holds exactly the new site. Reading every
 * folder for that took four system calls per folder (15% of a one-profile
 * rebuild's CPU time at 10,000 profiles, on ext4). A folder
 * whose inode and change time are still those the staging folder's record
 * gives it holds exactly the entries the record lists: adding, removing or
 * renaming an entry changes a folder's change time, and nothing can set it
 * back. So such a folder costs one stat, and what it held that this build
 * did not write is removed by name; any other folder is read. A record is
 * trusted only when the folder's change time is a clock tick older than
 * the moment it was taken, so that a change within the same tick cannot
 * pass for no change. Every folder kept is recorded again, from the stat
 * taken before it was read, for the build after next. */

/* The clock tick of a file system's timestamps, at most: a jiffy where
 * they have nanoseconds, two seconds (FAT) where they do not. */
#define FINE_TICK_NS 100000000ull
#define COARSE_TICK_NS 2000000000ull

static unsigned long long ns_of(unsigned long long sec, unsigned long long ns) {
  return sec * 1000000000ull + ns;
}

/* Tells whether the folder 'st' holds what 'rec' of 'sec' lists. */
static bool still_recorded(const section *sec, const dir_rec *rec,
                           const struct stat *st) {
  if (!rec || !S_ISDIR(st->st_mode) ||
      (unsigned long long)st->st_ino != rec->ino ||
      (unsigned long long)st->st_ctim.tv_sec != rec->sec ||
      (unsigned long long)st->st_ctim.tv_nsec != rec->nsec)
    return false;
  unsigned long long tick = rec->nsec ? FINE_TICK_NS : COARSE_TICK_NS;
  return ns_of(rec->sec, rec->nsec) + tick <= ns_of(sec->at_sec, sec->at_nsec);
}

enum { TRUST_UNKNOWN, TRUSTED, NOT_TRUSTED };

/* Tells whether the folder 'rec' of the staging folder's record was found
 * as recorded, stating it the first time it is asked. It may be asked
 * after this build changed it: then it is not trusted, which only costs
 * reading it. Once trusted, whatever this build later does in it is this
 * build's own writing, which the sweep knows. */
static atomic_uchar *trust_of(ws_output *o, const dir_rec *rec) {
  return &o->trust[rec - o->old_staging.dirs.items];
}

static bool folder_trusted(ws_output *o, const dir_rec *rec) {
  atomic_uchar *t = trust_of(o, rec);
  unsigned char v = atomic_load_explicit(t, memory_order_relaxed);
  if (v == TRUST_UNKNOWN) {
    struct stat st;
    v = fstatat(o->staging_fd, rec->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                still_recorded(&o->old_staging, rec, &st)
            ? TRUSTED
            : NOT_TRUSTED;
    atomic_store_explicit(t, v, memory_order_relaxed);
  }
  return v == TRUSTED;
}

/* Tells whether the recorded file 'rel' is still in the staging folder.
 * A folder found as recorded holds what the record lists, so one stat of
 * it, which the sweep then uses too, answers for every page it holds:
 * 10,555 stats fewer in a rebuild of 10,000 profiles. */
static staged in_staging(ws_output *o, const char *rel) {
  const char *slash = strrchr(rel, '/');
  const dir_rec *rec =
      slash ? dirs_find_n(&o->old_staging.dirs, rel, (size_t)(slash - rel))
            : NULL;
  if (rec && folder_trusted(o, rec))
    return BY_RECORD;
  return is_file_at(o->staging_fd, rel) ? STATED : NOT_THERE;
}

static bool was_written(const ws_output *o, const char *rel) {
  return bsearch(&rel, o->written, o->nwritten, sizeof(char *), cmp_path);
}

/* Orders 'path' against the folder 'dir' (of length 'n') followed by a
 * slash: everything below the folder sorts from there on. */
static int cmp_below(const char *path, const char *dir, size_t n) {
  int c = strncmp(path, dir, n);
  return c ? c : (int)(unsigned char)path[n] - '/';
}

/* Where the paths below the folder 'dir' start in the sorted array of
 * 'n' items of 'size' bytes at 'base', each starting with its path. */
static size_t first_below(const void *base, size_t n, size_t size,
                          const char *dir) {
  size_t len = strlen(dir), lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *p = *(char *const *)((const char *)base + mid * size);
    if (cmp_below(p, dir, len) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* first_below, from 'hint', the answer for a folder that sorts just before
 * 'dir': a few steps on from it usually find the answer, checked on both
 * sides; otherwise (names such as "a-b" sort between "a" and "a/b") a
 * binary search. */
static size_t first_below_from(const void *base, size_t n, size_t size,
                               const char *dir, size_t hint) {
  size_t len = strlen(dir);
#define PATH_AT(k) (*(char *const *)((const char *)base + (k)*size))
  if (hint <= n && (hint == 0 || cmp_below(PATH_AT(hint - 1), dir, len) < 0))
    for (size_t k = hint; k <= n && k < hint + 8; k++)
      if (k == n || cmp_below(PATH_AT(k), dir, len) >= 0)
        return k;
#undef PATH_AT
  return first_below(base, n, size, dir);
}

/* Where the entries below a folder start in the staging folder's record
 * (pages, files) and in what the build wrote; found for all the
 * sub-folders of a folder at once (see sweep_recorded). */
typedef struct {
  size_t pages, files, written;
} below_at;

/* Tells whether the build wrote anything below the folder 'rel', whose
 * entries in 'written' (sorted) start at 'i'. */
static bool holds_written(const ws_output *o, const char *rel, size_t i) {
  return i < o->nwritten && cmp_below(o->written[i], rel, strlen(rel)) == 0;
}

/* The name of 'path' in the folder 'dir' (of length 'n'), when it lies
 * right in it (not deeper), or NULL once past what lies below it. */
static const char *child_of(const char *path, const char *dir, size_t n,
                            bool *past) {
  *past = cmp_below(path, dir, n) != 0;
  return *past || strchr(path + n + 1, '/') ? NULL : path + n + 1;
}

static bool sweep_dir(ws_output *o, int parent, const char *name, ws_str *rel,
                      const dir_rec *rec, const below_at *at, bool spread,
                      dir_list *out);

/* Sub-folders of one folder, swept on the pool: people/ alone holds one
 * per person. Each job records the folders it keeps in a list of its own,
 * joined in order afterwards. */
typedef struct {
  ws_output *o;
  int dir;
  const char *rel; /* of the folder that holds them */
  const char **names;
  const dir_rec *const *recs; /* their records, or NULL: look them up */
  const below_at *at;         /* where their entries start, or NULL */
  bool *gone;
  dir_list *kept;
  bool spread; /* not on the pool: each may use it for its own folders */
} sweep_job;

static int sweep_step(void *payload, size_t i) {
  sweep_job *j = payload;
  ws_str rel = WS_STR_INIT;
  ws_str_puts(&rel, j->rel);
  if (*j->rel)
    ws_str_putc(&rel, '/');
  ws_str_puts(&rel, j->names[i]);
  const dir_rec *rec =
      j->recs ? j->recs[i] : dirs_find(&j->o->old_staging.dirs, rel.ptr);
  j->gone[i] = sweep_dir(j->o, j->dir, j->names[i], &rel, rec,
                         j->at ? &j->at[i] : NULL, j->spread, &j->kept[i]);
  ws_str_release(&rel);
  return 0;
}

/* Below this many sub-folders, starting threads costs more than it saves. */
#define SWEEP_SPREAD 64

/* Sweeps the sub-folders 'names' of the folder 'dir' (path 'rel'), whose
 * records are 'recs' (NULL: not known yet); tells whether all of them
 * went. With 'spread' and many of them, on the pool. */
static bool sweep_dirs(ws_output *o, int dir, const ws_str *rel,
                       const char **names, const dir_rec *const *recs,
                       const below_at *at, size_t n, bool spread,
                       dir_list *out) {
  bool pooled = spread && n >= SWEEP_SPREAD, all = true;
  sweep_job job = {o,
                   dir,
                   rel->ptr,
                   names,
                   recs,
                   at,
                   ws_xcalloc(n ? n : 1, sizeof(bool)),
                   ws_xcalloc(n ? n : 1, sizeof(dir_list)),
                   spread && !pooled};
  if (pooled)
    ws_pool_run(o->jobs, n, sweep_step, &job);
  else
    for (size_t i = 0; i < n; i++)
      sweep_step(&job, i);
  for (size_t i = 0; i < n; i++) {
    all = all && job.gone[i];
    dirs_move(out, &job.kept[i]);
  }
  free(job.gone);
  free(job.kept);
  return all;
}

static void push_name(const char ***names, size_t *n, size_t *cap,
                      const char *name) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    *names = ws_xreallocarray(*names, *cap, sizeof(char *));
  }
  (*names)[(*n)++] = name;
}

/* Sweeps the folder open as 'dir' (closed here), path 'rel', by reading
 * it; tells whether it is now empty. Works relative to the folder's
 * descriptor, so it never follows links and resolves no long paths. */
static bool sweep_read(ws_output *o, int dir, ws_str *rel, bool spread,
                       dir_list *out) {
  folder_entries it; /* not '= {...}': that would clear 8 KB per folder */
  it.fd = dir;
  it.len = it.off = 0;
  size_t mark = rel->len, n = 0, cap = 0;
  bool empty = true;
  char **names = NULL; /* sub-folders, swept after the listing */
  const struct dirent64 *e;
  while ((e = next_entry(&it))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (is_folder(dir, e)) {
      push_name((const char ***)&names, &n, &cap, ws_xstrdup(e->d_name));
      continue;
    }
    if (mark)
      ws_str_putc(rel, '/');
    ws_str_puts(rel, e->d_name);
    if (!was_written(o, rel->ptr))
      empty = unlinkat(dir, e->d_name, 0) == 0 && empty;
    else
      empty = false;
    ws_str_truncate(rel, mark);
  }
  if (n > 1)
    qsort(names, n, sizeof(char *), cmp_path);
  empty = sweep_dirs(o, dir, rel, (const char **)names, NULL, NULL, n, spread,
                     out) &&
          empty;
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  close(dir);
  return empty;
}

/* Sweeps the folder 'name' of 'parent' (path 'rel'), stated 'st', by its
 * record: what the record lists and the build did not write goes, by
 * name; tells whether nothing it listed is left. The folder is opened
 * only when something in it needs doing. */
/* Where the entries below each of the 'n' sub-folders 'names' of the
 * folder 'rel' start: each from where the one before's did, in a few steps
 * rather than three binary searches per folder (30,000 at 10,000
 * profiles). */
static below_at *find_below(const ws_output *o, const ws_str *rel,
                            const char *const *names, size_t n) {
  const section *sec = &o->old_staging;
  below_at *at = ws_xcalloc(n ? n : 1, sizeof(*at)), hint = {0, 0, 0};
  ws_str path = WS_STR_INIT;
  for (size_t i = 0; i < n; i++) {
    ws_str_clear(&path);
    ws_str_put(&path, rel->ptr, rel->len);
    if (rel->len)
      ws_str_putc(&path, '/');
    ws_str_puts(&path, names[i]);
    hint.pages = first_below_from(sec->pages.items, sec->pages.len,
                                  sizeof(made), path.ptr, hint.pages);
    hint.files = first_below_from(sec->files.items, sec->files.len,
                                  sizeof(made), path.ptr, hint.files);
    hint.written = first_below_from(o->written, o->nwritten, sizeof(char *),
                                    path.ptr, hint.written);
    at[i] = hint;
  }
  ws_str_release(&path);
  return at;
}

static bool sweep_recorded(ws_output *o, int parent, const char *name,
                           ws_str *rel, const dir_rec *rec,
                           const below_at *below, const struct stat *st,
                           bool spread, dir_list *out) {
  const section *sec = &o->old_staging;
  const manifest *lists[] = {&sec->pages, &sec->files};
  const size_t starts[] = {below ? below->pages : SIZE_MAX,
                           below ? below->files : SIZE_MAX};
  size_t len = rel->len, n = 0, cap = 0;
  const char **stale = NULL, **dirs = NULL;
  const dir_rec **recs = NULL;
  size_t nstale = 0, scap = 0, rcap = 0, nrecs = 0;
  bool empty = true, past;
  for (size_t k = 0; k < 2; k++)
    for (size_t i = starts[k] != SIZE_MAX
                        ? starts[k]
                        : first_below(lists[k]->items, lists[k]->len,
                                      sizeof(made), rel->ptr);
         i < lists[k]->len; i++) {
      const char *path = lists[k]->items[i].path;
      const char *child = child_of(path, rel->ptr, len, &past);
      if (past)
        break;
      if (child && !was_written(o, path))
        push_name(&stale, &nstale, &scap, child);
      else if (child)
        empty = false;
    }
  /* What lies below a folder nearly always comes right after it in the
   * sorted list; only names such as "a-b" sort between "a" and "a/b". */
  size_t from = (size_t)(rec - sec->dirs.items) + 1;
  if (from < sec->dirs.len &&
      cmp_below(sec->dirs.items[from].path, rel->ptr, len) < 0)
    from =
        first_below(sec->dirs.items, sec->dirs.len, sizeof(dir_rec), rel->ptr);
  for (size_t i = from; i < sec->dirs.len; i++) {
    const char *child = child_of(sec->dirs.items[i].path, rel->ptr, len, &past);
    if (past)
      break;
    if (child) {
      push_name(&dirs, &n, &cap, child);
      if (nrecs == rcap) {
        rcap = rcap ? rcap * 2 : 64;
        recs = ws_xreallocarray(recs, rcap, sizeof(*recs));
      }
      recs[nrecs++] = &sec->dirs.items[i];
    }
  }
  if (nstale || n) {
    struct stat now;
    int dir =
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir >= 0 && fstat(dir, &now) == 0 && now.st_ino == st->st_ino) {
      for (size_t i = 0; i < nstale; i++)
        empty = (unlinkat(dir, stale[i], 0) == 0 || errno == ENOENT) && empty;
      below_at *at = find_below(o, rel, dirs, n);
      empty = sweep_dirs(o, dir, rel, dirs, recs, at, n, spread, out) && empty;
      free(at);
    } else {
      empty = false;
    }
    if (dir >= 0)
      close(dir);
  }
  free(stale);
  free(dirs);
  free(recs);
  return empty;
}

/* Sweeps the folder 'name' of the folder 'parent', whose path in the site
 * is 'rel' (a ws_str, restored on return) and whose record is 'rec' (NULL:
 * none), by that record when it is still as recorded, else by reading it;
 * removes it when the build wrote nothing below it, else records it in
 * 'out'. Tells whether it went. */
static bool sweep_dir(ws_output *o, int parent, const char *name, ws_str *rel,
                      const dir_rec *rec, const below_at *at, bool spread,
                      dir_list *out) {
  struct stat st;
  bool trusted = rec && atomic_load_explicit(trust_of(o, rec),
                                             memory_order_relaxed) == TRUSTED;
  if (trusted) { /* stated already (in_staging) and found as recorded */
    memset(&st, 0, sizeof(st));
    st.st_mode = S_IFDIR;
    st.st_ino = (ino_t)rec->ino;
    st.st_ctim.tv_sec = (time_t)rec->sec;
    st.st_ctim.tv_nsec = (long)rec->nsec;
  } else if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
             !S_ISDIR(st.st_mode)) {
    return false;
  }
  bool keep = holds_written(
           o, rel->ptr,
           at ? at->written
              : first_below(o->written, o->nwritten, sizeof(char *), rel->ptr)),
       empty;
  /* A kept folder is recorded before what lies below it, whose folders
   * are swept in the order of their names: the record then comes out in
   * the order of its paths, which dirs_sort checks instead of sorting
   * 10,000 folders again (names such as "a-b", which sort between "a" and
   * "a/b", make it sort them). */
  if (keep)
    dirs_add(out, rel->ptr, &st);
  if (trusted || still_recorded(&o->old_staging, rec, &st)) {
    empty = sweep_recorded(o, parent, name, rel, rec, at, &st, spread, out);
  } else {
    int dir =
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    empty = dir >= 0 && sweep_read(o, dir, rel, spread, out);
  }
  if (keep)
    return false;
  return empty && unlinkat(parent, name, AT_REMOVEDIR) == 0;
}

static void clock_now(unsigned long long *sec, unsigned long long *nsec) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  *sec = (unsigned long long)ts.tv_sec;
  *nsec = (unsigned long long)ts.tv_nsec;
}

/* Sweeps the staging folder; its top is always read (the build's own
 * writes there, a handful of files, change it nearly every time). */
static void sweep(ws_output *o) {
  clock_now(&o->new_sec, &o->new_nsec);
  int top = openat(o->staging_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ws_str rel = WS_STR_INIT;
  ws_str_puts(&rel, "");
  if (top >= 0)
    (void)sweep_read(o, top, &rel, true, &o->new_dirs);
  ws_str_release(&rel);
  dirs_sort(&o->new_dirs);
}

/* The folders of a fresh staging folder, stated on the pool for the
 * record: this build made each of them and wrote all they hold. */
typedef struct {
  const ws_output *o;
  char **paths;
  struct stat *st;
  bool *ok;
} stat_job;

static int stat_step(void *payload, size_t i) {
  stat_job *j = payload;
  j->ok[i] = fstatat(j->o->staging_fd, j->paths[i], &j->st[i],
                     AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISDIR(j->st[i].st_mode);
  return 0;
}

static void record_made(ws_output *o) {
  size_t skip = strlen(o->staging) + 1, n = 0;
  char **paths = ws_xcalloc(o->dirs.len + 1, sizeof(char *));
  clock_now(&o->new_sec, &o->new_nsec);
  for (size_t i = 0; i < o->dirs.cap; i++)
    if (o->dirs.slots[i] && strlen(o->dirs.slots[i]) > skip)
      paths[n++] = o->dirs.slots[i] + skip;
  stat_job job = {o, paths, ws_xcalloc(n + 1, sizeof(struct stat)),
                  ws_xcalloc(n + 1, sizeof(bool))};
  ws_pool_run(o->jobs, n, stat_step, &job);
  for (size_t i = 0; i < n; i++)
    if (job.ok[i])
      dirs_add(&o->new_dirs, paths[i], &job.st[i]);
  dirs_sort(&o->new_dirs);
  free(job.st);
  free(job.ok);
  free(paths);
}

/* Moves the pages 'confirmed' into the record 'sec' of the published
 * folder: each becomes a page with a fingerprint, and stops being one of
 * its other files, so that the record lists every entry once. */
static void confirm_pages(section *sec, manifest *confirmed) {
  if (!confirmed->len)
    return;
  manifest_sort(confirmed);
  manifest files = {0};
  for (size_t i = 0; i < sec->files.len; i++)
    if (!manifest_find(confirmed, sec->files.items[i].path))
      manifest_add(&files, sec->files.items[i].path, &sec->files.items[i].fp);
  manifest_release(&sec->files);
  sec->files = files;
  for (size_t i = 0; i < confirmed->len; i++)
    manifest_add(&sec->pages, confirmed->items[i].path,
                 &confirmed->items[i].fp);
  manifest_sort(&sec->pages);
}

/* The files this build wrote that are not pages with a fingerprint;
 * 'written' and 'now' are sorted. */
static manifest other_files(const ws_output *o) {
  manifest m = {0};
  size_t k = 0;
  for (size_t i = 0; i < o->nwritten; i++) {
    int c = 1;
    while (k < o->now.len &&
           (c = strcmp(o->now.items[k].path, o->written[i])) < 0)
      k++;
    if (k >= o->now.len || c != 0)
      manifest_add(&m, o->written[i], &(ws_digest){0, 0});
  }
  return m;
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
  if (o->fresh)
    record_made(o);
  else
    sweep(o);
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
  if (o->confirmed.len) /* the published folder's section grows */
    o->out_lines.clean = false;
  confirm_pages(&o->old_out, &o->confirmed);
  section site = {o->now, other_files(o), o->new_dirs, o->new_sec, o->new_nsec};
  manifest_save(o, o->dir, &site, o->staging,
                o->out_st.st_ino ? &o->old_out : NULL);
  manifest_release(&site.files);
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
  section_release(&o->old_out);
  section_release(&o->old_staging);
  ws_str_release(&o->record_text);
  free(o->trust);
  dirs_release(&o->new_dirs);
  manifest_release(&o->now);
  manifest_release(&o->confirmed);
  dirset_release(&o->dirs);
  free(o->written);
  texts_release(&o->written_texts);
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

size_t ws_output_kept_by_record(ws_output *o) {
  pthread_mutex_lock(&o->mu);
  size_t n = o->by_record;
  pthread_mutex_unlock(&o->mu);
  return n;
}

bool ws_output_had_site(const ws_output *o) {
  return o->out_st.st_ino != 0;
}
