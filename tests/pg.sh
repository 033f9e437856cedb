#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the registry tests.
#
#   tests/pg.sh run COMMAND [ARGS…]   start a cluster, run COMMAND with QUJAT_TEST_PG naming it,
#                                    stop the cluster, exit with COMMAND's code
#   tests/pg.sh serve                start a cluster, print its URL on one line, keep it until
#                                    standard input closes, then stop it (the tests start one
#                                    this way when they are run without `make test`)
#
# With QUJAT_TEST_PG already set (postgres://… of a server to use instead, whose user may create
# databases and roles), `run` starts nothing. Otherwise the cluster is Debian's PostgreSQL
# (/usr/lib/postgresql/*/bin: `initdb`, `pg_ctl`; tests/deps.sh installs the `postgresql` package
# when it is missing), made in a temporary folder and run as the `postgres` user when we are root
# (the server refuses to run as root). It listens on a Unix socket in that folder, and on
# 127.0.0.1 with TLS (a self-signed certificate for `localhost`, when openssl is there) and
# password logins for the TLS and password tests: QUJAT_TEST_PG_TCP=127.0.0.1:PORT,
# QUJAT_TEST_PG_CERT=the certificate. Where no server can be had it says so loudly, and the
# tests that need one say they were skipped.
set -uo pipefail

mode=${1:-}
[[ $mode == run || $mode == serve ]] || { echo "usage: tests/pg.sh run COMMAND… | serve" >&2; exit 2; }
shift

say() { echo "pg: $*" >&2; }

if [[ $mode == run && -n ${QUJAT_TEST_PG:-} ]]; then
    say "using the server QUJAT_TEST_PG names"
    exec "$@"
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z $bin || ! -x $bin/initdb || ! -x $bin/pg_ctl ]]; then
    say "WARNING: no PostgreSQL server (initdb, pg_ctl in /usr/lib/postgresql/*/bin; apt-get install"
    say "WARNING: postgresql) and no QUJAT_TEST_PG: the PostgreSQL registry tests are SKIPPED"
    if [[ $mode == run ]]; then
        QUJAT_TEST_PG_SKIPPED="no PostgreSQL server here (apt-get install postgresql)" exec "$@"
    fi
    exit 3
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/qujat-pg.XXXXXX")
as_server=()
if [[ $(id -u) == 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres 2>/dev/null \
            || { say "WARNING: no user postgres to run the server as: the PostgreSQL tests are SKIPPED"; rm -rf "$dir"; \
                 [[ $mode == run ]] && QUJAT_TEST_PG_SKIPPED="no user postgres" exec "$@"; exit 3; }
    fi
    chown postgres "$dir"
    as_server=(runuser -u postgres --)
fi

stop() {
    "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$dir"
}

# A free port for TCP: the socket's name has it too.
port=
for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[[ -n $port ]] || port=5433

if ! "${as_server[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
        >"$dir/initdb.log" 2>&1; then
    say "WARNING: initdb failed (see below): the PostgreSQL registry tests are SKIPPED"
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    [[ $mode == run ]] && QUJAT_TEST_PG_SKIPPED="initdb failed" exec "$@"
    exit 3
fi

# TLS: a certificate authority of its own, and the server's certificate (for localhost) signed
# by it; QUJAT_TEST_PG_CERT is the authority's, what a client trusts.
ssl=off
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=qujat test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/server.ext" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 30 -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1; then
    chmod 600 "$dir/server.key"
    [[ ${#as_server[@]} -gt 0 ]] && chown postgres "$dir/server.key" "$dir/server.crt"
    ssl=on
else
    say "note: no openssl: the cluster has no TLS, and the TLS test is skipped"
fi

fsync=off buffers=128MB
if [[ -n ${QUJAT_PG_BENCH:-} ]]; then fsync=on buffers=2GB; fi
cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
# Throwaway data: a crash of the machine may lose it (the server's own crash safety is not what
# the tests test; qujat's is, with its processes killed). QUJAT_PG_BENCH=1 (bench/registry_pg.py)
# keeps a server's usual durability, and gives it the shared buffers a DBA would.
fsync = $fsync
full_page_writes = $fsync
shared_buffers = $buffers
ssl = $ssl
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
EOF
# Members of qujat_test_tls_only (a group the TLS test makes) may log in over TLS only.
cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all postgres 127.0.0.1/32 trust
hostnossl all +qujat_test_tls_only 127.0.0.1/32 reject
host all all 127.0.0.1/32 scram-sha-256
EOF

if ! "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
    say "WARNING: the server did not start (its log follows): the PostgreSQL registry tests are SKIPPED"
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    [[ $mode == run ]] && QUJAT_TEST_PG_SKIPPED="the server did not start" exec "$@"
    exit 3
fi

export QUJAT_TEST_PG="postgresql://postgres@/postgres?host=$dir&port=$port"
export QUJAT_TEST_PG_TCP="127.0.0.1:$port"
if [[ $ssl == on ]]; then export QUJAT_TEST_PG_CERT="$dir/ca.crt"; fi

if [[ $mode == serve ]]; then
    trap stop EXIT
    echo "$QUJAT_TEST_PG $QUJAT_TEST_PG_TCP ${QUJAT_TEST_PG_CERT:-}"
    # Until whoever started us goes away.
    cat >/dev/null
    exit 0
fi

say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') started for the tests ($dir, port $port)"
"$@"
code=$?
stop
say "PostgreSQL stopped"
exit $code
