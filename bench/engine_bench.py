#!/usr/bin/env python3
"""The engine benchmark's computations in PyTorch from Python, for the C++/Python ratio.

The same shapes as `wanserve engine bench`: a 4096 matrix product, one forward of the Wan DiT
(tiny: the golden set's shapes; mid: dim 1536, 4 layers, one 480p latent frame) and a Wan 2.1
VAE decode (the tiny preset's VAE, 16x5x16x16 latent to 17 frames of 128x128, chunk by chunk
with the causal caches) on random weights. Written for this benchmark from the architecture
description; prints JSON lines.
Run with Debian's python3-torch: /usr/bin/python3 bench/engine_bench.py --threads N.

With --preset, one figure of a real preset's shapes instead (what scripts/gpu_check.sh times on
a GPU beside bench/gpu/gpu_check): a denoising step (two DiT forwards) or the VAE decode, with
peak device memory:
  python3 bench/engine_bench.py --preset wan2.1-t2v-1.3b --figure step --device cuda --dtype bfloat16
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


def weight_maker(seed, device, dtype):
    """Random weights drawn where they are used, scaled by their fan-in."""
    g = torch.Generator(device=device).manual_seed(seed)
    def w(*shape):
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
        return (torch.randn(*shape, generator=g, device=device) / math.sqrt(fan_in)).to(dtype)
    w.device = device
    return w


class Dit:
    def __init__(self, dim, ffn, heads, layers, text_len, text_dim, in_dim=16, freq_dim=256,
                 device="cpu", dtype=torch.float32):
        w = weight_maker(1, device, dtype)
        ones = lambda n: torch.ones(n, device=device, dtype=dtype)
        self.device, self.dtype = device, dtype
        self.dim, self.heads, self.text_len, self.freq_dim = dim, heads, text_len, freq_dim
        self.patch_w, self.patch_b = w(dim, in_dim, 1, 2, 2), w(dim)
        self.text = [(w(dim, text_dim), w(dim)), (w(dim, dim), w(dim))]
        self.time = [(w(dim, freq_dim), w(dim)), (w(dim, dim), w(dim))]
        self.proj = (w(6 * dim, dim), w(6 * dim))
        self.blocks = []
        for _ in range(layers):
            b = {k: (w(dim, dim), w(dim)) for k in ["sq", "sk", "sv", "so", "cq", "ck", "cv", "co"]}
            b.update(norms=[ones(dim) for _ in range(4)], norm3=(ones(dim), torch.zeros_like(ones(dim))),
                     ffn=[(w(ffn, dim), w(ffn)), (w(dim, ffn), w(dim))], mod=w(1, 6, dim))
            self.blocks.append(b)
        self.head = (w(in_dim * 4, dim), w(in_dim * 4))
        self.head_mod = w(1, 2, dim)
        c = dim // heads // 2
        self.split = (c - 2 * (c // 3), c // 3, c // 3)
        self.angles = [rope_angles(1024, 2 * s).to(device) for s in self.split]

    def attention(self, q, k, v):
        # [L, h, d] each; softmax(q k^T / sqrt(d)) v per head, fused on a GPU.
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))
        if q.is_cuda:
            return torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None])[0].transpose(0, 1)
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
        return torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles)).flatten(2).to(x.dtype)

    def forward(self, latent, t, context):
        x = torch.nn.functional.conv3d(latent[None], self.patch_w, self.patch_b, stride=(1, 2, 2))[0]
        grid = x.shape[1:]
        x = x.flatten(1).t()
        L, d, n = x.shape[0], self.dim, self.heads
        half = self.freq_dim // 2
        sinusoid = torch.outer(t.double(), torch.pow(10000, -torch.arange(half, dtype=torch.float64, device=t.device) / half))
        e = torch.cat([sinusoid.cos(), sinusoid.sin()], 1).to(self.dtype)
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


CACHE_FRAMES = 2


def channel_rms_norm(x, gamma):
    return torch.nn.functional.normalize(x, dim=1) * math.sqrt(x.shape[1]) * gamma


class Caches:
    """One slot per cached layer, taken in call order, which is the same for every chunk."""

    def __init__(self):
        self.slots, self.cursor, self.chunk = [], 0, 0

    def start_chunk(self):
        self.cursor, self.chunk = 0, self.chunk + 1

    def next(self):
        if self.cursor == len(self.slots):
            self.slots.append(None)
        self.cursor += 1
        return self.cursor - 1


class CausalConv:
    def __init__(self, w, cin, cout, kernel, pad):
        self.w, self.b, self.pad = w(cout, cin, *kernel), w(cout), pad

    def __call__(self, x, cache=None):
        front = 2 * self.pad[0]
        if cache is not None and front > 0:
            x = torch.cat([cache, x], 2)
            front -= cache.shape[2]
        x = torch.nn.functional.pad(x, (self.pad[2], self.pad[2], self.pad[1], self.pad[1], front, 0))
        return torch.nn.functional.conv3d(x, self.w, self.b)

    def cached(self, x, caches):
        i = caches.next()
        keep = x[:, :, -CACHE_FRAMES:]
        if keep.shape[2] < CACHE_FRAMES and caches.slots[i] is not None:
            keep = torch.cat([caches.slots[i][:, :, -1:], keep], 2)
        out = self(x, caches.slots[i])
        caches.slots[i] = keep.clone()
        return out


class Residual:
    def __init__(self, w, cin, cout):
        self.g1, self.g2 = torch.ones(cin, 1, 1, 1, device=w.device), torch.ones(cout, 1, 1, 1, device=w.device)
        self.c1, self.c2 = CausalConv(w, cin, cout, (3, 3, 3), (1, 1, 1)), CausalConv(w, cout, cout, (3, 3, 3), (1, 1, 1))
        self.short = CausalConv(w, cin, cout, (1, 1, 1), (0, 0, 0)) if cin != cout else None

    def __call__(self, x, caches):
        h = self.short(x) if self.short else x
        y = self.c1.cached(torch.nn.functional.silu(channel_rms_norm(x, self.g1)), caches)
        return self.c2.cached(torch.nn.functional.silu(channel_rms_norm(y, self.g2)), caches) + h


def to_frames(x):
    return x.permute(0, 2, 1, 3, 4).reshape(-1, x.shape[1], x.shape[3], x.shape[4])


def from_frames(x, batch):
    return x.reshape(batch, -1, *x.shape[1:]).permute(0, 2, 1, 3, 4)


class FrameAttention:
    def __init__(self, w, dim):
        self.g, self.qkv, self.proj = torch.ones(dim, 1, 1, device=w.device), (w(3 * dim, dim, 1, 1), w(3 * dim)), (w(dim, dim, 1, 1), w(dim))

    def __call__(self, x, caches):
        b, c = x.shape[:2]
        f = to_frames(x)
        qkv = torch.nn.functional.conv2d(channel_rms_norm(f, self.g), *self.qkv).reshape(f.shape[0], 3 * c, -1).permute(0, 2, 1)
        q, k, v = qkv.chunk(3, -1)
        y = torch.bmm(torch.bmm(q, k.transpose(1, 2)).div(math.sqrt(c)).softmax(-1), v)
        y = y.permute(0, 2, 1).reshape(f.shape)
        return from_frames(torch.nn.functional.conv2d(y, *self.proj), b) + x


class Upsample:
    def __init__(self, w, dim, temporal, out=None):
        out = dim // 2 if out is None else out  # Wan 2.1 halves the width here, Wan 2.2 keeps it
        self.conv = (w(out, dim, 3, 3), w(out))
        self.time_conv = CausalConv(w, dim, 2 * dim, (3, 1, 1), (1, 0, 0)) if temporal else None

    def __call__(self, x, caches):
        b = x.shape[0]
        if self.time_conv:
            i = caches.next()
            if caches.slots[i] is None:
                # The first chunk is not doubled in time; later ones see zeros before it.
                caches.slots[i] = torch.zeros_like(x[:, :, :1]).expand(-1, -1, CACHE_FRAMES, -1, -1).contiguous()
            else:
                caches.cursor -= 1
                c, t = x.shape[1], x.shape[2]
                y = self.time_conv.cached(x, caches).reshape(b, 2, c, t, *x.shape[3:])
                x = torch.stack([y[:, 0], y[:, 1]], 3).reshape(b, c, 2 * t, *x.shape[3:])
        f = torch.nn.functional.interpolate(to_frames(x), scale_factor=2.0, mode="nearest")
        return from_frames(torch.nn.functional.conv2d(f, *self.conv, padding=1), b)


class DupUp:
    """Wan 2.2's shortcut around an upsampling stage: channels repeated, unfolded into frames and pixels."""

    def __init__(self, cin, cout, factor_t, factor_s):
        self.cin, self.cout, self.ft, self.fs = cin, cout, factor_t, factor_s

    def __call__(self, x, first_chunk):
        factor = self.ft * self.fs * self.fs
        x = x.repeat_interleave(self.cout * factor // self.cin, 1)
        b, _, t, h, w = x.shape
        y = x.reshape(b, self.cout, self.ft, self.fs, self.fs, t, h, w).permute(0, 1, 5, 2, 6, 3, 7, 4)
        y = y.reshape(b, self.cout, t * self.ft, h * self.fs, w * self.fs)
        return y[:, :, self.ft - 1:] if first_chunk else y


class UpBlock:
    def __init__(self, residuals, resample, shortcut):
        self.residuals, self.resample, self.shortcut = residuals, resample, shortcut

    def __call__(self, x, caches):
        y = x
        for r in self.residuals:
            y = r(y, caches)
        if self.resample:
            y = self.resample(y, caches)
        return y + self.shortcut(x, caches.chunk == 1) if self.shortcut else y


class VaeDecoder:
    """The Wan 2.1 VAE decoder (1x1 conv, causal stem, middle, upsampling stages, head), or Wan
    2.2's (width dec_dim, stages of residuals with a duplicating shortcut, 12 output channels
    unfolded from 2x2 patches)."""

    def __init__(self, dim, z_dim, mult, res_blocks, temporal_down, wan22=False, device="cpu"):
        w = weight_maker(3, device, torch.float32)
        self.wan22 = wan22
        dims = [dim * mult[-1]] + [dim * m for m in reversed(mult)]
        self.conv2 = (w(z_dim, z_dim, 1, 1, 1), w(z_dim))
        self.stem = CausalConv(w, z_dim, dims[0], (3, 3, 3), (1, 1, 1))
        self.layers = [Residual(w, dims[0], dims[0]), FrameAttention(w, dims[0]), Residual(w, dims[0], dims[0])]
        temporal_up = list(reversed(temporal_down))
        for i in range(len(dims) - 1):
            up = i + 2 < len(dims)
            temporal = i < len(temporal_up) and temporal_up[i]
            if wan22:
                cin, residuals = dims[i], []
                for _ in range(res_blocks + 1):
                    residuals.append(Residual(w, cin, dims[i + 1]))
                    cin = dims[i + 1]
                resample = Upsample(w, cin, temporal, out=cin) if up else None
                shortcut = DupUp(dims[i], dims[i + 1], 2 if temporal else 1, 2) if up else None
                self.layers.append(UpBlock(residuals, resample, shortcut))
                continue
            cin = dims[i] if i == 0 else dims[i] // 2
            for _ in range(res_blocks + 1):
                self.layers.append(Residual(w, cin, dims[i + 1]))
                cin = dims[i + 1]
            if up:
                self.layers.append(Upsample(w, cin, temporal))
        self.head_gamma = torch.ones(dims[-1], 1, 1, 1, device=device)
        self.head = CausalConv(w, dims[-1], 12 if wan22 else 3, (3, 3, 3), (1, 1, 1))

    def decode(self, latent):
        x = torch.nn.functional.conv3d(latent[None], *self.conv2)
        caches, frames = Caches(), []
        for i in range(x.shape[2]):
            caches.start_chunk()
            h = self.stem.cached(x[:, :, i:i + 1], caches)
            for layer in self.layers:
                h = layer(h, caches)
            frames.append(self.head.cached(torch.nn.functional.silu(channel_rms_norm(h, self.head_gamma)), caches))
        video = torch.cat(frames, 2)
        if self.wan22:  # 12 channels = 3 colours x 2x2 pixels
            b, c, f, h, w = video.shape
            video = video.reshape(b, c // 4, 2, 2, f, h, w).permute(0, 1, 4, 5, 3, 6, 2).reshape(b, c // 4, f, 2 * h, 2 * w)
        return video[0]


# The presets' shapes, as scripts/gpu_check.sh times them: the DiT, the latent of the preset's
# default video (832x480x81 and 1280x704x121; the tiny ones' for a check on a CPU) and its VAE.
PRESETS = {
    "tiny": {"dit": (64, 128, 4, 2, 16, 32, 16), "latent": (16, 5, 16, 16),
             "vae": (8, 16, [1, 2, 4, 4], 2, [False, True, True], False)},
    "tiny-ti2v": {"dit": (64, 128, 4, 2, 16, 32, 48), "latent": (48, 5, 8, 8),
                  "vae": (12, 48, [1, 2, 4, 4], 2, [False, True, True], True)},
    "wan2.1-t2v-1.3b": {"dit": (1536, 8960, 12, 30, 512, 4096, 16), "latent": (16, 21, 60, 104),
                        "vae": (96, 16, [1, 2, 4, 4], 2, [False, True, True], False)},
    "wan2.2-ti2v-5b": {"dit": (3072, 14336, 24, 30, 512, 4096, 48), "latent": (48, 31, 44, 80),
                       "vae": (256, 48, [1, 2, 4, 4], 2, [False, True, True], True)},
}


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def preset_figure(preset, figure, device, dtype, repeats):
    """One denoising step (cond and uncond forwards) or one VAE decode, median seconds and peak GiB."""
    shapes = PRESETS[preset]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    if figure == "step":
        dim, ffn, heads, layers, text_len, text_dim, in_dim = shapes["dit"]
        model = Dit(dim, ffn, heads, layers, text_len, text_dim, in_dim=in_dim, device=device, dtype=dtype)
        latent = torch.randn(*shapes["latent"], device=device, dtype=dtype)
        context = torch.randn(text_len, text_dim, device=device, dtype=dtype)
        t = torch.tensor([999.0], device=device)
        run = lambda: (model.forward(latent, t, context), model.forward(latent, t, context))
    else:
        vae = VaeDecoder(*shapes["vae"], device=device)
        z = torch.randn(*shapes["latent"], device=device)
        run = lambda: vae.decode(z)
    def timed():
        run()
        sync(device)
    seconds = median_seconds(repeats, timed)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else 0.0
    return {"name": f"{preset}_{figure}", "seconds": seconds, "peak_gib": peak}


def dit_figure(name, model, latent_shape, text_dim, repeats):
    latent = torch.randn(*latent_shape)
    context = torch.randn(model.text_len, text_dim)
    t = torch.tensor([999.0])
    return {"name": name, "seconds": median_seconds(repeats, lambda: model.forward(latent, t, context))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--figure", choices=["step", "vae"], default="step")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    if args.preset:
        print(json.dumps(preset_figure(args.preset, args.figure, args.device, getattr(torch, args.dtype), args.repeats)))
        return
    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    print(json.dumps({"name": "matmul_4096", "seconds": median_seconds(args.repeats, lambda: torch.mm(a, b))}))
    print(json.dumps(dit_figure("tiny_dit_forward", Dit(64, 128, 4, 2, 16, 32), (16, 5, 16, 16), 32, args.repeats)))
    vae = VaeDecoder(8, 16, [1, 2, 4, 4], 2, [False, True, True])
    z = torch.randn(16, 5, 16, 16)
    assert vae.decode(z).shape == (3, 17, 128, 128)
    print(json.dumps({"name": "tiny_vae_decode", "seconds": median_seconds(args.repeats, lambda: vae.decode(z))}))
    print(json.dumps(dit_figure("mid_dit_forward", Dit(1536, 8960, 12, 4, 512, 4096), (16, 1, 60, 104), 4096, args.repeats)))


if __name__ == "__main__":
    main()
