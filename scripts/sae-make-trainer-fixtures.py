#!/usr/bin/python3
"""
Trainer fixtures for test/sae/torch-parity.test.ts: a few steps of the paper's trainers run
in PyTorch — autograd for the gradients, torch.optim.Adam for the updates — following
dictionary_learning's trainer logic as trainers.md describes it (StandardTrainer, PAnnealTrainer,
GatedSAETrainer with ConstrainedAdam; TrainerTopK at c52ff00). saeboard's hand-written backward
passes and optimiser must reproduce the losses and final weights.

Tensors are stored in saeboard's layout (W_enc [d, F], W_dec [F, d]) in one JSON file.
Run with Debian's torch:  /usr/bin/python3 scripts/sae-make-trainer-fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(7)
D, M, B, STEPS = 6, 10, 8, 6
OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "sae", "trainers.json")
batches = [torch.randn(B, D) + 0.2 for _ in range(STEPS)]


def unit_rows(w):
    return w / w.norm(dim=1, keepdim=True)


def lst(t):
    return t.detach().reshape(-1).tolist()


class ConstrainedAdam(torch.optim.Adam):
    """dictionary_learning ConstrainedAdam for a decoder stored as W_dec [F, d] (rows = features)."""

    def __init__(self, params, constrained, lr, betas):
        super().__init__(params, lr=lr, betas=betas)
        self.constrained = list(constrained)

    def step(self, closure=None):
        with torch.no_grad():
            for p in self.constrained:
                u = p / p.norm(dim=1, keepdim=True)
                p.grad -= (p.grad * u).sum(dim=1, keepdim=True) * u
        super().step(closure)
        with torch.no_grad():
            for p in self.constrained:
                p /= p.norm(dim=1, keepdim=True)


def relu_init():
    return {"W_enc": torch.randn(D, M) * 0.4, "b_enc": torch.randn(M) * 0.1, "W_dec": unit_rows(torch.randn(M, D)), "b_dec": torch.randn(D) * 0.1}


def run_relu(kind):
    init = relu_init()
    P = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    lr, warm = 1e-2, 2
    opt = ConstrainedAdam(list(P.values()), [P["W_dec"]], lr=lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(s / warm, 1.0))
    cfg = {"trainer": kind, "dIn": D, "dictSize": M, "steps": STEPS, "batchSize": B, "lr": lr, "warmupSteps": warm}
    lam = 0.2
    if kind == "standard":
        cfg["l1Penalty"] = lam
    else:
        cfg.update({"initialSparsityPenalty": lam, "annealStart": 2, "annealEnd": 6, "nSparsityUpdates": 3, "sparsityQueueLength": 2, "pEnd": 0.2})
        update_steps = torch.linspace(2, 6, 3, dtype=int).tolist()
        p_values = torch.linspace(1, 0.2, 3)
        p, next_p, count, queue = 1.0, None, 0, []
    losses = []
    for step, x in enumerate(batches):
        opt.zero_grad()
        f = F.relu((x - P["b_dec"]) @ P["W_enc"] + P["b_enc"])
        xh = f @ P["W_dec"] + P["b_dec"]
        l2 = torch.linalg.norm(x - xh, dim=-1).mean()
        if kind == "standard":
            loss = l2 + lam * f.norm(p=1, dim=-1).mean()
        else:  # PAnnealTrainer.loss: the loss uses p and λ from before this step's update
            lp = f.pow(p).sum(dim=-1).mean()
            loss = l2 + lam * lp
            if next_p is not None:
                queue.append([lp.item(), f.pow(next_p).sum(dim=-1).mean().item()])
                queue = queue[-2:]
            if step in update_steps and step >= update_steps[count]:
                if next_p is not None:
                    lam = lam * (torch.tensor([q[0] for q in queue]).mean() / torch.tensor([q[1] for q in queue]).mean()).item()
                p = p_values[count].item()
                next_p = p_values[count + 1].item() if count < 2 else 0.2
                count += 1
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return {"config": cfg, "init": {k: lst(v) for k, v in init.items()}, "losses": losses, "final": {k: lst(v) for k, v in P.items()}}


def run_gated(anneal=False):
    init = {"W_enc": torch.randn(D, M) * 0.4, "r_mag": torch.randn(M) * 0.1, "b_gate": torch.randn(M) * 0.1, "b_mag": torch.randn(M) * 0.1,
            "W_dec": unit_rows(torch.randn(M, D)), "b_dec": torch.randn(D) * 0.1}
    P = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    lr, warm, lam = 1e-2, 2, 0.3
    opt = ConstrainedAdam(list(P.values()), [P["W_dec"]], lr=lr, betas=(0.0, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(s / warm, 1.0))
    losses = []
    update_steps = torch.linspace(2, 6, 3, dtype=int).tolist()
    p_values = torch.linspace(1, 0.2, 3)
    p, next_p, count, queue = 1.0, None, 0, []
    for step, x in enumerate(batches):
        opt.zero_grad()
        z = (x - P["b_dec"]) @ P["W_enc"]
        pg = z + P["b_gate"]
        f = (pg > 0).float() * F.relu(P["r_mag"].exp() * z + P["b_mag"])
        fg = F.relu(pg)
        xh = f @ P["W_dec"] + P["b_dec"]
        xg = fg @ P["W_dec"].detach() + P["b_dec"].detach()
        if not anneal:
            sparse = lam * torch.linalg.norm(fg, ord=1, dim=-1).mean()
        else:  # GatedAnnealTrainer: Lp^p of the gate activations, p / λ as PAnnealTrainer
            lp = fg.pow(p).sum(-1).mean()
            sparse = lam * lp
            if next_p is not None:
                queue.append([lp.item(), fg.pow(next_p).sum(-1).mean().item()])
                queue = queue[-2:]
            if step in update_steps and step >= update_steps[count]:
                if next_p is not None:
                    lam = lam * (torch.tensor([q[0] for q in queue]).mean() / torch.tensor([q[1] for q in queue]).mean()).item()
                p = p_values[count].item()
                next_p = p_values[count + 1].item() if count < 2 else 0.2
                count += 1
        loss = (x - xh).pow(2).sum(-1).mean() + sparse + (x - xg).pow(2).sum(-1).mean()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    cfg = {"trainer": "gated", "dIn": D, "dictSize": M, "steps": STEPS, "batchSize": B, "lr": lr, "warmupSteps": warm, "l1Penalty": 0.3}
    if anneal:
        cfg = {"trainer": "gated_anneal", "dIn": D, "dictSize": M, "steps": STEPS, "batchSize": B, "lr": lr, "warmupSteps": warm, "initialSparsityPenalty": 0.3,
               "annealStart": 2, "annealEnd": 6, "nSparsityUpdates": 3, "sparsityQueueLength": 2, "pEnd": 0.2}
    return {"config": cfg, "init": {k: lst(v) for k, v in init.items()}, "losses": losses, "final": {k: lst(v) for k, v in P.items()}}


def geometric_median(points, max_iter=100, tol=1e-5):
    guess = points.mean(dim=0)
    for _ in range(max_iter):
        prev = guess
        w = 1 / torch.norm(points - guess, dim=1)
        w /= w.sum()
        guess = (w.unsqueeze(1) * points).sum(dim=0)
        if torch.norm(guess - prev) < tol:
            break
    return guess


def run_topk():
    k, thresh, decay_start = 3, 8, 4
    enc_w = torch.randn(M, D) * 0.4  # encoder.weight [F, d]
    init = {"W_enc": enc_w.T.contiguous(), "b_enc": torch.zeros(M), "W_dec": unit_rows(enc_w.clone()), "b_dec": torch.zeros(D)}
    P = {k2: v.clone().requires_grad_(True) for k2, v in init.items()}
    lr = 2e-4 / (M / 2 ** 14) ** 0.5
    opt = torch.optim.Adam(list(P.values()), lr=lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 if s < decay_start else (STEPS - s) / (STEPS - decay_start))
    since = torch.zeros(M)
    losses = []
    eps = torch.finfo(torch.float32).eps
    for step, x in enumerate(batches):
        if step == 0:
            with torch.no_grad():
                P["b_dec"].copy_(geometric_median(x))
        with torch.no_grad():
            P["W_dec"] /= P["W_dec"].norm(dim=1, keepdim=True) + eps
        post = F.relu((x - P["b_dec"]) @ P["W_enc"] + P["b_enc"])
        v, idx = post.topk(k, sorted=False)
        f = torch.zeros_like(post).scatter(-1, idx, v)
        xh = f @ P["W_dec"] + P["b_dec"]
        e = xh - x
        tot = (x - x.mean(0)).pow(2).sum(0)
        fired = torch.zeros(M, dtype=torch.bool)
        fired[idx.flatten()] = True
        since += B
        since[fired] = 0
        dead = since > thresh
        nd = int(dead.sum())
        aux = torch.tensor(0.0)
        if nd > 0:
            k_aux = min(D // 2, nd)
            scale = min(nd / (D // 2), 1.0)
            lat = torch.where(dead[None], post, torch.tensor(-float("inf")))
            av, ai = lat.topk(k_aux, sorted=False)
            a = torch.zeros_like(post).scatter(-1, ai, av)
            eh = a @ P["W_dec"] + P["b_dec"]
            aux = scale * torch.mean((eh - e).pow(2) / tot)
        loss = e.pow(2).sum(-1).mean() + aux / 32
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        with torch.no_grad():
            g, w = P["W_dec"].grad, P["W_dec"]
            g -= (g * w).sum(dim=1, keepdim=True) * w
        opt.step()
        opt.zero_grad()
        sched.step()
        losses.append(loss.item())
    cfg = {"trainer": "top_k", "dIn": D, "dictSize": M, "steps": STEPS, "batchSize": B, "k": k, "deadTokensThreshold": thresh, "decayStart": decay_start}
    return {"config": cfg, "init": {k2: lst(v) for k2, v in init.items()}, "losses": losses, "final": {k2: lst(v) for k2, v in P.items()}, "auxUsed": True}


def run_batch_topk():
    """dictionary_learning BatchTopKTrainer: batch top-k·B, threshold EMA, AuxK on the detached residual."""
    k, thresh, t_start, warm = 2, 8, 1, 2
    dec_w = torch.randn(D, M) * 0.4  # decoder.weight [d, F]
    dec_rows = unit_rows(dec_w.T.contiguous())
    init = {"W_enc": dec_rows.T.contiguous(), "b_enc": torch.zeros(M), "W_dec": dec_rows, "b_dec": torch.zeros(D), "threshold": torch.tensor([-1.0])}
    P = {k2: v.clone().requires_grad_(True) for k2, v in init.items() if k2 != "threshold"}
    threshold = -1.0
    lr = 2e-4 / (M / 2 ** 14) ** 0.5
    opt = torch.optim.Adam(list(P.values()), lr=lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / warm if s < warm else 1.0)
    since = torch.zeros(M)
    eps = torch.finfo(torch.float32).eps
    losses = []
    for step, x in enumerate(batches):
        if step == 0:
            with torch.no_grad():
                P["b_dec"].copy_(geometric_median(x))
        post = F.relu((x - P["b_dec"]) @ P["W_enc"] + P["b_enc"])
        flat = post.flatten()
        top = flat.topk(k * B, sorted=False)
        f = torch.zeros_like(flat).scatter(-1, top.indices, top.values).reshape(post.shape)
        if step > t_start:
            active = f[f > 0]
            mn = active.min().item() if active.numel() else 0.0
            threshold = mn if threshold < 0 else 0.999 * threshold + 0.001 * mn
        xh = f @ P["W_dec"] + P["b_dec"]
        e = x - xh
        fired = f.sum(0) > 0
        since += B
        since[fired] = 0
        dead = since >= thresh
        nd = int(dead.sum())
        aux = torch.tensor(0.0)
        if nd > 0:
            k_aux = min(D // 2, nd)
            lat = torch.where(dead[None], post, torch.tensor(-float("inf")))
            av, ai = lat.topk(k_aux, sorted=False)
            a = torch.zeros_like(post).scatter(-1, ai, av)
            xa = a @ P["W_dec"]
            r = e.detach()
            l2a = (r - xa).pow(2).sum(-1).mean()
            den = (r - r.mean(0)).pow(2).sum(-1).mean()
            aux = (l2a / den).nan_to_num(0.0)
        loss = e.pow(2).sum(-1).mean() + aux / 32
        loss.backward()
        with torch.no_grad():
            w, g = P["W_dec"], P["W_dec"].grad
            u = w / (w.norm(dim=1, keepdim=True) + 1e-6)
            g -= (g * u).sum(dim=1, keepdim=True) * u
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        opt.zero_grad()
        sched.step()
        with torch.no_grad():
            P["W_dec"] /= P["W_dec"].norm(dim=1, keepdim=True) + eps
        losses.append(loss.item())
    final = {k2: lst(v) for k2, v in P.items()}
    final["threshold"] = [threshold]
    cfg = {"trainer": "batch_top_k", "dIn": D, "dictSize": M, "steps": STEPS, "batchSize": B, "k": k, "deadTokensThreshold": thresh, "thresholdStartStep": t_start, "warmupSteps": warm}
    return {"config": cfg, "init": {k2: lst(v) for k2, v in init.items()}, "losses": losses, "final": final}


class Rect(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return ((u > -0.5) & (u < 0.5)).float()

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        g = g.clone()
        g[(u <= -0.5) | (u >= 0.5)] = 0
        return g


class JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, th, bw):
        ctx.save_for_backward(x, th)
        ctx.bw = bw
        return x * (x > th).float()

    @staticmethod
    def backward(ctx, g):
        x, th = ctx.saved_tensors
        bw = ctx.bw
        return (x > th).float() * g, -(th / bw) * Rect.apply((x - th) / bw) * g, None


class Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, th, bw):
        ctx.save_for_backward(x, th)
        ctx.bw = bw
        return (x > th).float()

    @staticmethod
    def backward(ctx, g):
        x, th = ctx.saved_tensors
        bw = ctx.bw
        return torch.zeros_like(x), -(1.0 / bw) * Rect.apply((x - th) / bw) * g, None


def run_jumprelu():
    """dictionary_learning JumpReluTrainer: STE gradients for the thresholds (bandwidth 0.05 here)."""
    bw, target, coeff, sw, warm, lr = 0.05, 3.0, 1.0, 2, 2, 1e-2
    rows = unit_rows(torch.randn(M, D))
    init = {"W_enc": rows.T.contiguous(), "b_enc": torch.randn(M) * 0.1, "W_dec": rows.clone(), "b_dec": torch.zeros(D), "threshold": torch.rand(M) * 0.3}
    P = {k2: v.clone().requires_grad_(True) for k2, v in init.items()}
    opt = torch.optim.Adam(list(P.values()), lr=lr, betas=(0.0, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / warm if s < warm else 1.0)
    eps = torch.finfo(torch.float32).eps
    losses = []
    for step, x in enumerate(batches):
        scale = min(step / sw, 1.0)
        pre = x @ P["W_enc"] + P["b_enc"]
        f = JumpReLU.apply(pre, P["threshold"], bw)
        xh = f @ P["W_dec"] + P["b_dec"]
        l0 = Step.apply(f, P["threshold"], bw).sum(-1).mean()
        loss = (x - xh).pow(2).sum(-1).mean() + coeff * ((l0 / target) - 1).pow(2) * scale
        loss.backward()
        with torch.no_grad():
            w, g = P["W_dec"], P["W_dec"].grad
            u = w / (w.norm(dim=1, keepdim=True) + 1e-6)
            g -= (g * u).sum(dim=1, keepdim=True) * u
        torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        with torch.no_grad():
            P["W_dec"] /= P["W_dec"].norm(dim=1, keepdim=True) + eps
        losses.append(loss.item())
    cfg = {"trainer": "jump_relu", "dIn": D, "dictSize": M, "steps": STEPS, "batchSize": B, "lr": lr, "warmupSteps": warm, "bandwidth": bw, "targetL0": target,
           "sparsityPenalty": coeff, "sparsityWarmupSteps": sw}
    return {"config": cfg, "init": {k2: lst(v) for k2, v in init.items()}, "losses": losses, "final": {k2: lst(v) for k2, v in P.items()}}


fixtures = {"batches": [lst(x) for x in batches], "B": B, "d": D, "standard": run_relu("standard"), "p_anneal": run_relu("p_anneal"), "gated": run_gated(), "top_k": run_topk(),
            "batch_top_k": run_batch_topk(), "jump_relu": run_jumprelu(), "gated_anneal": run_gated(anneal=True)}
with open(OUT, "w") as f:
    json.dump(fixtures, f)
print("wrote", os.path.normpath(OUT), "torch", torch.__version__)
