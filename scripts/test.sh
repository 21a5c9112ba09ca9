#!/usr/bin/env bash
# Runs every test on a fresh Debian machine with Rust installed: installs the
# system packages the tests need (Go + yaml.v2 for the go-yaml oracle,
# PostgreSQL for the journal tests), builds the oracle, starts a throwaway
# PostgreSQL, then `cargo test --all-targets`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The shared folder (oracle source, corpora, fixtures) sits beside the repository.
export GITOPS_GUARD_SHARED="${GITOPS_GUARD_SHARED:-$(realpath -m "$root/../shared")}"
if [ ! -d "$GITOPS_GUARD_SHARED" ]; then
  echo "scripts/test.sh: shared folder not found at $GITOPS_GUARD_SHARED (set GITOPS_GUARD_SHARED)" >&2
  exit 2
fi

need=()
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ] || need+=(golang-gopkg-yaml.v2-dev)
command -v git >/dev/null || need+=(git)
command -v python3 >/dev/null || need+=(python3)
command -v openssl >/dev/null || need+=(openssl)   # test RSA keys for the fake GitHub
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "scripts/test.sh: please install: ${need[*]} (apt-get install -y ${need[*]})" >&2
    exit 2
  fi
fi

target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target"
bash "$GITOPS_GUARD_SHARED/tools/yaml11/build.sh" "$target/yaml11"
export YAML11_ORACLE="$target/yaml11"

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  # Starts a throwaway PostgreSQL cluster; prints `export TEST_DATABASE_URL=… PG_TEST_DIR=…`.
  eval "$(bash scripts/pg-test.sh)"
  trap 'bash scripts/pg-test.sh stop "$PG_TEST_DIR" >/dev/null 2>&1 || true' EXIT
fi

cargo test --all-targets
