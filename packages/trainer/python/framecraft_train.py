#!/usr/bin/env python3
"""Framecraft's training engine: PyTorch work driven by @framecraft/trainer.

The TypeScript package owns the API, data preparation, configuration, progress, validation of
exports and promotion; this script does the tensor work. It talks through JSON lines on stdout
(one event per line, every line a JSON object with a "type") and files in the run folder.

Commands:
  probe                         versions, CUDA, whether onnx is importable
  init   --arch A --out F [...] a freshly initialised network of architecture A as ONNX
  train  --config C             fine-tune or train a student; resumable (checkpoint.pt)
  export --run R --out F        best (or last) weights of run R to ONNX with dynamic axes, plus a
                                reference input/output pair for the parity check

Dataset folder (written by the TypeScript side): index.json
  {"pairs": [{"id", "split": "train"|"validation", "width", "height", "input", "target",
              "shot", "prev": id or null}]}
with input/target as raw RGB24 files (height x width x 3 bytes). Models take and give float32
NCHW RGB in 0..255 (the layout of the fast-neural-style models in ../shared/models).
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time


def emit(kind, **fields):
    fields["type"] = kind
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def fail(code, message):
    emit("error", code=code, message=message)
    sys.exit(2)


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as err:  # the TypeScript side turns this into install instructions
    fail("ERR_TORCH_MISSING", f"PyTorch is not importable by {sys.executable}: {err}")


# ---------------------------------------------------------------------------------------------
# Networks


# BT.601 luma weights: the SSIM loss's luma and the flat-ink student's.
LUMA = (0.299, 0.587, 0.114)


class ConvLayer(nn.Module):
    """Reflection pad + convolution, as in Johnson et al.'s TransformerNet."""

    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        return self.conv(self.pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, channels, norm):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = norm(channels)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = norm(channels)

    def forward(self, x):
        y = F.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(y)) + x


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour ×2 upsampling, then a ConvLayer (no checkerboard artefacts)."""

    def __init__(self, cin, cout, kernel):
        super().__init__()
        self.conv = ConvLayer(cin, cout, kernel, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def instance_norm(c):
    return nn.InstanceNorm2d(c, affine=True)


def no_norm(_c):
    return nn.Identity()


class StyleNet(nn.Module):
    """TransformerNet (Johnson et al. 2016 with instance norm, pytorch/examples' layout) and its
    smaller students: widths (w1, w2, w3), `blocks` residual blocks, first/last kernel `edge`,
    `norm` "instance" or "none".

    TransformerNet is widths (32, 64, 128), 5 blocks, edge 9, instance norm. Instance norm removes
    each channel's mean and contrast at every layer, which suits style transfer (the output's
    palette is the style's) but not a student that must reproduce absolute colours (a cartoon's
    palette, a grade): students have no normalisation and work on 0..1 internally instead."""

    def __init__(self, widths=(32, 64, 128), blocks=5, edge=9, norm="instance"):
        super().__init__()
        w1, w2, w3 = widths
        self.arch = {"widths": list(widths), "blocks": blocks, "edge": edge, "norm": norm}
        make = instance_norm if norm == "instance" else no_norm
        self.scaled = norm != "instance"
        self.conv1 = ConvLayer(3, w1, edge, 1)
        self.in1 = make(w1)
        self.conv2 = ConvLayer(w1, w2, 3, 2)
        self.in2 = make(w2)
        self.conv3 = ConvLayer(w2, w3, 3, 2)
        self.in3 = make(w3)
        self.res = nn.ModuleList([ResidualBlock(w3, make) for _ in range(blocks)])
        self.deconv1 = UpsampleConvLayer(w3, w2, 3)
        self.in4 = make(w2)
        self.deconv2 = UpsampleConvLayer(w2, w1, 3)
        self.in5 = make(w1)
        self.deconv3 = ConvLayer(w1, 3, edge, 1)

    def forward(self, x):
        if self.scaled:
            x = x * (1 / 255)
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        for block in self.res:
            y = block(y)
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        y = self.deconv3(y)
        return y * 255 if self.scaled else y

    def ordered_layers(self):
        """Convolutions and instance norms in the order an ONNX export of this network lists them."""
        out = [self.conv1.conv, self.in1, self.conv2.conv, self.in2, self.conv3.conv, self.in3]
        for b in self.res:
            out += [b.conv1.conv, b.in1, b.conv2.conv, b.in2]
        out += [self.deconv1.conv.conv, self.in4, self.deconv2.conv.conv, self.in5, self.deconv3.conv]
        return [m for m in out if not isinstance(m, nn.Identity)]


class FlatInkNet(nn.Module):
    """A student for flat-colour styles with ink lines (cartoon, posterised looks, line art).

    A regression network averages where it is unsure: it paints a cartoon's flat regions as soft
    gradients and its one-pixel outlines as faint smears, both of which SSIM's structure term
    punishes (a free-RGB student of this machine's speed scores 0.79 against the cartoon). This
    one decides instead: a small encoder-decoder at half resolution gives each pixel weights over
    `colors` learned colours (softmax, drawn flat where it is sure; trained with cross-entropy on
    the target's nearest palette entry), and a branch at full resolution on luma gives an ink mask
    (sigmoid, trained with binary cross-entropy on the target's ink pixels) that draws the learned
    ink colour over them. `fine` is the ink branch: first kernel, then widths of its 3x3 layers."""

    def __init__(self, widths, blocks, colors, fine):
        super().__init__()
        w1, w2, w3 = widths
        k0, ws = fine[0], list(fine[1])
        self.arch = {"kind": "flat-ink", "widths": list(widths), "blocks": blocks, "colors": colors,
                     "fine": [k0, ws]}
        self.c1 = ConvLayer(3, w1, 3, 1)
        self.c2 = ConvLayer(w1, w2, 3, 2)
        self.c3 = ConvLayer(w2, w3, 3, 2)
        self.res = nn.ModuleList([ResidualBlock(w3, no_norm) for _ in range(blocks)])
        self.u1 = ConvLayer(w3, w2, 3, 1)
        self.u2 = ConvLayer(w2, w1, 3, 1)
        self.logits = nn.Conv2d(w1, colors, 1)
        layers = [ConvLayer(1, ws[0], k0, 1), nn.ReLU()]
        for a, b in zip(ws, ws[1:]):
            layers += [ConvLayer(a, b, 3, 1), nn.ReLU()]
        layers.append(ConvLayer(ws[-1], 1, 3, 1))
        self.fine = nn.Sequential(*layers)
        # Colours on 0..1, set from the targets before training (set_palette); learned after.
        self.palette = nn.Parameter(torch.rand(colors, 3))
        self.ink = nn.Parameter(torch.zeros(3))
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1))

    def set_palette(self, palette, ink):
        with torch.no_grad():
            self.palette.copy_(palette)
            if ink is not None:
                self.ink.copy_(ink)

    def parts(self, x):
        """Palette logits at half resolution and ink logits at full resolution, for the losses."""
        x = x * (1 / 255)
        # Upsampling to the size of the layer it mirrors (not by 2), so any frame size works, odd
        # ones included, without padding.
        a = F.relu(self.c1(F.avg_pool2d(x, 2)))
        b = F.relu(self.c2(a))
        y = F.relu(self.c3(b))
        for block in self.res:
            y = block(y)
        y = F.relu(self.u1(F.interpolate(y, size=b.shape[-2:], mode="nearest")))
        y = F.relu(self.u2(F.interpolate(y, size=a.shape[-2:], mode="nearest")))
        return self.logits(y), self.fine((x * self.luma).sum(1, keepdim=True))

    def compose(self, logits, ink_logits):
        # Softmax and colours at half resolution, then nearest-neighbour upsampling: the same as
        # doing both per full-resolution pixel, at a quarter of the cost.
        flat = F.conv2d(torch.softmax(logits, 1), self.palette.t()[:, :, None, None])
        flat = F.interpolate(flat, size=ink_logits.shape[-2:], mode="nearest")
        m = torch.sigmoid(ink_logits)
        return (flat * (1 - m) + self.ink.view(1, 3, 1, 1) * m) * 255

    def forward(self, x):
        return self.compose(*self.parts(x))


ARCHS = {
    "transformer": {"widths": [32, 64, 128], "blocks": 5, "edge": 9, "norm": "instance"},
    # A student for "teach by example" and distillation: 8 channels at full resolution keep it
    # at ~22 fps at 640x360 on 2 CPU cores in ONNX Runtime (12/24/48: 15 fps; TransformerNet: 2).
    "student": {"widths": [8, 16, 48], "blocks": 2, "edge": 5, "norm": "none"},
}


# The flat-ink student: 8/16/48 channels at 1/2, 1/4, 1/8 resolution, 2 blocks, 16 colours, an
# ink branch of a 5x5 and four 3x3 layers of 16 channels at full resolution. Cartoon from 8 flower
# keyframes, 3000 steps (scratch experiments, see the README): 16/32/48 palette channels with a
# 12-channel ink branch 0.849 SSIM at 18 fps (360p, ONNX Runtime, 2 cores), this one 0.852 at 18 fps,
# three 3x3 ink layers instead of four 0.844; the ink branch's width is what counts.
FLAT_INK = {"kind": "flat-ink", "widths": [8, 16, 48], "blocks": 2, "colors": 16, "fine": [5, [16, 16, 16, 16]]}


def build(arch):
    if arch.get("kind") == "flat-ink":
        return FlatInkNet(tuple(arch["widths"]), arch["blocks"], arch["colors"], (arch["fine"][0], arch["fine"][1]))
    return StyleNet(tuple(arch["widths"]), arch["blocks"], arch["edge"], arch.get("norm", "instance"))


def flat_targets(train, ink_luma=64, most=33, coverage=0.995, interior=0.5):
    """Whether the training targets are drawn in a few flat colours, and which of them is ink.

    Flat, per target: its `most` commonest colours cover `coverage` of its pixels (a palette of up
    to 32 colours plus ink), and at least `interior` of the pixels off its commonest colour lie
    inside a region of their colour (all four neighbours the same), i.e. its colours fill
    regions rather than draw strokes. Measured on flower: cartoon 9 colours cover 99.5 %, 75 % of
    its pixels off the commonest colour are interior; pencil without paper 39-48 colours, 0.1-0.3 %
    interior (its white is flat, its greys are strokes). The targets are flat when three in four
    are. Ink: the commonest dark colour (luma up to `ink_luma`, at least 0.2 % of the pixels) of
    which at least 60 % of the pixels touch another colour: lines, not regions.

    Returns None when not flat, else (colours 0..255 as an (N, 3) tensor, their pixel counts, the
    ink colour or None), colours by count, ink left out, at most 64."""
    flat_frames = 0
    all_codes = []
    for p in train:
        px = p["y"].to(torch.int64)
        codes = (px[0] << 16) | (px[1] << 8) | px[2]
        all_codes.append(codes.reshape(-1))
        uniq, counts = torch.unique(codes, return_counts=True)
        if counts.sort(descending=True).values[:most].sum().item() < coverage * codes.numel():
            continue
        top = uniq[counts.argmax()]
        c = codes[1:-1, 1:-1]
        same = (c == codes[:-2, 1:-1]) & (c == codes[2:, 1:-1]) & (c == codes[1:-1, :-2]) & (c == codes[1:-1, 2:])
        off = c != top
        if off.sum().item() == 0 or same[off].float().mean().item() >= interior:
            flat_frames += 1
    if flat_frames * 4 < len(train) * 3:
        return None
    codes = torch.cat(all_codes)
    uniq, counts = torch.unique(codes, return_counts=True)
    order = counts.argsort(descending=True)[:64]
    uniq, counts = uniq[order], counts[order]
    colors = torch.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], 1).float()
    ink = None
    luma = colors @ torch.tensor(LUMA)
    for i in range(len(uniq)):
        if luma[i] > ink_luma or counts[i] < 0.002 * codes.numel():
            continue
        touching, total = 0, 0
        for p in train:
            m = (p["y"] == colors[i].view(3, 1, 1)).all(0).float()[None, None]
            inner = -F.max_pool2d(-m, 3, 1, 1)  # erosion: pixels whose 3x3 neighbourhood is all this colour
            touching += (m - inner).sum().item()
            total += m.sum().item()
        if total > 0 and touching >= 0.6 * total:
            ink = colors[i]
            break
    keep = torch.ones(len(uniq), dtype=torch.bool) if ink is None else ~(colors == ink).all(1)
    return colors[keep], counts[keep].float(), ink


def fit_palette(colors, weights, k):
    """k colours for the palette head: farthest-point seeds from the commonest colour (so a rare
    but distinct colour, a small red subject, gets its own entry), then weighted Lloyd steps."""
    k = min(k, len(colors))
    seeds = [colors[weights.argmax()]]
    for _ in range(k - 1):
        d = torch.cdist(colors, torch.stack(seeds)).min(1).values
        seeds.append(colors[(d * d * weights).argmax()])
    c = torch.stack(seeds)
    for _ in range(30):
        nearest = torch.cdist(colors, c).argmin(1)
        for j in range(k):
            m = nearest == j
            if m.any():
                c[j] = (colors[m] * weights[m, None]).sum(0) / weights[m].sum()
    return c


def load_onnx_weights(path):
    """Read an ONNX style model's convolutions and instance norms (in graph order) and infer its
    architecture; returns (arch, StyleNet with those weights)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as err:
        fail("ERR_ONNX_MISSING", f"the onnx Python package is not importable by {sys.executable}: {err}")
    try:
        model = onnx.load(path)
    except Exception as err:  # noqa: BLE001 - any parse failure is a bad file
        fail("ERR_BASE_MODEL", f"{path}: not a readable ONNX file ({err})")
    if any(node.op_type == "Softmax" for node in model.graph.node):
        fail("ERR_BASE_MODEL", f"{path}: a flat-ink student (palette and ink heads); fine-tuning takes a "
             "TransformerNet-style network; train a new student from the pairs instead")
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    # PyTorch's exporter turns repeated weights (fresh norms are all ones and zeros) into Identity
    # nodes over one initializer, and may store weights as Constant nodes: resolve both.
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
        elif node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    inits[node.output[0]] = numpy_helper.to_array(a.t)
    layers = []
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = inits.get(node.input[1])
            b = inits.get(node.input[2]) if len(node.input) > 2 else None
            if w is None:
                fail("ERR_BASE_MODEL", f"{path}: a Conv node's weights are not initializers")
            layers.append(("conv", w, b))
        elif node.op_type == "InstanceNormalization":
            scale, bias = inits.get(node.input[1]), inits.get(node.input[2])
            if scale is None or bias is None:
                fail("ERR_BASE_MODEL", f"{path}: an InstanceNormalization's scale or bias is not a constant")
            layers.append(("norm", scale, bias))
    convs = [l for l in layers if l[0] == "conv"]
    if len(convs) < 6 or (len(convs) - 6) % 2 != 0:
        fail("ERR_BASE_MODEL", f"{path}: {len(convs)} convolutions; not a TransformerNet-style network")
    w1 = convs[0][1].shape[0]
    w2 = convs[1][1].shape[0]
    w3 = convs[2][1].shape[0]
    norms = [l for l in layers if l[0] == "norm"]
    # A student (no norms) scales 0..255 to 0..1 inside; its export starts with that Mul.
    arch = {"widths": [int(w1), int(w2), int(w3)], "blocks": (len(convs) - 6) // 2, "edge": int(convs[0][1].shape[2]),
            "norm": "instance" if norms else "none"}
    net = build(arch)
    targets = net.ordered_layers()
    if len(targets) != len(layers):
        fail("ERR_BASE_MODEL", f"{path}: {len(layers)} conv/norm layers, a {arch} network has {len(targets)}")
    with torch.no_grad():
        for module, (kind, a, b) in zip(targets, layers):
            if kind == "conv" and isinstance(module, nn.Conv2d):
                if tuple(module.weight.shape) != tuple(a.shape):
                    fail("ERR_BASE_MODEL", f"{path}: conv weights {a.shape}, expected {tuple(module.weight.shape)}")
                module.weight.copy_(torch.from_numpy(a.copy()))
                module.bias.copy_(torch.from_numpy(b.copy()) if b is not None else torch.zeros_like(module.bias))
            elif kind == "norm" and isinstance(module, nn.InstanceNorm2d):
                module.weight.copy_(torch.from_numpy(a.copy()))
                module.bias.copy_(torch.from_numpy(b.copy()))
            else:
                fail("ERR_BASE_MODEL", f"{path}: layer order differs from TransformerNet's")
    return arch, net


def export_onnx(net, path, opset=None):
    # Opset 13's Softmax works on one axis; 12's flattens every axis from the given one on.
    opset = opset or (13 if isinstance(net, FlatInkNet) else 12)
    net.eval()
    dummy = torch.rand(1, 3, 64, 64) * 255
    tmp = path + ".tmp"
    axes = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(net, dummy, tmp, input_names=["input1"], output_names=["output1"],
                      dynamic_axes={"input1": axes, "output1": axes}, opset_version=opset)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Data


def load_dataset(folder):
    import numpy as np

    with open(os.path.join(folder, "index.json")) as f:
        index = json.load(f)
    pairs = {}
    for p in index["pairs"]:
        h, w = p["height"], p["width"]

        def read(name):
            raw = np.fromfile(os.path.join(folder, name), dtype=np.uint8)
            if raw.size != h * w * 3:
                fail("ERR_DATASET", f"{name}: {raw.size} bytes, expected {h}x{w}x3")
            return torch.from_numpy(raw.reshape(h, w, 3).copy()).permute(2, 0, 1).float()

        pairs[p["id"]] = {**p, "x": read(p["input"]), "y": read(p["target"])}
    return pairs


def augment(rng, tensors, crop, jitter, flips):
    """The same random scale, crop and flip for every (3, H, W) tensor of one sample."""
    scale = rng.uniform(jitter[0], jitter[1]) if jitter[1] > jitter[0] else 1.0
    _, h, w = tensors[0].shape
    sh, sw = max(crop, round(h * scale)), max(crop, round(w * scale))
    if (sh, sw) != (h, w):
        tensors = [F.interpolate(t[None], size=(sh, sw), mode="bilinear", align_corners=False)[0] for t in tensors]
    top = rng.randint(0, sh - crop)
    left = rng.randint(0, sw - crop)
    tensors = [t[:, top:top + crop, left:left + crop] for t in tensors]
    if flips and rng.random() < 0.5:
        tensors = [t.flip(2) for t in tensors]
    return tensors


_SSIM_WINDOWS = {}


def _ssim_window(device):
    """The 11x11 Gaussian window (sigma 1.5) of Wang et al.'s SSIM, as @framecraft/metrics uses."""
    w = _SSIM_WINDOWS.get(device)
    if w is None:
        g = torch.exp(-((torch.arange(11, dtype=torch.float32) - 5) ** 2) / (2 * 1.5 ** 2))
        g = g / g.sum()
        w = (g[:, None] * g[None, :])[None, None].to(device)
        _SSIM_WINDOWS[device] = w
    return w


def luma_ssim(out, target):
    """Mean SSIM of the BT.601 luma of two batches on the 0..1 scale (valid windows only)."""
    k = torch.tensor(LUMA, device=out.device).view(1, 3, 1, 1)
    x = (out * k).sum(1, keepdim=True)
    y = (target * k).sum(1, keepdim=True)
    w = _ssim_window(out.device)
    mx, my = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mx * mx
    syy = F.conv2d(y * y, w) - my * my
    sxy = F.conv2d(x * y, w) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s.mean()


def pixel_loss(kind, out, target):
    # On the 0..1 scale so learning rates do not depend on the 0..255 range.
    if kind == "l1":
        return F.l1_loss(out / 255, target / 255)
    if kind == "ssim":
        # Structure where the eye (and SSIM) looks, L1 for the colours SSIM on luma cannot see:
        # the mix of Zhao et al. 2017 ("Loss Functions for Image Restoration with Neural Networks").
        return 0.84 * (1 - luma_ssim(out / 255, target / 255)) + 0.16 * F.l1_loss(out / 255, target / 255)
    return F.mse_loss(out / 255, target / 255)


def flat_ink_terms(logits, ink_logits, target, palette, ink):
    """The flat-ink student's decision losses: cross-entropy of the palette weights against each
    target pixel's nearest palette entry (ink pixels left out), binary cross-entropy of the ink
    mask against the target's ink pixels. They give thin lines and region borders the strong
    gradients that a pixel loss, averaged over the crop, does not."""
    up = F.interpolate(logits, size=target.shape[-2:], mode="nearest")
    px = target.permute(0, 2, 3, 1)
    labels = torch.cdist(px.reshape(-1, 3), palette).argmin(1).view(px.shape[:3])
    if ink is None:
        on_ink = torch.zeros_like(labels, dtype=torch.bool)
    else:
        on_ink = (px == ink).all(-1)
    paint = (~on_ink).float()
    ce = (F.cross_entropy(up, labels, reduction="none") * paint).sum() / paint.sum().clamp(min=1)
    bce = F.binary_cross_entropy_with_logits(ink_logits[:, 0], on_ink.float())
    return ce + bce


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_probe(_args):
    info = {"python": sys.executable, "pythonVersion": sys.version.split()[0], "torch": torch.__version__,
            "cuda": torch.cuda.is_available(), "threads": torch.get_num_threads()}
    try:
        import onnx

        info["onnx"] = onnx.__version__
    except ImportError:
        info["onnx"] = None
    emit("probe", **info)


def cmd_init(args):
    torch.manual_seed(args.seed)
    arch = dict(ARCHS[args.arch])
    if args.widths:
        arch["widths"] = [int(v) for v in args.widths.split(",")]
    if args.blocks is not None:
        arch["blocks"] = args.blocks
    net = build(arch)
    export_onnx(net, args.out)
    emit("init", out=args.out, arch=arch, parameters=sum(p.numel() for p in net.parameters()))


def config_hash(cfg):
    keep = {k: v for k, v in cfg.items() if k not in ("steps", "resume", "threads", "device", "out")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


CONFIG_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train-config.schema.json")

JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def schema_problems(value, schema, path="config"):
    """What makes value not match schema: the JSON Schema subset the config's schema uses (type,
    enum, minimum, exclusiveMinimum, anyOf, properties, required, additionalProperties, items,
    minItems). The schema is generated from the TypeScript side's TrainConfigSchema."""
    if "anyOf" in schema:
        if all(schema_problems(value, s, path) for s in schema["anyOf"]):
            return [f"{path}: {json.dumps(value)[:60]} matches none of the allowed forms"]
        return []
    t = schema.get("type")
    if t is not None and not JSON_TYPES[t](value):
        return [f"{path}: expected {t}, got {json.dumps(value)[:60]}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: expected one of {schema['enum']}, got {json.dumps(value)}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{path}: expected at least {schema['minimum']}, got {value}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        problems.append(f"{path}: expected more than {schema['exclusiveMinimum']}, got {value}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{path}.{key}: is required")
        extra = schema.get("additionalProperties", {})
        for key, item in value.items():
            if key in props:
                problems += schema_problems(item, props[key], f"{path}.{key}")
            elif extra is False:
                problems.append(f"{path}.{key}: is not a config field")
            elif isinstance(extra, dict):
                problems += schema_problems(item, extra, f"{path}.{key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{path}: expected at least {schema['minItems']} items, got {len(value)}")
        items = schema.get("items")
        for i, item in enumerate(value):
            each = items[i] if isinstance(items, list) and i < len(items) else items
            if isinstance(each, dict):
                problems += schema_problems(item, each, f"{path}[{i}]")
    return problems


def read_config(path):
    """The training config, checked against its schema before any work starts."""
    with open(path) as f:
        cfg = json.load(f)
    with open(CONFIG_SCHEMA) as f:
        schema = json.load(f)
    problems = schema_problems(cfg, schema)
    if problems:
        fail("ERR_TRAINER_CONFIG", f"{path}: " + "; ".join(problems))
    return cfg


def cmd_train(args):
    cfg = read_config(args.config)
    out = cfg["out"]
    os.makedirs(out, exist_ok=True)
    device = "cuda" if cfg.get("device", "auto") in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    if cfg.get("device") == "cuda" and device != "cuda":
        fail("ERR_NO_CUDA", "device 'cuda' was asked for but PyTorch sees no CUDA device")
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg["threads"]))

    pairs = load_dataset(cfg["dataset"])
    train = [p for p in pairs.values() if p["split"] == "train"]
    val = [p for p in pairs.values() if p["split"] == "validation"]
    if not train:
        fail("ERR_DATASET", f"{cfg['dataset']}: no training pairs")

    flat = None
    if cfg["mode"] == "finetune":
        arch, net = load_onnx_weights(cfg["base"])
    else:
        torch.manual_seed(cfg["seed"])
        arch = cfg.get("arch")
        if arch is None or arch.get("kind") == "flat-ink":
            flat = flat_targets(train)
        if arch is None:
            # Targets in a few flat colours get the flat-ink student, anything else the RGB one.
            arch = dict(FLAT_INK) if flat is not None else ARCHS["student"]
        net = build(arch)
    palette = None
    ink = None
    flat_ink = isinstance(net, FlatInkNet)
    if flat_ink:
        if flat is None:  # asked for on targets that are not flat: the commonest colours at 5 bits
            q = torch.cat([(p["y"].reshape(3, -1).t().to(torch.int64) >> 3) for p in train])
            uniq, counts = torch.unique(q, dim=0, return_counts=True)
            flat = (uniq.float() * 8 + 4, counts.float(), None)
        colors, weights, ink = flat
        fitted = fit_palette(colors, weights, arch["colors"])
        # Fewer distinct colours than entries: the spare entries repeat the first (never a label).
        spare = arch["colors"] - len(fitted)
        entries = torch.cat([fitted, fitted[:1].expand(spare, 3)]) if spare > 0 else fitted
        net.set_palette(entries / 255, None if ink is None else ink / 255)
        # The cross-entropy's labels: each target pixel's nearest fitted colour.
        palette = fitted.to(device)
        ink = None if ink is None else ink.to(device)
        emit("palette", colors=fitted.round().int().tolist(), ink=None if ink is None else ink.round().int().tolist())
    net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    rng = random.Random(cfg["seed"])
    torch.manual_seed(cfg["seed"])
    crop = cfg["crop"]
    small = min(min(p["x"].shape[1], p["x"].shape[2]) for p in train)
    crop = max(16, min(crop, small) // 4 * 4)

    digest = config_hash(cfg)
    ckpt_path = os.path.join(out, "checkpoint.pt")
    best_path = os.path.join(out, "best.pt")
    state = {"step": 0, "best": None, "best_step": None, "bad": 0, "history": []}
    if cfg.get("resume") and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        if ck["config"] != digest:
            fail("ERR_RESUME_MISMATCH", f"{ckpt_path} was written by a run with other settings; start over instead")
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        rng.setstate(ck["python_rng"])
        torch.set_rng_state(ck["torch_rng"])
        emit("resumed", step=state["step"])

    def evaluate():
        if not val:
            return None
        net.eval()
        total = 0.0
        with torch.no_grad():
            for p in val:
                _, h, w = p["x"].shape
                h4, w4 = h // 4 * 4, w // 4 * 4
                x = p["x"][None, :, :h4, :w4].to(device)
                y = p["y"][None, :, :h4, :w4].to(device)
                total += pixel_loss(cfg["loss"], net(x).clamp(0, 255), y).item()
        net.train()
        return total / len(val)

    if state["step"] == 0 and state["best"] is None:
        v = evaluate()
        if v is not None:
            emit("validation", step=0, loss=v, best=True)
        state["best"], state["best_step"] = v, 0
        save_atomic({"model": net.state_dict(), "arch": arch, "step": 0, "loss": v}, best_path)

    temporal_w = float(cfg.get("temporalWeight", 0))
    schedule = cfg.get("lrSchedule", "constant")
    batch = cfg["batch"]
    steps = cfg["steps"]
    net.train()
    t0 = time.time()
    stopped = False
    while state["step"] < steps:
        xs, ys, pxs, pys = [], [], [], []
        for _ in range(batch):
            p = rng.choice(train)
            prev = pairs.get(p.get("prev")) if temporal_w > 0 else None
            group = [p["x"], p["y"]] + ([prev["x"], prev["y"]] if prev is not None else [])
            # A flat-ink student learns a function of the frame at its own scale: resampled targets
            # lose their exact colours and one-pixel lines, so no scale jitter.
            group = augment(rng, group, crop, (1, 1) if flat_ink else cfg["scaleJitter"], cfg["flips"])
            xs.append(group[0])
            ys.append(group[1])
            if prev is not None:
                pxs.append(group[2])
                pys.append(group[3])
        x = torch.stack(xs).to(device)
        y = torch.stack(ys).to(device)
        if flat_ink:
            logits, ink_logits = net.parts(x)
            outp = net.compose(logits, ink_logits)
            loss = pixel_loss(cfg["loss"], outp, y) + flat_ink_terms(logits, ink_logits, y, palette, ink)
        else:
            outp = net(x)
            loss = pixel_loss(cfg["loss"], outp, y)
        if pxs and len(pxs) == len(xs):
            # Frame-difference term (after arXiv 2102.05822): the output should change between
            # consecutive frames as the target does.
            po = net(torch.stack(pxs).to(device))
            pt = torch.stack(pys).to(device)
            loss = loss + temporal_w * F.l1_loss((outp - po) / 255, (y - pt) / 255)
        if schedule == "cosine":
            # Cosine decay from lr to 2 % of it over the run (set from the step: resumes exactly).
            for g in opt.param_groups:
                g["lr"] = cfg["lr"] * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * state["step"] / steps)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state["step"] += 1
        step = state["step"]
        if step % cfg["logEvery"] == 0 or step == steps:
            emit("step", step=step, steps=steps, loss=loss.item(), seconds=time.time() - t0)
        if step % cfg["validateEvery"] == 0 or step == steps:
            v = evaluate()
            improved = v is not None and (state["best"] is None or v < state["best"] * (1 - cfg["minDelta"]))
            if improved:
                state["best"], state["best_step"], state["bad"] = v, step, 0
                save_atomic({"model": net.state_dict(), "arch": arch, "step": step, "loss": v}, best_path)
            elif v is not None:
                state["bad"] += 1
            if v is not None:
                emit("validation", step=step, loss=v, best=improved)
            if v is not None and state["bad"] >= cfg["patience"]:
                stopped = True
        if step % cfg["checkpointEvery"] == 0 or step == steps or stopped:
            save_atomic({"model": net.state_dict(), "optimizer": opt.state_dict(), "state": state,
                         "python_rng": rng.getstate(), "torch_rng": torch.get_rng_state(),
                         "config": digest, "arch": arch}, ckpt_path)
            emit("checkpoint", step=step)
        if stopped:
            emit("early-stop", step=step, bestStep=state["best_step"], patience=cfg["patience"])
            break
    if not val:
        save_atomic({"model": net.state_dict(), "arch": arch, "step": state["step"], "loss": None}, best_path)
    emit("done", steps=state["step"], bestLoss=state["best"], bestStep=state["best_step"], stoppedEarly=stopped,
         device=device, arch=arch)


def cmd_export(args):
    best = torch.load(os.path.join(args.run, "best.pt"), map_location="cpu")
    net = build(best["arch"])
    net.load_state_dict(best["model"])
    net.eval()
    export_onnx(net, args.out)
    # A reference pair for the parity check in ONNX Runtime: a held-out input (the first
    # validation pair, else the first training pair), else a fixed pseudo-random image.
    x = None
    if args.dataset:
        pairs = load_dataset(args.dataset)
        chosen = [p for p in pairs.values() if p["split"] == "validation"] or list(pairs.values())
        if chosen:
            img = chosen[0]["x"]
            h, w = img.shape[1] // 4 * 4, img.shape[2] // 4 * 4
            x = img[None, :, :h, :w].contiguous()
    if x is None:
        g = torch.Generator().manual_seed(7)
        h, w = args.size, args.size + 8
        x = torch.rand(1, 3, h, w, generator=g) * 255
    # The reference output is computed in float64: the exact value both float32 implementations
    # approximate. How far PyTorch's own float32 result is from it tells how close any float32
    # runtime can be expected to come (for TransformerNet on a real frame, several 1e-3).
    with torch.no_grad():
        y32 = net(x)
        y64 = net.double()(x.double())
    torch_error = (y32.double() - y64).abs().max().item()
    x.numpy().astype("float32").tofile(os.path.join(args.run, "reference-input.f32"))
    y64.numpy().astype("float64").tofile(os.path.join(args.run, "reference-output.f64"))
    emit("export", out=args.out, step=best["step"], loss=best["loss"], arch=best["arch"],
         reference={"input": "reference-input.f32", "output": "reference-output.f64", "shape": [1, 3, h, w],
                    "torchFloat32Error": torch_error})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("probe")
    p = sub.add_parser("init")
    p.add_argument("--arch", choices=sorted(ARCHS), default="student")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--widths")
    p.add_argument("--blocks", type=int)
    p = sub.add_parser("train")
    p.add_argument("--config", required=True)
    p = sub.add_parser("export")
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--dataset")
    args = ap.parse_args()
    try:
        {"probe": cmd_probe, "init": cmd_init, "train": cmd_train, "export": cmd_export}[args.command](args)
    except SystemExit:
        raise
    except Exception as err:  # noqa: BLE001 - reported to the caller as an event
        import traceback

        emit("error", code="ERR_TRAINER_SCRIPT", message=f"{type(err).__name__}: {err}",
             traceback=traceback.format_exc(limit=8))
        sys.exit(1)


if __name__ == "__main__":
    main()
