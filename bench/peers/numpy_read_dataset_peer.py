#!/usr/bin/python3
# numpy peer for bench/dataset.ts: reading a saeboard dataset back with scripts/read_dataset.py
# (parse the safetensors by hand, sha256 against the manifest, np.frombuffer, unpack one label
# family), driven one repetition at a time over JSON lines on stdin/stdout (bench/lib/peer.ts):
#   {"hello": true} -> {"ok": true, "numpy": ...}
#   {"setup": {"dir": D, "family": "board_state", "cells": 192}} -> {"ready": true, "shards": ...}
#   {"step": true} -> {"ms": ..., "positions": ..., "labelSum": ...}
import json
import os
import sys
import time

import numpy as np

from jsonl_peer import serve

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import read_dataset as r  # noqa: E402


def read(d, family, cells):
    t0 = time.perf_counter()
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    positions = 0
    last = None
    for s in m["shards"]:
        x, sha = r.load_safetensors(os.path.join(d, s["file"]))
        if sha != s["sha256"]:
            raise ValueError(f"sha256 mismatch in {s['file']}")
        last = r.unpack_labels(x["labels/" + family], cells)
        positions += last.shape[0]
    ms = (time.perf_counter() - t0) * 1e3
    # outside the timing: a checksum of the last shard's labels, for the bench to compare
    return {"ms": ms, "positions": positions, "lastShardLabelSum": int(last.sum()) if last is not None else 0}


def handler():
    case = None

    def handle(req):
        nonlocal case
        if "setup" in req:
            case = req["setup"]
            with open(os.path.join(case["dir"], "manifest.json")) as f:
                shards = len(json.load(f)["shards"])
            return {"ready": True, "shards": shards, "numpy": np.__version__}
        if "step" in req:
            if case is None:
                raise ValueError("step before setup")
            return read(case["dir"], case.get("family", "board_state"), int(case.get("cells", 192)))
        return {"ok": True, "numpy": np.__version__}

    return handle


if __name__ == "__main__":
    if "--serve" not in sys.argv:
        sys.exit("usage: numpy_read_dataset_peer.py --serve   (driven by bench/dataset.ts)")
    serve(handler())
