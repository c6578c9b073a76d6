/* `wholeself check`, `build` and `new` end to end: one profile per kind of
 * problem in a committed fixture repository, the exact diagnostic in every
 * output format, exit codes, positions in CRLF/BOM/tab files, and the
 * fix-then-build and scaffold-then-check round trips. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontmatter.h"
#include "helpers.h"

#define BG "## Background\n\nHello.\n"

/* One file of the fixture repository. */
typedef struct {
  const char *path;
  const char *text;
  size_t len; /* 0: strlen(text) */
} fixture_file;

/* An SVG with script, committed under a .png name. */
static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\">"
                          "<script>alert(1)</script></svg>\n";

static const fixture_file fixture[] = {
    {"people/wrong-type.md",
     "---\nname: Wrong Type\nrole: 42\n"
     "strengths: [a]\n---\n" BG,
     0},
    {"people/enum-suggest.md",
     "---\nname: Enum Suggest\nstrengths: [a]\n"
     "mentoring:\n  seeking:\n"
     "    types: [sponsor, coah]\n---\n" BG,
     0},
    {"people/enum-plain.md",
     "---\nname: Enum Plain\nstrengths: [a]\n"
     "mentoring:\n  formats:\n    - group\n"
     "    - zoom\n---\n" BG,
     0},
    {"people/missing-name.md", "---\nrole: Engineer\nstrengths: [a]\n---\n" BG,
     0},
    {"people/photo-missing.md",
     "---\nname: Photo Missing\n"
     "photo: nobody.jpg\nstrengths: [a]\n---\n" BG,
     0},
    {"people/photo-svg.md",
     "---\nname: Photo Svg\nphoto: fake.png\n"
     "strengths: [a]\n---\n" BG,
     0},
    {"people/fake.png", svg, 0},
    {"people/dup-a.md", "---\nname: Sam Lee\nstrengths: [a]\n---\n" BG, 0},
    {"people/dup-b.md", "---\nname: sam lee\nstrengths: [a]\n---\n" BG, 0},
    {"people/bad-yaml.md", "---\nname: Bad Yaml\nstrengths: [a, b\n---\n" BG,
     0},
    {"people/bad-utf8.md", "---\nname: Bad \xff Utf\nstrengths: [a]\n---\n" BG,
     0},
    {"people/bad-date.md",
     "---\nname: Bad Date\njoined: 2023-02-30\n"
     "strengths: [a]\n---\n" BG,
     0},
    {"people/bad-tz.md",
     "---\nname: Bad Tz\ntimezone: Berlin\n"
     "strengths: [a]\n---\n" BG,
     0},
    {"people/bad-cap.md",
     "---\nname: Bad Cap\nstrengths: [a]\nmentoring:\n"
     "  offering:\n    types: [coach]\n"
     "    capacity: 99\n---\n" BG,
     0},
    {"people/bad-link.md",
     "---\nname: Bad Link\nstrengths: [a]\nlinks:\n"
     "  - label: Blog\n"
     "    url: javascript:alert(1)\n---\n" BG,
     0},
    {"people/Amara.md", "---\nname: Amara\nstrengths: [a]\n---\n" BG, 0},
    {"people/Bo Lind.md", "---\nname: Bo Lind\nstrengths: [a]\n---\n" BG, 0},
    {"people/ok.md", "---\nname: Oke Ok\nstrengths: [a]\n---\n" BG, 0},
    {"people/OK.md", "---\nname: Oke Upper\nstrengths: [a]\n---\n" BG, 0},
    {"people/unknown-key.md",
     "---\nname: Unknown Key\nstrengths: [a]\n"
     "locaton: Berlin\n---\n" BG,
     0},
    {"people/no-background.md",
     "---\nname: No Background\nstrengths: [a]\n"
     "---\nJust text.\n",
     0},
    {"people/no-strengths.md",
     "---\nname: No Strengths\nstrengths: []\n"
     "---\n" BG,
     0},
    {"people/notes.txt", "hello\n", 0},
};

/* What `check` must say about one fixture file. */
typedef struct {
  const char *name; /* the test case, for messages */
  const char *file;
  unsigned line, col;
  const char *severity, *code, *message;
} expected;

