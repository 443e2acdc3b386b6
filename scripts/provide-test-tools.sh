#!/usr/bin/env bash
# Provides the real programs the tests and benches drive (a browser, the sandbox, Redis), from Debian's packages, when they
# are missing. `npm test` and `npm run bench` run it first (`pretest`, `prebench`), so a new machine needs only the README's commands.
# Nothing is downloaded from outside the package registries. Where it cannot install, it stops with one
# sentence naming what to install: the tests that need a missing program fail, they never skip.
set -euo pipefail

# command that proves the program is there → the Debian package that provides it
declare -A package_of=(
  [chromium]=chromium
  [bwrap]=bubblewrap
  [redis-server]=redis-server
)

missing=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${package_of[$command]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "The tests need these Debian packages, and this user cannot install them: run 'sudo apt-get install ${missing[*]}', then npm test again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need ${missing[*]}, and this machine has no apt-get to install them: install them with its package manager, then npm test again." >&2
  exit 1
fi

echo "Installing ${missing[*]} from Debian's packages for the tests (once per machine)" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
