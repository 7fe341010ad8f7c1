#!/usr/bin/env python3
"""The engine benchmark's computations in PyTorch from Python, for the C++/Python ratio.

The same shapes as `wanserve engine bench`: a 4096 matrix product, and one forward of the Wan
DiT (tiny: the golden set's shapes; mid: dim 1536, 4 layers, one 480p latent frame) on random
weights. Written for this benchmark from the architecture description; prints JSON lines.
Run with Debian's python3-torch: /usr/bin/python3 bench/engine_bench.py --threads N.
"""
import argparse
import json
import math
import statistics
import time

import torch


def median_seconds(repeats, fn):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rms_norm(x, weight, eps=1e-6):
    return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps)).type_as(x) * weight


def rope_angles(max_len, dim):
    freqs = 1.0 / torch.pow(10000, torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    return torch.outer(torch.arange(max_len, dtype=torch.float64), freqs)


class Dit:
    def __init__(self, dim, ffn, heads, layers, text_len, text_dim, in_dim=16, freq_dim=256):
        g = torch.Generator().manual_seed(1)
        def w(*shape):
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
            return torch.randn(*shape, generator=g) / math.sqrt(fan_in)
        self.dim, self.heads, self.text_len, self.freq_dim = dim, heads, text_len, freq_dim
        self.patch_w, self.patch_b = w(dim, in_dim, 1, 2, 2), w(dim)
        self.text = [(w(dim, text_dim), w(dim)), (w(dim, dim), w(dim))]
        self.time = [(w(dim, freq_dim), w(dim)), (w(dim, dim), w(dim))]
        self.proj = (w(6 * dim, dim), w(6 * dim))
        self.blocks = []
        for _ in range(layers):
            b = {k: (w(dim, dim), w(dim)) for k in ["sq", "sk", "sv", "so", "cq", "ck", "cv", "co"]}
            b.update(norms=[torch.ones(dim) for _ in range(4)], norm3=(torch.ones(dim), torch.zeros(dim)),
                     ffn=[(w(ffn, dim), w(ffn)), (w(dim, ffn), w(dim))], mod=w(1, 6, dim))
            self.blocks.append(b)
        self.head = (w(in_dim * 4, dim), w(in_dim * 4))
        self.head_mod = w(1, 2, dim)
        c = dim // heads // 2
        self.split = (c - 2 * (c // 3), c // 3, c // 3)
        self.angles = [rope_angles(1024, 2 * s) for s in self.split]

    def attention(self, q, k, v):
        # [L, h, d] each; softmax(q k^T / sqrt(d)) v per head.
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))
        scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
        return torch.bmm(scores.softmax(-1), v).transpose(0, 1)

    def rope(self, x, grid):
        f, h, w = grid
        L, n, d = x.shape
        pairs = torch.view_as_complex(x.double().reshape(L, n, d // 2, 2))
        parts = []
        for i, (size, ang) in enumerate(zip(self.split, self.angles)):
            a = ang[: (f, h, w)[i], :size]
            shape = [1, 1, 1, size]
            shape[i] = (f, h, w)[i]
            parts.append(a.view(*shape).expand(f, h, w, size))
        angles = torch.cat(parts, -1).reshape(L, 1, -1)
        return torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles)).flatten(2).float()

    def forward(self, latent, t, context):
        x = torch.nn.functional.conv3d(latent[None], self.patch_w, self.patch_b, stride=(1, 2, 2))[0]
        grid = x.shape[1:]
        x = x.flatten(1).t()
        L, d, n = x.shape[0], self.dim, self.heads
        half = self.freq_dim // 2
        sinusoid = torch.outer(t.double(), torch.pow(10000, -torch.arange(half, dtype=torch.float64) / half))
        e = torch.cat([sinusoid.cos(), sinusoid.sin()], 1).float()
        e = torch.nn.functional.linear(torch.nn.functional.silu(torch.nn.functional.linear(e, *self.time[0])), *self.time[1])
        e0 = torch.nn.functional.linear(torch.nn.functional.silu(e), *self.proj).view(6, d)
        ctx = torch.cat([context, context.new_zeros(self.text_len - context.shape[0], context.shape[1])])
        ctx = torch.nn.functional.linear(torch.nn.functional.gelu(torch.nn.functional.linear(ctx, *self.text[0]), approximate="tanh"), *self.text[1])
        ln = lambda v: torch.nn.functional.layer_norm(v, (d,), eps=1e-6)
        for b in self.blocks:
            m = (b["mod"][0] + e0)
            y = ln(x) * (1 + m[1]) + m[0]
            q = rms_norm(torch.nn.functional.linear(y, *b["sq"]), b["norms"][0]).view(L, n, -1)
            k = rms_norm(torch.nn.functional.linear(y, *b["sk"]), b["norms"][1]).view(L, n, -1)
            v = torch.nn.functional.linear(y, *b["sv"]).view(L, n, -1)
            y = self.attention(self.rope(q, grid), self.rope(k, grid), v).flatten(1)
            x = x + torch.nn.functional.linear(y, *b["so"]) * m[2]
            y = torch.nn.functional.layer_norm(x, (d,), *b["norm3"], eps=1e-6)
            q = rms_norm(torch.nn.functional.linear(y, *b["cq"]), b["norms"][2]).view(L, n, -1)
            k = rms_norm(torch.nn.functional.linear(ctx, *b["ck"]), b["norms"][3]).view(ctx.shape[0], n, -1)
            v = torch.nn.functional.linear(ctx, *b["cv"]).view(ctx.shape[0], n, -1)
            x = x + torch.nn.functional.linear(self.attention(q, k, v).flatten(1), *b["co"])
            y = ln(x) * (1 + m[4]) + m[3]
            y = torch.nn.functional.linear(torch.nn.functional.gelu(torch.nn.functional.linear(y, *b["ffn"][0]), approximate="tanh"), *b["ffn"][1])
            x = x + y * m[5]
        hm = self.head_mod[0] + e
        return torch.nn.functional.linear(ln(x) * (1 + hm[1]) + hm[0], *self.head)


def dit_figure(name, model, latent_shape, text_dim, repeats):
    latent = torch.randn(*latent_shape)
    context = torch.randn(model.text_len, text_dim)
    t = torch.tensor([999.0])
    return {"name": name, "seconds": median_seconds(repeats, lambda: model.forward(latent, t, context))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    print(json.dumps({"name": "matmul_4096", "seconds": median_seconds(args.repeats, lambda: torch.mm(a, b))}))
    print(json.dumps(dit_figure("tiny_dit_forward", Dit(64, 128, 4, 2, 16, 32), (16, 5, 16, 16), 32, args.repeats)))
    print(json.dumps(dit_figure("mid_dit_forward", Dit(1536, 8960, 12, 4, 512, 4096), (16, 1, 60, 104), 4096, args.repeats)))


if __name__ == "__main__":
    main()
