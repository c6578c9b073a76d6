#include "binio.h"

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
  for (size_t i = 0; i < 8; i++)
    x[i] = (char)(unsigned char)(v >> (8 * i));
  ws_str_put(b, x, 8);
}

void ws_bin_put_digest(ws_str *b, const ws_digest *d) {
  ws_bin_put_u64(b, d->hi);
  ws_bin_put_u64(b, d->lo);
}

bool ws_bin_need(ws_bin_reader *r, size_t n) {
  if (!r->bad && r->len - r->pos < n)
    r->bad = true;
  return !r->bad;
}

unsigned ws_bin_get_u8(ws_bin_reader *r) {
  return ws_bin_need(r, 1) ? (unsigned char)r->p[r->pos++] : 0;
}

static uint64_t get_le(ws_bin_reader *r, size_t n) {
  uint64_t v = 0;
  if (!ws_bin_need(r, n))
    return 0;
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)(unsigned char)r->p[r->pos + i] << (8 * i);
  r->pos += n;
  return v;
}

uint32_t ws_bin_get_u32(ws_bin_reader *r) {
  return (uint32_t)get_le(r, 4);
}

uint64_t ws_bin_get_u64(ws_bin_reader *r) {
  return get_le(r, 8);
}

ws_digest ws_bin_get_digest(ws_bin_reader *r) {
  ws_digest d;
  d.hi = ws_bin_get_u64(r);
  d.lo = ws_bin_get_u64(r);
  return d;
}

const char *ws_bin_get_span(ws_bin_reader *r, size_t len) {
  if (!ws_bin_need(r, len))
    return NULL;
  const char *s = r->p + r->pos;
  r->pos += len;
  return s;
}
