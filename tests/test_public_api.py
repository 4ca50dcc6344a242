"""``isttheory/__init__.py``: a complete ``__all__``, resolved lazily (PEP 562), so that ``import isttheory``
(done by pytest for the plugin's entry point) stays light."""

from __future__ import annotations

import subprocess
import sys

import isttheory

HEAVY = ("numpy", "scipy", "sympy", "cvxpy", "matplotlib", "dask", "distributed")


def test_import_isttheory_loads_no_numerical_library():
    code = ("import sys, isttheory; heavy = [m for m in " + repr(HEAVY) + " if m in sys.modules]; "
            "print(','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"import isttheory loaded {proc.stdout.strip()}"


def test_every_name_in_all_resolves_and_the_areas_are_covered():
    for name in isttheory.__all__:
        assert getattr(isttheory, name) is not None, name
    wanted = {"QuadraticProblem", "LowRankDiagonalProblem", "read_problem", "generators", "sketches", "Permutation",
              "parse_sketch", "simulate", "ExactDynamics", "SketchMoments", "constants", "theta_star", "Lemma",
              "claims", "Claim", "register", "ISTError"}
    assert wanted <= set(isttheory.__all__)
    assert len(set(isttheory.__all__)) == len(isttheory.__all__)
    assert set(isttheory.__all__) == {"ISTError", "__version__", *isttheory._LAZY}
    assert set(isttheory.__all__) <= set(dir(isttheory))


def test_simulate_is_the_same_callable_module_whichever_is_imported_first():
    """``import isttheory.simulate`` binds the submodule to the package name; it still runs a simulation."""
    code = ("import isttheory.simulate, isttheory; from isttheory import generators, Permutation; "
            "p = generators.heterogeneous(2, 2, seed=0); "
            "r = isttheory.simulate(p, Permutation(2, 2), 0.1, 3); "
            "assert isttheory.simulate is __import__('sys').modules['isttheory.simulate']; print(type(r).__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "SimulationResult", proc.stderr


def test_unknown_attribute_is_an_attribute_error():
    try:
        isttheory.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("no AttributeError")


def test_lazy_simulate_then_submodule_import_agree():
    code = ("import isttheory; f = isttheory.simulate; import isttheory.simulate as m; "
            "from isttheory import simulate as g; assert f is m is g and callable(f) and hasattr(m, 'estimate_bytes')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
