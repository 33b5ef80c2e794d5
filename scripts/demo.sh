#!/usr/bin/env bash
# The README's first quick-start command: `npm run demo`.
# Installs what is missing, builds, then deploys the example app to a local
# AWS emulator and walks through the decay scenario (demo/run-demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-installed.sh
npm run --silent build
node scripts/bundle-tools.js demo/run-demo.ts dist/demo/run-demo.js
node dist/demo/run-demo.js "$@"
