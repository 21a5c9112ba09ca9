#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the journal tests and prints
# shell exports for it on stdout (logs go to stderr):
#
#   eval "$(scripts/pg-test.sh)"      # sets TEST_DATABASE_URL and PG_TEST_DIR
#   cargo test --test journal
#   scripts/pg-test.sh stop "$PG_TEST_DIR"
#
# Installs Debian's `postgresql` package when no server binaries are found.
# The cluster runs as the `postgres` system user (PostgreSQL refuses to run
# as root), listens on 127.0.0.1 on a free port, trusts local connections,
# and keeps its data and socket under a fresh directory in /tmp. fsync is
# off: this is a test database, not a place for data.
set -euo pipefail

log() { echo "pg-test: $*" >&2; }

if [[ "${1:-}" == "stop" ]]; then
    dir="${2:?usage: pg-test.sh stop DIR}"
    bin="$(cat "$dir/bindir")"
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
    rm -rf "$dir"
    exit 0
fi

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

bindir="$(find_bindir || true)"
if [[ -z "$bindir" ]]; then
    log "installing postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir="$(find_bindir)"
fi
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port="${PG_TEST_PORT:-}"
if [[ -z "$port" ]]; then
    for p in $(seq 55432 55532); do
        if port_free "$p"; then port="$p"; break; fi
    done
fi
[[ -n "$port" ]] || { log "no free port in 55432-55532"; exit 1; }

dir="$(mktemp -d /tmp/gitops-guard-pg.XXXXXX)"
chmod 755 "$dir"
echo "$bindir" > "$dir/bindir"
mkdir "$dir/data" "$dir/sock"
chown postgres: "$dir/data" "$dir/sock"
log "initdb in $dir/data ($bindir)"
runuser -u postgres -- "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
    --encoding=UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
touch "$dir/server.log" && chown postgres: "$dir/server.log"
runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
runuser -u postgres -- "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres gitops_guard_test >&2
log "PostgreSQL ready on 127.0.0.1:$port"
echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/gitops_guard_test"
echo "export PG_TEST_DIR=$dir"
