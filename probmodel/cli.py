"""Command line: the typer app, shared options and helpers, check and point.

The other commands live in :mod:`probmodel.commands`; they and this module alone print.

Every error a user can cause (bad file, bad flag, unknown name, existing --out) is
printed as one line per problem and exits with status 2; no traceback.

Start-up: importing this module loads typer, rich and nothing of the engine; each
command imports what it needs when it runs (``check`` and ``point`` never import JAX,
xarray, pandas or scipy.stats), and the commands of :mod:`probmodel.commands` are
imported only when the command line names one of them or asks for the command list.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="probmodel: the DeepSeek V3/R1 serving economics as a probabilistic model.",
    epilog="Exit status: 0 success; 2 bad input or option (one located line per problem); "
    "3 calibrate: diagnostics failed (run folder kept as evidence); "
    "4 a run whose output draws include NaN or infinities (no summary; the line names "
    "each output and its count); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).",
)
out = Console(highlight=False, soft_wrap=True)
if not out.is_terminal:  # piped or captured: wide enough that tables never wrap
    out = Console(highlight=False, soft_wrap=True, width=160)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Fix a parameter: NAME=VALUE; or change its law: NAME.KEY=VALUE "
    "(pay_rate.p95=0.7, pay_rate.point=0.4) or 'NAME=Family(a, b)' (pay_rate=Beta(2, 5)); "
    "repeatable.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
DrawsOpt = Annotated[int, typer.Option("--draws", "-n", help="Number of Monte Carlo draws.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same answer).")]
PrecisionOpt = Annotated[float | None, typer.Option(
    "--precision", help="Draw until the MCSE of P(profit > 0) and the relative MCSE of the "
    "key outputs' quantiles are at most this (e.g. 0.001); --draws is then the minimum.",
    show_default=False)]
KeepDrawsOpt = Annotated[bool, typer.Option(
    "--keep-draws", help="Keep every draw in draws.nc (default: all up to ~1e6, an evenly "
    "thinned subset beyond).")]
EventOpt = Annotated[list[str] | None, typer.Option(
    "--event", help="Also report P(event) ± MCSE, e.g. 'margin > 20%' or "
    "'profit < -50k' (OUTPUT OP X, X as the tables print it; repeatable).",
    show_default=False)]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write the run folder here (must not exist) instead of under runs/.",
    show_default=False)]


def print_json(data) -> None:
    """Print ``data`` as JSON on stdout: NaN and infinities become null (never invalid JSON)."""
    from probmodel.runs import clean

    out.print_json(json.dumps(clean(data), allow_nan=False, default=float))


def _version(value: bool) -> None:
    if value:
        from probmodel import __version__

        out.print(f"probmodel {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """probmodel: the DeepSeek V3/R1 serving economics as a probabilistic model."""


def load(path: Path, sets: list[str] | None):
    """Read and validate a scenario file and apply ``--set NAME=VALUE`` overrides.

    Imports only the scenario package (no JAX), so that a bad file or flag is reported
    at once; every command calls it before importing the engine.
    """
    from probmodel.errors import ScenarioError, file_label

    try:
        exists = Path(path).exists()
    except OSError as e:  # a name too long for the file system, ...
        raise ScenarioError([(str(path), "", f"cannot read: {e.strerror or e}")]) from None
    if not exists:  # the commonest mistake, answered before any import
        raise ScenarioError([(file_label(path), "", "a symbolic link that leads nowhere "
                              "(a loop or a missing target)" if Path(path).is_symlink()
                              else "no such file")])
    from probmodel.spec import parse_overrides, read_scenario

    overrides = parse_overrides(sets or [])
    sc = read_scenario(path)
    if not overrides:
        return sc
    import warnings

    from probmodel.errors import InputWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        sc = sc.with_overrides(overrides)
    for w in caught:
        if issubclass(w.category, InputWarning):
            from probmodel.errors import clip

            err.print(f"warning: {clip(str(w.message))}", markup=False)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return sc


@app.command()
def check(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Validate a scenario and show what the engine will sample for each parameter."""
    sc = load(scenario, set_)
    from probmodel import distributions as dists
    from probmodel import fmt
    from probmodel.errors import ScenarioError
    from probmodel.spec import check_observations

    problems = check_observations(sc)  # located errors: observations the model cannot use
    if problems:
        raise ScenarioError(problems)
    obs = tuple(sc.observations.values())
    out.print(f"[bold]{sc.title}[/bold]  ({' <- '.join(str(p) for p in sc.files)})")
    t = Table(title="Uncertain parameters", title_justify="left")
    for col in ("name", "family", "native parameters", "p05", "p50", "p95", "point", "unit"):
        t.add_column(col, justify="right" if col in ("p05", "p50", "p95", "point") else "left")
    for name, p in sc.uncertain.items():
        q = dists.quantile(p.dist, p.params, [0.05, 0.5, 0.95])
        native = ", ".join(f"{k}={fmt.number(v, 4)}" for k, v in p.params.items())
        t.add_row(name, p.dist, native, *(fmt.number(float(v), 4) for v in q),
                  fmt.number(p.point, 4), p.unit)
    out.print(t)
    f = Table(title="Fixed parameters", title_justify="left")
    for col in ("name", "value", "unit", "source"):
        f.add_column(col)
    for name, p in sc.fixed.items():
        f.add_row(name, fmt.number(p.point, 6), p.unit, p.source)
    out.print(f)
    if sc.prices is not None:
        out.print(f"prices: table of {sc.prices.size} entries ({sc.prices_meta.get('unit', '')})")
    if obs:
        out.print(f"observations ({len(obs)}): " + ", ".join(
            f"{o.name} = {o.value:g} ({o.kind}, {o.noise_text()})" for o in obs))
    if sc.correlations:
        names, matrix = sc.correlation_matrix()
        c = Table(title="Rank correlations (Spearman; 0 where none is given)",
                  title_justify="left")
        c.add_column("")
        for n in names:
            c.add_column(n, justify="right")
        for n, row in zip(names, matrix, strict=True):
            c.add_row(n, *(f"{v:+.2f}" if i != j else "1" for j, v in enumerate(row)
                           for i in [names.index(n)]))
        out.print(c)
    if sc.projection is not None:
        p = sc.projection
        out.print(f"projection: {p.years[0]}-{p.years[-1]}, growth of "
                  f"{', '.join(law.name for law in p.laws)}")
    out.print(f"OK: {len(sc.uncertain)} uncertain, {len(sc.fixed)} fixed parameters"
              + (f", {len(sc.correlations)} rank correlation"
                 f"{'s' if len(sc.correlations) > 1 else ''}" if sc.correlations else ""))


