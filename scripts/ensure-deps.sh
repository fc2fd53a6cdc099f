#!/bin/sh
# Installs the npm dependencies on a fresh clone (or after package-lock.json changed), then gets out of the way.
set -e
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "fink: installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
fi
