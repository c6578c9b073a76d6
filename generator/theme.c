#include "theme.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "digest.h"
#include "error.h"
#include "frontmatter.h"
#include "str.h"
#include "xalloc.h"

#ifndef WS_PREFIX
#define WS_PREFIX "/usr/local"
#endif

struct ws_theme {
  char *name; /* for site overrides: themes/<name>/ */
  char *dir;
  ws_source *src;
  ws_mustache_env *env;
  ws_theme *parent; /* theme.yml's 'inherits', or NULL */
};

/* Inheritance chains are short ("minimal" inherits "default"); the limit
 * also stops a cycle. */
#define MAX_INHERIT 4

static int read_file(ws_str *out, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return errno == ENOENT ? WS_ENOTFOUND
                           : ws_error(WS_ERROR, "cannot read %s: %s", path,
                                      strerror(errno));
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
    ws_str_put(out, buf, n);
  int bad = ferror(f);
  fclose(f);
  return bad ? ws_error(WS_ERROR, "cannot read %s", path) : 0;
}

/* Template names come from templates (and dynamic names from data), so they
 * must never become a path that leaves the theme. */
static bool name_ok(const char *name) {
  if (!*name || name[0] == '.')
    return false;
  for (const char *p = name; *p; p++)
    if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= 'a' && *p <= 'z') ||
          (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return false;
  return strstr(name, "..") == NULL;
}

static int load_template(ws_str *out, const char *name, void *payload) {
  ws_theme *t = payload;
  ws_str path = WS_STR_INIT;
  int error;
  if (!name_ok(name))
    return WS_ENOTFOUND;
  if (t->src) {
    ws_str_printf(&path, "themes/%s/%s.mustache", t->name, name);
    error = ws_source_read(out, t->src, path.ptr);
    if (error != WS_ENOTFOUND) {
      ws_str_release(&path);
      return error;
    }
    ws_str_clear(&path);
  }
  ws_str_printf(&path, "%s/%s.mustache", t->dir, name);
  error = read_file(out, path.ptr);
  ws_str_release(&path);
  if (error == WS_ENOTFOUND && t->parent)
    return load_template(out, name, t->parent);
  return error;
}

static char *exe_dir(void) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  char *slash = strrchr(buf, '/');
  if (slash)
    *slash = '\0';
  return ws_xstrdup(buf);
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *find_dir(const char *name, ws_str *tried) {
  const char *env = getenv("WHOLESELF_THEMES");
  char *exe = exe_dir();
  const char *bases[4] = {env, NULL, NULL, WS_PREFIX "/share/wholeself/themes"};
  ws_str b1 = WS_STR_INIT, b2 = WS_STR_INIT;
  if (exe) {
    ws_str_printf(&b1, "%s/../themes", exe);
    ws_str_printf(&b2, "%s/../share/wholeself/themes", exe);
    bases[1] = b1.ptr;
    bases[2] = b2.ptr;
  }
  char *found = NULL;
  for (size_t i = 0; i < 4 && !found; i++) {
    if (!bases[i] || !*bases[i])
      continue;
    ws_str p = WS_STR_INIT;
    ws_str_printf(&p, "%s/%s", bases[i], name);
    ws_str_printf(tried, "%s%s", tried->len ? ", " : "", p.ptr);
    if (is_dir(p.ptr))
      found = ws_str_detach(&p);
    ws_str_release(&p);
  }
  ws_str_release(&b1);
  ws_str_release(&b2);
  free(exe);
  return found;
}

/* Reads the 'inherits' key of 'dir'/theme.yml into 'out' (NULL: none). */
static int read_parent(char **out, const char *dir) {
  ws_str path = WS_STR_INIT, text = WS_STR_INIT;
  ws_value *yml = NULL;
  ws_diag diag = WS_DIAG_INIT;
  int error;
  *out = NULL;
  ws_str_printf(&path, "%s/theme.yml", dir);
  error = read_file(&text, path.ptr);
  if (error == WS_ENOTFOUND) {
    error = 0;
    goto cleanup;
  }
  if (error < 0)
    goto cleanup;
  if (ws_yaml_load(&yml, path.ptr, text.ptr, text.len, 1, &diag) < 0) {
    error = ws_error(WS_EINVALID, "%s:%u: %s", path.ptr,
                     diag.len ? diag.items[0].line : 0,
                     diag.len ? diag.items[0].message : "invalid YAML");
    goto cleanup;
  }
  const char *parent = ws_value_cstr(ws_value_get(yml, "inherits"));
  if (parent && *parent) {
    if (!name_ok(parent))
      error = ws_error(WS_EINVALID, "%s: invalid theme name '%s'", path.ptr,
                       parent);
    else
      *out = ws_xstrdup(parent);
  }
cleanup:
  ws_value_free(yml);
  ws_diag_release(&diag);
  ws_str_release(&text);
  ws_str_release(&path);
  return error;
}

static int open_theme(ws_theme **out, const char *name_or_path, ws_source *src,
                      unsigned depth);

