//! Database bootstrap at startup, and the real binary's start and graceful shutdown.

mod support;

use std::process::Stdio;
use std::time::Duration;

use diesel_async::RunQueryDsl;
use server::database::{self, DatabaseError, DatabaseUrl};
use support::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn missing_database_is_created_and_migrated() {
    let url = TestDatabase::unused_url();
    let config = support::test_config(&url, &[]);

    let pool = database::prepare(&config.database).await.unwrap();
    let status = database::schema_status(&pool, Duration::from_secs(3))
        .await
        .unwrap();
    drop(pool);

    let name = url.database_name().unwrap().to_owned();
    support::execute_on_server(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
    assert_eq!(status, database::SchemaStatus::Current);
}

#[tokio::test]
async fn prepare_twice_is_harmless() {
    let test_database = TestDatabase::migrated().await;
    let config = support::test_config(&test_database.url, &[]);

    database::prepare(&config.database).await.unwrap();
    database::prepare(&config.database).await.unwrap();
}

#[tokio::test]
async fn unreachable_server_gives_clear_error() {
    // Nothing listens on port 1 of the loopback interface, so the connection is refused.
    let url = DatabaseUrl::parse("postgres://nurture:hunter2@localhost:1/nurture").unwrap();

    let error = database::ensure_database_exists(&url).await.unwrap_err();

    assert!(matches!(error, DatabaseError::Unreachable { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with(
            "PostgreSQL is not reachable at postgres://nurture:***@localhost:1/nurture"
        ),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[derive(diesel::QueryableByName)]
struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// Returns the process id of the backend behind a connection of `pool`.
async fn backend_of(pool: &app::db::DbPool) -> i32 {
    let mut connection = pool.get().await.expect("a pooled connection");
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Backend>(&mut connection)
        .await
        .expect("the backend answers")
        .pid
}

#[tokio::test]
async fn pool_replaces_connection_that_postgres_closed() {
    let test_database = TestDatabase::migrated().await;
    let config = support::test_config(&test_database.url, &[]);
    let pool = database::build_pool(&config.database);
    let first = backend_of(&pool).await;
    assert_eq!(
        backend_of(&pool).await,
        first,
        "an idle connection is reused"
    );

    let mut owner = support::connect(&test_database.url).await;
    diesel::sql_query("SELECT pg_terminate_backend($1) AS terminated")
        .bind::<diesel::sql_types::Integer, _>(first)
        .execute(&mut owner)
        .await
        .unwrap();
    // Wait until the backend has exited and the pooled connection has seen its socket close.
    for _ in 0..100 {
        let alive: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            &format!("(SELECT count(*) FROM pg_stat_activity WHERE pid = {first})"),
        ))
        .get_result(&mut owner)
        .await
        .unwrap();
        if alive == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let second = backend_of(&pool).await;
    assert_ne!(
        second, first,
        "the closed connection was replaced, not handed out"
    );
}

/// Reads a setting of the connection's current transaction, or of its session outside one.
async fn plan_cache_mode(conn: &mut diesel_async::AsyncPgConnection) -> String {
    diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "current_setting('plan_cache_mode')",
    ))
    .get_result(conn)
    .await
    .expect("the setting can be read")
}

#[tokio::test]
async fn in_transaction_commits_or_rolls_back_its_work() {
    let test_database = TestDatabase::migrated().await;
    let mut conn = support::connect(&test_database.url).await;
    let exists = async |conn: &mut diesel_async::AsyncPgConnection, table: &str| {
        diesel::sql_query(format!("SELECT 1 FROM {table}"))
            .execute(conn)
            .await
            .is_ok()
    };

    app::db::in_transaction::<_, _, diesel::result::Error>(&mut conn, async |conn| {
        diesel::sql_query("CREATE TABLE committed (id integer)")
            .execute(conn)
            .await
    })
    .await
    .unwrap();
    assert!(
        exists(&mut conn, "committed").await,
        "the work was committed"
    );

    let failed = app::db::in_transaction::<_, (), diesel::result::Error>(&mut conn, async |conn| {
        diesel::sql_query("CREATE TABLE rolled_back (id integer)")
            .execute(conn)
            .await?;
        Err(diesel::result::Error::RollbackTransaction)
    })
    .await;
    assert!(failed.is_err());
    assert!(
        !exists(&mut conn, "rolled_back").await,
        "the work was rolled back"
    );
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Numbered {
    #[diesel(sql_type = diesel::sql_types::Int4)]
    number: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    label: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// A statement written in SQL through `db::KeptSql` binds its parameters in their places, even
/// one used twice, and is prepared once per connection however often it runs. A `$n` without a
/// value fails before anything is sent.
#[tokio::test]
async fn kept_sql_prepared_once_per_connection() {
    use diesel::sql_types::{Array, Int4, Text};

    let test_database = TestDatabase::migrated().await;
    let mut conn = support::connect(&test_database.url).await;
    let numbers = |wanted: Vec<i32>, label: &'static str| {
        app::db::KeptSql::new(
            "SELECT n AS number, $2 || ':' || n AS label FROM generate_series(1, 5) AS n \
             WHERE n = ANY($1) AND $2 <> '' ORDER BY n",
        )
        .bind::<Array<Int4>, _>(wanted)
        .bind::<Text, _>(label)
    };

    for (wanted, label) in [
        (vec![2, 4], "even"),
        (vec![1, 3, 9], "odd"),
        (vec![], "none"),
    ] {
        let rows: Vec<Numbered> = numbers(wanted.clone(), label)
            .load(&mut conn)
            .await
            .unwrap();
        let expected: Vec<Numbered> = wanted
            .into_iter()
            .filter(|number| *number <= 5)
            .map(|number| Numbered {
                number,
                label: format!("{label}:{number}"),
            })
            .collect();
        assert_eq!(rows, expected, "numbers labelled {label}");
    }

    // The text is split so that this query does not count itself.
    let prepared: Count = diesel::sql_query(
        "SELECT count(*) AS count FROM pg_prepared_statements \
         WHERE position('generate_' || 'series(1, 5)' IN statement) > 0",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(prepared.count, 1, "three runs, one prepared statement");

    let unbound = app::db::KeptSql::new("SELECT $1 AS number, $2 AS label")
        .bind::<Int4, _>(1)
        .load::<Numbered>(&mut conn)
        .await;
    assert!(
        matches!(unbound, Err(diesel::result::Error::QueryBuilderError(_))),
        "{unbound:?}"
    );
}

#[tokio::test]
async fn pooled_connections_use_generic_plans() {
    let test_database = TestDatabase::migrated().await;
    let config = support::test_config(&test_database.url, &[]);
    let pool = database::build_pool(&config.database);
    let mut first = pool.get().await.unwrap();
    let mut second = pool.get().await.unwrap();
    assert_eq!(plan_cache_mode(&mut first).await, "force_generic_plan");
    assert_eq!(plan_cache_mode(&mut second).await, "force_generic_plan");
}

#[derive(diesel::QueryableByName)]
struct Analyzed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    relname: String,
}

/// Names the tables of `url` whose statistics were ever updated by `ANALYZE`.
async fn analyzed_tables(url: &DatabaseUrl) -> Vec<String> {
    let mut conn = support::connect(url).await;
    diesel::sql_query(
        "SELECT relname::text AS relname FROM pg_stat_user_tables \
         WHERE last_analyze IS NOT NULL ORDER BY relname",
    )
    .load::<Analyzed>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|row| row.relname)
    .collect()
}

#[tokio::test]
async fn analyze_updates_the_statistics_of_every_table() {
    let test_database = TestDatabase::migrated().await;
    let config = support::test_config(&test_database.url, &[]);
    assert!(analyzed_tables(&test_database.url).await.is_empty());

    database::analyze(&config.database).await.unwrap();

    let analyzed = analyzed_tables(&test_database.url).await;
    for table in [
        "users",
        "patients_p0",
        "patients_p3",
        "observations_p1",
        "data_access_audit",
    ] {
        assert!(
            analyzed.iter().any(|name| name == table),
            "{table} not analyzed: {analyzed:?}"
        );
    }
}

/// Starts the real binary on a free loopback port with its own database.
async fn start_binary(database: &DatabaseUrl) -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secrets = server::secrets::SecretKey::generate().to_base64();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nurture"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", support::runtime_url(database).expose())
        .env("NURTURE_MIGRATION_DATABASE_URL", database.expose())
        .env("NURTURE_LISTEN", format!("127.0.0.1:{port}"))
        .env("NURTURE_PUBLIC_URL", format!("http://localhost:{port}"))
        .env(
            "NURTURE_SITE_ROOT",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../public"),
        )
        .env("NURTURE_KEK", &secrets)
        .env("NURTURE_PSEUDONYM_KEY", &secrets)
        .env("NURTURE_BLIND_INDEX_KEY", &secrets)
        .env("NURTURE_AUDIT_KEY", &secrets)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start the server binary");

    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not listen on port {port} within 10 seconds");
}

