#!/usr/bin/python3
"""
Make the small interop fixtures under test/fixtures/sae/ with PyTorch, following the conventions
of the real libraries (checked against their sources; see docs/sae.md "Interop"):

  dictionary_learning  torch.save(ae.state_dict(), "ae.pt") + config.json {"trainer": ..., "buffer": ...}
                       with the parameter names of AutoEncoder, GatedAutoEncoder, AutoEncoderTopK
                       (current layout and the c52ff00 layout with W_dec [F, d]), BatchTopKSAE and
                       JumpReluAutoEncoder.
  SAELens              sae_weights.safetensors (W_enc, b_enc, W_dec, b_dec, + gated / jumprelu
                       tensors) + cfg.json (architecture, d_in, d_sae, apply_b_dec_to_input, k, ...).

For every fixture, expected.json holds an input batch and the features / reconstruction the
library's `encode` / `decode` compute (reimplemented below from the libraries' definitions), so the
TypeScript loaders are checked against the libraries' semantics, not against themselves.

Run with Debian's torch:  /usr/bin/python3 scripts/sae-make-interop-fixtures.py
"""
import json
import os
import struct
from collections import OrderedDict

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "sae")
D, F = 4, 6
torch.manual_seed(1234)


def rnd(*shape, scale=0.5):
    return (torch.randn(*shape) * scale).float()


