//! The three steps of an export, each of which checks the access policy and the data-sharing
//! consent at its own instant: the request, the build and the release.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::store::{self, ExportRow};
use super::{EXPORTABLE, ExportBundle, ExportStatus, bundle};
use crate::access::policy::Basis;
use crate::access::{Action, Actor, Authorization, DataCategory, guard};
use crate::audit::ClientInfo;
use crate::error::AppError;
use crate::identity::server::accounts::{self, UserStatus};
use crate::ids::{ExportId, PatientId, UserId};
use crate::records::{self, RecordKeys, SealedLocation};

const MAX_RECIPIENT_CHARS: usize = 200;

/// Reason stored when the access policy no longer allows the export.
const POLICY_REASON: &str = "The requester may no longer export these categories of this record.";
/// Reason stored when no data-sharing consent covers the export any more.
const CONSENT_REASON: &str =
    "The patient's data-sharing consent no longer covers this recipient and these categories.";

/// An export that a clinician requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExport {
    pub patient: PatientId,
    /// The party that receives the bundle, as the patient's data-sharing consent names it.
    pub recipient: String,
    pub purpose: String,
    pub categories: Vec<DataCategory>,
}

/// Reason an export may not proceed, stored with a withheld export. The policy or
/// [`guard::deny`] has audited the denial.
struct Refusal(&'static str);

/// Checks the export of `categories` of `patient` to `recipient` by `actor` at `at`. The policy
/// must allow the export of each category on the care team's ground, and a data-sharing consent
/// must cover the recipient and every category. Returns one authorization per category.
async fn check(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    recipient: &str,
    purpose: &str,
    categories: &[DataCategory],
    at: DateTime<Utc>,
) -> Result<Result<Vec<Authorization>, Refusal>, AppError> {
    let mut authorizations = Vec::with_capacity(categories.len());
    for &category in categories {
        let authorization =
            match guard::authorize_at(conn, actor, patient, category, Action::Export, purpose, at)
                .await
            {
                Ok(authorization) => authorization,
                Err(error) if error.code == crate::error::ErrorCode::NotFound => {
                    return Ok(Err(Refusal(POLICY_REASON)));
                }
                Err(error) => return Err(error),
            };
        // A patient's own-record permission covers downloads for herself, not sharing with a
        // third party, which her care team does under her data-sharing consent.
        if !matches!(authorization.basis(), Basis::CareTeam(_)) {
            return refuse(conn, actor, patient, category, purpose, POLICY_REASON).await;
        }
        authorizations.push(authorization);
    }

    let owner = records::patient_owner(conn, patient)
        .await?
        .ok_or_else(AppError::not_found)?;
    let covered = crate::consent::sharing_consent_covers(
        conn,
        owner.clinic,
        patient,
        recipient,
        categories,
        at,
    )
    .await?;
    if !covered {
        return refuse(conn, actor, patient, categories[0], purpose, CONSENT_REASON).await;
    }
    Ok(Ok(authorizations))
}

/// Checks a stored export again, as [`check`] does a new one.
async fn check_row(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    row: &ExportRow,
    at: DateTime<Utc>,
) -> Result<Result<Vec<Authorization>, Refusal>, AppError> {
    let categories = &row.categories;
    check(
        conn,
        actor,
        row.patient_id,
        &row.recipient,
        &row.purpose,
        categories,
        at,
    )
    .await
}

/// Audits a denial that the policy did not make itself and returns the refusal.
async fn refuse(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    category: DataCategory,
    purpose: &str,
    reason: &'static str,
) -> Result<Result<Vec<Authorization>, Refusal>, AppError> {
    let error = guard::deny(
        conn,
        actor,
        Some(patient),
        category,
        Action::Export,
        purpose,
    )
    .await;
    if error.code == crate::error::ErrorCode::NotFound {
        Ok(Err(Refusal(reason)))
    } else {
        Err(error)
    }
}

fn validate(new: &NewExport) -> Result<(String, Vec<DataCategory>), AppError> {
    let recipient = new.recipient.trim();
    let length = recipient.chars().count();
    if length == 0 || length > MAX_RECIPIENT_CHARS || recipient.chars().any(char::is_control) {
        return Err(AppError::invalid_input(format!(
            "Name the recipient in 1 to {MAX_RECIPIENT_CHARS} characters, as the patient's \
             data-sharing consent names it."
        )));
    }
    records::validate_purpose(&new.purpose)?;
    let mut categories = new.categories.clone();
    categories.sort();
    categories.dedup();
    if categories.is_empty() || !categories.iter().all(|c| EXPORTABLE.contains(c)) {
        return Err(AppError::invalid_input(
            "Choose at least one of maternal, infant, mental health, family history or contact data.",
        ));
    }
    Ok((recipient.to_owned(), categories))
}

/// Queues an export of `new.patient`'s record requested by `actor`, after the policy and the
/// data-sharing consent allowed it now. The request is audited as an export; a refusal is
/// audited as a denial and fails with "not found".
pub async fn queue_export(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    new: &NewExport,
) -> Result<ExportRow, AppError> {
    let (recipient, categories) = validate(new)?;
    let purpose = new.purpose.trim();
    let now = Utc::now();
    let checked = check(
        conn,
        actor,
        new.patient,
        &recipient,
        purpose,
        &categories,
        now,
    )
    .await?;
    let Ok(authorizations) = checked else {
        return Err(AppError::not_found());
    };

    let owner = records::patient_owner(conn, new.patient)
        .await?
        .ok_or_else(AppError::not_found)?;
    let row = ExportRow {
        id: ExportId::new_random(),
        clinic_id: owner.clinic,
        patient_id: new.patient,
        requester: actor.user,
        recipient,
        purpose: purpose.to_owned(),
        categories,
        status: ExportStatus::Queued,
        requested_at: now,
        built_at: None,
        released_at: None,
        withheld_reason: None,
    };
    let stored = row.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        store::insert_queued(conn, &stored).await?;
        record_step(conn, &authorizations, "export_request").await
    })
    .await?;
    super::worker::wake();
    Ok(row)
}

