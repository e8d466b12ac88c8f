#!/usr/bin/env bash
# The one test command, as CI runs it: the linter, the type checker, then the whole suite.
# Arguments go to pytest (e.g. ./test.sh tests/server -x).
set -euo pipefail
cd "$(dirname "$0")"
.venv/bin/ruff check mage_bridge tests benchmarks reaper
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
