#!/usr/bin/env bash
# The servers the engine tests run against (tests/test_engines*.py), from Debian's packages.
#   scripts/services.sh install          PostgreSQL and Java 17 if missing (apt-get; root or sudo)
#   scripts/services.sh postgres-start DIR   initdb into DIR, start on a unix socket in DIR;
#                                        prints the URL (postgresql://postgres@/postgres?host=DIR)
#   scripts/services.sh postgres-stop DIR    stop it (the test session does, at its end)
# Spark needs no server: pyspark (PyPI, a test dependency) starts a local[*] session in the
# test process, on Debian's Java 17.
set -euo pipefail

pg_bin() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    return 1
}

as_root() {
    if [ "$(id -u)" = "0" ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
        echo "services.sh: need root (or sudo) to run: $*" >&2; return 1; fi
}

install() {
    local pkgs=()
    pg_bin >/dev/null || pkgs+=(postgresql)
    command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless)
    if [ "${#pkgs[@]}" -gt 0 ]; then
        echo "installing Debian's ${pkgs[*]} for the engine tests"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get update -qq
        as_root apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    fi
    # Debian's package starts a cluster of its own; the tests use their own temporary one
    command -v pg_lsclusters >/dev/null 2>&1 && true
    pg_bin >/dev/null || { echo "services.sh: PostgreSQL is still missing" >&2; return 1; }
}

# initdb refuses to run as root: the cluster belongs to the 'postgres' user (Debian's
# package creates it) or, failing that, to 'nobody'
owner() {
    if [ "$(id -u)" != "0" ]; then id -un; return; fi
    if id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

run_as() {
    local user="$1"; shift
    if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

postgres_start() {
    local dir="$1" bin user
    bin=$(pg_bin) || { echo "services.sh: PostgreSQL is not installed (scripts/services.sh install)" >&2; return 1; }
    user=$(owner)
    mkdir -p "$dir"
    chown "$user" "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    run_as "$user" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    # a unix socket in DIR only: no TCP port to collide with another server
    run_as "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
    echo "postgresql://postgres@/postgres?host=$dir"
}

postgres_stop() {
    local dir="$1" bin user
    bin=$(pg_bin) || return 0
    user=$(owner)
    [ -d "$dir/data" ] && run_as "$user" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
    install) install ;;
    postgres-start) postgres_start "${2:?folder}" ;;
    postgres-stop) postgres_stop "${2:?folder}" ;;
    *) echo "usage: $0 install | postgres-start DIR | postgres-stop DIR" >&2; exit 2 ;;
esac
