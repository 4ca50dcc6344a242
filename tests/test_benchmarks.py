"""The benchmark scripts run (tiny sizes) and their fast paths agree with the oracle."""

from benchmarks import simulate as bench


def test_simulate_benchmark_quick(capsys):
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "speedup" in out and "Perm-1" in out


def test_benchmark_case_agrees_with_oracle():
    c = bench.case("t", 8, 16, 4, 5, 2, 3, 1)
    assert c["max_err"] < 1e-12 and c["speedup"] > 0


def test_run_all_quick_writes_benchmarks_md(tmp_path):
    from benchmarks import run_all

    out = tmp_path / "B.md"
    assert run_all.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    for heading in ("dense oracle", "whole simulate command",
                    "Python loop", "bandwidth", "Scale", "second-moment dynamics", "SDP",
                    "verify --fast", "Sweep", "certified counterexample", "instances per second",
                    "whole `network` command"):
        assert heading in text


def test_whole_command_benchmark_agrees_with_the_dense_simulator():
    """The CLI process and benchmarks/dense_simulator.py run the same draws: final means agree (asserted inside)."""
    w = bench.whole_command(8, 8, 3, 6, 1)
    assert w["max_rel_diff"] <= bench.WHOLE_RTOL and w["cli_s"] > 0 and w["dense_s"] > 0
