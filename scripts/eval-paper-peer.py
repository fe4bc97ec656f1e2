#!/usr/bin/python3
"""Peer for bench/eval.ts: the paper's own evaluation algorithm, timed on a few steps.

Reproduces the tensor work of [SBGE circuits/eval_sae_as_classifier.py aggregate_batch_statistics]
(D_train statistics: for every 25-game batch and 25-feature batch, an (11, 25, 25, L, R, R, C) board
tensor multiplied by the "on" and "off" masks and summed) and of
[SBGE circuits/eval_board_reconstruction.py aggregate_feature_labels + create_max_active_mask]
(D_test: feature labels repeated over games and positions, multiplied by the on mask, summed over
features), one BSP function at a time, with PyTorch on the CPU (2 threads). Random inputs of the
right shapes; the work does not depend on the values. A few steps are timed after a warm-up step
and the total is extrapolated linearly: steps = (games / 25) * ceil(features / 25) per stage.

  /usr/bin/python3 scripts/eval-paper-peer.py --family-cells 832,1,64 --positions-per-game 20 \
      --games 1000 --features 4096 [--steps 2]
Prints one JSON line.
"""
import argparse
import json
import math
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--family-cells", required=True, help="comma-separated cells per BSP function (R*R*C)")
p.add_argument("--positions-per-game", type=int, required=True)
p.add_argument("--games", type=int, default=1000)
p.add_argument("--features", type=int, default=4096)
p.add_argument("--steps", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(2)
torch.set_grad_enabled(False)

B = 25  # games per batch (pipeline_config batch_size)
FB = 25  # features per batch (feature_batch_size = batch_size)
T = 11
L = a.positions_per_game
cells = [int(c) for c in a.family_cells.split(",")]
thresholds_TF11 = (torch.arange(0.0, 1.1, 0.1)[:, None] * torch.rand(FB)[None, :])[:, :, None, None]


def stats_step():
    acts_FBL = torch.rand(FB, B, L) * (torch.rand(FB, B, L) < 0.05)
    active_TFBL = acts_FBL > thresholds_TF11
    active_TFBL.sum((2, 3))
    (~active_TFBL).sum((2, 3))
    for c in cells:
        boards_BLC = (torch.rand(B, L, c) < 0.1).float()
        boards_TFBLC = boards_BLC[None, None].expand(T, FB, B, L, c)
        (boards_TFBLC * active_TFBL[..., None]).sum((2, 3))
        (boards_TFBLC * (~active_TFBL)[..., None]).sum((2, 3))


def recon_step():
    acts_FBL = torch.rand(FB, B, L) * (torch.rand(FB, B, L) < 0.05)
    active_TFBL = acts_FBL > thresholds_TF11
    for c in cells:
        labels_TFC = (torch.rand(T, FB, c) < 0.01).float()
        labels_TFBLC = labels_TFC[:, :, None, None, :].expand(T, FB, B, L, c)
        boards_TBLC = (labels_TFBLC * active_TFBL[..., None]).sum(1)
        # create_max_active_mask
        weighted = active_TFBL.float() * torch.arange(T)[:, None, None, None]
        weighted = weighted * (labels_TFC.sum(-1) > 0)[:, :, None, None]
        idx_FBL = torch.argmax(weighted, dim=0)
        max_TFBL = torch.nn.functional.one_hot(idx_FBL, num_classes=T).permute(3, 0, 1, 2)
        max_TFBL = max_TFBL * (active_TFBL.sum(0) > 0)[None]
        boards_TBLC[-1] = (labels_TFBLC * max_TFBL[..., None]).sum((0, 1))


def per_step(fn):
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.steps):
        fn()
    return (time.perf_counter() - t0) / a.steps


steps = (a.games // B) * math.ceil(a.features / FB)
s = per_step(stats_step)
r = per_step(recon_step)
print(json.dumps({
    "statsSecondsPerStep": s,
    "reconSecondsPerStep": r,
    "steps": steps,
    "statsSeconds": s * steps,
    "reconSeconds": r * steps,
    "totalSeconds": (s + r) * steps,
    "torch": torch.__version__,
}))
