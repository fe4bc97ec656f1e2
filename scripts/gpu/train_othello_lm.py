#!/usr/bin/env python3
"""Train an Othello GPT for saeboard on one GPU, in a fixed number of minutes.

One file, nanoGPT-style. It

  1. plays uniformly random legal Othello games on the GPU (games.md §1.1-1.2: a move is drawn
     uniformly from get_valid_moves(), passes folded in, until neither side can move), thousands of
     games per kernel launch, tokenised exactly as saeboard's `othello-61` tokenizer (games.md §1.3:
     token 0 = padding after the game's end, 1..60 = the non-centre squares in square order);
  2. trains saeboard's GPT (src/lm/model.ts: pre-LayerNorm, fused qkv, GELU MLP, learned positions,
     untied head) on fresh games only (no game is seen twice), AdamW + linear warm-up + cosine decay
     over the time budget, bf16 autocast on CUDA, torch.compile when it works;
  3. writes a saeboard model directory (format saeboard-lm/1: config.json + model.safetensors in
     saeboard's tensor names and [in, out] layout, F16 by default), optionally split into parts
     that stay under a transfer limit (`cat model.safetensors.part-* > model.safetensors`);
  4. probes the board: per layer, a linear mine/yours/empty probe (the `mine_yours` family of
     bsp.md: mine = the player who just moved, by move parity) and the legal-move rate of greedy
     predictions, on fresh games of >= 59 moves, to print whether the 95 % goal is reached. The
     numbers that ship are measured afterwards by saeboard itself (scripts/gpu/measure-model.ts).

Runs on CPU too (tiny sizes, for the checks in docs/lm.md, "The GPU-trained Othello model"). Torch >= 1.13.

  cd scripts/gpu && python3 train_othello_lm.py --out $OUT/othello-board --split-mib 15 --log $OUT/train-log.jsonl
  python3 scripts/gpu/train_othello_lm.py --dump-games games.bin --games 3000            # generator check
  python3 scripts/gpu/train_othello_lm.py --parity models/othello-board --parity-out p.json  # logits check
"""
import argparse
import hashlib
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------
# Othello on 64-bit boards (square p = 8*row + col; bit p of an int64), many games at once.
# The same directional fill as src/games/othello/board.ts `movesMask`, on torch int64 tensors.

MAX_MOVES = 60  # a row of the dataset: 60 stored moves
CTX = 59  # the model reads moves 0..58 and predicts moves 1..59
VOCAB = 61


def _i64(u):
    """An unsigned 64-bit pattern as the signed int torch stores."""
    return u - (1 << 64) if u >= (1 << 63) else u


NOT_COL1 = _i64(0xFEFEFEFEFEFEFEFE)  # clears column 1 (c = 0): where an eastward step wrapped
NOT_COL8 = _i64(0x7F7F7F7F7F7F7F7F)  # clears column 8 (c = 7): where a westward step wrapped
# N, NE, E, SE, S, SW, W, NW: bit p moves to p + shift
DIRECTIONS = [(-8, -1), (-7, NOT_COL1), (1, NOT_COL1), (9, NOT_COL1), (8, -1), (7, NOT_COL8), (-1, NOT_COL8), (-9, NOT_COL8)]
BITS = [_i64(1 << p) for p in range(64)]
SQUARE_TO_TOKEN = [0] * 64
for _t in range(1, VOCAB):
    SQUARE_TO_TOKEN[_t - 1 if _t <= 27 else _t + 1 if _t <= 33 else _t + 3] = _t


def shift(x, k, mask):
    """Shift every game's board by k squares, dropping bits that leave the board or wrap a row."""
    if k > 0:
        x = (x & ((1 << (64 - k)) - 1)) << k  # clear the bits that would overflow first
    else:
        x = (x >> -k) & ((1 << (64 + k)) - 1)  # >> is arithmetic on int64: clear the sign copies
    return x if mask == -1 else x & mask


