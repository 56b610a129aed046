#!/usr/bin/env bash
# Rehearses README's "Deploying" section: runs each command block marked `<!-- deploy-step: NAME -->`
# there, as written, against a bare solana-test-validator (nothing preloaded: it stands in for
# devnet), in a scratch copy of this checkout (target/rehearsal/repo; the checkout itself is left
# untouched). Between the blocks it checks what each should have done, and it prints the time and
# the deployer's SOL each step took. Its own are only the settings block (a local URL, wallets under
# target/rehearsal/), a test token where devnet has USDC, and the change to the program that the
# upgrade deploys.
#
# Needs on PATH: anchor (anchor-cli 1.2.2), solana-test-validator (agave-validator 3.1.12), node.
# Ends with `deploy rehearsal: passed (N checks)` or a failure naming the step, its log and why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/target/rehearsal
repo=$work/repo
logs=$work/logs
export NO_DNA=1 # anchor: never prompt

say() { printf '%s\n' "$*"; }
die() { say "deploy rehearsal: FAILED: $*" >&2; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

for tool in anchor solana-test-validator node; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (see README, The two commands)"
done
[ "$(anchor --version)" = "anchor-cli 1.2.2" ] || die "expected anchor-cli 1.2.2, found $(anchor --version)"
"$root/scripts/install-app.sh"

# --- the step table, printed at the end -------------------------------------------------------------
declare -a table=()
checks=0
current="set-up"
current_log=""
validator_pid=""
started=$(now)

stop_validator() {
  if [ -n "$validator_pid" ]; then
    kill "$validator_pid" 2>/dev/null || true
    wait "$validator_pid" 2>/dev/null || true
    validator_pid=""
  fi
}
cleanup() {
  local status=$?
  stop_validator
  if [ "$status" -ne 0 ]; then
    say "deploy rehearsal: FAILED in step '$current' (exit $status)" >&2
    if [ -n "$current_log" ] && [ -f "$current_log" ]; then
      say "--- last lines of $current_log" >&2
      tail -n 40 "$current_log" >&2
    fi
  fi
}
trap cleanup EXIT

lamports() { # lamports <address>: the confirmed balance, 0 before the validator runs
  [ -n "${url:-}" ] || { echo 0; return; }
  rpc getBalance "[\"$1\", {\"commitment\": \"confirmed\"}]" 'r.value'
}
rpc() { # rpc <method> <params json> <js expression over the result r>
  node -e '
    const [url, method, params, expression] = process.argv.slice(1);
    fetch(url, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: JSON.parse(params) }) })
      .then((response) => response.json())
      .then((body) => { if (body.error) throw new Error(JSON.stringify(body.error)); const r = body.result; console.log(eval(expression)); })
      .catch((error) => { console.error(String(error)); process.exit(1); });' "$url" "$1" "$2" "$3"
}
record() { # record <name> <start time> <deployer lamports before, or "-">
  local sol=- before=$3 after
  if [ -n "${deployer:-}" ]; then
    [ "$before" != - ] || before=0 # the step that made the wallet
    after=$(lamports "$deployer")
    sol=$(awk -v a="$before" -v b="$after" 'BEGIN { d = (b - a) / 1e9; if (d == 0) print "-"; else printf "%+.4f", d }')
  fi
  table+=("$(printf '%-44s %7s s %10s' "$1" "$(secs "$2" "$(now)")" "$sol")")
}
balance_now() { if [ -n "${deployer:-}" ]; then lamports "$deployer"; else echo -; fi; }
check() { # check <what> <command...>: the command must succeed
  local what=$1; shift
  if "$@" >>"$logs/checks.log" 2>&1; then
    checks=$((checks + 1)); say "    ok  $what"
  else
    current_log=$logs/checks.log; die "$what"
  fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
json_true() { # json_true <js expression over j, the parsed JSON arguments> <json>...
  node -e 'const j = process.argv.slice(2).map((t) => JSON.parse(t)); if (!eval(process.argv[1])) process.exit(1);' "$@"
}

# README's block for a step: the ```sh fence after its marker
readme_block() {
  awk -v marker="<!-- deploy-step: $1 -->" '
    $0 == marker { found = 1; next }
    found && !inside && /^```sh$/ { inside = 1; next }
    inside && /^```$/ { exit }
    inside { print }' "$repo/README.md"
}
declare -a ran=()
show_block() { sed 's/^/    $ /' <<<"$1"; }
# step <name>: runs README's block in this shell (variables it sets stay set); any failing command
# stops the rehearsal, and the EXIT trap prints the step's log
# begin_step <name> <heading suffix>: README's block for the step into $block, logged and shown
begin_step() {
  block=$(readme_block "$1")
  [ -n "$block" ] || die "README.md has no deploy-step '$1'"
  ran+=("$1"); current=$1; current_log=$logs/$1.log
  say "" "==> README deploy step: $1$2"; show_block "$block"
  started_at=$(now); before=$(balance_now)
}
step() {
  local name=$1 block started_at before
  begin_step "$name" ""
  eval "$block" >"$current_log" 2>&1
  record "$name" "$started_at" "$before"
}
# failing_step <name>: runs README's block in its own shell; it must fail (a bare validator lacks what
# devnet has); its output is left in $output for the checks
failing_step() {
  local name=$1 block started_at before
  begin_step "$name" " (expected to fail on a bare validator)"
  # npm offline: the Program Metadata client must come from the locked root install, not a download
  if npm_config_offline=true bash -euo pipefail -c "$block" >"$current_log" 2>&1; then
    die "step $name succeeded: the README says it fails on a bare validator; update README and this script"
  fi
  output=$(cat "$current_log")
  record "$name" "$started_at" "$before"
}
# own <name> <what> <command...>: a rehearsal-only action, timed like a step
own() {
  local name=$1 what=$2 started_at before; shift 2
  current=$name; current_log=$logs/$name.log
  say "" "==> rehearsal: $what"
  started_at=$(now); before=$(balance_now)
  "$@" >"$current_log" 2>&1
  record "($name)" "$started_at" "$before"
}

# --- scratch copy -----------------------------------------------------------------------------------
rm -rf "$work"
mkdir -p "$repo/target" "$logs"
scratch() {
  # the working tree as it is (tracked and new files, without ignored ones), mtimes kept
  (cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$repo"
  # Compiled dependencies: the program's caches are copied, never shared. Cargo names the units of a
  # workspace's own crates by their path inside the workspace, so a copy of the workspace elsewhere
  # maps onto the same units, and building it in a shared target dir would leave the checkout with
  # this rehearsal's program (another id) as its up-to-date build.
  for cache in sbf-offline idl; do
    if [ -d "$root/target/$cache" ]; then cp -a "$root/target/$cache" "$repo/target/"; fi
  done
  # The offline SBF build names its target spec and linker wrapper by absolute path in the compiler
  # flags, which are part of each cached unit's identity: use the checkout's (identical) ones.
  export SBF_OFFLINE_SCRIPTS=$root/scripts/sbf-offline
  # `cargo run -p market-idl` (the only cargo command of the section) does not depend on the
  # program and finds its workspace at run time: sharing the checkout's build of it is safe. (Not
  # through CARGO_TARGET_DIR: anchor reads it too, for target/deploy and its keypairs.)
  mkdir -p "$root/target/debug"
  ln -s "$root/target/debug" "$repo/target/debug"
  ln -s "$root/node_modules" "$repo/node_modules"
  ln -s "$root/app/node_modules" "$repo/app/node_modules"
}
own scratch "a scratch copy of the checkout" scratch
checkout_status=$(git -C "$root" status --porcelain)
cd "$repo"

# --- a bare validator ------------------------------------------------------------------------------
# On 127.0.0.2, not 127.0.0.1: anchor 1.2.2 treats a cluster URL containing "127.0.0.1" or
# "localhost" as localnet and then skips the IDL step without a word; at another loopback address it
# behaves as towards devnet. Its ports are chosen free, so it runs beside the suite's other validators.
free_ports() { # free_ports <count>: a first port P with P..P+count-1 free (TCP and UDP, every address)
  node -e '
    const net = require("node:net"), dgram = require("node:dgram");
    const count = Number(process.argv[1]);
    const tcp = (port) => new Promise((ok) => { const s = net.createServer().once("error", () => ok(false)).listen(port, "0.0.0.0", () => s.close(() => ok(true))); });
    const udp = (port) => new Promise((ok) => { const s = dgram.createSocket("udp4").once("error", () => { s.close(); ok(false); }); s.bind(port, "0.0.0.0", () => s.close(() => ok(true))); });
    (async () => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const base = 20000 + Math.floor(Math.random() * 400) * 100;
        let free = true;
        for (let port = base; free && port < base + count; port++) free = (await tcp(port)) && (await udp(port));
        if (free) { console.log(base); return; }
      }
      process.exit(1);
    })();' "$1"
}
start_validator() {
  local base
  base=$(free_ports 60) || die "no 60 free ports found"
  validator_args=(--ledger "$work/ledger" --bind-address 127.0.0.2 --rpc-port "$base" --faucet-port $((base + 2))
    --gossip-port $((base + 3)) --dynamic-port-range "$((base + 4))-$((base + 59))" --reset --quiet)
  solana-test-validator "${validator_args[@]}" >"$work/validator.log" 2>&1 &
  validator_pid=$!
  url=http://127.0.0.2:$base
  local deadline=$((SECONDS + 60))
  until [ "$(rpc getHealth '[]' r 2>/dev/null)" = ok ]; do
    kill -0 "$validator_pid" 2>/dev/null || die "solana-test-validator exited; see $work/validator.log"
    [ $SECONDS -lt $deadline ] || die "solana-test-validator not healthy after 60 s; see $work/validator.log"
    sleep 0.25
  done
}
own validator "start a bare solana-test-validator" start_validator
say "    solana-test-validator ${validator_args[*]}" "    $url (log $work/validator.log)"

