#!/usr/bin/env python3
"""Writes tests/fixtures/resize/: source images and the crops torchvision makes of them with
Resize(size) + CenterCrop(size) (PIL backend, bilinear with antialias), after PIL's convert
to RGB or L as ImageFolder's loader does. test_data_resize compares dcgan's decode + resize
with these crops. Needs Pillow, numpy and torchvision:
    python3 tests/make_resize_fixture.py
"""
import os

import numpy as np
from PIL import Image
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "resize")


def picture(w, h, seed):
    """Smooth colour fields with edges and a little noise: photo-like, yet compressible."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for c in range(3):
        fx, fy, ph = r.uniform(0.02, 0.2), r.uniform(0.02, 0.2), r.uniform(0, 6.3)
        v = 128 + 90 * np.sin(fx * x + ph) * np.cos(fy * y)
        v += 60 * ((x - w * r.uniform(0.2, 0.8)) ** 2 + (y - h * r.uniform(0.2, 0.8)) ** 2
                   < (min(w, h) * 0.25) ** 2)
        v += r.normal(0, 3, size=v.shape)
        chans.append(v)
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    sources = []   # (file name, PIL image as stored)
    def add(name, img, fmt="PNG", **kw):
        path = os.path.join(OUT, name)
        img.save(path, fmt, **kw)
        sources.append((name, Image.open(path)))

    add("celeba_178x218.png", Image.fromarray(picture(178, 218, 1)))
    add("wide_300x200.png", Image.fromarray(picture(300, 200, 2)))
    add("small_20x30.png", Image.fromarray(picture(20, 30, 3)))
    add("square_64x64.png", Image.fromarray(picture(64, 64, 4)))
    add("large_400x300.png", Image.fromarray(picture(400, 300, 5)))
    add("gray_50x70.png", Image.fromarray(picture(50, 70, 6)).convert("L"))
    add("rgba_61x47.png", Image.fromarray(np.dstack([picture(61, 47, 7),
                                                      picture(61, 47, 8)[..., :1]])))
    add("palette_80x60.png", Image.fromarray(picture(80, 60, 9)).convert("P"))
    add("photo_178x218.jpg", Image.fromarray(picture(178, 218, 10)), "JPEG", quality=90)

    cases = [("celeba_178x218.png", 64, 3), ("celeba_178x218.png", 32, 3),
             ("celeba_178x218.png", 32, 1), ("wide_300x200.png", 64, 3),
             ("small_20x30.png", 64, 3), ("square_64x64.png", 64, 3),
             ("large_400x300.png", 128, 3), ("gray_50x70.png", 32, 3),
             ("gray_50x70.png", 32, 1), ("rgba_61x47.png", 32, 3),
             ("palette_80x60.png", 32, 3), ("photo_178x218.jpg", 64, 3)]
    images = dict(sources)
    lines = []
    for name, size, nc in cases:
        img = images[name].convert("RGB" if nc == 3 else "L")
        crop = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size)])(img)
        ref = f"{os.path.splitext(name)[0]}_{size}_{nc}.png"
        crop.save(os.path.join(OUT, ref))
        lines.append(f"{name} {ref} {size} {nc}")
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(sources)} sources and {len(cases)} reference crops to {OUT}")


if __name__ == "__main__":
    main()
