/* The authoring and CI workflow, end to end: serve, init, the post-receive
 * hook, themes, make install and the man page. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontmatter.h"
#include "helpers.h"
#include "init.h"
#include "value.h"

static const char bo[] = "---\nname: Bo Lindqvist\nteam: Data\n"
                         "strengths: [SQL]\n---\n## Background\n\nHello.\n";

static const char broken[] = "---\nname: Bo Lindqvist\nstrengths: [SQL\n"
                             "---\nHello.\n";

static char *path_join(const char *a, const char *b) {
  ws_str s = WS_STR_INIT;
  ws_str_printf(&s, "%s/%s", a, b);
  return ws_str_detach(&s);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A binary in a nested build folder (build/asan/) has no ../themes: point
 * it, and the hooks and servers it starts, at the source tree's. */
static void setup(void) {
  ws_str dir = WS_STR_INIT;
  ws_str_printf(&dir, "%s/themes", th_root());
  setenv("WHOLESELF_THEMES", dir.ptr, 0);
  ws_str_release(&dir);
}

TestSuite(workflow, .init = setup);

/* --- serve ---------------------------------------------------------- */

typedef struct {
  pid_t pid;
  char *err_path; /* the server's stderr */
  unsigned port;
} server;

/* Starts 'wholeself serve -C repo --port 0' with TMPDIR 'tmp'; the port
 * is read from the line it prints. The server dies with the test. */
static server serve_start(const char *repo, const char *tmp) {
  server s = {0, path_join(tmp, "serve.err"), 0};
  fflush(NULL);
  s.pid = fork();
  cr_assert(s.pid >= 0);
  if (s.pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE *f = freopen(s.err_path, "w", stderr);
    if (!f || !freopen("/dev/null", "w", stdout))
      _exit(127);
    setenv("TMPDIR", tmp, 1);
    execl(th_bin(), th_bin(), "serve", "-C", repo, "--port", "0", NULL);
    _exit(127);
  }
  for (int i = 0; i < 200 && !s.port; i++) {
    char *log = th_read(s.err_path, NULL);
    const char *at = log ? strstr(log, "serving http://127.0.0.1:") : NULL;
    if (at)
      s.port =
          (unsigned)strtoul(at + strlen("serving http://127.0.0.1:"), NULL, 10);
    free(log);
    if (!s.port)
      sleep_ms(50);
  }
  cr_assert(s.port > 0, "serve did not start");
  return s;
}

static int serve_stop(server *s) {
  int status = 0;
  kill(s->pid, SIGTERM);
  waitpid(s->pid, &status, 0);
  free(s->err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* One HTTP/1.0 request with the raw 'target'; returns the status and the
 * whole response (headers and body) in 'out'. */
static int http_get(ws_str *out, unsigned port, const char *target) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert(fd >= 0);
  ws_str_clear(out);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    close(fd);
    return -1;
  }
  ws_str req = WS_STR_INIT;
  ws_str_printf(&req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", target);
  cr_assert(write(fd, req.ptr, req.len) == (ssize_t)req.len);
  ws_str_release(&req);
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    ws_str_put(out, buf, (size_t)n);
  close(fd);
  int status = -1;
  if (sscanf(out->ptr, "HTTP/1.%*d %d", &status) != 1)
    return -1;
  return status;
}

/* Polls 'target' until it answers 'status' with 'needle' in it (5 s). */
static bool wait_for(ws_str *out, unsigned port, const char *target, int status,
                     const char *needle) {
  for (int i = 0; i < 100; i++) {
    if (http_get(out, port, target) == status && strstr(out->ptr, needle))
      return true;
    sleep_ms(50);
  }
  return false;
}

static char *serve_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "site.yml", "title: Serve Team\n");
  th_write(repo, "people/bo-lindqvist.md", bo);
  th_repo_commit_all(repo, "Add Bo", "Ada <ada@example.org>", 1700000000);
  return repo;
}

