"""CLI commands defined in their own modules (one per command or family of commands).

Each module registers its commands on :data:`probmodel.cli.app` with ``@app.command()``
and keeps heavy imports inside the command functions, so ``probmodel --help`` stays
fast. Every module in this package is imported when the CLI starts.
"""

import importlib
import pkgutil

for _m in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_m}")