def save_safetensors(path, tensors):
    """The safetensors format by hand (the Python package is not installed here)."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].contiguous().float()
        b = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write(name, files_fn, x, feats, recon, note):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    files_fn(d)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"note": note, "x": x.tolist(), "features": feats.tolist(), "reconstruction": recon.tolist()}, f, indent=1)


X = torch.cat([rnd(5, D, scale=1.0), torch.zeros(1, D)])
relu = torch.relu


def topk_sparsify(post, k):
    v, i = post.topk(k, dim=-1, sorted=False)
    return torch.zeros_like(post).scatter_(-1, i, v)


def dl_config(trainer_class, dict_class, **extra):
    trainer = {"trainer_class": trainer_class, "dict_class": dict_class, "activation_dim": D, "dict_size": F, "lr": 3e-4,
               "steps": 100, "seed": 42, "warmup_steps": 10, "device": "cpu", "layer": 5, "lm_name": "tiny-lm", "wandb_name": trainer_class}
    trainer.update(extra)
    return {"trainer": trainer, "buffer": {"d_submodule": D, "io": "out", "n_ctxs": 10, "ctx_len": 59, "out_batch_size": 32, "device": "cpu"}}


def dl(name, state, cfg, feats, recon, note):
    def files(d):
        torch.save(state, os.path.join(d, "ae.pt"))
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
    write(name, files, X, feats, recon, note)


# --- dictionary_learning AutoEncoder: bias, encoder (Linear d→F), decoder (Linear F→d, no bias)
enc_w, enc_b, dec_w, bias = rnd(F, D), rnd(F), rnd(D, F), rnd(D)
f = relu((X - bias) @ enc_w.T + enc_b)
dl("dl_relu", OrderedDict([("bias", bias), ("encoder.weight", enc_w), ("encoder.bias", enc_b), ("decoder.weight", dec_w)]),
   dl_config("StandardTrainer", "AutoEncoder", l1_penalty=0.05, resample_steps=None), f, f @ dec_w.T + bias, "AutoEncoder")

# --- GatedAutoEncoder: decoder_bias, encoder (no bias), r_mag, gate_bias, mag_bias, decoder.
# The current class rescales f by the decoder column norms in encode and back in decode; with
# unit-norm columns (the training constraint) that is the identity, so the fixture uses them.
g_w, r_mag, g_b, m_b, g_dec, g_bias = rnd(F, D), rnd(F, scale=0.3), rnd(F), rnd(F), rnd(D, F), rnd(D)
g_dec = g_dec / g_dec.norm(dim=0, keepdim=True)
z = (X - g_bias) @ g_w.T
f = (z + g_b > 0).float() * relu(r_mag.exp() * z + m_b)
dl("dl_gated", OrderedDict([("decoder_bias", g_bias), ("encoder.weight", g_w), ("r_mag", r_mag), ("gate_bias", g_b), ("mag_bias", m_b), ("decoder.weight", g_dec)]),
   dl_config("GatedSAETrainer", "GatedAutoEncoder", l1_penalty=1.0), f, f @ g_dec.T + g_bias, "GatedAutoEncoder")

# --- AutoEncoderTopK (current layout): k and threshold buffers, decoder Linear, encoder Linear, b_dec
t_enc_w, t_enc_b, t_dec, t_bdec = rnd(F, D), rnd(F), rnd(D, F), rnd(D)
post = relu((X - t_bdec) @ t_enc_w.T + t_enc_b)
f = topk_sparsify(post, 2)
dl("dl_topk", OrderedDict([("k", torch.tensor(2, dtype=torch.int)), ("threshold", torch.tensor(-1.0)), ("decoder.weight", t_dec),
                           ("encoder.weight", t_enc_w), ("encoder.bias", t_enc_b), ("b_dec", t_bdec)]),
   dl_config("TopKTrainer", "AutoEncoderTopK", k=2, auxk_alpha=1 / 32, decay_start=80), f, f @ t_dec.T + t_bdec, "AutoEncoderTopK, top-k encode")

# --- AutoEncoderTopK at c52ff00: decoder stored as W_dec [F, d] (one row per feature), k buffer (int64)
dl("dl_topk_c52ff00", OrderedDict([("k", torch.tensor(2)), ("encoder.weight", t_enc_w), ("encoder.bias", t_enc_b), ("W_dec", t_dec.T.contiguous()), ("b_dec", t_bdec)]),
   dl_config("TrainerTopK", "AutoEncoderTopK", k=2, auxk_alpha=1 / 32), f, f @ t_dec.T + t_bdec, "AutoEncoderTopK at c52ff00 (W_dec rows)")

# --- BatchTopKSAE: inference uses the learnt threshold: post * (post > threshold)
th = 0.2
f = post * (post > th).float()
dl("dl_batchtopk", OrderedDict([("k", torch.tensor(2, dtype=torch.int)), ("threshold", torch.tensor(th)), ("decoder.weight", t_dec),
                                ("encoder.weight", t_enc_w), ("encoder.bias", t_enc_b), ("b_dec", t_bdec)]),
   dl_config("BatchTopKTrainer", "BatchTopKSAE", k=2, auxk_alpha=1 / 32), f, f @ t_dec.T + t_bdec, "BatchTopKSAE, threshold encode")

# --- JumpReluAutoEncoder: W_enc [d, F], b_enc, W_dec [F, d], b_dec, threshold [F]; no b_dec on the input
j_w, j_b, j_dec, j_bdec, j_th = rnd(D, F), rnd(F), rnd(F, D), rnd(D), rnd(F, scale=0.2).abs()
pre = X @ j_w + j_b
f = relu(pre * (pre > j_th).float())
dl("dl_jumprelu", OrderedDict([("W_enc", j_w), ("b_enc", j_b), ("W_dec", j_dec), ("b_dec", j_bdec), ("threshold", j_th)]),
   dl_config("JumpReluTrainer", "JumpReluAutoEncoder", bandwidth=0.001, sparsity_penalty=1.0, target_l0=20.0, sparsity_warmup_steps=20), f, f @ j_dec + j_bdec,
   "JumpReluAutoEncoder")


# --- SAELens
def saelens(name, tensors, cfg, feats, recon, note):
    base = {"d_in": D, "d_sae": F, "dtype": "float32", "device": "cpu", "normalize_activations": "none", "reshape_activations": "none",
            "meta": {"model_name": "tiny-lm", "hook_name": "blocks.5.hook_resid_post", "hook_layer": 5}}
    base.update(cfg)

    def files(d):
        save_safetensors(os.path.join(d, "sae_weights.safetensors"), tensors)
        with open(os.path.join(d, "cfg.json"), "w") as f:
            json.dump(base, f, indent=1)
    write(name, files, X, feats, recon, note)


W_enc, b_enc, W_dec, b_dec = rnd(D, F), rnd(F), rnd(F, D), rnd(D)
for apply in (True, False):
    sae_in = X - b_dec * apply
    f = relu(sae_in @ W_enc + b_enc)
    saelens("saelens_standard" + ("" if apply else "_no_bdec"), {"W_enc": W_enc, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec},
            {"architecture": "standard", "apply_b_dec_to_input": apply}, f, f @ W_dec + b_dec, f"standard, apply_b_dec_to_input={apply}")

r, bg, bm = rnd(F, scale=0.3), rnd(F), rnd(F)
sae_in = X - b_dec
f = (sae_in @ W_enc + bg > 0).float() * relu(sae_in @ (W_enc * r.exp()) + bm)
saelens("saelens_gated", {"W_enc": W_enc, "b_gate": bg, "b_mag": bm, "r_mag": r, "W_dec": W_dec, "b_dec": b_dec},
        {"architecture": "gated", "apply_b_dec_to_input": True}, f, f @ W_dec + b_dec, "gated")

thr = rnd(F, scale=0.3).abs()
hidden = (X - b_dec) @ W_enc + b_enc
f = relu(hidden) * (hidden > thr).float()
saelens("saelens_jumprelu", {"W_enc": W_enc, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec, "threshold": thr},
        {"architecture": "jumprelu", "apply_b_dec_to_input": True}, f, f @ W_dec + b_dec, "jumprelu")

# SAELens TopK: top-k of the pre-activations, then ReLU of the kept values (same set as ReLU-then-top-k)
hidden = (X - b_dec) @ W_enc + b_enc
v, i = hidden.topk(3, dim=-1)
f = torch.zeros_like(hidden).scatter_(-1, i, relu(v))
saelens("saelens_topk", {"W_enc": W_enc, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec},
        {"architecture": "topk", "apply_b_dec_to_input": True, "k": 3}, f, f @ W_dec + b_dec, "topk (v6 cfg)")
saelens("saelens_topk_legacy", {"W_enc": W_enc, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec},
        {"architecture": "standard", "apply_b_dec_to_input": True, "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 3}}, f, f @ W_dec + b_dec,
        "topk via activation_fn_str (SAELens <= 5)")

print("wrote fixtures to", os.path.normpath(OUT))
