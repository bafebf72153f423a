#!/usr/bin/env bash
# Makes sure the system programs the test suite drives are installed: bubblewrap (sandbox tests),
# Chromium (browser test of `dabgent ui`, or DABGENT_CHROMIUM) and iproute2 (fleet test in network
# namespaces). Idempotent; installs what is missing with apt-get (needs root or passwordless sudo).
# Used by .ci/run and by the test suite's global set-up, so `npm install && npm test` is enough.
set -euo pipefail
log() { echo "test-tools-up: $*" >&2; }

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if [ -z "${DABGENT_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
[ "${#missing[@]}" = 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then sudo_=(); elif sudo -n true 2>/dev/null; then sudo_=(sudo -n); else
  log "missing ${missing[*]}; install them (apt-get install -y ${missing[*]}) or run as root"
  exit 1
fi
log "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo_[@]}" apt-get update -qq >&2 || true
"${sudo_[@]}" apt-get install -y -qq "${missing[@]}" >&2
