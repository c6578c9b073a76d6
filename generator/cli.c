#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "diag.h"
#include "error.h"
#include "init.h"
#include "output.h"
#include "profile.h"
#include "render.h"
#include "serve.h"
#include "site.h"
#include "source.h"
#include "str.h"
#include "theme.h"
#include "xalloc.h"

#ifndef WS_VERSION
#define WS_VERSION "0.0.0"
#endif

static const char usage_main[] =
    "Usage: wholeself COMMAND [OPTIONS]\n"
    "\n"
    "Builds a static team website from Markdown profiles committed to git.\n"
    "\n"
    "Commands:\n"
    "  build   read the profiles at a ref and write the site\n"
    "  check   validate every profile and site.yml, report all problems\n"
    "  new     scaffold people/SLUG.md from a commented template\n"
    "  serve   preview the work tree on localhost, rebuilding on change\n"
    "  init    make a new team repository\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (or 'wholeself COMMAND --help')\n"
    "  -V, --version  print the version\n"
    "\n"
    "Exit codes: 0 success, 1 invalid content, 2 usage error,\n"
    "3 environment error (no repository, unreadable ref, I/O failure).\n";

static const char usage_source[] =
    "Source options:\n"
    "  -C, --repo PATH     the repository: a work tree, a folder inside one,\n"
    "                      or a bare repository (default: .)\n"
    "      --ref REF       branch, tag or commit to read (default: HEAD)\n"
    "      --content DIR   folder of the tree that holds site.yml and people/\n"
    "                      (default: the root of the tree)\n"
    "      --worktree      read the working directory instead of git objects\n";

static const char usage_build[] =
    "Usage: wholeself build [SOURCE OPTIONS] [OPTIONS]\n"
    "\n"
    "Reads the profiles at REF straight from git objects and writes the site\n"
    "to a staging folder, which replaces OUT only when the build succeeded.\n"
    "\n"
    "%s"
    "\n"
    "Build options:\n"
    "  -o, --out DIR       output folder (default: public)\n"
    "      --theme NAME    theme name or path (default: site.yml's theme,\n"
    "                      else 'default')\n"
    "      --base-url URL  absolute address of the site, for feeds and links\n"
    "      --title TEXT    site title (default: site.yml's title)\n"
    "      --report-json FILE  also write the team report's figures as JSON\n"
    "                      to FILE ('-': standard output; see docs/report.md)\n"
    "      --no-history    skip reading git history: no 'on the team page\n"
    "                      since' dates, contributions timeline or feed\n"
    "                      entries (faster on very long histories)\n"
    "      --no-incremental  render every page; by default a page whose\n"
    "                      inputs are unchanged since the last build into\n"
    "                      OUT is kept as it was (docs/incremental.md)\n"
    "      --format F      diagnostics as text (default), github or json\n"
    "      --strict        refuse to build on warnings too\n"
    "  -j, --jobs N        threads for parsing, rendering and publishing\n"
    "                      (default: one per core); the output is the same\n"
    "                      for any N\n"
    "  -q, --quiet         print problems only when the build fails\n"
    "  -v, --verbose       print every stage with its time\n"
    "  -h, --help          show this help\n";

static const char usage_check[] =
    "Usage: wholeself check [SOURCE OPTIONS] [--format FORMAT] [--strict]\n"
    "\n"
    "Validates every profile and site.yml and reports all problems, sorted\n"
    "by file and line. Exits 1 on errors (and on warnings with --strict).\n"
    "\n"
    "%s"
    "\n"
    "Check options:\n"
    "      --format F      text (default), github (workflow annotations)\n"
    "                      or json\n"
    "      --strict        treat warnings as errors\n"
    "  -h, --help          show this help\n";

static const char usage_new[] =
    "Usage: wholeself new SLUG [--name \"Full Name\"] [-C PATH] [--content DIR]\n"
    "\n"
    "Writes people/SLUG.md in the work tree from a commented template that\n"
    "passes 'wholeself check'. SLUG is lowercase letters, digits and '-'.\n"
    "Never overwrites an existing file.\n"
    "\n"
    "Options:\n"
    "      --name TEXT     the person's name (default: from the slug)\n"
    "  -C, --repo PATH     the repository (default: .)\n"
    "      --content DIR   content folder inside it (default: the root)\n"
    "  -h, --help          show this help\n";

