#!/usr/bin/env bash
# Start (or install) what the test suite talks to: PostgreSQL and Chromium.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_ready() {
    command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432
}

if ! pg_ready; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "Installing PostgreSQL..."
        apt_install postgresql
    fi
    echo "Starting PostgreSQL..."
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    pg_ready || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
    # Trust local connections for root, as the test machines are set up.
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1 \
        || su postgres -c "createuser --superuser root"
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 \
        || su postgres -c "createdb -O root test"
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium for the browser tests..."
    apt_install chromium
fi
