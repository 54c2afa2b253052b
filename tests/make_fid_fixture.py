#!/usr/bin/env python3
"""Writes tests/fixtures/fid.safetensors: two feature sets and what the reference tools make of
them, for tests/test_fid.c. Needs torch, scipy, pytorch-fid and torch-fidelity:
    python3 -m venv --system-site-packages ENV && ENV/bin/pip install --no-deps pytorch-fid torch-fidelity tqdm
    ENV/bin/python tests/make_fid_fixture.py
The sets are correlated Gaussians (a random mixing matrix), like pool features, of 128 dimensions;
FID comes from pytorch-fid's calculate_frechet_distance on numpy's mean and covariance, KID from
torch-fidelity's kid_features_to_metric with one subset of every vector (so no random choice is
involved: the subset is each whole set)."""
import json
import os
import struct

import numpy as np
import torch
from pytorch_fid.fid_score import calculate_frechet_distance
from torch_fidelity.metric_kid import kid_features_to_metric

N, D = 400, 128


def features(rng, shift, scale):
    mix = rng.standard_normal((D, D)) / np.sqrt(D)
    z = rng.standard_normal((N, D))
    return (np.abs(z @ mix * scale + shift)).astype(np.float32)   # ReLU-like, non-negative as pool features


def save(path, tensors, meta):
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        dtype = {np.float32: "F32", np.float64: "F64"}[array.dtype.type]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def main():
    rng = np.random.default_rng(2026)
    a, b = features(rng, 0.3, 1.0), features(rng, 0.5, 1.2)
    mu_a, mu_b = a.astype(np.float64).mean(0), b.astype(np.float64).mean(0)
    s_a, s_b = np.cov(a.astype(np.float64), rowvar=False), np.cov(b.astype(np.float64), rowvar=False)
    fid = calculate_frechet_distance(mu_a, s_a, mu_b, s_b)
    kid = kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), kid_subsets=1, kid_subset_size=N,
                                 rng_seed=1, verbose=False)
    meta = {"fid": repr(float(fid)), "kid_mean": repr(kid["kernel_inception_distance_mean"]),
            "tools": "pytorch-fid calculate_frechet_distance, torch-fidelity kid_features_to_metric"}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "fid.safetensors")
    save(out, {"a": a, "b": b, "mu_a": mu_a, "sigma_a": s_a}, meta)
    print(out, meta)


if __name__ == "__main__":
    main()
