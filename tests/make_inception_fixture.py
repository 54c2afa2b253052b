#!/usr/bin/env python3
"""Writes tests/fixtures/inception.safetensors: a few images and the 2048-d features that
pytorch-fid's InceptionV3 (the FID network, block 3, with its own resize and normalisation) gives
them, for tests/test_inception.c. The network's weights are not the real ones (those are not
needed to check the code): every tensor is filled by the formula of tests/inception_random.c,
which the C test evaluates too. Needs torch, torchvision and pytorch-fid:
    python3 -m venv --system-site-packages ENV && ENV/bin/pip install --no-deps pytorch-fid
    ENV/bin/python tests/make_inception_fixture.py
(Debian: apt-get install python3-torch python3-torchvision.)"""
import json
import os
import struct

import numpy as np
import torch
import pytorch_fid.inception as pfi


def fnv1a(name):
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def uniform(name, n):
    """u in [0, 1): 24-bit multiples of 2^-24 from a hash of (name, index), as inception_random.c."""
    x = (np.uint64(fnv1a(name)) + np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF)
    for shift, mul in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        x ^= x >> np.uint64(shift)
        x = (x * np.uint64(mul)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    return (x >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)


def formula(name, shape):
    """The value of every element of tensor `name`, in float32 arithmetic as the C side."""
    u = uniform(name, int(np.prod(shape)))
    sym = u * np.float32(2) - np.float32(1)                      # exact: [-1, 1)
    if name.endswith("conv.weight"):
        bound = np.float32(np.sqrt(6.0 / int(np.prod(shape[1:]))))   # He-uniform: ReLU keeps the scale
        v = sym * bound
    elif name.endswith("bn.weight"):
        v = np.float32(0.75) + np.float32(0.5) * u
    elif name.endswith("bn.bias"):
        v = sym * np.float32(0.25)
    elif name.endswith("bn.running_mean"):
        v = sym * np.float32(0.125)
    elif name.endswith("bn.running_var"):
        v = np.float32(0.5) + u
    else:
        raise ValueError(name)
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def formula_state_dict(url, progress=True):
    """Stands in for pytorch-fid's download: the formula's weights for every tensor of the net."""
    template = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7b",
                 "Mixed_7c"):
        assert hasattr(template, name)
    sd = {}
    for name, t in template.state_dict().items():
        if name.startswith("fc.") or name.endswith("num_batches_tracked"):
            sd[name] = torch.zeros_like(t)
        else:
            sd[name] = formula(name, tuple(t.shape))
    return sd


def images(seed, n, c, h, w):
    """Smooth random pictures in [0, 1]: low-frequency cosines plus a little noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    out = np.empty((n, c, h, w), np.float32)
    for i in range(n):
        for ch in range(c):
            f = rng.uniform(0.5, 4, 4)
            p = 0.5 + 0.25 * np.cos(2 * np.pi * (f[0] * xx + f[1] * yy) + f[2]) + 0.2 * np.cos(2 * np.pi * f[3] * xx * yy)
            out[i, ch] = np.clip(p + 0.05 * rng.standard_normal((h, w)), 0, 1)
    return out


def save(path, tensors, meta):
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def main():
    torch.set_num_threads(os.cpu_count())
    pfi.load_state_dict_from_url = formula_state_dict
    net = pfi.InceptionV3([3]).eval()
    rgb, gray = images(1, 5, 3, 64, 48), images(2, 3, 1, 28, 28)
    with torch.no_grad():
        f_rgb = net(torch.from_numpy(rgb))[0].squeeze(-1).squeeze(-1).numpy()
        f_gray = net(torch.from_numpy(gray).repeat(1, 3, 1, 1))[0].squeeze(-1).squeeze(-1).numpy()
    meta = {"network": "pytorch-fid InceptionV3([3]) with tests/inception_random.c's formula weights",
            "torch": torch.__version__}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "inception.safetensors")
    save(out, {"images_rgb": rgb, "features_rgb": f_rgb, "images_gray": gray, "features_gray": f_gray}, meta)
    print(out, "features: mean %.4f, max %.4f, zero share %.3f" % (f_rgb.mean(), f_rgb.max(), (f_rgb == 0).mean()))


if __name__ == "__main__":
    main()