static const char usage_serve[] =
    "Usage: wholeself serve [SOURCE OPTIONS] [OPTIONS]\n"
    "\n"
    "Builds the work tree (uncommitted edits included) into a private folder\n"
    "and serves it on localhost. Watches the content and theme folders and\n"
    "rebuilds on every save; open pages reload by themselves. While a save\n"
    "breaks the build, the problems show in the terminal and in the browser.\n"
    "Stop it with Ctrl-C.\n"
    "\n"
    "%s"
    "\n"
    "Serve options:\n"
    "  -p, --port N        port to listen on (default: 8000; 0: any free one)\n"
    "      --host ADDR     address to bind (default: 127.0.0.1, this machine\n"
    "                      only)\n"
    "      --theme NAME    theme name or path (default: site.yml's theme)\n"
    "      --base-url URL  absolute address of the site\n"
    "      --title TEXT    site title (default: site.yml's title)\n"
    "  -q, --quiet         print only errors\n"
    "  -v, --verbose       print every stage of every build with its time\n"
    "  -h, --help          show this help\n";

static const char usage_init[] =
    "Usage: wholeself init [DIR]\n"
    "\n"
    "Makes a new team repository in DIR (default: the current folder), which\n"
    "must be empty or missing: site.yml, people/ with an example profile, a\n"
    "README that tells people how to add themselves, a GitHub Actions\n"
    "workflow and .gitignore, committed as the first commit of branch main.\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help\n";

enum {
  OPT_HOST = 240,
  OPT_REF = 256,
  OPT_CONTENT,
  OPT_WORKTREE,
  OPT_THEME,
  OPT_BASE_URL,
  OPT_TITLE,
  OPT_FORMAT,
  OPT_STRICT,
  OPT_NAME,
  OPT_REPORT_JSON,
  OPT_NO_HISTORY,
  OPT_NO_INCREMENTAL
};

typedef struct {
  ws_source_opts src;
  const char *out, *theme, *base_url, *title, *name;
  const char *report_json; /* --report-json FILE, or NULL */
  ws_diag_style format;
  bool strict, quiet;
  bool no_history; /* --no-history */
  bool full;       /* --no-incremental */
  unsigned jobs;   /* --jobs N; 0: one per core */
  const char *host, *port;
  bool verbose;
} options;

static int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "wholeself%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'wholeself %s%s--help'.\n", cmd ? cmd : "",
          cmd ? " " : "");
  return WS_EXIT_USAGE;
}

/* Help texts hold "%s" where the shared source options go. */
static void print_usage(const char *text) {
  const char *mark = strstr(text, "%s");
  if (!mark) {
    fputs(text, stdout);
    return;
  }
  fwrite(text, 1, (size_t)(mark - text), stdout);
  fputs(usage_source, stdout);
  fputs(mark + 2, stdout);
}

/* Parses the options shared by the commands; returns -1 to go on, or an
 * exit code. */
static int parse(options *o, const char *cmd, const char *help, int argc,
                 char **argv) {
  static const struct option longs[] = {
      {"repo", required_argument, NULL, 'C'},
      {"ref", required_argument, NULL, OPT_REF},
      {"content", required_argument, NULL, OPT_CONTENT},
      {"worktree", no_argument, NULL, OPT_WORKTREE},
      {"out", required_argument, NULL, 'o'},
      {"theme", required_argument, NULL, OPT_THEME},
      {"base-url", required_argument, NULL, OPT_BASE_URL},
      {"title", required_argument, NULL, OPT_TITLE},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"strict", no_argument, NULL, OPT_STRICT},
      {"name", required_argument, NULL, OPT_NAME},
      {"report-json", required_argument, NULL, OPT_REPORT_JSON},
      {"no-history", no_argument, NULL, OPT_NO_HISTORY},
      {"no-incremental", no_argument, NULL, OPT_NO_INCREMENTAL},
      {"jobs", required_argument, NULL, 'j'},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"port", required_argument, NULL, 'p'},
      {"host", required_argument, NULL, OPT_HOST},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":C:o:p:j:qvh", longs, NULL)) != -1) {
    switch (c) {
    case 'C':
      o->src.repo = optarg;
      break;
    case OPT_REF:
      o->src.ref = optarg;
      break;
    case OPT_CONTENT:
      o->src.content = optarg;
      break;
    case OPT_WORKTREE:
      o->src.worktree = true;
      break;
    case 'o':
      o->out = optarg;
      break;
    case OPT_THEME:
      o->theme = optarg;
      break;
    case OPT_BASE_URL:
      o->base_url = optarg;
      break;
    case OPT_TITLE:
      o->title = optarg;
      break;
    case OPT_STRICT:
      o->strict = true;
      break;
    case OPT_NAME:
      o->name = optarg;
      break;
    case OPT_REPORT_JSON:
      o->report_json = optarg;
      break;
    case OPT_NO_HISTORY:
      o->no_history = true;
      break;
    case OPT_NO_INCREMENTAL:
      o->full = true;
      break;
    case 'j': {
      char *end;
      unsigned long n = strtoul(optarg, &end, 10);
      if (*optarg < '0' || *optarg > '9' || *end || n < 1 || n > 256)
        return usage_error(cmd,
                           "--jobs needs a number from 1 to 256, not "
                           "'%s'",
                           optarg);
      o->jobs = (unsigned)n;
      break;
    }
    case 'q':
      o->quiet = true;
      break;
    case 'v':
      o->verbose = true;
      break;
    case 'p':
      o->port = optarg;
      break;
    case OPT_HOST:
      o->host = optarg;
      break;
    case OPT_FORMAT:
      if (!ws_diag_style_parse(&o->format, optarg))
        return usage_error(cmd, "unknown format '%s' (text, github, json)",
                           optarg);
      break;
    case 'h':
      print_usage(help);
      return WS_EXIT_OK;
    case ':':
      return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    default:
      return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
  }
  return -1;
}

