//! Signed-in benchmark users. Sessions are written into the session store as a passkey sign-in
//! leaves them, so the passkey ceremony is not part of what is measured. The generator creates
//! accounts without enrolling them, so each chosen account is first marked active, and the
//! chosen GPs' patients get a synthetic care consent, without which the policy denies every
//! chart read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use app::identity::server::accounts::{self, UserStatus};
use app::identity::server::session_store::{PgSessionStore, USER_ID_KEY};
use app::ids::{ClinicId, PatientId, UserId};
use app::services::Services;
use diesel::QueryableByName;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

/// Purpose stated in each chart request, as a clinician types it.
const CHART_PURPOSE: &str = "postnatal%20follow-up";

/// One request target of the load generator: a session cookie and a path.
pub struct Target {
    pub cookie: String,
    pub path: String,
}

/// A clinician's open event stream and the patients on her care team who record readings.
pub struct AlertSetup {
    pub clinician_cookie: String,
    pub patients: Vec<(PatientId, String)>,
}

#[derive(QueryableByName)]
struct Membership {
    #[diesel(sql_type = SqlUuid)]
    provider_user_id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    patient_id: uuid::Uuid,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

async fn clinic_id(conn: &mut AsyncPgConnection, slug: &str) -> Result<ClinicId, String> {
    let found: Option<Found> = diesel::sql_query("SELECT id FROM clinics WHERE slug = $1")
        .bind::<Text, _>(slug)
        .get_result(conn)
        .await
        .ok();
    found
        .map(|found| ClinicId(found.id))
        .ok_or_else(|| format!("clinic {slug:?} does not exist; generate its cohort first"))
}

/// Returns the care-team memberships in force now of `role`, whose patients have their own
/// account when `with_account`, grouped by provider in id order.
async fn memberships(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    role: &str,
    with_account: bool,
) -> Result<BTreeMap<UserId, Vec<PatientId>>, String> {
    let rows: Vec<Membership> = diesel::sql_query(
        "SELECT member.provider_user_id, member.patient_id FROM care_team_members AS member \
         JOIN patients AS patient \
           ON patient.clinic_id = member.clinic_id AND patient.id = member.patient_id \
         WHERE member.clinic_id = $1 AND member.role = $2 AND member.starts_at <= now() \
           AND (member.ends_at IS NULL OR member.ends_at > now()) \
           AND (NOT $3 OR patient.user_id IS NOT NULL) \
         ORDER BY member.provider_user_id, member.patient_id",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<Text, _>(role)
    .bind::<diesel::sql_types::Bool, _>(with_account)
    .load(conn)
    .await
    .map_err(|error| format!("reading care teams failed: {error}"))?;
    let mut grouped: BTreeMap<UserId, Vec<PatientId>> = BTreeMap::new();
    for row in rows {
        grouped
            .entry(UserId(row.provider_user_id))
            .or_default()
            .push(PatientId(row.patient_id));
    }
    Ok(grouped)
}

/// Marks the account active and stores a signed-in session for it; returns the cookie value.
async fn sign_in(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<String, String> {
    accounts::set_status(conn, user, UserStatus::Active)
        .await
        .map_err(|error| format!("activating {user} failed: {error}"))?;
    let now = chrono::Utc::now().timestamp();
    let mut record = Record {
        id: Id::default(),
        data: [
            (
                USER_ID_KEY.to_owned(),
                serde_json::to_value(user).map_err(|error| error.to_string())?,
            ),
            ("signed_in_at".to_owned(), Value::from(now)),
            ("last_seen".to_owned(), Value::from(now)),
            ("step_up_at".to_owned(), Value::from(now)),
        ]
        .into_iter()
        .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(2),
    };
    PgSessionStore::new(services.pool.clone())
        .create(&mut record)
        .await
        .map_err(|error| format!("storing a session failed: {error}"))?;
    Ok(record.id.to_string())
}

/// Grants a synthetic care consent to those of `patients` who have none.
async fn ensure_consents(
    services: &Services,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    author: UserId,
    patients: &[PatientId],
) -> Result<(), String> {
    let ids: Vec<uuid::Uuid> = patients.iter().map(|patient| patient.0).collect();
    let consented: Vec<Found> = diesel::sql_query(
        "SELECT DISTINCT patient_id AS id FROM consent_grants \
         WHERE clinic_id = $1 AND patient_id = ANY($2)",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .load(conn)
    .await
    .map_err(|error| format!("reading consents failed: {error}"))?;
    let missing: Vec<PatientId> = patients
        .iter()
        .copied()
        .filter(|patient| !consented.iter().any(|found| found.id == patient.0))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    server::cohort::grant_synthetic_care_consents(services, clinic, author, &missing).await
}

/// Signs in `users` GPs with at least `per_user` patients and returns a chart target for
/// `per_user` of each GP's patients.
pub async fn clinician_targets(
    services: &Services,
    slug: &str,
    users: usize,
    per_user: usize,
) -> Result<Vec<Target>, String> {
    let mut conn = app::db::connection(&services.pool)
        .await
        .map_err(|error| error.message)?;
    let clinic = clinic_id(&mut conn, slug).await?;
    let teams = memberships(&mut conn, clinic, "primary_care_provider", false).await?;
    let chosen: Vec<(UserId, Vec<PatientId>)> = teams
        .into_iter()
        .filter(|(_, patients)| patients.len() >= per_user)
        .take(users)
        .collect();
    if chosen.len() < users {
        return Err(format!(
            "only {} GPs have {per_user} patients in their care now; generate a larger cohort",
            chosen.len()
        ));
    }
    let mut targets = Vec::with_capacity(users * per_user);
    for (gp, patients) in chosen {
        let patients = &patients[..per_user];
        ensure_consents(services, &mut conn, clinic, gp, patients).await?;
        let cookie = sign_in(services, &mut conn, gp).await?;
        for patient in patients {
            targets.push(Target {
                cookie: cookie.clone(),
                path: format!("/clinician/chart?patient={patient}&purpose={CHART_PURPOSE}"),
            });
        }
    }
    Ok(targets)
}

/// Signs in `users` patients who have their own account and returns their portal home targets.
pub async fn patient_targets(
    services: &Services,
    slug: &str,
    users: usize,
) -> Result<Vec<Target>, String> {
    let mut conn = app::db::connection(&services.pool)
        .await
        .map_err(|error| error.message)?;
    let clinic = clinic_id(&mut conn, slug).await?;
    let accounts: Vec<Found> = diesel::sql_query(
        "SELECT user_id AS id FROM patients WHERE clinic_id = $1 AND user_id IS NOT NULL \
         ORDER BY user_id LIMIT $2",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<diesel::sql_types::BigInt, _>(users as i64)
    .load(&mut conn)
    .await
    .map_err(|error| format!("reading patient accounts failed: {error}"))?;
    let mut targets = Vec::with_capacity(accounts.len());
    for account in accounts {
        targets.push(Target {
            cookie: sign_in(services, &mut conn, UserId(account.id)).await?,
            path: "/patient".to_owned(),
        });
    }
    Ok(targets)
}

/// Chooses the midwife with the most patients in her care who have their own account, and
/// signs in her and those patients. A severe blood pressure alerts the midwife and the GP.
pub async fn alert_setup(services: &Services, slug: &str) -> Result<AlertSetup, String> {
    let mut conn = app::db::connection(&services.pool)
        .await
        .map_err(|error| error.message)?;
    let clinic = clinic_id(&mut conn, slug).await?;
    let teams = memberships(&mut conn, clinic, "midwife", true).await?;
    let (midwife, patients) = teams
        .into_iter()
        .max_by_key(|(_, patients)| patients.len())
        .ok_or("no midwife has a patient with her own account in her care now")?;
    let clinician_cookie = sign_in(services, &mut conn, midwife).await?;
    let mut signed_in = Vec::with_capacity(patients.len());
    for patient in patients {
        let owner = app::records::patient_owner(&mut conn, patient)
            .await
            .map_err(|error| error.to_string())?
            .and_then(|owner| owner.user)
            .ok_or("a patient lost her account")?;
        signed_in.push((patient, sign_in(services, &mut conn, owner).await?));
    }
    Ok(AlertSetup {
        clinician_cookie,
        patients: signed_in,
    })
}

/// Writes targets as `cookie<TAB>path` lines.
pub fn write_targets(path: &Path, targets: &[Target]) -> Result<(), String> {
    let mut file = std::fs::File::create(path)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    for target in targets {
        writeln!(file, "{}\t{}", target.cookie, target.path)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(())
}