# --- settings: the README's settings block, for this rehearsal --------------------------------------
export url
export wallet=$work/wallets/deployer.json
mkdir -p "$work/wallets"
anchor keygen new --no-passphrase --silent -o "$work/wallets/treasury.json" >/dev/null
export treasury; treasury=$(anchor keygen pubkey "$work/wallets/treasury.json")
export owner=$work/wallets/owner.json buyer=$work/wallets/buyer.json
export DATA_MARKET_IPFS=$work/ipfs # the CLI's embedded IPFS node: owner and buyer share it, as on one machine

# --- 1. wallet --------------------------------------------------------------------------------------
step wallet
export deployer; deployer=$(anchor keygen pubkey "$wallet")
export arbiter=$deployer
check "the wallet holds the airdropped SOL" test "$(lamports "$deployer")" -ge 15000000000

# --- 2. the program id ------------------------------------------------------------------------------
old_id=$(node -p 'require("./idl/data_market.json").address')
step program-id
program_id=$(anchor keygen pubkey target/deploy/data_market-keypair.json)
say "    program id $program_id (the checkout's: $old_id)"
check "declare_id! is the new id" grep -qF "declare_id!(\"$program_id\")" programs/data_market/src/lib.rs
check "Anchor.toml has the new id for localnet and devnet" test "$(grep -cF "data_market = \"$program_id\"" Anchor.toml)" -eq 2
check "Anchor.toml still defaults to localnet" grep -qxF 'cluster = "localnet"' Anchor.toml
check "the IDL carries the new id" test "$(node -p 'require("./idl/data_market.json").address')" = "$program_id"
check "the generated client carries the new id" grep -qF "\"$program_id\"" app/src/generated/programs/dataMarket.ts
check "no generated file keeps the old id" bash -c "! grep -rlF '$old_id' app/src/generated"

