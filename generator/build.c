#include "build.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#include "error.h"
#include "match.h"
#include "output.h"
#include "report.h"
#include "site.h"
#include "str.h"
#include "theme.h"
#include "xalloc.h"

/* A build shorter than this never shows a progress line: flicker on every
 * small build would be noise. */
#define PROGRESS_DELAY 0.3

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long build_time(const ws_source *src) {
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  if (sde && *sde) {
    char *end;
    long long t = strtoll(sde, &end, 10);
    if (!*end && t >= 0)
      return t;
  }
  return ws_source_commit_time(src);
}

/* The progress line is drawn by a thread that samples the stage and the
 * writer, so neither the loader nor the renderer needs hooks, and their
 * worker threads no shared counter. */
typedef struct {
  FILE *log;
  const char *stage; /* what is being done, for the line */
  ws_output *out;    /* while rendering: pages written so far */
  double t0;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop, drawn;
} progress;

typedef struct {
  const ws_build_opts *opts;
  double t0, stage;
  progress *p; /* NULL: no progress line */
} timer;

/* Names the next stage on the progress line. */
static void progress_set(timer *tm, const char *stage, ws_output *out) {
  if (!tm->p)
    return;
  pthread_mutex_lock(&tm->p->mu);
  tm->p->stage = stage;
  tm->p->out = out;
  pthread_mutex_unlock(&tm->p->mu);
}

