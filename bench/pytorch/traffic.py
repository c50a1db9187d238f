#!/usr/bin/env python3
"""Bytes a training step of the PyTorch reference Δ-network moves, by kind of op (issue #9, GPU targets).

On a GPU the Δ-modules' gated skip sums and their BatchNorms are memory-bound: O(k²) full-resolution fp32 passes
per stage, whose cost is bytes, not multiply-adds. This counts, for one training step of delta_bench.py's network,
the bytes every aten op reads and writes — its tensor arguments and results, each counted once per op, views
excluded, broadcast (stride-0) dimensions counted once — split into forward, backward and optimizer step, and by
kind of op. It measures the op trace on whatever device it runs (CPU is fine: the trace is the same ops), at two
batch sizes, and extrapolates linearly to --target-batch (activations grow with the batch, weights do not).
Dividing by a GPU's memory bandwidth gives a lower bound on the time of the non-convolution work: caches cannot
hold maps of hundreds of MB, so each such pass goes to memory.

  python3 bench/pytorch/traffic.py --archs resnet50 --modes bf16,bf16base --batch 4 --size 224 --target-batch 128
"""
import argparse
import sys

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from delta_bench import kernel_kind, make_training_step


def touched_bytes(t):
    """Bytes of t's distinct elements: a broadcast (stride-0) dimension is read once."""
    n = 1
    for size, stride in zip(t.shape, t.stride()):
        if stride != 0:
            n *= size
    return n * t.element_size()


class Traffic(TorchDispatchMode):
    """Per aten op: calls and bytes (tensor arguments + results). Views and allocations move no data."""

    def __init__(self):
        super().__init__()
        self.by_op = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func._schema.name
        if "empty" in name or any(r.alias_info is not None and not r.alias_info.is_write for r in func._schema.returns):
            return out
        tensors = [a for a in tree_flatten((args, kwargs or {}))[0] if isinstance(a, torch.Tensor)]
        tensors += [o for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)]
        calls, total = self.by_op.get(name, (0, 0))
        self.by_op[name] = (calls + 1, total + sum(touched_bytes(t) for t in tensors))
        return out


def measure(arch, delta, full, mode, batch, size, device):
    """{phase: {op: (calls, bytes)}} for the second of two steps (the first allocates the optimizer state)."""
    built = make_training_step(arch, delta, full, mode, batch, size, device)
    if built is None:
        return None
    built.step()
    phases = {}
    with Traffic() as forward:
        loss = built.forward()
    with Traffic() as backward:
        loss.backward()
    with Traffic() as optimizer:
        built.optimizer[0].step()
    for phase, counter in (("forward", forward), ("backward", backward), ("optimizer", optimizer)):
        phases[phase] = counter.by_op
    return phases


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--archs", default="resnet50")
    p.add_argument("--modes", default="bf16,bf16base", help="comma list of fp32, bf16 (autocast + channels-last), bf16base")
    p.add_argument("--variants", default="delta1,delta4,full", help="comma list of delta1, delta4, full")
    p.add_argument("--batch", type=int, default=4, help="the smaller measured batch; the other is twice it")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--target-batch", type=int, default=128)
    p.add_argument("--bandwidth", type=float, default=3.35, help="TB/s for the time bound (H100 SXM HBM3: 3.35)")
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    variants = {"delta1": ("Δ(1)", 1, False), "delta4": ("Δ(4)", 4, False), "full": ("full fine-tuning", 0, True)}
    print(f"bytes moved per training step (tensor arguments + results of every aten op), measured at batch "
          f"{args.batch} and {2 * args.batch}, {args.size}x{args.size}, extrapolated to batch {args.target_batch}; "
          f"time bound at {args.bandwidth} TB/s")
    for arch in args.archs.split(","):
        for mode in args.modes.split(","):
            for key in args.variants.split(","):
                label, delta, full = variants[key]
                small = measure(arch, delta, full, mode, args.batch, args.size, device)
                if small is None:
                    continue
                large = measure(arch, delta, full, mode, 2 * args.batch, args.size, device)
                report(f"pytorch {arch} {label} {mode}", small, large, args)
    return 0


def extrapolate(small, large, batch, target):
    """Linear in the batch: bytes(B) = fixed + per_image · B, from the two measured batches."""
    per_image = (large - small) / batch
    return small + per_image * (target - batch)


def report(title, small, large, args):
    rows = {}                                                     # (phase, kind) → bytes at the target batch
    ops = {}                                                      # (phase, op) → (calls, bytes at the target batch)
    for phase in small:
        for op in set(small[phase]) | set(large[phase]):
            s = small[phase].get(op, (0, 0))
            l = large[phase].get(op, (0, 0))
            b = extrapolate(s[1], l[1], args.batch, args.target_batch)
            kind = kernel_kind(op)
            rows[(phase, kind)] = rows.get((phase, kind), 0.0) + b
            ops[(phase, op)] = (l[0], b)
    total = sum(rows.values())
    gb = 1e9
    print(f"\n{title}: {total / gb:.1f} GB per step at batch {args.target_batch}  "
          f"(≥ {1e3 * total / (args.bandwidth * 1e12):.1f} ms at {args.bandwidth} TB/s)")
    print(f"  {'phase':<10} {'kind':<24} {'GB':>8} {'ms bound':>9}")
    for (phase, kind), b in sorted(rows.items(), key=lambda kv: (kv[0][0] != "forward", kv[0][0] != "backward", -kv[1])):
        print(f"  {phase:<10} {kind:<24} {b / gb:8.1f} {1e3 * b / (args.bandwidth * 1e12):9.2f}")
    print("  heaviest ops (phase, op, calls per step, GB):")
    for (phase, op), (calls, b) in sorted(ops.items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"    {phase:<10} {op:<36} {calls:5d} {b / gb:8.1f}")


if __name__ == "__main__":
    sys.exit(main())
