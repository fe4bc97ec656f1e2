#!/usr/bin/python3
"""Reference fixture for the supervised evaluation (test/eval/reference.test.ts).

Builds a small random case (features tied to BSP cells with noise, exact threshold ties, dead
features, masked channels) and evaluates it with PyTorch the way the paper's code does
([SBGE circuits/eval_sae_as_classifier.py aggregate_batch_statistics], [analysis.py get_F1],
[f1_analysis.py best_f1_average], [eval_board_reconstruction.py aggregate_feature_labels,
create_max_active_mask, compare_constructed_to_true_boards, calculate_F1_scores]): float32
thresholds torch.arange(0.0, 1.1, 0.1) times float32 maxima, strict ">", dense one-hot tensors.
The high-precision label rule uses exact precision (metrics.md §5).

Run with Debian's python3 (it has torch): /usr/bin/python3 scripts/eval-reference.py
"""
import json
import os

import torch

torch.manual_seed(1234)
gen = torch.Generator().manual_seed(1234)

# name, rows, cols, classes, one_hot_mask_idx, channels forced to zero
FAMILIES = [
    ("board", 2, 2, 3, None, [1]),   # Othello-like: blank channel zeroed but counted (denominator 12)
    ("pieces", 2, 2, 3, 1, [1]),     # chess-like: mask index, denominator 8
    ("flag", 1, 1, 1, None, []),
    ("squares", 2, 2, 1, None, []),
]
F = 24
P_SAMPLE, P_TRAIN, P_TEST = 300, 400, 300


def make_truth(P):
    out = {}
    for name, R, C, K, mask, zero in FAMILIES:
        t = torch.zeros(P, R, C, K)
        if K == 3:
            u = torch.rand(P, R, C, generator=gen)
            t[..., 0] = (u < 0.35).float()
            t[..., 2] = ((u >= 0.35) & (u < 0.65)).float()
            t[..., 1] = (u >= 0.65).float()
        else:
            t[..., 0] = (torch.rand(P, R, C, generator=gen) < 0.4).float()
        for z in zero:
            t[..., z] = 0
        out[name] = t
    return out


# Each feature watches one random cell of one family (with noise); features 5 and 17 are dead.
# Features 0-7 watch both disc classes of every "board" square and 8-13 of three "pieces" squares,
# so test-time misfires put a TP and an FP in one square (the per-square TFP rule).
cell_of = [("board", sq * 3 + k) for sq in range(4) for k in (0, 2)] + [("pieces", sq * 3 + k) for sq in range(3) for k in (0, 2)]
for i in range(len(cell_of), F):
    k = int(torch.randint(len(FAMILIES), (1,), generator=gen))
    name, R, C, K, mask, zero = FAMILIES[k]
    cell = int(torch.randint(R * C * K, (1,), generator=gen))
    cell_of.append((name, cell))
scale = torch.rand(F, generator=gen) * 3 + 0.5
# Two thirds of the features are clean (high precision → labels), the rest noisy.
noise = torch.tensor([0.0 if i % 3 else 0.08 for i in range(F)])
DEAD = [5, 17]


def make_acts(truth, P, allow_dead, extra_noise=0.0):
    acts = torch.zeros(P, F)
    for i, (name, cell) in enumerate(cell_of):
        g = truth[name].reshape(P, -1)[:, cell]
        fire = ((g == 1) & (torch.rand(P, generator=gen) < 0.85)) | (torch.rand(P, generator=gen) < float(noise[i]) + extra_noise)
        vals = torch.rand(P, generator=gen) * scale[i]
        acts[:, i] = torch.where(fire, vals, torch.zeros(P))
        if not allow_dead and i in DEAD:
            acts[:, i] = 0
    return acts


thresholds_T = torch.arange(0.0, 1.1, 0.1)  # float32, as in the paper's code
T = thresholds_T.shape[0]