Test(workflow, serve_answers_on_loopback_with_reload_script) {
  char *repo = serve_repo(), *tmp = th_tmpdir();
  ws_str r = WS_STR_INIT;
  server s = serve_start(repo, tmp);
  cr_expect_eq(http_get(&r, s.port, "/"), 200);
  cr_expect(strstr(r.ptr, "Content-Type: text/html"), "%s", r.ptr);
  cr_expect(strstr(r.ptr, "Bo Lindqvist"));
  cr_expect(strstr(r.ptr, "/__wholeself/version"), "no reload script");
  char *end = strstr(r.ptr, "</body>");
  cr_expect(end && strstr(r.ptr, "<script>(function(v)") < end,
            "the script goes before </body>");
  cr_expect_eq(http_get(&r, s.port, "/people"), 301);
  cr_expect(strstr(r.ptr, "Location: /people/"));
  cr_expect_eq(http_get(&r, s.port, "/people/bo-lindqvist/"), 200);
  cr_expect_eq(http_get(&r, s.port, "/assets/style.css"), 200);
  cr_expect(strstr(r.ptr, "Content-Type: text/css"));
  cr_expect(!strstr(r.ptr, "__wholeself"), "no script outside HTML");
  cr_expect_eq(http_get(&r, s.port, "/no/such/page/"), 404);
  cr_expect(strstr(r.ptr, "Page not found"), "404.html is served");
  cr_expect_eq(http_get(&r, s.port, "/__wholeself/version"), 200);
  /* Nothing outside the private folder, whatever the path says. */
  cr_expect_eq(http_get(&r, s.port, "/../../../../etc/passwd"), 404);
  cr_expect_eq(http_get(&r, s.port, "/%2e%2e/%2e%2e/etc/passwd"), 404);
  cr_expect(!strstr(r.ptr, "root:"));
  cr_expect_eq(serve_stop(&s), 0);
  ws_str_release(&r);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(workflow, serve_rebuilds_shows_errors_and_recovers, .timeout = 60) {
  char *repo = serve_repo(), *tmp = th_tmpdir();
  ws_str r = WS_STR_INIT;
  server s = serve_start(repo, tmp);
  cr_assert(wait_for(&r, s.port, "/", 200, "Bo Lindqvist"));

  /* An edit shows up without a restart. */
  th_write(repo, "people/cy-okoro.md", "---\nname: Cy Okoro\n---\nHi.\n");
  cr_expect(wait_for(&r, s.port, "/", 200, "Cy Okoro"), "%s", r.ptr);

  /* A broken edit: every HTML request gets the escaped diagnostics. */
  th_write(repo, "people/bo-lindqvist.md", broken);
  cr_expect(wait_for(&r, s.port, "/", 500, "wholeself-errors"), "%s", r.ptr);
  cr_expect(strstr(r.ptr, "people/bo-lindqvist.md:"), "%s", r.ptr);
  const char *pre = strstr(r.ptr, "<pre id=\"wholeself-errors\">");
  const char *pre_end = pre ? strstr(pre, "</pre>") : NULL;
  cr_assert(pre && pre_end);
  pre += strlen("<pre id=\"wholeself-errors\">");
  cr_expect(pre_end > pre, "diagnostics on the page");
  for (const char *p = pre; p < pre_end; p++)
    cr_expect(!strchr("<>\"'", *p), "unescaped '%c' in %.*s", *p,
              (int)(pre_end - pre), pre);
  cr_expect(strstr(r.ptr, "/__wholeself/version"), "the error page reloads");
  cr_expect_eq(http_get(&r, s.port, "/people/cy-okoro/"), 500);
  cr_expect_eq(http_get(&r, s.port, "/assets/style.css"), 200,
               "assets of the last good build stay");

  /* The next good save recovers. */
  th_write(repo, "people/bo-lindqvist.md", bo);
  cr_expect(wait_for(&r, s.port, "/", 200, "Bo Lindqvist"), "%s", r.ptr);
  cr_expect(!strstr(r.ptr, "wholeself-errors"));

  /* New subfolders are watched: a site override made in fresh folders. */
  th_write(repo, "themes/default/404.mustache",
           "{{<base}}{{$content}}<p>Lost? OVERRIDDEN-404</p>{{/content}}"
           "{{/base}}");
  cr_expect(wait_for(&r, s.port, "/nowhere/", 404, "OVERRIDDEN-404"), "%s",
            r.ptr);

  char *log = th_read(s.err_path, NULL);
  cr_expect(log && strstr(log, "people/bo-lindqvist.md:"),
            "diagnostics in the terminal: %s", log);
  cr_expect(log && strstr(log, "wholeself: built 2 profiles"), "%s", log);
  free(log);
  cr_expect_eq(serve_stop(&s), 0);
  /* The private folder is gone after a clean shutdown. */
  ws_str ls = WS_STR_INIT;
  ws_str_printf(&ls, "ls -A '%s' | grep -q wholeself-serve", tmp);
  cr_expect_neq(system(ls.ptr), 0, "the private folder was removed");
  ws_str_release(&ls);
  ws_str_release(&r);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(workflow, serve_rejects_bad_options) {
  ws_str err = WS_STR_INIT;
  const char *port[] = {"serve", "--port", "70000", NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, port), 2);
  cr_expect(strstr(err.ptr, "invalid port"));
  const char *ref[] = {"serve", "--ref", "HEAD~1", NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, ref), 2);
  ws_str_release(&err);
}