static int open_parent(ws_theme *t, unsigned depth) {
  char *parent = NULL;
  int error = read_parent(&parent, t->dir);
  if (error == 0 && parent) {
    if (depth >= MAX_INHERIT)
      error = ws_error(WS_EINVALID,
                       "theme '%s' inherits too deeply (a "
                       "cycle in theme.yml?)",
                       t->name);
    else
      error = open_theme(&t->parent, parent, t->src, depth + 1);
  }
  free(parent);
  return error;
}

int ws_theme_open(ws_theme **out, const char *name_or_path, ws_source *src) {
  return open_theme(out, name_or_path, src, 0);
}

static int open_theme(ws_theme **out, const char *name_or_path, ws_source *src,
                      unsigned depth) {
  const char *spec = name_or_path && *name_or_path ? name_or_path : "default";
  ws_str tried = WS_STR_INIT;
  char *dir;
  *out = NULL;
  if (strchr(spec, '/')) {
    dir = is_dir(spec) ? ws_xstrdup(spec) : NULL;
    ws_str_puts(&tried, spec);
  } else if (!name_ok(spec)) {
    ws_str_release(&tried);
    return ws_error(WS_EINVALID, "invalid theme name '%s'", spec);
  } else {
    dir = find_dir(spec, &tried);
  }
  if (!dir) {
    int e = ws_error(WS_ENOTFOUND, "theme '%s' not found (looked in %s)", spec,
                     tried.ptr);
    ws_str_release(&tried);
    return e;
  }
  ws_str_release(&tried);
  ws_theme *t = ws_xcalloc(1, sizeof(*t));
  const char *base = strrchr(dir, '/');
  t->name = ws_xstrdup(strchr(spec, '/') ? (base ? base + 1 : dir) : spec);
  t->dir = dir;
  t->src = src;
  t->env = ws_mustache_env_new(load_template, t);
  int error = open_parent(t, depth);
  if (error < 0) {
    ws_theme_free(t);
    return error;
  }
  *out = t;
  return 0;
}

void ws_theme_free(ws_theme *t) {
  if (!t)
    return;
  ws_theme_free(t->parent);
  ws_mustache_env_free(t->env);
  free(t->name);
  free(t->dir);
  free(t);
}

int ws_theme_template(const ws_mustache **out, ws_theme *t, const char *name) {
  int error = ws_mustache_env_get(out, t->env, name);
  if (error == WS_ENOTFOUND)
    return ws_error(WS_ENOTFOUND, "theme '%s' has no template %s.mustache",
                    t->name, name);
  return error;
}

ws_mustache_env *ws_theme_env(ws_theme *t) {
  return t->env;
}

const char *ws_theme_dir(const ws_theme *t) {
  return t->dir;
}

const ws_theme *ws_theme_parent(const ws_theme *t) {
  return t->parent;
}

/* --- the templates' fingerprint --- */

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_template_file(const char *name) {
  size_t n = strlen(name);
  return name[0] != '.' && ((n > 9 && strcmp(name + n - 9, ".mustache") == 0) ||
                            strcmp(name, "theme.yml") == 0);
}

/* Every template in the theme's folder, in name order. */
static int digest_disk(ws_digester *d, const char *dir) {
  DIR *dp = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0;
  int error = 0;
  while (dp && (e = readdir(dp)))
    if (is_template_file(e->d_name)) {
      names = ws_xreallocarray(names, n + 1, sizeof(char *));
      names[n++] = ws_xstrdup(e->d_name);
    }
  if (dp)
    closedir(dp);
  if (n > 1)
    qsort(names, n, sizeof(char *), cmp_cstr);
  ws_str path = WS_STR_INIT, data = WS_STR_INIT;
  for (size_t i = 0; i < n; i++) {
    ws_str_clear(&path);
    ws_str_clear(&data);
    ws_str_printf(&path, "%s/%s", dir, names[i]);
    if (error == 0 && (error = read_file(&data, path.ptr)) == 0) {
      ws_digester_str(d, names[i]);
      ws_digester_bytes(d, data.ptr, data.len);
    }
    free(names[i]);
  }
  free(names);
  ws_str_release(&path);
  ws_str_release(&data);
  return error;
}

/* A site's overrides: themes/<name>/NAME.mustache in the source. */
static int digest_overrides(ws_digester *d, ws_theme *t) {
  ws_source_list files = {0};
  ws_str prefix = WS_STR_INIT;
  ws_str_printf(&prefix, "themes/%s", t->name);
  int error = ws_source_list_under(&files, t->src, prefix.ptr);
  ws_str_putc(&prefix, '/');
  for (size_t i = 0; error == 0 && i < files.len; i++) {
    const ws_source_entry *e = &files.items[i];
    const char *rest = e->path + prefix.len;
    if (strncmp(e->path, prefix.ptr, prefix.len) != 0 || strchr(rest, '/') ||
        !is_template_file(rest))
      continue;
    ws_digester_str(d, e->path);
    ws_digester_str(d, e->oid);
    ws_digester_bytes(d, &e->kind, sizeof(e->kind));
  }
  ws_str_release(&prefix);
  ws_source_list_release(&files);
  return error;
}

