/* Hostile profiles: every case ends in a clear diagnostic or in safe output,
 * and the whole output folder is scanned for anything that could run. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "output.h"

#define AUTHOR "Mallory <m@example.org>"

static char *repo_with(const char *const *files) {
  char *repo = th_repo_new(false);
  th_write(repo, "site.yml", "title: Hostile\nbase_url: https://x.test/\n");
  for (size_t i = 0; files[i]; i += 2)
    th_write(repo, files[i], files[i + 1]);
  th_repo_commit_all(repo, "hostile", AUTHOR, 1700000000);
  return repo;
}

/* Runs check and returns its JSON output (caller frees). */
static char *check_json(const char *repo, int *rc) {
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  const char *argv[] = {"check", "-C", repo, "--format", "json", NULL};
  *rc = th_run(NULL, &out, &err, argv);
  ws_str_release(&err);
  return ws_str_detach(&out);
}

typedef struct {
  const char *file, *content, *code, *message;
} error_case;

/* Each profile is wrong in one way; each must give its own error, found by
 * its stable code and the words that name what is wrong. (The exact wording
 * of each message is asserted in test_check.c.) */
static const error_case errors[] = {
    {"people/link-js.md",
     "---\nname: A\nlinks: [{label: x, url: \"javascript:alert(1)\"}]\n---\n",
     "link-url", "link 'x'"},
    {"people/link-data.md",
     "---\nname: B\nlinks: [{label: y, url: \"data:text/html,<b>\"}]\n---\n",
     "link-url", "link 'y'"},
    {"people/photo-up.md", "---\nname: C\nphoto: ../../etc/passwd.png\n---\n",
     "photo", "photo '../../etc/passwd.png'"},
    {"people/photo-abs.md", "---\nname: D\nphoto: /etc/x.png\n---\n", "photo",
     "photo '/etc/x.png'"},
    {"people/photo-bs.md", "---\nname: E\nphoto: \"a\\\\b.png\"\n---\n",
     "photo", ".jpg, .jpeg, .png or .webp"},
    {"people/photo-enc.md", "---\nname: F\nphoto: \"%2e%2e/x.png\"\n---\n",
     "photo", ".jpg, .jpeg, .png or .webp"},
    {"people/photo-svg.md", "---\nname: G\nphoto: g.svg\n---\n", "photo",
     "photo 'g.svg'"},
    {"people/photo-fake.md", "---\nname: H\nphoto: fake.png\n---\n",
     "photo-type", "photo 'fake.png' is not a JPEG, PNG or WebP image"},
    {"people/Upper.md", "---\nname: I\n---\n", "slug", "'Upper.md'"},
    {"people/under_score.md", "---\nname: J\n---\n", "slug",
     "file name 'under_score.md'"},
    {"people/alias.md", "---\nname: K\nanchor: &a [1]\nother: *a\n---\n",
     "yaml-alias", "not supported"},
    {"people/laughs.md",
     "---\nname: L\na: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b]\nd: [*c,*c,*c,*c]\n---\n",
     "yaml-alias", "not supported"},
    {"people/utf8.md", "---\nname: \"M\xff\xfe\"\n---\n", "", "UTF-8"},
    {"people/nul.md", "---\nname: N\n\0oops: 1\n---\n", "", ""},
    {"people/big-list.md", NULL, "too-many", "'strengths' has 101 items"},
    /* Found by fuzz_profile: this path leaked the list it had started. */
    {"people/many-links.md",
     "---\nname: S\nlinks: [x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,"
     "x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,"
     "x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,"
     "x,x,x,x,x,x,x]\n---\n",
     "too-many", "'links' has 101 items"},
    {"people/deep.md", NULL, "yaml-depth", ""},
    {"people/huge.md", NULL, "too-large", "the limit is 1048576"},
    {"people/dupe.md", "---\nname: O\nname: P\n---\n", "yaml-duplicate-key",
     "duplicate key 'name'"},
    {"people/notmap.md", "---\n- a\n- b\n---\n", "frontmatter-not-map", ""},
    {"people/unclosed.md", "---\nname: Q\n", "frontmatter-unclosed", ""},
    {"people/no-name.md", "---\nname: \"\"\n---\n", "missing-name", ""},
    {"people/capacity.md",
     "---\nname: R\nmentoring: {offering: {types: [coach], capacity: "
     "1000000}}\n---\n",
     "capacity", "from 0 to 20"},
};