static const expected cases[] = {
    {"wrong_type", "people/wrong-type.md", 3, 7, "error", "type",
     "'role' must be text, not a number; put it in quotes"},
    {"enum_suggestion", "people/enum-suggest.md", 6, 22, "error",
     "unknown-value", "unknown mentor type 'coah'; did you mean 'coach'?"},
    {"enum_no_suggestion", "people/enum-plain.md", 7, 7, "error",
     "unknown-value",
     "unknown format 'zoom'; expected one of one-on-one, group"},
    {"missing_name", "people/missing-name.md", 1, 1, "error", "missing-name",
     "a profile needs a 'name' (the only required field); add 'name: Your "
     "Name' to the front matter"},
    {"photo_missing", "people/photo-missing.md", 3, 8, "error", "photo-missing",
     "photo 'nobody.jpg' not found: there is no file people/nobody.jpg "
     "(names are case-sensitive, and the image must be committed next to the "
     "profile)"},
    {"photo_not_image", "people/photo-svg.md", 3, 8, "error", "photo-type",
     "photo 'fake.png' is not a JPEG, PNG or WebP image (checked by its "
     "content, not its name)"},
    {"duplicate_name", "people/dup-b.md", 2, 7, "error", "duplicate-name",
     "'sam lee' is also the name in people/dup-a.md; two people cannot share "
     "a name on the directory: add a middle name, initial or nickname to one "
     "of them"},
    {"invalid_yaml", "people/bad-yaml.md", 4, 1, "error", "yaml-syntax",
     "invalid YAML: did not find expected ',' or ']' while parsing a flow "
     "sequence (started on line 3, column 12); close the list with ']' (or "
     "quote an item that contains a comma or bracket)"},
    {"invalid_utf8", "people/bad-utf8.md", 2, 11, "error", "encoding",
     "invalid UTF-8 text (invalid leading UTF-8 octet); save the file as "
     "UTF-8"},
    {"bad_date", "people/bad-date.md", 3, 9, "error", "date",
     "'joined' must be a date written YYYY-MM-DD, not '2023-02-30'"},
    {"bad_timezone", "people/bad-tz.md", 3, 11, "error", "timezone",
     "'Berlin' is not an IANA time zone name such as Europe/Berlin or UTC"},
    {"bad_capacity", "people/bad-cap.md", 7, 15, "error", "capacity",
     "'capacity' must be a whole number of mentees from 0 to 20, not 99"},
    {"bad_link_url", "people/bad-link.md", 6, 10, "error", "link-url",
     "link 'Blog' must be an http://, https:// or mailto: URL (without "
     "spaces or quotes)"},
    {"invalid_slug", "people/Amara.md", 0, 0, "error", "slug",
     "file name 'Amara.md' must be lowercase letters, digits and '-', then "
     "'.md' (it becomes the page address); "
     "rename it: git mv 'people/Amara.md' people/amara.md"},
    {"invalid_slug_with_space", "people/Bo Lind.md", 0, 0, "error", "slug",
     "file name 'Bo Lind.md' must be lowercase letters, digits and '-', "
     "then '.md' (it becomes the page address); rename it: git mv 'people/Bo Lind.md' people/bo-lind.md"},
    {"duplicate_slug_after_case_folding", "people/OK.md", 0, 0, "error", "slug",
     "file name 'OK.md' must be lowercase letters, digits and '-', then "
     "'.md' (it becomes the page address); "
     "people/ok.md already exists, so this is a second profile for the same "
     "page: merge the two and delete people/OK.md"},
    {"unknown_key", "people/unknown-key.md", 4, 1, "warning", "unknown-key",
     "unknown key 'locaton'; did you mean 'location'?"},
    {"missing_background", "people/no-background.md", 5, 1, "warning",
     "missing-section",
     "missing recommended section '## Background' (its first paragraph is "
     "your summary on cards)"},
    {"empty_strengths", "people/no-strengths.md", 3, 12, "warning",
     "no-strengths",
     "no strengths listed; add a few, e.g. strengths: [public speaking, SQL], "
     "so people can find you"},
    {"unused_file", "people/notes.txt", 0, 0, "warning", "unused-file",
     "this file is not used: people/ holds profiles (<slug>.md, directly in "
     "people/) and their photos (.jpg, .jpeg, .png, .webp); move or delete "
     "it"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char *fixture_repo(void) {
  char *repo = th_repo_new(false);
  for (size_t i = 0; i < COUNT(fixture); i++)
    th_write(repo, fixture[i].path, fixture[i].text);
  th_repo_commit_all(repo, "Profiles with problems", "Ada <ada@example.org>",
                     1700000000);
  return repo;
}

/* Runs `check -C repo --format FORMAT [extra]`; returns the exit code. */
static int check(const char *repo, const char *format, const char *extra,
                 ws_str *out, ws_str *err) {
  const char *argv[] = {"check", "-C", repo, "--format", format, extra, NULL};
  return th_run(NULL, out, err, argv);
}

static void json_escape(ws_str *out, const char *s) {
  for (; *s; s++) {
    if (*s == '<' || *s == '>' || *s == '&') {
      ws_str_printf(out, "\\u%04x", (unsigned)*s);
      continue;
    }
    if (*s == '"' || *s == '\\')
      ws_str_putc(out, '\\');
    ws_str_putc(out, *s);
  }
}

/* Tells whether 'text' holds 'line' as a whole line. */
static bool has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; (p = strstr(p, line)); p++)
    if ((p == text || p[-1] == '\n') && p[n] == '\n')
      return true;
  return false;
}

