"""Sweeps on a Dask cluster: a LocalCluster of two worker processes.

Each block of cells runs, on a worker, the same compiled functions over the same draws
as the local sweep, so every cell's summary equals the local run's bit for bit. Dask is
an optional extra: `make test` installs it (requirements-cluster.lock); elsewhere the
test is skipped when dask is absent. Without dask, --scheduler exits 2 and says how to
install it.
"""

import importlib.util
import sys

import numpy as np
import pytest

from probmodel import cluster, load_scenario
from probmodel.analysis import sweep as sw

HAS_DASK = importlib.util.find_spec("distributed") is not None


@pytest.mark.skipif(not HAS_DASK, reason="dask[distributed] is not installed "
                    f"({cluster.INSTALL}; make test installs it)")
def test_local_cluster_sweep_equals_the_local_sweep_cell_by_cell(priors):
    from dask.distributed import Client, LocalCluster

    sc = load_scenario(priors / "deepseek-adjusted.toml")
    # 70 cells: two blocks of 35 (CELL_BLOCK = 64), one per worker
    g = sw.parse_grid(["pay_rate=0.30:0.99:0.01"])
    assert g.n_cells == 70
    local = sw.sweep(sc, g, draws=3000, seed=5, keep=50)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as lc, Client(lc) as client:
        remote = sw.sweep(sc, g, draws=3000, seed=5, keep=50, scheduler=client)
        # each worker process compiled the block function once (and keeps it)
        compiled = client.run(lambda: __import__(
            "probmodel.analysis.sweep", fromlist=["sweep"])._eval_block._cache_size())
    assert sorted(compiled.values()) == [1, 1]
    assert local.summary.identical(remote.summary)
    assert local.kept.identical(remote.kept)
    assert local.crossings == remote.crossings
    assert np.isfinite(remote.summary["p_profitable"].values).all()


def test_scheduler_without_dask_exits_2_with_the_install_command(priors, tmp_path,
                                                                  monkeypatch, capsys):
    from probmodel.cli import main

    monkeypatch.setitem(sys.modules, "dask", None)  # import dask fails as if absent
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    rc = main(["sweep", str(priors / "deepseek-adjusted.toml"), "--grid",
               "pay_rate=0.5,0.6", "--draws", "100", "--scheduler", "tcp://127.0.0.1:1",
               "--out", str(tmp_path / "s")])
    assert rc == 2
    assert cluster.INSTALL in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
