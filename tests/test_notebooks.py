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