/* Asserts the exact diagnostic 'e' in the text, GitHub and JSON output. */
static void expect_diag(const expected *e) {
  char *repo = fixture_repo();
  ws_str out = WS_STR_INIT, want = WS_STR_INIT;

  cr_expect_eq(check(repo, "text", NULL, &out, NULL), 1, "%s", e->name);
  ws_str_puts(&want, e->file);
  if (e->line)
    ws_str_printf(&want, ":%u:%u", e->line, e->col);
  ws_str_printf(&want, ": %s: %s", e->severity, e->message);
  cr_expect(has_line(out.ptr, want.ptr), "%s: want line\n%s\nin\n%s", e->name,
            want.ptr, out.ptr);

  ws_str_clear(&out);
  ws_str_clear(&want);
  cr_expect_eq(check(repo, "github", NULL, &out, NULL), 1, "%s", e->name);
  ws_str_printf(&want, "::%s file=%s", e->severity, e->file);
  if (e->line)
    ws_str_printf(&want, ",line=%u,col=%u", e->line, e->col);
  ws_str_printf(&want, "::%s", e->message);
  cr_expect(has_line(out.ptr, want.ptr), "%s: want line\n%s\nin\n%s", e->name,
            want.ptr, out.ptr);

  ws_str_clear(&out);
  ws_str_clear(&want);
  cr_expect_eq(check(repo, "json", NULL, &out, NULL), 1, "%s", e->name);
  ws_str_printf(&want,
                "{\"file\":\"%s\",\"line\":%u,\"column\":%u,\"severity\":"
                "\"%s\",\"code\":\"%s\",\"message\":\"",
                e->file, e->line, e->col, e->severity, e->code);
  json_escape(&want, e->message);
  ws_str_puts(&want, "\"}");
  cr_expect(strstr(out.ptr, want.ptr), "%s: want\n%s\nin\n%s", e->name,
            want.ptr, out.ptr);

  ws_str_release(&out);
  ws_str_release(&want);
  th_rm_rf(repo);
  free(repo);
}

static const expected *find_case(const char *name) {
  for (size_t i = 0; i < COUNT(cases); i++)
    if (strcmp(cases[i].name, name) == 0)
      return &cases[i];
  cr_assert_fail("no case %s", name);
  return NULL;
}

