#!/usr/bin/env bash
# Installs the Debian packages that features need (listed in scripts/system-packages.txt:
# one "command package" pair a line) when their command is missing. Run by `make install`.
# Without root or apt-get it only warns: `companion doctor` reports what is missing.
set -uo pipefail
cd "$(dirname "$0")"
missing=()
while read -r command package; do
  case "$command" in ''|'#'*) continue ;; esac
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done < system-packages.txt
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: missing system packages (install them): ${missing[*]}" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
  || { echo "error: apt-get could not install ${missing[*]}" >&2; exit 1; }
