//! The audit trail against real PostgreSQL: appending, reading, the append-only rules, tamper
//! detection, transactional behaviour, concurrent writers, the audit key and the runtime role's
//! privileges.

mod support;

use std::net::IpAddr;

use app::audit::{
    AccessAction, AccessOutcome, AuditError, AuditKey, AuditKeyring, AuditTable, AuditWriter,
    BreakReason, ClientInfo, HistoryPage, NewAccessEvent, NewSecurityEvent, SecurityEventKind,
    VerifyReport, patient_access_history, record_access, record_clinic_accesses,
    record_security_event, user_security_events, verify_chains,
};
use app::ids::{ClinicId, PatientId, UserId};
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, RunQueryDsl, TransactionManager,
};
use support::TestDatabase;

fn access(clinic_id: ClinicId, patient_id: PatientId, purpose: &str) -> NewAccessEvent {
    NewAccessEvent {
        clinic_id,
        actor_user_id: Some(UserId::new_random()),
        actor_roles: vec!["midwife".to_owned()],
        patient_id: Some(patient_id),
        action: AccessAction::Read,
        purpose: purpose.to_owned(),
        data_elements: vec!["blood_pressure".to_owned(), "feeding".to_owned()],
        outcome: AccessOutcome::Allowed,
        emergency: false,
        client: ClientInfo {
            address: Some("192.0.2.10".parse().unwrap()),
            user_agent: Some("Mozilla/5.0 (synthetic)".to_owned()),
            request_id: Some("req-1".to_owned()),
        },
    }
}

fn security(clinic_id: ClinicId, subject: UserId, kind: SecurityEventKind) -> NewSecurityEvent {
    NewSecurityEvent {
        clinic_id,
        actor_user_id: None,
        subject_user_id: Some(subject),
        kind,
        // jsonb stores keys ordered by length, unlike this literal.
        detail: serde_json::json!({ "zz_attempts": 3, "a": { "y": [1, 2.5], "b": "x" } }),
        client: ClientInfo {
            address: Some("2001:db8::7".parse().unwrap()),
            user_agent: None,
            request_id: None,
        },
    }
}

async fn record(conn: &mut AsyncPgConnection, event: NewAccessEvent) {
    conn.transaction(async |conn| record_access(conn, event).await)
        .await
        .unwrap();
}

async fn record_security(conn: &mut AsyncPgConnection, event: NewSecurityEvent) {
    conn.transaction(async |conn| record_security_event(conn, event).await)
        .await
        .unwrap();
}

/// Returns the number of verified access events of `clinic_id`, if it has a chain.
fn access_events_of(report: &VerifyReport, clinic_id: ClinicId) -> Option<u64> {
    report
        .chains
        .iter()
        .find(|chain| chain.table == AuditTable::DataAccess && chain.clinic_id == clinic_id)
        .map(|chain| chain.events)
}

const FIRST_PAGE: HistoryPage = HistoryPage {
    limit: 100,
    before: None,
};

#[tokio::test]
async fn appended_events_verify() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let patient_id = PatientId::new_random();
    let user_id = UserId::new_random();

    for purpose in ["postnatal visit", "medication review", "discharge summary"] {
        record(&mut conn, access(clinic_id, patient_id, purpose)).await;
    }
    record_security(
        &mut conn,
        security(clinic_id, user_id, SecurityEventKind::SignInFailed),
    )
    .await;
    record_security(
        &mut conn,
        security(clinic_id, user_id, SecurityEventKind::SignInSucceeded),
    )
    .await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    assert!(report.is_intact(), "{:?}", report.first_break());
    let counts: Vec<_> = report
        .chains
        .iter()
        .map(|chain| (chain.table, chain.clinic_id, chain.events))
        .collect();
    assert_eq!(
        counts,
        [
            (AuditTable::DataAccess, clinic_id, 3),
            (AuditTable::SecurityEvents, clinic_id, 2)
        ]
    );
}