# --- 3. build ---------------------------------------------------------------------------------------
step build
v1_size=$(stat -c %s target/deploy/data_market.so)
cp target/deploy/data_market.so "$work/v1.so"
check "the build wrote target/deploy/data_market.so ($v1_size bytes)" test "$v1_size" -gt 0

# --- 4. deploy --------------------------------------------------------------------------------------
step deploy
shown=$(anchor program show "$program_id" --provider.cluster "$url" --provider.wallet "$wallet")
check "the program is upgradeable, with the wallet as upgrade authority" \
  contains "$shown" "Upgrade Authority: $deployer"
programdata=$(sed -n 's/^Program Data Address: //p' <<<"$shown")
first_slot=$(sed -n 's/^Slot: //p' <<<"$shown")
max_len=$(readme_block deploy | sed -n 's/.*--max-len \([0-9]*\).*/\1/p' | head -1)
check "its program data has room for --max-len $max_len bytes" \
  test "$(rpc getAccountInfo "[\"$programdata\", {\"commitment\": \"confirmed\", \"encoding\": \"base64\", \"dataSlice\": {\"offset\": 0, \"length\": 0}}]" 'r.value.space')" -eq $((max_len + 45))

# --- 5. the IDL -------------------------------------------------------------------------------------
program_metadata=ProgM6JCCvbYkfKqJYHePx4xxSUSqJp7rh8Lyv7nk7S
helper() { (cd app && node --import tsx scripts/deploy-rehearsal.ts "$@"); }
check "the Program Metadata program is absent from the bare validator" \
  test "$(rpc getAccountInfo "[\"$program_metadata\", {\"commitment\": \"confirmed\", \"encoding\": \"base64\"}]" 'r.value')" = null
