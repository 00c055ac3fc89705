#!/usr/bin/env bash
# System packages some tests use, from Debian: promtool (package prometheus) checks /v1/metrics,
# Chromium runs the dashboard end to end (driven by playwright-core from npm, which
# `deno install` brings through deno.json), and redis-server backs the BullMQ sweep tests (each
# test starts its own on a free loopback port; no service is needed). Without them those tests
# skip, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi
promtool --version 2>&1 | head -1
/usr/bin/chromium --version
redis-server --version
# playwright-core drives the system Chromium (executablePath); it never downloads a browser.
deno cache tests/control/dashboard_e2e_test.ts
