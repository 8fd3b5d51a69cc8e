//! The data-sharing check of exports: whether a patient's data-sharing consent lets her record's
//! chosen categories go to a named party at a given instant.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ConsentError;
use crate::access::DataCategory;
use crate::ids::{ClinicId, PatientId};

#[derive(QueryableByName)]
struct GrantId {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

/// Returns whether one of the patient's data-sharing grants names `recipient` (compared without
/// case and surrounding spaces) and covers every category in `categories` at `at`: started, not
/// expired and not revoked, each at its instant.
///
/// The covering grants are locked `FOR SHARE` until the caller's transaction ends, so a
/// revocation that starts after this check waits until the caller has released the data. The
/// revocations are read in a second statement, after the locks are held, so that a revocation
/// committed while this check waited for a lock is seen.
pub async fn sharing_consent_covers(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
    recipient: &str,
    categories: &[DataCategory],
    at: DateTime<Utc>,
) -> Result<bool, ConsentError> {
    let names: Vec<String> = categories
        .iter()
        .map(|category| category.as_str().to_owned())
        .collect();
    let candidates: Vec<GrantId> = crate::db::KeptSql::new(
        "SELECT g.id FROM consent_grants g \
         JOIN consent_template_versions v ON v.id = g.template_version_id \
         JOIN consent_templates t ON t.id = v.template_id \
         WHERE g.clinic_id = $1 AND g.patient_id = $2 AND t.kind = 'data_sharing' \
         AND g.starts_at <= $3 AND (g.expires_at IS NULL OR g.expires_at > $3) \
         AND g.data_categories @> $4 \
         AND EXISTS (SELECT 1 FROM unnest(g.named_parties) AS party \
                     WHERE lower(btrim(party)) = lower(btrim($5))) \
         FOR SHARE OF g",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<SqlUuid, _>(patient.0)
    .bind::<Timestamptz, _>(at)
    .bind::<Array<Text>, _>(&names)
    .bind::<Text, _>(recipient)
    .load(conn)
    .await?;
    if candidates.is_empty() {
        return Ok(false);
    }

    let ids: Vec<uuid::Uuid> = candidates.iter().map(|grant| grant.id).collect();
    let unrevoked: Vec<GrantId> = crate::db::KeptSql::new(
        "SELECT g.id FROM consent_grants g \
         LEFT JOIN consent_revocations r ON r.grant_id = g.id \
         WHERE g.id = ANY($1) AND (r.revoked_at IS NULL OR r.revoked_at > $2)",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await?;
    Ok(!unrevoked.is_empty())
}