#define KIND(n)                                                                \
  Test(check, n) {                                                             \
    expect_diag(find_case(#n));                                                \
  }

KIND(wrong_type)
KIND(enum_suggestion)
KIND(enum_no_suggestion)
KIND(missing_name)
KIND(photo_missing)
KIND(photo_not_image)
KIND(duplicate_name)
KIND(invalid_yaml)
KIND(invalid_utf8)
KIND(bad_date)
KIND(bad_timezone)
KIND(bad_capacity)
KIND(bad_link_url)
KIND(invalid_slug)
KIND(invalid_slug_with_space)
KIND(duplicate_slug_after_case_folding)
KIND(unknown_key)
KIND(missing_background)
KIND(empty_strengths)
KIND(unused_file)

/* Exactly the expected problems, no more, sorted by file, line, column. */
Test(check, reports_everything_sorted_in_one_run) {
  char *repo = fixture_repo();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  cr_assert_eq(check(repo, "text", NULL, &out, &err), 1, "%s", err.ptr);
  size_t lines = 0;
  for (const char *p = out.ptr; *p; p++)
    lines += *p == '\n';
  cr_expect_eq(lines, COUNT(cases), "%s", out.ptr);
  const expected *order[COUNT(cases)];
  for (size_t i = 0; i < COUNT(cases); i++)
    order[i] = &cases[i];
  for (size_t i = 1; i < COUNT(cases); i++)
    for (size_t j = i; j > 0; j--) {
      const expected *a = order[j - 1], *b = order[j];
      int c = strcmp(a->file, b->file);
      if (c < 0 || (c == 0 && a->line <= b->line))
        break;
      order[j - 1] = b;
      order[j] = a;
    }
  const char *at = out.ptr;
  for (size_t i = 0; i < COUNT(cases); i++) {
    size_t n = strlen(order[i]->file);
    cr_expect(strncmp(at, order[i]->file, n) == 0 &&
                  (at[n] == ':' && (at[n + 1] == ' ' || at[n + 1] <= '9')),
              "line %zu should be about %s:\n%s", i + 1, order[i]->file,
              out.ptr);
    at = strchr(at, '\n') + 1;
  }
  cr_expect(strstr(err.ptr, "checked 21 profiles: 16 errors, 4 warnings"), "%s",
            err.ptr);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(repo);
  free(repo);
}

/* The JSON output parses (through our YAML loader, a JSON superset for
 * this) into one list with one map per diagnostic. */
Test(check, json_is_one_array_of_diagnostics) {
  char *repo = fixture_repo();
  ws_str out = WS_STR_INIT;
  ws_diag diag = WS_DIAG_INIT;
  ws_value *v = NULL;
  cr_assert_eq(check(repo, "json", NULL, &out, NULL), 1);
  cr_assert_eq(ws_yaml_load(&v, "out.json", out.ptr, out.len, 1, &diag), 0,
               "%s", out.ptr);
  cr_assert_eq(v->type, WS_VALUE_LIST);
  cr_expect_eq(v->u.list.len, COUNT(cases));
  for (size_t i = 0; i < v->u.list.len; i++) {
    const ws_value *d = v->u.list.items[i];
    static const char *const keys[] = {"file",     "line", "column",
                                       "severity", "code", "message"};
    cr_expect_eq(d->type, WS_VALUE_MAP);
    cr_expect_eq(d->u.map.len, COUNT(keys));
    for (size_t k = 0; k < COUNT(keys); k++)
      cr_expect(ws_value_get(d, keys[k]), "item %zu lacks %s", i, keys[k]);
  }
  ws_value_free(v);
  ws_diag_release(&diag);
  ws_str_release(&out);
  th_rm_rf(repo);
  free(repo);
}

static char *warnings_only_repo(void) {
  char *repo = th_repo_new(false);
  th_write(repo, "people/amara.md",
           "---\nname: Amara\nstrengths: [a]\nhobby: chess\n---\n" BG);
  th_write(repo, "people/bo.md", "---\nname: Bo\n---\nNo sections.\n");
  th_repo_commit_all(repo, "Warnings", "Ada <ada@example.org>", 1700000000);
  return repo;
}

Test(check, exit_codes) {
  char *bad = fixture_repo(), *warn = warnings_only_repo();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  cr_expect_eq(check(bad, "text", NULL, NULL, NULL), 1);
  cr_expect_eq(check(bad, "text", "--strict", NULL, NULL), 1);
  cr_expect_eq(check(warn, "text", NULL, &out, &err), 0, "%s", out.ptr);
  cr_expect(has_line(out.ptr, "people/amara.md:4:1: warning: unknown key "
                              "'hobby'; it is not shown on the site"),
            "%s", out.ptr);
  cr_expect(has_line(out.ptr, "people/bo.md:1:1: warning: no strengths "
                              "listed; add a few, e.g. strengths: [public "
                              "speaking, SQL], so people can find you"),
            "%s", out.ptr);
  cr_expect(strstr(err.ptr, "checked 2 profiles: 0 errors, 3 warnings\n"), "%s",
            err.ptr);
  ws_str_clear(&err);
  cr_expect_eq(check(warn, "text", "--strict", NULL, &err), 1);
  cr_expect(strstr(err.ptr, "(--strict: warnings fail the check)"), "%s",
            err.ptr);
  cr_expect_eq(check(warn, "github", "--strict", NULL, NULL), 1);
  cr_expect_eq(check(warn, "yaml", NULL, NULL, NULL), 2);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(bad);
  th_rm_rf(warn);
  free(bad);
  free(warn);
}

/* Runs check on one committed profile 'text' (length 'len'); returns the
 * text output. */
static char *check_one(const char *text, size_t len) {
  char *repo = th_repo_new(false);
  ws_str out = WS_STR_INIT;
  th_write_len(repo, "people/x.md", text, len);
  th_repo_commit_all(repo, "x", "Ada <ada@example.org>", 1700000000);
  check(repo, "text", NULL, &out, NULL);
  th_rm_rf(repo);
  free(repo);
  return ws_str_detach(&out);
}

/* The same problems at the same places whatever the line ends, with a
 * byte-order mark, and with tabs and non-ASCII text before the value. */
Test(check, crlf_bom_and_tabs_keep_positions) {
  static const char *const variants[][2] = {
      {"LF", "---\nname: X\nrole:\t42\nmentoring:\n  seeking:\n"
             "    types: [\"conseill\xc3\xa8re\",\tcoah]\nstrengths: [a]\n"
             "bio: b\n---\nNo sections.\n"},
      {"CRLF", "---\r\nname: X\r\nrole:\t42\r\nmentoring:\r\n  seeking:\r\n"
               "    types: [\"conseill\xc3\xa8re\",\tcoah]\r\nstrengths: "
               "[a]\r\nbio: b\r\n---\r\nNo sections.\r\n"},
      {"CR", "---\rname: X\rrole:\t42\rmentoring:\r  seeking:\r"
             "    types: [\"conseill\xc3\xa8re\",\tcoah]\rstrengths: [a]\r"
             "bio: b\r---\rNo sections.\r"},
      {"BOM+CRLF", "\xef\xbb\xbf---\r\nname: X\r\nrole:\t42\r\nmentoring:\r\n"
                   "  seeking:\r\n    types: [\"conseill\xc3\xa8re\",\t"
                   "coah]\r\nstrengths: [a]\r\nbio: b\r\n---\r\n"
                   "No sections.\r\n"},
  };
  const char *want =
      "people/x.md:3:7: error: 'role' must be text, not a number; put it in "
      "quotes\n"
      "people/x.md:6:13: error: unknown mentor type 'conseill\xc3\xa8re'; "
      "expected one of advisor, advocate, affirmer, challenger, coach, "
      "connector, sponsor\n"
      "people/x.md:6:28: error: unknown mentor type 'coah'; did you mean "
      "'coach'?\n"
      "people/x.md:8:1: warning: unknown key 'bio'; it is not shown on the "
      "site\n"
      "people/x.md:10:1: warning: missing recommended section '## "
      "Background' (its first paragraph is your summary on cards)\n";
  for (size_t i = 0; i < COUNT(variants); i++) {
    char *out = check_one(variants[i][1], strlen(variants[i][1]));
    cr_expect_str_eq(out, want, "%s", variants[i][0]);
    free(out);
  }
}

/* Syntax errors and invalid UTF-8 in the body are placed right too. */
Test(check, crlf_bom_and_tabs_in_errors) {
  static const struct {
    const char *name, *text, *want;
  } rows[] = {
      {"tab indent CRLF",
       "\xef\xbb\xbf---\r\nname: X\r\nmentoring:\r\n"
       "\tseeking: {}\r\n---\r\n" BG,
       "people/x.md:4:1: error: invalid YAML: found character that cannot "
       "start any token while scanning for the next token; indent with "
       "spaces, not tabs\n"},
      {"colon in value",
       "---\r\nname: X\r\nrole:\tLead: Platform\r\n---\r\n" BG,
       "people/x.md:3:11: error: invalid YAML: mapping values are not "
       "allowed in this context; a value that contains ': ' must be in "
       "quotes\n"},
      {"latin-1 body CRLF",
       "\xef\xbb\xbf---\r\nname: X\r\nstrengths: [a]\r\n"
       "---\r\n## Background\r\n\r\n\tCaf\xe9\r\n",
       "people/x.md:7:5: error: invalid UTF-8 text; save the file as UTF-8\n"},
      {"utf-16", "\xff\xfe-\0-\0-\0\n\0",
       "people/x.md:1:1: error: the file is UTF-16; save it as UTF-8 (without "
       "a byte-order mark)\n"},
  };
  for (size_t i = 0; i < COUNT(rows); i++) {
    size_t len = strlen(rows[i].text);
    if (strcmp(rows[i].name, "utf-16") == 0)
      len = 10;
    char *out = check_one(rows[i].text, len);
    cr_expect_str_eq(out, rows[i].want, "%s", rows[i].name);
    free(out);
  }
}

/* An empty 'name' points at the key; no front matter at all says how to
 * start one. */
Test(check, missing_name_variants) {
  static const struct {
    const char *name, *text, *want;
  } rows[] = {
      {"empty", "---\nname: \"\"\nstrengths: [a]\n---\n" BG,
       "people/x.md:2:1: error: 'name' is empty; it is the only required "
       "field\n"},
      {"null", "---\nrole: R\nname:\nstrengths: [a]\n---\n" BG,
       "people/x.md:3:1: error: 'name' is empty; it is the only required "
       "field\n"},
      {"no front matter", "# Hi\n\n## Background\n\nHello.\n",
       "people/x.md:1:1: error: a profile needs a 'name' (the only required "
       "field): start the file with a '---' line, 'name: Your Name' and "
       "another '---' line\n"
       "people/x.md:1:1: warning: no strengths listed; add a few, e.g. "
       "strengths: [public speaking, SQL], so people can find you\n"},
  };
  for (size_t i = 0; i < COUNT(rows); i++) {
    char *out = check_one(rows[i].text, strlen(rows[i].text));
    cr_expect_str_eq(out, rows[i].want, "%s", rows[i].name);
    free(out);
  }
}

/* A duplicate must not hide behind another error in one of the files. */
Test(check, duplicate_name_found_when_one_profile_has_errors) {
  char *repo = th_repo_new(false);
  ws_str out = WS_STR_INIT;
  th_write(repo, "people/a.md", "---\nname: Kai\nstrengths: [a]\n---\n" BG);
  th_write(repo, "people/b.md",
           "---\nname: Kai\nstrengths: [a]\nlevel: senior\n---\n" BG);
  th_repo_commit_all(repo, "x", "Ada <ada@example.org>", 1700000000);
  cr_expect_eq(check(repo, "text", NULL, &out, NULL), 1);
  cr_expect_str_eq(out.ptr,
                   "people/b.md:2:7: error: 'Kai' is also the name in "
                   "people/a.md; two people cannot share a name on the "
                   "directory: add a middle name, initial or nickname to one "
                   "of them\n"
                   "people/b.md:4:8: error: 'level' must be a whole number "
                   "from 0 to 20, not 'senior'\n");
  ws_str_release(&out);
  th_rm_rf(repo);
  free(repo);
}

/* Three people share a name in any case and two more another: each
 * repeat points back to the first of its name in sorted order, whatever
 * order the files were read in. */
Test(check, every_repeat_of_a_name_is_reported_once) {
  char *repo = th_repo_new(false);
  ws_str out = WS_STR_INIT;
  th_write(repo, "people/a.md", "---\nname: kai\nstrengths: [a]\n---\n" BG);
  th_write(repo, "people/b.md", "---\nname: Bo\nstrengths: [a]\n---\n" BG);
  th_write(repo, "people/c.md", "---\nname: KAI\nstrengths: [a]\n---\n" BG);
  th_write(repo, "people/d.md", "---\nname: Kai\nstrengths: [a]\n---\n" BG);
  th_write(repo, "people/e.md", "---\nname: bo\nstrengths: [a]\n---\n" BG);
  th_write(repo, "people/f.md", "---\nname: Cy\nstrengths: [a]\n---\n" BG);
  th_repo_commit_all(repo, "x", "Ada <ada@example.org>", 1700000000);
  cr_expect_eq(check(repo, "text", NULL, &out, NULL), 1);
  static const char *const tail =
      "; two people cannot share a name on the directory: add a middle "
      "name, initial or nickname to one of them\n";
  ws_str want = WS_STR_INIT;
  ws_str_printf(&want, "people/a.md:2:7: error: 'kai' is also the name in "
                       "people/c.md%s", tail);
  ws_str_printf(&want, "people/d.md:2:7: error: 'Kai' is also the name in "
                       "people/c.md%s", tail);
  ws_str_printf(&want, "people/e.md:2:7: error: 'bo' is also the name in "
                       "people/b.md%s", tail);
  cr_expect_str_eq(out.ptr, want.ptr);
  ws_str_release(&want);
  ws_str_release(&out);
  th_rm_rf(repo);
  free(repo);
}

/* A folder named People/ would otherwise be skipped without a word. */
Test(check, wrong_case_people_folder_is_an_error) {
  char *repo = th_repo_new(false);
  ws_str out = WS_STR_INIT;
  th_write(repo, "content/People/zed.md", "---\nname: Zed\n---\n" BG);
  th_write(repo, "content/people/amara.MD", "---\nname: Amara\n---\n" BG);
  th_repo_commit_all(repo, "x", "Ada <ada@example.org>", 1700000000);
  const char *argv[] = {"check", "-C", repo, "--content", "content", NULL};
  cr_expect_eq(th_run(NULL, &out, NULL, argv), 1);
  cr_expect_str_eq(
      out.ptr,
      "content/People/zed.md: error: nothing in 'content/People/' is read: "
      "the folder must be called 'people' (lowercase): git mv "
      "'content/People' content/people\n"
      "content/people/amara.MD: error: file name 'amara.MD' must be "
      "lowercase letters, digits and '-', then '.md' (it becomes the page "
      "address); rename it: git mv "
      "'content/people/amara.MD' content/people/amara.md\n");
  ws_str_release(&out);
  th_rm_rf(repo);
  free(repo);
}

/* Profiles one folder deeper than --content says is the commonest setup
 * mistake; an empty team says so, and --strict refuses it. With errors,
 * the errors say enough. */
Test(check, no_profiles_is_a_warning_that_names_content) {
  char *repo = th_repo_new(false);
  ws_str out = WS_STR_INIT;
  th_write(repo, "team/people/zed.md",
           "---\nname: Zed\nstrengths: [SQL]\n---\n" BG);
  th_repo_commit_all(repo, "x", "Ada <ada@example.org>", 1700000000);
  const char *argv[] = {"check", "-C", repo, NULL};
  cr_expect_eq(th_run(NULL, &out, NULL, argv), 0);
  cr_expect_str_eq(out.ptr,
                   "people: warning: no profiles: there is no <slug>.md "
                   "file here; if the team's profiles are in a subfolder, "
                   "point --content at it\n");
  const char *strict[] = {"check", "-C", repo, "--strict", NULL};
  cr_expect_eq(th_run(NULL, NULL, NULL, strict), 1);
  ws_str_clear(&out);
  const char *right[] = {"check", "-C", repo, "--content", "team", NULL};
  cr_expect_eq(th_run(NULL, &out, NULL, right), 0);
  cr_expect_str_eq(out.ptr, "");
  ws_str_release(&out);
  th_rm_rf(repo);
  free(repo);
}

static int build(const char *repo, const char *out, ws_str *err) {
  const char *argv[] = {"build", "-C", repo, "--out", out, NULL};
  return th_run(NULL, NULL, err, argv);
}

static const char broken[] = "---\nname: Amara Okafor\nstrengths: [a]\n"
                             "mentoring:\n  seeking:\n    types: [coah]\n"
                             "---\n" BG;
static const char fixed[] = "---\nname: Amara Okafor\nstrengths: [a]\n"
                            "mentoring:\n  seeking:\n    types: [coach]\n"
                            "---\n" BG;

Test(check, fixed_profile_builds_cleanly) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  char site[4096];
  snprintf(site, sizeof(site), "%s/public", tmp);
  th_write(repo, "people/amara-okafor.md", broken);
  th_repo_commit_all(repo, "Add Amara", "Ada <ada@example.org>", 1700000000);
  cr_expect_eq(check(repo, "text", NULL, &out, NULL), 1);
  cr_expect(has_line(out.ptr, "people/amara-okafor.md:6:13: error: unknown "
                              "mentor type 'coah'; did you mean 'coach'?"),
            "%s", out.ptr);
  th_write(repo, "people/amara-okafor.md", fixed);
  th_repo_commit_all(repo, "Fix Amara", "Ada <ada@example.org>", 1700000100);
  ws_str_clear(&out);
  cr_expect_eq(check(repo, "text", "--strict", &out, NULL), 0, "%s", out.ptr);
  cr_expect_str_eq(out.ptr, "");
  cr_expect_eq(build(repo, site, &err), 0, "%s", err.ptr);
  char *page = th_read(site, "people/amara-okafor/index.html");
  cr_expect(page && strstr(page, "Amara Okafor"));
  free(page);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(tmp);
  th_rm_rf(repo);
  free(tmp);
  free(repo);
}

/* build refuses on errors with the same diagnostics as check, and leaves
 * the previous site exactly as it was. */
Test(check, build_refuses_and_keeps_previous_site) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  char site[4096], ref[4096];
  snprintf(site, sizeof(site), "%s/public", tmp);
  snprintf(ref, sizeof(ref), "%s/reference", tmp);
  th_write(repo, "people/amara-okafor.md", fixed);
  th_repo_commit_all(repo, "Add Amara", "Ada <ada@example.org>", 1700000000);
  cr_assert_eq(build(repo, site, &err), 0, "%s", err.ptr);
  cr_assert_eq(build(repo, ref, &err), 0, "%s", err.ptr);

  th_write(repo, "people/amara-okafor.md", broken);
  th_write(repo, "people/bo.md", "---\nname: Bo\nrole: 7\n---\n" BG);
  th_repo_commit_all(repo, "Break", "Ada <ada@example.org>", 1700000100);
  ws_str_clear(&err);
  cr_expect_eq(build(repo, site, &err), 1, "%s", err.ptr);
  cr_expect_eq(check(repo, "text", NULL, &out, NULL), 1);
  /* Same lines, then one summary line. */
  cr_expect(strncmp(err.ptr, out.ptr, out.len) == 0,
            "build said\n%s\ncheck said\n%s", err.ptr, out.ptr);
  cr_expect(strstr(err.ptr + out.len, "2 errors; the site was not built and "),
            "%s", err.ptr);
  char *diff = th_tree_diff(site, ref);
  cr_expect_null(diff, "the previous site changed at %s", diff);
  free(diff);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(tmp);
  th_rm_rf(repo);
  free(tmp);
  free(repo);
}