sample_truth = make_truth(P_SAMPLE)
sample = make_acts(sample_truth, P_SAMPLE, allow_dead=False)
# get_firing_features: max over the sample (zeros included), alive = fired at least once, |max|.
max_F = sample.max(dim=0).values.abs()
alive_mask = (sample != 0).sum(dim=0) > 0
alive = torch.nonzero(alive_mask).squeeze(1)


def with_ties(acts, P):
    # Put some activations exactly on a threshold: fround(t) * max, as float32.
    acts = acts.clone()
    tie = (acts > 0) & (torch.rand(P, F, generator=gen) < 0.25)
    k = torch.randint(1, T, (P, F), generator=gen)
    tied = thresholds_T[k] * max_F[None, :]
    return torch.where(tie, tied, acts)


train_truth = make_truth(P_TRAIN)
train = with_ties(make_acts(train_truth, P_TRAIN, allow_dead=True), P_TRAIN)
test_truth = make_truth(P_TEST)
test = with_ties(make_acts(test_truth, P_TEST, allow_dead=True, extra_noise=0.1), P_TEST)

thresholds_TF = thresholds_T[:, None] * max_F[alive][None, :]  # float32 product, as in the code
eps = 1e-8


def active_TFP(acts):
    return acts[:, alive].T[None, :, :] > thresholds_TF[:, :, None]


# ---- D_train statistics (aggregate_batch_statistics), F1 (get_F1), coverage (best_f1_average)
act_TFP = active_TFP(train)
on_count_TF = act_TFP.sum(-1).float()
expected = {"families": {}, "on_count": on_count_TF.tolist(), "alive": alive.tolist()}
labels = {}
for name, R, C, K, mask, zero in FAMILIES:
    g_PC = train_truth[name].reshape(P_TRAIN, -1)
    tp_TFC = torch.einsum("tfp,pc->tfc", act_TFP.float(), g_PC)
    all_C = g_PC.sum(0)
    fp = on_count_TF[:, :, None] - tp_TFC
    fn = all_C[None, None, :] - tp_TFC
    precision = tp_TFC / (tp_TFC + fp + eps)
    recall = tp_TFC / (tp_TFC + fn + eps)
    f1 = 2 * precision * recall / (precision + recall + eps)
    best_TC = f1.max(dim=1).values
    denom = R * C * (K - 1 if mask is not None else K)
    cov_T = best_TC.sum(-1) / denom
    best_t = int(torch.argmax(cov_T))
    # High-precision labels: exact precision >= 0.95 and TP >= 10.
    exact_p = torch.where(on_count_TF[:, :, None] > 0, tp_TFC.double() / on_count_TF[:, :, None].double(), torch.zeros(1).double())
    lab_TFC = (exact_p >= 0.95) & (tp_TFC >= 10)
    labels[name] = lab_TFC
    expected["families"][name] = {
        "coverage_per_threshold": cov_T.tolist(),
        "coverage_best_index": best_t,
        "coverage": float(cov_T[best_t]),
        "tp_sum_per_threshold": tp_TFC.sum((1, 2)).tolist(),
        "labels": [[torch.nonzero(lab_TFC[t, f]).squeeze(1).tolist() for f in range(len(alive))] for t in range(T)],
    }

# ---- D_test reconstruction (aggregate_feature_labels + create_max_active_mask, B = 1 game of P_TEST positions)
act_test_TFP = active_TFP(test)


def create_max_active_mask(active_indices_TFBL, feature_labels_TFRRC):
    total_nonzero_acts = active_indices_TFBL[0].sum()
    range_tensor_T111 = torch.arange(T)[:, None, None, None]
    weighted = active_indices_TFBL.float() * range_tensor_T111
    counts_TF = feature_labels_TFRRC.sum((2, 3, 4))
    mask_TFBL = (counts_TF > 0)[:, :, None, None]
    weighted = weighted * mask_TFBL
    max_indices_FBL = torch.argmax(weighted, dim=0)
    max_indices_TFBL = torch.nn.functional.one_hot(max_indices_FBL, num_classes=T).permute(3, 0, 1, 2)
    valid_FBL = active_indices_TFBL.sum(0) > 0
    max_indices_TFBL = max_indices_TFBL * valid_FBL[None]
    assert max_indices_TFBL.sum() == total_nonzero_acts
    return max_indices_TFBL


