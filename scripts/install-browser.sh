#!/usr/bin/env bash
# The browser the web dapp's tests drive: Debian's chromium, from apt (playwright-core launches it;
# no browser is downloaded by npm). Prints its path.
#   scripts/install-browser.sh
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  command -v chromium
  exit 0
fi
echo "chromium is missing: installing it" >&2
# a fresh machine may have no package lists yet: update once if the first attempt fails
if [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2; }
elif sudo -n true 2>/dev/null; then
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2 ||
    { sudo apt-get update >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2; }
else
  echo "chromium is not installed and apt-get needs root: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
command -v chromium