#[tokio::test]
async fn history_lists_newest_first_in_pages() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let patient_id = PatientId::new_random();
    let other_patient = PatientId::new_random();
    let user_id = UserId::new_random();
    for purpose in ["first", "second", "third"] {
        record(&mut conn, access(clinic_id, patient_id, purpose)).await;
    }
    record(&mut conn, access(clinic_id, other_patient, "other")).await;
    record_security(
        &mut conn,
        security(clinic_id, user_id, SecurityEventKind::PasskeyAdded),
    )
    .await;

    let page = HistoryPage {
        limit: 2,
        before: None,
    };
    let first = patient_access_history(&mut conn, patient_id, page)
        .await
        .unwrap();
    let next = HistoryPage {
        limit: 2,
        before: first.last().map(|event| event.cursor()),
    };
    let second = patient_access_history(&mut conn, patient_id, next)
        .await
        .unwrap();
    let events = user_security_events(&mut conn, user_id, FIRST_PAGE)
        .await
        .unwrap();

    let purposes: Vec<_> = first
        .iter()
        .chain(&second)
        .map(|event| event.purpose.as_str())
        .collect();
    assert_eq!(purposes, ["third", "second", "first"]);
    assert_eq!(first[0].sequence, 3);
    assert_eq!(first[0].action, AccessAction::Read);
    assert_eq!(
        first[0].client.address,
        Some("192.0.2.10".parse::<IpAddr>().unwrap())
    );
    assert_eq!(first[0].data_elements, ["blood_pressure", "feeding"]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, SecurityEventKind::PasskeyAdded);
    assert_eq!(
        events[0].client.address,
        Some("2001:db8::7".parse::<IpAddr>().unwrap())
    );
    assert_eq!(events[0].detail["zz_attempts"], 3);
}

#[tokio::test]
async fn update_delete_and_truncate_rejected() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    record(
        &mut conn,
        access(clinic_id, PatientId::new_random(), "visit"),
    )
    .await;
    record_security(
        &mut conn,
        security(clinic_id, UserId::new_random(), SecurityEventKind::StepUp),
    )
    .await;

    for statement in [
        "UPDATE data_access_audit SET purpose = 'changed'",
        "DELETE FROM data_access_audit",
        "TRUNCATE data_access_audit",
        "UPDATE security_events SET kind = 'step_up'",
        "DELETE FROM security_events",
        "TRUNCATE security_events",
    ] {
        let error = diesel::sql_query(statement)
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();
    assert!(report.is_intact());
    assert_eq!(report.chains[0].events, 1);
}

#[tokio::test]
async fn partition_truncate_rejected() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;

    let error = diesel::sql_query("TRUNCATE data_access_audit_default")
        .execute(&mut conn)
        .await
        .unwrap_err();

    assert!(error.to_string().contains("append-only"), "{error}");
}

/// Runs `statement` as a superuser with triggers disabled for the session.
async fn tamper(superuser: &mut AsyncPgConnection, statement: &str) {
    diesel::sql_query("SET session_replication_role = replica")
        .execute(superuser)
        .await
        .unwrap();
    let changed = diesel::sql_query(statement)
        .execute(superuser)
        .await
        .unwrap();
    assert_eq!(changed, 1, "{statement}");
}

