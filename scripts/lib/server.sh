# Starting and stopping a Nurture server for the browser tests. Source it after common.sh.

SERVER_PID=""

# Returns the runtime role's URL of the database that owner URL $1 names.
runtime_url_of() {
    local base=${NURTURE_TEST_RUNTIME_DATABASE_URL:-$DEFAULT_RUNTIME_DATABASE_URL}
    printf '%s/%s' "${base%/*}" "${1##*/}"
}

# Starts target/debug/nurture on $1 (a port) with database $2 (the owner's URL, which migrates;
# the server itself connects as the runtime role), waits until /readyz returns 200.
start_server() {
    local port=$1 database_url=$2 log_file=$3
    NURTURE_LISTEN="127.0.0.1:$port" \
        NURTURE_PUBLIC_URL="http://localhost:$port" \
        NURTURE_SITE_ROOT="$SITE_ROOT" \
        NURTURE_SECRETS_FILE="$4" \
        NURTURE_SIGN_IN_ATTEMPTS_PER_ADDRESS="${NURTURE_SIGN_IN_ATTEMPTS_PER_ADDRESS:-30}" \
        NURTURE_ENROLLMENT_ATTEMPTS_PER_ADDRESS="${NURTURE_ENROLLMENT_ATTEMPTS_PER_ADDRESS:-20}" \
        DATABASE_URL="$(runtime_url_of "$database_url")" \
        NURTURE_MIGRATION_DATABASE_URL="$database_url" \
        "$NURTURE_BIN" serve >"$log_file" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 60); do
        if curl -fs "http://localhost:$port/readyz" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.5
    done
    cat "$log_file" >&2
    die "the server did not become ready on port $port"
}

# Sends SIGTERM and waits for a clean exit.
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local status=0
    wait "$SERVER_PID" || status=$?
    SERVER_PID=""
    return "$status"
}

# Runs `nurture create-admin` against database $2 (the owner's URL, as in start_server) and
# prints the enrollment link.
create_admin() {
    local port=$1 database_url=$2 secrets=$3 slug=$4 clinic=$5 name=$6 email=$7
    NURTURE_PUBLIC_URL="http://localhost:$port" \
        NURTURE_SECRETS_FILE="$secrets" \
        DATABASE_URL="$(runtime_url_of "$database_url")" \
        NURTURE_MIGRATION_DATABASE_URL="$database_url" \
        RUST_LOG=warn \
        "$NURTURE_BIN" create-admin --clinic "$slug" --clinic-name "$clinic" \
        --name "$name" --email "$email" | grep -o 'http[^ ]*/enroll#[A-Za-z0-9_-]*'
}
