/* image.h - recognise raster photos by their magic bytes and read their
 * size, so pages can give width and height and never ship an SVG.
 */
#ifndef WS_IMAGE_H
#define WS_IMAGE_H

#include <stddef.h>

typedef enum {
  WS_IMAGE_UNKNOWN,
  WS_IMAGE_PNG,
  WS_IMAGE_JPEG,
  WS_IMAGE_WEBP
} ws_image_type;

typedef struct {
  ws_image_type type;
  unsigned width, height; /* 0 when the header does not say */
} ws_image_info;

/** Largest photo accepted, in bytes. */
#define WS_IMAGE_MAX_BYTES (5 * 1024 * 1024)

/** Identifies the 'len' bytes at 'data'; type WS_IMAGE_UNKNOWN when they are
 * not a PNG, JPEG or WebP image. Never reads past 'len'. */
ws_image_info ws_image_probe(const unsigned char *data, size_t len);
/** Returns the file extension for 'type' ("png"), or NULL. */
const char *ws_image_ext(ws_image_type type);

#endif
