"""Notebooks: stored without outputs, in sync with their jupytext percent scripts, and failing when a
lemma's constant is perturbed in the library. (They are executed by nbmake: ``pytest`` collects
``notebooks/*.ipynb`` through ``--nbmake`` in pyproject.toml.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_per_part_of_the_paper():
    names = {p.stem for p in NOTEBOOKS}
    assert len(names) >= 7, names


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{nb_path.name}: strip outputs"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_script_in_sync(nb_path):
    script = nb_path.with_suffix(".py")
    assert script.exists(), f"missing paired script {script.name}"
    a = jupytext.read(nb_path)
    b = jupytext.read(script)
    src = [(c.cell_type, c.source.strip()) for c in a.cells]
    dst = [(c.cell_type, c.source.strip()) for c in b.cells]
    assert src == dst, f"{nb_path.name} and {script.name} differ: run `jupytext --sync {script}`"


def _run_with_package(nb_path: Path, package_root: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(nb_path, as_version=4)
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(package_root) + (os.pathsep + env_before if env_before else "")
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(nb_path.parent)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before


@pytest.mark.skipif(not (ROOT / "notebooks" / "03_preconditioning.ipynb").exists(), reason="notebook not written")
def test_perturbing_a_lemma_constant_breaks_its_notebook(tmp_path):
    """Change the scale of the preconditioned sketch (23) from √n to n in a copy of the library:
    the §3.1.2 notebook (E[B̄] = I, θ = 1, one-step convergence) must fail; the unperturbed copy passes."""
    from nbclient.exceptions import CellExecutionError

    nb_path = ROOT / "notebooks" / "03_preconditioning.ipynb"
    good = tmp_path / "good"
    shutil.copytree(ROOT / "isttheory", good / "isttheory")
    _run_with_package(nb_path, good)  # the copy itself works

    bad = tmp_path / "bad"
    shutil.copytree(ROOT / "isttheory", bad / "isttheory")
    mod = bad / "isttheory" / "sketches" / "precond.py"
    text = mod.read_text()
    assert "return divide(sqrt(n), sqrt(L_jj))" in text  # scale_23, the one home of (23)'s scale
    mod.write_text(text.replace("return divide(sqrt(n), sqrt(L_jj))", "return divide(n, sqrt(L_jj))"))
    with pytest.raises(CellExecutionError):
        _run_with_package(nb_path, bad)


@pytest.mark.skipif(not (ROOT / "notebooks" / "08_sweeps.ipynb").exists(), reason="notebook not written")
def test_the_paper_norm_of_h_breaks_the_sweep_notebook(tmp_path):
    """Measure ‖h‖² in the L̄² norm printed in the paper (ERRATA thm2-norm) in a copy of the library:
    notebook 08's check of the corrected Theorem 2 limit on every sweep cell must fail (its Dask
    workers import the copy too); the unperturbed copy passes."""
    from nbclient.exceptions import CellExecutionError

    nb_path = ROOT / "notebooks" / "08_sweeps.ipynb"
    good = tmp_path / "good"
    shutil.copytree(ROOT / "isttheory", good / "isttheory")
    _run_with_package(nb_path, good)

    bad = tmp_path / "bad"
    shutil.copytree(ROOT / "isttheory", bad / "isttheory")
    mod = bad / "isttheory" / "summary.py"
    text = mod.read_text()
    right = 'out["h_norm2_L"] = float(mo.h @ problem.L_bar @ mo.h)'
    assert right in text
    mod.write_text(text.replace(right, 'out["h_norm2_L"] = float(mo.h @ problem.L_bar @ problem.L_bar @ mo.h)'))
    with pytest.raises(CellExecutionError):
        _run_with_package(nb_path, bad)


SEC41_HEADING = "### The registered claim `sec41-bias-vanishes`"


def _imports_and_section(nb_path: Path, heading: str, out: Path) -> Path:
    """A copy of ``nb_path`` with only its first code cell (the imports) and the section that starts at the
    markdown cell ``heading`` and runs to the next ``## `` heading: the mutation run executes just that."""
    nb = nbformat.read(nb_path, as_version=4)
    start = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith(heading)]
    assert len(start) == 1, f"{nb_path.name}: no single section {heading!r}"
    end = next((i for i in range(start[0] + 1, len(nb.cells))
                if nb.cells[i].cell_type == "markdown" and nb.cells[i].source.startswith("## ")), len(nb.cells))
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    nb.cells = [first_code, *nb.cells[start[0]:end]]
    nbformat.write(nb, out)
    return out


