//! The one place where consent server functions reach a patient's data: finding the signed-in
//! patient's own record, and recording each access in the audit trail.
//!
//! Every patient-facing consent function starts with [`own_record`], so a patient can reach
//! only her own grants. An id of another patient's grant matches nothing, so it gets the same
//! "not found or not permitted" error as a missing one.
//!
//! [`own_record`] authorizes through the access policy's entry point like every other server
//! function on patient data. Consents are filed under the contact and identity category, which
//! a patient may read and write in her own record.

use diesel_async::AsyncPgConnection;

use crate::access::guard::{Actor, authorize};
use crate::access::{Action, DataCategory};
use crate::audit::{AccessAction, AccessOutcome, ClientInfo, NewAccessEvent, record_access};
use crate::error::AppError;
use crate::identity::server::auth::{self, SignedInUser};
use crate::identity::server::request::RequestMeta;
use crate::ids::PatientId;
use crate::services::Services;

/// Purpose recorded in the audit trail for a patient managing her consents.
const PURPOSE: &str = "consent management";

/// The signed-in patient and her record.
#[derive(Debug, Clone)]
pub struct OwnRecord {
    pub user: SignedInUser,
    pub patient: PatientId,
}

/// Returns the signed-in patient and her record once the access policy allows `action` on
/// her consents, or "not found" for any other user. The policy, not this function, checks
/// that the user has the patient role, so that a rejection is audited.
pub async fn own_record(services: &Services, action: Action) -> Result<OwnRecord, AppError> {
    let user = auth::require_user(services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = crate::records::patient_of_account(&mut conn, user.clinic_id, user.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    authorize(
        &mut conn,
        &Actor::from_signed_in(&user),
        patient,
        DataCategory::Contact,
        action,
        PURPOSE,
    )
    .await?;
    Ok(OwnRecord { user, patient })
}

/// Records the patient's access to her consent data. Call it inside the transaction of the
/// change it records, or in a transaction of its own after a read.
pub async fn record(
    conn: &mut AsyncPgConnection,
    own: &OwnRecord,
    action: AccessAction,
    element: &str,
) -> Result<(), AppError> {
    let meta = RequestMeta::current();
    let event = NewAccessEvent {
        clinic_id: own.user.clinic_id,
        actor_user_id: Some(own.user.id),
        actor_roles: own
            .user
            .roles
            .iter()
            .map(|role| role.as_str().to_owned())
            .collect(),
        patient_id: Some(own.patient),
        action,
        purpose: PURPOSE.to_owned(),
        data_elements: vec![element.to_owned()],
        outcome: AccessOutcome::Allowed,
        emergency: false,
        client: ClientInfo {
            address: meta.address,
            user_agent: meta.user_agent,
            request_id: meta.request_id,
        },
    };
    record_access(conn, event).await.map_err(|error| {
        tracing::error!(%error, "recording a consent access failed");
        AppError::internal()
    })?;
    Ok(())
}
