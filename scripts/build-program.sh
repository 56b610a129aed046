#!/usr/bin/env bash
# Builds the program into target/deploy/data_market.so by whichever route this machine supports:
#   standard: `anchor build` (needs the Solana platform-tools, i.e. `cargo build-sbf`)
#   offline:  scripts/build-sbf-offline.sh (registry packages only: Debian rustc + LLVM 22 + sbpf-linker)
# SBF_ROUTE=standard|offline forces one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
route=${SBF_ROUTE:-}
if [ -z "$route" ]; then
  if command -v cargo-build-sbf >/dev/null 2>&1 && command -v anchor >/dev/null 2>&1; then route=standard; else route=offline; fi
fi
case $route in
  standard) (cd "$root" && anchor build) ;;
  offline) "$root/scripts/build-sbf-offline.sh" ;;
  *) echo "SBF_ROUTE must be standard or offline" >&2; exit 2 ;;
esac
