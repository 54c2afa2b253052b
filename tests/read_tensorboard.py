#!/usr/bin/env python3
"""Reads an events file with TensorBoard's own event loader (the one its UI uses, which migrates
simple values and images into the scalars and images plugins' tensors) and prints what it holds:
   scalar TAG STEP VALUE          (VALUE with 9 significant digits: a float32 round-trips)
   image TAG STEP WIDTH HEIGHT COLORSPACE FILE   (the encoded PNG written to OUTDIR/FILE)
Usage: read_tensorboard.py EVENTS_FILE OUTDIR.
   read_tensorboard.py RUN_DIR: the scalars of a whole run directory as TensorBoard's
   EventAccumulator gathers them from all its events files (in name order, with its purges), one
   line per event kept, as above.
Exits 77 when the tensorboard package is absent."""
import os
import sys

try:
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util
except ImportError:
    print("skipped: the tensorboard package is not installed (pip install tensorboard)")
    sys.exit(77)


def channels(png):
    """The PNG's channel count from its IHDR colour type (gray 1, RGB 3, gray+alpha 2, RGBA 4)."""
    return {0: 1, 2: 3, 4: 2, 6: 4}.get(png[25], 0)


def main(path, outdir):
    count = 0
    for event in EventFileLoader(path).Load():
        if event.HasField("file_version"):
            print("file_version", event.file_version)
            continue
        for v in event.summary.value:
            plugin = v.metadata.plugin_data.plugin_name
            value = tensor_util.make_ndarray(v.tensor)
            if plugin == "images":   # [width, height, encoded image, ...] as strings
                name = "%s_%d.png" % (v.tag.replace("/", "_"), event.step)
                with open(os.path.join(outdir, name), "wb") as f:
                    f.write(value[2])
                print("image", v.tag, event.step, int(value[0]), int(value[1]), channels(value[2]), name)
            elif plugin == "scalars":
                print("scalar", v.tag, event.step, "%.9g" % float(value))
            else:
                print("unknown", v.tag, event.step, plugin)
            count += 1
    return 0 if count else 1


def run_dir(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = sorted(acc.Tags()[event_accumulator.SCALARS])
    for tag in tags:
        for e in acc.Scalars(tag):
            print("scalar", tag, e.step, "%.9g" % e.value)
    return 0 if tags else 1


if __name__ == "__main__":
    if len(sys.argv) == 2 and os.path.isdir(sys.argv[1]):
        sys.exit(run_dir(sys.argv[1]))
    sys.exit(main(sys.argv[1], sys.argv[2]))