_H = "return np.asarray(quantities.bias(self.problem.x_star, self.x_inf), dtype=float)"
_X_INF = "return np.asarray(quantities.fixed_point(EB, self.expected_Cb, lambda M, v: M.solve(v)), dtype=float)"
SEC41_MUTANTS = {
    # StructuredMoments.h (27) decays like x*/n: the relative bias vanishes and the claim verifies
    "bias-like-1-over-n": (_H, "return np.asarray(self.problem.x_star, dtype=float) / self.problem.n",
                           "sec41-bias-vanishes: expected REFUTED, got VERIFIED"),
    # StructuredMoments.x_inf (28) twice too large: the 1/sqrt(n) bound breaks
    "x-inf-doubled": (_X_INF, "return 2 * " + _X_INF.removeprefix("return "),
                      "sec41-bias-vanishes: x_inf-bound REFUTED"),
}


@pytest.mark.skipif(not (ROOT / "notebooks" / "04_bias_and_fixed_point.ipynb").exists(), reason="notebook not written")
def test_a_wrong_structured_bias_breaks_the_sec41_section(tmp_path):
    """Perturb the structured engine the claim ``sec41-bias-vanishes`` reads, in copies of the library: with
    ``h`` (27) decaying like ``x*/n`` the relative bias vanishes and the claim verifies; with ``x^∞`` (28) doubled
    its ``1/√n`` bound breaks. Notebook 04's section on that claim must fail on its own assertion for each; the
    unperturbed copy passes. (Only the imports and that section are executed.)"""
    from nbclient.exceptions import CellExecutionError

    nb_path = ROOT / "notebooks" / "04_bias_and_fixed_point.ipynb"
    section = _imports_and_section(nb_path, SEC41_HEADING, tmp_path / "nb04_sec41.ipynb")
    good = tmp_path / "good"
    shutil.copytree(ROOT / "isttheory", good / "isttheory")
    _run_with_package(section, good)  # the copy itself works

    for name, (right, wrong, message) in SEC41_MUTANTS.items():
        bad = tmp_path / name
        shutil.copytree(ROOT / "isttheory", bad / "isttheory")
        mod = bad / "isttheory" / "structured_theory.py"
        text = mod.read_text()
        assert text.count(right) == 1, f"structured_theory.py changed: update {name}"
        mod.write_text(text.replace(right, wrong))
        with pytest.raises(CellExecutionError, match=message):
            _run_with_package(section, bad)


NETWORK_BRIDGE_HEADING = "## 1. The exact bridge"
_SCALE = "s = float(n) if scale is None else check_step_size(scale)"
_B = 'B = np.einsum("nmj,nm,nmc->njc", Phi, w, data.Y)'
NETWORK_MUTANTS = {
    # the client step without the Perm-q scale: the hidden output scaled by 1 instead of n
    "hidden-output-unscaled": ("train.py", _SCALE, "s = 1.0 if scale is None else check_step_size(scale)",
                               "bridge iterates differ at t = 1"),
    # the bridge's b_i = Φ_iᵀY_i/m_i off by a factor 2
    "b-doubled": ("bridge.py", _B, "B = 2 * " + _B.removeprefix("B = "), "bridge iterates differ at t = 1"),
}


@pytest.mark.skipif(not (ROOT / "notebooks" / "10_network.ipynb").exists(), reason="notebook not written")
def test_perturbing_the_network_step_or_bridge_breaks_its_notebook(tmp_path):
    """Perturb the network in copies of the library: the client step with the hidden output scaled by 1 instead of
    ``n`` (train.py), or the bridge's ``b_i`` doubled (bridge.py). Notebook 10's bridge section must fail on its own
    assertion for each; the unperturbed copy passes. (Only the imports and that section are executed.)"""
    from nbclient.exceptions import CellExecutionError

    nb_path = ROOT / "notebooks" / "10_network.ipynb"
    section = _imports_and_section(nb_path, NETWORK_BRIDGE_HEADING, tmp_path / "nb10_bridge.ipynb")
    good = tmp_path / "good"
    shutil.copytree(ROOT / "isttheory", good / "isttheory")
    _run_with_package(section, good)  # the copy itself works

    for name, (module, right, wrong, message) in NETWORK_MUTANTS.items():
        bad = tmp_path / name
        shutil.copytree(ROOT / "isttheory", bad / "isttheory")
        mod = bad / "isttheory" / "network" / module
        text = mod.read_text()
        assert text.count(right) == 1, f"network/{module} changed: update {name}"
        mod.write_text(text.replace(right, wrong))
        with pytest.raises(CellExecutionError, match=message):
            _run_with_package(section, bad)
