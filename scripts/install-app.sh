#!/usr/bin/env bash
# Installs the TypeScript app's dependencies from the npm registry, exactly as locked: always on a
# fresh checkout, and again only when package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../app"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
