#!/usr/bin/python3
"""Reference fixture for the TypeScript Othello engine and BSP families.

A plain mailbox re-implementation, written from /work/shared/spec (games.md §1, bsp.md §3) and
the paper's code semantics (OthelloBoardState.umpire / get_valid_moves, othello_utils.py label
functions), deliberately in a different style from the bitboard TS engine. It plays seeded random
games, picks a mix (full games, games with passes, games that end early), and records per game:
the tokens, the colour of every move, disc counts, valid moves after every move, and for every
BSP family the sha256 of its (positions × cells) uint8 label matrix plus per-position row sums.

Run:  /usr/bin/python3 scripts/othello_reference.py > test/games/othello/fixtures/reference.json
      /usr/bin/python3 scripts/othello_reference.py --bench GAMES   (standalone peer timings; bench/othello.ts drives bench/peers/othello_reference_peer.py)
"""
import hashlib
import json
import sys

import numpy as np

EIGHTS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


def itos(t):
    return t - 1 if t <= 27 else (t + 1 if t <= 33 else t + 3)


STOI = {itos(t): t for t in range(1, 61)}


class Board:
    def __init__(self):
        self.s = np.zeros((8, 8), dtype=np.int64)
        self.s[3, 4] = 1
        self.s[3, 3] = -1
        self.s[4, 3] = 1
        self.s[4, 4] = -1
        self.next = 1

    def flips(self, move, color):
        r, c = divmod(move, 8)
        out = []
        for dr, dc in EIGHTS:
            buf = []
            rr, cc = r + dr, c + dc
            while 0 <= rr < 8 and 0 <= cc < 8:
                v = self.s[rr, cc]
                if v == 0:
                    break
                if v == color:
                    out.extend(buf)
                    break
                buf.append((rr, cc))
                rr, cc = rr + dr, cc + dc
        return out

    def umpire(self, move):
        r, c = divmod(move, 8)
        assert self.s[r, c] == 0
        color = self.next
        f = self.flips(move, color)
        if not f:
            color = -color
            self.next = -self.next
            f = self.flips(move, color)
        assert f, "illegal"
        for rr, cc in f:
            self.s[rr, cc] *= -1
        self.s[r, c] = color
        self.next = -self.next
        return color

    def valid_moves(self):
        regular, forfeit = [], []
        for m in range(64):
            if self.s[m // 8, m % 8] != 0:
                continue
            if self.flips(m, self.next):
                regular.append(m)
            elif self.flips(m, -self.next):
                forfeit.append(m)
        return regular if regular else forfeit


def one_hot3(state, flip, mask_blank):
    s = state * flip
    out = np.zeros((8, 8, 3), dtype=np.uint8)
    out[..., 0] = s == -1
    out[..., 1] = 0 if mask_blank else (s == 0)
    out[..., 2] = s == 1
    return out


def lines(state, flip, with_length, capped=True):
    s = state * flip
    out = np.zeros((8, 8, 48 if with_length else 8), dtype=np.uint8)
    for r in range(8):
        for c in range(8):
            if s[r, c] != 0:
                continue
            for d, (dr, dc) in enumerate(EIGHTS):
                rr, cc, n = r + dr, c + dc, 0
                while 0 <= rr < 8 and 0 <= cc < 8 and s[rr, cc] == 1:
                    rr, cc, n = rr + dr, cc + dc, n + 1
                if not capped:
                    idx = (min(n, 6) - 1) * 8 + d
                    out[r, c, idx % 48] = 1  # negative index wraps, like torch
                    continue
                if n > 0 and 0 <= rr < 8 and 0 <= cc < 8 and s[rr, cc] == -1:
                    out[r, c, (min(n, 6) - 1) * 8 + d if with_length else d] = 1
    return out


FAMILIES = {
    "board_state": lambda b, i: one_hot3(b.s, 1 if i % 2 == 0 else -1, True),
    "mine_yours": lambda b, i: one_hot3(b.s, 1 if i % 2 == 0 else -1, False),
    "absolute_board": lambda b, i: one_hot3(b.s, 1, False),
    "valid_moves": None,
    "lines_mine": lambda b, i: lines(b.s, 1 if i % 2 == 0 else -1, False),
    "lines_yours": lambda b, i: lines(b.s, -1 if i % 2 == 0 else 1, False),
    "length_lines": lambda b, i: lines(b.s, 1 if i % 2 == 0 else -1, True),
    "opponent_length_lines": lambda b, i: lines(b.s, 1 if i % 2 == 0 else -1, True, capped=False),
}


def random_game(rng):
    b = Board()
    moves = []
    while True:
        v = b.valid_moves()
        if not v:
            return moves
        m = v[rng.randint(len(v))]
        b.umpire(m)
        moves.append(m)


def record(moves):
    b = Board()
    colors, black, white, valid = [], [], [], []
    labels = {k: [] for k in FAMILIES}
    for i, m in enumerate(moves):
        colors.append(int(b.umpire(m)))
        black.append(int((b.s == 1).sum()))
        white.append(int((b.s == -1).sum()))
        vm = b.valid_moves()
        valid.append(vm)
        for name, fn in FAMILIES.items():
            if fn is None:
                arr = np.zeros((8, 8, 1), dtype=np.uint8)
                for x in vm:
                    arr[x // 8, x % 8, 0] = 1
            else:
                arr = fn(b, i)
            labels[name].append(arr.reshape(-1))
    fams = {}
    for name, rows in labels.items():
        mat = np.stack(rows).astype(np.uint8)
        fams[name] = {
            "sha256": hashlib.sha256(mat.tobytes()).hexdigest(),
            "rowSums": [int(x) for x in mat.sum(axis=1)],
        }
    passes = sum(1 for k in range(1, len(colors)) if colors[k] == colors[k - 1])
    return {
        "squares": [int(m) for m in moves],
        "tokens": [STOI[m] for m in moves],
        "colors": colors,
        "blackDiscs": black,
        "whiteDiscs": white,
        "passes": passes,
        "validMoves": valid,
        "families": fams,
    }


def main():
    rng = np.random.RandomState(20240611)
    full, with_pass, short = [], [], []
    while len(full) < 6 or len(with_pass) < 6 or len(short) < 4:
        g = random_game(rng)
        b = Board()
        cols = [b.umpire(m) for m in g]
        has_pass = any(cols[k] == cols[k - 1] for k in range(1, len(cols)))
        if has_pass and len(with_pass) < 6:
            with_pass.append(g)
        elif len(g) < 60 and len(short) < 4:
            short.append(g)
        elif len(g) == 60 and not has_pass and len(full) < 6:
            full.append(g)
    games = [record(g) for g in full + with_pass + short]
    json.dump({"generator": "scripts/othello_reference.py", "seed": 20240611, "games": games}, sys.stdout)
    sys.stdout.write("\n")


def bench(n_games):
    """Games/s of the random generator and positions/s of board_state labelling (the paper's
    per-position one-hot construction style), as one JSON line."""
    import time

    rng = np.random.RandomState(1)
    t0 = time.perf_counter()
    games = [random_game(rng) for _ in range(n_games)]
    t1 = time.perf_counter()
    n_pos = 0
    for g in games:
        b = Board()
        for i, m in enumerate(g[:59]):
            b.umpire(m)
            FAMILIES["board_state"](b, i)
            n_pos += 1
    t2 = time.perf_counter()
    json.dump({"games": n_games, "gamesPerSec": n_games / (t1 - t0), "positions": n_pos, "labelPositionsPerSec": n_pos / (t2 - t1)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--bench":
        bench(int(sys.argv[2]))
    else:
        main()
