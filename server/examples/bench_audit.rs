//! Throughput of the audit trail, run by `scripts/bench-audit` in release mode against the test
//! PostgreSQL server, connected as the runtime role as the server is.
//!
//! 1. Appends: [`WRITERS`] tasks, each with its own connection, commit one event per transaction
//!    with synchronous commit, first all on one clinic, then spread over [`WRITERS`] clinics.
//!    Then the same through the group-commit writer, which the server uses for events committed
//!    on their own: [`WRITERS`] tasks each hand it one event at a time and wait until it is
//!    committed. Each measurement runs `NURTURE_BENCH_ROUNDS` times (default 3) and the median
//!    is printed.
//! 2. Verification: fills a fresh database with `NURTURE_BENCH_VERIFY_EVENTS` events (default
//!    1,000,000) on one clinic, [`FILL_PER_TRANSACTION`] per transaction from [`WRITERS`]
//!    writers, then times `verify_chains` over all of them.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use app::audit::{
    AccessAction, AccessOutcome, AuditWriter, ClientInfo, NewAccessEvent, record_access,
    record_accesses, verify_chains,
};
use app::ids::{ClinicId, PatientId, UserId};
use diesel_async::AsyncConnection;
use server::config::DatabaseConfig;
use support::TestDatabase;

const WRITERS: usize = 32;
const EVENTS_PER_WRITER: usize = 300;
const FILL_PER_TRANSACTION: usize = 1000;

#[tokio::main]
async fn main() {
    let rounds = number_from_env("NURTURE_BENCH_ROUNDS", 3);
    let verify_events = number_from_env("NURTURE_BENCH_VERIFY_EVENTS", 1_000_000);

    let database = TestDatabase::migrated().await;
    for clinics in [1, WRITERS] {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let elapsed = bench_appends(&database, clinics, EVENTS_PER_WRITER, 1).await;
            rates.push((WRITERS * EVENTS_PER_WRITER) as f64 / elapsed.as_secs_f64());
        }
        print_rates(
            &format!("appends, {WRITERS} writers, {clinics} clinics"),
            rates,
        );
    }
    for clinics in [1, WRITERS] {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let elapsed = bench_writer(&database, clinics).await;
            rates.push((WRITERS * EVENTS_PER_WRITER) as f64 / elapsed.as_secs_f64());
        }
        print_rates(
            &format!("group-commit writer, {WRITERS} writers, {clinics} clinics"),
            rates,
        );
    }

    if verify_events > 0 {
        let database = TestDatabase::migrated().await;
        let per_writer = verify_events
            .div_ceil(WRITERS)
            .div_ceil(FILL_PER_TRANSACTION)
            * FILL_PER_TRANSACTION;
        let filled = bench_appends(&database, 1, per_writer, FILL_PER_TRANSACTION).await;
        println!(
            "filled {} events, {FILL_PER_TRANSACTION} per transaction, in {:.1} s",
            per_writer * WRITERS,
            filled.as_secs_f64()
        );
        for _ in 0..rounds {
            bench_verify(&database).await;
        }
    }
}

fn number_from_env(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
        Err(_) => default,
    }
}

fn print_rates(what: &str, mut rates: Vec<f64>) {
    let all: Vec<String> = rates.iter().map(|rate| format!("{rate:.0}")).collect();
    rates.sort_by(f64::total_cmp);
    println!(
        "{what}: median {:.0} events/s (rounds: {})",
        rates[rates.len() / 2],
        all.join(", ")
    );
}

fn access(clinic_id: ClinicId) -> NewAccessEvent {
    NewAccessEvent {
        clinic_id,
        actor_user_id: Some(UserId::new_random()),
        actor_roles: vec!["midwife".to_owned()],
        patient_id: Some(PatientId::new_random()),
        action: AccessAction::Read,
        purpose: "postnatal visit".to_owned(),
        data_elements: vec!["blood_pressure".to_owned()],
        outcome: AccessOutcome::Allowed,
        emergency: false,
        client: ClientInfo {
            address: Some("192.0.2.10".parse().unwrap()),
            user_agent: Some("Mozilla/5.0 (benchmark)".to_owned()),
            request_id: None,
        },
    }
}

/// Appends `WRITERS * events_per_writer` events, `per_transaction` per transaction, from
/// `WRITERS` tasks with a connection each. Writer `i` uses clinic `i % clinic_count`.
async fn bench_appends(
    database: &TestDatabase,
    clinic_count: usize,
    events_per_writer: usize,
    per_transaction: usize,
) -> Duration {
    let mut owner = support::connect(&database.url).await;
    let mut clinics = Vec::new();
    for _ in 0..clinic_count {
        let slug = format!("bench-{}", uuid::Uuid::new_v4().simple());
        clinics.push(support::create_clinic(&mut owner, &slug).await);
    }
    let mut connections = Vec::new();
    for _ in 0..WRITERS {
        connections.push(support::connect(&database.runtime_url).await);
    }

    let start = Instant::now();
    let mut writers = Vec::new();
    for (index, mut conn) in connections.into_iter().enumerate() {
        let clinic_id = clinics[index % clinic_count];
        writers.push(tokio::spawn(async move {
            for _ in 0..events_per_writer.div_ceil(per_transaction) {
                conn.transaction(async |conn| {
                    if per_transaction == 1 {
                        record_access(conn, access(clinic_id)).await?;
                    } else {
                        let events = (0..per_transaction).map(|_| access(clinic_id)).collect();
                        record_accesses(conn, events).await?;
                    }
                    Ok::<_, app::audit::AuditError>(())
                })
                .await
                .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    start.elapsed()
}

/// Appends `WRITERS * EVENTS_PER_WRITER` events through one [`AuditWriter`], from `WRITERS`
/// tasks that each wait for an event to commit before sending the next. Writer `i` uses clinic
/// `i % clinic_count`.
async fn bench_writer(database: &TestDatabase, clinic_count: usize) -> Duration {
    let mut owner = support::connect(&database.url).await;
    let mut clinics = Vec::new();
    for _ in 0..clinic_count {
        let slug = format!("bench-{}", uuid::Uuid::new_v4().simple());
        clinics.push(support::create_clinic(&mut owner, &slug).await);
    }
    let writer = AuditWriter::start(server::database::build_pool(&DatabaseConfig {
        url: database.runtime_url.clone(),
        migration_url: None,
        pool_size: AuditWriter::CONNECTIONS,
        acquire_timeout: Duration::from_secs(30),
    }));
    // Opens the writer's connections before the clock starts, as a running server has.
    writer.record(access(clinics[0])).await.unwrap();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for index in 0..WRITERS {
        let clinic_id = clinics[index % clinic_count];
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..EVENTS_PER_WRITER {
                writer.record(access(clinic_id)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    start.elapsed()
}

async fn bench_verify(database: &TestDatabase) {
    let mut conn = support::connect(&database.runtime_url).await;

    let start = Instant::now();
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();
    let elapsed = start.elapsed();

    assert!(report.is_intact(), "{:?}", report.first_break());
    let events: u64 = report.chains.iter().map(|chain| chain.events).sum();
    println!(
        "verified {events} events in {} chains in {:.2} s = {:.0} events/s",
        report.chains.len(),
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    );
}
