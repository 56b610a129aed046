#!/usr/bin/env bash
# Builds the SBF program and runs every instruction once in LiteSVM: prints compute units,
# transaction sizes, account counts and rent, and writes target/bench/cu.json. Then the client
# benchmark on a 1 GiB file (encrypt+hash, download+decrypt+verify, next to sha256sum), which
# writes target/bench/client.json; the bill of data and the Solana Actions on a local validator
# (target/bench/provenance.json), and a verifiable preview of a 1 GiB dataset served and checked
# there (target/bench/preview.json). Last the web dapp's bundle size and first load in chromium
# (target/bench/web.json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/build-program.sh
cargo run -q --locked -p market-tests --bin bench
scripts/install-app.sh
(cd app && npm run -s bench:client)
(cd app && npm run -s bench:provenance)
(cd app && npm run -s bench:preview)
scripts/install-browser.sh >/dev/null
(cd app && npm run -s web:build >/dev/null && npm run -s bench:web)
