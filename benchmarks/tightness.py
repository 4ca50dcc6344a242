"""Tightness of the paper's bounds on the default instances: bound ÷ exact value (1.0 = tight).

Run: python benchmarks/tightness.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isttheory.claims import default_instances  # noqa: E402
from isttheory.sketches import Permutation, PreconditionedPerm  # noqa: E402
from isttheory.tightness import mean_recursion, theorem1, theorem2  # noqa: E402


def rows() -> list[tuple[str, str, str, str]]:
    out = []
    insts = {i.name: i for i in default_instances()}
    p = insts["interpolation"].problem
    for g in (0.005, 0.01, 0.02):
        t = theorem1(p, Permutation(p.n, p.d), g, 50)
        if t:
            out.append(("(16) bound/exact, K=50", "interpolation, perm", f"γ={g}", f"{t.ratio16:.4g}"))
            out.append(("(16) factor / tight ρ(γ)", "interpolation, perm", f"γ={g}", f"{t.factor_ratio:.4g}"))
            out.append(("(15) bound/exact, K=50", "interpolation, perm", f"γ={g}", f"{t.ratio15:.4g}"))
    p = insts["perm1-heterogeneous"].problem
    sk = PreconditionedPerm.from_problem(p)
    for g in (0.1, 0.5, 0.9, 1.0):
        t = theorem2(p, sk, g, 200)
        out.append(("(30) printed, L̄ norm / exact, K=200", "perm1-heterogeneous, (23)", f"γ={g}",
                    "n/a (no β)" if t.ratio_paper is None else f"{t.ratio_paper:.4g}"))
        out.append(("(30) printed, L̄² norm / exact", "perm1-heterogeneous, (23)", f"γ={g}",
                    "n/a" if t.ratio_paper_printed_norm is None else f"{t.ratio_paper_printed_norm:.4g}"))
        out.append(("(30) corrected / exact", "perm1-heterogeneous, (23)", f"γ={g}", f"{t.ratio_corrected:.4g}"))
        if t.ratio_neighbourhood_paper:
            out.append(("(30) neighbourhood printed / exact limit", "perm1-heterogeneous, (23)", f"γ={g}",
                        f"{t.ratio_neighbourhood_paper:.4g}"))
        out.append(("(30) neighbourhood corrected / exact limit", "perm1-heterogeneous, (23)", f"γ={g}",
                    f"{t.ratio_neighbourhood_corrected:.4g}"))
    mr = mean_recursion(p, sk, 0.5, 30)
    out.append(("(28) closed-form mean / exact mean", "perm1-heterogeneous, (23)", "γ=0.5", f"{mr.ratio:.6g}"))
    return out


def main() -> int:
    print("| bound | instance, sketch | setting | bound ÷ exact |")
    print("|---|---|---|---|")
    for r in rows():
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
