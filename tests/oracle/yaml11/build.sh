#!/usr/bin/env bash
# Builds the go-yaml v2 differential oracle (main.go beside this script):
#   tests/oracle/yaml11/build.sh OUTPUT_BINARY
# Offline, from Debian packages only: golang-go and golang-gopkg-yaml.v2-dev
# (GOPATH mode against /usr/share/gocode; there is no module download).
set -euo pipefail
out="${1:?usage: build.sh OUTPUT_BINARY}"
gopath=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gopath/src/gopkg.in/yaml.v2" ]; then
  echo "build.sh: the yaml11 oracle needs Go and yaml.v2: apt-get install golang-go golang-gopkg-yaml.v2-dev" >&2
  exit 1
fi
src="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "$out")"
mkdir -p "$(dirname "$out")"
# GOPATH mode builds a directory, so build a private copy: the source folder
# stays clean and concurrent builds do not share a cache.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$src/main.go" "$work/"
(cd "$work" && GOPATH="$gopath" GO111MODULE=off GOFLAGS= GOCACHE="$work/cache" go build -o "$out.tmp.$$" .)
mv -f "$out.tmp.$$" "$out"
