#!/usr/bin/env bash
# The quick start: installs what is missing, builds, and trains a DCGAN on Fashion-MNIST
# (32 px) on the GPU if there is one, else on the CPU. Samples land in runs/fashion-mnist/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/dcgan train --dataset fashion-mnist --iters 1500 --sample-every 250 --out runs/fashion-mnist "$@"
