"""The request loop every Python peer of the benches shares (driven by bench/lib/peer.ts).

One JSON request a line on stdin, one JSON answer a line on stdout. `handle(req)` returns the
answer; an exception becomes one `{"error": ...}` line and the bench decides what it means.
"""
import json
import sys


def serve(handle):
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = handle(json.loads(line))
        except Exception as e:  # one error line, the bench decides
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
