//! Consent templates and their versioned texts, which an admin writes and patients sign.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::hash::text_hash;
use super::schema::{consent_template_versions, consent_templates};
use super::{ConsentError, ConsentKind};
use crate::ids::{ClinicId, ConsentTemplateId, ConsentVersionId, UserId};

const MAX_TITLE_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 20_000;

/// A template with its newest version number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentTemplate {
    pub id: ConsentTemplateId,
    pub kind: ConsentKind,
    pub title: String,
    /// `None` until the first version is added.
    pub current_version: Option<i32>,
}

/// One version of a template's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentVersion {
    pub id: ConsentVersionId,
    pub template_id: ConsentTemplateId,
    pub kind: ConsentKind,
    pub title: String,
    pub version: i32,
    pub body: String,
    /// SHA-256 of `body`, the value a patient signs.
    pub text_hash: [u8; 32],
    pub created_at: DateTime<Utc>,
}

fn check_length(value: &str, max: usize, field: &str) -> Result<(), ConsentError> {
    let length = value.trim().chars().count();
    if length == 0 || length > max {
        return Err(ConsentError::InvalidInput(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

/// Creates a template without any version; add its text with [`add_template_version`].
pub async fn create_template(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    kind: ConsentKind,
    title: &str,
    created_by: UserId,
) -> Result<ConsentTemplateId, ConsentError> {
    check_length(title, MAX_TITLE_CHARS, "the title")?;
    let id = ConsentTemplateId::new_random();
    diesel::insert_into(consent_templates::table)
        .values((
            consent_templates::id.eq(id.0),
            consent_templates::clinic_id.eq(clinic_id.0),
            consent_templates::kind.eq(kind.as_str()),
            consent_templates::title.eq(title.trim()),
            consent_templates::created_by.eq(Some(created_by.0)),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// Adds the next version of a template of `clinic_id`. Patients who granted an older version
/// are asked to consent again; their grants stay valid until their own expiry.
pub async fn add_template_version(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    template_id: ConsentTemplateId,
    body: &str,
    created_by: UserId,
) -> Result<ConsentVersionId, ConsentError> {
    check_length(body, MAX_BODY_CHARS, "the consent text")?;
    let id = ConsentVersionId::new_random();
    conn.transaction::<_, ConsentError, _>(async move |conn| {
        // Locking the template serialises concurrent version numbering.
        let found: Option<uuid::Uuid> = consent_templates::table
            .filter(consent_templates::id.eq(template_id.0))
            .filter(consent_templates::clinic_id.eq(clinic_id.0))
            .select(consent_templates::id)
            .for_update()
            .first(conn)
            .await
            .optional()?;
        if found.is_none() {
            return Err(ConsentError::NotFound);
        }
        let latest: Option<i32> = consent_template_versions::table
            .filter(consent_template_versions::template_id.eq(template_id.0))
            .select(diesel::dsl::max(consent_template_versions::version))
            .first(conn)
            .await?;
        diesel::insert_into(consent_template_versions::table)
            .values((
                consent_template_versions::id.eq(id.0),
                consent_template_versions::clinic_id.eq(clinic_id.0),
                consent_template_versions::template_id.eq(template_id.0),
                consent_template_versions::version.eq(latest.unwrap_or(0) + 1),
                consent_template_versions::body.eq(body),
                consent_template_versions::text_hash.eq(text_hash(body).to_vec()),
                consent_template_versions::created_by.eq(Some(created_by.0)),
            ))
            .execute(conn)
            .await?;
        Ok(id)
    })
    .await
}

/// Lists the clinic's templates, oldest first, with their newest version numbers.
pub async fn list_templates(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<Vec<ConsentTemplate>, ConsentError> {
    let rows: Vec<(uuid::Uuid, String, String)> = consent_templates::table
        .filter(consent_templates::clinic_id.eq(clinic_id.0))
        .order((consent_templates::created_at, consent_templates::id))
        .select((
            consent_templates::id,
            consent_templates::kind,
            consent_templates::title,
        ))
        .load(conn)
        .await?;
    let versions: Vec<(uuid::Uuid, Option<i32>)> = consent_template_versions::table
        .filter(consent_template_versions::clinic_id.eq(clinic_id.0))
        .group_by(consent_template_versions::template_id)
        .select((
            consent_template_versions::template_id,
            diesel::dsl::max(consent_template_versions::version),
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(id, kind, title)| {
            let current_version = versions
                .iter()
                .find(|(template, _)| *template == id)
                .and_then(|(_, version)| *version);
            Ok(ConsentTemplate {
                id: ConsentTemplateId(id),
                kind: parse_kind(&kind)?,
                title,
                current_version,
            })
        })
        .collect()
}

pub(super) fn parse_kind(text: &str) -> Result<ConsentKind, ConsentError> {
    ConsentKind::parse(text).ok_or_else(|| {
        ConsentError::Database(diesel::result::Error::DeserializationError(
            format!("unknown consent kind {text:?}").into(),
        ))
    })
}

type VersionRow = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    i32,
    String,
    Vec<u8>,
    DateTime<Utc>,
);

const VERSION_COLUMNS: (
    consent_template_versions::id,
    consent_template_versions::template_id,
    consent_templates::kind,
    consent_templates::title,
    consent_template_versions::version,
    consent_template_versions::body,
    consent_template_versions::text_hash,
    consent_template_versions::created_at,
) = (
    consent_template_versions::id,
    consent_template_versions::template_id,
    consent_templates::kind,
    consent_templates::title,
    consent_template_versions::version,
    consent_template_versions::body,
    consent_template_versions::text_hash,
    consent_template_versions::created_at,
);

fn version_from_row(row: VersionRow) -> Result<ConsentVersion, ConsentError> {
    let (id, template_id, kind, title, version, body, hash, created_at) = row;
    let text_hash: [u8; 32] = hash.try_into().map_err(|_| {
        ConsentError::Database(diesel::result::Error::DeserializationError(
            "a stored text hash is not 32 bytes".into(),
        ))
    })?;
    Ok(ConsentVersion {
        id: ConsentVersionId(id),
        template_id: ConsentTemplateId(template_id),
        kind: parse_kind(&kind)?,
        title,
        version,
        body,
        text_hash,
        created_at,
    })
}

/// Loads one version of a template of `clinic_id`.
pub async fn find_version(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    version_id: ConsentVersionId,
) -> Result<ConsentVersion, ConsentError> {
    let row: Option<VersionRow> = consent_template_versions::table
        .inner_join(consent_templates::table)
        .filter(consent_template_versions::id.eq(version_id.0))
        .filter(consent_template_versions::clinic_id.eq(clinic_id.0))
        .select(VERSION_COLUMNS)
        .first(conn)
        .await
        .optional()?;
    version_from_row(row.ok_or(ConsentError::NotFound)?)
}

/// Loads the newest version of every template of the clinic that has one.
pub async fn current_versions(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<Vec<ConsentVersion>, ConsentError> {
    let rows: Vec<VersionRow> = consent_template_versions::table
        .inner_join(consent_templates::table)
        .filter(consent_template_versions::clinic_id.eq(clinic_id.0))
        .order((
            consent_templates::created_at,
            consent_template_versions::template_id,
            consent_template_versions::version.desc(),
        ))
        .distinct_on((
            consent_templates::created_at,
            consent_template_versions::template_id,
        ))
        .select(VERSION_COLUMNS)
        .load(conn)
        .await?;
    rows.into_iter().map(version_from_row).collect()
}

/// Returns the newest version number of a template.
pub(super) async fn latest_version_number(
    conn: &mut AsyncPgConnection,
    template_id: ConsentTemplateId,
) -> Result<i32, ConsentError> {
    let latest: Option<i32> = consent_template_versions::table
        .filter(consent_template_versions::template_id.eq(template_id.0))
        .select(diesel::dsl::max(consent_template_versions::version))
        .first(conn)
        .await?;
    latest.ok_or(ConsentError::NotFound)
}