static char *big_list(void) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, "---\nname: Lister\nstrengths:\n");
  for (int i = 0; i < 101; i++)
    ws_str_printf(&s, "  - s%d\n", i);
  ws_str_puts(&s, "---\n");
  return ws_str_detach(&s);
}

static char *deep_yaml(void) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, "---\nname: Deep\nx: ");
  for (int i = 0; i < 200; i++)
    ws_str_putc(&s, '[');
  for (int i = 0; i < 200; i++)
    ws_str_putc(&s, ']');
  ws_str_puts(&s, "\n---\n");
  return ws_str_detach(&s);
}

static char *huge_profile(void) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(&s, "---\nname: Huge\n---\n");
  while (s.len < 1100000)
    ws_str_puts(&s, "All work and no play makes a very long profile.\n");
  return ws_str_detach(&s);
}

Test(hostile, every_bad_profile_gets_its_own_error, .timeout = 30) {
  char *repo = th_repo_new(false);
  size_t n = sizeof(errors) / sizeof(errors[0]);
  for (size_t i = 0; i < n; i++) {
    char *gen = NULL;
    const char *text = errors[i].content;
    if (!text) {
      if (strstr(errors[i].file, "big-list"))
        gen = big_list();
      else if (strstr(errors[i].file, "deep"))
        gen = deep_yaml();
      else
        gen = huge_profile();
      text = gen;
    }
    size_t len = strstr(errors[i].file, "nul") ? 24 : strlen(text);
    th_write_len(repo, errors[i].file, text, len);
    free(gen);
  }
  th_write(repo, "people/fake.png", "<svg onload=alert(1)></svg>");
  th_repo_commit_all(repo, "hostile", AUTHOR, 1700000000);
  int rc;
  char *json = check_json(repo, &rc);
  cr_expect_eq(rc, 1);
  for (size_t i = 0; i < n; i++) {
    ws_str want = WS_STR_INIT;
    ws_str_printf(&want, "\"file\":\"%s\"", errors[i].file);
    const char *at = strstr(json, want.ptr);
    cr_expect(at, "no diagnostic for %s", errors[i].file);
    bool found = false;
    /* Look through this file's diagnostics for the code and the message. */
    for (const char *p = at; p && !found; p = strstr(p + 1, want.ptr)) {
      const char *end = strchr(p, '}');
      ws_str one = WS_STR_INIT;
      ws_str_put(&one, p, end ? (size_t)(end - p) : strlen(p));
      ws_str code = WS_STR_INIT;
      ws_str_printf(&code, "\"code\":\"%s", errors[i].code);
      found = strstr(one.ptr, "\"severity\":\"error\"") &&
              strstr(one.ptr, code.ptr) && strstr(one.ptr, errors[i].message);
      ws_str_release(&code);
      ws_str_release(&one);
    }
    cr_expect(found, "%s: expected error %s '%s' in\n%s", errors[i].file,
              errors[i].code, errors[i].message, json);
    ws_str_release(&want);
  }
  free(json);
  th_rm_rf(repo);
  free(repo);
}

Test(hostile, symlinks_are_refused_never_followed) {
  char *repo = th_repo_new(false);
  th_write(repo, "people/ok.md", "---\nname: Ok\n---\n");
  char link[4096];
  snprintf(link, sizeof(link), "%s/people/evil.md", repo);
  cr_assert(symlink("/etc/passwd", link) == 0);
  snprintf(link, sizeof(link), "%s/people/inside.md", repo);
  cr_assert(symlink("ok.md", link) == 0);
  th_repo_commit_all(repo, "links", AUTHOR, 1700000000);
  for (int wt = 0; wt < 2; wt++) {
    ws_str out = WS_STR_INIT, err = WS_STR_INIT;
    const char *argv[] = {"check", "-C", repo, wt ? "--worktree" : NULL, NULL};
    cr_expect_eq(th_run(NULL, &out, &err, argv), 1);
    cr_expect(strstr(out.ptr, "people/evil.md: error: people/evil.md is a "
                              "symbolic link"),
              "%s", out.ptr);
    cr_expect(strstr(out.ptr, "people/inside.md: error:"), "%s", out.ptr);
    cr_expect(!strstr(out.ptr, "root:"), "never reads the target");
    ws_str_release(&out);
    ws_str_release(&err);
  }
  th_rm_rf(repo);
  free(repo);
}

