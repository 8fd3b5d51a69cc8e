//! Checks of the server functions that the record policy does not decide: break-glass requests
//! and their oversight, care-team management and the name lookup. They allow a user by her
//! role and by the patient's clinic. Like the policy's decisions, every refusal and every use
//! is written to the data-access audit trail, as care-logistics data of the patient when the
//! request names one, and a refusal gets the same "not found or not permitted" error as a
//! missing record.

use diesel_async::AsyncPgConnection;

use crate::access::{Action, Actor, DataCategory, guard};
use crate::audit::{AccessOutcome, NewAccessEvent, record_access};
use crate::error::AppError;
use crate::identity::Role;
use crate::ids::PatientId;

/// Fails, with an audited denial, unless `actor` has one of `roles`.
pub async fn require_roles(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    roles: &[Role],
    patient: Option<PatientId>,
    action: Action,
    purpose: &str,
) -> Result<(), AppError> {
    if actor.roles.iter().any(|role| roles.contains(role)) {
        return Ok(());
    }
    Err(deny(conn, actor, patient, action, purpose).await)
}

/// Fails, with an audited denial, unless `patient` is a patient of `actor`'s clinic. An unknown
/// patient is denied alike.
pub async fn require_clinic_patient(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    action: Action,
    purpose: &str,
) -> Result<(), AppError> {
    let owner = crate::records::patient_owner(conn, patient).await?;
    if owner.is_some_and(|owner| owner.clinic == actor.clinic) {
        return Ok(());
    }
    Err(deny(conn, actor, Some(patient), action, purpose).await)
}

async fn deny(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: Option<PatientId>,
    action: Action,
    purpose: &str,
) -> AppError {
    guard::deny(
        conn,
        actor,
        patient,
        DataCategory::CareLogistics,
        action,
        purpose,
    )
    .await
}

/// Records an allowed use of break-glass or care-team data. Call it inside the transaction of
/// the change it records, or in a transaction of its own after a read.
pub async fn record_use(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: Option<PatientId>,
    action: Action,
    purpose: &str,
    element: &str,
) -> Result<(), AppError> {
    let event = NewAccessEvent {
        clinic_id: actor.clinic,
        actor_user_id: Some(actor.user),
        actor_roles: actor
            .roles
            .iter()
            .map(|role| role.as_str().to_owned())
            .collect(),
        patient_id: patient,
        action: guard::audit_action_for(patient, action),
        purpose: purpose.to_owned(),
        data_elements: vec![element.to_owned()],
        outcome: AccessOutcome::Allowed,
        emergency: false,
        client: actor.client.clone(),
    };
    record_access(conn, event).await.map_err(|error| {
        tracing::error!(%error, "recording an access failed");
        AppError::internal()
    })?;
    Ok(())
}
