#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "source.h"
#include "str.h"

static const char site_yml[] =
    "# The team site. Every key is optional; see wholeself's docs.\n"
    "title: Our Team\n"
    "description: Who we are, what we are good at, what we are learning, "
    "and how we help each other grow.\n"
    "# The published address, for feeds and canonical links:\n"
    "# base_url: https://team.example.org/\n"
    "theme: default # or: minimal (compact, print-first)\n";

static const char example_profile[] =
    "---\n"
    "# An example profile: copy it with 'wholeself new your-name', then\n"
    "# delete this file once real people have added themselves.\n"
    "name: Jordan Example\n"
    "pronouns: they/them\n"
    "role: Software Engineer\n"
    "team: Platform\n"
    "location: Lisbon, Portugal\n"
    "timezone: Europe/Lisbon\n"
    "joined: 2024-01-15\n"
    "strengths: [code review, incident response, writing docs]\n"
    "learning: [Rust, public speaking]\n"
    "mentoring:\n"
    "  seeking:\n"
    "    types: [coach]\n"
    "    topics: [public speaking]\n"
    "  offering:\n"
    "    types: [advisor]\n"
    "    topics: [incident response]\n"
    "    capacity: 1\n"
    "  formats: [one-on-one]\n"
    "  modes: [virtual]\n"
    "goals:\n"
    "  short_term: Give a talk at the next team meetup.\n"
    "  long_term: Lead a platform team.\n"
    "---\n"
    "## Background\n"
    "\n"
    "I keep our deploys boring and our runbooks short. This first paragraph\n"
    "is the summary shown on my card.\n"
    "\n"
    "## Strengths\n"
    "\n"
    "Calm during incidents, and patient in code review.\n"
    "\n"
    "## Values\n"
    "\n"
    "Write it down, share it early, thank people by name.\n";

static const char readme[] =
    "# Our team site\n"
    "\n"
    "One Markdown profile per person lives in `people/`. On every push to\n"
    "`main`, [wholeself](https://github.com/your-org/wholeself) turns them\n"
    "into the team website; on every pull request it checks them.\n"
    "\n"
    "## Add yourself\n"
    "\n"
    "1. Clone this repository and make a branch.\n"
    "2. Scaffold your profile (the slug is lowercase letters, digits and\n"
    "   `-`):\n"
    "\n"
    "       wholeself new amara-okafor --name \"Amara Okafor\"\n"
    "\n"
    "   This writes `people/amara-okafor.md`, a commented template. Share\n"
    "   only what you want to share: apart from `name`, every field is\n"
    "   optional. A photo goes next to it (`people/amara-okafor.jpg`, JPEG,\n"
    "   PNG or WebP) and is named in `photo:`.\n"
    "3. Check it; every problem is reported as `file:line:col: message`:\n"
    "\n"
    "       wholeself check --worktree\n"
    "\n"
    "4. Preview the site while you write. It rebuilds and reloads the page\n"
    "   on every save, and shows problems in the browser:\n"
    "\n"
    "       wholeself serve\n"
    "\n"
    "   then open http://127.0.0.1:8000/.\n"
    "5. Commit, push and open a pull request. CI runs the same check; once\n"
    "   it is merged, the site is published.\n"
    "\n"
    "## What is here\n"
    "\n"
    "- `site.yml`: the site's title, description, address and theme.\n"
    "- `people/`: the profiles (`people/jordan-example.md` is an example to\n"
    "  delete once real profiles are in).\n"
    "- `.github/workflows/team-site.yml`: checks pull requests and\n"
    "  publishes `main` to GitHub Pages.\n"
    "- `themes/NAME/`: optional; a file here replaces the same file of the\n"
    "  theme, e.g. `themes/default/card.mustache`.\n"
    "\n"
    "`wholeself build --out public` builds the site locally from the last\n"
    "commit; `wholeself --help` lists everything else.\n";

static const char gitignore[] = "/public/\n";

