#!/usr/bin/python3
# numpy peer for bench/matmul.ts: one float32 np.matmul (into a preallocated output) per request,
# driven over JSON lines on stdin/stdout (bench/lib/peer.ts) so the bench interleaves it with the
# raw sgemm and the tfjs kernel sets on the same shape:
#   {"hello": true} -> {"ok": true, "numpy": ..., "arch": [OpenBLAS core, ...] or null}
#   {"setup": {"batch": b, "M": m, "N": n, "K": k, "transA": ta, "transB": tb}} -> {"ready": true}
#   {"step": true} -> {"ms": <this matmul's time>}
import sys
import time

import numpy as np

from jsonl_peer import serve


def arch():
    try:
        from threadpoolctl import threadpool_info

        return [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
    except Exception:
        return None


def setup(c):
    b, M, N, K, ta, tb = (int(c["batch"]), int(c["M"]), int(c["N"]), int(c["K"]), bool(c["transA"]), bool(c["transB"]))
    rng = np.random.default_rng(0)
    a = (rng.random((b, K, M)) if ta else rng.random((b, M, K))).astype(np.float32) - 0.5
    bb = (rng.random((b, N, K)) if tb else rng.random((b, K, N))).astype(np.float32) - 0.5
    A = a.transpose(0, 2, 1) if ta else a
    B = bb.transpose(0, 2, 1) if tb else bb
    if b == 1:
        A, B = A[0], B[0]
    out = np.empty((M, N) if b == 1 else (b, M, N), np.float32)

    def step():
        t0 = time.perf_counter()
        np.matmul(A, B, out=out)
        return (time.perf_counter() - t0) * 1e3

    return step


def handler():
    step = None

    def handle(req):
        nonlocal step
        if "setup" in req:
            step = None  # free the previous case's arrays first
            step = setup(req["setup"])
            return {"ready": True}
        if "step" in req:
            if step is None:
                raise ValueError("step before setup")
            return {"ms": step()}
        return {"ok": True, "numpy": np.__version__, "arch": arch()}

    return handle


if __name__ == "__main__":
    if "--serve" not in sys.argv:
        sys.exit("usage: numpy_matmul_peer.py --serve   (driven by bench/matmul.ts)")
    serve(handler())
