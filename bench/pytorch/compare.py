#!/usr/bin/env python3
"""Prints the issue #9 GPU comparison from one run: `delta bench train --fast` JSON vs bench/pytorch/delta_bench.py
JSON, plus (optional) the `delta bench detection` JSON for the GPU NMS target.

usage: compare.py delta.json pytorch.json [more Delta JSONs: delta-detection.json, delta-stride4.json, ...]
       compare.py --backward-ab delta.json delta-standard.json   (activation-free vs libtorch's nodes, train img/s)
Targets (issue #9): fp32 Δ-ResNet-50 train throughput ≥ 1.0x PyTorch eager fp32 for Δ(1) and Δ(4); fast mode
(Delta: bf16 frozen base + channels-last, fp32 Δ-modules and head) ≥ 1.0x PyTorch bf16 autocast + channels-last; on an
H100 at batch 128, 224x224, fast mode Δ(4) ≥ 3,800 img/s and Δ(1) ≥ 9,000 img/s; Δ peak memory ≤ 50 % of full
fine-tuning; GPU NMS of 5,000 boxes ≤ 5 ms.
"""
import json
import math
import sys


def load(path, suite=None):
    """(report, {name: value}) of one bench JSON; with suite, only that suite's rows."""
    with open(path) as f:
        report = json.load(f)
    rows = {}
    for r in report["results"]:
        if suite is not None and r.get("suite", r.get("Suite")) != suite:
            continue
        name = r.get("name", r.get("Name"))
        value = float(r.get("value", r.get("Value")))
        if not math.isnan(value):                              # CPU runs have no allocator peak (NaN): not a figure
            rows[name] = value
    return report, rows


def fmt(v):
    return "n/a" if v is None else f"{v:,.1f}"


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def row(figure, delta, pytorch, ratio, target, result, note=""):
    r = "" if ratio is None else f"{ratio:.2f}"
    print(f"{figure:<44} {fmt(delta):>10} {fmt(pytorch):>10} {r:>7} {target:>26}  {result}{note}")


