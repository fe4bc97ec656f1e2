#!/usr/bin/python3
# Python/numpy peer for bench/othello.ts: the plain mailbox engine of scripts/othello_reference.py
# (the style of the paper's code), driven one repetition at a time over JSON lines on stdin/stdout
# (bench/lib/peer.ts) so the bench can interleave it with its own repetitions:
#   {"hello": true} -> {"ok": true, "numpy": ...}
#   {"step": "generate", "games": N, "seed": S} -> {"ms": ..., "games": N, "moves": ...}
#       N random legal games (uniform over the valid moves, passes folded in, played to the end)
#   {"setup": {"tokens": [[t, ...], ...], "positions": P}} -> {"ready": true, "games": ...}
#   {"step": "label"} -> {"ms": ..., "positions": ...}
#       replay the first P moves of every token row, board_state label of every position into a
#       (positions x 192) uint8 matrix, as bench/othello.ts labels the same rows
import os
import sys
import time

import numpy as np

from jsonl_peer import serve

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import othello_reference as ref  # noqa: E402


def generate(n, seed):
    rng = np.random.RandomState(seed)
    t0 = time.perf_counter()
    moves = sum(len(ref.random_game(rng)) for _ in range(n))
    return {"ms": (time.perf_counter() - t0) * 1e3, "games": n, "moves": moves}


def label(rows, per_game):
    n_pos = sum(min(len(r), per_game) for r in rows)
    out = np.empty((n_pos, 192), dtype=np.uint8)
    t0 = time.perf_counter()
    row = 0
    for squares in rows:
        b = ref.Board()
        for i, m in enumerate(squares[:per_game]):
            b.umpire(m)
            out[row] = ref.FAMILIES["board_state"](b, i).reshape(-1)
            row += 1
    return {"ms": (time.perf_counter() - t0) * 1e3, "positions": row, "labelSum": int(out.sum())}


def handler():
    rows, per_game = None, 59

    def handle(req):
        nonlocal rows, per_game
        if "setup" in req:
            c = req["setup"]
            rows = [[ref.itos(int(t)) for t in r] for r in c["tokens"]]
            per_game = int(c.get("positions", 59))
            return {"ready": True, "games": len(rows), "numpy": np.__version__}
        if req.get("step") == "generate":
            return generate(int(req["games"]), int(req.get("seed", 1)))
        if req.get("step") == "label":
            if rows is None:
                raise ValueError("label before setup")
            return label(rows, per_game)
        return {"ok": True, "numpy": np.__version__}

    return handle


if __name__ == "__main__":
    if "--serve" not in sys.argv:
        sys.exit("usage: othello_reference_peer.py --serve   (driven by bench/othello.ts)")
    serve(handler())
