#include "serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "error.h"
#include "str.h"
#include "xalloc.h"

/* Editors save in bursts (write, rename, chmod); one rebuild per burst. */
#define DEBOUNCE_MS 100

#define WATCH_MASK                                                             \
  (IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM |        \
   IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |      \
   IN_DONT_FOLLOW)

#define VERSION_PATH "/__wholeself/version"

/* Shared between the HTTP thread and the build loop. */
typedef struct {
  pthread_mutex_t mu;
  unsigned long version; /* bumped after every build, good or bad */
  char *error_html;      /* the error page while the last build failed */
  char *root;            /* the private output folder */
} state;

/* Polls the version and reloads when it changes: no socket to keep open and
 * nothing to clean up. It is added only to pages this server sends. */
static const char reload_script[] =
    "<script>(function(v){setInterval(function(){fetch(\"" VERSION_PATH
    "\",{cache:\"no-store\"}).then(function(r){return r.text()}).then("
    "function(t){if(t!==v)location.reload()},function(){})},500)})(\"%lu\")"
    ";</script>\n";

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  int saved = errno;
  unsigned char b = (unsigned char)sig;
  if (write(sig_pipe[1], &b, 1) < 0) {
    /* The loop is already waking up; nothing else to do here. */
  }
  errno = saved;
}

/* --- files ---------------------------------------------------------- */

static const char *content_type(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
      {".pdf", "application/pdf"},
  };
  size_t n = strlen(path);
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    size_t e = strlen(types[i].ext);
    if (n >= e && strcmp(path + n - e, types[i].ext) == 0)
      return types[i].type;
  }
  return "application/octet-stream";
}

static bool is_html(const char *path) {
  size_t n = strlen(path);
  return n >= 5 && strcmp(path + n - 5, ".html") == 0;
}

typedef enum { FOUND, MISSING, FOLDER } lookup;

/* Opens 'url' below 'root' one component at a time with O_NOFOLLOW, so no
 * symlink is followed and '..' never gets a chance to leave the folder.
 * FOLDER means the URL names a folder without its trailing '/'. 'file'
 * receives the path of what was opened (for its type). */
static lookup open_url(int *fd, ws_str *file, const char *root,
                       const char *url) {
  int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char *p = url;
  lookup result = MISSING;
  *fd = -1;
  while (dir >= 0) {
    while (*p == '/')
      p++;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    ws_str name = WS_STR_INIT;
    ws_str_put(&name, p, len);
    if (len == 0)
      ws_str_puts(&name, "index.html");
    if (name.ptr[0] == '.' || strchr(name.ptr, '\\')) {
      ws_str_release(&name);
      break;
    }
    int next = openat(dir, name.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    bool ok = next >= 0 && fstat(next, &st) == 0;
    if (file->len)
      ws_str_putc(file, '/');
    ws_str_puts(file, name.ptr);
    ws_str_release(&name);
    close(dir);
    dir = -1;
    if (!ok) {
      if (next >= 0)
        close(next);
      break;
    }
    if (S_ISREG(st.st_mode) && !end) {
      *fd = next;
      result = FOUND;
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      close(next);
      break;
    }
    if (!end) {
      close(next);
      result = FOLDER;
      break;
    }
    dir = next;
    p = end;
  }
  if (dir >= 0)
    close(dir);
  return result;
}

static bool read_fd(ws_str *out, int fd) {
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    ws_str_put(out, buf, (size_t)n);
  return n == 0;
}

/* --- responses ------------------------------------------------------ */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status,
                               struct MHD_Response *r, const char *type) {
  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
                                 const char *text, const char *type) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
  return respond(c, status, r, type);
}

/* HTML goes out from memory with the reload script before </body>. */
static enum MHD_Result send_html(struct MHD_Connection *c, unsigned status,
                                 const char *html, size_t len,
                                 unsigned long version) {
  ws_str page = WS_STR_INIT;
  const char *body = NULL;
  for (const char *p = html; (p = strstr(p, "</body>")) && p < html + len; p++)
    body = p;
  size_t head = body ? (size_t)(body - html) : len;
  ws_str_put(&page, html, head);
  ws_str_printf(&page, reload_script, version);
  ws_str_put(&page, html + head, len - head);
  struct MHD_Response *r = MHD_create_response_from_buffer(
      page.len, page.ptr, MHD_RESPMEM_MUST_COPY);
  ws_str_release(&page);
  return respond(c, status, r, "text/html; charset=utf-8");
}

