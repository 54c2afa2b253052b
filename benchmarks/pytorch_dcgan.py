#!/usr/bin/env python3
"""PyTorch reference DCGAN (pytorch/examples dcgan/main.py) model builders and
a training-iteration throughput benchmark.

The model builders (make_G, make_D, weights_init) are imported by
tests/make_fixture.py, so the networks are defined exactly once.

Networks follow the example: nn.Sequential named `main`, generalised over the
image size (32/64/128: one stride-2 block per doubling).  The discriminator
returns a LOGIT (no Sigmoid); losses use the logits-based forms.

Usage:
  python3 benchmarks/pytorch_dcgan.py --size 32 --nc 1 --batch-size 64 \
      --ngf 64 --ndf 64 --threads 2 [--device cuda] [--json]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SUPPORTED_SIZES = (32, 64, 128)


def _top_mult(size):
    if size not in SUPPORTED_SIZES:
        raise ValueError("size must be one of %s, got %r" % (SUPPORTED_SIZES, size))
    return size // 8  # 32 -> 4, 64 -> 8, 128 -> 16


class Generator(nn.Module):
    def __init__(self, size, nz, ngf, nc):
        super().__init__()
        mult = _top_mult(size)
        layers = [
            nn.ConvTranspose2d(nz, ngf * mult, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * mult),
            nn.ReLU(True),
        ]
        while mult > 1:
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * (mult // 2), 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * (mult // 2)),
                nn.ReLU(True),
            ]
            mult //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


class Discriminator(nn.Module):
    def __init__(self, size, nc, ndf):
        super().__init__()
        top = _top_mult(size)
        layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        while mult < top:
            layers += [
                nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * mult * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            mult *= 2
        layers += [nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False)]  # logit, no Sigmoid
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1)


def weights_init(m):
    """The example's custom init: Conv N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def make_G(size, nz, ngf, nc):
    g = Generator(size, nz, ngf, nc)
    g.apply(weights_init)
    return g


def make_D(size, nc, ndf):
    d = Discriminator(size, nc, ndf)
    d.apply(weights_init)
    return d


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Time the PyTorch DCGAN example's training iteration")
    p.add_argument("--size", type=int, default=64, choices=SUPPORTED_SIZES)
    p.add_argument("--nc", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = torch default)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda requested but CUDA is not available")
    dev = torch.device(args.device)
    torch.manual_seed(args.seed)

    netG = make_G(args.size, args.nz, args.ngf, args.nc).to(dev)
    netD = make_D(args.size, args.nc, args.ndf).to(dev)
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)

    B = args.batch_size
    # Fixed synthetic "real" data in [-1, 1] (what the data loader would yield).
    real = (torch.rand(B, args.nc, args.size, args.size) * 2 - 1).to(dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def iteration():
        # (1) D: maximize log(D(x)) + log(1 - D(G(z)))  -- logits + BCEWithLogits
        netD.zero_grad()
        out = netD(real)
        errD_real = F.softplus(-out).mean()  # BCEWithLogits(out, 1)
        errD_real.backward()
        noise = torch.randn(B, args.nz, 1, 1, device=dev)
        fake = netG(noise)
        out = netD(fake.detach())
        errD_fake = F.softplus(out).mean()  # BCEWithLogits(out, 0)
        errD_fake.backward()
        optD.step()
        # (2) G: maximize log(D(G(z)))  (non-saturating)
        netG.zero_grad()
        out = netD(fake)
        errG = F.softplus(-out).mean()
        errG.backward()
        optG.step()
        return errD_real, errD_fake, errG

    for _ in range(args.warmup):
        iteration()
    sync()

    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        losses = iteration()
        sync()
        times.append(time.perf_counter() - t0)
    # Touch the losses so nothing could be considered dead work.
    _ = [float(l.detach()) for l in losses]

    ips = [B / t for t in times]
    med_ips = statistics.median(ips)
    med_t = statistics.median(times)
    threads = torch.get_num_threads()
    res = {
        "impl": "pytorch",
        "images_per_s": med_ips,
        "median_iter_s": med_t,
        "min_iter_s": min(times),
        "size": args.size,
        "nc": args.nc,
        "batch_size": B,
        "ngf": args.ngf,
        "ndf": args.ndf,
        "nz": args.nz,
        "iters": args.iters,
        "warmup": args.warmup,
        "threads": threads,
        "device": args.device,
        "torch_version": torch.__version__,
    }
    print(
        "pytorch dcgan: size=%d nc=%d batch=%d ngf=%d ndf=%d nz=%d device=%s threads=%d: "
        "%.1f images/s (median iter %.2f ms over %d iters)"
        % (args.size, args.nc, B, args.ngf, args.ndf, args.nz, args.device, threads,
           med_ips, med_t * 1e3, args.iters),
        file=sys.stderr if args.json else sys.stdout,
    )
    if args.json:
        print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
