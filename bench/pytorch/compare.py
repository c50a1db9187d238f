#!/usr/bin/env python3
"""Prints the issue #9 GPU comparison from one run: `delta bench train` JSON vs bench/pytorch/delta_bench.py JSON.

usage: compare.py delta.json pytorch.json
Targets (issue #9): fp32 Δ-ResNet-50 train throughput ≥ 1.0x PyTorch eager fp32 for Δ(1) and Δ(4); fast mode
≥ 1.0x PyTorch bf16 autocast + channels-last; on an H100 at batch 128, 224x224, fast mode Δ(4) ≥ 3,800 img/s and
Δ(1) ≥ 9,000 img/s; Δ peak memory ≤ 50 % of full fine-tuning.
"""
import json
import sys


def load(path):
    with open(path) as f:
        report = json.load(f)
    rows = {}
    for r in report["results"]:
        name = r.get("name", r.get("Name"))
        rows[name] = float(r.get("value", r.get("Value")))
    return report, rows


def fmt(v):
    return "n/a" if v is None else f"{v:,.1f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    dr, d = load(sys.argv[1])
    pr, p = load(sys.argv[2])
    gpu = (pr.get("machine") or {}).get("gpu")
    print(f"\ndevice: {gpu}; torch {pr['versions']['torch']}; TorchSharp {dr['versions']['torchsharp']} "
          f"(libtorch {dr['versions']['libtorch']}); .NET {dr['versions']['dotnet']}; date {pr['date']}")
    s = pr["settings"]
    print(f"Δ-ResNet-50 (random weights), batch {s['batch']}, {s['size']}x{s['size']}, {s['steps']} steps x {s['repeats']} repeats\n")
    print(f"{'figure':<44} {'Delta':>10} {'PyTorch':>10} {'ratio':>7} {'target':>22}  verdict")
    for label in ("Δ(1)", "Δ(4)"):
        dv = d.get(f"resnet50 {label} train step")
        pv = p.get(f"pytorch resnet50 {label} fp32 train step")
        ratio = dv / pv if dv and pv else None
        verdict = "n/a" if ratio is None else ("PASS" if ratio >= 1.0 else "FAIL")
        print(f"{'fp32 ' + label + ' train img/s':<44} {fmt(dv):>10} {fmt(pv):>10} {ratio if ratio else float('nan'):7.2f} {'≥ 1.0x PyTorch fp32':>22}  {verdict}")
    for label, absolute in (("Δ(1)", 9000), ("Δ(4)", 3800)):
        pv = p.get(f"pytorch resnet50 {label} bf16 train step")
        print(f"{'fast (bf16+CL) ' + label + ' train img/s':<44} {'not impl.':>10} {fmt(pv):>10} {'':>7} {'≥ 1.0x, ≥ ' + format(absolute, ',') + ' (H100)':>22}  "
              "UNMEASURED: Delta has no bf16 fast mode yet")
    full = p.get("pytorch resnet50 full fine-tuning fp32 peak allocated")
    for label in ("Δ(1)", "Δ(4)"):
        pm = p.get(f"pytorch resnet50 {label} fp32 peak allocated")
        share = pm / full if pm and full else None
        print(f"{'PyTorch ' + label + ' peak memory / full fine-tuning':<44} {'':>10} {fmt(pm):>10} {share if share else float('nan'):7.2f} {'≤ 0.50':>22}  "
              f"{'n/a' if share is None else ('PASS' if share <= 0.5 else 'FAIL')} (PyTorch allocator; TorchSharp 0.107 exposes no CUDA memory stats)")
    fd, fp = d.get("resnet50 full fine-tuning train step"), p.get("pytorch resnet50 full fine-tuning fp32 train step")
    print(f"{'fp32 full fine-tuning train img/s (context)':<44} {fmt(fd):>10} {fmt(fp):>10} {fd / fp if fd and fp else float('nan'):7.2f}")


if __name__ == "__main__":
    main()
