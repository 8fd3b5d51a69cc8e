//! Throughput of envelope encryption and of the audit trail, run by `scripts/bench-crypto` in
//! release mode against the test PostgreSQL server.
//!
//! Prints encryption and decryption throughput for 1 KiB values on one thread, as the median of
//! [`CRYPTO_ROUNDS`] rounds because the machine is shared. Then prints audit appends per second
//! with 32 concurrent writers that commit one transaction per event, all on one clinic and then
//! spread over 32 clinics, and how fast `verify_chains` walks the events written.
//!
//! With `NURTURE_BENCH_VERIFY_EVENTS=N` it then fills a second database with N events on one
//! clinic, 50 per transaction so that filling is quick, and times `verify_chains` over them.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::audit::{
    AccessAction, AccessOutcome, ClientInfo, NewAccessEvent, record_access, verify_chains,
};
use app::crypto::{DataClass, DataKey, FieldContext};
use app::ids::{ClinicId, PatientId, UserId};
use diesel_async::AsyncConnection;
use support::TestDatabase;

const VALUE_LEN: usize = 1024;
const CRYPTO_VALUES: usize = 200_000;
const CRYPTO_ROUNDS: usize = 5;
const WRITERS: usize = 32;
const EVENTS_PER_WRITER: usize = 300;

#[tokio::main]
async fn main() {
    bench_crypto();

    let database = TestDatabase::migrated().await;
    let single = bench_appends(&database, 1, EVENTS_PER_WRITER, 1).await;
    let spread = bench_appends(&database, WRITERS, EVENTS_PER_WRITER, 1).await;
    println!(
        "audit appends, {WRITERS} writers, 1 clinic: {}",
        rate(WRITERS * EVENTS_PER_WRITER, single, "events")
    );
    println!(
        "audit appends, {WRITERS} writers, {WRITERS} clinics: {}",
        rate(WRITERS * EVENTS_PER_WRITER, spread, "events")
    );
    bench_verify(&database).await;

    if let Some(events) = verify_events_requested() {
        const PER_TRANSACTION: usize = 50;
        let per_writer = events.div_ceil(WRITERS).div_ceil(PER_TRANSACTION) * PER_TRANSACTION;
        let database = TestDatabase::migrated().await;
        let filled = bench_appends(&database, 1, per_writer, PER_TRANSACTION).await;
        println!(
            "filled for verification, {WRITERS} writers, {PER_TRANSACTION} events per \
             transaction: {}",
            rate(per_writer * WRITERS, filled, "events")
        );
        bench_verify(&database).await;
    }
}

/// Number of events for the large verification run, from `NURTURE_BENCH_VERIFY_EVENTS`.
fn verify_events_requested() -> Option<usize> {
    let text = std::env::var("NURTURE_BENCH_VERIFY_EVENTS").ok()?;
    let events = text.parse().unwrap_or_else(|_| {
        panic!("NURTURE_BENCH_VERIFY_EVENTS must be a number of events, not {text:?}")
    });
    Some(events)
}

fn rate(count: usize, elapsed: Duration, unit: &str) -> String {
    format!(
        "{count} {unit} in {:.2} s = {:.0} {unit}/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    )
}

fn megabytes_per_second(elapsed: Duration) -> f64 {
    (CRYPTO_VALUES * VALUE_LEN) as f64 / elapsed.as_secs_f64() / 1e6
}

fn bench_crypto() {
    let key = DataKey::generate();
    let context = FieldContext {
        table: "postnatal_observations",
        column: "note",
        row_id: uuid::Uuid::new_v4(),
        patient_id: PatientId::new_random(),
        data_class: DataClass::Maternal,
        data_key_version: 1,
    };
    let value = vec![0x5a_u8; VALUE_LEN];
    let ciphertext = key.encrypt(&context, &value).unwrap();

    let mut encrypt = Vec::new();
    let mut decrypt = Vec::new();
    for _ in 0..CRYPTO_ROUNDS {
        let start = Instant::now();
        for _ in 0..CRYPTO_VALUES {
            black_box(key.encrypt(&context, black_box(&value)).unwrap());
        }
        encrypt.push(start.elapsed());

        let start = Instant::now();
        for _ in 0..CRYPTO_VALUES {
            black_box(key.decrypt(&context, black_box(&ciphertext)).unwrap());
        }
        decrypt.push(start.elapsed());
    }

    for (name, mut times) in [("encrypt", encrypt), ("decrypt", decrypt)] {
        times.sort_unstable();
        let median = times[CRYPTO_ROUNDS / 2];
        let all: Vec<String> = times
            .iter()
            .map(|time| format!("{:.0}", megabytes_per_second(*time)))
            .collect();
        println!(
            "{name} {VALUE_LEN}-byte values, median of {CRYPTO_ROUNDS}: {} = {:.0} MB/s \
             (all rounds: {} MB/s)",
            rate(CRYPTO_VALUES, median, "values"),
            megabytes_per_second(median),
            all.join(", ")
        );
    }
}

fn access(clinic_id: ClinicId) -> NewAccessEvent {
    NewAccessEvent {
        clinic_id,
        actor_user_id: Some(UserId::new_random()),
        actor_roles: vec!["midwife".to_owned()],
        patient_id: PatientId::new_random(),
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
    let mut conn = support::connect(&database.url).await;
    let mut clinics = Vec::new();
    for _ in 0..clinic_count {
        let slug = format!("bench-{}", uuid::Uuid::new_v4().simple());
        clinics.push(support::create_clinic(&mut conn, &slug).await);
    }
    let mut connections = Vec::new();
    for _ in 0..WRITERS {
        connections.push(support::connect(&database.url).await);
    }

    let start = Instant::now();
    let mut writers = Vec::new();
    for (index, mut conn) in connections.into_iter().enumerate() {
        let clinic_id = clinics[index % clinic_count];
        writers.push(tokio::spawn(async move {
            for _ in 0..events_per_writer.div_ceil(per_transaction) {
                conn.transaction(async |conn| {
                    for _ in 0..per_transaction {
                        record_access(conn, access(clinic_id)).await?;
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

async fn bench_verify(database: &TestDatabase) {
    let mut conn = support::connect(&database.url).await;

    let start = Instant::now();
    let report = verify_chains(&mut conn).await.unwrap();
    let elapsed = start.elapsed();

    assert!(report.is_intact(), "{:?}", report.first_break());
    let events: u64 = report.chains.iter().map(|chain| chain.events).sum();
    println!(
        "verify {} chains: {}",
        report.chains.len(),
        rate(events as usize, elapsed, "events")
    );
}
