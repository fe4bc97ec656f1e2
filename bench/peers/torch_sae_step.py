# PyTorch CPU peer for bench/sae-step.ts: one training step of the paper's SAE trainers as
# saprmarks/dictionary_learning runs them (loss, ConstrainedAdam / top-k gradient handling, Adam),
# timed on the same shapes. Adapted from saeboard's research script
# ../shared/research/perf/torch_bench.py (sae_bench). Prints one JSON line per case.
#   /usr/bin/python3 bench/peers/torch_sae_step.py --d 512 --f 4096 --batches 2048,8192 --trainers standard,gated,p_anneal,top_k
# With --serve it is driven one step at a time over JSON lines on stdin/stdout (bench/lib/peer.ts):
#   {"setup": {"trainer": "standard", "B": 2048, "d": 512, "F": 4096[, "l0": 64]}} -> {"ready": true, "torch": ..., "threads": ...}
#   {"step": true} -> {"ms": <this step's time>}
# so the bench can interleave it with its own steps.
import argparse, json, os, statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--d', type=int, default=512)
p.add_argument('--f', type=int, default=4096)
p.add_argument('--batches', default='2048,8192')
p.add_argument('--trainers', default='standard,gated,p_anneal,top_k')
p.add_argument('--reps', default='')
p.add_argument('--threads', type=int, default=2)
p.add_argument('--serve', action='store_true')
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
D, M = a.d, a.f


class AutoEncoder(nn.Module):  # dictionary_learning AutoEncoder
    def __init__(s):
        super().__init__()
        s.bias = nn.Parameter(torch.zeros(D)); s.encoder = nn.Linear(D, M); s.decoder = nn.Linear(M, D, bias=False)
        w = torch.randn_like(s.decoder.weight); s.decoder.weight = nn.Parameter(w / w.norm(dim=0, keepdim=True))

    def forward(s, x):
        f = F.relu(s.encoder(x - s.bias)); return s.decoder(f) + s.bias, f


class Gated(nn.Module):  # dictionary_learning GatedAutoEncoder (unit decoder columns: no norm rescaling)
    def __init__(s):
        super().__init__()
        s.decoder_bias = nn.Parameter(torch.zeros(D)); s.encoder = nn.Linear(D, M, bias=False)
        s.r_mag = nn.Parameter(torch.zeros(M)); s.gate_bias = nn.Parameter(torch.zeros(M)); s.mag_bias = nn.Parameter(torch.zeros(M))
        s.decoder = nn.Linear(M, D, bias=False)
        w = torch.randn_like(s.decoder.weight); s.decoder.weight = nn.Parameter(w / w.norm(dim=0, keepdim=True))


class TopK(nn.Module):  # AutoEncoderTopK at c52ff00: W_dec rows = normalised copy of the encoder
    def __init__(s, k):
        super().__init__()
        s.k = k; s.encoder = nn.Linear(D, M); s.encoder.bias.data.zero_()
        s.W_dec = nn.Parameter(s.encoder.weight.data.clone()); s.b_dec = nn.Parameter(torch.zeros(D))
        with torch.no_grad(): s.W_dec /= s.W_dec.norm(dim=1, keepdim=True)


def constrained_adam(params, W):  # ConstrainedAdam: project, Adam step, renormalise
    opt = torch.optim.Adam(params, lr=3e-4, betas=(0.9, 0.999))
    def step():
        with torch.no_grad():
            n = W / W.norm(dim=0, keepdim=True); W.grad -= (W.grad * n).sum(dim=0, keepdim=True) * n
        opt.step()
        with torch.no_grad(): W.div_(W.norm(dim=0, keepdim=True))
    return opt, step


def bias_for_l0(pre, B, l0):
    # per feature, the midpoint of its (B·l0/M)-th and next largest value over the batch
    rows = max(1, min(B - 1, round(B * l0 / M)))
    v = pre.T.topk(rows + 1, dim=1).values
    return (v[:, rows - 1] + v[:, rows]) / 2