static enum MHD_Result send_file(struct MHD_Connection *c, unsigned status,
                                 int fd, const char *path,
                                 unsigned long version) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return send_text(c, 500, "cannot read the file\n", "text/plain");
  }
  if (is_html(path)) {
    ws_str html = WS_STR_INIT;
    bool ok = read_fd(&html, fd);
    close(fd);
    enum MHD_Result ret =
        ok ? send_html(c, status, html.ptr, html.len, version)
           : send_text(c, 500, "cannot read the file\n", "text/plain");
    ws_str_release(&html);
    return ret;
  }
  /* libmicrohttpd owns 'fd' from here and closes it. */
  struct MHD_Response *r =
      MHD_create_response_from_fd((uint64_t)st.st_size, fd);
  if (!r)
    close(fd);
  return respond(c, status, r, content_type(path));
}

static enum MHD_Result send_not_found(struct MHD_Connection *c,
                                      const char *root, unsigned long version) {
  int fd = -1;
  ws_str file = WS_STR_INIT;
  enum MHD_Result ret;
  if (open_url(&fd, &file, root, "/404.html") == FOUND)
    ret = send_file(c, MHD_HTTP_NOT_FOUND, fd, "404.html", version);
  else
    ret = send_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n",
                    "text/plain; charset=utf-8");
  ws_str_release(&file);
  return ret;
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *url) {
  ws_str to = WS_STR_INIT;
  struct MHD_Response *r = MHD_create_response_from_buffer(
      0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
  ws_str_printf(&to, "%s/", url);
  if (r)
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to.ptr);
  ws_str_release(&to);
  return respond(c, MHD_HTTP_MOVED_PERMANENTLY, r, "text/plain");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **req) {
  state *s = cls;
  (void)version;
  (void)upload;
  (void)upload_size;
  (void)req;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n",
                     "text/plain");
  pthread_mutex_lock(&s->mu);
  unsigned long v = s->version;
  char *error_html = s->error_html ? ws_xstrdup(s->error_html) : NULL;
  pthread_mutex_unlock(&s->mu);
  enum MHD_Result ret;
  ws_str file = WS_STR_INIT, num = WS_STR_INIT;
  int fd = -1;
  lookup found = MISSING;
  if (strcmp(url, VERSION_PATH) == 0) {
    ws_str_printf(&num, "%lu", v);
    ret = send_text(c, MHD_HTTP_OK, num.ptr, "text/plain");
  } else if (url[0] != '/') {
    ret = send_text(c, MHD_HTTP_BAD_REQUEST, "bad request\n", "text/plain");
  } else if ((found = open_url(&fd, &file, s->root, url)) == FOLDER) {
    ret = redirect(c, url);
  } else if (error_html && (found == MISSING || is_html(file.ptr))) {
    if (fd >= 0)
      close(fd);
    ret = send_html(c, MHD_HTTP_INTERNAL_SERVER_ERROR, error_html,
                    strlen(error_html), v);
  } else if (found == FOUND) {
    ret = send_file(c, MHD_HTTP_OK, fd, file.ptr, v);
  } else {
    ret = send_not_found(c, s->root, v);
  }
  free(error_html);
  ws_str_release(&file);
  ws_str_release(&num);
  return ret;
}

/* --- watching ------------------------------------------------------- */

/* Watches 'path' and every folder below it; adding a watch twice is
 * harmless, so the whole tree is walked again before every build and new
 * folders are never missed. */
static void watch_tree(int ino, const char *path) {
  if (inotify_add_watch(ino, path, WATCH_MASK) < 0)
    return;
  DIR *d = opendir(path);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue; /* ., .., .git and editor files */
    ws_str sub = WS_STR_INIT;
    struct stat st;
    ws_str_printf(&sub, "%s/%s", path, e->d_name);
    if (lstat(sub.ptr, &st) == 0 && S_ISDIR(st.st_mode))
      watch_tree(ino, sub.ptr);
    ws_str_release(&sub);
  }
  if (d)
    closedir(d);
}

