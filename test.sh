#!/usr/bin/env bash
# The one test command: the whole suite, as CI runs it.
set -euo pipefail
cd "$(dirname "$0")"
exec .venv/bin/python -m pytest -q "$@"
