#!/usr/bin/env bash
# Installs what the tests and the demo need beyond npm: the local AWS emulator
# (moto_server) and cfn-lint, at pinned versions, only where they are missing.
set -euo pipefail
MOTO_VERSION=5.2.1
CFN_LINT_VERSION=1.51.0

need_moto=1
if command -v moto_server >/dev/null 2>&1 && python3 -c "import moto,sys; sys.exit(0 if moto.__version__=='${MOTO_VERSION}' else 1)" 2>/dev/null; then
  need_moto=0
fi
if [ "$need_moto" = 1 ]; then
  echo "installing moto[server]==${MOTO_VERSION}"
  python3 -m pip install --quiet "moto[server]==${MOTO_VERSION}"
fi
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "installing cfn-lint==${CFN_LINT_VERSION}"
  python3 -m pip install --quiet "cfn-lint==${CFN_LINT_VERSION}"
fi
