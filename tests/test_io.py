"""Problem files (isttheory.io): round trips, hostile input, atomic writes, CLI vectors.

Every failure of reading must be an ``ISTError`` (ProblemFileError or a
ProblemError subclass) with a one-line message, never anything else.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isttheory import generators
from isttheory import io as pio
from isttheory.errors import ISTError, NonFiniteError, ProblemError, ProblemFileError, ShapeError
from isttheory.io import ProblemFile, parse_vector, problem_from_dict, read_problem, write_problem

# --------------------------------------------------------------------------- helpers

_UNPICKLED: list[str] = []


def _mark_unpickled(tag: str) -> str:
    """Called only if a pickle written by :class:`_Sentinel` is ever loaded."""
    _UNPICKLED.append(tag)
    return tag


class _Sentinel:
    def __reduce__(self):
        return (_mark_unpickled, ("unpickled",))


def _problem(n=3, d=4, seed=0):
    return generators.heterogeneous(n, d, 0.5, seed=seed)


def _write_json_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _valid_dict(n=2, d=2):
    return {"L": np.stack([np.eye(d)] * n).tolist(), "b": np.ones((n, d)).tolist()}


def _assert_one_line_ist_error(exc_info):
    assert isinstance(exc_info.value, ISTError)
    msg = str(exc_info.value)
    assert msg and "\n" not in msg


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("suffix", [".json", ".npz", ".NPZ", ".txt"])
@pytest.mark.parametrize("with_x0", [False, True])
def test_round_trip(tmp_path, suffix, with_x0):
    p = _problem()
    x0 = np.array([0.5, -1.25, 3.0, 1e-300]) if with_x0 else None
    path = tmp_path / f"prob{suffix}"
    write_problem(path, p, x0)
    raw = path.read_bytes()
    assert raw.startswith(b"PK") == (suffix.lower() == ".npz")
    pf = read_problem(path)
    assert isinstance(pf, ProblemFile)
    np.testing.assert_array_equal(pf.problem.L, p.L)  # exact: JSON float repr round-trips
    np.testing.assert_array_equal(pf.problem.b, p.b)
    if with_x0:
        np.testing.assert_array_equal(pf.x0, x0)
    else:
        assert pf.x0 is None


def test_read_accepts_str_path_and_content_decides_format(tmp_path):
    p = _problem(2, 3)
    # NPZ content under a .json name is still read as NPZ
    write_problem(tmp_path / "a.npz", p)
    (tmp_path / "a.npz").rename(tmp_path / "really_npz.json")
    pf = read_problem(str(tmp_path / "really_npz.json"))
    np.testing.assert_array_equal(pf.problem.L, p.L)


def test_json_b_optional_is_zero(tmp_path):
    path = _write_json_text(tmp_path / "p.json", json.dumps({"L": [[[2.0, 0.0], [0.0, 3.0]]] * 2}))
    pf = read_problem(path)
    np.testing.assert_array_equal(pf.problem.b, np.zeros((2, 2)))
    assert pf.problem.is_interpolation and pf.x0 is None
    pf = read_problem(_write_json_text(tmp_path / "q.json", '{"L": [[[1]]], "b": null, "x0": null}'))
    np.testing.assert_array_equal(pf.problem.b, [[0.0]])
    assert pf.x0 is None


def test_npz_b_optional_is_zero(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, L=np.stack([np.eye(3)] * 2), x0=np.arange(3.0))
    pf = read_problem(path)
    np.testing.assert_array_equal(pf.problem.b, np.zeros((2, 3)))
    np.testing.assert_array_equal(pf.x0, [0.0, 1.0, 2.0])


def test_npz_integer_arrays_accepted(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, L=np.stack([2 * np.eye(2, dtype=np.int32)]), b=np.array([[1, 2]], dtype=np.int64))
    pf = read_problem(path)
    assert pf.problem.L.dtype == np.float64
    np.testing.assert_array_equal(pf.problem.b, [[1.0, 2.0]])


@pytest.mark.parametrize("x0", [[1.0], [1.0, 2.0, 3.0], [[1.0, 2.0]], 5])
def test_json_x0_length_checked(tmp_path, x0):
    data = _valid_dict() | {"x0": x0}
    with pytest.raises(ShapeError) as ei:
        read_problem(_write_json_text(tmp_path / "p.json", json.dumps(data)))
    _assert_one_line_ist_error(ei)


def test_npz_x0_length_checked(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, L=np.stack([np.eye(3)] * 2), x0=np.ones(2))
    with pytest.raises(ShapeError):
        read_problem(path)


def test_non_finite_x0_rejected(tmp_path):
    path = tmp_path / "p.npz"
    np.savez(path, L=np.stack([np.eye(2)]), x0=np.array([1.0, np.nan]))
    with pytest.raises(NonFiniteError):
        read_problem(path)
    # 1e400 parses to inf in Python's JSON decoder without any NaN/Infinity literal
    with pytest.raises(NonFiniteError):
        read_problem(_write_json_text(tmp_path / "p.json", '{"L": [[[1, 0], [0, 1]]], "x0": [1, 1e400]}'))


def test_problem_from_dict_direct():
    pf = problem_from_dict({"L": [[[4.0]]], "b": [[2.0]], "x0": [7.0]})
    assert pf.problem.x_star[0] == pytest.approx(0.5)
    np.testing.assert_array_equal(pf.x0, [7.0])
    with pytest.raises(ProblemFileError):
        problem_from_dict([[[[1.0]]]])
    with pytest.raises(ProblemFileError):
        problem_from_dict({"b": [[1.0]]})


def test_validation_errors_pass_through(tmp_path):
    bad = {"L": [[[1.0, 2.0], [0.0, 1.0]]]}
    with pytest.raises(ProblemError, match="symmetric"):
        read_problem(_write_json_text(tmp_path / "ns.json", json.dumps(bad)))
    bad = {"L": [[[1.0, 2.0], [2.0, 1.0]]]}
    with pytest.raises(ProblemError, match="semidefinite"):
        read_problem(_write_json_text(tmp_path / "np.json", json.dumps(bad)))


# --------------------------------------------------------------------------- hostile input

def _savez(path: Path, **arrays) -> Path:
    """np.savez to exactly ``path`` (np.savez appends .npz to other names)."""
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def _npz_object_array(path: Path) -> Path:
    if path.suffix == ".npz":
        np.savez(path, L=np.array([object()], dtype=object))
        return path
    return _savez(path, L=np.array([object()], dtype=object))


def _npz_truncated(path: Path) -> Path:
    _savez(path, L=np.stack([np.eye(4)] * 3), b=np.ones((3, 4)))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def _random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


def _zip_not_npz(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    return path


def _npz_bad_header(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("L.npy", b"\x93NUMPY\x01\x00garbage")
    return path


def _npz_complex(path: Path) -> Path:
    return _savez(path, L=np.eye(2, dtype=complex)[None])


def _npz_unknown(path: Path) -> Path:
    return _savez(path, L=np.eye(2)[None], zz=np.ones(2))


def _npz_no_L(path: Path) -> Path:
    return _savez(path, b=np.ones((1, 2)))


def _npz_L_2d(path: Path) -> Path:
    return _savez(path, L=np.eye(2))


def _text(s: str):
    def make(path: Path) -> Path:
        return _write_json_text(path, s)

    return make


HOSTILE = {
    "missing-file": lambda path: path.parent / "does-not-exist.json",
    "directory": lambda path: path.parent,
    "empty-file": _text(""),
    "malformed-json": _text('{"L": [[[1, 0], [0, 1]]],}'),
    "truncated-json": _text('{"L": [[[1, 0], [0, 1'),
    "unknown-keys": _text('{"L": [[[1]]], "b": [[0]], "zz": 1}'),
    "missing-L": _text('{"b": [[0]]}'),
    "non-object-list": _text("[[[1]]]"),
    "non-object-number": _text("3.5"),
    "non-object-string": _text('"L"'),
    "non-object-null": _text("null"),
    "bool-in-L": _text('{"L": [[[true]]]}'),
    "string-in-L": _text('{"L": [[["1"]]]}'),
    "null-in-L": _text('{"L": [[[null]]]}'),
    "bool-in-b": _text('{"L": [[[1]]], "b": [[false]]}'),
    "string-in-x0": _text('{"L": [[[1]]], "x0": ["a"]}'),
    "dict-in-L": _text('{"L": [[[{"a": 1}]]]}'),
    "ragged-L": _text('{"L": [[[1, 0], [0]]]}'),
    "ragged-b": _text('{"L": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]], "b": [[1, 2], [3]]}'),
    "L-wrong-ndim": _text('{"L": [[1, 0], [0, 1]]}'),
    "L-scalar": _text('{"L": 1}'),
    "L-too-deep": _text('{"L": [[[[[[1]]]]]]}'),
    "b-wrong-shape": _text('{"L": [[[1, 0], [0, 1]]], "b": [[1, 2, 3]]}'),
    "huge-int": _text('{"L": [[[' + "9" * 400 + "]]]}"),
    "NaN-literal": _text('{"L": [[[NaN]]]}'),
    "Infinity-literal": _text('{"L": [[[1]]], "b": [[Infinity]]}'),
    "minus-Infinity-literal": _text('{"L": [[[1]]], "x0": [-Infinity]}'),
    "deep-nesting": _text('{"L": ' + "[" * 100000 + "]" * 100000 + "}"),
    "not-utf8": lambda path: (path.write_bytes(b'{"L": [[[1\xff]]]}'), path)[1],
    "utf8-bom": _text('\ufeff{"L": [[[1]]]}'),
    "npz-object-array": _npz_object_array,
    "npz-truncated": _npz_truncated,
    "npz-not-npy-zip": _zip_not_npz,
    "npz-bad-header": _npz_bad_header,
    "npz-complex": _npz_complex,
    "npz-unknown-array": _npz_unknown,
    "npz-no-L": _npz_no_L,
    "npz-L-2d": _npz_L_2d,
    "zip-header-only": lambda path: (path.write_bytes(b"PK\x03\x04" + b"\0" * 26), path)[1],
    "random-bytes": _random_bytes,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_raises_ist_error(tmp_path, case):
    path = HOSTILE[case](tmp_path / "problem.bin")
    with pytest.raises(ISTError) as ei:
        read_problem(path)
    assert isinstance(ei.value, (ProblemFileError, ProblemError))
    _assert_one_line_ist_error(ei)


@pytest.mark.parametrize("content", [b"", b"garbage, not an archive", b'{"L": [[[1]]]}'])
def test_a_file_named_npz_without_a_zip_signature_is_not_a_valid_npz(tmp_path, content):
    """Was reported as "bad.npz is not valid JSON" (or read as JSON): the name says NPZ, the bytes are not."""
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ProblemFileError, match=r"bad\.npz is not a valid NPZ archive") as ei:
        read_problem(path)
    assert "JSON" not in str(ei.value)
    _assert_one_line_ist_error(ei)


def test_specific_error_classes(tmp_path):
    with pytest.raises(ProblemFileError, match="not found"):
        read_problem(tmp_path / "nope.json")
    with pytest.raises(ProblemFileError, match="directory"):
        read_problem(tmp_path)
    with pytest.raises(ProblemFileError, match="unknown keys"):
        read_problem(_write_json_text(tmp_path / "u.json", '{"L": [[[1]]], "zz": 0}'))
    with pytest.raises(ProblemFileError, match="not valid JSON"):
        read_problem(_write_json_text(tmp_path / "t.json", '{"L": [[[1'))
    with pytest.raises(ShapeError):
        read_problem(_write_json_text(tmp_path / "n.json", '{"L": [[[NaN]]]}'))
    with pytest.raises(ShapeError):
        read_problem(_write_json_text(tmp_path / "r.json", '{"L": [[[1, 0], [0]]]}'))
    with pytest.raises(ProblemFileError):
        read_problem(_npz_truncated(tmp_path / "t.npz"))


def test_npz_object_array_refused_mentions_pickle(tmp_path):
    path = _npz_object_array(tmp_path / "obj.npz")
    with pytest.raises(ProblemFileError, match="(?i)pickle"):
        read_problem(path)


def test_npz_object_array_is_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, L=np.array([_Sentinel()], dtype=object))
    _UNPICKLED.clear()
    with pytest.raises(ProblemFileError, match="(?i)pickle"):
        read_problem(path)
    assert _UNPICKLED == []
    # control: the sentinel does fire when the archive is unpickled, so the
    # assertion above can fail
    with np.load(path, allow_pickle=True) as z:
        z["L"]
    assert _UNPICKLED == ["unpickled"]
    _UNPICKLED.clear()


def test_npz_member_that_is_not_npy_raises_ist_error(tmp_path):
    path = tmp_path / "raw.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("L", b"not an npy array")
    with pytest.raises(ISTError):
        read_problem(path)


def test_npz_header_with_huge_shape_raises_ist_error(tmp_path):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1125899906842624,), }"
    header = header.ljust(117) + b"\n"  # 10-byte preamble + 118 = 128, a multiple of 64
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("L.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 64)
    with pytest.raises(ISTError):
        read_problem(path)


# --------------------------------------------------------------------------- fuzzing

_KEYS = st.sampled_from(["L", "b", "x0", "zz"])
_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(
    max_size=5
)
_JSONISH = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=40,
)


def _numbers(depth_max: int):
    """Nested lists of numbers: problem-shaped data is likelier to reach validation."""
    num = st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
    return st.recursive(num, lambda c: st.lists(c, min_size=1, max_size=3), max_leaves=30)


_PROBLEMISH = st.fixed_dictionaries({"L": _numbers(4)}, optional={"b": _numbers(3), "x0": _numbers(2)})


def _read_or_ist_error(path: Path):
    try:
        out = read_problem(path)
    except ISTError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    assert isinstance(out, ProblemFile)
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_JSONISH | _PROBLEMISH)
def test_fuzz_json_structures(tmp_path, data):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # NaN/Infinity written as literals
    _read_or_ist_error(path)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=512) | st.binary(max_size=256).map(lambda b: b"PK\x03\x04" + b))
def test_fuzz_random_bytes(tmp_path, raw):
    path = tmp_path / "fuzz.bin"
    path.write_bytes(raw)
    _read_or_ist_error(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), flip=st.integers(0, 10_000), byte=st.integers(0, 255))
def test_fuzz_damaged_files(tmp_path, cut, flip, byte):
    """Truncated or bit-damaged copies of valid JSON and NPZ files."""
    for name in ("good.json", "good.npz"):
        good = tmp_path / name
        if not good.exists():
            write_problem(good, _problem(2, 2), np.ones(2))
        raw = bytearray(good.read_bytes())
        damaged = tmp_path / ("damaged_" + name)
        damaged.write_bytes(bytes(raw[: cut % (len(raw) + 1)]))
        _read_or_ist_error(damaged)
        raw[flip % len(raw)] = byte
        damaged.write_bytes(bytes(raw))
        _read_or_ist_error(damaged)


# --------------------------------------------------------------------------- atomic writes

@pytest.mark.parametrize("name", ["p.json", "p.npz"])
def test_write_leaves_no_temp_files(tmp_path, name):
    out = tmp_path / "sub" / "dir"  # parent folders are created
    write_problem(out / name, _problem(), np.ones(4))
    write_problem(out / name, _problem(seed=1))  # overwrite in place
    assert sorted(os.listdir(out)) == [name]
    assert not [f for f in os.listdir(out) if f.startswith(".")]
    pf = read_problem(out / name)
    np.testing.assert_array_equal(pf.problem.L, _problem(seed=1).L)
    assert pf.x0 is None


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    write_problem(path, _problem(seed=0))
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(pio.os, "replace", boom)
    with pytest.raises(OSError):
        write_problem(path, _problem(seed=1))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.json"]


# --------------------------------------------------------------------------- parse_vector

def test_parse_vector_scalar_fills():
    v = parse_vector("0.5", 4)
    assert v.shape == (4,) and v.dtype == np.float64
    np.testing.assert_array_equal(v, [0.5] * 4)
    np.testing.assert_array_equal(parse_vector(" -2e-3 ", 2), [-2e-3, -2e-3])


def test_parse_vector_list():
    np.testing.assert_array_equal(parse_vector("1, 2.5,-3", 3), [1.0, 2.5, -3.0])
    np.testing.assert_array_equal(parse_vector("7", 1), [7.0])


@pytest.mark.parametrize(
    "text, d",
    [
        ("1,2", 3),
        ("1,2,3,4", 3),
        ("abc", 3),
        ("1,x,3", 3),
        ("", 3),
        ("1,,3", 3),
        ("nan", 3),
        ("1,nan,3", 3),
        ("inf", 2),
        ("1,-inf", 2),
        ("1e400", 2),
    ],
)
def test_parse_vector_errors(text, d):
    with pytest.raises(ShapeError) as ei:
        parse_vector(text, d)
    _assert_one_line_ist_error(ei)


def test_parse_vector_error_names_the_argument():
    with pytest.raises(ShapeError, match="start"):
        parse_vector("1,2", 3, name="start")


@pytest.mark.parametrize("fortran", [False, True])
def test_structured_npz_members_are_memory_mapped_with_the_same_values(tmp_path, monkeypatch, fortran):
    """Large stored members of a structured NPZ are mapped, not read (threshold lowered here): same arrays,
    read-only, and a problem equal to the one read the ordinary way."""
    p = generators.low_rank_diagonal(6, 5, 0.5, seed=2, shared_rank=2)
    path = tmp_path / "s.npz"
    D = np.asfortranarray(p.D) if fortran else np.ascontiguousarray(p.D)
    np.savez(path, D=D, b=np.asarray(p.b), V=np.asarray(p.V))
    ordinary = read_problem(path).problem
    monkeypatch.setattr(pio, "MAP_MIN_BYTES", 0)
    with np.load(path) as z:
        for k in ("D", "b", "V"):
            mapped = pio._mapped_member(path, z, k)
            assert mapped is not None and not mapped.flags.writeable
            np.testing.assert_array_equal(mapped, z[k])
            assert mapped.flags.f_contiguous == z[k].flags.f_contiguous
    fast = read_problem(path).problem
    for k in ("D", "b", "V"):
        np.testing.assert_array_equal(getattr(fast, k), getattr(ordinary, k))
    # the stored arrays are bit-identical (above); what is computed from them may differ in the last bit: SIMD
    # reductions in NumPy and BLAS take alignment-dependent paths, and a mapped member is aligned wherever the
    # zip put it (seen: 1 ulp in x* on NumPy 2.4.6). 1e-14 relative is ~50 ulp, far below any real error.
    np.testing.assert_allclose(fast.delta_bar, ordinary.delta_bar, rtol=1e-14, atol=0)
    np.testing.assert_allclose(fast.x_star, ordinary.x_star, rtol=1e-14, atol=0)


def test_memory_mapped_member_with_a_bad_crc_falls_back_to_the_ordinary_error(tmp_path, monkeypatch):
    """A flipped byte in a stored member: the CRC-32 check refuses the map and np.load reports the archive."""
    p = generators.low_rank_diagonal(4, 4, 0.5, seed=1)
    path = tmp_path / "s.npz"
    np.savez(path, D=np.asarray(p.D), b=np.asarray(p.b), V=np.asarray(p.V))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("D.npy")
    raw[info.header_offset + 30 + len("D.npy") + 128 + 3] ^= 0xFF  # a byte of D's data
    path.write_bytes(bytes(raw))
    monkeypatch.setattr(pio, "MAP_MIN_BYTES", 0)
    with pytest.raises(ProblemFileError, match="corrupt or truncated"):
        read_problem(path)
