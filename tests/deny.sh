#!/usr/bin/env bash
# The supply-chain check of deny.toml (cargo-deny), as `make test` and `make deny` run it:
# licences, bans and sources always; security advisories when the RustSec database can be had.
#
# cargo-deny is installed with `cargo install --locked` (the version below) when it is missing.
# The advisory database is a git repository on github.com (RustSec/advisory-db); a machine whose
# network reaches only package registries cannot fetch it, and then the advisories check is
# skipped, saying so loudly — unless QUJAT_DENY_ADVISORIES=required, which makes that a failure
# (`make deny` sets it). Exit code: that of the checks run.
set -uo pipefail

CARGO=${CARGO:-cargo}
VERSION=0.20.2
# How long fetching the database may take before it counts as unreachable: a firewall that
# drops packets would otherwise hang the run.
FETCH_SECONDS=${QUJAT_DENY_FETCH_SECONDS:-120}

say() { echo "deny: $*" >&2; }

if ! "$CARGO" deny --version >/dev/null 2>&1; then
    say "installing cargo-deny $VERSION (cargo install --locked)"
    start=$SECONDS
    "$CARGO" install --locked cargo-deny --version "$VERSION" >&2 \
        || { say "ERROR: cargo install cargo-deny failed"; exit 2; }
    say "cargo-deny installed in $((SECONDS - start)) s"
fi

# The database first, so that one run of `check` does all it can.
checks=(licenses bans sources)
if timeout "$FETCH_SECONDS" "$CARGO" deny fetch db >/tmp/qujat-deny-fetch.$$ 2>&1; then
    checks=(advisories "${checks[@]}")
else
    reason=$(grep -m1 -oE 'fatal: .*|Could not resolve host: [^ ]*|timed out' /tmp/qujat-deny-fetch.$$ \
        || echo "no answer in ${FETCH_SECONDS} s")
    if [[ ${QUJAT_DENY_ADVISORIES:-} == required ]]; then
        cat /tmp/qujat-deny-fetch.$$ >&2
        rm -f /tmp/qujat-deny-fetch.$$
        say "ERROR: the RustSec advisory database could not be fetched ($reason)"
        exit 2
    fi
    say "################################################################################"
    say "WARNING: SECURITY ADVISORIES NOT CHECKED: the RustSec advisory database"
    say "(https://github.com/RustSec/advisory-db) could not be fetched: $reason."
    say "Licences, bans and sources are checked; run \`make deny\` where github.com is"
    say "reachable to check advisories too."
    say "################################################################################"
fi
rm -f /tmp/qujat-deny-fetch.$$

say "cargo deny check ${checks[*]}"
# --offline: the database was fetched just above (or is not wanted), and the crates are in the
# lock file.
exec "$CARGO" deny --offline --locked check "${checks[@]}"