def backward_ab(free_path, standard_path):
    """Train img/s of the same runs with the activation-free frozen backward (default) and with libtorch's nodes."""
    free, std = load(free_path)[1], load(standard_path)[1]
    print("Train img/s, activation-free frozen backward (default) vs libtorch's nodes, same GPU:")
    for name, value in std.items():
        if name.endswith("train step") and name in free:
            print(f"  {name:<58} {free[name]:10.1f} {value:10.1f}   {free[name] / value - 1:+.1%}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--backward-ab":
        return backward_ab(sys.argv[2], sys.argv[3])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    dr, d = load(sys.argv[1])
    pr, p = load(sys.argv[2])
    det = {}
    for extra in sys.argv[3:]:                                 # later Delta runs add rows; the main run's figures win
        for name, value in load(extra)[1].items():             # (the memory run's throughputs, caching off, are not figures)
            d.setdefault(name, value)
        det.update(load(extra, "detection")[1])
    det.update(load(sys.argv[1], "detection")[1])
    gpu = (pr.get("machine") or {}).get("gpu")
    print(f"\ndevice: {gpu}; torch {pr['versions']['torch']}; TorchSharp {dr['versions']['torchsharp']} "
          f"(libtorch {dr['versions']['libtorch']}); .NET {dr['versions']['dotnet']}; date {pr['date']}")
    backward = sorted({(r.get("settings") or r.get("Settings") or {}).get("frozen backward", "?") for r in dr["results"]})
    print(f"Delta's frozen-layer backward: {', '.join(backward)}"
          + ("" if backward == ["activation-free"] else " (libtorch's own nodes: gradcheck failed or DELTA_FROZEN_BACKWARD=standard)"))
    s = pr["settings"]
    print(f"Δ-ResNet-50 (random weights), batch {s['batch']}, {s['size']}x{s['size']}, PyTorch {s['steps']} steps x "
          f"{s['repeats']} repeats (median); Delta {dr['settings'].get('TrainSteps')} steps\n")
    print(f"{'figure':<44} {'Delta':>10} {'PyTorch':>10} {'ratio':>7} {'target':>26}  verdict")
    h100 = gpu is not None and "H100" in gpu
    for label in ("Δ(1)", "Δ(4)"):
        dv = d.get(f"resnet50 {label} train step")
        pv = p.get(f"pytorch resnet50 {label} fp32 train step")
        ratio = dv / pv if dv and pv else None
        row(f"fp32 {label} train img/s", dv, pv, ratio, "≥ 1.0x PyTorch fp32", verdict(None if ratio is None else ratio >= 1.0))
    # The fast mode's variants: bf16 + channels-last + folded BNs (bf16+cl in runs before BN folding); the Δ
    # convolutions in bf16 too (delta train --fast --delta-bf16); and the Δ convolutions and the skip sums in bf16
    # (--fast --autocast), which is what PyTorch's autocast does to the same network.
    fast_variants = (("fast", ["[bf16+cl+fold]", "[bf16+cl]"]), ("fast, bf16 Δ convs", ["[bf16+cl+fold+dbf16]"]),
                     ("fast, autocast Δ", ["[bf16+cl+fold+dbf16+sbf16]"]))

    def fast(label, suffixes=("[bf16+cl+fold]", "[bf16+cl]")):
        return next((d[k] for k in (f"resnet50 {label} {sx} train step" for sx in suffixes) if k in d), None)

    for label, absolute in (("Δ(1)", 9000), ("Δ(4)", 3800)):
        pv = p.get(f"pytorch resnet50 {label} bf16 train step")
        for name, suffixes in fast_variants:
            dv = fast(label, suffixes)
            ratio = dv / pv if dv and pv else None
            row(f"{name} {label} train img/s", dv, pv, ratio, "≥ 1.0x PyTorch bf16+CL", verdict(None if ratio is None else ratio >= 1.0))
            row(f"{name} {label} train img/s, absolute", dv, None, None, f"≥ {absolute:,} (H100)",
                verdict(None if dv is None or not h100 else dv >= absolute), "" if h100 else " (not an H100: absolute target not judged)")
    # Gate stride 4 (DeltaConfig.GateStride): no PyTorch counterpart, so only the H100 absolutes are judged.
    for label, absolute in (("Δ(1) s4", 9000), ("Δ(4) s4", 3800)):
        for name, suffixes in fast_variants:
            dv = fast(label, suffixes)
            if dv is not None:
                row(f"{name} {label} train img/s, absolute", dv, None, None, f"≥ {absolute:,} (H100)",
                    verdict(None if not h100 else dv >= absolute), "" if h100 else " (not an H100: absolute target not judged)")
    for label in ("Δ(1)", "Δ(4)"):
        dv = fast(label)
        pv = p.get(f"pytorch resnet50 {label} bf16base train step")
        row(f"fast {label} vs PyTorch same split (context)", dv, pv, dv / pv if dv and pv else None,
            "bf16 base, fp32 Δ + head", "")
    # PyTorch's memory, as context: its allocator's peak over the timed steps (weights included), and what one step
    # adds (the same measure as Delta's, judged below).
    for figure, title, note in (("peak allocated", "peak memory", "PyTorch allocator's peak over the timed steps, weights included"),
                                ("step memory", "step memory", "what one step adds, PyTorch allocator: the same measure as Delta's below")):
        full = p.get(f"pytorch resnet50 full fine-tuning fp32 {figure}")
        for label in ("Δ(1)", "Δ(4)"):
            pm = p.get(f"pytorch resnet50 {label} fp32 {figure}")
            row(f"PyTorch {label} {title} / full fine-tuning", None, pm, pm / full if pm and full else None, "(context)", "", f" ({note})")
    for label in ("Δ(1)", "Δ(4)"):
        share = d.get(f"resnet50 {label} step memory / full fine-tuning")
        if share is not None:
            row(f"Delta {label} step memory / full fine-tuning", None, None, share, "≤ 0.50", verdict(share <= 0.5),
                " (GPU memory one step adds, cudaMemGetInfo, caching allocator off)")
    fd, fp = d.get("resnet50 full fine-tuning train step"), p.get("pytorch resnet50 full fine-tuning fp32 train step")
    row("fp32 full fine-tuning train img/s (context)", fd, fp, fd / fp if fd and fp else None, "", "")
    nms = det.get("nms 5000 boxes (Delta.Plugins.FasterRcnn Nms.Run)")
    row("GPU NMS 5,000 boxes, ms", nms, None, None, "≤ 5 ms", verdict(None if nms is None else nms <= 5.0))
    for name, value in det.items():
        if name != "nms 5000 boxes (Delta.Plugins.FasterRcnn Nms.Run)":
            print(f"  (detection, context) {name}: {value:,.2f}")


if __name__ == "__main__":
    main()
