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
      --ngf 64 --ndf 64 --threads 2 [--json]
  python3 benchmarks/pytorch_dcgan.py --device cuda --size 64 --nc 3 --batch-size 128 \
      [--forms eager,compile,graph,compile+graph] [--compile-mode default] [--json]

On cuda every form is timed in the same process: eager fp32 (cudnn.benchmark) and the fast
forms; the JSON gives each, plus best_form / best_images_per_s over the fast ones. Each form's
result line is printed (and flushed) as soon as that form is timed, so a run stopped by a time
limit still reports the forms it finished. torch.compile runs in its default mode unless
--compile-mode says otherwise: its warm-up takes tens of seconds on a cold cache, max-autotune
several minutes.
"""
import argparse
import contextlib
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


FORMS = ("eager", "compile", "graph", "compile+graph")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Time the PyTorch DCGAN example's training iteration")
    p.add_argument("--size", type=int, default=64, choices=SUPPORTED_SIZES)
    p.add_argument("--nc", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--iters", type=int, default=20,
                   help="timed iterations (cpu: each timed alone; cuda: per repeat, timed as one block)")
    p.add_argument("--repeats", type=int, default=5, help="cuda: timed blocks of --iters; the median is reported")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = torch default)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--forms", default=None,
                   help="comma-separated forms to time, of: %s. eager = fp32 as the example runs it "
                        "(cuda: cudnn.benchmark); compile = bf16 autocast + channels_last + torch.compile; "
                        "graph = bf16 autocast + channels_last + the whole iteration as one CUDA graph; "
                        "compile+graph = both. Default: eager on cpu, all on cuda" % ", ".join(FORMS))
    p.add_argument("--compile-mode", default="default",
                   help="torch.compile mode for the compile forms: default (the default), reduce-overhead, "
                        "max-autotune-no-cudagraphs or max-autotune (minutes of autotuning)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    args = p.parse_args(argv)
    forms = args.forms.split(",") if args.forms else (["eager"] if args.device == "cpu" else list(FORMS))
    for f in forms:
        if f not in FORMS:
            p.error("unknown form %r (choose from %s)" % (f, ", ".join(FORMS)))
        if f != "eager" and args.device == "cpu":
            p.error("form %r needs --device cuda" % f)
    args.forms = forms
    return args


def build(args, dev, form):
    """Models, optimisers, data and the iteration function for one form."""
    torch.manual_seed(args.seed)
    fast = form != "eager"
    netG = make_G(args.size, args.nz, args.ngf, args.nc).to(dev)
    netD = make_D(args.size, args.nc, args.ndf).to(dev)
    opt_kw = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    if fast:
        netG = netG.to(memory_format=torch.channels_last)
        netD = netD.to(memory_format=torch.channels_last)
        # One fused kernel per optimiser; capturable so that the step can live in a CUDA graph.
        opt_kw.update(fused=True, capturable="graph" in form)
    optD = torch.optim.Adam(netD.parameters(), **opt_kw)
    optG = torch.optim.Adam(netG.parameters(), **opt_kw)
    runG, runD = netG, netD
    if "compile" in form:
        runG = torch.compile(netG, mode=args.compile_mode)
        runD = torch.compile(netD, mode=args.compile_mode)

    B = args.batch_size
    # Fixed synthetic "real" data in [-1, 1] (what the data loader would yield).
    real = (torch.rand(B, args.nc, args.size, args.size) * 2 - 1).to(dev)
    if fast:
        real = real.contiguous(memory_format=torch.channels_last)
    # The weight-cast cache must be off inside a CUDA graph capture (torch's graph notes).
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled="graph" not in form) if fast
                else contextlib.nullcontext())

    def iteration():
        with autocast:
            # (1) D: maximize log(D(x)) + log(1 - D(G(z)))  -- logits + BCEWithLogits
            netD.zero_grad()
            out = runD(real)
            errD_real = F.softplus(-out.float()).mean()  # BCEWithLogits(out, 1)
            errD_real.backward()
            noise = torch.randn(B, args.nz, 1, 1, device=dev)
            fake = runG(noise)
            out = runD(fake.detach())
            errD_fake = F.softplus(out.float()).mean()  # BCEWithLogits(out, 0)
            errD_fake.backward()
            optD.step()
            # (2) G: maximize log(D(G(z)))  (non-saturating)
            netG.zero_grad()
            out = runD(fake)
            errG = F.softplus(-out.float()).mean()
            errG.backward()
            optG.step()
        return errD_real, errD_fake, errG

    return iteration


def graphed(iteration, warmup):
    """The whole iteration (both forwards and backwards, both Adam steps, the noise) captured as
    one CUDA graph; returns a function that replays it."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):  # warm-up outside the graph: allocations, autotuning, lazy init
        for _ in range(max(warmup, 3)):
            iteration()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        losses = iteration()

    def replay():
        g.replay()
        return losses

    return replay


