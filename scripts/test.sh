#!/usr/bin/env bash
# The project's test command: builds the SBF program, checks the committed IDL, and runs every test:
# domain unit and property tests, the program tests on both backends (SBF .so and native), and the
# TypeScript client tests in app/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { printf '\n==> %s\n' "$*"; }

step "build the SBF program"
scripts/build-program.sh

step "check the IDL is up to date"
cargo run -q --locked -p market-tests --bin idl -- --check

summary=$root/target/test-summary.txt
mkdir -p "$root/target"
step "domain tests and program tests on both backends"
cargo test --locked --workspace 2>&1 | tee "$root/target/cargo-test.log"
cargo_passed=$(awk '/^test result:/ {n += $4} END {print n + 0}' "$root/target/cargo-test.log")
cargo_failed=$(awk '/^test result:/ {n += $6} END {print n + 0}' "$root/target/cargo-test.log")

step "client: SDK against the SBF program, crypto and IPFS storage tests"
cd "$root/app"
# a fresh checkout (CI) installs exactly the lockfile; a warm one reinstalls only when it changed
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm test 2>&1 | tee "$root/target/npm-test.log"
npm_passed=$(awk '/^# pass / {print $3}' "$root/target/npm-test.log")
npm_failed=$(awk '/^# fail / {print $3}' "$root/target/npm-test.log")

# one closing line for the whole suite (each step above already stopped the script on failure)
echo "tests: $((cargo_passed + npm_passed)) passed, $((cargo_failed + npm_failed)) failed" | tee "$summary"
