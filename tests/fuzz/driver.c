/* driver.c - replays every fuzz corpus in `make test`, so each seed and
 * each crash found by libFuzzer (kept as a seed) stays a regression test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

int ws_fuzz_mustache(const uint8_t *data, size_t size);
int ws_fuzz_frontmatter(const uint8_t *data, size_t size);
int ws_fuzz_profile(const uint8_t *data, size_t size);

static size_t replay(const char *target, int (*fn)(const uint8_t *, size_t)) {
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", th_root(), target);
  DIR *d = opendir(dir);
  cr_assert(d, "no corpus folder %s", dir);
  struct dirent *e;
  size_t n = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    ws_str data = WS_STR_INIT;
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
      ws_str_put(&data, buf, got);
    fclose(f);
    fn((const uint8_t *)data.ptr, data.len);
    ws_str_release(&data);
    n++;
  }
  closedir(d);
  return n;
}

Test(fuzz, replay_mustache_corpus) {
  cr_expect_gt(replay("mustache", ws_fuzz_mustache), 5);
}

Test(fuzz, replay_frontmatter_corpus) {
  cr_expect_gt(replay("frontmatter", ws_fuzz_frontmatter), 5);
}

Test(fuzz, replay_profile_corpus) {
  cr_expect_gt(replay("profile", ws_fuzz_profile), 5);
}