def legal_moves(own, opp):
    """Squares where `own` flips at least one `opp` disc (runs of up to 6 opponent discs)."""
    empty = ~(own | opp)
    moves = torch.zeros_like(own)
    for k, m in DIRECTIONS:
        x = shift(own, k, m) & opp
        for _ in range(5):
            x = x | (shift(x, k, m) & opp)
        moves = moves | (shift(x, k, m) & empty)
    return moves


def flips(own, opp, move):
    """Discs `own` flips by playing the one-bit `move`: every opponent run capped by an own disc."""
    out = torch.zeros_like(own)
    zero = torch.zeros_like(own)
    for k, m in DIRECTIONS:
        x = shift(move, k, m) & opp
        for _ in range(5):
            x = x | (shift(x, k, m) & opp)
        capped = (shift(x, k, m) & own) != 0
        out = out | torch.where(capped, x, zero)
    return out


class OthelloTables:
    def __init__(self, device):
        self.bits = torch.tensor(BITS, dtype=torch.int64, device=device)
        self.sq2tok = torch.tensor(SQUARE_TO_TOKEN, dtype=torch.uint8, device=device)
        self.ar64 = torch.arange(64, dtype=torch.int64, device=device)


def random_games(n, gen, tables, record=False):
    """
    Play n uniformly random legal games at once. Returns tokens [n, 60] uint8 (0 after the end)
    and, with record, boards [n, 60, 2] int64 (black, white after move i) and valid [n, 60] int64
    (get_valid_moves() after move i: the moves the model must choose from at position i; 0 = over).
    """
    device = tables.bits.device
    black = torch.full((n,), BITS[28] | BITS[35], dtype=torch.int64, device=device)
    white = torch.full((n,), BITS[27] | BITS[36], dtype=torch.int64, device=device)
    black_to_move = torch.ones(n, dtype=torch.bool, device=device)
    tokens = torch.zeros((n, MAX_MOVES), dtype=torch.uint8, device=device)
    boards = torch.zeros((n, MAX_MOVES, 2), dtype=torch.int64, device=device) if record else None
    valid_after = torch.zeros((n, MAX_MOVES), dtype=torch.int64, device=device) if record else None
    for i in range(MAX_MOVES + 1):
        own = torch.where(black_to_move, black, white)
        opp = torch.where(black_to_move, white, black)
        own_moves = legal_moves(own, opp)
        has_own = own_moves != 0
        valid = torch.where(has_own, own_moves, legal_moves(opp, own))  # forfeit: the opponent moves
        if record and i > 0:
            valid_after[:, i - 1] = valid
        if i == MAX_MOVES:
            break
        alive = valid != 0
        # uniform over the valid squares: the argmax of uniform noise on them
        is_valid = ((valid.unsqueeze(1) >> tables.ar64) & 1).bool()
        noise = torch.rand((n, 64), generator=gen, device=device).masked_fill(~is_valid, -1.0)
        square = noise.argmax(1)
        move = tables.bits[square]
        mover_black = torch.where(has_own, black_to_move, ~black_to_move)
        own = torch.where(mover_black, black, white)
        opp = torch.where(mover_black, white, black)
        f = flips(own, opp, move)
        own = own | f | move
        opp = opp & ~f
        black = torch.where(alive, torch.where(mover_black, own, opp), black)
        white = torch.where(alive, torch.where(mover_black, opp, own), white)
        black_to_move = torch.where(alive, ~mover_black, black_to_move)
        tokens[:, i] = torch.where(alive, tables.sq2tok[square], torch.zeros_like(tables.sq2tok[square]))
        if record:
            boards[:, i, 0] = black
            boards[:, i, 1] = white
    return tokens, boards, valid_after


def make_generator(device, seed):
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g


