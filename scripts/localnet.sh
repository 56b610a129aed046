#!/usr/bin/env bash
# The local stack for the CLI and the web dapp: solana-test-validator (from PATH) on
# 127.0.0.1:8899 with the program deployed, funded wallets, a USDC-like mint and the marketplace,
# the indexer when it is built, and an IPFS node served on 127.0.0.1:8981 (trustless gateway and
# Kubo RPC subset). Keypairs, the IPFS node and stack.json go to target/localnet/. Runs in the
# foreground; Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build-program.sh" >&2
"$root/scripts/install-app.sh" >&2
cd "$root/app"
exec node --import tsx src/localnet/main.ts "$@"
