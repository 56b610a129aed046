#!/usr/bin/env bash
# The project's test command: builds the SBF program, checks the committed IDL, and runs every test:
# domain unit and property tests, and the program tests on both backends (SBF .so and native).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { printf '\n==> %s\n' "$*"; }

step "build the SBF program"
scripts/build-program.sh

step "check the IDL is up to date"
cargo run -q --locked -p market-tests --bin idl -- --check

step "domain tests and program tests on both backends"
cargo test --locked --workspace

step "client: content encryption, key sealing and IPFS storage tests"
cd "$root/app"
# a fresh checkout (CI) installs exactly the lockfile; a warm one reinstalls only when it changed
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm test
