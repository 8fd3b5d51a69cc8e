//! Test fixtures: a fresh PostgreSQL database per test, cloned from a migrated template, and
//! the real router around it.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the fixtures"
)]

pub mod consents;
pub mod matrix;
pub mod personas;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use app::audit::{AuditKey, AuditKeyring};
use app::db::DbPool;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, Response, header};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use server::config::{Config, DatabaseConfig};
use server::database::{self, DatabaseUrl};
use server::secrets::SecretKey;
use server::state::AppState;
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub mod browser;

/// Origin of the site in tests; requests that change state must carry it.
pub const ORIGIN: &str = "http://localhost:3000";

const DEFAULT_TEST_DATABASE_URL: &str = "postgres://nurture:nurture@localhost:5432/nurture";
const DEFAULT_TEST_RUNTIME_DATABASE_URL: &str =
    "postgres://nurture_app:nurture_app@localhost:5432/nurture";

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The audit key of this test process. Audit events are signed with the key installed in the
/// process, so every test of one binary shares it.
static AUDIT_KEY: LazyLock<SecretKey> = LazyLock::new(SecretKey::generate);

/// Server address and credentials of the owner role, which creates and migrates test
/// databases, from `NURTURE_TEST_DATABASE_URL`.
pub fn server_url() -> DatabaseUrl {
    let text = std::env::var("NURTURE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    DatabaseUrl::parse(&text).expect("NURTURE_TEST_DATABASE_URL is not a valid database URL")
}

/// Server address and credentials of the runtime role, a member of `nurture_runtime` that the
/// server under test connects as, from `NURTURE_TEST_RUNTIME_DATABASE_URL`.
pub fn runtime_server_url() -> DatabaseUrl {
    let text = std::env::var("NURTURE_TEST_RUNTIME_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_RUNTIME_DATABASE_URL.to_owned());
    DatabaseUrl::parse(&text)
        .expect("NURTURE_TEST_RUNTIME_DATABASE_URL is not a valid database URL")
}

/// Returns the runtime role's URL of the database that `database` names.
pub fn runtime_url(database: &DatabaseUrl) -> DatabaseUrl {
    let name = database
        .database_name()
        .expect("a parsed database URL has a name");
    runtime_server_url().with_database(name)
}

/// Returns the audit key of this test process in base64, for `NURTURE_AUDIT_KEY`.
pub fn audit_key_base64() -> String {
    AUDIT_KEY.to_base64()
}

/// Returns the keyring that verifies the events this test process records.
pub fn audit_keyring() -> AuditKeyring {
    AuditKeyring::new(AuditKey::new(1, *AUDIT_KEY.expose()).expect("version 1 is valid"))
}

/// Installs this process's audit key, so that code under test can record events.
pub fn install_audit_key() {
    app::audit::install_audit_keys(audit_keyring()).expect("the test audit key is installed");
}

/// A database that exists for one test and is dropped when the value is dropped.
pub struct TestDatabase {
    /// Connection as the owner role, for fixtures and inspection.
    pub url: DatabaseUrl,
    /// Connection as the runtime role, as the server connects.
    pub runtime_url: DatabaseUrl,
    name: String,
}

impl TestDatabase {
    /// Creates a migrated database cloned from the template.
    pub async fn migrated() -> Self {
        let template = TEMPLATE.get_or_init(create_template).await;
        Self::create(Some(template)).await
    }

    /// Creates an empty database without any migration applied.
    pub async fn empty() -> Self {
        Self::create(None).await
    }

    /// Returns the URL of a database that does not exist; nothing is created.
    pub fn unused_url() -> DatabaseUrl {
        server_url().with_database(&unique_name("nurture_absent"))
    }

    async fn create(template: Option<&str>) -> Self {
        let name = unique_name("nurture_test");
        let statement = match template {
            Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        execute_on_server(&statement).await;
        install_audit_key();
        Self {
            url: server_url().with_database(&name),
            runtime_url: runtime_server_url().with_database(&name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs outside any async context, so the statement gets a runtime of its own.
        let result = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot start a runtime to drop the test database")
                .block_on(execute_on_server(&statement));
        })
        .join();
        if result.is_err() && !std::thread::panicking() {
            panic!("dropping test database {} failed", self.name);
        }
    }
}

/// Runs one statement on the server's maintenance database.
pub async fn execute_on_server(statement: &str) {
    let url = server_url().with_database("postgres");
    let mut connection = AsyncPgConnection::establish(url.expose())
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {url}: {error}"));
    diesel::sql_query(statement)
        .execute(&mut connection)
        .await
        .unwrap_or_else(|error| panic!("{statement} failed: {error}"));
}

fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// Creates, once per migrations version, a database with every migration applied. Test
/// processes running at once serialise on an advisory lock, and a template whose name carries
/// the migrations' hash is reused by later runs.
async fn create_template() -> String {
    let name = format!("nurture_template_{:016x}", migrations_hash());
    let url = server_url().with_database("postgres");
    let mut connection = AsyncPgConnection::establish(url.expose())
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {url}: {error}"));
    let lock_key = 0x6e75_7274_7572_6502_i64;

    diesel::sql_query(format!("SELECT pg_advisory_lock({lock_key})"))
        .execute(&mut connection)
        .await
        .expect("cannot take the template lock");
    let exists = diesel::sql_query(format!(
        "SELECT 1 FROM pg_database WHERE datname = '{name}'"
    ))
    .execute(&mut connection)
    .await
    .expect("cannot look up the template database")
        > 0;
    if !exists {
        let building = format!("{name}_building");
        diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
        ))
        .execute(&mut connection)
        .await
        .expect("cannot drop a stale template");
        diesel::sql_query(format!("CREATE DATABASE \"{building}\""))
            .execute(&mut connection)
            .await
            .expect("cannot create the template database");
        database::run_migrations(&server_url().with_database(&building))
            .await
            .expect("migrating the template database failed");
        diesel::sql_query(format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
        ))
        .execute(&mut connection)
        .await
        .expect("cannot publish the template database");
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock_key})"))
        .execute(&mut connection)
        .await
        .expect("cannot release the template lock");
    name
}