static int env_error(const char *what) {
  fprintf(stderr, "wholeself: %s\n", what);
  return WS_EXIT_ENV;
}

static void print_diags(FILE *f, ws_diag *d, ws_diag_style style) {
  ws_build_print_diags(f, d, style);
}

static int open_site(ws_source **src, ws_site **site, const options *o,
                     ws_diag *diag) {
  if (ws_source_open(src, &o->src) < 0)
    return env_error(ws_error_last());
  /* Checking needs no matches: the mentoring hub is made by builds. */
  if (ws_site_load_jobs(site, *src, 0, diag) < 0)
    return env_error(ws_error_last());
  return -1;
}

/* Once the site is loaded, decides whether its problems stop the build. */
typedef struct {
  const options *o;
  bool refused;
} build_policy;

static bool build_loaded(ws_diag *diag, void *payload) {
  build_policy *bp = payload;
  const options *o = bp->o;
  size_t errors = ws_diag_count(diag, WS_DIAG_ERROR);
  size_t warnings = ws_diag_count(diag, WS_DIAG_WARNING);
  if (diag->len && (errors || o->strict || !o->quiet))
    print_diags(stderr, diag, o->format);
  if (errors || (o->strict && warnings)) {
    fprintf(stderr,
            "wholeself: %zu error%s%s; the site was not built and %s is "
            "unchanged\n",
            errors, errors == 1 ? "" : "s",
            o->strict && warnings ? " and warnings (--strict)" : "", o->out);
    bp->refused = true;
  }
  return !bp->refused;
}

/* The build options of 'o', shared by build and serve. */
static ws_build_opts build_opts(const options *o) {
  ws_build_opts bo = {0};
  bo.src = o->src;
  bo.out = o->out;
  bo.theme = o->theme;
  bo.render.base_url = o->base_url;
  bo.render.title = o->title;
  bo.render.jobs = o->jobs;
  bo.render.full = o->full;
  bo.log = o->quiet ? NULL : stderr;
  bo.verbose = o->verbose;
  bo.progress = !o->quiet && isatty(STDERR_FILENO);
  bo.no_history = o->no_history;
  bo.report_json = o->report_json;
  return bo;
}

static int cmd_build(int argc, char **argv) {
  options o = {.out = "public"};
  ws_diag diag = WS_DIAG_INIT;
  ws_build_stats st = WS_BUILD_STATS_INIT;
  build_policy bp = {&o, false};
  int rc = parse(&o, "build", usage_build, argc, argv);
  if (rc >= 0)
    return rc;
  if (optind < argc)
    return usage_error("build", "unexpected argument '%s'", argv[optind]);
  ws_build_opts bo = build_opts(&o);
  bo.loaded = build_loaded;
  bo.payload = &bp;
  if (ws_build_run(&st, &bo, &diag) == 0) {
    rc = WS_EXIT_OK;
  } else if (bp.refused) {
    rc = WS_EXIT_CONTENT;
  } else {
    fprintf(stderr, "wholeself: %s\n", ws_error_last());
    fprintf(stderr, "wholeself: the site was not built; %s is unchanged\n",
            o.out);
    rc = WS_EXIT_ENV;
  }
  ws_build_stats_release(&st);
  ws_diag_release(&diag);
  return rc;
}