/// Records one audit event per category for a step that reads no record content itself.
async fn record_step(
    conn: &mut AsyncPgConnection,
    authorizations: &[Authorization],
    step: &str,
) -> Result<(), AppError> {
    for authorization in authorizations {
        let element = format!("{step}.{}", authorization.category().as_str());
        guard::record_allowed(conn, authorization, vec![element]).await?;
    }
    Ok(())
}

/// Builds the actor of a queued export's requester for the worker: her current roles, or none
/// when her account is no longer active, so that the policy denies the export.
async fn requester_actor(
    conn: &mut AsyncPgConnection,
    requester: UserId,
) -> Result<Actor, AppError> {
    let account = accounts::find_account(conn, requester)
        .await
        .map_err(accounts::internal)?
        .ok_or_else(|| {
            tracing::error!(%requester, "the requester of an export does not exist");
            AppError::internal()
        })?;
    let roles = if account.status == UserStatus::Active {
        accounts::roles_of(conn, requester, account.clinic_id)
            .await
            .map_err(accounts::internal)?
    } else {
        Vec::new()
    };
    Ok(Actor {
        user: requester,
        roles,
        clinic: account.clinic_id,
        client: ClientInfo {
            address: None,
            user_agent: Some("nurture export worker".to_owned()),
            request_id: None,
        },
    })
}

fn bundle_location(row: &ExportRow) -> SealedLocation {
    SealedLocation {
        table: "data_exports",
        column: "bundle_ciphertext",
        row_id: row.id.0,
    }
}

/// Builds a queued export as of `at`: checks the policy and the consent as its requester,
/// reads the permitted categories, and stores the bundle sealed under the patient's data key.
/// A refused export is withheld with the reason instead. Returns the export's new status, or
/// `None` when it is no longer queued or another worker has locked it.
pub async fn build_export_at(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    id: ExportId,
    at: DateTime<Utc>,
) -> Result<Option<ExportStatus>, AppError> {
    conn.transaction::<_, AppError, _>(async move |conn| {
        let Some(row) = store::lock_queued(conn, id).await? else {
            return Ok(None);
        };
        let actor = requester_actor(conn, row.requester).await?;
        let checked = check_row(conn, &actor, &row, at).await?;
        let authorizations = match checked {
            Ok(authorizations) => authorizations,
            Err(Refusal(reason)) => {
                tracing::info!(export = %row.id, "export withheld before it was built");
                store::mark_withheld(conn, &row, reason, at).await?;
                return Ok(Some(ExportStatus::Withheld));
            }
        };

        let document = bundle::build(conn, keys, &row, &authorizations, at).await?;
        let (sealed, version) = records::seal_patient_value(
            conn,
            keys.provider,
            row.clinic_id,
            row.patient_id,
            bundle_location(&row),
            &document,
        )
        .await?;
        store::mark_ready(conn, &row, sealed, version, at).await?;
        Ok(Some(ExportStatus::Ready))
    })
    .await
}

/// Outcome of a release attempt.
enum Release {
    Released(ExportBundle),
    Refused,
}

/// Releases `actor`'s export `id` as of `at`, after checking the policy and the data-sharing
/// consent again at that instant. When either refuses, nothing is released: the stored bundle
/// is deleted, the export is withheld with the reason, the denial is audited, and the caller
/// gets "not found", as for an export that does not exist or is not ready.
pub async fn release_export_at(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    actor: &Actor,
    id: ExportId,
    at: DateTime<Utc>,
) -> Result<ExportBundle, AppError> {
    let outcome = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let Some(row) = store::lock_for_requester(conn, actor.user, id).await? else {
                return Ok(Release::Refused);
            };
            let checked = check_row(conn, actor, &row, at).await?;
            let authorizations = match checked {
                Ok(authorizations) => authorizations,
                Err(Refusal(reason)) => {
                    if matches!(row.status, ExportStatus::Queued | ExportStatus::Ready) {
                        tracing::info!(export = %row.id, "export withheld at release");
                        store::mark_withheld(conn, &row, reason, at).await?;
                    }
                    return Ok(Release::Refused);
                }
            };
            if row.status != ExportStatus::Ready {
                return Ok(Release::Refused);
            }
            let Some(sealed) = store::bundle(conn, &row).await? else {
                return Ok(Release::Refused);
            };

            let location = bundle_location(&row);
            let content = records::open_patient_values(
                conn,
                keys.provider,
                row.clinic_id,
                row.patient_id,
                &[(location, sealed.as_slice())],
            )
            .await?
            .remove(0);
            store::mark_released(conn, &row, at).await?;
            record_step(conn, &authorizations, "export_release").await?;
            Ok(Release::Released(ExportBundle {
                id: row.id,
                recipient: row.recipient,
                categories: row.categories,
                content,
            }))
        })
        .await?;
    match outcome {
        Release::Released(bundle) => Ok(bundle),
        Release::Refused => Err(AppError::not_found()),
    }
}
