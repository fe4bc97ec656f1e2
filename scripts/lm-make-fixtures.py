#!/usr/bin/python3
"""Make the LM import fixtures under test/fixtures/lm/ with real PyTorch (Debian python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 scripts/lm-make-fixtures.py

Writes, for a tiny random GPT (2 layers, 2 heads, d=16, vocab 11, ctx 8):
  nanogpt-bias.pt        nanoGPT train.py checkpoint (torch.save zip + pickle): bias=True, exact GELU,
                         tied head, plus model_args, iter_num, a 0-d tensor best_val_loss, config dict
                         and the AdamW optimizer state (so the unpickler meets a realistic pickle)
  nanogpt-nobias.pt      bias=False (the chess model's setting), keys prefixed with "_orig_mod."
                         as torch.compile'd models save them
  tl-unfolded.pt         TransformerLens state dict (W_Q [H,d,dh] ..., ln1.w/b present) of the bias model
  tl-folded.pt           the same with LayerNorm folded into the following weights, writing weights
                         centred and the unembedding centred (fold_ln=True, center_writing_weights=True,
                         center_unembed=True, as HookedTransformer.from_pretrained does by default)
  tl-unfolded.safetensors  the unfolded TL state dict as safetensors
  hf-gelu-new.safetensors  HF GPT2LMHeadModel naming (Conv1D [in,out] weights, lm_head.weight [V,d])
                         of a gelu_new (tanh) model, with hf-gelu-new.config.json
  expected.json          input tokens, and for every model: logits [B,T,V] and log-softmax
                         (folded TL logits differ by a per-position constant, so tests compare
                         log-softmax there)

The nanoGPT modules below follow karpathy/nanoGPT model.py (LayerNorm with optional bias,
CausalSelfAttention with c_attn/c_proj, MLP c_fc/GELU/c_proj, Block, GPT with tied wte/lm_head).
"""
import json, math, os, struct, sys
from collections import OrderedDict
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join('test', 'fixtures', 'lm')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1234)
torch.set_printoptions(precision=8)

class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None
    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)

def new_gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c['n_embd'], 3 * c['n_embd'], bias=c['bias'])
        self.c_proj = nn.Linear(c['n_embd'], c['n_embd'], bias=c['bias'])
        self.n_head, self.n_embd = c['n_head'], c['n_embd']
        # torch < 2.0 has no flash attention: nanoGPT registers the causal mask buffer "bias"
        self.register_buffer('bias', torch.tril(torch.ones(c['block_size'], c['block_size'])).view(1, 1, c['block_size'], c['block_size']))
    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)

class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c['n_embd'], 4 * c['n_embd'], bias=c['bias'])
        self.c_proj = nn.Linear(4 * c['n_embd'], c['n_embd'], bias=c['bias'])
        self.act = c.get('act', 'gelu')
    def forward(self, x):
        h = self.c_fc(x)
        h = F.gelu(h) if self.act == 'gelu' else new_gelu(h)
        return self.c_proj(h)

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c['n_embd'], c['bias'])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c['n_embd'], c['bias'])
        self.mlp = MLP(c)
    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))