Test(check, build_strict_refuses_on_warnings) {
  char *repo = warnings_only_repo(), *tmp = th_tmpdir();
  ws_str err = WS_STR_INIT;
  char site[4096];
  snprintf(site, sizeof(site), "%s/public", tmp);
  const char *argv[] = {"build", "-C", repo, "--out", site, "--strict", NULL};
  cr_expect_eq(th_run(NULL, NULL, &err, argv), 1, "%s", err.ptr);
  cr_expect(!th_exists(site, "index.html"));
  cr_expect_eq(build(repo, site, &err), 0, "%s", err.ptr);
  ws_str_release(&err);
  th_rm_rf(tmp);
  th_rm_rf(repo);
  free(tmp);
  free(repo);
}

static int run_new(const char *repo, const char *slug, const char *name,
                   ws_str *err) {
  const char *argv[] = {"new", "-C", repo, "--name", name, "--", slug, NULL};
  return th_run(NULL, NULL, err, argv);
}

/* The scaffold is clean before and after committing, and builds. */
Test(check, new_output_passes_check) {
  char *repo = th_repo_new(false), *tmp = th_tmpdir();
  ws_str out = WS_STR_INIT, err = WS_STR_INIT;
  char site[4096];
  snprintf(site, sizeof(site), "%s/public", tmp);
  cr_assert_eq(
      run_new(repo, "zoe-muller", "Zo\xc3\xab \"Z\" M\xc3\xbcller", &err), 0,
      "%s", err.ptr);
  char *text = th_read(repo, "people/zoe-muller.md");
  cr_assert(text);
  cr_expect(strstr(text, "name: \"Zo\xc3\xab \\\"Z\\\" M\xc3\xbcller\"\n"),
            "%s", text);
  const char *wt[] = {"check", "-C", repo, "--worktree", "--strict", NULL};
  cr_expect_eq(th_run(NULL, &out, &err, wt), 0, "%s", out.ptr);
  cr_expect_str_eq(out.ptr, "");
  th_repo_commit_all(repo, "Add Zoe", "Ada <ada@example.org>", 1700000000);
  ws_str_clear(&out);
  cr_expect_eq(check(repo, "text", "--strict", &out, NULL), 0, "%s", out.ptr);
  cr_expect_str_eq(out.ptr, "");
  ws_str_clear(&err);
  cr_expect_eq(build(repo, site, &err), 0, "%s", err.ptr);
  char *page = th_read(site, "people/zoe-muller/index.html");
  cr_expect(page && strstr(page, "Zo\xc3\xab &quot;Z&quot; M\xc3\xbcller"),
            "%s", page ? page : "(no page)");
  free(page);
  free(text);
  ws_str_release(&out);
  ws_str_release(&err);
  th_rm_rf(tmp);
  th_rm_rf(repo);
  free(tmp);
  free(repo);
}

