#!/usr/bin/env bash
# Builds programs/data_market into target/deploy/data_market.so WITHOUT the Solana platform-tools,
# from registry packages only: Debian's rustc 1.96 (system LLVM 22) with -Zbuild-std, a patched copy of
# its std source, and `sbpf-linker` from the crate registry driven through sbf-offline/wrap/sbpf-linker-wrap.
# Where the standard toolchain exists, `anchor build` (cargo build-sbf) builds the same crate instead.
#
# usage: scripts/build-sbf-offline.sh [setup|build]     (default: setup if needed, then build)
# Tools, the patched std source and the two patched crates go to $SBF_OFFLINE_HOME
# (default ~/.cache/sbf-offline). Why each flag and patch exists: scripts/sbf-offline/README.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The target spec and the linker wrapper (sbf-offline/) are named by absolute path in the compiler
# flags, and those flags are part of every cached unit's identity: a copy of the checkout elsewhere
# (the deploy rehearsal's) sets SBF_OFFLINE_SCRIPTS to the checkout's identical sbf-offline/ folder
# to reuse its build cache.
here=${SBF_OFFLINE_SCRIPTS:-$root/scripts/sbf-offline}
source "$here/env.sh"
H=$SBF_OFFLINE_HOME
SBPF_LINKER_VERSION=0.2.6
stamp=$H/setup.stamp
stamp_value=$(cat "$here"/patches/*.patch "$here/env.sh" | sha256sum | cut -d' ' -f1)-$SBPF_LINKER_VERSION

log() { printf '[sbf-offline] %s\n' "$*" >&2; }

setup() {
  if ! [ -x /usr/bin/rustc ] || ! [ -x /usr/bin/cargo ] || ! [ -d /usr/lib/rustlib/src/rust/library ] \
     || ! command -v llvm-as-22 >/dev/null || ! [ -d /usr/lib/llvm-22 ]; then
    log "installing Debian rustc-web, cargo-web, rust-web-src, llvm-22-dev"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq rustc-web cargo-web rust-web-src llvm-22-dev >/dev/null
  fi
  export PATH=/usr/lib/llvm-22/bin:$PATH
  if ! [ -x "$H/tools/bin/sbpf-linker" ]; then
    log "installing sbpf-linker $SBPF_LINKER_VERSION (against the system LLVM 22)"
    # RUSTUP_TOOLCHAIN=stable overrides the crate's own rust-toolchain.toml, which names a nightly that
    # is not installed here; this is the host build of the linker, done by the rustup cargo.
    LLVM_PREFIX=/usr/lib/llvm-22 RUSTUP_TOOLCHAIN=stable \
      cargo install "sbpf-linker@$SBPF_LINKER_VERSION" --locked --no-default-features \
      --features bpf-linker/llvm-22 --root "$H/tools"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" = "$stamp_value" ]; then return; fi
  log "preparing the patched std source and crates in $H"
  # Debian's library source (matches /usr/bin/rustc) patched for target_os = "solana"
  mkdir -p "$H/rust-src" "$H/vendor"
  rm -rf "$H/rust-src/library"
  cp -a /usr/lib/rustlib/src/rust/library "$H/rust-src/library"
  (cd "$H/rust-src/library" && patch -p1 -s < "$here/patches/rust-library-solana.patch")
  local dl; dl=$(mktemp -d)
  mkdir -p "$dl/src" && touch "$dl/src/lib.rs"
  printf '[package]\nname="dl"\nversion="0.0.0"\nedition="2021"\n[dependencies]\nsolana-compiler-builtins="=0.3.0"\nsolana-zk-sdk="=4.0.0"\n' > "$dl/Cargo.toml"
  /usr/bin/cargo fetch -q --manifest-path "$dl/Cargo.toml"
  local reg
  reg=$(dirname "$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/solana-compiler-builtins-0.3.0 | head -1)")
  rm -rf "$H/vendor/solana-compiler-builtins" "$H/vendor/solana-zk-sdk" "$dl"
  cp -a "$reg/solana-compiler-builtins-0.3.0" "$H/vendor/solana-compiler-builtins"
  (cd "$H/vendor/solana-compiler-builtins" && patch -p1 -s < "$here/patches/solana-compiler-builtins-llvm22.patch")
  cp -a "$reg/solana-zk-sdk-4.0.0" "$H/vendor/solana-zk-sdk"
  (cd "$H/vendor/solana-zk-sdk" && patch -p1 -s < "$here/patches/solana-zk-sdk-rlib-only.patch")
  echo "$stamp_value" > "$stamp"
}

build() {
  export PATH=/usr/lib/llvm-22/bin:$PATH
  local target_dir=$root/target/sbf-offline
  mkdir -p "$target_dir" "$root/target/deploy"
  # The patches below change the dependency graph, so they resolve into their own lockfile, seeded
  # from the committed one so every registry crate keeps its pinned version.
  [ -f "$target_dir/Cargo.lock" ] && [ "$target_dir/Cargo.lock" -nt "$root/Cargo.lock" ] \
    || cp "$root/Cargo.lock" "$target_dir/Cargo.lock"
  log "building data_market for SBF (cold: ~5 min, warm: ~20 s)"
  # overflow-checks=false: LLVM 22 lowers the compiler's checked `a * b` to an i128 libcall it cannot
  #   return (the program uses checked arithmetic explicitly instead).
  # opt-level="s": at -O3 the functions the linker wrapper must inline (more than five arguments)
  #   grow the entrypoint past SBPF's 16-bit branch range; "s", with the entrypoint alone marked
  #   minsize by sbf-offline/wrap/ir_fix.py, keeps it in range.
  (cd "$root/programs/data_market" && CARGO_TARGET_DIR=$target_dir /usr/bin/cargo build --release \
     -p data_market --target "$SBPF_TARGET_JSON" -Zbuild-std=std,panic_abort -Zjson-target-spec \
     -Zlockfile-path --config "resolver.lockfile-path=\"$target_dir/Cargo.lock\"" \
     --config "patch.crates-io.solana-compiler-builtins.path=\"$H/vendor/solana-compiler-builtins\"" \
     --config "patch.crates-io.solana-zk-sdk.path=\"$H/vendor/solana-zk-sdk\"" \
     --config 'profile.release.overflow-checks=false' --config 'profile.release.opt-level="s"')
  # sbpf-linker writes target/deploy/<crate>.so relative to rustc's working directory
  local built=$root/programs/data_market/target/deploy/data_market.so
  if [ -f "$built" ]; then
    mv "$built" "$root/target/deploy/data_market.so"
    rm -rf "$root/programs/data_market/target"
  fi
  [ -f "$root/target/deploy/data_market.so" ] || { log "no .so produced"; exit 1; }
  log "wrote target/deploy/data_market.so ($(stat -c %s "$root/target/deploy/data_market.so") bytes)"
}

case ${1:-all} in
  setup) setup ;;
  build) build ;;
  all) setup; build ;;
  *) echo "usage: $0 [setup|build]" >&2; exit 2 ;;
esac
