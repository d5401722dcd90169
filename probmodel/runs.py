"""Run folders: the one module that writes them.

Every analysis returns its result as one ``xarray.DataTree`` (:mod:`probmodel.tree`)
and the command hands it to :func:`write` with its figures. :func:`write` gives the run
an id, writes it under a hidden temporary name next to its final place and renames it
when complete (an interrupted or failed run never leaves a folder that looks finished,
and an existing folder is never overwritten). It copies the scenario files and derives
everything else from the tree: the netCDF files (the tree's layout), every CSV and JSON
file (the kind's deriver), the figures it is given, and the manifest (the tree's
settings and provenance). No other module of probmodel calls ``to_netcdf`` or writes a
manifest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from probmodel.errors import RunError
from probmodel.spec import Scenario

if TYPE_CHECKING:  # xarray is imported by whoever made the data (keeps --out checks light)
    import xarray as xr

RUNS_DIR = Path("runs")
_PACKAGES = ("probmodel", "jax", "jaxlib", "numpyro", "arviz", "arviz-base", "arviz-stats",
             "xarray", "numpy", "scipy", "h5netcdf", "SALib")


# --------------------------------------------------------------------------- provenance


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in blocks: draws.nc can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    from importlib import metadata  # ~20 ms of imports: not on the --out check's path

    out = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def git_commit() -> str | None:
    """The probmodel source commit, when it runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                           capture_output=True, text=True, timeout=5, check=False)
    return res.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def scenario_hashes(scenario: Scenario) -> dict[str, str]:
    """SHA-256 of every file the scenario was read from."""
    return {p.name: sha256(p) for p in scenario.files}


def clean(x: Any) -> Any:
    """``x`` made JSON-safe: NaN and infinities become None, NumPy scalars Python's."""
    if isinstance(x, float):
        return x if x == x and x not in (float("inf"), float("-inf")) else None
    if isinstance(x, Mapping):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [clean(v) for v in x]
    if hasattr(x, "item") and callable(x.item):
        return clean(x.item())
    return x


def check_out_dir(out: str | Path | None, runs_dir: Path | None = None) -> None:
    """Refuse an --out folder that exists already or cannot be written (before any work).

    Writability is tested the only reliable way (permissions, read-only mounts, /proc,
    quotas all differ): create and remove a probe folder in the nearest existing parent.
    With ``out`` None the runs folder (``runs_dir``, default ``runs/``) is checked.
    """
    opt = "--out" if out is not None else "runs folder"
    final = Path(out) if out is not None else (runs_dir or RUNS_DIR) / "probe"
    if out is not None and final.exists():
        raise RunError(f"--out: {out} already exists; probmodel never overwrites a run "
                       "(choose a new folder)")
    parent = final.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    where = final.parent if out is None else final
    if not parent.is_dir():
        raise RunError(f"{opt}: {where}: cannot be created ({parent} is not a folder)")
    probe = parent / f".probmodel-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as e:
        raise RunError(f"{opt}: {where}: cannot be written (creating a folder in {parent} "
                       f"failed: {e.strerror or e}); nothing was run") from None


def check_out_file(path: str | Path, opt: str, suffix: str | None = None) -> Path:
    """Refuse an output file that exists, has the wrong suffix or cannot be written.

    Called before any work (the report's and workbook's ``--out``/``--xlsx``); the
    writability probe creates and removes a hidden file next to the target, so /proc,
    read-only mounts and missing permissions are one line, not a traceback later.
    """
    target = Path(path)
    if suffix is not None and target.suffix.lower() != suffix:
        raise RunError(f"{opt}: {_short(target)} must end in {suffix}")
    if target.exists() or target.is_symlink():
        raise RunError(f"{opt}: {_short(target)} already exists; probmodel never overwrites "
                       "a file")
    parent = target.parent
    if not parent.is_dir():
        raise RunError(f"{opt}: {_short(parent)} is not a folder")
    probe = parent / f".probmodel-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.open("xb").close()
        probe.unlink()
    except OSError as e:
        raise RunError(f"{opt}: {_short(target)}: cannot be written (creating a file in "
                       f"{_short(parent)} failed: {e.strerror or e})") from None
    return target