/// Hash of every file under `migrations/`, so that a changed migration gets a new template.
fn migrations_hash() -> u64 {
    fn visit(path: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(path).expect("cannot read migrations folder") {
            let path = entry.expect("cannot read migrations folder").path();
            if path.is_dir() {
                visit(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files = Vec::new();
    visit(&root, &mut files);
    files.sort();

    let mut hasher = DefaultHasher::new();
    for file in files {
        file.strip_prefix(&root).unwrap().hash(&mut hasher);
        std::fs::read(&file)
            .expect("cannot read a migration")
            .hash(&mut hasher);
    }
    hasher.finish()
}

/// Configuration for a test server: the given database, connected as the runtime role and
/// migrated as the owner, fresh secrets except the process's audit key, and `overrides`.
pub fn test_config(database: &DatabaseUrl, overrides: &[(&str, &str)]) -> Config {
    let mut values: HashMap<String, String> = HashMap::from([
        (
            "DATABASE_URL".to_owned(),
            runtime_url(database).expose().to_owned(),
        ),
        (
            "NURTURE_MIGRATION_DATABASE_URL".to_owned(),
            database.expose().to_owned(),
        ),
        ("NURTURE_AUDIT_KEY".to_owned(), audit_key_base64()),
        ("NURTURE_PUBLIC_URL".to_owned(), ORIGIN.to_owned()),
        (
            "NURTURE_SITE_ROOT".to_owned(),
            site_root().to_string_lossy().into_owned(),
        ),
        ("NURTURE_KEK".to_owned(), SecretKey::generate().to_base64()),
        (
            "NURTURE_PSEUDONYM_KEY".to_owned(),
            SecretKey::generate().to_base64(),
        ),
        (
            "NURTURE_BLIND_INDEX_KEY".to_owned(),
            SecretKey::generate().to_base64(),
        ),
        ("NURTURE_DB_ACQUIRE_TIMEOUT_SECS".to_owned(), "2".to_owned()),
    ]);
    for (key, value) in overrides {
        values.insert((*key).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| values.get(name).cloned()).expect("test configuration is invalid")
}

/// Returns the folder of static files the router serves; the wasm bundle is not needed in process.
fn site_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../public")
}

/// The real router on its own migrated database.
pub struct TestApp {
    pub router: Router,
    pub pool: DbPool,
    pub config: Config,
    pub state: AppState,
    pub database: TestDatabase,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_overrides(&[]).await
    }

    pub async fn with_overrides(overrides: &[(&str, &str)]) -> Self {
        let database = TestDatabase::migrated().await;
        let config = test_config(&database.url, overrides);
        let pool = database::build_pool(&config.database);
        let state = AppState::new(&config, pool.clone()).expect("test state is valid");
        let router = server::router::build(state.clone());
        Self {
            router,
            pool,
            config,
            state,
            database,
        }
    }

    /// Builds a router whose pool points at `database`, which may not exist.
    pub fn router_for(database: &DatabaseUrl) -> (Router, DbPool) {
        let config = test_config(database, &[]);
        let pool = database::build_pool(&DatabaseConfig {
            pool_size: 2,
            ..config.database.clone()
        });
        let state = AppState::new(&config, pool.clone()).expect("test state is valid");
        (server::router::build(state), pool)
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        send(&self.router, request).await
    }

    pub async fn get(&self, path: &str) -> Response<Body> {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }
}

/// Time a test waits for a response, and then for its body. A response that never ends fails
/// its test instead of stopping the whole run.
const RESPONSE_DEADLINE: Duration = Duration::from_secs(60);

pub async fn send(router: &Router, request: Request<Body>) -> Response<Body> {
    let target = request.uri().clone();
    tokio::time::timeout(RESPONSE_DEADLINE, router.clone().oneshot(request))
        .await
        .unwrap_or_else(|_| {
            panic!("the response to {target} timed out after {RESPONSE_DEADLINE:?}")
        })
        .expect("the router is infallible")
}

/// Builds a form POST as a browser with JavaScript sends it from the site's own pages.
pub fn form_post(path: &str, body: &str) -> axum::http::request::Builder {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = tokio::time::timeout(
        RESPONSE_DEADLINE,
        to_bytes(response.into_body(), 16 * 1024 * 1024),
    )
    .await
    .unwrap_or_else(|_| panic!("the response body timed out after {RESPONSE_DEADLINE:?}"))
    .expect("cannot read the response body");
    String::from_utf8(bytes.to_vec()).expect("the response body is not UTF-8")
}

/// Opens a connection to `database`.
pub async fn connect(database: &DatabaseUrl) -> AsyncPgConnection {
    AsyncPgConnection::establish(database.expose())
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {database}: {error}"))
}

/// Inserts a clinic with the given slug and returns its id.
pub async fn create_clinic(connection: &mut AsyncPgConnection, slug: &str) -> app::ids::ClinicId {
    #[derive(diesel::QueryableByName)]
    struct Inserted {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let inserted: Inserted =
        diesel::sql_query("INSERT INTO clinics (slug, name) VALUES ($1, $1) RETURNING id")
            .bind::<diesel::sql_types::Text, _>(slug)
            .get_result(connection)
            .await
            .unwrap_or_else(|error| panic!("cannot create clinic {slug}: {error}"));
    app::ids::ClinicId(inserted.id)
}

/// Opens a superuser connection to `database`, or returns `None` if the superuser cannot
/// connect. The server comes from `NURTURE_TEST_SUPERUSER_URL`, by default
/// `postgres://postgres@localhost:5432`, without a database name.
pub async fn superuser_connect(database: &DatabaseUrl) -> Option<AsyncPgConnection> {
    let server = std::env::var("NURTURE_TEST_SUPERUSER_URL")
        .unwrap_or_else(|_| "postgres://postgres@localhost:5432".to_owned());
    let name = database.database_name().ok()?;
    let url = format!("{}/{name}", server.trim_end_matches('/'));
    match AsyncPgConnection::establish(&url).await {
        Ok(connection) => Some(connection),
        Err(error) => {
            println!("no superuser connection ({error}); skipping the superuser part of this test");
            None
        }
    }
}

/// Closes a superuser connection and waits until its server process has ended, because the
/// test database's `DROP DATABASE ... WITH (FORCE)` may not terminate a superuser's process.
pub async fn close_superuser(superuser: AsyncPgConnection, connection: &mut AsyncPgConnection) {
    drop(superuser);
    for _ in 0..250 {
        let remaining = diesel::sql_query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND usesysid IN (SELECT oid FROM pg_roles WHERE rolsuper)",
        )
        .execute(connection)
        .await
        .expect("cannot list the database's connections");
        if remaining == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the superuser connection did not close within 5 seconds");
}