/* Swap files and backups of editors change on every keystroke. */
static bool ignored_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0)
    return false;
  if (name[0] == '.' || name[n - 1] == '~')
    return true;
  return n > 4 && (strcmp(name + n - 4, ".swp") == 0 ||
                   strcmp(name + n - 4, ".swx") == 0);
}

/* Reads pending events; returns whether any of them matters. */
static bool drain(int ino) {
  char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
  bool changed = false;
  ssize_t n;
  while ((n = read(ino, buf, sizeof(buf))) > 0) {
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (!(ev->mask & IN_IGNORED) && !(ev->len && ignored_name(ev->name)))
        changed = true;
      p += sizeof(*ev) + ev->len;
    }
  }
  return changed;
}

/* --- the build loop ------------------------------------------------- */

typedef struct {
  const ws_serve_opts *opts;
  state *st;
  ws_build_stats stats;
  char *watch[3]; /* content, theme, parent theme: the last ones known */
  int ino;
} server;

static void error_page(ws_str *page, const ws_diag *diag, const char *msg) {
  ws_str text = WS_STR_INIT;
  ws_diag_format(&text, diag, WS_DIAG_TEXT);
  if (msg && *msg)
    ws_str_printf(&text, "%s\n", msg);
  ws_str_puts(page,
              "<!doctype html>\n<html lang=\"en\">\n<head>\n"
              "<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, "
              "initial-scale=1\">\n"
              "<title>Build failed · wholeself</title>\n"
              "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;"
              "color:#1a1a1a}h1{color:#b00020;font-size:1.4rem}pre{"
              "background:#fff4f4;border-left:4px solid #b00020;padding:1rem;"
              "white-space:pre-wrap;overflow-wrap:anywhere}</style>\n"
              "</head>\n<body>\n<h1>The site did not build</h1>\n"
              "<p>Fix the problems below and save: this page reloads by "
              "itself.</p>\n<pre id=\"wholeself-errors\">");
  ws_str_put_html(page, text.ptr, text.len);
  ws_str_puts(page, "</pre>\n</body>\n</html>\n");
  ws_str_release(&text);
}

static void remember(char **slot, const char *path) {
  if (!path || (*slot && strcmp(*slot, path) == 0))
    return;
  free(*slot);
  *slot = ws_xstrdup(path);
}

/* Builds once; returns 0, or the build's error when nothing could be read
 * at all (no repository), which stops the server before it starts. */
static int rebuild(server *sv) {
  ws_diag diag = WS_DIAG_INIT;
  ws_str page = WS_STR_INIT;
  ws_build_opts bo = sv->opts->build;
  bo.out = sv->st->root;
  bo.log = sv->opts->quiet ? NULL : stderr;
  for (size_t i = 0; i < 3; i++)
    if (sv->watch[i])
      watch_tree(sv->ino, sv->watch[i]);
  int error = ws_build_run(&sv->stats, &bo, &diag);
  remember(&sv->watch[0], sv->stats.content_dir);
  remember(&sv->watch[1], sv->stats.theme_dir);
  remember(&sv->watch[2], sv->stats.parent_dir);
  for (size_t i = 0; i < 3; i++)
    if (sv->watch[i])
      watch_tree(sv->ino, sv->watch[i]);
  if (diag.len && (error < 0 || !sv->opts->quiet))
    ws_build_print_diags(stderr, &diag, WS_DIAG_TEXT);
  if (error < 0) {
    bool color = ws_build_color(stderr);
    fprintf(stderr, "wholeself: %s%s%s\n", color ? "\033[1;31m" : "",
            ws_error_last(), color ? "\033[0m" : "");
    error_page(&page, &diag, ws_error_last());
  }
  pthread_mutex_lock(&sv->st->mu);
  sv->st->version++;
  free(sv->st->error_html);
  sv->st->error_html = error < 0 ? ws_str_detach(&page) : NULL;
  pthread_mutex_unlock(&sv->st->mu);
  ws_str_release(&page);
  ws_diag_release(&diag);
  return sv->watch[0] ? 0 : error;
}