/* --- init ----------------------------------------------------------- */

Test(workflow, init_makes_a_repository_that_checks_and_builds) {
  char *tmp = th_tmpdir(), *team = path_join(tmp, "team"),
       *pub = path_join(tmp, "public");
  ws_str err = WS_STR_INIT;
  const char *init[] = {"init", team, NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, init), 0, "%s", err.ptr);
  const char *check[] = {"check", "-C", team, "--strict", NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, check), 0, "%s", err.ptr);
  /* Built from HEAD, not the files: the first commit holds everything. */
  const char *build[] = {"build", "-C", team, "--out", pub, NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, build), 0, "%s", err.ptr);
  char *index = th_read(pub, "index.html");
  cr_expect(index && strstr(index, "Jordan Example"));
  cr_expect(index && strstr(index, "Our Team"));
  char *readme = th_read(team, "README.md");
  cr_expect(readme && strstr(readme, "wholeself new"));
  cr_expect(readme && strstr(readme, "wholeself check"));
  cr_expect(readme && strstr(readme, "wholeself serve"));
  char *wf = th_read(team, ".github/workflows/team-site.yml");
  char *example = th_read(th_root(), "examples/github/team-site.yml");
  cr_expect(wf && example && strcmp(wf, example) == 0,
            "init writes examples/github/team-site.yml");
  cr_expect(th_exists(team, ".git/HEAD"));
  char *head = th_read(team, ".git/HEAD");
  cr_expect(head && strstr(head, "refs/heads/main"));
  free(index);
  free(readme);
  free(wf);
  free(example);
  free(head);
  th_rm_rf(tmp);
  free(tmp);
  free(team);
  free(pub);
  ws_str_release(&err);
}

Test(workflow, init_refuses_a_folder_that_is_not_empty) {
  char *tmp = th_tmpdir();
  th_write(tmp, "notes.txt", "mine\n");
  ws_str err = WS_STR_INIT;
  const char *init[] = {"init", tmp, NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, init), 3);
  cr_expect(strstr(err.ptr, "not empty"), "%s", err.ptr);
  cr_expect(!th_exists(tmp, "site.yml"));
  cr_expect(!th_exists(tmp, ".git"));
  th_rm_rf(tmp);
  free(tmp);
  ws_str_release(&err);
}