def long_games(n, seed, tables, min_moves=59):
    """n recorded games of at least min_moves moves (as saeboard's evaluation sets: --min-moves 59)."""
    gen = make_generator(tables.bits.device, seed)
    parts, have = [], 0
    while have < n:
        t, b, v = random_games(max(2 * (n - have), 1024), gen, tables, record=True)
        keep = (t != 0).sum(1) >= min_moves
        parts.append((t[keep], b[keep], v[keep]))
        have += int(keep.sum())
    cat = [torch.cat([p[i] for p in parts])[:n] for i in range(3)]
    return cat[0], cat[1], cat[2]


# --------------------------------------------------------------------------------------------
# The model: saeboard's GPT (src/lm/model.ts), with saeboard's parameter names and [in, out]
# matrices, so the state dict *is* the checkpoint (src/lm/params.ts).


class LayerNorm(nn.Module):
    def __init__(self, d, bias, eps):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.b = nn.Parameter(torch.zeros(d)) if bias else None
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.w, self.b, self.eps)


def linear(x, w_io, b):
    return F.linear(x, w_io.t(), b)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dModel"]
        self.n_head = c["nHead"]
        self.w_qkv = nn.Parameter(torch.empty(d, 3 * d))  # columns q | k | v, head h at h*Dh
        self.b_qkv = nn.Parameter(torch.zeros(3 * d)) if c["bias"] else None
        self.w_o = nn.Parameter(torch.empty(d, d))
        self.b_o = nn.Parameter(torch.zeros(d)) if c["bias"] else None

    def forward(self, x):
        B, T, d = x.shape
        H = self.n_head
        q, k, v = linear(x, self.w_qkv, self.b_qkv).split(d, dim=2)
        q, k, v = (t.view(B, T, H, d // H).transpose(1, 2) for t in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            y = att.masked_fill(~causal, float("-inf")).softmax(-1) @ v
        return linear(y.transpose(1, 2).reshape(B, T, d), self.w_o, self.b_o)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, m = c["dModel"], c["dMlp"]
        self.w_in = nn.Parameter(torch.empty(d, m))
        self.b_in = nn.Parameter(torch.zeros(m)) if c["bias"] else None
        self.w_out = nn.Parameter(torch.empty(m, d))
        self.b_out = nn.Parameter(torch.zeros(d)) if c["bias"] else None
        self.approximate = "tanh" if c["activation"] == "gelu_new" else "none"

    def forward(self, x):
        return linear(F.gelu(linear(x, self.w_in, self.b_in), approximate=self.approximate), self.w_out, self.b_out)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1 = LayerNorm(c["dModel"], c["bias"], c["lnEps"])
        self.attn = Attention(c)
        self.ln2 = LayerNorm(c["dModel"], c["bias"], c["lnEps"])
        self.mlp = Mlp(c)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Head(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.w = nn.Parameter(torch.empty(c["dModel"], c["vocabSize"]))
        self.b = nn.Parameter(torch.zeros(c["vocabSize"])) if c["headBias"] else None


class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        assert not c["tiedHead"], "this script trains untied heads only"
        self.config = c
        self.wte = nn.Parameter(torch.empty(c["vocabSize"], c["dModel"]))
        self.wpe = nn.Parameter(torch.empty(c["nCtx"], c["dModel"]))
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["nLayer"]))
        self.ln_f = LayerNorm(c["dModel"], c["bias"], c["lnEps"])
        self.lm_head = Head(c)

    def init_weights(self, gen):
        """nanoGPT / saeboard: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), biases 0, LN 1."""
        resid_std = 0.02 / math.sqrt(2 * self.config["nLayer"])
        for name, p in self.named_parameters():
            if name.endswith(("ln1.w", "ln2.w")) or name == "ln_f.w":
                nn.init.ones_(p)
            elif p.dim() == 1:
                nn.init.zeros_(p)
            else:
                std = resid_std if name.endswith(("attn.w_o", "mlp.w_out")) else 0.02
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=gen) * std)

    def forward(self, idx, targets=None, keep_resid=False):
        T = idx.shape[1]
        x = self.wte[idx] + self.wpe[:T]
        resid = []
        for block in self.blocks:
            x = block(x)
            if keep_resid:
                resid.append(x)
        logits = linear(self.ln_f(x), self.lm_head.w, self.lm_head.b)
        if keep_resid:
            return logits, resid
        if targets is None:
            return logits
        # Othello targets equal to the padding token 0 (after the game's end) are ignored
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=0)