/* Profiles that are odd but valid: they build, and render inert. */
static const char *const inert[] = {
    "people/script-name.md",
    "---\nname: \"<script>alert(1)</script>\"\nrole: \"\\\" onmouseover=\\\"x\"\n"
    "team: \"</title><script>alert(2)</script>\"\n"
    "strengths: [\"<img src=x onerror=alert(3)>\", \"../../etc\", \"..\"]\n"
    "learning: [\"</script><script>alert(4)</script>\"]\n"
    "pronouns: \"'><svg onload=alert(5)>\"\n---\n"
    "## Background\n\n<script>alert(6)</script> <img src=x onerror=alert(7)>\n\n"
    "[a](javascript:alert(8)) [b](JAVASCRIPT:alert(9)) "
    "![c](javascript:alert(10)) <a href=\"javascript:alert(11)\">d</a>\n\n"
    "<iframe src=\"https://evil.test\"></iframe>\n\n"
    "{{name}} {{{site.title}}} {{>base}} {{<base}}{{/base}}\n",
    "people/mustache-name.md",
    "---\nname: \"{{#people}}{{name}}{{/people}}\"\ndream_job: \"{{>person}}\"\n"
    "---\n## Background\n\nHi.\n",
    "people/bidi.md",
    "---\nname: \"Evil\xe2\x80\xaeggp.exe\"\nrole: \"Admin\xe2\x81\xa6x\"\n---\n"
    "## Background\n\nHi.\n",
    "people/crlf.md",
    "---\r\nname: Carriage Returner\r\nteam: \"Data\"\r\n---\r\n"
    "## Background\r\n\r\nHi.\r\n",
    "people/bom.md",
    "\xef\xbb\xbf---\nname: Bom Person\n---\n## Background\n\nHi.\n",
    "people/lone-cr.md",
    "---\rname: Lone CR\r---\r## Background\r\rHi.\r",
    NULL};