def write_file_atomic(target: Path, opt: str, write: Callable[[Path], None]) -> Path:
    """Write ``target`` through ``write(tmp)`` under a hidden name, then rename it.

    Any failure (disk full, a vanished folder, an interrupt) removes the partial file and
    an OSError becomes one line naming the file.
    """
    global WRITING
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    WRITING += 1
    try:
        write(tmp)
        check_interrupted()
        if target.exists():
            raise RunError(f"{opt}: {_short(target)} appeared while it was being written; "
                           "it was left as it is")
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RunError(f"{opt}: {_short(target)}: cannot be written "
                       f"({e.strerror or e})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        WRITING -= 1
    return target


def _short(path: str | Path, limit: int = 200) -> str:
    """A path as messages show it: cut to ``limit`` characters (a hostile name is long)."""
    text = str(path)
    return text if len(text) <= limit else text[:limit] + "…"


def check_files(p: Path, manifest: Mapping[str, Any], where: str) -> None:
    """Refuse a run folder whose data files no longer are the ones the run wrote.

    The manifest lists every file and (since the manifest recorded them) the SHA-256 of
    each data file: a file deleted, truncated or changed after the run is one line
    naming it, rather than a report that reads what is left as if it were the run.
    The scenario copies are not refused here: the report shows each one's hash check.
    """
    hashes = manifest.get("file_sha256")
    listed = manifest.get("files")
    names = (list(hashes) if isinstance(hashes, dict) else
             [n for n in listed if isinstance(n, str) and not n.startswith("scenario/")]
             if isinstance(listed, list) else [])
    for name in names:
        f = p / name
        if name == "manifest.json" or ".." in Path(name).parts:
            continue
        if not f.is_file():
            raise RunError(f"{where}: {name} is missing (the manifest lists it); the run "
                           "folder is incomplete, so nothing is read from it")
        if not isinstance(hashes, dict):
            continue
        try:
            digest = sha256(f)
        except OSError as e:
            raise RunError(f"{where}: {name} is unreadable ({e.strerror or e})") from None
        if digest != hashes[name]:
            raise RunError(f"{where}: {name} does not match the SHA-256 in manifest.json "
                           "(changed or truncated after the run was written); nothing "
                           "is read from it")


def check_run_folder(path: str | Path) -> None:
    """A run folder's existence, manifest and data files, before a report's heavy imports.

    Missing, not a folder, no manifest.json, or (:func:`check_files`) a data file
    missing or changed: one line naming it. An unreadable manifest is left to the reader.
    """
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise RunError(f"{where}: no such run folder")
    if not p.is_dir():
        raise RunError(f"{where}: is a file, not a run folder")
    if not (p / "manifest.json").is_file():
        raise RunError(f"{where}: not a run folder (no manifest.json)")
    try:
        manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(manifest, dict):
        check_files(p, manifest, str(p))


def _host() -> str:
    """The host name as partial-folder names carry it (no dots or dashes)."""
    import socket  # only when writing: not on the --out check's path

    return socket.gethostname().replace(".", "_").replace("-", "_") or "host"


def _partial_name(final: Path) -> str:
    """Hidden name of a run folder being written: carries this host and process id."""
    return f".{final.name}.partial-{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def remove_stale_partials(parent: Path) -> list[Path]:
    """Remove partial run folders in ``parent`` left by dead processes of this host.

    Only folders named ``.<name>.partial-<this host>-<pid>-<hex8>`` whose pid is not a
    live process are removed (a killed or crashed writer); a partial folder of another
    host (shared filesystem), of a live process, or any other name is never touched.
    """
    pat = re.compile(r"^\..+\.partial-" + re.escape(_host()) + r"-(\d+)-[0-9a-f]{8}$")
    removed = []
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        m = pat.match(p.name)
        if m is None or not p.is_dir() or p.is_symlink():
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def run_id(label: str, salt: str) -> str:
    """``<UTC time>_<label>_<short hash>``: sortable, and unique within a second."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    h = hashlib.sha256(f"{salt}{uuid.uuid4()}".encode()).hexdigest()[:8]
    return f"{now}_{label}_{h}"


def base_manifest(kind: str, scenario: Scenario | None, **extra: Any) -> dict[str, Any]:
    """Manifest fields common to every command."""
    import jax

    m: dict[str, Any] = {
        "kind": kind,
        "command": " ".join(["probmodel", *sys.argv[1:]]) if sys.argv else "",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_commit": git_commit(),
        "platform": f"{platform.system()} {platform.machine()}",
        "devices": [str(d) for d in jax.devices()],
    }
    if scenario is not None:
        m["scenario"] = scenario.name
        m["scenario_title"] = scenario.title
        m["scenario_files"] = scenario_hashes(scenario)
        if scenario.overrides:
            m["overrides"] = dict(scenario.overrides)
        if getattr(scenario, "law_overrides", None):
            m["law_overrides"] = dict(scenario.law_overrides)
    m.update(extra)
    return m


# --------------------------------------------------------------------------- writing


class _Folder:
    """A run folder being written: files go to ``tmp``; the caller renames it."""

    def __init__(self, final: Path, tmp: Path):
        self.final = final
        self.tmp = tmp
        self.files: list[str] = []

    def json(self, name: str, data: Any) -> None:
        (self.tmp / name).write_text(json.dumps(clean(data), indent=2) + "\n")
        self.files.append(name)

    def csv(self, name: str, frame) -> None:
        frame.to_csv(self.tmp / name, index=False)
        self.files.append(name)

    def netcdf(self, name: str, tree: xr.DataTree | xr.Dataset) -> None:
        tree.to_netcdf(self.tmp / name, engine="h5netcdf")
        self.files.append(name)

    def copy(self, name: str, source: Path) -> None:
        shutil.copyfile(source, self.tmp / name)
        self.files.append(name)

    def figures(self, figures: Mapping[str, Any]):
        """Start saving ``figures`` (PNG and SVG) into figures/; call ``.wait()`` after."""
        from probmodel.plots import render

        return render.submit(figures, self.tmp / "figures")

    def scenario(self, scenario: Scenario) -> None:
        d = self.tmp / "scenario"
        sub = Path(*scenario.name.split("/")[:-1])  # a path-named scenario (compare)
        (d / sub).mkdir(parents=True, exist_ok=True)
        for p in scenario.files:
            shutil.copyfile(p, d / sub / p.name)
            self.files.append((Path("scenario") / sub / p.name).as_posix())


def _import_writers() -> None:
    try:
        import h5netcdf  # noqa: F401  (xarray's netCDF engine here)

        import probmodel.plots.style  # noqa: F401  (matplotlib)
        from probmodel.plots import render

        render.start()  # the figure process starts and imports matplotlib meanwhile
    except Exception:  # the writer's own import reports any failure, in one line
        pass


@contextlib.contextmanager
def preloading_writers() -> Iterator[None]:
    """Import what writing a run folder needs (matplotlib, h5netcdf) in a thread meanwhile.

    For use around sampling: XLA computes, and loads its executables, without the
    GIL, so the ~0.4 s of imports overlaps it instead of following it; the process that
    saves figures in parallel (:mod:`probmodel.plots.render`) starts then too. The
    thread is joined on the way out, also on an error, so no import is left half done
    at exit.
    """
    import threading

    t = threading.Thread(target=_import_writers, name="import-writers", daemon=True)
    t.start()
    try:
        yield
    finally:
        t.join()


#: Run folders being written now: an interrupt then unwinds (removing the partial
#: folder) instead of ending the process at once (see probmodel.cli).
WRITING = 0

#: Signals received while writing (set by probmodel.cli's handler). The handler also
#: raises, but an exception raised inside a finaliser or a garbage-collector callback
#: is printed and swallowed by Python; the writer checks this list at each step, so
#: the signal still ends the write.
INTERRUPTED: list[int] = []

#: Run folders this process completed (renamed into place), for the interrupt message.
WRITTEN: list[Path] = []


def interrupt_exception(signum: int) -> BaseException:
    """The exception a signal raises while writing: Terminated (SIGTERM) or Ctrl-C's."""
    import signal

    from probmodel.errors import Terminated

    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def check_interrupted() -> None:
    """Raise the signal received while writing, if any (see :data:`INTERRUPTED`)."""
    if INTERRUPTED:
        raise interrupt_exception(INTERRUPTED[-1])


def _stop_figure_process() -> None:
    """Kill the figure process before a partial folder it may write into is removed."""
    render = sys.modules.get("probmodel.plots.render")
    if render is not None:
        render.kill()


@contextlib.contextmanager
def _atomic(name: str, out: str | Path | None, runs_dir: Path) -> Iterator[_Folder]:
    """A hidden temporary folder renamed into place on success, removed on any failure."""
    final = Path(out) if out is not None else runs_dir / name
    check_out_dir(out, runs_dir)
    if out is None and final.exists():
        raise RunError(f"{final} already exists; probmodel never overwrites a run")
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(final.parent)
    tmp = final.parent / _partial_name(final)
    tmp.mkdir()
    f = _Folder(final, tmp)
    global WRITING
    WRITING += 1
    try:
        yield f
        check_interrupted()
        if final.exists():
            raise RunError(f"{final} appeared while the run was being written; the run "
                           f"was not saved")
        os.rename(tmp, final)  # atomic on one filesystem; fails rather than replace a folder
        check_interrupted()  # a signal swallowed during the rename itself
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            _stop_figure_process()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        elif final.exists():  # renamed, then interrupted: the command did not complete
            shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        WRITING -= 1
    WRITTEN.append(final)


def write(tree: xr.DataTree, figures: Mapping[str, Any] | Callable[[], dict] | None = None,
          *, scenarios: Sequence[Scenario] = (), copies: Mapping[str, Path] | None = None,
          out: str | Path | None = None, runs_dir: Path | None = None) -> Path:
    """Write an analysis's result tree as a new run folder (atomically); return its path.

    Everything in the folder is derived from ``tree`` (:mod:`probmodel.tree`): its
    netCDF files (the tree's ``files`` layout), every table and JSON file (the kind's
    deriver), and the manifest (the tree's settings, plus provenance: versions, commit,
    the scenario files' hashes, every data file's SHA-256, and the tree's layout so a
    reader can reassemble it). ``figures``: name -> matplotlib Figure, or a callable
    returning that mapping (called inside the folder's writing, so a failure leaves no
    folder). ``scenarios`` are copied byte for byte into scenario/, ``copies`` (file
    name -> source) into the folder.
    """
    from probmodel import tree as tr

    kind = tr.kind(tree)
    outputs = tr.derive(tree)
    name = run_id(str(tree.attrs.get("label", kind)), str(tree.attrs.get("salt", "")))
    with _atomic(name, out, runs_dir or RUNS_DIR) as f:
        for sc in scenarios:
            f.scenario(sc)
        # figures first: a second process draws some of them while the data are written
        figs = figures() if callable(figures) else figures
        pending = f.figures(figs) if figs else None
        for fname, sub in tr.netcdf_files(tree).items():
            check_interrupted()
            f.netcdf(fname, sub)
        for fname, frame in outputs.tables.items():
            check_interrupted()
            f.csv(fname, frame)
        for fname, data in outputs.json.items():
            f.json(fname, data)
        for fname, source in (copies or {}).items():
            f.copy(fname, Path(source))
        check_interrupted()
        if pending is not None:
            f.files += [f"figures/{n}" for n in pending.wait()]
        check_interrupted()
        single = scenarios[0] if len(scenarios) == 1 else None
        hashes = {n: sha256(f.tmp / n) for n in f.files if not n.startswith("scenario/")}
        f.json("manifest.json", base_manifest(
            kind, single, **tr.settings(tree), files=[*f.files, "manifest.json"],
            file_sha256=hashes, tree=tr.manifest_entry(tree),
            **({"copied": sorted(copies)} if copies else {})))
    return f.final
