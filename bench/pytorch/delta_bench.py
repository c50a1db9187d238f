#!/usr/bin/env python3
"""PyTorch eager reference of Delta's Δ-network and training step, for same-GPU comparisons (issue #9).

It mirrors src/Delta.Backbones exactly:
  * ResNet (torchvision v1.5: stride on the 3x3 conv of Bottleneck) frozen, base BN in eval;
  * Δ-stage (Delta/DeltaStage.cs): n_0 = first block's downsample(h_0) (identity when shapes agree),
    Λ = Δ_s(h_0) ∈ [0,1]^{k(k+1)/2}, h_j = B_j(h_{j-1}) + BN_j(Σ_{i<j} λ_{i,j} n_i), n_j = h_j (cascading);
    one BN per target block j on the gated skip sum, γ initialised to 0;
  * Δ_s (Delta/DeltaGates.cs): conv3x3 → BN → ReLU → conv3x3 → BN → ReLU → GAP → FC → sigmoid, hidden
    width max(16, C_in / 2), gates ordered by target j then source i (Delta/GatePairs.cs);
  * stages before the first Δ-stage run under no_grad (Registry/DeltaBackbone.cs);
  * the step of bench/Delta.Bench's train suite: Δ + Linear(features, 10) trainable, cross-entropy,
    AdamW(lr 1e-3, weight decay 1e-4), zero_grad → forward → backward → step, same batch every step.
Modes: fp32 (exact); bf16 = bf16 autocast + channels-last (the issue's PyTorch counterpart of Delta's fast mode; it
also runs the Δ-modules in bf16); bf16base = Delta's fast mode itself, like for like: the frozen base cast to bf16 +
channels-last, the Δ-modules, skip BNs, sums and head in fp32, casts at the block boundaries (no autocast).
Prints one line per figure in the format of `delta bench` ("train <name> <value> img/s key=value ...")
and, with --json, writes them with the machine, device and versions.
No torchvision needed: the machine that runs this may have only torch.
"""
import argparse
import datetime
import json
import platform
import time
from types import SimpleNamespace

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(h + identity)   # never in place on x: x is a skip source n_i


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(h + identity)


class ResNet(nn.Module):
    """Frozen base: stem + 4 stages of blocks; each stage = (blocks, first block's downsample or None)."""

    def __init__(self, block, layers):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        self.stages = nn.ModuleList()
        for s, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            stride = 1 if s == 0 else 2
            down = None
            if stride != 1 or inplanes != planes * block.expansion:
                down = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes * block.expansion))
            blocks = [block(inplanes, planes, stride, down)]
            inplanes = planes * block.expansion
            blocks += [block(inplanes, planes, 1, None) for _ in range(1, n)]
            self.stages.append(nn.ModuleList(blocks))
        self.num_features = inplanes
        self.stage_in = [64] + [c * block.expansion for c in [64, 128, 256]]
        self.stage_out = [c * block.expansion for c in [64, 128, 256, 512]]

    def stem(self, x):
        return self.maxpool(F.relu(self.bn1(self.conv1(x))))