#[tokio::test]
async fn tampering_found_by_verify() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };
    let mut clinics = Vec::new();
    for slug in ["altered-clinic", "deleted-clinic", "truncated-clinic"] {
        let clinic_id = support::create_clinic(&mut conn, slug).await;
        for purpose in ["one", "two", "three"] {
            record(
                &mut conn,
                access(clinic_id, PatientId::new_random(), purpose),
            )
            .await;
        }
        clinics.push(clinic_id);
    }

    tamper(
        &mut superuser,
        &format!("UPDATE data_access_audit SET purpose = 'hidden' WHERE clinic_id = '{}' AND sequence = 2", clinics[0]),
    )
    .await;
    tamper(
        &mut superuser,
        &format!(
            "DELETE FROM data_access_audit WHERE clinic_id = '{}' AND sequence = 2",
            clinics[1]
        ),
    )
    .await;
    tamper(
        &mut superuser,
        &format!(
            "DELETE FROM data_access_audit WHERE clinic_id = '{}' AND sequence = 3",
            clinics[2]
        ),
    )
    .await;
    support::close_superuser(superuser, &mut conn).await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let break_of = |clinic_id| {
        let chain = report
            .chains
            .iter()
            .find(|chain| chain.clinic_id == clinic_id)
            .unwrap();
        let link = chain
            .first_break
            .clone()
            .expect("the chain should be broken");
        (link.sequence, link.reason)
    };
    assert!(!report.is_intact());
    assert_eq!(break_of(clinics[0]), (2, BreakReason::HashMismatch));
    assert_eq!(break_of(clinics[1]), (3, BreakReason::Gap { expected: 2 }));
    assert_eq!(
        break_of(clinics[2]),
        (
            3,
            BreakReason::HeadMismatch {
                last_event_sequence: 2
            }
        )
    );
}

#[tokio::test]
async fn rewritten_prev_hash_found_by_verify() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    for _ in 0..2 {
        record_security(
            &mut conn,
            security(
                clinic_id,
                UserId::new_random(),
                SecurityEventKind::SessionEnded,
            ),
        )
        .await;
    }

    tamper(
        &mut superuser,
        "UPDATE security_events SET prev_hash = hash WHERE sequence = 2",
    )
    .await;
    support::close_superuser(superuser, &mut conn).await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let link = report.first_break().expect("the chain should be broken");
    assert_eq!(link.table, AuditTable::SecurityEvents);
    assert_eq!(link.sequence, 2);
    assert_eq!(link.reason, BreakReason::PrevHashMismatch);
}

#[tokio::test]
async fn rejected_audit_event_rolls_back_access() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;

    let result: Result<(), AuditError> = conn
        .transaction(async |conn| {
            // Stands for the access being recorded: a write in the same transaction.
            support::create_clinic(conn, "written-in-transaction").await;
            // The purpose must not be blank, so the database rejects this event.
            record_access(conn, access(clinic_id, PatientId::new_random(), " ")).await?;
            Ok(())
        })
        .await;
    let remaining =
        diesel::sql_query("SELECT 1 FROM clinics WHERE slug = 'written-in-transaction'")
            .execute(&mut conn)
            .await
            .unwrap();
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    assert!(matches!(result, Err(AuditError::Database(_))), "{result:?}");
    assert_eq!(remaining, 0);
    assert!(report.is_intact());
    assert!(report.chains.iter().all(|chain| chain.events == 0));
}

#[tokio::test]
async fn recording_outside_transaction_rejected() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;

    let result = record_access(
        &mut conn,
        access(clinic_id, PatientId::new_random(), "visit"),
    )
    .await;

    assert!(
        matches!(result, Err(AuditError::NotInTransaction)),
        "{result:?}"
    );
}