static void stage_done(timer *tm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void stage_done(timer *tm, const char *fmt, ...) {
  double t = now();
  if (tm->opts->log && tm->opts->verbose) {
    va_list ap;
    if (tm->p) {
      pthread_mutex_lock(&tm->p->mu);
      if (tm->p->drawn)
        fputs("\r\033[K", tm->opts->log);
      tm->p->drawn = false;
    }
    fprintf(tm->opts->log, "wholeself: %7.3f s  ", t - tm->stage);
    va_start(ap, fmt);
    vfprintf(tm->opts->log, fmt, ap);
    va_end(ap);
    fputc('\n', tm->opts->log);
    if (tm->p)
      pthread_mutex_unlock(&tm->p->mu);
  }
  tm->stage = t;
}

static void *progress_main(void *payload) {
  progress *p = payload;
  pthread_mutex_lock(&p->mu);
  while (!p->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000 * 1000;
    if (ts.tv_nsec >= 1000 * 1000 * 1000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000 * 1000 * 1000;
    }
    pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    if (p->stop || now() - p->t0 < PROGRESS_DELAY)
      continue;
    fprintf(p->log, "\r\033[Kwholeself: %s...", p->stage);
    if (p->out)
      fprintf(p->log, " %zu pages", ws_output_pages(p->out));
    fflush(p->log);
    p->drawn = true;
  }
  if (p->drawn) {
    fputs("\r\033[K", p->log);
    fflush(p->log);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* A rebuild opens its output folder on a thread of its own while the
 * profiles load: reading the record of the last two sites (10,000 pages
 * each at 10,000 profiles) took 15 ms of a 250 ms rebuild, with one core
 * idle. A first build opens it when it renders, as before, so one that
 * fails leaves nothing behind. */
typedef struct {
  pthread_t thread;
  bool started;
  const char *dir;
  ws_output *out;
  int error;
  char message[1024]; /* the thread's error message */
} opener;

static void *open_main(void *payload) {
  opener *op = payload;
  op->error = ws_output_open(&op->out, op->dir);
  if (op->error < 0)
    snprintf(op->message, sizeof(op->message), "%s", ws_error_last());
  return NULL;
}

static void opener_start(opener *op, const char *dir) {
  struct stat st;
  op->dir = dir;
  if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    op->started = pthread_create(&op->thread, NULL, open_main, op) == 0;
}

/* The output folder, from the thread or opened now. */
static int opener_take(opener *op, ws_output **out) {
  if (!op->started)
    return ws_output_open(out, op->dir);
  pthread_join(op->thread, NULL);
  op->started = false;
  *out = op->out;
  op->out = NULL;
  return op->error < 0 ? ws_error(op->error, "%s", op->message) : 0;
}

/* Closes what the thread opened when the build stopped before using it;
 * the published site is as it was. */
static void opener_drop(opener *op) {
  if (op->started)
    pthread_join(op->thread, NULL);
  op->started = false;
  ws_output_free(op->out);
  op->out = NULL;
}

/* Freeing a site of 10,000 profiles takes about 10 ms; a thread does it
 * while the new site is published, which waits on the file system. */
static void *free_main(void *payload) {
  ws_site_free(payload);
  return NULL;
}

static bool free_beside(pthread_t *thread, ws_site **site) {
  if (!*site || pthread_create(thread, NULL, free_main, *site) != 0)
    return false;
  *site = NULL;
  return true;
}

/* Renders 'site' and publishes it. With 'own', the site is freed beside
 * the publishing (and *own set to NULL): nothing reads it after rendering. */
static int render(ws_build_stats *st, const ws_build_opts *o, timer *tm,
                  ws_source *src, const ws_site *site, opener *op,
                  ws_site **own) {
  ws_theme *theme = NULL;
  ws_output *out = NULL;
  ws_render_opts ro = o->render;
  ws_render_stats rs = {0};
  const char *name =
      o->theme ? o->theme : ws_site_config(site, "theme", "default");
  int error;
  if (ro.build_time == 0)
    ro.build_time = build_time(src);
  if ((error = ws_theme_open(&theme, name, src)) < 0)
    goto cleanup;
  st->theme_dir = ws_xstrdup(ws_theme_dir(theme));
  if (ws_theme_parent(theme))
    st->parent_dir = ws_xstrdup(ws_theme_dir(ws_theme_parent(theme)));
  stage_done(tm, "theme %s (%s)", name, st->theme_dir);
  if ((error = opener_take(op, &out)) < 0)
    goto cleanup;
  progress_set(tm, "rendering", out);
  ro.stats = &rs;
  error = ws_render_site(site, theme, src, out, &ro);
  progress_set(tm, "publishing", NULL);
  if (error < 0)
    goto cleanup;
  st->files = ws_output_count(out);
  st->pages = ws_output_pages(out);
  st->reused = ws_output_reused(out);
  st->by_record = ws_output_kept_by_record(out);
  stage_done(tm,
             "rendered %zu pages, kept %zu unchanged (%zu by their folder's "
             "record); %zu files",
             st->pages - st->reused, st->reused, st->by_record, st->files);
  if (rs.context_cache_used)
    stage_done(tm,
               "person contexts: %zu made, %zu known by their digests "
               "in the context cache%s%s",
               rs.contexts_made, rs.contexts_recorded,
               rs.context_cache ? "; its file was not used: " : "",
               rs.context_cache ? rs.context_cache : "");
  pthread_t freeing;
  bool freed = own && free_beside(&freeing, own);
  error = ws_output_commit(out, ro.jobs);
  if (freed)
    pthread_join(freeing, NULL);
  if (error < 0)
    goto cleanup;
  stage_done(tm, "published %s/", o->out);
cleanup:
  ws_output_free(out);
  ws_theme_free(theme);
  return error;
}

static int build(ws_build_stats *out, const ws_build_opts *opts, ws_diag *diag,
                 timer *tm);

int ws_build_run(ws_build_stats *out, const ws_build_opts *opts,
                 ws_diag *diag) {
  progress p = {opts->log,
                "reading",
                NULL,
                now(),
                PTHREAD_MUTEX_INITIALIZER,
                PTHREAD_COND_INITIALIZER,
                false,
                false};
  timer tm = {opts, p.t0, p.t0, NULL};
  pthread_t thread;
  if (opts->log && opts->progress &&
      pthread_create(&thread, NULL, progress_main, &p) == 0)
    tm.p = &p;
  int error = build(out, opts, diag, &tm);
  if (tm.p) {
    pthread_mutex_lock(&p.mu);
    p.stop = true;
    pthread_cond_signal(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(thread, NULL);
  }
  pthread_cond_destroy(&p.cv);
  pthread_mutex_destroy(&p.mu);
  if (error == 0 && opts->log)
    fprintf(opts->log,
            "wholeself: built %zu profiles, %zu pages (%zu files) into %s/ "
            "from %s in %.2f s\n",
            out->profiles, out->pages, out->files, opts->out,
            out->source ? out->source : "", out->seconds);
  return error;
}

/* Makes the mentoring matches, once. */
static void match(ws_site *site, ws_source *src, const ws_build_opts *opts,
                  timer *tm) {
  if (site->matches)
    return;
  ws_site_match(site, src, opts->render.jobs);
  stage_done(tm, "mentoring: %zu suggested pairs, %zu unmet, %zu circles%s",
             site->matches->npairs, site->matches->nunmet,
             site->matches->ncircles,
             site->matches_cached ? " (from the cache)" : "");
}

static int build(ws_build_stats *out, const ws_build_opts *opts, ws_diag *diag,
                 timer *tm) {
  ws_source *src = NULL;
  ws_site *site = NULL;
  ws_history_walk *walk = NULL;
  opener op = {0};
  int error;
  ws_build_stats_release(out);
  opener_start(&op, opts->out);
  if ((error = ws_source_open(&src, &opts->src)) < 0)
    goto cleanup;
  if (ws_source_workdir(src)) {
    ws_str dir = WS_STR_INIT;
    const char *content = ws_source_content(src);
    ws_str_printf(&dir, "%s%s%s", ws_source_workdir(src), *content ? "/" : "",
                  content);
    out->content_dir = ws_str_detach(&dir);
  }
  out->source = ws_xstrdup(ws_source_describe(src));
  stage_done(tm, "source %s", out->source);
  /* The walk runs beside loading and matching: see ws_site_history_start. */
  if (!opts->no_history)
    walk = ws_site_history_start(src, opts->render.jobs);
  progress_set(tm, "loading profiles", NULL);
  if ((error = ws_site_load_jobs(&site, src, opts->render.jobs, diag)) < 0)
    goto cleanup;
  out->profiles = site->npeople;
  stage_done(tm, "loaded %zu profiles (%zu from the profile cache: %s)",
             site->npeople, site->profiles_cached,
             site->profile_cache ? site->profile_cache : "not used");
  if (site->profile_cache_ignored)
    stage_done(tm, "profile cache ignored: %s", site->profile_cache_ignored);
  /* Matching is wasted on a site that will not be built. */
  if (ws_diag_count(diag, WS_DIAG_ERROR) == 0) {
    progress_set(tm, "matching mentors", NULL);
    match(site, src, opts, tm);
  }
  if (walk) {
    progress_set(tm, "reading history", NULL);
    error = ws_site_history_finish(site, walk, diag);
    walk = NULL;
    if (error < 0)
      goto cleanup;
    stage_done(tm,
               "history: %zu profile changes, %zu commits walked, "
               "cache %s",
               site->nevents, site->history_walked,
               site->history_cache ? site->history_cache : "not used");
    if (site->history_cache_ignored)
      stage_done(tm, "history cache ignored: %s", site->history_cache_ignored);
  }
  size_t errors = ws_diag_count(diag, WS_DIAG_ERROR);
  if (opts->loaded ? !opts->loaded(diag, opts->payload) : errors > 0) {
    error = ws_error(WS_EINVALID, "%zu error%s; the site was not built", errors,
                     errors == 1 ? "" : "s");
    goto cleanup;
  }
  match(site, src, opts, tm);
#ifdef __GLIBC__
  /* Parsing and matching freed far more than the profiles keep (cmark
   * trees, front matter, the walk's work): glibc holds it in pieces the
   * page contexts rarely fit. Handing it back lowers the peak of a cold
   * 10,000-profile build by about 45 MB, at no measurable cost. */
  malloc_trim(0);
#endif
  progress_set(tm, "rendering", NULL);
  /* --report-json reads the site after publishing. */
  if ((error = render(out, opts, tm, src, site, &op,
                      opts->report_json ? NULL : &site)) < 0)
    goto cleanup;
  if (opts->report_json &&
      (error = ws_report_write_json(opts->report_json, site,
                                    opts->render.build_time
                                        ? opts->render.build_time
                                        : build_time(src))) < 0)
    goto cleanup;
  out->seconds = now() - tm->t0;
cleanup:
  opener_drop(&op);
  if (walk)
    ws_site_history_finish(NULL, walk, NULL);
  ws_site_free(site);
  ws_source_free(src);
  return error;
}

void ws_build_stats_release(ws_build_stats *st) {
  free(st->theme_dir);
  free(st->parent_dir);
  free(st->content_dir);
  free(st->source);
  *st = (ws_build_stats)WS_BUILD_STATS_INIT;
}

bool ws_build_color(FILE *f) {
  const char *no = getenv("NO_COLOR");
  const char *term = getenv("TERM");
  if (no && *no)
    return false;
  if (term && strcmp(term, "dumb") == 0)
    return false;
  return isatty(fileno(f)) == 1;
}

/* Colours the severity word of each "path:line:col: severity: message"
 * line; the text itself is what ws_diag_format made. */
static void colorize(ws_str *out, const char *text) {
  static const struct {
    const char *word, *color;
  } sev[] = {{": error:", "\033[1;31m"}, {": warning:", "\033[1;33m"}};
  while (*text) {
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text + 1) : strlen(text);
    const char *hit = NULL;
    size_t k = 0;
    for (size_t i = 0; i < 2 && !hit; i++) {
      hit = strstr(text, sev[i].word);
      if (hit && hit >= text + len)
        hit = NULL;
      k = i;
    }
    if (hit) {
      size_t wlen = strlen(sev[k].word) - 1; /* without the last ':' */
      ws_str_put(out, text, (size_t)(hit - text) + 2);
      ws_str_printf(out, "%s%.*s\033[0m", sev[k].color, (int)(wlen - 2),
                    hit + 2);
      ws_str_put(out, hit + wlen, len - (size_t)(hit - text) - wlen);
    } else {
      ws_str_put(out, text, len);
    }
    text += len;
  }
}

void ws_build_print_diags(FILE *f, ws_diag *d, ws_diag_style style) {
  ws_str text = WS_STR_INIT, colored = WS_STR_INIT;
  ws_diag_sort(d);
  ws_diag_format(&text, d, style);
  if (style == WS_DIAG_TEXT && ws_build_color(f)) {
    colorize(&colored, text.ptr);
    fputs(colored.ptr, f);
  } else {
    fputs(text.ptr, f);
  }
  ws_str_release(&text);
  ws_str_release(&colored);
}
