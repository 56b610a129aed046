#!/usr/bin/env bash
# The project's test command: builds the SBF program, checks the committed IDL, and runs every test:
# domain unit and property tests, the program tests on both backends (SBF .so and native), the
# indexer's tests on SQLite and on a throwaway PostgreSQL (scripts/postgres.sh), the TypeScript
# client tests in app/ (LiteSVM), the end-to-end suite against a local validator, the web dapp in
# headless Chromium (scripts/install-browser.sh), the indexer's
# chain tests, and the rehearsal of README's deploy section against a bare validator
# (scripts/deploy-rehearsal.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { printf '\n==> %s\n' "$*"; }

step "build the SBF program"
scripts/build-program.sh

step "check the IDL is up to date"
cargo run -q --locked -p market-idl -- --check

summary=$root/target/test-summary.txt
mkdir -p "$root/target"
step "a throwaway PostgreSQL for the indexer's store tests (scripts/postgres.sh)"
INDEXER_TEST_POSTGRES=$("$root/scripts/postgres.sh" start)
export INDEXER_TEST_POSTGRES INDEXER_REQUIRE_POSTGRES=1
trap '"$root/scripts/postgres.sh" stop >/dev/null 2>&1 || true' EXIT
echo "PostgreSQL at $INDEXER_TEST_POSTGRES"

step "domain tests, program tests on both backends, indexer tests on both stores"
cargo test --locked --workspace 2>&1 | tee "$root/target/cargo-test.log"
cargo_passed=$(awk '/^test result:/ {n += $4} END {print n + 0}' "$root/target/cargo-test.log")
cargo_failed=$(awk '/^test result:/ {n += $6} END {print n + 0}' "$root/target/cargo-test.log")

step "client: SDK, CLI and journey against the SBF program in LiteSVM, crypto and IPFS storage tests"
"$root/scripts/install-app.sh"
cd "$root/app"
npm test 2>&1 | tee "$root/target/npm-test.log"

step "end to end over JSON-RPC against a local solana-test-validator"
if command -v solana-test-validator >/dev/null; then
  # app/test/e2e/indexer.test.ts runs the indexer binary: target/release/indexer when built
  # (`cargo build -p indexer --release`), else the debug build the workspace tests above left
  (cd "$root" && cargo build -q --locked -p indexer)
  npm run -s test:e2e 2>&1 | tee "$root/target/e2e-test.log"
elif [ "${DATA_MARKET_SKIP_VALIDATOR:-}" = 1 ]; then
  echo "skipped: solana-test-validator is not on PATH and DATA_MARKET_SKIP_VALIDATOR=1" | tee "$root/target/e2e-test.log"
else
  echo "solana-test-validator is not on PATH. Build it once from the crate registry (about 40 minutes on" >&2
  echo "2 cores, needs apt libclang-dev):" >&2
  echo "  cargo install agave-validator --version 3.1.12 --bin solana-test-validator --locked" >&2
  echo "or set DATA_MARKET_SKIP_VALIDATOR=1 to run everything else." >&2
  exit 1
fi

step "web dapp in headless Chromium (Debian's, scripts/install-browser.sh) against a local solana-test-validator"
if command -v solana-test-validator >/dev/null; then
  "$root/scripts/install-browser.sh" >/dev/null
  npm run -s test:web 2>&1 | tee "$root/target/web-test.log"
else
  echo "skipped: solana-test-validator is not on PATH and DATA_MARKET_SKIP_VALIDATOR=1" | tee "$root/target/web-test.log"
fi

step "indexer against a local solana-test-validator: snapshot, subscriptions, restarts, cut links, verify"
cd "$root"
if command -v solana-test-validator >/dev/null; then
  cargo test --locked -p indexer --test chain -- --ignored --test-threads=1 2>&1 | tee "$root/target/indexer-chain-test.log"
  cargo_passed=$((cargo_passed + $(awk '/^test result:/ {n += $4} END {print n + 0}' "$root/target/indexer-chain-test.log")))
else
  echo "skipped: solana-test-validator is not on PATH and DATA_MARKET_SKIP_VALIDATOR=1"
fi
cd "$root/app"
node_logs=("$root/target/npm-test.log" "$root/target/e2e-test.log" "$root/target/web-test.log")
node_passed=$(awk '/^# pass / {n += $3} END {print n + 0}' "${node_logs[@]}")
node_failed=$(awk '/^# fail / {n += $3} END {print n + 0}' "${node_logs[@]}")

step "deploy rehearsal: README's deploy section against a bare solana-test-validator"
# Counted as one test. A failure is reported in the closing line, and fails the run.
rehearsal_passed=0 rehearsal_failed=0
if ! command -v solana-test-validator >/dev/null && [ "${DATA_MARKET_SKIP_VALIDATOR:-}" = 1 ]; then
  echo "skipped: solana-test-validator is not on PATH and DATA_MARKET_SKIP_VALIDATOR=1"
elif "$root/scripts/deploy-rehearsal.sh"; then
  rehearsal_passed=1
else
  rehearsal_failed=1
fi

# one closing line for the whole suite (each step above except the rehearsal already stopped the
# script on failure)
echo "tests: $((cargo_passed + node_passed + rehearsal_passed)) passed, $((cargo_failed + node_failed + rehearsal_failed)) failed" | tee "$summary"
[ "$rehearsal_failed" = 0 ]
