#!/usr/bin/python3
"""Read a saeboard dataset directory from Python with numpy only (no safetensors package needed).

    /usr/bin/python3 scripts/read_dataset.py DIR [--check-othello [--check-games N]]

Prints one JSON object: the manifest's game and counts, and for every shard its tensors (dtype,
shape). With --check-othello, the Othello labels in the shards are unpacked and compared with labels
recomputed from the stored tokens by scripts/othello_reference.py (an independent Python engine);
--check-games N limits that check to the first N games of each shard (the Python engine is slow).

The safetensors layout is simple enough to parse by hand: an 8-byte little-endian header length N,
N bytes of JSON {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes. With
the `safetensors` package installed, `safetensors.numpy.load_file(path)` returns the same arrays.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"U8": np.uint8, "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64, "F32": np.float32, "F64": np.float64, "F16": np.float16, "BOOL": np.bool_}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(data[base + b : base + en], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return out, hashlib.sha256(data).hexdigest()


def unpack_labels(packed, cells):
    return np.unpackbits(packed, axis=1, bitorder="little")[:, :cells]


def main():
    d = sys.argv[1]
    check = "--check-othello" in sys.argv
    check_games = int(sys.argv[sys.argv.index("--check-games") + 1]) if "--check-games" in sys.argv else None
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    report = {"game": m["game"], "games": m["counts"]["games"], "positions": m["counts"]["positions"], "shards": []}
    if check:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import othello_reference as ref
    mismatches = 0
    checked = 0
    for s in m["shards"]:
        t, sha = load_safetensors(os.path.join(d, s["file"]))
        assert sha == s["sha256"], f"sha256 mismatch in {s['file']}"
        report["shards"].append({k: [str(v.dtype), list(v.shape)] for k, v in sorted(t.items())})
        if not check:
            continue
        fams = {f["shortName"]: f for f in m["families"]}
        labels = {name: unpack_labels(t["labels/" + name], f["cells"]) for name, f in fams.items()}
        g0 = s["games"]["start"]
        row = 0
        for gi in range(t["tokens"].shape[0]):
            if check_games is not None and gi >= check_games:
                break
            toks = t["tokens"][gi][: t["lengths"][gi]]
            b = ref.Board()
            for i, tok in enumerate(toks[: m["positions"]["params"]["positionsPerGame"]]):
                b.umpire(ref.itos(int(tok)))
                assert t["position_game"][row] == g0 + gi and t["position_index"][row] == i
                for name in fams:
                    if name == "valid_moves":
                        want = np.zeros(64, dtype=np.uint8)
                        want[b.valid_moves()] = 1
                    else:
                        want = ref.FAMILIES[name](b, i).reshape(-1)
                    mismatches += int((labels[name][row] != want).any())
                    checked += 1
                row += 1
    if check:
        report["checkedPositionFamilies"] = checked
        report["mismatches"] = mismatches
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