static const char workflow[] =
    "# The team site: check the profiles on every pull request; build and\n"
    "# publish to GitHub Pages on every push to main.\n"
    "# Settings > Pages > Source must be \"GitHub Actions\".\n"
    "name: team-site\n"
    "\n"
    "on:\n"
    "  pull_request:\n"
    "  push:\n"
    "    branches: [main]\n"
    "  workflow_dispatch:\n"
    "\n"
    "permissions:\n"
    "  contents: read\n"
    "\n"
    "env:\n"
    "  # Where your organisation keeps wholeself, and the tag or branch to build.\n"
    "  WHOLESELF_REPO: https://github.com/your-org/wholeself.git\n"
    "  WHOLESELF_REF: main\n"
    "\n"
    "jobs:\n"
    "  site:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - uses: actions/checkout@v4\n"
    "        with:\n"
    "          fetch-depth: 0 # the history shows who added and changed what\n"
    "      - name: Install wholeself\n"
    "        run: |\n"
    "          sudo apt-get update -qq\n"
    "          sudo apt-get install -y -qq --no-install-recommends pkg-config libgit2-dev libcmark-dev libyaml-dev libmicrohttpd-dev libxxhash-dev\n"
    "          git clone --depth 1 --branch \"$WHOLESELF_REF\" \"$WHOLESELF_REPO\" \"$RUNNER_TEMP/wholeself\"\n"
    "          make -C \"$RUNNER_TEMP/wholeself\" all\n"
    "          sudo make -C \"$RUNNER_TEMP/wholeself\" install PREFIX=/usr/local\n"
    "      - name: Restore wholeself's caches (history walked, profiles parsed)\n"
    "        uses: actions/cache@v4\n"
    "        with:\n"
    "          path: .git/wholeself\n"
    "          key: wholeself-${{ github.sha }}\n"
    "          restore-keys: wholeself-\n"
    "      - name: Check the profiles\n"
    "        run: wholeself check --format github\n"
    "      - id: pages\n"
    "        if: github.event_name != 'pull_request'\n"
    "        uses: actions/configure-pages@v5\n"
    "      - name: Build the site\n"
    "        env:\n"
    "          BASE_URL: ${{ steps.pages.outputs.base_url }}\n"
    "        run: wholeself build --out public ${BASE_URL:+--base-url \"$BASE_URL/\"}\n"
    "      - if: github.event_name != 'pull_request'\n"
    "        uses: actions/upload-pages-artifact@v3\n"
    "        with:\n"
    "          path: public\n"
    "\n"
    "  deploy:\n"
    "    if: github.event_name != 'pull_request' && github.ref == 'refs/heads/main'\n"
    "    needs: site\n"
    "    runs-on: ubuntu-latest\n"
    "    permissions:\n"
    "      pages: write\n"
    "      id-token: write\n"
    "    environment:\n"
    "      name: github-pages\n"
    "      url: ${{ steps.deployment.outputs.page_url }}\n"
    "    concurrency:\n"
    "      group: pages\n"
    "      cancel-in-progress: false\n"
    "    steps:\n"
    "      - id: deployment\n"
    "        uses: actions/deploy-pages@v4\n";

const char *ws_init_workflow(void) {
  return workflow;
}

static int write_file(const char *dir, const char *rel, const char *text) {
  ws_str path = WS_STR_INIT;
  int error = 0;
  ws_str_printf(&path, "%s/%s", dir, rel);
  /* Make the parents of 'rel' one by one; dir itself exists. */
  for (char *p = path.ptr + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
    *p = '\0';
    if (mkdir(path.ptr, 0755) < 0 && errno != EEXIST)
      error =
          ws_error(WS_ERROR, "cannot make %s: %s", path.ptr, strerror(errno));
    *p = '/';
  }
  int fd = error
               ? -1
               : open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  size_t len = strlen(text);
  if (error == 0 && (fd < 0 || write(fd, text, len) != (ssize_t)len))
    error =
        ws_error(WS_ERROR, "cannot write %s: %s", path.ptr, strerror(errno));
  if (fd >= 0 && close(fd) < 0 && error == 0)
    error =
        ws_error(WS_ERROR, "cannot write %s: %s", path.ptr, strerror(errno));
  ws_str_release(&path);
  return error;
}

/* Refuses anything but a missing or empty folder, so init never mixes its
 * files into someone's work. */
static int prepare_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d && errno == ENOENT) {
    if (mkdir(dir, 0755) < 0)
      return ws_error(WS_ERROR, "cannot make %s: %s", dir, strerror(errno));
    return 0;
  }
  if (!d)
    return ws_error(WS_ERROR, "cannot open %s: %s", dir, strerror(errno));
  struct dirent *e;
  bool empty = true;
  while (empty && (e = readdir(d)))
    empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
  closedir(d);
  return empty ? 0
               : ws_error(WS_EINVALID,
                          "%s is not empty; init makes a new "
                          "team repository in an empty or new folder",
                          dir);
}

int ws_init_scaffold(const char *dir) {
  static const struct {
    const char *rel, *text;
  } files[] = {{"site.yml", site_yml},
               {"people/jordan-example.md", example_profile},
               {"README.md", readme},
               {".gitignore", gitignore},
               {".github/workflows/team-site.yml", workflow}};
  int error = prepare_dir(dir);
  for (size_t i = 0; error == 0 && i < sizeof(files) / sizeof(files[0]); i++)
    error = write_file(dir, files[i].rel, files[i].text);
  if (error == 0)
    error = ws_source_init_commit(dir, "Start the team site\n\nMade by "
                                       "wholeself init.\n");
  return error;
}