class DeltaGates(nn.Module):
    """Δ_s: Λ = σ(FC(GAP(ReLU(BN(conv3x3(ReLU(BN(conv3x3(h_0))))))))) ∈ [0,1]^{k(k+1)/2}."""

    def __init__(self, cin, hidden, k):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, hidden, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.fc = nn.Linear(hidden, k * (k + 1) // 2)
        for conv in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.normal_(self.fc.weight, 0, 0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, h0):
        z = F.relu(self.bn1(self.conv1(h0)))
        z = F.relu(self.bn2(self.conv2(z)))
        z = F.adaptive_avg_pool2d(z, 1).flatten(1)
        return torch.sigmoid(self.fc(z))


class DeltaStage(nn.Module):
    """Holds only the Δ parameters; the frozen stage is passed in at call time (not a child)."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.k = k
        self.gates = DeltaGates(cin, max(16, cin // 2), k)
        self.skip_bn = nn.ModuleList(nn.BatchNorm2d(cout) for _ in range(k))
        for bn in self.skip_bn:
            nn.init.zeros_(bn.weight)   # γ = 0: the augmented stage starts as the base function

    def forward(self, blocks, h0, cast=False):
        """cast=True (bf16base): blocks run in their (bf16) dtype, the Δ arithmetic in fp32; returns fp32 h_k."""
        up = (lambda t: t.float()) if cast else (lambda t: t)
        lam = self.gates(up(h0))                               # [N, k(k+1)/2]
        n = h0.shape[0]
        down = blocks[0].downsample
        sources = [up(h0 if down is None else down(h0))]
        h = h0
        for j in range(1, self.k + 1):
            b = up(blocks[j - 1](h))
            off = j * (j - 1) // 2                             # gates into target j: lam[:, off:off+j]
            skip = lam[:, off].reshape(n, 1, 1, 1) * sources[0]
            for i in range(1, j):
                skip = skip + lam[:, off + i].reshape(n, 1, 1, 1) * sources[i]
            hj = b + self.skip_bn[j - 1](skip)
            sources.append(hj)
            h = hj.to(h0.dtype) if cast else hj
        return sources[-1]


class DeltaNet(nn.Module):
    def __init__(self, base, delta_stages, classes=10, trainable_base=False):
        super().__init__()
        self.base = base
        self.first = 4 - delta_stages
        self.delta = nn.ModuleList(DeltaStage(base.stage_in[s], base.stage_out[s], len(base.stages[s]))
                                   for s in range(self.first, 4))
        self.head = nn.Linear(base.num_features, classes)
        self.trainable_base = trainable_base
        base.requires_grad_(trainable_base)

    def train(self, mode=True):
        super().train(mode)
        if not self.trainable_base:
            self.base.eval()                                   # frozen base BN stays in eval
        return self

    def forward(self, x):
        base_dtype = self.base.conv1.weight.dtype
        cast = base_dtype != torch.float32                     # bf16base: the base is a bf16 copy
        if cast:
            x = x.to(base_dtype)                               # keeps the channels-last strides
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.trainable_base):
            h = self.base.stem(x)
            for s in range(self.first):
                for b in self.base.stages[s]:
                    h = b(h)
        for s in range(self.first, 4):
            if self.delta is not None and s - self.first < len(self.delta):
                h = self.delta[s - self.first](self.base.stages[s], h, cast)
                if cast and s < 3:
                    h = h.to(base_dtype)
            else:
                for b in self.base.stages[s]:
                    h = b(h)
        return self.head(F.adaptive_avg_pool2d(h.float() if cast else h, 1).flatten(1))


ARCHS = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet18_cntk": (BasicBlock, [2, 2, 2, 3]),
         "resnet50": (Bottleneck, [3, 4, 6, 3])}


# Kernel (or, on CPU, aten op) names → what kind of work they are, for the --profile breakdown. Order matters: the
# first matching kind wins (cuDNN's BN kernels contain "cudnn", so batch norm is tested before convolution).
KINDS = [
    ("batch norm", ("batch_norm", "batchnorm", "bn_fw", "bn_bw", "welford")),
    ("convolution / matmul", ("conv", "cudnn", "gemm", "xmma", "cutlass", "wgrad", "dgrad", "fprop", "implicit",
                              "mkldnn", "aten::mm", "aten::addmm", "aten::bmm", "matmul", "sm80_", "sm90_")),
    ("optimizer", ("adam", "foreach", "multi_tensor", "lerp", "addcdiv", "addcmul")),
    ("reduction", ("reduce", "aten::sum", "aten::mean", "aten::var", "norm_kernel")),
    ("elementwise / copy", ("elementwise", "vectorized", "unrolled", "copy", "fill", "aten::mul", "aten::add", "aten::sub",
                            "aten::div", "relu", "clamp", "threshold", "sigmoid", "sqrt", "aten::to", "aten::where", "aten::cat", "zero")),
]


def kernel_kind(name):
    lowered = name.lower()
    for kind, keys in KINDS:
        if any(k in lowered for k in keys):
            return kind
    return "other"


def profile_steps(step, sync, steps, device, title):
    """Runs `steps` training steps under torch.profiler; returns a text table of the device time per step by kind of
    kernel (CUDA: the GPU kernels' own time; CPU: each aten op's self time) and the longest kernels."""
    from torch.profiler import ProfilerActivity, profile
    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    sync()
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        sync()
    rows = []
    for e in prof.key_averages():
        if cuda:
            if getattr(e, "device_type", None) != torch.autograd.DeviceType.CUDA:
                continue
            t = getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)
        else:
            t = e.self_cpu_time_total
        if t > 0:
            rows.append((e.key, e.count, t / 1000.0 / steps))       # µs in total → ms per step
    total = sum(r[2] for r in rows)
    by_kind = {}
    for name, _, ms in rows:
        by_kind[kernel_kind(name)] = by_kind.get(kernel_kind(name), 0.0) + ms
    lines = [f"profile {title}: {'GPU kernel' if cuda else 'CPU op self'} time {total:.2f} ms per step ({steps} steps)",
             f"  {'kind':<24} {'ms/step':>9} {'share':>7}"]
    for kind, ms in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {kind:<24} {ms:9.2f} {100 * ms / total if total else 0:6.1f}%")
    lines.append(f"  longest {'kernels' if cuda else 'ops'} (ms/step, calls/step, kind):")
    for name, count, ms in sorted(rows, key=lambda r: -r[2])[:15]:
        lines.append(f"    {ms:8.2f} {count / steps:6.0f}  {kernel_kind(name):<22} {name[:100]}")
    return "\n".join(lines)


def make_training_step(arch, delta, full, mode, batch, size, device):
    """The model and training step the bench times — step (forward, backward, optimizer step), forward (zero_grad and
    the loss), sync, params, optimizer (a box: `optimizer[0]` may be swapped for a fresh one) — or None where Delta has
    no such variant (the fast-mode split of full fine-tuning)."""
    torch.manual_seed(0)
    block, layers = ARCHS[arch]
    base = ResNet(block, layers)
    # Full fine-tuning: no Δ, every base weight trainable (delta=0 stages).
    model = DeltaNet(base, 0 if full else delta, trainable_base=full).to(device)
    if mode == "bf16base":
        if full:
            return None                                        # like Delta: the fast mode needs a frozen base
        base.to(torch.bfloat16)                                # the frozen base only; Δ-modules and head stay fp32
    channels_last = mode in ("bf16", "bf16base")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = [torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)]   # a box: the memory step swaps it
    x = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    model.train()

    def forward():
        optimizer[0].zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mode == "bf16"):
            return F.cross_entropy(model(x), y)

    def step():
        forward().backward()
        optimizer[0].step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    return SimpleNamespace(step=step, forward=forward, sync=sync, params=params, optimizer=optimizer)


def bench_one(arch, label, delta, full, mode, args, device):
    built = make_training_step(arch, delta, full, mode, args.batch, args.size, device)
    if built is None:
        return []
    step, sync, params, optimizer = built.step, built.sync, built.params, built.optimizer
    for _ in range(args.warmup):
        step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rates = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync()
        rates.append(args.steps * args.batch / (time.perf_counter() - t))
    rates.sort()
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
    # What one step adds, as Delta's bench measures it (--exact-memory): a fresh optimizer (its state is allocated
    # inside the step) and no gradients before it, so gradients, optimizer state, activations and temporaries count.
    step_memory = float("nan")
    if device.type == "cuda":
        optimizer[0] = None
        for q in params:
            q.grad = None
        sync()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        optimizer[0] = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
        step()
        sync()
        step_memory = (torch.cuda.max_memory_allocated() - before) / 2**20
    settings = {"arch": arch, "batch": args.batch, "size": args.size, "steps": args.steps, "repeats": args.repeats,
                "mode": mode, "device": str(device), "trainable": sum(p.numel() for p in params)}
    if args.profile and not full:
        table = profile_steps(step, sync, args.profile_steps, device,
                              f"pytorch {arch} {label} {mode}, batch {args.batch}, {args.size}x{args.size}, {device}")
        print(table, flush=True)
        with open(args.profile, "a") as f:
            f.write(table + "\n\n")
    return [("train", f"pytorch {arch} {label} {mode} train step", rates[len(rates) // 2], "img/s", settings),
            ("train", f"pytorch {arch} {label} {mode} peak allocated", peak, "MB", settings),
            ("train", f"pytorch {arch} {label} {mode} step memory", step_memory, "MB", settings)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--archs", default="resnet50")
    p.add_argument("--modes", default="fp32,bf16", help="comma list of fp32, bf16 (autocast + channels-last), bf16base")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--full", action="store_true", help="also time full fine-tuning (for the peak-memory target)")
    p.add_argument("--threads", type=int, help="intra-op threads (CPU runs; default: torch's own choice)")
    p.add_argument("--profile", metavar="FILE", help="after each Δ variant's timing, profile --profile-steps more steps and "
                   "append its time per step by kind of kernel (convolution, batch norm, elementwise, ...) to FILE")
    p.add_argument("--profile-steps", type=int, default=3)
    p.add_argument("--json")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    variants = [("Δ(1)", 1, False), ("Δ(4)", 4, False)] + ([("full fine-tuning", 0, True)] if args.full else [])
    results = []
    for arch in args.archs.split(","):
        for mode in args.modes.split(","):
            for label, delta, full in variants:
                for r in bench_one(arch, label, delta, full, mode, args, device):
                    results.append(r)
                    s = " ".join(f"{k}={v}" for k, v in r[4].items())
                    print(f"{r[0]:<10} {r[1]:<52} {r[2]:12.2f} {r[3]:<6} {s}", flush=True)
    if args.json:
        report = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "machine": {"cpu": platform.processor(), "os": platform.platform(),
                        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None},
            "versions": {"python": platform.python_version(), "torch": torch.__version__,
                         "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()},
            "device": str(device), "threads": torch.get_num_threads(), "settings": vars(args),
            "results": [{"suite": a, "name": b, "value": c, "unit": d, "settings": e} for a, b, c, d, e in results],
        }
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2, default=str)


if __name__ == "__main__":
    main()
