# Shared helpers for the scripts in this folder. Source it; do not run it.
# Every ensure_* function installs what is missing and does nothing when it is already present.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
E2E="$ROOT/end2end"
# Cargo writes build output here; CARGO_TARGET_DIR moves it, for example to share one folder.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SITE_ROOT="$TARGET_DIR/site"
NURTURE_BIN="$TARGET_DIR/debug/nurture"
WASM_PROFILE=wasm-release
# The owner role runs migrations; the server connects as the runtime role.
DEFAULT_DATABASE_URL="postgres://nurture:nurture@localhost:5432/nurture"
DEFAULT_RUNTIME_DATABASE_URL="postgres://nurture_app:nurture_app@localhost:5432/nurture"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root, through sudo when this user is not root.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "'$*' needs root and sudo is not installed; run it as root"
    fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq || die "apt-get update failed; cannot install $*"
        apt_updated=1
    fi
    log "installing Debian packages: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get could not install $*"
}

ensure_rust_toolchain() {
    command -v rustup >/dev/null || die "rustup is not installed; install it from https://rustup.rs and run this again"
    if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1 \
        || ! rustup component list --toolchain "$TOOLCHAIN" --installed 2>/dev/null | grep -q '^clippy' \
        || ! rustup target list --toolchain "$TOOLCHAIN" --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
        log "installing Rust $TOOLCHAIN with rustfmt, clippy and the wasm32 target"
        rustup toolchain install "$TOOLCHAIN" --profile minimal \
            --component rustfmt --component clippy --target wasm32-unknown-unknown \
            || die "rustup could not install Rust $TOOLCHAIN"
    fi
}

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
    local wanted installed
    wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
    [ -n "$wanted" ] || die "wasm-bindgen is missing from Cargo.lock"
    installed=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
    if [ "$installed" != "$wanted" ]; then
        log "installing wasm-bindgen-cli $wanted (about 5 minutes on 2 cores)"
        cargo install wasm-bindgen-cli --version "=$wanted" \
            || die "cargo could not install wasm-bindgen-cli $wanted"
    fi
}

# npm packages of end2end/: Playwright, axe-core and binaryen's wasm-opt. Never a browser.
ensure_npm_packages() {
    command -v npm >/dev/null || apt_install nodejs npm
    # The stamp is a copy of the lock file that the last successful install used.
    local stamp="$E2E/node_modules/.installed-package-lock.json"
    if ! cmp -s "$E2E/package-lock.json" "$stamp"; then
        log "installing npm packages in end2end/"
        (cd "$E2E" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) \
            || die "npm could not install the packages in end2end/"
        cp "$E2E/package-lock.json" "$stamp"
    fi
}

ensure_chromium() {
    [ -x /usr/bin/chromium ] || apt_install chromium
}

postgres_answers() {
    pg_isready -q -h localhost -p 5432 2>/dev/null
}

# Starts a local PostgreSQL when none responds on localhost:5432, installing Debian's package
# if needed, then makes sure the role and password of the default DATABASE_URL exist.
ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$DEFAULT_DATABASE_URL" ] \
        && [ "$DATABASE_URL" != "$DEFAULT_RUNTIME_DATABASE_URL" ]; then
        return 0 # An explicitly configured database is the operator's to run.
    fi
    if ! postgres_answers; then
        command -v pg_ctlcluster >/dev/null || apt_install postgresql
        local version
        version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
        if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
            log "creating PostgreSQL $version cluster 'main'"
            as_root pg_createcluster "$version" main >/dev/null || die "could not create a PostgreSQL cluster"
        fi
        local cluster
        cluster=$(pg_lsclusters -h | awk 'NR == 1 { print $1 " " $2 }')
        log "starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086
        as_root pg_ctlcluster --skip-systemctl-redirect $cluster start || die "could not start PostgreSQL"
        for _ in $(seq 1 30); do
            postgres_answers && break
            sleep 1
        done
        postgres_answers || die "PostgreSQL did not start within 30 seconds"
    fi
    ensure_postgres_role
}

# Creates two roles. 'nurture' runs migrations and owns the tables. It may create databases (the
# server creates its own, the tests one per test) but is no superuser. The server runs as
# 'nurture_app', a member of the group 'nurture_runtime'. The migrations grant that group only
# what the server needs, and it owns nothing, so it cannot disable the audit triggers. Safe to
# run again.
ensure_postgres_role() {
    local sql="SET client_min_messages TO warning; DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nurture') THEN
            CREATE ROLE nurture LOGIN CREATEDB PASSWORD 'nurture';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nurture_runtime') THEN
            CREATE ROLE nurture_runtime NOLOGIN;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nurture_app') THEN
            CREATE ROLE nurture_app LOGIN NOCREATEDB PASSWORD 'nurture_app';
        END IF;
        GRANT nurture_runtime TO nurture_app;
        -- Lets the owner end the runtime role's connections, which DROP DATABASE ... WITH
        -- (FORCE) does when the tests drop their databases.
        GRANT nurture_app TO nurture;
    END \$\$;"
    if psql -h localhost -U postgres -d postgres -w -qtAc 'SELECT 1' >/dev/null 2>&1; then
        psql -h localhost -U postgres -d postgres -w -q -v ON_ERROR_STOP=1 -c "$sql" >/dev/null
    else
        as_root runuser -u postgres -- psql -d postgres -q -v ON_ERROR_STOP=1 -c "$sql" >/dev/null \
            || die "could not create the PostgreSQL role 'nurture'"
    fi
}

# Builds the browser bundle into target/site: wasm32 compile, wasm-bindgen, wasm-opt, CSS,
# static files.
build_site() {
    local wasm_opt="$E2E/node_modules/.bin/wasm-opt"
    log "building the browser bundle (profile $WASM_PROFILE)"
    cargo build --locked -p frontend --lib --target wasm32-unknown-unknown --profile "$WASM_PROFILE"
    mkdir -p "$SITE_ROOT/pkg"
    wasm-bindgen "$TARGET_DIR/wasm32-unknown-unknown/$WASM_PROFILE/frontend.wasm" \
        --target web --no-typescript --out-dir "$SITE_ROOT/pkg" --out-name nurture
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$SITE_ROOT/pkg/nurture_bg.wasm" -o "$SITE_ROOT/pkg/nurture_bg.wasm.opt"
    mv "$SITE_ROOT/pkg/nurture_bg.wasm.opt" "$SITE_ROOT/pkg/nurture_bg.wasm"
    cp "$ROOT/style/main.css" "$SITE_ROOT/pkg/nurture.css"
    cp -r "$ROOT/public/." "$SITE_ROOT/"
}

build_server() {
    log "building the server"
    cargo build --locked -p server --bin nurture
}