class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c['vocab_size'], c['n_embd']),
            wpe=nn.Embedding(c['block_size'], c['n_embd']),
            drop=nn.Dropout(0.0),
            h=nn.ModuleList([Block(c) for _ in range(c['n_layer'])]),
            ln_f=LayerNorm(c['n_embd'], c['bias']),
        ))
        self.lm_head = nn.Linear(c['n_embd'], c['vocab_size'], bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        for pn, p in self.named_parameters():
            # larger-than-default random weights so the test sees non-trivial attention and GELU
            # regimes; LayerNorm affine parameters are randomised too, to test their import
            torch.nn.init.normal_(p, mean=0.0 if not pn.endswith('weight') or 'ln' not in pn else 1.0, std=0.3)
    def forward(self, idx):
        B, T = idx.size()
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for b in self.transformer.h:
            x = b(x)
        return self.lm_head(self.transformer.ln_f(x))

TOKENS = torch.tensor([[1, 5, 2, 9, 0, 10, 3, 3], [7, 7, 4, 1, 8, 2, 6, 0]], dtype=torch.long)
BASE = dict(n_layer=2, n_head=2, n_embd=16, block_size=8, vocab_size=11, dropout=0.0)
expected = {'tokens': TOKENS.tolist(), 'models': {}}

def record(name, logits, config):
    expected['models'][name] = {
        'config': config,
        'logits': logits.tolist(),
        'logsoftmax': F.log_softmax(logits, dim=-1).tolist(),
    }

def nanogpt_checkpoint(model, model_args, prefix=''):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = F.cross_entropy(model(TOKENS)[:, :-1].reshape(-1, 11), TOKENS[:, 1:].reshape(-1))
    loss.backward()
    opt.step()  # one step: the optimizer state holds real tensors; the weights moved too
    opt.zero_grad()
    sd = model.state_dict()
    if prefix:
        sd = OrderedDict((prefix + k, v) for k, v in sd.items())
    return {
        'model': sd,
        'optimizer': opt.state_dict(),
        'model_args': model_args,
        'iter_num': 1,
        'best_val_loss': loss.detach(),
        'config': {'dataset': 'fixture', 'learning_rate': 1e-3, 'compile': bool(prefix)},
    }

# --- (a) nanoGPT, bias=True, exact GELU
cfg_a = dict(BASE, bias=True, act='gelu')
m_a = GPT(cfg_a)
ck = nanogpt_checkpoint(m_a, {k: cfg_a[k] for k in ['n_layer', 'n_head', 'n_embd', 'block_size', 'bias', 'vocab_size', 'dropout']})
torch.save(ck, os.path.join(OUT, 'nanogpt-bias.pt'))
with torch.no_grad():
    record('nanogpt-bias', m_a(TOKENS), {'activation': 'gelu', 'bias': True, 'tied': True})

# --- (b) nanoGPT, bias=False, "_orig_mod." prefixes
cfg_b = dict(BASE, bias=False, act='gelu')
m_b = GPT(cfg_b)
ck = nanogpt_checkpoint(m_b, {k: cfg_b[k] for k in ['n_layer', 'n_head', 'n_embd', 'block_size', 'bias', 'vocab_size', 'dropout']}, prefix='_orig_mod.')
torch.save(ck, os.path.join(OUT, 'nanogpt-nobias.pt'))
with torch.no_grad():
    record('nanogpt-nobias', m_b(TOKENS), {'activation': 'gelu', 'bias': False, 'tied': True})

# --- (b') TransformerLens state dicts of model (a), converted as TL's convert_nanogpt_weights does
def to_tl(model, c):
    d, H = c['n_embd'], c['n_head']
    dh = d // H
    sd = model.state_dict()
    tl = OrderedDict()
    tl['embed.W_E'] = sd['transformer.wte.weight']
    tl['pos_embed.W_pos'] = sd['transformer.wpe.weight']
    for i in range(c['n_layer']):
        p = f'transformer.h.{i}.'
        tl[f'blocks.{i}.ln1.w'] = sd[p + 'ln_1.weight']
        tl[f'blocks.{i}.ln1.b'] = sd[p + 'ln_1.bias']
        W = sd[p + 'attn.c_attn.weight']  # [3d, d]
        Wq, Wk, Wv = torch.tensor_split(W, 3, dim=0)
        tl[f'blocks.{i}.attn.W_Q'] = Wq.reshape(H, dh, d).permute(0, 2, 1).contiguous()
        tl[f'blocks.{i}.attn.W_K'] = Wk.reshape(H, dh, d).permute(0, 2, 1).contiguous()
        tl[f'blocks.{i}.attn.W_V'] = Wv.reshape(H, dh, d).permute(0, 2, 1).contiguous()
        bq, bk, bv = torch.tensor_split(sd[p + 'attn.c_attn.bias'], 3)
        tl[f'blocks.{i}.attn.b_Q'] = bq.reshape(H, dh)
        tl[f'blocks.{i}.attn.b_K'] = bk.reshape(H, dh)
        tl[f'blocks.{i}.attn.b_V'] = bv.reshape(H, dh)
        tl[f'blocks.{i}.attn.W_O'] = sd[p + 'attn.c_proj.weight'].T.reshape(H, dh, d).contiguous()
        tl[f'blocks.{i}.attn.b_O'] = sd[p + 'attn.c_proj.bias']
        tl[f'blocks.{i}.attn.mask'] = torch.tril(torch.ones(c['block_size'], c['block_size'])).bool()
        tl[f'blocks.{i}.attn.IGNORE'] = torch.tensor(-1e5)
        tl[f'blocks.{i}.ln2.w'] = sd[p + 'ln_2.weight']
        tl[f'blocks.{i}.ln2.b'] = sd[p + 'ln_2.bias']
        tl[f'blocks.{i}.mlp.W_in'] = sd[p + 'mlp.c_fc.weight'].T.contiguous()
        tl[f'blocks.{i}.mlp.b_in'] = sd[p + 'mlp.c_fc.bias']
        tl[f'blocks.{i}.mlp.W_out'] = sd[p + 'mlp.c_proj.weight'].T.contiguous()
        tl[f'blocks.{i}.mlp.b_out'] = sd[p + 'mlp.c_proj.bias']
    tl['ln_final.w'] = sd['transformer.ln_f.weight']
    tl['ln_final.b'] = sd['transformer.ln_f.bias']
    tl['unembed.W_U'] = sd['lm_head.weight'].T.contiguous()
    tl['unembed.b_U'] = torch.zeros(c['vocab_size'])
    return tl

def fold_tl(tl, c):
    """HookedTransformer.fold_layer_norm + center_writing_weights + center_unembed."""
    f = OrderedDict((k, v.clone()) for k, v in tl.items())
    for i in range(c['n_layer']):
        w, b = f.pop(f'blocks.{i}.ln1.w'), f.pop(f'blocks.{i}.ln1.b')
        for x in 'QKV':
            W = f[f'blocks.{i}.attn.W_{x}']
            f[f'blocks.{i}.attn.b_{x}'] = f[f'blocks.{i}.attn.b_{x}'] + (W * b[None, :, None]).sum(-2)
            W = W * w[None, :, None]
            f[f'blocks.{i}.attn.W_{x}'] = W - W.mean(-2, keepdim=True)
        w, b = f.pop(f'blocks.{i}.ln2.w'), f.pop(f'blocks.{i}.ln2.b')
        W = f[f'blocks.{i}.mlp.W_in']
        f[f'blocks.{i}.mlp.b_in'] = f[f'blocks.{i}.mlp.b_in'] + (W * b[:, None]).sum(-2)
        W = W * w[:, None]
        f[f'blocks.{i}.mlp.W_in'] = W - W.mean(0, keepdim=True)
    w, b = f.pop('ln_final.w'), f.pop('ln_final.b')
    f['unembed.b_U'] = f['unembed.b_U'] + (f['unembed.W_U'] * b[:, None]).sum(-2)
    f['unembed.W_U'] = f['unembed.W_U'] * w[:, None]
    # centre writing weights (they feed a LayerNorm, which removes the mean anyway)
    f['embed.W_E'] = f['embed.W_E'] - f['embed.W_E'].mean(-1, keepdim=True)
    f['pos_embed.W_pos'] = f['pos_embed.W_pos'] - f['pos_embed.W_pos'].mean(-1, keepdim=True)
    for i in range(c['n_layer']):
        f[f'blocks.{i}.attn.W_O'] = f[f'blocks.{i}.attn.W_O'] - f[f'blocks.{i}.attn.W_O'].mean(-1, keepdim=True)
        f[f'blocks.{i}.attn.b_O'] = f[f'blocks.{i}.attn.b_O'] - f[f'blocks.{i}.attn.b_O'].mean()
        f[f'blocks.{i}.mlp.W_out'] = f[f'blocks.{i}.mlp.W_out'] - f[f'blocks.{i}.mlp.W_out'].mean(-1, keepdim=True)
        f[f'blocks.{i}.mlp.b_out'] = f[f'blocks.{i}.mlp.b_out'] - f[f'blocks.{i}.mlp.b_out'].mean()
    f['unembed.W_U'] = f['unembed.W_U'] - f['unembed.W_U'].mean(-1, keepdim=True)
    f['unembed.b_U'] = f['unembed.b_U'] - f['unembed.b_U'].mean()
    return f

def tl_forward(f, c, folded):
    """A TransformerLens-style forward pass over the TL tensors, to prove the conversion here."""
    d, H = c['n_embd'], c['n_head']
    def ln(x, w=None, b=None):
        x = x - x.mean(-1, keepdim=True)
        x = x / (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()
        return x if w is None else x * w + b
    T = TOKENS.shape[1]
    x = f['embed.W_E'][TOKENS] + f['pos_embed.W_pos'][:T]
    for i in range(c['n_layer']):
        g = lambda n: f.get(f'blocks.{i}.{n}')
        h = ln(x, g('ln1.w'), g('ln1.b')) if not folded else ln(x)
        q = torch.einsum('btd,hde->bhte', h, g('attn.W_Q')) + g('attn.b_Q')[None, :, None, :]
        k = torch.einsum('btd,hde->bhte', h, g('attn.W_K')) + g('attn.b_K')[None, :, None, :]
        v = torch.einsum('btd,hde->bhte', h, g('attn.W_V')) + g('attn.b_V')[None, :, None, :]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // H)
        att = att.masked_fill(torch.tril(torch.ones(T, T)) == 0, float('-inf')).softmax(-1)
        z = att @ v
        x = x + torch.einsum('bhte,hed->btd', z, g('attn.W_O')) + g('attn.b_O')
        h = ln(x, g('ln2.w'), g('ln2.b')) if not folded else ln(x)
        x = x + F.gelu(h @ g('mlp.W_in') + g('mlp.b_in')) @ g('mlp.W_out') + g('mlp.b_out')
    h = ln(x, f.get('ln_final.w'), f.get('ln_final.b')) if not folded else ln(x)
    return h @ f['unembed.W_U'] + f['unembed.b_U']

with torch.no_grad():
    tl = to_tl(m_a, cfg_a)
    tlf = fold_tl(tl, cfg_a)
    ref = F.log_softmax(m_a(TOKENS), -1)
    for name, sd, folded in [('tl-unfolded', tl, False), ('tl-folded', tlf, True)]:
        logits = tl_forward(sd, cfg_a, folded)
        err = (F.log_softmax(logits, -1) - ref).abs().max().item()
        assert err < 1e-5, (name, err)
        torch.save(sd, os.path.join(OUT, name + '.pt'))
        record(name, logits, {'activation': 'gelu', 'bias': True, 'tied': False, 'folded': folded})

def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    dt = {torch.float32: 'F32', torch.bool: 'BOOL', torch.int64: 'I64'}
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().tobytes()
        header[name] = {'dtype': dt[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - (len(h) + 8) % 8) % 8)
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))

