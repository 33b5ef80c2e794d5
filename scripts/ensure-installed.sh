#!/usr/bin/env bash
# Installs what a fresh clone lacks, so each quick-start command works on its own:
# the npm packages the lockfile pins (when they are not there yet), then the
# local AWS emulator and cfn-lint (scripts/install-emulator.sh), then the headless
# browser of the HTML report's test (scripts/install-browser.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/aws-cdk-lib ] || [ ! -d node_modules/jest ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/install-emulator.sh
bash scripts/install-browser.sh