check "calling it fails with ProgramAccountNotFound (\"Attempt to load a program that does not exist\")" \
  test "$(helper missing-program --url "$url" --keypair "$wallet" "$program_metadata")" = '"ProgramAccountNotFound"'
failing_step idl
check "anchor ran the IDL step (it did not skip it as localnet)" bash -c "! grep -q 'Skipping IDL' '$current_log'"
check "the Program Metadata client ran, from the locked install, and its transaction failed" \
  contains "$output" "The provided transaction plan failed to execute"
check "anchor reports the IDL step failed" contains "$output" "Failed to initialize IDL"
metadata_account=$(sed -n 's/.*metadata: \([1-9A-HJ-NP-Za-km-z]*\).*/\1/p' <<<"$output" | head -1)
check "no IDL metadata account was created ($metadata_account)" \
  test "$(rpc getAccountInfo "[\"${metadata_account:-$program_metadata}\", {\"commitment\": \"confirmed\", \"encoding\": \"base64\"}]" 'r.value')" = null

# --- 6. the marketplace -----------------------------------------------------------------------------
step market
market=$(app/bin/data-market --url "$url" --json market show)
check "the marketplace's authority is the upgrade authority" json_true 'j[0].authority === process.env.deployer' "$market"
check "treasury, arbiter and fee are as given" json_true \
  'j[0].treasury === process.env.treasury && j[0].arbiter === process.env.arbiter && Number(j[0].protocolFeeBps) === 250' "$market"

# --- 7. try it: an owner publishes, a buyer buys ------------------------------------------------------
step users
make_token() { mint=$(helper test-token --url "$url" --keypair "$wallet" --to "$(anchor keygen pubkey "$buyer")=10"); }
own test-token "a test token for the buyer (devnet USDC stands in here)" make_token
export mint
say "    mint $mint: 10 tokens to the buyer"
step try
check "the buyer paid 1 of its 10 tokens" json_true 'BigInt(j[0].tokens) === 9000000n' \
  "$(app/bin/data-market --url "$url" --keypair "$buyer" --json wallet show --mint "$mint")"
licence_before=$(app/bin/data-market --url "$url" --keypair "$buyer" --json license list)
export dataset