static void scan_file(const char *path, const char *rel) {
  char *text = th_read(path, NULL);
  cr_assert(text, "%s", rel);
  const char *p = text;
  while ((p = strstr(p, "<script"))) {
    /* Only the theme's own script tags, loading from assets/. */
    cr_expect(strncmp(p, "<script src=\"", 13) == 0 && strstr(p, "assets/") &&
                  strstr(p, "assets/") < p + 80,
              "%s: foreign <script> at %.60s", rel, p);
    p++;
  }
  /* Event handler attributes can only live inside a tag; escaped text
   * ("&lt;img onerror=") is harmless and is not a tag. */
  bool json = strstr(rel, ".json") != NULL;
  for (const char *t = text; !json && (t = strchr(t, '<')); t++) {
    const char *end = strchr(t, '>');
    if (!end)
      break;
    char quote = 0;
    for (const char *q = t; q + 3 < end; q++) {
      /* Text inside a quoted attribute value is data, not an attribute. */
      if (quote) {
        quote = *q == quote ? 0 : quote;
        continue;
      }
      if (*q == '"' || *q == '\'') {
        quote = *q;
        continue;
      }
      if (!strchr(" \t\n/", q[0]) || strncasecmp(q + 1, "on", 2) != 0)
        continue;
      const char *r = q + 3;
      while (r < end && ((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z')))
        r++;
      cr_expect(!(r > q + 3 && *r == '='), "%s: event attribute at %.40s", rel,
                q);
    }
    t = end;
  }
  for (const char *q = text; *q; q++)
    cr_expect(strncasecmp(q, "javascript:", 11) != 0,
              "%s: javascript: URL at %.40s", rel, q);
  cr_expect(!strstr(text, "\xe2\x80\xae"), "%s: bidi override kept", rel);
  cr_expect(!strstr(text, "\xe2\x81\xa6"), "%s: bidi isolate kept", rel);
  free(text);
}

static size_t scan_tree(const char *dir, const char *rel) {
  size_t files = 0;
  DIR *d = opendir(dir);
  cr_assert(d, "%s", dir);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char path[4096], r[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
    struct stat st;
    cr_assert(lstat(path, &st) == 0);
    cr_expect(!S_ISLNK(st.st_mode), "symlink in output: %s", r);
    if (S_ISDIR(st.st_mode)) {
      files += scan_tree(path, r);
      continue;
    }
    const char *dot = strrchr(e->d_name, '.');
    if (dot && (strcmp(dot, ".html") == 0 || strcmp(dot, ".xml") == 0 ||
                strcmp(dot, ".json") == 0 || strcmp(dot, ".svg") == 0))
      scan_file(path, r);
    files++;
  }
  closedir(d);
  return files;
}

Test(hostile, odd_profiles_build_and_render_inert, .timeout = 30) {
  char *repo = repo_with(inert);
  char *tmp = th_tmpdir();
  char out[4096];
  snprintf(out, sizeof(out), "%s/public", tmp);
  ws_str err = WS_STR_INIT;
  const char *argv[] = {"build", "-C", repo, "--out", out, NULL};
  int rc = th_run(NULL, NULL, &err, argv);
  cr_assert_eq(rc, 0, "%s", err.ptr);
  cr_expect(strstr(err.ptr, "bidi"), "bidi controls get a warning: %s",
            err.ptr);
  size_t files = scan_tree(out, "");
  cr_expect(files > 10, "%zu files", files);
  /* Nothing escaped the output folder. */
  cr_expect(!th_exists(tmp, "etc"));
  char *page = th_read(out, "people/script-name/index.html");
  cr_assert(page);
  cr_expect(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  cr_expect(strstr(page, "{{name}} {{{site.title}}} {{&gt;base}}"),
            "mustache in a body is text");
  free(page);
  page = th_read(out, "people/mustache-name/index.html");
  cr_expect(strstr(page, "{{#people}}{{name}}{{/people}}"));
  cr_expect(strstr(page, "{{&gt;person}}"));
  free(page);
  char *json = th_read(out, "search.json");
  cr_expect(!strstr(json, "</script>"), "search.json escapes '<'");
  free(json);
  page = th_read(out, "people/crlf/index.html");
  cr_expect(page && strstr(page, "Carriage Returner"));
  free(page);
  page = th_read(out, "people/lone-cr/index.html");
  cr_expect(page && strstr(page, "Lone CR"));
  free(page);
  page = th_read(out, "people/bom/index.html");
  cr_expect(page && strstr(page, "Bom Person"));
  free(page);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

Test(hostile, unsafe_output_paths_are_refused) {
  /* The writer is the last line of defence for every page family. */
  const char *bad[] = {
      "",          "/etc/passwd", "../x",  "a/../b",  "a//b", "./a",
      ".hidden",   "a\\b",        "c:/x",  "a/\x01",  "a/",   "..",
      "people/..", "a/.b/c",      "a/b:c", "a/b\x1f", "/"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    cr_expect(!ws_output_path_ok(bad[i]), "accepted '%s'", bad[i]);
  const char *good[] = {"index.html", "people/amara/index.html",
                        "strengths/c-plus-plus/index.html", "a.b/c..d",
                        "caf\xc3\xa9/index.html"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    cr_expect(ws_output_path_ok(good[i]), "refused '%s'", good[i]);
}

/* Every byte, at the start of a name and inside one: only a control
 * character, a backslash or a colon is refused anywhere; a name may not
 * start with '.', and '/' only separates names. */
Test(hostile, every_byte_of_an_output_path) {
  for (unsigned c = 1; c < 256; c++) {
    bool never = c < 0x20 || c == '\\' || c == ':';
    char inside[] = {'a', (char)c, 'b', '\0'};
    char first[] = {'p', '/', (char)c, 'b', '\0'};
    char last[] = {'p', '/', 'a', (char)c, '\0'};
    cr_expect_eq(ws_output_path_ok(inside), !never, "byte %u inside", c);
    cr_expect_eq(ws_output_path_ok(first), !never && c != '.' && c != '/',
                 "byte %u first", c);
    cr_expect_eq(ws_output_path_ok(last), !never && c != '/', "byte %u last",
                 c);
  }
}

Test(hostile, concurrent_build_is_refused_with_a_clear_message) {
  char *repo = repo_with((const char *const[]){
      "people/a.md", "---\nname: A\n---\n## Background\n\nHi.\n", NULL});
  char *tmp = th_tmpdir();
  char out[4096], lock[4200];
  snprintf(out, sizeof(out), "%s/public", tmp);
  snprintf(lock, sizeof(lock), "%s.lock", out);
  /* Hold the lock the way a running build does. */
  int fd = open(lock, O_RDWR | O_CREAT, 0644);
  cr_assert(fd >= 0);
  cr_assert(flock(fd, LOCK_EX) == 0);
  ws_str err = WS_STR_INIT;
  const char *argv[] = {"build", "-C", repo, "--out", out, NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 3);
  cr_expect(strstr(err.ptr, "another wholeself build is writing to"), "%s",
            err.ptr);
  close(fd);
  ws_str_clear(&err);
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  /* A rebuild opens the folder on a thread of its own while the profiles
   * load: its message must still reach the user. */
  fd = open(lock, O_RDWR | O_CREAT, 0644);
  cr_assert(fd >= 0);
  cr_assert(flock(fd, LOCK_EX) == 0);
  ws_str_clear(&err);
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 3);
  cr_expect(strstr(err.ptr, "another wholeself build is writing to"), "%s",
            err.ptr);
  close(fd);
  ws_str_clear(&err);
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  ws_str_release(&err);
  th_rm_rf(repo);
  th_rm_rf(tmp);
  free(repo);
  free(tmp);
}

/* A site big enough that a build takes a while to write. */
static char *many_people_repo(const char *team) {
  char *repo = th_repo_new(false);
  for (int i = 0; i < 400; i++) {
    char rel[64], text[256];
    snprintf(rel, sizeof(rel), "people/p%03d.md", i);
    snprintf(text, sizeof(text),
             "---\nname: Person %03d\nteam: %s\nstrengths: [s%d, t%d]\n---\n"
             "## Background\n\nNumber %d.\n",
             i, team, i % 7, i % 11, i);
    th_write(repo, rel, text);
  }
  th_repo_commit_all(repo, team, AUTHOR, 1700000000);
  return repo;
}

static void build_to(const char *repo, const char *out) {
  ws_str err = WS_STR_INIT;
  const char *argv[] = {"build", "-C", repo, "--out", out, "--quiet", NULL};
  cr_assert_eq(th_run(NULL, NULL, &err, argv), 0, "%s", err.ptr);
  ws_str_release(&err);
}

Test(hostile, killed_build_leaves_old_or_new_site, .timeout = 120) {
  char *old_repo = many_people_repo("Old");
  char *new_repo = many_people_repo("New");
  char *tmp = th_tmpdir();
  char want_old[4096], want_new[4096], out[4096];
  snprintf(want_old, sizeof(want_old), "%s/old", tmp);
  snprintf(want_new, sizeof(want_new), "%s/new", tmp);
  snprintf(out, sizeof(out), "%s/public", tmp);
  build_to(old_repo, want_old);
  build_to(new_repo, want_new);
  /* Kill at moments spread over one whole build, timed here and now on
   * builds like the ones below: replacing one site with the other in a
   * folder that has held both (incremental builds and warm caches make
   * these faster than a first build). */
  build_to(old_repo, out);
  long span_us = 0;
  for (int k = 0; k < 4; k++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    build_to(k % 2 ? old_repo : new_repo, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long us =
        (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
    /* The fastest: other tests running alongside only slow builds down,
     * and a window longer than a build mostly kills finished ones. */
    span_us = k == 0 || us < span_us ? us : span_us;
  }
  span_us = span_us + 1;
  srand(12345);
  const char *wants[2] = {want_old, want_new};
  int current = 0, killed = 0, finished = 0;
  int round;
  for (round = 0; round < 25 || (killed < 8 && round < 60); round++) {
    int target = round % 2 ? 0 : 1;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 2);
      execl(th_bin(), "wholeself", "build", "-C", target ? new_repo : old_repo,
            "--out", out, "--quiet", (char *)NULL);
      _exit(127);
    }
    long us = (long)rand() % span_us;
    struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    bool was_killed = WIFSIGNALED(status);
    killed += was_killed;
    finished += !was_killed;
    char *d_before = th_tree_diff(out, wants[current]);
    char *d_after = th_tree_diff(out, wants[target]);
    if (!was_killed)
      cr_expect(WEXITSTATUS(status) == 0 && !d_after,
                "round %d: a finished build must publish the new site (%s)",
                round, d_after);
    cr_expect(!d_before || !d_after,
              "round %d: the site is neither the old nor the new one (%s, %s)",
              round, d_before, d_after);
    if (!d_after)
      current = target;
    free(d_before);
    free(d_after);
  }
  /* Kills must really land mid-build, or the test proves nothing. */
  cr_expect(killed >= 5, "only %d of %d builds were killed (%d finished)",
            killed, round, finished);
  char *dirs[] = {old_repo, new_repo, tmp};
  for (size_t i = 0; i < 3; i++) {
    th_rm_rf(dirs[i]);
    free(dirs[i]);
  }
}