int ws_theme_digest(ws_theme *t, ws_digest *out) {
  ws_digester *d = ws_digester_new();
  int error = 0;
  for (ws_theme *x = t; x && error == 0; x = x->parent) {
    ws_digester_str(d, x->name);
    error = digest_disk(d, x->dir);
    if (error == 0 && x->src)
      error = digest_overrides(d, x);
  }
  *out = ws_digester_end(d);
  ws_digester_free(d);
  return error;
}

/* --- assets --- */

typedef struct {
  char *rel;
  char *disk; /* path on disk, or NULL when it comes from the source */
  char *src_path;
} asset;

typedef struct {
  asset *items;
  size_t len, cap;
} asset_list;

static void asset_add(asset_list *l, const char *rel, const char *disk,
                      const char *src_path) {
  for (size_t i = 0; i < l->len; i++)
    if (strcmp(l->items[i].rel, rel) == 0) {
      /* A site's own file overrides the theme's. */
      free(l->items[i].disk);
      free(l->items[i].src_path);
      l->items[i].disk = disk ? ws_xstrdup(disk) : NULL;
      l->items[i].src_path = src_path ? ws_xstrdup(src_path) : NULL;
      return;
    }
  if (l->len == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->items = ws_xreallocarray(l->items, l->cap, sizeof(asset));
  }
  asset *a = &l->items[l->len++];
  a->rel = ws_xstrdup(rel);
  a->disk = disk ? ws_xstrdup(disk) : NULL;
  a->src_path = src_path ? ws_xstrdup(src_path) : NULL;
}

static void scan_disk(asset_list *l, const char *root, const char *sub) {
  ws_str dir = WS_STR_INIT;
  ws_str_printf(&dir, "%s%s%s", root, *sub ? "/" : "", sub);
  DIR *d = opendir(dir.ptr);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    ws_str rel = WS_STR_INIT, full = WS_STR_INIT;
    ws_str_printf(&rel, "%s%s%s", sub, *sub ? "/" : "", e->d_name);
    ws_str_printf(&full, "%s/%s", root, rel.ptr);
    struct stat st;
    if (lstat(full.ptr, &st) == 0 && S_ISDIR(st.st_mode))
      scan_disk(l, root, rel.ptr);
    else if (S_ISREG(st.st_mode))
      asset_add(l, rel.ptr, full.ptr, NULL);
    ws_str_release(&rel);
    ws_str_release(&full);
  }
  if (d)
    closedir(d);
  ws_str_release(&dir);
}

static int scan_source(asset_list *l, ws_theme *t) {
  ws_source_list files = {0};
  ws_str prefix = WS_STR_INIT;
  ws_str_printf(&prefix, "themes/%s/assets", t->name);
  int error = ws_source_list_under(&files, t->src, prefix.ptr);
  ws_str_putc(&prefix, '/');
  for (size_t i = 0; error == 0 && i < files.len; i++) {
    const ws_source_entry *e = &files.items[i];
    if (e->kind == WS_ENTRY_FILE &&
        strncmp(e->path, prefix.ptr, prefix.len) == 0)
      asset_add(l, e->path + prefix.len, NULL, e->path);
  }
  ws_str_release(&prefix);
  ws_source_list_release(&files);
  return error;
}

static int cmp_asset(const void *a, const void *b) {
  return strcmp(((const asset *)a)->rel, ((const asset *)b)->rel);
}

/* Parents first, so a theme's own files (and then a site's overrides of
 * them) replace what it inherits. */
static int collect_assets(asset_list *l, ws_theme *t) {
  ws_str root = WS_STR_INIT;
  int error = t->parent ? collect_assets(l, t->parent) : 0;
  ws_str_printf(&root, "%s/assets", t->dir);
  scan_disk(l, root.ptr, "");
  ws_str_release(&root);
  if (error == 0 && t->src)
    error = scan_source(l, t);
  return error;
}

int ws_theme_assets(ws_theme *t, ws_theme_asset_fn fn, void *payload) {
  asset_list l = {0};
  ws_str data = WS_STR_INIT;
  int error = collect_assets(&l, t);
  if (l.len > 1)
    qsort(l.items, l.len, sizeof(asset), cmp_asset);
  for (size_t i = 0; error == 0 && i < l.len; i++) {
    ws_str_clear(&data);
    error = l.items[i].disk
                ? read_file(&data, l.items[i].disk)
                : ws_source_read(&data, t->src, l.items[i].src_path);
    if (error == 0)
      error = fn(l.items[i].rel, data.ptr, data.len, payload);
  }
  for (size_t i = 0; i < l.len; i++) {
    free(l.items[i].rel);
    free(l.items[i].disk);
    free(l.items[i].src_path);
  }
  free(l.items);
  ws_str_release(&data);
  return error;
}
