#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs every Debian package that the build, the tests, the benchmark and
# the demo need. Idempotent: does nothing when all of them are installed.
#
#   scripts/deps.sh            as root, or as a user with sudo
#   scripts/deps.sh --list     print the package list and exit
#
# Newly installed apache2/lighttpd are kept from starting (and stopped and
# disabled if they did start): the tests and the demo run their own
# instances on free loopback ports, and a system daemon on port 80 would only
# get in the way. A server that was already installed is left alone.
set -eu

PACKAGES="
build-essential autoconf automake libtool pkg-config
libfcgi-dev libfcgi-bin spawn-fcgi
libssl-dev libjansson-dev libdb5.3-dev db5.3-util libcunit1-dev
libargon2-dev libcrypt-dev
clang libclang-rt-14-dev
lighttpd apache2 apache2-utils libapache2-mod-fcgid nginx-light
curl procps util-linux coreutils
python3 python3-django python3-djangorestframework python3-jwt python3-djangorestframework-simplejwt
python3-bcrypt python3-argon2
chromium chromium-driver python3-selenium
"

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' $PACKAGES
    exit 0
fi

say() { printf 'deps: %s\n' "$*"; }

# Packages not (fully) installed.
missing=""
for p in $PACKAGES; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *" installed") ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    say "all packages already installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    say "need root (or sudo) to install:$missing" >&2
    exit 1
fi

say "installing:$missing"

# Keep newly installed daemons from starting (invoke-rc.d honours
# policy-rc.d exit code 101 = "action forbidden"). Only if the admin has no
# policy of their own.
POLICY=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$POLICY" ]; then
    if $SUDO sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"; then
        made_policy=yes
    fi
fi
cleanup() {
    if [ -n "$made_policy" ]; then
        $SUDO rm -f "$POLICY"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends $missing >/dev/null

# In case a daemon was started anyway (e.g. no invoke-rc.d in the path used).
for svc in apache2 lighttpd; do
    case " $missing " in
    *" $svc "*)
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
            $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
        fi
        if command -v service >/dev/null 2>&1; then
            $SUDO service "$svc" stop >/dev/null 2>&1 || true
        fi
        if command -v update-rc.d >/dev/null 2>&1; then
            $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true
        fi
        ;;
    esac
done

say "done"
