#!/usr/bin/env bash
# Installs, exactly as locked, the npm dependencies of the TypeScript app (app/) and of the deploy
# tools at the repository root (the Program Metadata client that `anchor idl` runs through npx, see
# README, Deploying): always on a fresh checkout, and again only when a package-lock.json changed
# since the last install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in "$root/app" "$root"; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