static int cmd_check(int argc, char **argv) {
  options o = {.format = WS_DIAG_TEXT};
  ws_source *src = NULL;
  ws_site *site = NULL;
  ws_diag diag = WS_DIAG_INIT;
  int rc = parse(&o, "check", usage_check, argc, argv);
  if (rc >= 0)
    return rc;
  if (optind < argc)
    return usage_error("check", "unexpected argument '%s'", argv[optind]);
  if ((rc = open_site(&src, &site, &o, &diag)) < 0) {
    size_t errors = ws_diag_count(&diag, WS_DIAG_ERROR);
    size_t warnings = ws_diag_count(&diag, WS_DIAG_WARNING);
    print_diags(stdout, &diag, o.format);
    fprintf(stderr,
            "wholeself: checked %zu profile%s: %zu error%s, %zu "
            "warning%s%s\n",
            site->nchecked, site->nchecked == 1 ? "" : "s", errors,
            errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s",
            o.strict && warnings ? " (--strict: warnings fail the check)" : "");
    rc = errors || (o.strict && warnings) ? WS_EXIT_CONTENT : WS_EXIT_OK;
  }
  ws_diag_release(&diag);
  ws_site_free(site);
  ws_source_free(src);
  return rc;
}

static const char new_template[] =
    "---\n"
    "# Your profile on the team site. Only 'name' is required; delete any\n"
    "# line you do not want to share. Check it with:\n"
    "#   wholeself check --worktree\n"
    "name: %s\n"
    "pronouns: \"\"            # e.g. she/her, he/him, they/them\n"
    "role: \"\"\n"
    "team: \"\"\n"
    "location: \"\"\n"
    "timezone: \"\"            # an IANA name, e.g. Europe/Berlin or UTC\n"
    "joined: %s       # YYYY-MM-DD\n"
    "# photo: %s.jpg  # a JPEG, PNG or WebP next to this file\n"
    "strengths: [listening]   # what people can ask you about\n"
    "learning: []             # what you are learning now\n"
    "mentoring:\n"
    "  # Types: advisor, advocate, affirmer, challenger, coach, connector,\n"
    "  # sponsor.\n"
    "  seeking:\n"
    "    types: []\n"
    "    topics: []\n"
    "  offering:\n"
    "    types: []\n"
    "    topics: []\n"
    "    capacity: 1          # mentees at once\n"
    "  formats: [one-on-one]  # one-on-one, group\n"
    "  modes: [virtual]       # virtual, in-person\n"
    "goals:\n"
    "  short_term: \"\"\n"
    "  long_term: \"\"\n"
    "---\n"
    "## Background\n"
    "\n"
    "A sentence or two about you: this paragraph is your summary on cards.\n"
    "\n"
    "## Strengths\n"
    "\n"
    "## Successes and challenges\n"
    "\n"
    "## Values\n";

static char *name_from_slug(const char *slug) {
  char *name = ws_xstrdup(slug);
  bool start = true;
  for (char *p = name; *p; p++) {
    if (*p == '-')
      *p = ' ';
    else if (start && *p >= 'a' && *p <= 'z')
      *p = (char)(*p - 32);
    start = *p == ' ';
  }
  return name;
}

/* The name goes into YAML: a double-quoted scalar with escapes is safe for
 * any text a person types. */
static void put_yaml_string(ws_str *out, const char *s) {
  ws_str_putc(out, '"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      ws_str_putc(out, '\\');
    if ((unsigned char)*s < 0x20)
      ws_str_printf(out, "\\x%02x", (unsigned char)*s);
    else
      ws_str_putc(out, *s);
  }
  ws_str_putc(out, '"');
}

static int write_new(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    fprintf(stderr, "wholeself new: %s already exists; not overwriting it\n",
            path);
    return WS_EXIT_CONTENT;
  }
  if (fd < 0)
    return env_error(strerror(errno));
  size_t len = strlen(text);
  bool ok = write(fd, text, len) == (ssize_t)len;
  if (close(fd) < 0 || !ok)
    return env_error(strerror(errno));
  printf("%s\n", path);
  fprintf(stderr,
          "wholeself: wrote %s; fill it in, then run 'wholeself "
          "check --worktree'\n",
          path);
  return WS_EXIT_OK;
}