Test(check, new_refuses_to_overwrite) {
  char *repo = th_repo_new(false);
  ws_str err = WS_STR_INIT;
  th_write(repo, "people/amara.md", "mine\n");
  cr_expect_eq(run_new(repo, "amara", "Amara", &err), 1);
  cr_expect(strstr(err.ptr, "people/amara.md already exists; not "
                            "overwriting it"),
            "%s", err.ptr);
  char *text = th_read(repo, "people/amara.md");
  cr_expect_str_eq(text, "mine\n");
  free(text);
  ws_str_release(&err);
  th_rm_rf(repo);
  free(repo);
}

Test(check, new_rejects_invalid_slugs) {
  static const char *const bad[] = {"Amara",      "amara_okafor", "-amara",
                                    "amara-",     "../x",         "a/b",
                                    "zo\xc3\xab", "a.md"};
  char *repo = th_repo_new(false);
  for (size_t i = 0; i < COUNT(bad); i++) {
    ws_str err = WS_STR_INIT;
    cr_expect_eq(run_new(repo, bad[i], "X", &err), 2, "%s", bad[i]);
    cr_expect(strstr(err.ptr, "invalid slug"), "%s: %s", bad[i], err.ptr);
    ws_str_release(&err);
  }
  cr_expect(!th_exists(repo, "people"));
  th_rm_rf(repo);
  free(repo);
}
