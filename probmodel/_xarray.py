"""xarray without importing dask where no dask object can exist.

With dask installed (the cluster extra), xarray imports it on paths that never meet a
dask object: building any Dataset asks for ``dask.array.Array`` (to test each variable
against it), and every ``to_netcdf`` asks dask for its active scheduler, importing
``dask.distributed``. In a ``probmodel run`` that is about 0.6-0.8 s of a 4-5 s process
(measured: 4.1 s with dask hidden, 4.9 s with it). xarray offers no switch for this.

The three hooks below give xarray's own answer without the import, and only while
``dask`` has not been imported by anyone: then no dask array, collection, scheduler or
client can exist, so "no dask type", "not a dask collection" and "no scheduler" are
exact. Once anything imports dask (``probmodel sweep --scheduler``, a user's code), each
hook defers to xarray's original function, so dask objects are recognised as before.
They are installed once, when :mod:`probmodel.results` is imported; if a future xarray
moves these private names, nothing is patched (a test fails so the pin is revisited).
"""

from __future__ import annotations

import sys
from typing import Any

#: True once the hooks are in place (see :func:`install`).
INSTALLED = False


class _LazyDask:
    """xarray's DuckArrayModule record for dask, read from sys.modules when asked."""

    @property
    def module(self) -> Any:
        return sys.modules.get("dask")

    @property
    def available(self) -> bool:
        return self.module is not None

    @property
    def type(self) -> tuple:
        arr = sys.modules.get("dask.array")
        return (arr.Array,) if arr is not None and hasattr(arr, "Array") else ()

    @property
    def version(self):
        from packaging.version import Version

        mod = self.module
        return Version(getattr(mod, "__version__", "0.0.0")) if mod is not None else \
            Version("0.0.0")


def install() -> bool:
    """Install the hooks (idempotent); False when xarray's internals are not as expected."""
    global INSTALLED
    if INSTALLED:
        return True
    try:
        from xarray.backends import locks, writers
        from xarray.namedarray import pycompat, utils
    except ImportError:
        return False
    names = (getattr(pycompat, "_cached_duck_array_modules", None),
             getattr(utils, "is_dask_collection", None),
             getattr(locks, "get_dask_scheduler", None),
             getattr(writers, "get_dask_scheduler", None))
    if not isinstance(names[0], dict) or not all(callable(f) for f in names[1:]):
        return False
    cache, is_collection, scheduler, _ = names
    if "dask" not in sys.modules and "dask" not in cache:
        # a record that reports dask's types only once dask.array is imported; xarray
        # keeps it for the process, so it must stay right after dask is imported
        cache["dask"] = _LazyDask()

    def is_dask_collection(x: object) -> bool:
        return "dask" in sys.modules and is_collection(x)

    def get_dask_scheduler(get=None, collection=None) -> str | None:
        return scheduler(get, collection) if "dask" in sys.modules else None

    utils.is_dask_collection = is_dask_collection
    locks.get_dask_scheduler = get_dask_scheduler
    writers.get_dask_scheduler = get_dask_scheduler
    INSTALLED = True
    return True