@app.command()
def point(scenario: ScenarioArg, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """Evaluate every equation with each parameter at its point value (the report's)."""
    sc = load(scenario, set_)
    from probmodel import checks, fmt
    from probmodel.model import evaluate_point, unit_of

    checks.check_weights_fit(sc)
    values = evaluate_point(sc.point_values())  # float64 NumPy: no JAX needed
    if json_:
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:  # JSON has no NaN or infinity: null, and a line saying which
            err.print(f"warning: {', '.join(bad)}: not finite (NaN or infinite) at the "
                      "point values; null in the JSON", markup=False)
        print_json(values)
        return
    t = Table(title=f"{sc.title}: point values", title_justify="left")
    for col in ("name", "value", "unit", "shown as"):
        t.add_column(col, justify="right" if col in ("value", "shown as") else "left")
    for name, v in values.items():
        t.add_row(name, f"{v:.6g}", unit_of(name) or sc.parameters[name].unit,
                  f"{fmt.show(name, v, 4)} {fmt.scale_for(name)[1]}")
    out.print(t)


PosteriorOpt = Annotated[Path | None, typer.Option(
    "--posterior", help="Draw the parameters a `probmodel calibrate` run inferred from its "
    "posterior (jointly); the rest from the file's priors.", show_default=False)]


QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress output (a bar on a terminal, a line every ~10 s in "
    "a log).")]
