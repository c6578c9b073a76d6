#!/usr/bin/env python3
"""Generate the abstract demo portraits in content/people/*.png.

This script made the committed photos of the bundled demo team. It is
deterministic (no randomness, no timestamps) and uses only the Python standard
library (struct + zlib), so re-running it reproduces the same bytes:

    python3 tools/make-demo-photos.py [content/people]

Each image is 256x256: a soft diagonal gradient background, a pale halo, and
a stylised head-and-shoulders silhouette with a hair shape, in colours chosen
per person. It is not a build dependency of wholeself.
"""
import os
import struct
import sys
import zlib

SIZE = 256
SS = 3  # supersampling per axis, for anti-aliased edges only

# slug: (bg top-left, bg bottom-right, skin, hair, top, hair style)
PEOPLE = {
    "funmilayo-adebayo":     ("#f6d365", "#fda085", "#8d5524", "#e9a23b", "#1b7f79", "wrap"),
    "aoi-nakamura":          ("#a1c4fd", "#c2e9fb", "#f1c27d", "#1c1c1c", "#e76f51", "bob"),
    "layla-haddad":          ("#d4fc79", "#96e6a1", "#c68642", "#b5527a", "#4f6d7a", "scarf"),
    "kai-chen":              ("#e0c3fc", "#8ec5fc", "#e0ac69", "#101820", "#2a9d8f", "short"),
    "zoe-muller-ostergaard": ("#fbc2eb", "#a6c1ee", "#ffdbac", "#d98c3f", "#264653", "long"),
    "joaquin-rios":          ("#fddb92", "#d1fdff", "#b5835a", "#3d2b1f", "#c0392b", "curly"),
}


def hexrgb(h):
    h = h.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def mix(a, b, t):
    return tuple(a[i] + (b[i] - a[i]) * t for i in range(3))


def in_ellipse(x, y, cx, cy, rx, ry):
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def layers(style, skin, hair, top):
    """Return a list of (colour, predicate(x, y)) painted back to front.
    Coordinates are in 0..256 pixel space."""
    shade = mix(top, (0, 0, 0), 0.25)
    neck = mix(skin, (0, 0, 0), 0.18)
    L = []
    # hair behind the head (long styles)
    if style == "long":
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 128, 62, 78) and y > 70))
    if style == "bob":
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 110, 58, 60) and y < 150))
    if style == "scarf":
        # "hair" is the headscarf colour here
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 112, 62, 70) and y < 175))
    # shoulders and neck
    L.append((neck, lambda x, y: 112 <= x <= 144 and 140 <= y <= 190))
    L.append((top, lambda x, y: in_ellipse(x, y, 128, 262, 100, 80)))
    L.append((shade, lambda x, y: in_ellipse(x, y, 128, 196, 22, 14) and y >= 190))
    L.append((neck, lambda x, y: in_ellipse(x, y, 128, 186, 18, 12) and y <= 190))
    if style == "scarf":  # a headscarf drapes over the neck and shoulders
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 150, 66, 66) and y < 214))
    # head
    L.append((skin, lambda x, y: in_ellipse(x, y, 128, 112, 44, 52)))
    # hair on top
    if style == "short":
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 104, 47, 48)
                  and (y < 84 + abs(x - 128) * 0.15 or (y < 112 and abs(x - 128) > 39))))
    elif style == "bob":
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 100, 50, 48) and y < 86 - (x - 128) * 0.25))
    elif style == "long":
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 104, 48, 50) and y < 84))
    elif style == "curly":
        curls = [(96, 78), (112, 66), (128, 62), (144, 66), (160, 78), (86, 96), (170, 96)]
        L.append((hair, lambda x, y: y < 104 and not in_ellipse(x, y, 128, 126, 40, 42)
                  and any(in_ellipse(x, y, cx, cy, 19, 19) for cx, cy in curls)))
    elif style == "wrap":
        # a gele-style head wrap: "hair" is the fabric colour here
        L.append((mix(hair, (0, 0, 0), 0.12),
                  lambda x, y: in_ellipse(x, y, 150, 50, 34, 24)))
        L.append((hair, lambda x, y: in_ellipse(x, y, 128, 80, 56, 42) and y < 92 - (x - 128) * 0.15))
        L.append((mix(hair, (255, 255, 255), 0.3),
                  lambda x, y: in_ellipse(x, y, 110, 56, 26, 18)))
    elif style == "scarf":
        L.append((mix(hair, (255, 255, 255), 0.12),
                  lambda x, y: in_ellipse(x, y, 128, 104, 50, 52) and y < 84))
    return L


def render(spec):
    bg1, bg2, skin, hair, top, style = spec
    bg1, bg2, skin, hair, top = map(hexrgb, (bg1, bg2, skin, hair, top))
    halo = mix(mix(bg1, bg2, 0.5), (255, 255, 255), 0.35)
    L = layers(style, skin, hair, top)
    offs = [(i + 0.5) / SS for i in range(SS)]
    raw = bytearray()
    prev = bytes(SIZE * 3)
    for py in range(SIZE):
        row = bytearray()
        for px in range(SIZE):
            acc = [0.0, 0.0, 0.0]
            for oy in offs:
                for ox in offs:
                    x, y = px + ox, py + oy
                    t = (x + y) / (2 * SIZE)
                    c = mix(bg1, bg2, t)
                    if in_ellipse(x, y, 128, 128, 104, 104):
                        c = mix(c, halo, 0.55)
                    for col, pred in L:
                        if pred(x, y):
                            c = col
                    acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]
            n = SS * SS
            row += bytes(int(round(v / n)) for v in acc)
        # PNG "Up" filter suits these smooth images and compresses well
        filt = bytes((row[i] - prev[i]) & 0xFF for i in range(len(row)))
        raw += b"\x02" + filt
        prev = bytes(row)
    return png(SIZE, SIZE, bytes(raw))


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(w, h, filtered):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(filtered, 9)) + chunk(b"IEND", b""))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "content", "people")
    for slug, spec in PEOPLE.items():
        path = os.path.join(out, slug + ".png")
        data = render(spec)
        with open(path, "wb") as f:
            f.write(data)
        print("%s %d bytes" % (path, len(data)))


if __name__ == "__main__":
    main()