#[tokio::test]
async fn non_object_detail_rejected() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let event = NewSecurityEvent {
        detail: serde_json::json!(["not", "an", "object"]),
        ..security(clinic_id, UserId::new_random(), SecurityEventKind::StepUp)
    };

    let result = conn
        .transaction(async |conn| record_security_event(conn, event).await)
        .await;

    assert!(
        matches!(result, Err(AuditError::DetailNotObject)),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_chain() {
    const WRITERS: usize = 8;
    const EVENTS_PER_WRITER: usize = 25;
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "busy-clinic").await;

    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let url = database.url.clone();
        writers.push(tokio::spawn(async move {
            let mut conn = support::connect(&url).await;
            for _ in 0..EVENTS_PER_WRITER {
                record(
                    &mut conn,
                    access(clinic_id, PatientId::new_random(), "visit"),
                )
                .await;
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(report.chains.len(), 1);
    assert_eq!(
        report.chains[0].events,
        (WRITERS * EVENTS_PER_WRITER) as u64
    );
}

/// Records one access, then one in `holder`'s open transaction and one in a transaction of
/// `other` while the first is still open, then commits the first. Returns the clinic.
async fn record_while_shard_zero_held(
    holder: &mut AsyncPgConnection,
    other: &mut AsyncPgConnection,
) -> ClinicId {
    let clinic_id = support::create_clinic(holder, "busy-clinic").await;
    // Committed first, so that the head of shard 0 exists before the writers overlap. A head
    // created by an open transaction makes the other writer wait for it to commit.
    record(holder, access(clinic_id, PatientId::new_random(), "zero")).await;
    AnsiTransactionManager::begin_transaction(holder)
        .await
        .unwrap();
    record_access(holder, access(clinic_id, PatientId::new_random(), "first"))
        .await
        .unwrap();

    record(other, access(clinic_id, PatientId::new_random(), "second")).await;
    AnsiTransactionManager::commit_transaction(holder)
        .await
        .unwrap();
    clinic_id
}

#[derive(diesel::QueryableByName)]
struct ShardRow {
    #[diesel(sql_type = diesel::sql_types::Int2)]
    shard: i16,
    #[diesel(sql_type = diesel::sql_types::Text)]
    purpose: String,
}

async fn shards_by_purpose(conn: &mut AsyncPgConnection) -> Vec<(i16, String)> {
    let rows: Vec<ShardRow> =
        diesel::sql_query("SELECT shard, purpose FROM data_access_audit ORDER BY shard, purpose")
            .load(conn)
            .await
            .unwrap();
    rows.into_iter()
        .map(|row| (row.shard, row.purpose))
        .collect()
}

/// The second writer finds shard 0 held, takes shard 1, and its next append continues there from
/// the head it moved, without locking a head first.
#[tokio::test]
async fn concurrent_writer_takes_next_shard() {
    let database = TestDatabase::migrated().await;
    let mut holder = support::connect(&database.url).await;
    let mut other = support::connect(&database.url).await;

    let clinic_id = record_while_shard_zero_held(&mut holder, &mut other).await;
    record(
        &mut other,
        access(clinic_id, PatientId::new_random(), "third"),
    )
    .await;
    let shards = shards_by_purpose(&mut other).await;
    let report = verify_chains(&mut other, &support::audit_keyring())
        .await
        .unwrap();

    assert_eq!(
        shards,
        [
            (0, "first".to_owned()),
            (0, "zero".to_owned()),
            (1, "second".to_owned()),
            (1, "third".to_owned())
        ]
    );
    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(report.chains.len(), 1);
    assert_eq!(report.chains[0].events, 4);
    assert_eq!(report.chains[0].shards, 32);
}

/// An append rolled back after moving a head leaves this process remembering a head that the
/// database never committed. The next append must notice, write nothing after that head, and
/// continue the chain from the committed one.
#[tokio::test]
async fn append_after_rollback_continues_chain() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    record(
        &mut conn,
        access(clinic_id, PatientId::new_random(), "kept"),
    )
    .await;

    let rolled_back = conn
        .transaction(async |conn| {
            record_access(conn, access(clinic_id, PatientId::new_random(), "undone")).await?;
            Err::<(), _>(AuditError::MixedClinics)
        })
        .await;
    record(
        &mut conn,
        access(clinic_id, PatientId::new_random(), "after"),
    )
    .await;
    record_security(
        &mut conn,
        security(
            clinic_id,
            UserId::new_random(),
            SecurityEventKind::SignInFailed,
        ),
    )
    .await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    assert!(matches!(rolled_back, Err(AuditError::MixedClinics)));
    assert_eq!(
        shards_by_purpose(&mut conn).await,
        [(0, "after".to_owned()), (0, "kept".to_owned())]
    );
    assert!(report.is_intact(), "{:?}", report.first_break());
    let access_chain = &report.chains[0];
    assert_eq!(
        (access_chain.table, access_chain.events),
        (AuditTable::DataAccess, 2)
    );
}

#[tokio::test]
async fn tampering_in_other_shard_found() {
    let database = TestDatabase::migrated().await;
    let mut holder = support::connect(&database.url).await;
    let mut other = support::connect(&database.url).await;
    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };
    let clinic_id = record_while_shard_zero_held(&mut holder, &mut other).await;

    tamper(
        &mut superuser,
        "UPDATE data_access_audit SET purpose = 'hidden' WHERE shard = 1",
    )
    .await;
    support::close_superuser(superuser, &mut other).await;
    let report = verify_chains(&mut other, &support::audit_keyring())
        .await
        .unwrap();

    let link = report.first_break().expect("the chain should be broken");
    assert_eq!(link.clinic_id, clinic_id);
    assert_eq!(link.shard, 1);
    assert_eq!(link.sequence, 1);
    assert_eq!(link.reason, BreakReason::HashMismatch);
}

#[tokio::test]
async fn event_moved_between_shards_found() {
    let database = TestDatabase::migrated().await;
    let mut holder = support::connect(&database.url).await;
    let mut other = support::connect(&database.url).await;
    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };
    record_while_shard_zero_held(&mut holder, &mut other).await;

    tamper(
        &mut superuser,
        "UPDATE data_access_audit SET shard = 2 WHERE shard = 1",
    )
    .await;
    support::close_superuser(superuser, &mut other).await;
    let report = verify_chains(&mut other, &support::audit_keyring())
        .await
        .unwrap();

    let link = report.first_break().expect("the chain should be broken");
    assert_eq!(link.shard, 1);
    assert_eq!(
        link.reason,
        BreakReason::HeadMismatch {
            last_event_sequence: 0
        }
    );
}

#[tokio::test]
async fn shard_head_ahead_of_events_found() {
    let database = TestDatabase::migrated().await;
    let mut holder = support::connect(&database.url).await;
    let mut other = support::connect(&database.url).await;
    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };
    record_while_shard_zero_held(&mut holder, &mut other).await;

    // An empty shard whose head claims events: they were all removed.
    tamper(
        &mut superuser,
        "UPDATE audit_chain_heads SET last_sequence = 4 WHERE shard = 5 \
         AND chain = 'data_access_audit'",
    )
    .await;
    support::close_superuser(superuser, &mut other).await;
    let report = verify_chains(&mut other, &support::audit_keyring())
        .await
        .unwrap();

    let link = report.first_break().expect("the chain should be broken");
    assert_eq!(link.shard, 5);
    assert_eq!(link.sequence, 4);
    assert_eq!(
        link.reason,
        BreakReason::HeadMismatch {
            last_event_sequence: 0
        }
    );
}