# --------------------------------------------------------------------------------------------
# saeboard checkpoint files


def safetensors_bytes(tensors, metadata):
    """tensors: name -> numpy array (float16/float32). Keys sorted, offsets contiguous."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}[a.dtype]
        blob = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # align the data to 8 bytes
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        dt = {"F16": np.float16, "F32": np.float32, "BF16": None}[e["dtype"]]
        buf = raw[8 + n + b : 8 + n + en]
        if dt is None:  # bf16 -> f32
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, dtype=np.dtype(dt).newbyteorder("<"))
        out[name] = a.reshape(e["shape"]).astype(np.float32)
    return out


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def save_model_dir(out, model, meta, storage, split_mib):
    """config.json + model.safetensors (or model.safetensors.part-NN when split), temp-then-rename."""
    os.makedirs(out, exist_ok=True)
    np_dtype = np.float16 if storage == "F16" else np.float32
    tensors = {k: v.detach().float().cpu().numpy().astype(np_dtype) for k, v in model.state_dict().items()}
    blob = safetensors_bytes(tensors, {"format": "saeboard-lm/1"})
    written = []
    if split_mib:
        step = int(split_mib * 2**20)
        for i in range(0, len(blob), step):
            written.append(f"model.safetensors.part-{i // step:02d}")
            write_atomic(os.path.join(out, written[-1]), blob[i : i + step])
        written.append("model.safetensors.sha256")
        write_atomic(os.path.join(out, written[-1]), (hashlib.sha256(blob).hexdigest() + "  model.safetensors\n").encode())
    else:
        written.append("model.safetensors")
        write_atomic(os.path.join(out, written[-1]), blob)
    for f in os.listdir(out):  # parts of an earlier save that this one did not overwrite
        if f.startswith("model.safetensors") and f not in written:
            os.remove(os.path.join(out, f))
    write_atomic(os.path.join(out, "config.json"), (json.dumps(meta, indent=2) + "\n").encode())
    return len(blob)


def load_model_dir(path, device="cpu"):
    meta = json.load(open(os.path.join(path, "config.json")))
    model = Gpt(meta["model"])
    tensors = read_safetensors(os.path.join(path, "model.safetensors"))
    missing = set(model.state_dict()) ^ set(tensors)
    if missing:
        raise SystemExit(f"{path}: tensor names differ from the config's: {sorted(missing)[:5]}")
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    return model.to(device), meta


# --------------------------------------------------------------------------------------------
# Board probes and legal moves (the numbers that ship are measured by saeboard afterwards)


def mine_yours_labels(boards):
    """[n, 60, 2] boards -> [n, 60, 64] classes 0 yours / 1 empty / 2 mine (bsp.md: flip by parity)."""
    ar = torch.arange(64, device=boards.device)
    black = (boards[..., 0:1] >> ar) & 1
    white = (boards[..., 1:2] >> ar) & 1
    even = (torch.arange(boards.shape[1], device=boards.device) % 2 == 0).view(1, -1, 1)
    mine = torch.where(even, black, white)
    yours = torch.where(even, white, black)
    return (1 + mine - yours).to(torch.int64)


@torch.no_grad()
def residuals(model, tokens, amp, batch=512):
    """Per layer: resid_post at positions 0..58 of every game, [n*59, d] float32."""
    per_layer = [[] for _ in model.blocks]
    for i in range(0, tokens.shape[0], batch):
        with amp:
            _, resid = model(tokens[i : i + batch, :CTX].long(), keep_resid=True)
        for l, r in enumerate(resid):
            per_layer[l].append(r.float().reshape(-1, r.shape[-1]))
    return [torch.cat(p) for p in per_layer]


def train_probe(x_tr, y_tr, x_te, y_te, epochs=4, min_steps=400, batch=4096, lr=3e-3, seed=0):
    """Softmax per square (64 x 3 classes), standardised inputs, bias started at the log prior."""
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-6
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    d = x_tr.shape[1]
    counts = F.one_hot(y_tr, 3).sum(0).float() + 1  # [64, 3]
    w = torch.zeros(d, 64 * 3, device=x_tr.device, requires_grad=True)
    b = (counts / counts.sum(1, keepdim=True)).log().reshape(-1).clone().requires_grad_(True)
    opt = torch.optim.AdamW([w, b], lr=lr, weight_decay=0.01, betas=(0.9, 0.99))
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    epochs = max(epochs, math.ceil(min_steps / math.ceil(x_tr.shape[0] / batch)))  # small sets: more epochs
    for _ in range(epochs):
        perm = torch.randperm(x_tr.shape[0], generator=g).to(x_tr.device)
        for i in range(0, x_tr.shape[0], batch):
            j = perm[i : i + batch]
            logits = (x_tr[j] @ w + b).view(-1, 64, 3)
            loss = F.cross_entropy(logits.reshape(-1, 3), y_tr[j].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = lambda x, y: ((x @ w + b).view(-1, 64, 3).argmax(-1) == y).float().mean().item()  # noqa: E731
        majority = counts.argmax(1)
        return {"accuracy": acc(x_te, y_te), "trainAccuracy": acc(x_tr, y_tr), "majority": (y_te == majority).float().mean().item()}


class BoardCheck:
    """Fixed fresh games of >= 59 moves: probe train/test split and legal-move positions."""

    def __init__(self, games, seed, tables):
        t, b, v = long_games(games, seed, tables)
        n_tr = games * 2 // 3
        self.tokens, self.valid = t, v
        y = mine_yours_labels(b)[:, :CTX].reshape(-1, 64)
        self.n_tr_pos = n_tr * CTX
        self.y_tr, self.y_te = y[: self.n_tr_pos], y[self.n_tr_pos :]

    def probe(self, model, amp, layers):
        acts = residuals(model, self.tokens, amp)
        out = []
        for l in layers:
            x = acts[l]
            r = train_probe(x[: self.n_tr_pos], self.y_tr, x[self.n_tr_pos :], self.y_te)
            out.append({"layer": l, **r})
        return out

    @torch.no_grad()
    def legal_rate(self, model, amp, batch=512):
        legal = total = 0
        for i in range(0, self.tokens.shape[0], batch):
            with amp:
                logits = model(self.tokens[i : i + batch, :CTX].long())
            pred = logits.float().argmax(-1)  # token ids; 0 (padding) is never legal
            valid = self.valid[i : i + batch, :CTX]
            square = torch.tensor(TOKEN_TO_SQUARE, device=pred.device)[pred]
            ok = ((valid >> square.clamp(min=0)) & 1).bool() & (square >= 0)
            live = valid != 0
            legal += int((ok & live).sum())
            total += int(live.sum())
        return legal / max(total, 1), total


TOKEN_TO_SQUARE = [-1] + [t - 1 if t <= 27 else t + 1 if t <= 33 else t + 3 for t in range(1, VOCAB)]


# --------------------------------------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="model directory to write (saeboard format)")
    p.add_argument("--name", default="othello-board")
    p.add_argument("--minutes", type=float, default=7.5, help="training time budget (the cosine decays over it)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: time only)")
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--d-model", type=int, default=320)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--activation", choices=["gelu", "gelu_new"], default="gelu_new")
    p.add_argument("--batch-size", type=int, default=1024, help="games per step (59 predictions each)")
    p.add_argument("--lr", type=float, default=1.5e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=500, help="warm-up steps")
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chunk-games", type=int, default=262144, help="games generated per batch of the data stream")
    p.add_argument("--eval-games", type=int, default=4096)
    p.add_argument("--eval-every", type=float, default=30, help="seconds between held-out losses")
    p.add_argument("--save-every", type=float, default=120, help="seconds between saves (a kill keeps the last)")
    p.add_argument("--probe-every", type=float, default=90, help="seconds between learning-curve probes (0: off)")
    p.add_argument("--curve-games", type=int, default=1500, help="games for each learning-curve probe")
    p.add_argument("--probe-games", type=int, default=6000, help="games (2/3 train, 1/3 test) of the final probe")
    p.add_argument("--storage", choices=["F16", "F32"], default="F16")
    p.add_argument("--split-mib", type=float, default=0, help="split model.safetensors into parts of this size")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--log", help="JSONL file for the run's measurements")
    p.add_argument("--hardware", default=None, help="text for the provenance (default: the device's name)")
    p.add_argument("--dump-games", help="write --games generated games (tokens, boards, valid moves) and exit")
    p.add_argument("--games", type=int, default=2000)
    p.add_argument("--parity", help="a saeboard model directory: write its float32 logits on fresh games and exit")
    p.add_argument("--parity-out")
    return p.parse_args()


def dump_games(args):
    tables = OthelloTables(args.device)
    t, b, v = random_games(args.games, make_generator(args.device, args.seed), tables, record=True)
    with open(args.dump_games, "wb") as f:
        f.write(struct.pack("<I", args.games))
        f.write(t.cpu().numpy().tobytes())
        f.write(b.cpu().numpy().astype("<i8").tobytes())
        f.write(v.cpu().numpy().astype("<i8").tobytes())
    lengths = (t != 0).sum(1).float()
    print(json.dumps({"games": args.games, "meanLength": lengths.mean().item(), "atLeast59": (lengths >= 59).float().mean().item()}))


@torch.no_grad()
def parity(args):
    model, meta = load_model_dir(args.parity)
    model.eval()
    tables = OthelloTables("cpu")
    tokens, _, _ = random_games(6, make_generator("cpu", args.seed), tables)
    x = tokens[:, :CTX].long()
    logits = model(x)
    json.dump({"tokens": x.tolist(), "logits": logits.reshape(-1).tolist(), "shape": list(logits.shape)}, open(args.parity_out, "w"))
    print(f"wrote {args.parity_out}: logits {list(logits.shape)} of {meta['name']}")


def main():
    args = parse_args()
    if args.dump_games:
        return dump_games(args)
    if args.parity:
        return parity(args)
    if not args.out:
        raise SystemExit("--out is required")
    t_start = time.time()
    device = args.device
    cuda = device.startswith("cuda")
    torch.manual_seed(args.seed)
    if cuda:
        torch.set_float32_matmul_precision("high")  # TF32 for the few float32 matmuls (probes)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)
    log_file = open(args.log, "a") if args.log else None

    def log(kind, **kv):
        rec = {"t": round(time.time() - t_start, 2), "kind": kind, **kv}
        print(json.dumps(rec), flush=True)
        if log_file:
            log_file.write(json.dumps(rec) + "\n")
            log_file.flush()

    config = {
        "nLayer": args.layers, "nHead": args.heads, "dModel": args.d_model, "nCtx": CTX, "vocabSize": VOCAB,
        "dMlp": 4 * args.d_model, "bias": True, "activation": args.activation, "tiedHead": False, "headBias": False, "lnEps": 1e-5,
    }
    model = Gpt(config)
    model.init_weights(make_generator("cpu", args.seed))
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    hardware = args.hardware or (torch.cuda.get_device_name() if cuda else "cpu")
    log("start", params=n_params, config=config, device=hardware, torch=torch.__version__, args=vars(args))

    decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings, as saeboard
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    extra = {"fused": True} if cuda and "fused" in torch.optim.AdamW.__init__.__code__.co_varnames else {}
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(args.beta1, args.beta2), eps=1e-8, **extra)

    step_fn = model
    if args.compile and cuda and hasattr(torch, "compile"):
        step_fn = torch.compile(model)

    tables = OthelloTables(device)
    eval_tokens = random_games(args.eval_games, make_generator(device, 10_000_000 + args.seed), tables)[0]
    curve_check = BoardCheck(args.curve_games, 20_000_000 + args.seed, tables) if args.probe_every > 0 else None
    data_gen = make_generator(device, args.seed)
    chunk, chunk_pos, games_generated = None, 0, 0

    @torch.no_grad()
    def eval_loss():
        model.eval()
        total, count = 0.0, 0
        for i in range(0, eval_tokens.shape[0], 1024):
            row = eval_tokens[i : i + 1024].long()
            with amp:
                logits = model(row[:, :CTX])
            tgt = row[:, 1 : CTX + 1]
            total += F.cross_entropy(logits.float().reshape(-1, VOCAB), tgt.reshape(-1), ignore_index=0, reduction="sum").item()
            count += int((tgt != 0).sum())
        model.train()
        return total / count

    budget = args.minutes * 60
    t0 = time.time()
    step, tokens_seen, last_loss = 0, 0, float("nan")
    last_eval = last_save = last_probe = t0
    last_report, tokens_at_report = t0, 0
    curve = []
    compile_fallback = False
    hist = []
    train_seconds = None

    def meta_now(final_train_loss, final_eval_loss, probe=None, legal=None):
        options = {k: getattr(args, k) for k in ("batch_size", "lr", "min_lr", "warmup", "beta1", "beta2", "weight_decay", "grad_clip", "seed", "minutes")}
        options = {"".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v for k, v in options.items()}
        options.update({"steps": step, "ignoreIndex": 0, "precision": "bf16 autocast, fp32 weights" if cuda else "float32"})
        wall = train_seconds if train_seconds is not None else time.time() - t0
        return {
            "format": "saeboard-lm/1",
            "name": args.name,
            "game": "othello",
            "tokenizer": "othello-61",
            "model": config,
            "provenance": {
                "kind": "trained",
                "dataset": "generated-on-device",
                "datasetName": "fresh uniformly random legal games, generated on the device during training",
                "datasetSource": "synthetic-random",
                "description": f"othello GPT trained by scripts/gpu/train_othello_lm.py (PyTorch {torch.__version__}) on one {hardware} "
                f"for {wall / 60:.1f} minutes on {step * args.batch_size:,} fresh uniformly random legal games (no game seen twice)",
                "trainingRuns": [{"options": options, "tokensSeen": tokens_seen, "gamesSeen": step * args.batch_size}],
                "totalTokensSeen": tokens_seen,
                "hardware": hardware,
                "trainingSeconds": round(wall, 1),
                "script": "scripts/gpu/train_othello_lm.py",
            },
            "training": {
                "step": step,
                "tokensSeen": tokens_seen,
                "trainLoss": final_train_loss,
                "evalLoss": final_eval_loss,
                "evalGames": args.eval_games,
                "options": options,
                "precision": options["precision"],
                "storage": args.storage,
                **({"deviceProbe": probe} if probe else {}),
                **({"deviceLegalMoveRate": legal} if legal else {}),
                **({"probeCurve": curve} if curve else {}),
            },
        }

    model.train()
    while True:
        now = time.time()
        progress = (now - t0) / budget
        if progress >= 1 or (args.max_steps and step >= args.max_steps):
            break
        if chunk is None or chunk_pos + args.batch_size > chunk.shape[0]:
            chunk = random_games(args.chunk_games, data_gen, tables)[0]
            chunk_pos = 0
            games_generated += args.chunk_games
        rows = chunk[chunk_pos : chunk_pos + args.batch_size].long()
        chunk_pos += args.batch_size
        if step < args.warmup:
            lr = args.lr * (step + 1) / args.warmup
        else:
            lr = args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            with amp:
                loss = step_fn(rows[:, :CTX], rows[:, 1 : CTX + 1])
            loss.backward()
        except Exception as e:  # torch.compile failures show up at the first call
            if step_fn is model or step > 0:
                raise
            log("compile-failed", error=str(e)[:500])
            step_fn, compile_fallback = model, True
            opt.zero_grad(set_to_none=True)
            continue
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens_seen = step * args.batch_size * CTX  # as saeboard counts: B·T predictions a step
        hist.append(loss.detach())
        if step == 1:
            log("first-step", seconds=round(time.time() - t0, 1), compiled=step_fn is not model)
        now = time.time()
        if step % 100 == 0:
            last_loss = torch.stack(hist).float().mean().item()
            hist = []
            rate = (step * args.batch_size * CTX - tokens_at_report) / max(now - last_report, 1e-9)
            log("train", step=step, loss=round(last_loss, 4), lr=lr, gradNorm=round(float(grad_norm), 3), predictionsPerSecond=round(rate), progress=round(progress, 3))
            last_report, tokens_at_report = now, step * args.batch_size * CTX
        if now - last_eval >= args.eval_every:
            log("eval", step=step, evalLoss=round(eval_loss(), 4))
            last_eval = now
        if curve_check is not None and now - last_probe >= args.probe_every:
            model.eval()
            layers = list(range(max(0, args.layers - 4), args.layers))
            res = curve_check.probe(model, amp, layers)
            legal, _ = curve_check.legal_rate(model, amp)
            model.train()
            best = max(res, key=lambda r: r["accuracy"])
            curve.append({"step": step, "games": step * args.batch_size, "bestLayer": best["layer"], "accuracy": round(best["accuracy"], 4), "legal": round(legal, 4)})
            log("probe-curve", **curve[-1], perLayer={r["layer"]: round(r["accuracy"], 4) for r in res})
            last_probe = time.time()
        if now - last_save >= args.save_every:
            save_model_dir(args.out, model, meta_now(last_loss, None), args.storage, args.split_mib)
            log("saved", step=step)
            last_save = time.time()

    train_seconds = time.time() - t0
    train_loss = torch.stack(hist).float().mean().item() if hist else last_loss
    final_eval = eval_loss()
    log("done-training", step=step, seconds=round(time.time() - t0, 1), trainLoss=train_loss, evalLoss=final_eval, compileFallback=compile_fallback)
    save_model_dir(args.out, model, meta_now(train_loss, final_eval), args.storage, args.split_mib)
    log("saved", step=step)

    # the board: probes on every layer and the legal-move rate, on fresh long games
    model.eval()
    check = BoardCheck(args.probe_games, 30_000_000 + args.seed, tables)
    probe = check.probe(model, amp, list(range(args.layers)))
    legal, predictions = check.legal_rate(model, amp)
    for r in probe:
        log("probe", **r)
    best = max(probe, key=lambda r: r["accuracy"])
    log("board", bestLayer=best["layer"], bestAccuracy=best["accuracy"], majority=best["majority"], legalMoveRate=legal, legalPredictions=predictions,
        goal95=best["accuracy"] >= 0.95)
    probe_summary = {"games": args.probe_games, "perLayer": [{k: round(v, 5) if isinstance(v, float) else v for k, v in r.items()} for r in probe]}
    size = save_model_dir(args.out, model, meta_now(train_loss, final_eval, probe_summary, {"rate": legal, "predictions": predictions}), args.storage, args.split_mib)
    log("finished", bytes=size, seconds=round(time.time() - t_start, 1))


if __name__ == "__main__":
    main()
