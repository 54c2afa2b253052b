#!/usr/bin/env python3
"""Generate PyTorch training-parity fixtures for the C DCGAN trainer.

Writes tests/fixtures/parity_<loss>.safetensors for each loss in
nonsat, minimax, ml, wgan, lsgan, hinge.

Each file records, for a tiny DCGAN (size 32, nc=1, nz=8, ngf=8, ndf=8,
batch 4, 3 iterations) trained with the pytorch/examples dcgan/main.py
iteration semantics:
  G.init.<k>, D.init.<k>                 state_dicts before training
  it{i}.d{j}.real / noise / fake         inputs and G output of D step j
  it{i}.d{j}.logits_real / logits_fake   D logits [B]
  it{i}.d{j}.loss_d_real / loss_d_fake   [1]
  it{i}.d{j}.grad.D.<p>                  D grads right before optimizerD.step()
  it{i}.loss_g, it{i}.logits_g           G step loss [1] and D logits on fake [B]
  it{i}.grad.G.<p>                       G grads right before optimizerG.step()
  it{i}.G.<k>, it{i}.D.<k>               state_dicts after iteration i
Metadata (strings): size nc nz ngf ndf batch iters d_steps loss optimizer lr
beta1 beta2 alpha eps clip seed torch_version.  Adam uses beta1/beta2 (alpha
"0.0"); RMSprop uses alpha (torch's smoothing constant; beta1/beta2 "0.0").

Usage: python3 tests/make_fixture.py [--out-dir tests/fixtures] [--loss LOSS ...]
"""
import argparse
import collections
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
from pytorch_dcgan import make_D, make_G  # noqa: E402

LOSSES = ("nonsat", "minimax", "ml", "wgan", "lsgan", "hinge")

SIZE, NC, NZ, NGF, NDF, BATCH, ITERS = 32, 1, 8, 8, 8, 4, 3
SEED = 1234


def d_loss_real(loss, lr):
    """Real half of the D loss, averaged over the batch."""
    if loss in ("nonsat", "minimax", "ml"):
        return F.softplus(-lr).mean()  # BCEWithLogits(lr, 1)
    if loss == "wgan":
        return -lr.mean()
    if loss == "lsgan":
        return 0.5 * ((lr - 1) ** 2).mean()
    if loss == "hinge":
        return F.relu(1 - lr).mean()
    raise ValueError(loss)


def d_loss_fake(loss, lf):
    """Fake half of the D loss, averaged over the batch."""
    if loss in ("nonsat", "minimax", "ml"):
        return F.softplus(lf).mean()  # BCEWithLogits(lf, 0)
    if loss == "wgan":
        return lf.mean()
    if loss == "lsgan":
        return 0.5 * (lf ** 2).mean()
    if loss == "hinge":
        return F.relu(1 + lf).mean()
    raise ValueError(loss)


def g_loss(loss, lf):
    if loss == "nonsat":
        return F.softplus(-lf).mean()
    if loss == "minimax":
        return -F.softplus(lf).mean()
    if loss == "ml":
        return -0.5 * torch.exp(lf).mean()
    if loss in ("wgan", "hinge"):
        return -lf.mean()
    if loss == "lsgan":
        return 0.5 * ((lf - 1) ** 2).mean()
    raise ValueError(loss)


def _t(x):
    """Detached contiguous copy; float32 unless integer (num_batches_tracked)."""
    x = x.detach().clone().contiguous()
    if x.dtype.is_floating_point:
        x = x.to(torch.float32)
    return x


def _scalar(x):
    return _t(x).reshape(1)


def put_state(out, prefix, module):
    for k, v in module.state_dict().items():
        out[prefix + k] = _t(v)


def real_batch():
    """Random images quantised to what ToTensor()+Normalize(0.5, 0.5) would yield."""
    k = (torch.rand(BATCH, NC, SIZE, SIZE) * 256).floor().clamp_(0, 255)
    return (k / 255.0 - 0.5) / 0.5


