#!/usr/bin/env python3
"""Converts pytorch-fid's Inception-v3 weights for FID into the safetensors file that `dcgan fid`
and `dcgan train --fid-every` read. Needs torch (Debian: python3-torch), nothing else; nothing is
downloaded. Get the weights file yourself from
  https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
usage: python3 scripts/inception_weights.py pt_inception-2015-12-05-6726825d.pth [OUT]
OUT: $DCGAN_INCEPTION, else $XDG_CACHE_HOME/dcgan/ (or ~/.cache/dcgan/) pt_inception-2015-12-05.safetensors.
The file's SHA-256 must start with 6726825d (the name pytorch-fid gives it); --force skips the check."""
import argparse
import hashlib
import json
import os
import struct
import sys

EXPECTED_SHA256_PREFIX = "6726825d"
OUT_NAME = "pt_inception-2015-12-05.safetensors"


def default_out():
    if os.environ.get("DCGAN_INCEPTION"):
        return os.environ["DCGAN_INCEPTION"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "dcgan", OUT_NAME)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_safetensors(path, tensors, meta):
    """The safetensors layout (8-byte header length, JSON header, raw little-endian data), written
    to a temporary file and renamed."""
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pth", help="pt_inception-2015-12-05-6726825d.pth")
    ap.add_argument("out", nargs="?", default=default_out())
    ap.add_argument("--force", action="store_true", help="skip the SHA-256 check")
    a = ap.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("error: this script needs torch (Debian: apt-get install python3-torch; or pip install torch)")
    if not os.path.isfile(a.pth):
        sys.exit("error: %s: no such file (download it from the pytorch-fid release named in --help)" % a.pth)
    digest = sha256(a.pth)
    if not digest.startswith(EXPECTED_SHA256_PREFIX) and not a.force:
        sys.exit("error: %s: SHA-256 %s... is not pytorch-fid's weights (%s...); --force converts it anyway"
                 % (a.pth, digest[:8], EXPECTED_SHA256_PREFIX))
    state = torch.load(a.pth, map_location="cpu")
    if not isinstance(state, dict) or "Conv2d_1a_3x3.conv.weight" not in state:
        sys.exit("error: %s: not an Inception-v3 state_dict (no Conv2d_1a_3x3.conv.weight)" % a.pth)
    tensors = {k: v.float() for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point()}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    write_safetensors(a.out, tensors, {"source": os.path.basename(a.pth), "sha256": digest})
    print("wrote %s: %d tensors, %.1f M values, from %s" % (a.out, len(tensors),
          sum(t.numel() for t in tensors.values()) / 1e6, a.pth))


if __name__ == "__main__":
    main()
