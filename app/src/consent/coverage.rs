//! Consent coverage per template: how many of the clinic's patients hold an active grant. It
//! counts patients and never reads a grant's contents.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz, Uuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ConsentError;
use super::templates::parse_kind;
use crate::ids::{ClinicId, ConsentTemplateId};

/// Counts for one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub template_id: ConsentTemplateId,
    pub kind: super::ConsentKind,
    pub title: String,
    pub current_version: Option<i32>,
    /// Patients of the clinic whose record is not erased.
    pub patients: i64,
    /// Patients with a grant of any version that applies at the given instant.
    pub consenting: i64,
    /// Patients with a grant of the newest version that applies at the given instant.
    pub consenting_current: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Nullable<Integer>)]
    current_version: Option<i32>,
    #[diesel(sql_type = BigInt)]
    patients: i64,
    #[diesel(sql_type = BigInt)]
    consenting: i64,
    #[diesel(sql_type = BigInt)]
    consenting_current: i64,
}

/// Returns the coverage of every template of the clinic at `at`, oldest template first.
pub async fn coverage(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    at: DateTime<Utc>,
) -> Result<Vec<Coverage>, ConsentError> {
    let rows: Vec<Row> = crate::db::KeptSql::new(
        "WITH newest AS ( \
             SELECT template_id, max(version) AS version FROM consent_template_versions \
             WHERE clinic_id = $1 GROUP BY template_id), \
         active AS ( \
             SELECT v.template_id, v.version, g.patient_id FROM consent_grants g \
             JOIN consent_template_versions v ON v.id = g.template_version_id \
             JOIN patients p ON p.clinic_id = g.clinic_id AND p.id = g.patient_id \
             LEFT JOIN consent_revocations r ON r.grant_id = g.id \
             WHERE g.clinic_id = $1 AND p.erased_at IS NULL AND g.starts_at <= $2 \
               AND (g.expires_at IS NULL OR g.expires_at > $2) \
               AND (r.revoked_at IS NULL OR r.revoked_at > $2)) \
         SELECT t.id, t.kind, t.title, n.version AS current_version, \
             (SELECT count(*) FROM patients p WHERE p.clinic_id = $1 AND p.erased_at IS NULL) \
                 AS patients, \
             (SELECT count(DISTINCT a.patient_id) FROM active a WHERE a.template_id = t.id) \
                 AS consenting, \
             (SELECT count(DISTINCT a.patient_id) FROM active a \
                 WHERE a.template_id = t.id AND a.version = n.version) AS consenting_current \
         FROM consent_templates t LEFT JOIN newest n ON n.template_id = t.id \
         WHERE t.clinic_id = $1 ORDER BY t.created_at, t.id",
    )
    .bind::<Uuid, _>(clinic_id.0)
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Coverage {
                template_id: ConsentTemplateId(row.id),
                kind: parse_kind(&row.kind)?,
                title: row.title,
                current_version: row.current_version,
                patients: row.patients,
                consenting: row.consenting,
                consenting_current: row.consenting_current,
            })
        })
        .collect()
}