def generate(loss):
    torch.manual_seed(SEED)
    netG = make_G(SIZE, NZ, NGF, NC)
    netD = make_D(SIZE, NC, NDF)
    netG.train()
    netD.train()

    wgan = loss == "wgan"
    d_steps = 2 if wgan else 1
    clip = 0.01 if wgan else 0.0
    if wgan:
        opt_name, lr, beta1, beta2, alpha, eps = "rmsprop", 5e-5, 0.0, 0.0, 0.99, 1e-8
        optD = torch.optim.RMSprop(netD.parameters(), lr=lr, alpha=alpha, eps=eps)
        optG = torch.optim.RMSprop(netG.parameters(), lr=lr, alpha=alpha, eps=eps)
    else:
        opt_name, lr, beta1, beta2, alpha, eps = "adam", 2e-4, 0.5, 0.999, 0.0, 1e-8
        optD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(beta1, beta2), eps=eps)
        optG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(beta1, beta2), eps=eps)

    out = {}
    put_state(out, "G.init.", netG)
    put_state(out, "D.init.", netD)

    for i in range(ITERS):
        fake = None
        for j in range(d_steps):
            p = "it%d.d%d." % (i, j)
            netD.zero_grad()
            real = real_batch()
            lr_ = netD(real)
            err_real = d_loss_real(loss, lr_)
            err_real.backward()
            noise = torch.randn(BATCH, NZ, 1, 1)
            fake = netG(noise)
            lf = netD(fake.detach())
            err_fake = d_loss_fake(loss, lf)
            err_fake.backward()

            out[p + "real"] = _t(real)
            out[p + "noise"] = _t(noise)
            out[p + "loss_d_real"] = _scalar(err_real)
            out[p + "loss_d_fake"] = _scalar(err_fake)
            out[p + "logits_real"] = _t(lr_)
            out[p + "logits_fake"] = _t(lf)
            out[p + "fake"] = _t(fake)
            for n, prm in netD.named_parameters():
                out[p + "grad.D." + n] = _t(prm.grad)

            optD.step()
            if clip > 0:
                with torch.no_grad():
                    for prm in netD.parameters():
                        prm.clamp_(-clip, clip)

        p = "it%d." % i
        netG.zero_grad()
        lg = netD(fake)  # fake of the last D step, not regenerated
        errG = g_loss(loss, lg)
        errG.backward()
        out[p + "loss_g"] = _scalar(errG)
        out[p + "logits_g"] = _t(lg)
        for n, prm in netG.named_parameters():
            out[p + "grad.G." + n] = _t(prm.grad)
        optG.step()

        put_state(out, p + "G.", netG)
        put_state(out, p + "D.", netD)

    meta = {
        "size": str(SIZE), "nc": str(NC), "nz": str(NZ), "ngf": str(NGF), "ndf": str(NDF),
        "batch": str(BATCH), "iters": str(ITERS), "d_steps": str(d_steps), "loss": loss,
        "optimizer": opt_name, "lr": repr(lr), "beta1": repr(beta1), "beta2": repr(beta2),
        "alpha": repr(alpha), "eps": repr(eps), "clip": "0.01" if wgan else "0", "seed": str(SEED),
        "torch_version": torch.__version__,
    }
    return out, meta


def canonicalise_header(path):
    """safetensors writes __metadata__ in hash-map order, which varies between runs;
    rewrite the JSON header with sorted metadata keys (same byte length) so that
    regenerated fixtures are byte-identical."""
    with open(path, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        raw = f.read(n)
        hdr = json.loads(raw.decode("utf-8"), object_pairs_hook=collections.OrderedDict)
        meta = hdr.pop("__metadata__", None)
        new = collections.OrderedDict()
        if meta is not None:
            new["__metadata__"] = collections.OrderedDict(sorted(meta.items()))
        new.update(hdr)
        enc = json.dumps(new, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(enc) > n:
            raise RuntimeError("canonical header longer than original for %s" % path)
        enc += b" " * (n - len(enc))
        f.seek(8)
        f.write(enc)


def check_roundtrip(path):
    t = load_file(path)
    for prefix, net in (("G.init.", make_G(SIZE, NZ, NGF, NC)), ("D.init.", make_D(SIZE, NC, NDF))):
        sd = {k[len(prefix):]: v for k, v in t.items() if k.startswith(prefix)}
        net.load_state_dict(sd, strict=True)
        for k, v in net.state_dict().items():
            assert torch.equal(v, sd[k]), (path, prefix + k)
    for k, v in t.items():
        assert v.is_contiguous()
        if k.endswith("num_batches_tracked"):
            assert v.dtype == torch.int64, k
        else:
            assert v.dtype == torch.float32, k


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(HERE, "fixtures"))
    ap.add_argument("--loss", nargs="*", default=list(LOSSES), choices=LOSSES)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out_dir, exist_ok=True)

    for loss in args.loss:
        tensors, meta = generate(loss)
        path = os.path.join(args.out_dir, "parity_%s.safetensors" % loss)
        save_file(tensors, path, metadata=meta)
        canonicalise_header(path)
        os.chmod(path, 0o644)
        check_roundtrip(path)
        print("wrote %s (%d tensors, %d bytes)" % (path, len(tensors), os.path.getsize(path)))


if __name__ == "__main__":
    main()