for name, R, C, K, mask, zero in FAMILIES:
    lab_TFRRC = labels[name].reshape(T, len(alive), R, C, K).float()
    active_TFBL = act_test_TFP[:, :, None, :]  # B = 1
    boards_TBLRRC = torch.einsum("tfbl,tfrsc->tblrsc", active_TFBL.float(), lab_TFRRC)
    max_TFBL = create_max_active_mask(active_TFBL, lab_TFRRC)
    boards_TBLRRC[-1] = torch.einsum("tfbl,tfrsc->blrsc", max_TFBL.float(), lab_TFRRC)
    pred = (boards_TBLRRC > 0).int()
    truth = test_truth[name][None, None].expand(T, 1, P_TEST, R, C, K)
    tp = (truth == 1) & (pred == 1)
    fp = (truth == 0) & (pred == 1)
    fn = (truth == 1) & (pred == 0)
    tfp_T = ((tp.sum(-1) == 1) & (fp.sum(-1) == 1)).sum((1, 2, 3, 4)).float()
    tp_T, fp_T, fn_T = tp.sum((1, 2, 3, 4, 5)).float(), fp.sum((1, 2, 3, 4, 5)).float(), fn.sum((1, 2, 3, 4, 5)).float()
    p = tp_T / (tp_T + fp_T + eps)
    r = tp_T / (tp_T + fn_T + eps)
    f1_class = 2 * p * r / (p + r + eps)
    adj = tp_T - tfp_T
    p2 = adj / (adj + fp_T + eps)
    r2 = adj / (adj + fn_T + eps)
    f1_square = 2 * p2 * r2 / (p2 + r2 + eps)
    best_idx = int(torch.argmax(f1_square[:10]))
    expected["families"][name]["reconstruction"] = {
        "tp": tp_T.tolist(), "fp": fp_T.tolist(), "fn": fn_T.tolist(), "tfp": tfp_T.tolist(),
        "f1_per_class": f1_class.tolist(), "f1_per_square": f1_square.tolist(),
        "best_index": best_idx, "reconstruction": float(f1_class[best_idx]),
    }


def dense(t):
    return [round(float(v), 9) if v != 0 else 0 for v in t.reshape(-1).tolist()]


fixture = {
    "generated_by": "scripts/eval-reference.py (torch %s)" % torch.__version__,
    "families": [{"name": n, "rows": R, "cols": C, "classes": K, "maskIndex": m} for n, R, C, K, m, _ in FAMILIES],
    "features": F,
    "sample": {"positions": P_SAMPLE, "acts": sample.reshape(-1).tolist()},
    "train": {"positions": P_TRAIN, "acts": train.reshape(-1).tolist(),
              "labels": {n: train_truth[n].reshape(-1).int().tolist() for n, *_ in FAMILIES}},
    "test": {"positions": P_TEST, "acts": test.reshape(-1).tolist(),
             "labels": {n: test_truth[n].reshape(-1).int().tolist() for n, *_ in FAMILIES}},
    "max": max_F.tolist(),
    "expected": expected,
}
out = os.path.join(os.path.dirname(__file__), "..", "test", "eval", "fixtures", "reference-small.json")
with open(out, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
n_labels = sum(len(x) for fam in expected["families"].values() for row in fam["labels"] for x in row)
print("wrote", os.path.normpath(out), "alive", len(alive), "labels", n_labels)
for name in expected["families"]:
    e = expected["families"][name]
    print(name, "coverage %.4f @%d" % (e["coverage"], e["coverage_best_index"]), "recon %.4f @%d" % (e["reconstruction"]["reconstruction"], e["reconstruction"]["best_index"]), "tfp", e["reconstruction"]["tfp"])