ReportOpt = Annotated[bool, typer.Option(
    "--report", help="Also write report.html (a self-contained HTML report) into the run "
    "folder.")]


def write_report(run_dir: Path, report: bool, json_: bool = False) -> Path | None:
    """The ``--report`` hook: write ``report.html`` into a complete run folder.

    The line naming the report goes to stdout, or to stderr under ``--json`` (stdout
    then holds the JSON alone).
    """
    if not report:
        return None
    from probmodel.report import write_report as write

    path = write(run_dir)
    (err if json_ else out).print(f"report: {path}", markup=False)
    return path


#: Commands defined in this module; any other command (or the command list) needs
#: the modules of probmodel/commands/, which register themselves on `app` on import.
OWN_COMMANDS = ("check", "point")


def load_commands(argv: list[str] | None = None) -> None:
    """Import probmodel.commands unless ``argv`` names a command of this module."""
    args = sys.argv[1:] if argv is None else argv
    first = next((a for a in args if not a.startswith("-")), None)
    if first in OWN_COMMANDS or (first is None and "--version" in args):
        return
    import probmodel.commands  # noqa: F401


_signals: list[int] = []  # SIGTERM received (typer turns the interrupt into exit 130)
_deferred: list[int] = []  # signals received while the helper process is being stopped
_DEFER = False


def _writing():
    """The runs module when it is writing a run folder or a file now, else None."""
    runs = sys.modules.get("probmodel.runs")
    return runs if runs is not None and getattr(runs, "WRITING", 0) else None


def _on_signal(signum, frame) -> None:
    """Ctrl-C or SIGTERM: end at once with one line, unless a run folder is being written.

    Most of a command's time is spent importing JAX, compiling or sampling, inside
    native code, where an exception raised at a random point can surface as a
    traceback from a finaliser or crash the interpreter's teardown; nothing is on disk
    then, so the process simply ends. While a run folder is being written the signal
    is recorded and raised, so that the partial folder is removed on the way out; the
    record makes the writer raise it again at its next step if the exception lands in
    a finaliser that swallows it ("Exception ignored in ...").
    """
    import signal

    if signum == signal.SIGTERM:
        _signals.append(signum)
    if _DEFER:  # stopping the helper process at the end: the exit status says it
        _deferred.append(signum)
        return
    runs = _writing()
    if runs is None:
        _exit_now(_interrupted())
    runs.INTERRUPTED.append(signum)
    raise runs.interrupt_exception(signum)


def _interrupted(e: BaseException | None = None) -> int:
    """The one-line message of Ctrl-C (exit 130) or SIGTERM (exit 143)."""
    runs = sys.modules.get("probmodel.runs")
    done = list(getattr(runs, "WRITTEN", [])) if runs is not None else []
    what = (f"the run folder {done[-1]} was complete before it" if done
            else "no run folder was written")
    if _signals:
        err.print(f"error: terminated (SIGTERM); {what}", markup=False)
        return 143
    err.print(f"error: interrupted; {what}", markup=False)
    return 130