# --- 8. upgrade: a second build over the first -------------------------------------------------------
# What a new version of the program is here: one error message changed (so the bytes, the IDL and the
# client all change), a little longer (so the upgrade uses the room --max-len left)
new_version() {
  sed -i '0,/#\[msg("/s//#[msg("Second build of the deploy rehearsal: /' programs/data_market/src/errors.rs
  grep -qF 'Second build of the deploy rehearsal: ' programs/data_market/src/errors.rs
}
own new-version "change the program: one error message, longer" new_version
step upgrade
v2_size=$(stat -c %s target/deploy/data_market.so)
second_build_differs() { ! cmp -s "$work/v1.so" target/deploy/data_market.so && [ "$v2_size" -gt "$v1_size" ]; }
check "the second build differs from the first and is larger ($v1_size -> $v2_size bytes)" second_build_differs
shown=$(anchor program show "$program_id" --provider.cluster "$url" --provider.wallet "$wallet")
redeployed_later() { contains "$shown" "Upgrade Authority: $deployer" && [ "$(sed -n 's/^Slot: //p' <<<"$shown")" -gt "$first_slot" ]; }
check "same program id, still upgradeable by the wallet, redeployed at a later slot" redeployed_later
anchor program dump "$program_id" "$work/deployed.so" --provider.cluster "$url" --provider.wallet "$wallet" >>"$logs/checks.log" 2>&1
deployed_is_second_build() { # the program data is the build followed by zeros up to --max-len
  cmp -s -n "$v2_size" "$work/deployed.so" target/deploy/data_market.so \
    && [ "$(tail -c +$((v2_size + 1)) "$work/deployed.so" | tr -d '\0' | wc -c)" -eq 0 ]
}
check "the deployed bytes are the second build's" deployed_is_second_build
check "the IDL carries the changed message" grep -qF 'Second build of the deploy rehearsal: ' idl/data_market.json
failing_step idl-upgrade
check "the IDL upgrade fails the same way (no Program Metadata program)" \
  contains "$output" "The provided transaction plan failed to execute"
# 10,240 bytes: the least anchor asks the loader for
extend_output=$(anchor program extend "$program_id" 10240 --provider.cluster "$url" --provider.wallet "$wallet" 2>&1 || true)
printf '%s\n' "$extend_output" >>"$logs/checks.log"
check "anchor 1.2.2 cannot extend a program: it sends the superseded ExtendProgram (README: why --max-len)" \
  contains "$extend_output" "ExtendProgram was superseded by ExtendProgramChecked"

# --- 9. state after the upgrade ---------------------------------------------------------------------
step after-upgrade
market_after=$(app/bin/data-market --url "$url" --json market show)
check "the marketplace configuration survived the upgrade" test "$market_after" = "$market"
licence_after=$(app/bin/data-market --url "$url" --keypair "$buyer" --json license list)
check "the licence survived the upgrade: unchanged but for the use recorded after it (one write)" json_true '
  const [before, after] = [j[0], j[1]];
  const kept = (list) => JSON.stringify(list.map((l) => ({ ...l, usageCount: undefined, revision: undefined })));
  kept(before) === kept(after) && before[0].state === "delivered"
    && Number(after[0].usageCount) === Number(before[0].usageCount) + 1
    && Number(after[0].revision) === Number(before[0].revision) + 1' "$licence_before" "$licence_after"
check "the use recorded after the upgrade is listed" json_true \
  'j[0].some((receipt) => receipt.dataset === process.env.dataset)' "$(app/bin/data-market --url "$url" --json usage list --dataset "$dataset")"

# --- every block of the section was run --------------------------------------------------------------
current="coverage"
for name in $(sed -n 's/^<!-- deploy-step: \(.*\) -->$/\1/p' README.md); do
  check "README deploy step '$name' was run" bash -c "printf '%s\n' ${ran[*]} | grep -qx '$name'"
done
check "the checkout was not touched" test "$(git -C "$root" status --porcelain)" = "$checkout_status"

current="done"
stop_validator
rm -rf "$work/ledger" "$repo/target/sbf-offline" "$repo/target/idl" # large; the logs and keypairs stay
say "" "$(printf '  %-44s %9s %10s' step time "SOL (deployer)")"
printf '  %s\n' "${table[@]}"
say "deploy rehearsal: passed ($checks checks) in $(secs "$started" "$(now)") s; logs in $logs"