#[tokio::test]
async fn clinic_chains_are_independent() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let first = support::create_clinic(&mut conn, "first-clinic").await;
    let second = support::create_clinic(&mut conn, "second-clinic").await;
    let patient_id = PatientId::new_random();

    for clinic_id in [first, second, first, first, second] {
        record(&mut conn, access(clinic_id, patient_id, "visit")).await;
    }
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();
    let history = patient_access_history(&mut conn, patient_id, FIRST_PAGE)
        .await
        .unwrap();

    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(access_events_of(&report, first), Some(3));
    assert_eq!(access_events_of(&report, second), Some(2));
    let mut second_sequences: Vec<_> = history
        .iter()
        .filter(|event| event.clinic_id == second)
        .map(|event| event.sequence)
        .collect();
    second_sequences.sort_unstable();
    assert_eq!(second_sequences, [1, 2]);
}

#[tokio::test]
async fn overlong_client_values_truncated() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let patient_id = PatientId::new_random();
    let mut event = access(clinic_id, patient_id, "visit");
    event.client.user_agent = Some("é".repeat(1500));
    event.client.request_id = Some("r".repeat(300));

    record(&mut conn, event).await;
    let history = patient_access_history(&mut conn, patient_id, FIRST_PAGE)
        .await
        .unwrap();
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let client = &history[0].client;
    assert_eq!(
        client.user_agent.as_deref(),
        Some("é".repeat(1000).as_str())
    );
    assert_eq!(client.request_id.as_deref(), Some("r".repeat(200).as_str()));
    assert!(report.is_intact(), "{:?}", report.first_break());
}