Test(workflow, ci_examples_are_valid_yaml) {
  static const struct {
    const char *file, *key;
  } files[] = {{"examples/github/team-site.yml", "jobs"},
               {"examples/gitlab/.gitlab-ci.yml", "pages"}};
  for (size_t i = 0; i < 2; i++) {
    char *text = th_read(th_root(), files[i].file);
    cr_assert(text, "%s", files[i].file);
    ws_value *v = NULL;
    ws_diag d = WS_DIAG_INIT;
    cr_expect_eq(ws_yaml_load(&v, files[i].file, text, strlen(text), 1, &d), 0,
                 "%s: %s", files[i].file, d.len ? d.items[0].message : "");
    cr_expect(v && ws_value_get(v, files[i].key), "%s", files[i].file);
    cr_expect(strstr(text, "wholeself check"), "%s", files[i].file);
    cr_expect(strstr(text, "wholeself build --out public"), "%s",
              files[i].file);
    ws_value_free(v);
    ws_diag_release(&d);
    free(text);
  }
  char *example = th_read(th_root(), "examples/github/team-site.yml");
  cr_expect_str_eq(ws_init_workflow(), example);
  free(example);
}

/* --- the post-receive hook ------------------------------------------ */

static bool have_git(void) {
  return system("git --version >/dev/null 2>&1") == 0;
}

static void replace(ws_str *s, const char *from, const char *to) {
  ws_str out = WS_STR_INIT;
  const char *p = s->ptr, *hit;
  while ((hit = strstr(p, from))) {
    ws_str_put(&out, p, (size_t)(hit - p));
    ws_str_puts(&out, to);
    p = hit + strlen(from);
  }
  ws_str_puts(&out, p);
  ws_str_release(s);
  *s = out;
}

static int git_push(const char *work, const char *bare, const char *log) {
  ws_str cmd = WS_STR_INIT;
  ws_str_printf(&cmd,
                "git -C '%s' push -q '%s' HEAD:refs/heads/main >'%s' "
                "2>&1",
                work, bare, log);
  int rc = system(cmd.ptr);
  ws_str_release(&cmd);
  return rc;
}

Test(workflow, post_receive_hook_builds_the_pushed_main, .timeout = 60) {
  if (!have_git())
    cr_skip_test("no git executable");
  char *bare = th_repo_new(true), *work = th_repo_new(false);
  char *tmp = th_tmpdir(), *out = path_join(tmp, "srv-team"),
       *log = path_join(tmp, "push.log");
  ws_str hook = WS_STR_INIT;
  char *text = th_read(th_root(), "examples/post-receive");
  cr_assert(text);
  ws_str_puts(&hook, text);
  free(text);
  replace(&hook, "/usr/local/bin/wholeself", th_bin());
  replace(&hook, "/srv/team", out);
  th_write(bare, "hooks/post-receive", hook.ptr);
  char *hook_path = path_join(bare, "hooks/post-receive");
  cr_assert_eq(chmod(hook_path, 0755), 0);

  th_write(work, "site.yml", "title: Hook Team\n");
  th_write(work, "people/bo-lindqvist.md", bo);
  th_repo_commit_all(work, "Add Bo", "Ada <ada@example.org>", 1700000000);
  cr_assert_eq(git_push(work, bare, log), 0);
  char *index = th_read(out, "index.html");
  char *pushed = th_read(log, NULL);
  cr_assert(index, "no site after the push: %s", pushed);
  cr_expect(strstr(index, "Bo Lindqvist"));
  cr_expect(strstr(pushed, "wholeself: the team site is up to date"), "%s",
            pushed);
  free(index);
  free(pushed);

  /* A second push updates the site. */
  th_write(work, "people/cy-okoro.md", "---\nname: Cy Okoro\n---\nHi.\n");
  th_repo_commit_all(work, "Add Cy", "Cy <cy@example.org>", 1700000100);
  cr_assert_eq(git_push(work, bare, log), 0);
  index = th_read(out, "index.html");
  cr_expect(index && strstr(index, "Cy Okoro"));
  free(index);

  /* A broken push is accepted by git but leaves the site as it was. */
  th_write(work, "people/bo-lindqvist.md", broken);
  th_repo_commit_all(work, "Break Bo", "Bo <bo@example.org>", 1700000200);
  cr_assert_eq(git_push(work, bare, log), 0);
  index = th_read(out, "index.html");
  pushed = th_read(log, NULL);
  cr_expect(index && strstr(index, "Cy Okoro") && strstr(index, "Bo "));
  cr_expect(strstr(pushed, "the build failed"), "%s", pushed);
  free(index);
  free(pushed);

  ws_str_release(&hook);
  free(hook_path);
  th_rm_rf(bare);
  th_rm_rf(work);
  th_rm_rf(tmp);
  free(bare);
  free(work);
  free(tmp);
  free(out);
  free(log);
}

