#include "binio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void ws_bin_put_u8(ws_str *b, unsigned v) {
  ws_str_putc(b, (char)(unsigned char)v);
}

void ws_bin_put_u32(ws_str *b, uint32_t v) {
  char x[4];
  for (size_t i = 0; i < 4; i++)
    x[i] = (char)(unsigned char)(v >> (8 * i));
  ws_str_put(b, x, 4);
}

void ws_bin_put_u64(ws_str *b, uint64_t v) {
  char x[8];
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(x, &v, 8); /* one store: the caches write a million numbers */
#else
  for (size_t i = 0; i < 8; i++)
    x[i] = (char)(unsigned char)(v >> (8 * i));
#endif
  ws_str_put(b, x, 8);
}

void ws_bin_put_digest(ws_str *b, const ws_digest *d) {
  ws_bin_put_u64(b, d->hi);
  ws_bin_put_u64(b, d->lo);
}

const char *ws_bin_read_file(ws_str *out, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? "missing" : "unreadable";
  struct stat st;
  const char *why = NULL;
  if (fstat(fd, &st) == 0 && st.st_size > 0)
    ws_str_grow(out, (size_t)st.st_size + 1);
  for (;;) {
    if (out->cap - out->len < 2)
      ws_str_grow(out, 65536);
    ssize_t n = read(fd, out->ptr + out->len, out->cap - out->len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      why = "unreadable";
    if (n <= 0)
      break;
    out->len += (size_t)n;
    out->ptr[out->len] = '\0';
  }
  close(fd);
  return why;
}

const char *ws_bin_map_file(ws_bin_map *out, const char *path) {
  out->ptr = NULL;
  out->len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? "missing" : "unreadable";
  struct stat st;
  const char *why = NULL;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
      (uint64_t)st.st_size > SIZE_MAX) {
    why = "unreadable";
  } else if (st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      why = "unreadable";
    } else {
      out->ptr = p;
      out->len = (size_t)st.st_size;
    }
  }
  close(fd);
  return why;
}

void ws_bin_unmap(ws_bin_map *m) {
  if (m->ptr)
    munmap((void *)(uintptr_t)m->ptr, m->len);
  m->ptr = NULL;
  m->len = 0;
}

static bool write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

static bool write_parts(const char *dir, const char *path,
                        const ws_bin_part *parts, size_t n, bool alone);

bool ws_bin_write_file(const char *dir, const char *path, const char *data,
                       size_t len) {
  ws_bin_part all = {data, len};
  return write_parts(dir, path, &all, 1, false);
}

bool ws_bin_write_alone(const char *dir, const char *path, const char *data,
                        size_t len) {
  ws_bin_part all = {data, len};
  return write_parts(dir, path, &all, 1, true);
}

bool ws_bin_write_parts(const char *dir, const char *path,
                        const ws_bin_part *parts, size_t n) {
  return write_parts(dir, path, parts, n, false);
}

static bool write_parts(const char *dir, const char *path,
                        const ws_bin_part *parts, size_t n, bool alone) {
  ws_str tmp = WS_STR_INIT;
  ws_str_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
  (void)mkdir(dir, 0777);
  int fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                0666);
  bool ok = fd >= 0;
  for (size_t i = 0; i < n && ok; i++)
    ok = write_all(fd, parts[i].data, parts[i].len);
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  /* Renaming over a file makes ext4 write the new one's data out first
   * (its guard for programs that never sync). */
  if (ok && alone)
    (void)unlink(path);
  if (ok && rename(tmp.ptr, path) != 0)
    ok = false;
  if (!ok && fd >= 0)
    unlink(tmp.ptr);
  ws_str_release(&tmp);
  return ok;
}
