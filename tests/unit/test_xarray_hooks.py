"""probmodel._xarray: no dask import where no dask object can exist, dask intact after.

Each check runs in a fresh interpreter: whether dask is imported is process state.
"""

import subprocess
import sys

import pytest

pytest.importorskip("dask")  # the cluster extra (make test installs it)

RUN = """
import sys
from probmodel.cli import main
rc = main(["run", {scenario!r}, "--draws", "3000", "-q", "--out", {out!r}])
assert rc == 0, rc
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
assert not loaded, loaded[:5]
from probmodel import _xarray
assert _xarray.INSTALLED
"""

DASK_AFTER = """
import numpy as np
import probmodel.results  # installs the hooks
import xarray as xr
from xarray.namedarray.pycompat import array_type
assert array_type("dask") == ()          # nothing imported dask yet
import dask.array as da
assert array_type("dask") == (da.Array,)  # now xarray sees dask's type
ds = xr.Dataset({"x": ("d", da.from_array(np.arange(10.0), chunks=5))})
assert ds["x"].chunks == ((5, 5),)
assert float(ds["x"].sum().compute()) == 45.0
ds.to_netcdf(OUT, engine="h5netcdf")  # a chunked write asks for dask's scheduler
with xr.open_dataset(OUT, engine="h5netcdf", chunks={}) as back:
    assert back["x"].chunks is not None
    assert float(back["x"].sum().compute()) == 45.0
"""

DASK_BEFORE = """
import dask.array as da
import numpy as np
import probmodel.results  # dask already imported: xarray's own record, hooks defer
import xarray as xr
ds = xr.Dataset({"x": ("d", da.from_array(np.arange(4.0), chunks=2))})
assert ds["x"].chunks == ((2, 2),)
"""


def _python(code: str) -> None:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]


def test_a_run_never_imports_dask(priors, tmp_path):
    _python(RUN.format(scenario=str(priors / "deepseek-adjusted.toml"),
                       out=str(tmp_path / "r")))


def test_dask_imported_later_is_recognised_by_xarray(tmp_path):
    _python(f"OUT = {str(tmp_path / 'x.nc')!r}\n" + DASK_AFTER)


def test_dask_imported_first_is_left_alone():
    _python(DASK_BEFORE)
