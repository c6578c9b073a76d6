#include "image.h"

#include <string.h>

static unsigned be16(const unsigned char *p) {
  return (unsigned)p[0] << 8 | p[1];
}

static unsigned be32(const unsigned char *p) {
  return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 |
         p[3];
}

static unsigned le16(const unsigned char *p) {
  return (unsigned)p[1] << 8 | p[0];
}

static unsigned le24(const unsigned char *p) {
  return (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0];
}

static ws_image_info png(const unsigned char *d, size_t len) {
  ws_image_info info = {WS_IMAGE_PNG, 0, 0};
  if (len >= 24 && memcmp(d + 12, "IHDR", 4) == 0) {
    info.width = be32(d + 16);
    info.height = be32(d + 20);
  }
  return info;
}

/* Walks the JPEG markers to the first start-of-frame, which holds the size. */
static ws_image_info jpeg(const unsigned char *d, size_t len) {
  ws_image_info info = {WS_IMAGE_JPEG, 0, 0};
  size_t i = 2;
  while (i + 4 <= len) {
    if (d[i] != 0xff) {
      i++;
      continue;
    }
    unsigned char m = d[i + 1];
    if (m == 0xff) {
      i++;
      continue;
    }
    if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2;
      continue;
    }
    size_t seg = be16(d + i + 2);
    if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
      if (i + 9 <= len) {
        info.height = be16(d + i + 5);
        info.width = be16(d + i + 7);
      }
      return info;
    }
    if (seg < 2)
      break;
    i += 2 + seg;
  }
  return info;
}

static ws_image_info webp(const unsigned char *d, size_t len) {
  ws_image_info info = {WS_IMAGE_WEBP, 0, 0};
  if (len < 30)
    return info;
  if (memcmp(d + 12, "VP8 ", 4) == 0 && d[23] == 0x9d && d[24] == 0x01 &&
      d[25] == 0x2a) {
    info.width = le16(d + 26) & 0x3fff;
    info.height = le16(d + 28) & 0x3fff;
  } else if (memcmp(d + 12, "VP8L", 4) == 0 && d[20] == 0x2f) {
    unsigned b = (unsigned)d[21] | (unsigned)d[22] << 8 |
                 (unsigned)d[23] << 16 | (unsigned)d[24] << 24;
    info.width = (b & 0x3fff) + 1;
    info.height = ((b >> 14) & 0x3fff) + 1;
  } else if (memcmp(d + 12, "VP8X", 4) == 0) {
    info.width = le24(d + 24) + 1;
    info.height = le24(d + 27) + 1;
  }
  return info;
}

ws_image_info ws_image_probe(const unsigned char *data, size_t len) {
  static const unsigned char png_sig[8] = {0x89, 'P',  'N',  'G',
                                           '\r', '\n', 0x1a, '\n'};
  ws_image_info none = {WS_IMAGE_UNKNOWN, 0, 0};
  if (len >= 8 && memcmp(data, png_sig, 8) == 0)
    return png(data, len);
  if (len >= 4 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return jpeg(data, len);
  if (len >= 16 && memcmp(data, "RIFF", 4) == 0 &&
      memcmp(data + 8, "WEBP", 4) == 0)
    return webp(data, len);
  return none;
}

const char *ws_image_ext(ws_image_type type) {
  switch (type) {
  case WS_IMAGE_PNG:
    return "png";
  case WS_IMAGE_JPEG:
    return "jpg";
  case WS_IMAGE_WEBP:
    return "webp";
  default:
    return NULL;
  }
}