#[test]
fn security_event_kinds_round_trip() {
    for kind in SecurityEventKind::ALL {
        assert_eq!(kind.as_str().parse::<SecurityEventKind>().unwrap(), *kind);
    }
}

/// Runs `nurture verify-audit` against `database`, returning its exit code and standard output.
async fn run_verify_command(
    database: &server::database::DatabaseUrl,
    audit_key: &str,
) -> (Option<i32>, String) {
    let secret = server::secrets::SecretKey::generate().to_base64();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_nurture"))
        .arg("verify-audit")
        .env_clear()
        .env("DATABASE_URL", support::runtime_url(database).expose())
        .env("NURTURE_KEK", &secret)
        .env("NURTURE_PSEUDONYM_KEY", &secret)
        .env("NURTURE_BLIND_INDEX_KEY", &secret)
        .env("NURTURE_AUDIT_KEY", audit_key)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("cannot run the nurture binary");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn verify_command_reports_chains() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    for purpose in ["one", "two"] {
        record(
            &mut conn,
            access(clinic_id, PatientId::new_random(), purpose),
        )
        .await;
    }

    let (status, output) = run_verify_command(&database.url, &support::audit_key_base64()).await;

    assert_eq!(status, Some(0), "{output}");
    assert!(
        output.contains(&format!("data_access_audit  clinic {clinic_id}  2 events")),
        "{output}"
    );
    assert!(output.contains("all chains intact"), "{output}");

    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };
    tamper(
        &mut superuser,
        "UPDATE data_access_audit SET emergency = true WHERE sequence = 1",
    )
    .await;
    support::close_superuser(superuser, &mut conn).await;
    let (status, output) = run_verify_command(&database.url, &support::audit_key_base64()).await;

    assert_eq!(status, Some(1), "{output}");
    assert!(
        output.contains(&format!(
            "first broken link: data_access_audit chain of clinic {clinic_id} shard 0 is broken at sequence 1"
        )),
        "{output}"
    );
}

