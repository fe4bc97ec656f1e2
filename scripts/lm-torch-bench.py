#!/usr/bin/python3
"""PyTorch CPU peer for bench/gpt.ts and bench/lm-train.ts (Debian python3-torch, 2 threads).

Usage: /usr/bin/python3 scripts/lm-torch-bench.py '<json>'
  json = {"cases": [{"name": str, "mode": "forward"|"train", "nLayer", "nHead", "dModel", "nCtx",
                     "vocabSize", "batch", "activation": "gelu"|"gelu_new", "bias": bool,
                     "warmup": int, "reps": int}]}
Prints one JSON line per case: {"name", "mode", "msMin", "msMedian", "tokensPerSec", "torch", "threads"}.

Usage: /usr/bin/python3 scripts/lm-torch-bench.py --serve
  driven one step at a time over JSON lines (bench/lib/peer.ts): {"setup": <case>} -> {"ready": true,
  "torch", "threads"}; {"step": true} -> {"ms": <this step's time>}; so the bench interleaves it with
  its own steps.

The model is nanoGPT's (pre-LN blocks, fused qkv, causal softmax attention, GELU MLP ×4, learned
positions, untied head), built like perf/torch_bench.py; "train" times one full AdamW step
(forward, cross-entropy, backward, clip_grad_norm_(1.0), step) as saeboard's trainer does.
"""
import json, math, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, D, H, bias, act):
        super().__init__()
        self.H, self.act = H, act
        self.ln1 = nn.LayerNorm(D, elementwise_affine=True)
        self.ln2 = nn.LayerNorm(D, elementwise_affine=True)
        self.qkv = nn.Linear(D, 3 * D, bias=bias)
        self.proj = nn.Linear(D, D, bias=bias)
        self.fc = nn.Linear(D, 4 * D, bias=bias)
        self.fc2 = nn.Linear(4 * D, D, bias=bias)

    def forward(self, x, mask):
        B, T, D = x.shape
        H = self.H
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q = q.view(B, T, H, D // H).transpose(1, 2)
        k = k.view(B, T, H, D // H).transpose(1, 2)
        v = v.view(B, T, H, D // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        att = att.masked_fill(mask[:T, :T] == 0, float('-inf')).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, D)
        x = x + self.proj(y)
        h = self.fc(self.ln2(x))
        h = F.gelu(h, approximate='tanh') if self.act == 'gelu_new' else F.gelu(h)
        return x + self.fc2(h)


class GPT(nn.Module):
    def __init__(self, L, D, H, T, V, bias, act):
        super().__init__()
        self.wte = nn.Embedding(V, D)
        self.wpe = nn.Embedding(T, D)
        self.blocks = nn.ModuleList([Block(D, H, bias, act) for _ in range(L)])
        self.lnf = nn.LayerNorm(D)
        self.head = nn.Linear(D, V, bias=False)
        self.register_buffer('mask', torch.tril(torch.ones(T, T)))

    def forward(self, idx):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x, self.mask)
        return self.head(self.lnf(x))


def make(case):
    L, H, D, T, V, B = (case[k] for k in ['nLayer', 'nHead', 'dModel', 'nCtx', 'vocabSize', 'batch'])
    m = GPT(L, D, H, T, V, case.get('bias', True), case.get('activation', 'gelu_new'))
    idx = torch.randint(0, V, (B, T + (1 if case['mode'] == 'train' else 0)))
    if case['mode'] == 'forward':
        m.eval()

        def step():
            with torch.no_grad():
                return m(idx)
    else:
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)

        def step():
            opt.zero_grad(set_to_none=True)
            logits = m(idx[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, V), idx[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            return loss.item()
    return step


def run(case):
    B, T = case['batch'], case['nCtx']
    step = make(case)
    for _ in range(case.get('warmup', 1)):
        step()
    ts = []
    for _ in range(case.get('reps', 3)):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    med = statistics.median(ts)
    print(json.dumps({'name': case['name'], 'mode': case['mode'], 'msMin': min(ts) * 1e3, 'msMedian': med * 1e3,
                      'tokensPerSec': B * T / med, 'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)


def serve():
    step = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if 'setup' in req:
                step = make(req['setup'])
                out = {'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads()}
            elif 'step' in req:
                if step is None:
                    raise ValueError('step before setup')
                t = time.perf_counter()
                step()
                out = {'ms': (time.perf_counter() - t) * 1e3}
            else:
                out = {'ok': True, 'torch': torch.__version__}
        except Exception as e:  # one error line, the bench decides
            out = {'error': f'{type(e).__name__}: {e}'}
        print(json.dumps(out), flush=True)


if sys.argv[1:] == ['--serve']:
    serve()
else:
    for c in json.loads(sys.argv[1])['cases']:
        run(c)