/* --- themes --------------------------------------------------------- */

Test(workflow, minimal_theme_builds_the_demo) {
  char *tmp = th_tmpdir();
  ws_str err = WS_STR_INIT;
  const char *argv[] = {"build",     "--worktree", "-C",      th_root(),
                        "--content", "content",    "--theme", "minimal",
                        "--out",     tmp,          "--quiet", NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  char *index = th_read(tmp, "index.html");
  cr_assert(index);
  cr_expect(strstr(index, "assets/minimal.css"));
  cr_expect(strstr(index, "<table class=\"directory\">"));
  cr_expect(th_exists(tmp, "assets/minimal.css"));
  /* Pages the minimal theme has no template for come from 'default',
   * inside minimal's layout. */
  char *strengths = th_read(tmp, "strengths/index.html");
  cr_expect(strengths && strstr(strengths, "assets/minimal.css"));
  cr_expect(th_exists(tmp, "404.html"));
  free(index);
  free(strengths);
  th_rm_rf(tmp);
  free(tmp);
  ws_str_release(&err);
}

Test(workflow, site_yml_chooses_the_theme_and_overrides_one_template) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  th_write(repo, "site.yml", "title: Override Team\ntheme: minimal\n");
  th_write(repo, "people/bo-lindqvist.md", bo);
  th_write(repo, "themes/minimal/card.mustache",
           "<li class=\"card\">OVERRIDDEN {{name}}</li>\n");
  th_write(repo, "themes/minimal/assets/minimal.css", "body{color:red}\n");
  th_write(repo, "themes/minimal/404.mustache",
           "{{<base}}{{$content}}OVERRIDDEN-404{{/content}}{{/base}}\n");
  th_repo_commit_all(repo, "Theme", "Ada <ada@example.org>", 1700000000);
  ws_str err = WS_STR_INIT;
  const char *argv[] = {"build", "-C", repo, "--out", tmp, "--quiet", NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  char *index = th_read(tmp, "index.html");
  char *css = th_read(tmp, "assets/minimal.css");
  cr_assert(index && css);
  cr_expect(strstr(index, "<table class=\"directory\">"), "site.yml theme");
  cr_expect_str_eq(css, "body{color:red}\n");
  char *nf = th_read(tmp, "404.html");
  cr_expect(nf && strstr(nf, "OVERRIDDEN-404"), "%s", nf);
  cr_expect(nf && strstr(nf, "minimal.css"), "inside the theme's layout");
  free(nf);
  /* Pages inherited from 'default' use the override of a partial too. */
  char *team = th_read(tmp, "teams/data/index.html");
  cr_expect(team && strstr(team, "OVERRIDDEN Bo Lindqvist"), "%s", team);
  char *person = th_read(tmp, "people/bo-lindqvist/index.html");
  cr_expect(person && strstr(person, "class=\"facts\""),
            "other templates are the theme's own");
  free(index);
  free(css);
  free(team);
  free(person);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
  ws_str_release(&err);
}

/* --- install and the man page --------------------------------------- */

static char *bin_dir(void) {
  char *dir = strdup(th_bin());
  char *slash = strrchr(dir, '/');
  cr_assert(slash);
  *slash = '\0';
  return dir;
}

Test(workflow, make_install_then_the_installed_binary_builds_the_demo,
     .timeout = 120) {
  char *prefix = th_tmpdir(), *site = th_tmpdir(), *build = bin_dir();
  ws_str cmd = WS_STR_INIT;
  /* -o: install what was built; never rebuild it with other flags. */
  ws_str_printf(&cmd,
                "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "
                "'%s' install PREFIX='%s' BUILD='%s' -o '%s' >'%s/log' "
                "2>&1",
                th_root(), prefix, build, th_bin(), site);
  cr_assert_eq(system(cmd.ptr), 0, "make install failed");
  cr_expect(th_exists(prefix, "bin/wholeself"));
  cr_expect(th_exists(prefix, "share/man/man1/wholeself.1"));
  cr_expect(th_exists(prefix, "share/wholeself/themes/default/base.mustache"));
  cr_expect(th_exists(prefix, "share/wholeself/themes/minimal/theme.yml"));

  /* The installed binary finds its themes relative to the prefix. */
  ws_str_clear(&cmd);
  ws_str_printf(&cmd,
                "env -u WHOLESELF_THEMES '%s/bin/wholeself' build "
                "--worktree -C '%s' --content content --out '%s/pub' "
                "--quiet --theme minimal >>'%s/log' 2>&1",
                prefix, th_root(), site, site);
  cr_expect_eq(system(cmd.ptr), 0, "the installed binary failed");
  char *index = th_read(site, "pub/index.html");
  cr_expect(index && strstr(index, "minimal.css"));
  free(index);

  ws_str_clear(&cmd);
  ws_str_printf(&cmd,
                "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "
                "'%s' uninstall PREFIX='%s' >>'%s/log' 2>&1",
                th_root(), prefix, site);
  cr_expect_eq(system(cmd.ptr), 0);
  cr_expect(!th_exists(prefix, "bin/wholeself"));
  cr_expect(!th_exists(prefix, "share/wholeself"));
  cr_expect(!th_exists(prefix, "share/man/man1/wholeself.1"));
  ws_str_release(&cmd);
  th_rm_rf(prefix);
  th_rm_rf(site);
  free(prefix);
  free(site);
  free(build);
}

Test(workflow, man_page_renders_without_warnings) {
  if (system("man --version >/dev/null 2>&1") != 0)
    cr_skip_test("no man");
  char *tmp = th_tmpdir();
  ws_str cmd = WS_STR_INIT;
  ws_str_printf(&cmd,
                "cd '%s' && MANWIDTH=80 man --warnings -l "
                "docs/wholeself.1 2>'%s/warn' >'%s/page'",
                th_root(), tmp, tmp);
  cr_assert_eq(system(cmd.ptr), 0);
  char *warn = th_read(tmp, "warn"), *page = th_read(tmp, "page");
  cr_expect(warn && !*warn, "warnings: %s", warn);
  static const char *const sections[] = {
      "NAME",     "SYNOPSIS",    "DESCRIPTION",      "COMMANDS",
      "OPTIONS",  "EXIT STATUS", "ENVIRONMENT",      "FILES",
      "EXAMPLES", "SEE ALSO",    "WHOLESELF_THEMES", "SOURCE_DATE_EPOCH",
      "NO_COLOR"};
  for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
    cr_expect(page && strstr(page, sections[i]), "missing %s", sections[i]);
  free(warn);
  free(page);
  ws_str_release(&cmd);
  th_rm_rf(tmp);
  free(tmp);
}