write_safetensors(os.path.join(OUT, 'tl-unfolded.safetensors'), tl, {'format': 'pt'})

# --- (c) HF GPT-2 naming, gelu_new (tanh) activation, untied lm_head saved explicitly
cfg_c = dict(BASE, bias=True, act='gelu_new')
m_c = GPT(cfg_c)
m_c.lm_head.weight = nn.Parameter(torch.randn(11, 16) * 0.3)  # untie: HF files store lm_head.weight
with torch.no_grad():
    sd = m_c.state_dict()
    hf = OrderedDict()
    for k, v in sd.items():
        if k.endswith('attn.bias'):
            if v.dim() == 4:
                continue  # the mask buffer
        hf[k] = v
    for k in list(hf):
        # nn.Linear [out,in] -> HF Conv1D [in,out]
        if any(k.endswith(s) for s in ['c_attn.weight', 'c_proj.weight', 'c_fc.weight']):
            hf[k] = hf[k].T.contiguous()
    hf['transformer.wte.weight'] = sd['transformer.wte.weight']
    write_safetensors(os.path.join(OUT, 'hf-gelu-new.safetensors'), hf, {'format': 'pt'})
    with open(os.path.join(OUT, 'hf-gelu-new.config.json'), 'w') as fh:
        json.dump({'model_type': 'gpt2', 'architectures': ['GPT2LMHeadModel'], 'activation_function': 'gelu_new',
                   'n_layer': 2, 'n_head': 2, 'n_embd': 16, 'n_positions': 8, 'n_ctx': 8, 'vocab_size': 11,
                   'layer_norm_epsilon': 1e-5, 'tie_word_embeddings': False}, fh, indent=2)
    record('hf-gelu-new', m_c(TOKENS), {'activation': 'gelu_new', 'bias': True, 'tied': False})

with open(os.path.join(OUT, 'expected.json'), 'w') as fh:
    json.dump(expected, fh)
print('torch', torch.__version__, 'wrote', sorted(os.listdir(OUT)))
