#!/usr/bin/env bash
# The test command: installs what is missing, then lint, format check, types and the test suite.
# Lab tests need root (network namespaces); run as root on Debian.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
export PATH="$root/.venv/bin:$PATH"
echo "== ruff"; ruff check aksnet tests benchmarks scripts
echo "== ruff format"; ruff format --check aksnet tests benchmarks scripts
echo "== mypy"; mypy
echo "== pytest"; pytest "$@"
