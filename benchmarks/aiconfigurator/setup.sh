#!/usr/bin/env bash
# Creates benchmarks/aiconfigurator/.venv with NVIDIA's aiconfigurator (pinned).
# This environment is separate from the project's .venv: aiconfigurator is never a
# dependency of probmodel.
set -euo pipefail
cd "$(dirname "$0")"
AICONFIGURATOR_VERSION=${AICONFIGURATOR_VERSION:-0.12.0}
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for c in python3.12 python3.11 python3.13 python3 $(ls -d "$HOME"/.pyenv/versions/3.1[1-3]*/bin/python3 2>/dev/null); do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null; then
      PYTHON=$(command -v "$c"); break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "setup.sh: needs Python 3.10-3.13 (pass PYTHON=...)" >&2; exit 2; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "aiconfigurator==$AICONFIGURATOR_VERSION" pandas
.venv/bin/python -c 'import importlib.metadata as m; print("aiconfigurator", m.version("aiconfigurator"))'