static int cmd_new(int argc, char **argv) {
  options o = {0};
  int rc = parse(&o, "new", usage_new, argc, argv);
  if (rc >= 0)
    return rc;
  if (optind >= argc)
    return usage_error("new", "%s",
                       "missing SLUG (e.g. wholeself new amara-okafor)");
  if (optind + 1 < argc)
    return usage_error("new", "unexpected argument '%s'", argv[optind + 1]);
  const char *slug = argv[optind];
  if (!ws_slug_valid(slug))
    return usage_error("new",
                       "invalid slug '%s': use lowercase letters, digits "
                       "and '-' (e.g. amara-okafor)",
                       slug);
  ws_str dir = WS_STR_INIT, path = WS_STR_INIT, text = WS_STR_INIT,
         name = WS_STR_INIT;
  ws_str_printf(&dir, "%s", o.src.repo ? o.src.repo : ".");
  if (o.src.content && *o.src.content)
    ws_str_printf(&dir, "/%s", o.src.content);
  ws_str_puts(&dir, "/people");
  ws_str_printf(&path, "%s/%s.md", dir.ptr, slug);
  char *fallback = name_from_slug(slug);
  put_yaml_string(&name, o.name ? o.name : fallback);
  char today[16];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(today, sizeof(today), "%Y-%m-%d", &tm);
  ws_str_printf(&text, new_template, name.ptr, today, slug);
  if (mkdir(dir.ptr, 0755) < 0 && errno != EEXIST)
    rc = env_error(strerror(errno));
  else
    rc = write_new(path.ptr, text.ptr);
  free(fallback);
  ws_str_release(&dir);
  ws_str_release(&path);
  ws_str_release(&text);
  ws_str_release(&name);
  return rc;
}

static int cmd_serve(int argc, char **argv) {
  options o = {0};
  int rc = parse(&o, "serve", usage_serve, argc, argv);
  if (rc >= 0)
    return rc;
  if (optind < argc)
    return usage_error("serve", "unexpected argument '%s'", argv[optind]);
  if (o.src.ref || o.out)
    return usage_error("serve", "%s",
                       "serve previews the work tree into a private folder; "
                       "use 'wholeself build' for --ref and --out");
  char *end = NULL;
  unsigned long port = 8000;
  if (o.port) {
    errno = 0;
    port = strtoul(o.port, &end, 10);
    if (!*o.port || *end || errno || port > 65535)
      return usage_error("serve", "invalid port '%s' (0 to 65535)", o.port);
  }
  ws_serve_opts so = {0};
  so.build = build_opts(&o);
  so.build.src.worktree = true;
  so.host = o.host;
  so.port = (unsigned)port;
  so.quiet = o.quiet;
  if (ws_serve_run(&so) < 0)
    return env_error(ws_error_last());
  return WS_EXIT_OK;
}

static int cmd_init(int argc, char **argv) {
  options o = {0};
  int rc = parse(&o, "init", usage_init, argc, argv);
  if (rc >= 0)
    return rc;
  if (optind + 1 < argc)
    return usage_error("init", "unexpected argument '%s'", argv[optind + 1]);
  const char *dir = optind < argc ? argv[optind] : ".";
  if (ws_init_scaffold(dir) < 0)
    return env_error(ws_error_last());
  fprintf(stderr,
          "wholeself: made a team repository in %s (branch main, one "
          "commit)\n"
          "Next: cd %s && wholeself new your-name && wholeself serve\n",
          dir, dir);
  return WS_EXIT_OK;
}

int ws_cli_main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*run)(int, char **);
  } commands[] = {{"build", cmd_build},
                  {"check", cmd_check},
                  {"new", cmd_new},
                  {"serve", cmd_serve},
                  {"init", cmd_init}};
  if (argc < 2) {
    fputs(usage_main, stderr);
    return WS_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(usage_main, stdout);
    return WS_EXIT_OK;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
    printf("wholeself %s\n", WS_VERSION);
    return WS_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(cmd, commands[i].name) == 0) {
      ws_source_global_init();
      int rc = commands[i].run(argc - 1, argv + 1);
      ws_source_global_shutdown();
      return rc;
    }
  return usage_error(NULL, "unknown command '%s'", cmd);
}