def main(argv: list[str] | None = None, *, last: bool = False) -> int:
    """Entry point: run the app; turn user errors into one-line messages.

    Exit status: 0 success, 2 bad input or option, 4 a run with non-finite draws
    (NaN or infinite: no summary), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    SIGTERM is handled like Ctrl-C: a run folder being written is removed. ``last``:
    the process ends after this call (the console script), so the figure process is
    stopped here, where a signal is still answered with its line and exit status.
    """
    import signal

    _signals.clear()
    _deferred.clear()
    runs = sys.modules.get("probmodel.runs")
    if runs is not None:
        runs.INTERRUPTED.clear()
        runs.WRITTEN.clear()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = (signal.signal(signal.SIGTERM, _on_signal),
                    signal.signal(signal.SIGINT, _on_signal))
    hook = sys.unraisablehook
    sys.unraisablehook = _quiet_interrupts(hook)
    try:
        rc = _main(argv)
        if last and previous is not None:  # the process ends next: stop its helpers
            rc = _stop_helpers(rc)
        return rc
    finally:
        sys.unraisablehook = hook
        if previous is not None:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])


def _quiet_interrupts(hook):
    """``sys.unraisablehook`` that keeps our own interrupt out of "Exception ignored in".

    A signal's exception raised while a finaliser or a garbage-collector callback runs
    is swallowed by Python; the writer raises it again at its next step (see
    probmodel.runs.INTERRUPTED), so the message would only be noise.
    """

    def quiet(unraisable) -> None:
        runs = sys.modules.get("probmodel.runs")
        if (isinstance(unraisable.exc_value, KeyboardInterrupt) and runs is not None
                and runs.INTERRUPTED):
            return
        hook(unraisable)

    return quiet


def _stop_helpers(rc: int) -> int:
    """Stop the figure process now (not in an atexit hook, where a signal is swallowed).

    A signal received meanwhile is recorded, and turns the exit status into 130 or 143
    with its line.
    """
    global _DEFER
    render = sys.modules.get("probmodel.plots.render")
    if render is None:
        return rc
    _DEFER = True
    try:
        render.stop()
    finally:
        _DEFER = False
    if _deferred and rc not in (130, 143):
        _deferred.clear()
        return _interrupted()
    return rc


def _main(argv: list[str] | None) -> int:
    from probmodel.errors import ProbmodelError, ScenarioError, clip

    try:
        load_commands(argv)
        rv = app(args=argv, standalone_mode=False, prog_name="probmodel")
        if rv == 130:  # typer turns Ctrl-C (and our SIGTERM) into exit status 130
            return _interrupted()
        return rv if isinstance(rv, int) else 0
    except ScenarioError as e:
        for line in e.lines():
            err.print(f"error: {clip(line)}", markup=False)
        return e.exit_code
    except ProbmodelError as e:
        err.print(f"error: {clip(str(e))}", markup=False)
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt) as e:
        return _interrupted(e)
    except OSError as e:  # a path the user named that the system refuses (too long, ...)
        where = f"{e.filename}: " if e.filename else ""
        err.print(clip(f"error: {where}{e.strerror or e}"), markup=False)
        return 2
    except typer.Exit as e:
        return e.exit_code
    except typer.TyperException as e:
        # Usage errors (bad flag, missing argument, unknown command): one line, exit 2.
        ctx = getattr(e, "ctx", None)
        if type(e).__name__ == "NoArgsIsHelpError":
            err.print(e.format_message(), markup=False)
            return 2
        cmd = ctx.command_path if ctx is not None else "probmodel"
        msg = " ".join(e.format_message().split())
        err.print(f"error: {cmd}: {clip(msg)}", markup=False)
        return 2


def entry() -> None:
    """Console-script entry point.

    After an interrupt the process ends at once (``os._exit``, streams flushed): an
    interrupt can land inside JAX's import or a compilation, and the interpreter's normal
    teardown of a half-initialised native library can then crash (seen as SIGSEGV, with
    the message lost). Nothing is left to write by then: a partial run folder was
    already removed on the way out.
    """
    rc = main(last=True)
    if rc in (130, 143):
        _exit_now(rc)
    sys.exit(rc)


def _exit_now(rc: int) -> None:
    import os

    render = sys.modules.get("probmodel.plots.render")
    if render is not None:  # never leave the figure process behind
        render.kill()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(rc)


if __name__ == "__main__":
    entry()