/// Runs `statement` and returns the database's error text; panics if it succeeds.
async fn rejected(conn: &mut AsyncPgConnection, statement: &str) -> String {
    match diesel::sql_query(statement).execute(conn).await {
        Ok(rows) => panic!("{statement} succeeded and changed {rows} rows"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn runtime_role_cannot_change_audit_tables() {
    let database = TestDatabase::migrated().await;
    let mut owner = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut owner, "harbour-clinic").await;
    let mut runtime = support::connect(&database.runtime_url).await;
    // The runtime role appends and reads, as the server does.
    record(
        &mut runtime,
        access(clinic_id, PatientId::new_random(), "visit"),
    )
    .await;
    record_security(
        &mut runtime,
        security(clinic_id, UserId::new_random(), SecurityEventKind::StepUp),
    )
    .await;

    for table in [
        "data_access_audit",
        "security_events",
        "data_access_audit_default",
    ] {
        let error = rejected(
            &mut runtime,
            &format!("ALTER TABLE {table} DISABLE TRIGGER ALL"),
        )
        .await;
        assert!(error.contains("must be owner"), "{table}: {error}");
    }
    for statement in [
        "UPDATE data_access_audit SET purpose = 'changed'",
        "DELETE FROM data_access_audit",
        "UPDATE security_events SET kind = 'step_up'",
        "DELETE FROM security_events",
        "UPDATE data_access_audit_default SET purpose = 'changed'",
        "DELETE FROM security_events_default",
        "TRUNCATE data_access_audit",
        "DELETE FROM audit_chain_heads",
        "UPDATE audit_unkeyed_prefixes SET last_sequence = 1",
        "SET session_replication_role = replica",
    ] {
        let error = rejected(&mut runtime, statement).await;
        assert!(error.contains("permission denied"), "{statement}: {error}");
    }

    let report = verify_chains(&mut runtime, &support::audit_keyring())
        .await
        .unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(report.chains.len(), 2);
}

#[tokio::test]
async fn chain_fails_verification_without_its_key() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    record(
        &mut conn,
        access(clinic_id, PatientId::new_random(), "visit"),
    )
    .await;
    let other_key = AuditKey::new(1, [0x5a; 32]).unwrap();

    let report = verify_chains(&mut conn, &AuditKeyring::new(other_key))
        .await
        .unwrap();

    let link = report
        .first_break()
        .expect("a wrong key must break the chain");
    assert_eq!((link.sequence, link.reason), (1, BreakReason::HashMismatch));
}

#[tokio::test]
async fn previous_audit_key_still_verifies() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    record(
        &mut conn,
        access(clinic_id, PatientId::new_random(), "visit"),
    )
    .await;
    let test_key = support::audit_keyring().current().clone();
    let replacement = AuditKey::new(2, [0x17; 32]).unwrap();

    let without_old = AuditKeyring::new(replacement.clone());
    let report = verify_chains(&mut conn, &without_old).await.unwrap();
    let reason = report.first_break().map(|link| link.reason);
    assert_eq!(reason, Some(BreakReason::UnknownKey { version: 1 }));

    let with_old = AuditKeyring::new(replacement)
        .with_previous(test_key)
        .unwrap();
    let report = verify_chains(&mut conn, &with_old).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break());
}

#[tokio::test]
async fn rewritten_event_without_key_found() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    for purpose in ["one", "two"] {
        record(
            &mut conn,
            access(clinic_id, PatientId::new_random(), purpose),
        )
        .await;
    }
    let Some(mut superuser) = support::superuser_connect(&database.url).await else {
        return;
    };

    // Someone who owns the tables but lacks the key changes the first event, drops its key
    // version to pass it off as an event from before keys, and repairs the link to the second.
    tamper(
        &mut superuser,
        "UPDATE data_access_audit SET purpose = 'changed', key_version = 0, \
         hash = sha256(convert_to('forged', 'UTF8')) WHERE sequence = 1",
    )
    .await;
    tamper(
        &mut superuser,
        "UPDATE data_access_audit SET prev_hash = sha256(convert_to('forged', 'UTF8')) \
         WHERE sequence = 2",
    )
    .await;
    support::close_superuser(superuser, &mut conn).await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let link = report
        .first_break()
        .expect("the forged event must break the chain");
    assert_eq!((link.sequence, link.reason), (1, BreakReason::Unkeyed));
}

#[tokio::test]
async fn access_without_patient_rejected_unless_search() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let mut event = access(clinic_id, PatientId::new_random(), "visit");
    event.patient_id = None;

    let result = conn
        .transaction(async |conn| record_access(conn, event.clone()).await)
        .await;
    assert!(
        matches!(result, Err(AuditError::PatientRequired)),
        "{result:?}"
    );

    event.action = AccessAction::Search;
    record(&mut conn, event).await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break());
}

/// Runs `events` through a group-commit writer of the database's own, all sent before the
/// writer's tasks first run (the test runtime has one thread), and returns each outcome.
async fn through_writer(
    database: &TestDatabase,
    events: Vec<NewAccessEvent>,
) -> Vec<Result<app::audit::AuditEventId, AuditError>> {
    let config = server::config::DatabaseConfig {
        url: database.runtime_url.clone(),
        migration_url: None,
        pool_size: AuditWriter::CONNECTIONS,
        acquire_timeout: std::time::Duration::from_secs(10),
    };
    let writer = AuditWriter::start(server::database::build_pool(&config));
    futures_util::future::join_all(events.into_iter().map(|event| writer.record(event))).await
}