def make(trainer, B, l0=None):
    x = torch.randn(B, D)
    if trainer in ('standard', 'p_anneal'):
        ae = AutoEncoder(); opt, ostep = constrained_adam(ae.parameters(), ae.decoder.weight)
        if l0 is not None:  # bench/sae-step --l0: l0 features fire per row, the bench's sparseDictionary rule
            with torch.no_grad():
                ae.encoder.bias.zero_()
                ae.encoder.bias.copy_(-bias_for_l0(ae.encoder(x - ae.bias), B, l0))
        p_exp = 1.0 if trainer == 'standard' else 0.5
        def step():
            opt.zero_grad(set_to_none=True)
            xh, f = ae(x)
            l2 = torch.linalg.norm(x - xh, dim=-1).mean()
            sp = f.norm(p=1, dim=-1).mean() if trainer == 'standard' else f.pow(p_exp).sum(-1).mean()
            (l2 + 0.05 * sp).backward(); ostep()
    elif trainer == 'gated':
        ae = Gated(); opt = torch.optim.Adam(ae.parameters(), lr=3e-4, betas=(0.0, 0.999))
        W = ae.decoder.weight
        if l0 is not None:  # the same rule on the gate's bias
            with torch.no_grad():
                ae.gate_bias.copy_(-bias_for_l0(ae.encoder(x - ae.decoder_bias), B, l0))
        def step():
            opt.zero_grad(set_to_none=True)
            z = ae.encoder(x - ae.decoder_bias); pg = z + ae.gate_bias
            f = (pg > 0).float() * F.relu(ae.r_mag.exp() * z + ae.mag_bias); fg = F.relu(pg)
            xh = ae.decoder(f) + ae.decoder_bias
            xg = fg @ W.detach().T + ae.decoder_bias.detach()
            loss = (x - xh).pow(2).sum(-1).mean() + 1.0 * fg.norm(p=1, dim=-1).mean() + (x - xg).pow(2).sum(-1).mean()
            loss.backward()
            with torch.no_grad():
                n = W / W.norm(dim=0, keepdim=True); W.grad -= (W.grad * n).sum(dim=0, keepdim=True) * n
            opt.step()
            with torch.no_grad(): W.div_(W.norm(dim=0, keepdim=True))
    else:
        ae = TopK(64); opt = torch.optim.Adam(ae.parameters(), lr=4e-4, betas=(0.9, 0.999))
        def step():
            with torch.no_grad(): ae.W_dec /= ae.W_dec.norm(dim=1, keepdim=True) + torch.finfo(torch.float32).eps
            post = F.relu(ae.encoder(x - ae.b_dec)); v, i = post.topk(ae.k, sorted=False)
            f = torch.zeros_like(post).scatter_(-1, i, v); xh = f @ ae.W_dec + ae.b_dec
            (xh - x).pow(2).sum(-1).mean().backward()
            torch.nn.utils.clip_grad_norm_(ae.parameters(), 1.0)
            with torch.no_grad():
                g = ae.W_dec.grad; g -= (g * ae.W_dec).sum(-1, keepdim=True) * ae.W_dec
            opt.step(); opt.zero_grad(set_to_none=True)
    return step


def handler():
    step = None

    def handle(req):
        global D, M
        nonlocal step
        if 'setup' in req:
            c = req['setup']
            D, M = int(c.get('d', D)), int(c.get('F', M))
            step = make(c['trainer'], int(c['B']), c.get('l0'))
            return {'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                    'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE')}
        if 'step' in req:
            if step is None:
                raise ValueError('step before setup')
            t0 = time.perf_counter(); step(); return {'ms': (time.perf_counter() - t0) * 1e3}
        return {'ok': True, 'torch': torch.__version__}

    return handle


if a.serve:
    from jsonl_peer import serve
    serve(handler())
    sys.exit(0)

reps = [int(r) for r in a.reps.split(',')] if a.reps else None
for bi, B in enumerate(int(b) for b in a.batches.split(',')):
    for trainer in a.trainers.split(','):
        step = make(trainer, B)
        step()  # warm-up
        n = reps[bi] if reps else (4 if B <= 2048 else 3)
        ts = []
        for _ in range(n):
            t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({'trainer': trainer, 'B': B, 'd': D, 'F': M, 'min_ms': min(ts), 'median_ms': statistics.median(ts), 'reps': n,
                          'torch': torch.__version__, 'threads': torch.get_num_threads(), 'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE')}), flush=True)
