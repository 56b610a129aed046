#!/usr/bin/env bash
# The marketplace's whole journey, narrated with balances: publish, discover, buy, deliver,
# download and verify, record usage, review, settle and claim. Builds the program and installs the
# app if needed. With no arguments it runs on an embedded SVM (nothing else to start); pass
# --url <rpc> (e.g. --url localnet after `scripts/localnet.sh`) to run it against a cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build-program.sh" >&2
"$root/scripts/install-app.sh" >&2
cd "$root/app"
exec node --import tsx src/journey/main.ts "$@"
