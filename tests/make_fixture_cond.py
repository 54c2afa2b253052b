#!/usr/bin/env python3
"""Generate the PyTorch training-parity fixture of the class-conditional DCGAN.

Writes tests/fixtures/parity_cond.safetensors: the same tiny DCGAN and iteration
as tests/make_fixture.py (size 32, nc=1, nz=8, ngf=ndf=8, batch 4, 3 iterations,
nonsat loss, Adam), made class-conditional (Mirza & Osindero) on K=3 classes:
  G input  = cat([z, one_hot(c)], 1)                       [B, nz + K, 1, 1]
  D input  = cat([x, one_hot(c) broadcast to S x S], 1)    [B, nc + K, S, S]
so G's main.0.weight is [nz + K, 4 * ngf, 4, 4] and D's [ndf, nc + K, 4, 4].
Real batches carry random labels, fakes random classes; the G step reuses the
last D step's fakes and their classes.

Tensors as in make_fixture.py, plus
  it{i}.d{j}.real_classes / fake_classes   int64 [B]
Metadata adds nclasses.

Usage: python3 tests/make_fixture_cond.py [--out-dir tests/fixtures]
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
from make_fixture import (_scalar, _t, canonicalise_header, d_loss_fake, d_loss_real,  # noqa: E402
                          g_loss, put_state)
from pytorch_dcgan import make_D, make_G  # noqa: E402

SIZE, NC, NZ, NGF, NDF, BATCH, ITERS, K = 32, 1, 8, 8, 8, 4, 3, 3
SEED = 4321
LOSS = "nonsat"


def g_input(z, c):
    return torch.cat([z, F.one_hot(c, K).float().view(-1, K, 1, 1)], 1)


def d_input(x, c):
    planes = F.one_hot(c, K).float().view(-1, K, 1, 1).expand(-1, K, SIZE, SIZE)
    return torch.cat([x, planes], 1)


def real_batch():
    k = (torch.rand(BATCH, NC, SIZE, SIZE) * 256).floor().clamp_(0, 255)
    return (k / 255.0 - 0.5) / 0.5


def generate():
    torch.manual_seed(SEED)
    netG = make_G(SIZE, NZ + K, NGF, NC)   # the class is extra input channels of the first layer
    netD = make_D(SIZE, NC + K, NDF)
    netG.train()
    netD.train()
    lr, beta1, beta2, eps = 2e-4, 0.5, 0.999, 1e-8
    optD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(beta1, beta2), eps=eps)
    optG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(beta1, beta2), eps=eps)

    out = {}
    put_state(out, "G.init.", netG)
    put_state(out, "D.init.", netD)
    for i in range(ITERS):
        p = "it%d.d0." % i
        netD.zero_grad()
        real = real_batch()
        real_c = torch.randint(0, K, (BATCH,))
        lr_ = netD(d_input(real, real_c))
        err_real = d_loss_real(LOSS, lr_)
        err_real.backward()
        noise = torch.randn(BATCH, NZ, 1, 1)
        fake_c = torch.randint(0, K, (BATCH,))
        fake = netG(g_input(noise, fake_c))
        lf = netD(d_input(fake.detach(), fake_c))
        err_fake = d_loss_fake(LOSS, lf)
        err_fake.backward()
        out[p + "real"] = _t(real)
        out[p + "noise"] = _t(noise)
        out[p + "real_classes"] = real_c.to(torch.int64).contiguous()
        out[p + "fake_classes"] = fake_c.to(torch.int64).contiguous()
        out[p + "loss_d_real"] = _scalar(err_real)
        out[p + "loss_d_fake"] = _scalar(err_fake)
        out[p + "fake"] = _t(fake)
        for n, prm in netD.named_parameters():
            out[p + "grad.D." + n] = _t(prm.grad)
        optD.step()

        p = "it%d." % i
        netG.zero_grad()
        lg = netD(d_input(fake, fake_c))
        errG = g_loss(LOSS, lg)
        errG.backward()
        out[p + "loss_g"] = _scalar(errG)
        for n, prm in netG.named_parameters():
            out[p + "grad.G." + n] = _t(prm.grad)
        optG.step()
        put_state(out, p + "G.", netG)
        put_state(out, p + "D.", netD)

    meta = {
        "size": str(SIZE), "nc": str(NC), "nz": str(NZ), "ngf": str(NGF), "ndf": str(NDF),
        "nclasses": str(K), "batch": str(BATCH), "iters": str(ITERS), "d_steps": "1", "loss": LOSS,
        "optimizer": "adam", "lr": repr(lr), "beta1": repr(beta1), "beta2": repr(beta2), "alpha": "0.0",
        "eps": repr(eps), "clip": "0", "seed": str(SEED), "torch_version": torch.__version__,
    }
    return out, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(HERE, "fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out_dir, exist_ok=True)
    tensors, meta = generate()
    path = os.path.join(args.out_dir, "parity_cond.safetensors")
    save_file(tensors, path, metadata=meta)
    canonicalise_header(path)
    os.chmod(path, 0o644)
    # The conditional state_dicts load into the plain example's modules of the wider first layer.
    t = load_file(path)
    for prefix, net in (("G.init.", make_G(SIZE, NZ + K, NGF, NC)), ("D.init.", make_D(SIZE, NC + K, NDF))):
        net.load_state_dict({k[len(prefix):]: v for k, v in t.items() if k.startswith(prefix)}, strict=True)
    print("wrote %s (%d tensors, %d bytes)" % (path, len(tensors), os.path.getsize(path)))


if __name__ == "__main__":
    main()