async fn transactions_holding_events(conn: &mut AsyncPgConnection) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        transactions: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT count(DISTINCT xmin::text) AS transactions FROM data_access_audit",
    )
    .get_result(conn)
    .await
    .unwrap();
    count.transactions
}

#[tokio::test]
async fn writer_commits_concurrent_events_together() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let first = support::create_clinic(&mut conn, "first-clinic").await;
    let second = support::create_clinic(&mut conn, "second-clinic").await;
    let events: Vec<_> = (0..40)
        .map(|index| {
            let clinic_id = if index % 3 == 0 { second } else { first };
            access(
                clinic_id,
                PatientId::new_random(),
                &format!("visit {index}"),
            )
        })
        .collect();

    // The first batch finds no heads remembered and appends clinic by clinic; the second
    // appends both clinics in one statement.
    let mut outcomes = through_writer(&database, events[..20].to_vec()).await;
    outcomes.extend(through_writer(&database, events[20..].to_vec()).await);
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let ids: std::collections::HashSet<_> = outcomes.into_iter().map(Result::unwrap).collect();
    assert_eq!(ids.len(), 40);
    assert_eq!(transactions_holding_events(&mut conn).await, 2);
    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(access_events_of(&report, first), Some(26));
    assert_eq!(access_events_of(&report, second), Some(14));
}

#[tokio::test]
async fn writer_rejects_only_the_bad_event() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let mut events: Vec<_> = (0..5)
        .map(|_| access(clinic_id, PatientId::new_random(), "visit"))
        .collect();
    // The table's CHECK constraint rejects a blank purpose.
    events[2].purpose = "   ".to_owned();

    let outcomes = through_writer(&database, events).await;
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let failed: Vec<_> = outcomes.iter().map(Result::is_err).collect();
    assert_eq!(failed, [false, false, true, false, false]);
    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(report.chains[0].events, 4);
}

#[tokio::test]
async fn clinic_with_stale_head_appended_apart() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let stale = support::create_clinic(&mut conn, "first-clinic").await;
    let fresh = support::create_clinic(&mut conn, "second-clinic").await;
    for clinic_id in [stale, fresh] {
        record(
            &mut conn,
            access(clinic_id, PatientId::new_random(), "visit"),
        )
        .await;
    }
    let _ = conn
        .transaction(async |conn| {
            record_access(conn, access(stale, PatientId::new_random(), "undone")).await?;
            Err::<(), _>(AuditError::MixedClinics)
        })
        .await;
    let batch = |clinic_id, count| {
        (0..count)
            .map(|_| access(clinic_id, PatientId::new_random(), "batch"))
            .collect::<Vec<_>>()
    };

    let ids = conn
        .transaction(async |conn| {
            record_clinic_accesses(conn, vec![batch(stale, 2), batch(fresh, 3)]).await
        })
        .await
        .unwrap();
    let report = verify_chains(&mut conn, &support::audit_keyring())
        .await
        .unwrap();

    let counts: Vec<_> = ids.iter().map(Vec::len).collect();
    assert_eq!(counts, [2, 3]);
    assert!(report.is_intact(), "{:?}", report.first_break());
    assert_eq!(access_events_of(&report, stale), Some(3));
    assert_eq!(access_events_of(&report, fresh), Some(4));
}

#[tokio::test]
async fn clinic_listed_twice_rejected() {
    let database = TestDatabase::migrated().await;
    let mut conn = support::connect(&database.url).await;
    let clinic_id = support::create_clinic(&mut conn, "harbour-clinic").await;
    let event = || vec![access(clinic_id, PatientId::new_random(), "visit")];

    let result = conn
        .transaction(async |conn| record_clinic_accesses(conn, vec![event(), event()]).await)
        .await;

    assert!(
        matches!(result, Err(AuditError::MixedClinics)),
        "{result:?}"
    );
}
