# Sourced by scripts/build-sbf-offline.sh. Compiler and linker settings for building an Anchor (std)
# program into an SBPFv0 .so with Debian's rustc (LLVM 22) instead of the Solana platform-tools.
SBF_OFFLINE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SBF_OFFLINE_HOME=${SBF_OFFLINE_HOME:-$HOME/.cache/sbf-offline}
export SBF_OFFLINE_DIR SBF_OFFLINE_HOME
export RUSTC=/usr/bin/rustc          # Debian rustc 1.96, not the rustup proxy
export RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1             # -Zbuild-std, -Zjson-target-spec, panic=immediate-abort on a stable compiler
unset RUSTUP_TOOLCHAIN
export PATH=$SBF_OFFLINE_HOME/tools/bin:$SBF_OFFLINE_DIR/wrap:$PATH
# SBPFv0 (cpu v2, 8 KiB stack frames budget as cargo-build-sbpf uses): what mainnet and devnet load today.
SBPF_ARCH=v0; SBPF_CPU=v2; SBPF_STACK=8192
# f64 soft-float builtins (Rent::minimum_balance) must stay exported until instruction selection emits
# the libcalls. No i128 builtins: LLVM 22's BPF backend cannot return i128, so u128 mul/div is refused.
SBPF_EXPORTS=__adddf3,__subdf3,__negdf2,__muldf3,__divdf3,__floatundidf,__fixunsdfdi,__gedf2,__gtdf2
SBPF_COMMON_FLAGS="-C linker=$SBF_OFFLINE_DIR/wrap/sbpf-linker-wrap -C relocation-model=static \
 -C link-arg=--disable-math-builtins -C link-arg=--export=$SBPF_EXPORTS -C link-arg=--fatal-errors=false \
 -C link-arg=--arch=$SBPF_ARCH -C link-arg=--llvm-args=-bpf-stack-size=$SBPF_STACK \
 -C link-arg=--llvm-args=--disable-gotox -C link-arg=--llvm-args=--disable-ldsx -C link-arg=--llvm-args=--disable-movsx \
 -C target-cpu=$SBPF_CPU -C target-feature=+allows-misaligned-mem-access -W linker-messages"
# Custom target (os = solana, atomic-cas) so std builds; std comes from the patched source copy.
export SBPF_TARGET_JSON=$SBF_OFFLINE_DIR/sbpf-solana.json
export RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1
export __CARGO_TESTS_ONLY_SRC_ROOT=$SBF_OFFLINE_HOME/rust-src/library
# panic=immediate-abort: std's panic runtime keeps state in writable statics, which SBPF cannot address.
# passes=lower-atomic: the VM is single-threaded and SBPF has no atomic read-modify-write instructions.
export CARGO_TARGET_SBPF_SOLANA_RUSTFLAGS="$SBPF_COMMON_FLAGS -Zunstable-options -C panic=immediate-abort -C passes=lower-atomic --cfg=target_feature=\"static-syscalls\" -A explicit_builtin_cfgs_in_flags"
