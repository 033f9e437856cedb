#!/usr/bin/env bash
# Installs what the tests run besides Rust, when it is missing: the third-party programs that check
# qujat's output as themselves (poppler's pdftotext/pdftoppm/pdfsig, zbar's zbarimg, LibreOffice,
# headless Chromium, pyHanko) and the PostgreSQL server the registry tests start.
#
# As root with apt-get (CI, a fresh machine), Debian's packages are installed, `apt-get update`
# first; pyHanko comes from PyPI. Otherwise nothing is installed and the list of what is missing is
# printed: the tests that need it then say loudly that they were skipped, and how to get it.
set -uo pipefail

# command → Debian package
declare -A PACKAGES=(
    [pdftotext]=poppler-utils
    [pdftoppm]=poppler-utils
    [pdfsig]=poppler-utils
    [certutil]=libnss3-tools
    [zbarimg]=zbar-tools
    [soffice]=libreoffice-calc-nogui
    [chromium]=chromium
    [pg_ctlcluster]=postgresql
)

missing=()
for command in "${!PACKAGES[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGES[$command]}")
done
# The PostgreSQL server binaries are not on PATH: look for initdb where Debian puts it.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "deps: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || echo "deps: WARNING: apt-get could not install ${missing[*]}; the tests that need them are skipped"
    else
        echo "deps: WARNING: missing ${missing[*]} (not root, or no apt-get): the tests that need" \
             "them are skipped; install them with: apt-get install ${missing[*]}"
    fi
fi

if ! command -v pyhanko >/dev/null 2>&1; then
    if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
        echo "deps: installing pyHanko from PyPI"
        "$(command -v pip3 || command -v pip)" install -q pyhanko pyhanko-cli >/dev/null \
            || echo "deps: WARNING: pip could not install pyhanko pyhanko-cli; the tests that need it are skipped"
    else
        echo "deps: WARNING: no pip: the pyHanko tests are skipped (pip install pyhanko pyhanko-cli)"
    fi
fi
exit 0
