#!/usr/bin/env bash
# Python packages the test suite uses as independent verifiers (a second JOSE implementation).
set -euo pipefail
python3 -c 'import joserfc, cryptography, jsonschema' 2>/dev/null && exit 0
echo "Installing Python packages: joserfc cryptography jsonschema"
python3 -m pip install -q --disable-pip-version-check joserfc cryptography jsonschema 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check --break-system-packages joserfc cryptography jsonschema
