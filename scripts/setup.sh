#!/usr/bin/env bash
# Installs what stackhouse needs to build, run and test, on Debian 12. Idempotent: each step checks
# first and does nothing when its part is already in place.
#   - Debian packages (compilers, libraries, test tools);
#   - the embedded store, libchdb.so, from the npm package @chdb/lib-linux-x64-gnu (pinned),
#     into .deps/chdb (ignored by git);
#   - the npm packages of the web UI (ui, pinned by its package-lock.json) and of the end-to-end
#     tests (tests/e2e, likewise); the browser tests drive Debian's chromium, never a downloaded one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHDB_VERSION="26.5.3"

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

packages=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libboost-system-dev libyaml-cpp-dev libsimdjson-dev libcli11-dev
  zlib1g-dev libzstd-dev libssl-dev openssl libcurl4-openssl-dev socat
  libunwind-dev libdw-dev libelf-dev libsqlite3-dev libsodium-dev sqlite3
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  nodejs npm curl procps chromium
  prometheus prometheus-node-exporter
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # nodejs/npm may come from elsewhere than Debian; a working command is enough.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# prometheus and prometheus-node-exporter are test tools (tests/e2e/prometheus.test.mjs starts its
# own on free ports): their Debian services must not run in the background.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  for unit in prometheus prometheus-node-exporter; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl is-active --quiet "$unit"; then
      log "stopping and disabling the $unit service (a test tool here)"
      as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
fi

chdb_dir="$root/.deps/chdb"
if [ ! -f "$chdb_dir/libchdb.so" ] || [ "$(cat "$chdb_dir/VERSION" 2>/dev/null)" != "$CHDB_VERSION" ]; then
  log "fetching libchdb.so $CHDB_VERSION (npm @chdb/lib-linux-x64-gnu, ~560 MB)"
  tmp="$root/.deps/chdb-npm"
  rm -rf "$tmp"
  mkdir -p "$tmp" "$chdb_dir"
  npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error \
    "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >&2
  mv -f "$tmp/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so" "$chdb_dir/libchdb.so"
  rm -rf "$tmp"
  echo "$CHDB_VERSION" > "$chdb_dir/VERSION"
fi

# npm ci in a folder whose lockfile changed since the last install (a copy of it is the stamp).
npm_ci() {
  local dir="$1" what="$2"
  [ -f "$dir/package-lock.json" ] || return 0
  local stamp="$dir/node_modules/.stackhouse-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    log "installing the npm packages of $what"
    # playwright-core never downloads a browser; the tests use /usr/bin/chromium.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_ci "$root/ui" "the web UI"
npm_ci "$root/tests/e2e" "the end-to-end tests"