static int loop(server *sv) {
  bool dirty = false;
  for (;;) {
    struct pollfd fds[2] = {{sig_pipe[0], POLLIN, 0}, {sv->ino, POLLIN, 0}};
    int n = poll(fds, 2, dirty ? DEBOUNCE_MS : -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return ws_error(WS_ERROR, "poll: %s", strerror(errno));
    if (fds[0].revents)
      return 0;
    if (n == 0 && dirty) {
      dirty = false;
      rebuild(sv);
    } else if (fds[1].revents & POLLIN) {
      dirty = drain(sv->ino) || dirty;
    }
  }
}

/* --- set-up --------------------------------------------------------- */

static void remove_tree(int parent, const char *name) {
  int fd =
      openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno == EISDIR)
      remove_tree(dirfd(d), e->d_name);
  }
  if (d)
    closedir(d);
  else if (fd >= 0)
    close(fd);
  unlinkat(parent, name, AT_REMOVEDIR);
}

static struct MHD_Daemon *start(const ws_serve_opts *o, state *st,
                                unsigned *port) {
  const char *host = o->host ? o->host : "127.0.0.1";
  struct sockaddr_in a4 = {0};
  struct sockaddr_in6 a6 = {0};
  const struct sockaddr *addr;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)o->port);
    addr = (const struct sockaddr *)&a4;
  } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)o->port);
    addr = (const struct sockaddr *)&a6;
    flags |= MHD_USE_IPv6;
  } else {
    ws_error(WS_EINVALID, "--host needs an IP address, not '%s'", host);
    return NULL;
  }
  struct MHD_Daemon *d =
      MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handle, st,
                       MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_END);
  if (!d) {
    ws_error(WS_ERROR, "cannot listen on %s port %u (in use?)", host, o->port);
    return NULL;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  *port = info ? info->port : o->port;
  return d;
}

static int make_root(char **tmp, char **root) {
  const char *base = getenv("TMPDIR");
  ws_str t = WS_STR_INIT;
  ws_str_printf(&t, "%s/wholeself-serve-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(t.ptr)) {
    int e = ws_error(WS_ERROR, "cannot make a folder in %s: %s",
                     base && *base ? base : "/tmp", strerror(errno));
    ws_str_release(&t);
    return e;
  }
  ws_str r = WS_STR_INIT;
  ws_str_printf(&r, "%s/site", t.ptr);
  *tmp = ws_str_detach(&t);
  *root = ws_str_detach(&r);
  return 0;
}

static void handle_signals(bool on) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on ? on_signal : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on ? SIG_IGN : SIG_DFL;
  sigaction(SIGPIPE, &sa, NULL);
}

int ws_serve_run(const ws_serve_opts *opts) {
  state st = {PTHREAD_MUTEX_INITIALIZER, 0, NULL, NULL};
  server sv = {opts, &st, WS_BUILD_STATS_INIT, {NULL, NULL, NULL}, -1};
  struct MHD_Daemon *daemon = NULL;
  char *tmp = NULL;
  unsigned port = 0;
  int error;
  if ((error = make_root(&tmp, &st.root)) < 0)
    goto cleanup;
  if (pipe(sig_pipe) < 0 ||
      (sv.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
    error = ws_error(WS_ERROR, "cannot watch files: %s", strerror(errno));
    goto cleanup;
  }
  fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
  handle_signals(true);
  if ((error = rebuild(&sv)) < 0)
    goto cleanup;
  if (!(daemon = start(opts, &st, &port))) {
    error = WS_ERROR;
    goto cleanup;
  }
  fprintf(stderr, "wholeself: serving http://%s%s%s:%u/ (Ctrl-C to stop)\n",
          strchr(opts->host ? opts->host : "", ':') ? "[" : "",
          opts->host ? opts->host : "127.0.0.1",
          strchr(opts->host ? opts->host : "", ':') ? "]" : "", port);
  fflush(stderr);
  error = loop(&sv);
  if (!opts->quiet)
    fprintf(stderr, "wholeself: stopped\n");
cleanup:
  if (daemon)
    MHD_stop_daemon(daemon);
  handle_signals(false);
  for (size_t i = 0; i < 2; i++)
    if (sig_pipe[i] >= 0) {
      close(sig_pipe[i]);
      sig_pipe[i] = -1;
    }
  if (sv.ino >= 0)
    close(sv.ino);
  if (tmp)
    remove_tree(AT_FDCWD, tmp);
  for (size_t i = 0; i < 3; i++)
    free(sv.watch[i]);
  ws_build_stats_release(&sv.stats);
  free(st.error_html);
  free(st.root);
  free(tmp);
  pthread_mutex_destroy(&st.mu);
  return error;
}
