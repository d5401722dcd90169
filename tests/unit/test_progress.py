"""probmodel.progress: plain lines every interval in a log, ETA, quiet, terminal bar."""

import io
from pathlib import Path

from probmodel.progress import Progress, progress

PRIORS = Path(__file__).resolve().parents[2] / "priors"


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_log_mode_writes_a_line_per_interval_with_eta():
    clock, out = FakeClock(), io.StringIO()
    with progress(1_000_000, "sampling", unit="draws", stream=out, clock=clock) as update:
        for k in range(1, 11):  # 10 updates, 4 s apart: lines at 12 s, 24 s, 36 s
            clock.t += 4.0
            update(k * 100_000)
    lines = out.getvalue().splitlines()
    assert lines == [
        "sampling: 300,000/1,000,000 draws (30%), 12 s elapsed, ETA 28 s",
        "sampling: 600,000/1,000,000 draws (60%), 24 s elapsed, ETA 16 s",
        "sampling: 900,000/1,000,000 draws (90%), 36 s elapsed, ETA 4 s",
        "sampling: done, 1,000,000 draws in 40 s",
    ]


def test_short_jobs_stay_silent_in_a_log():
    clock, out = FakeClock(), io.StringIO()
    with progress(1000, "sampling", unit="draws", stream=out, clock=clock) as update:
        clock.t += 3.0
        update(1000)
    assert out.getvalue() == ""


def test_unknown_total_and_phases():
    clock, out = FakeClock(), io.StringIO()
    with progress(None, "sampling until precise", unit="draws", stream=out,
                  clock=clock, interval=5.0) as update:
        clock.t += 6.0
        update(2_000_000)
        update.phase("chain 1 sampling", 1000)
        clock.t += 70.0
        update(500)
    assert out.getvalue().splitlines() == [
        "sampling until precise: 2,000,000 draws, 6 s elapsed",
        "chain 1 sampling: 500/1,000 draws (50%), 1 min 10 s elapsed, ETA 1 min 10 s",
        "chain 1 sampling: done, 500 draws in 1 min 10 s",
    ]


def test_quiet_writes_nothing_in_either_mode():
    for terminal in (False, True):
        clock, out = FakeClock(), io.StringIO()
        with progress(10, "x", quiet=True, stream=out, clock=clock,
                      terminal=terminal) as update:
            clock.t += 100
            update(5)
        assert out.getvalue() == ""


def test_terminal_mode_draws_a_rich_bar_and_clears_it():
    out = io.StringIO()
    with Progress(100, "sampling", unit="draws", stream=out, terminal=True) as update:
        update(50)
        assert update._bar is not None
        assert update._bar.tasks[0].completed == 50
        assert update._bar.tasks[0].total == 100
    assert update._bar is None


def test_mode_follows_the_stream():
    assert Progress(1, stream=io.StringIO()).terminal is False


def test_heartbeat_keeps_a_log_alive_while_the_engine_is_silent():
    import time

    out = io.StringIO()
    with progress(100, "compiling", unit="steps", stream=out, interval=0.5) as update:
        time.sleep(2.4)  # no update: the heartbeat (at least 1 s apart) writes the lines
        update(40)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("compiling: 0/100 steps (0%), ")
    assert 2 <= len(lines) <= 4
    assert lines[-1].startswith("compiling: done, 40 steps in ")


def test_note_follows_the_count_and_a_new_phase_clears_it():
    clock, out = FakeClock(), io.StringIO()
    with progress(None, "sampling until precise", unit="draws", stream=out, clock=clock,
                  interval=5.0) as update:
        # the engine's order: the count, then the status it computed from those draws
        clock.t += 6.0
        update(1_048_576)
        update.note("MCSE of P(profit > 0) 0.0031; target 0.002")  # a line not yet due
        clock.t += 6.0
        update.note("MCSE of P(profit > 0) 0.0022; target 0.002")  # due: a line
        update.phase("summarising", None)
        clock.t += 6.0
        update(0)
    assert out.getvalue().splitlines() == [
        "sampling until precise: 1,048,576 draws, 6 s elapsed",
        "sampling until precise: 1,048,576 draws, 12 s elapsed, MCSE of P(profit > 0) "
        "0.0022; target 0.002",
        "summarising: 0 draws, 6 s elapsed",
        "summarising: done in 6 s",
    ]


def _log():
    out = io.StringIO()
    return out, Progress(None, "sampling", unit="draws", stream=out, interval=0.0)


def test_precision_run_shows_the_current_mcse_against_the_target(tmp_path):
    from probmodel import api

    sc = api.load_scenario(PRIORS / "deepseek-adjusted.toml")
    out, update = _log()
    with update:
        api.run(sc, draws=1000, seed=1, out=tmp_path / "r", progress=update, precision=0.05)
    lines = out.getvalue().splitlines()
    assert any("MCSE of P(profit > 0)" in ln and "target 0.05" in ln for ln in lines), lines


def test_stress_reports_its_summaries_after_sampling():
    from probmodel import api
    from probmodel.analysis import stress as st
    from probmodel.model import plan

    sc = api.load_scenario(PRIORS / "deepseek-adjusted.toml")
    outputs = [n.name for n in plan(set(sc.parameters) | {"prices"})]
    bands = [st.parse_band("pay_rate=0:10", list(sc.uncertain), list(sc.fixed), outputs)]
    out, update = _log()
    with update:
        update.phase("sampling", 4000)
        st.run(sc, bands, 4000, 0, progress=update)
    lines = out.getvalue().splitlines()
    assert any(ln.startswith("sampling: 4,000/4,000 draws (100%)") for ln in lines), lines
    assert lines[-1].startswith("summarising the base and 1 stressed case: done in ")


def test_sweep_counts_cell_draws_block_by_block_then_summarises():
    from probmodel import api
    from probmodel.analysis import sweep as sw
    from probmodel.analysis.grid import parse_grid

    sc = api.load_scenario(PRIORS / "deepseek-adjusted.toml")
    g = parse_grid([f"pay_rate={','.join(str(0.1 + i / 400) for i in range(130))}"])
    assert g.n_cells == 130  # 3 blocks of at most 64 cells
    seen = []
    sw.sweep(sc, g, "profit", 1000, 0, progress=seen.append)
    assert seen == sorted(seen)
    assert len(seen) == 3  # one count per block of cells, not one at the end
    assert seen[-1] == 1000 * 130  # cell-draws: the whole grid's


def test_project_reports_its_summaries_after_sampling():
    from probmodel import api
    from probmodel.analysis import projection as pj

    sc = api.load_scenario(PRIORS / "agents-h20-2025-2030.toml")
    out, update = _log()
    with update:
        update.phase("projecting", 2000)
        pj.project(sc, 2000, 0, progress=update)
    lines = out.getvalue().splitlines()
    assert any(ln.startswith("projecting: 2,000/2,000") for ln in lines), lines
    assert lines[-1].startswith("summarising "), lines