def time_form(args, dev, form):
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    t_start = time.perf_counter()
    iteration = build(args, dev, form)
    if "graph" in form:
        iteration = graphed(iteration, args.warmup)
    for _ in range(args.warmup):
        iteration()
    sync()
    warmup_s = time.perf_counter() - t_start  # build, compilation, graph capture and warm-up
    B = args.batch_size
    times = []
    if dev.type == "cuda":
        # Blocks of iterations between synchronisations, as training runs them.
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in range(args.iters):
                losses = iteration()
            sync()
            times.append((time.perf_counter() - t0) / args.iters)
    else:
        for _ in range(args.iters):
            t0 = time.perf_counter()
            losses = iteration()
            sync()
            times.append(time.perf_counter() - t0)
    # Touch the losses so nothing could be considered dead work.
    _ = [float(l.detach()) for l in losses]
    med_t = statistics.median(times)
    return {"images_per_s": B / med_t, "median_iter_s": med_t, "min_iter_s": min(times), "warmup_s": warmup_s}


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda requested but torch finds no CUDA device "
                 "(torch %s, built with CUDA %s)" % (torch.__version__, torch.version.cuda))
    dev = torch.device(args.device)
    threads = torch.get_num_threads()
    B = args.batch_size
    report = sys.stderr if args.json else sys.stdout
    if dev.type == "cuda":
        print("pytorch dcgan: torch %s (CUDA %s, cuDNN %s) on %s; forms %s; compile mode %s"
              % (torch.__version__, torch.version.cuda, torch.backends.cudnn.version(),
                 torch.cuda.get_device_name(0), ",".join(args.forms), args.compile_mode), file=report, flush=True)

    forms = {}
    for form in args.forms:
        try:
            r = forms[form] = time_form(args, dev, form)
            line = ("%.1f images/s (median iter %.3f ms; warm-up %.1f s)"
                    % (r["images_per_s"], r["median_iter_s"] * 1e3, r["warmup_s"]))
        except Exception as e:  # a form torch cannot run here is reported, not fatal
            forms[form] = {"error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}
            line = "failed: " + forms[form]["error"]
        print("pytorch dcgan [%s]: size=%d nc=%d batch=%d ngf=%d ndf=%d nz=%d device=%s threads=%d: %s"
              % (form, args.size, args.nc, B, args.ngf, args.ndf, args.nz, args.device, threads, line),
              file=report, flush=True)
        if dev.type == "cuda":
            torch._dynamo.reset()
            torch.cuda.empty_cache()
    ok = {k: v for k, v in forms.items() if "images_per_s" in v}
    if not ok:
        sys.exit("error: no form ran")
    first = ok.get("eager") or next(iter(ok.values()))
    fast = {k: v for k, v in ok.items() if k != "eager"}
    best = max(fast, key=lambda k: fast[k]["images_per_s"]) if fast else None
    res = {
        "impl": "pytorch",
        "images_per_s": first["images_per_s"],
        "median_iter_s": first["median_iter_s"],
        "min_iter_s": first["min_iter_s"],
        "forms": forms,
        "best_form": best,
        "best_images_per_s": fast[best]["images_per_s"] if best else None,
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
        "device_name": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "torch_version": torch.__version__,
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "compile_mode": args.compile_mode,
    }
    if args.json:
        print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