fn send_sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("the server has exited early");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_request_in_flight() {
    let test_database = TestDatabase::migrated().await;
    let (mut child, port) = start_binary(&test_database.url).await;

    // Send the headers and half of the body, so the request is in flight when SIGTERM arrives.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /api/preferences/text-size HTTP/1.1\r\nHost: localhost:{port}\r\n\
         Origin: http://localhost:{port}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nsize="
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_sigterm(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(b"large").await.unwrap();

    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("no response to the request in flight")
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server did not exit after SIGTERM")
        .unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(status.success(), "exit status {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_refuses_to_start_without_database() {
    let url = DatabaseUrl::parse("postgres://nurture:hunter2@localhost:1/nurture").unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_nurture"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", url.expose())
        .env(
            "NURTURE_KEK",
            server::secrets::SecretKey::generate().to_base64(),
        )
        .env(
            "NURTURE_PSEUDONYM_KEY",
            server::secrets::SecretKey::generate().to_base64(),
        )
        .output()
        .await
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(
            "error: PostgreSQL is not reachable at postgres://nurture:***@localhost:1/nurture"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_names_invalid_variable() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_nurture"))
        .arg("serve")
        .env_clear()
        .env("NURTURE_MODE", "production")
        .output()
        .await
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("NURTURE_PUBLIC_URL is required in production mode"),
        "{stderr}"
    );
}
