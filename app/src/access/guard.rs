//! The policy entry point: every server function that reads or writes patient data calls
//! [`authorize`] first.
//!
//! `authorize` loads the facts about the patient (her clinic and account, care-team
//! memberships, care consents, break-glass grants) and the clinic's permission table, and applies
//! [`policy::decide`]. A denial is committed to the audit trail on its own, through the
//! server's group-commit writer ([`crate::audit::AuditWriter`]), so it stays recorded although
//! the request fails, and the caller gets the same "not found or not
//! permitted" error whether or not the patient exists. An allowed request gets an
//! [`Authorization`]: the record store's functions take one instead of a patient id, so they
//! cannot be called for a patient or a data category that was not authorized.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use leptos::prelude::use_context;

use crate::access::policy::{self, AccessRequest, Basis, Decision, DenyReason, PatientFacts};
use crate::access::{Action, DataCategory, PermissionTable, emergency, settings};
use crate::audit::{
    AccessAction, AccessOutcome, AuditError, ClientInfo, NewAccessEvent, record_access,
    record_in_transaction,
};
use crate::error::AppError;
use crate::identity::Role;
use crate::identity::server::auth::SignedInUser;
use crate::identity::server::request::RequestMeta;
use crate::ids::{ClinicId, PatientId, UserId};
use crate::records::{self, AccessContext, PatientOwner, RecordsError};
use crate::services::Services;

/// The signed-in user who asks for access, with the client she uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub roles: Vec<Role>,
    pub clinic: ClinicId,
    pub client: ClientInfo,
}

impl Actor {
    /// Builds the actor of the current request from its signed-in user.
    pub fn from_signed_in(user: &SignedInUser) -> Self {
        let meta = RequestMeta::current();
        Self {
            user: user.id,
            roles: user.roles.clone(),
            clinic: user.clinic_id,
            client: ClientInfo {
                address: meta.address,
                user_agent: meta.user_agent,
                request_id: meta.request_id,
            },
        }
    }
}

/// Proof that the policy allowed one action on one data category of one patient. Only
/// [`authorize`] creates it; the record store reads the patient from it.
#[derive(Debug, Clone)]
pub struct Authorization {
    access: AccessContext,
    patient: PatientId,
    category: DataCategory,
    action: Action,
    basis: Basis,
}

impl Authorization {
    pub fn patient(&self) -> PatientId {
        self.patient
    }

    pub fn category(&self) -> DataCategory {
        self.category
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// Returns whether the access rests on a break-glass grant, which is audited as emergency
    /// access.
    pub fn is_emergency(&self) -> bool {
        self.access.emergency
    }

    /// Returns the ground on which the policy allowed the access.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// Builds the audit event of an allowed access to `data_elements` under this authorization,
    /// for a caller that records it in the transaction of its own read.
    pub fn allowed_event(&self, data_elements: Vec<String>) -> NewAccessEvent {
        let access = &self.access;
        NewAccessEvent {
            clinic_id: access.clinic_id,
            actor_user_id: Some(access.actor),
            actor_roles: access
                .actor_roles
                .iter()
                .map(|role| role.as_str().to_owned())
                .collect(),
            patient_id: Some(self.patient),
            action: audit_action(self.action),
            purpose: access.purpose.clone(),
            data_elements,
            outcome: AccessOutcome::Allowed,
            emergency: access.emergency,
            client: access.client.clone(),
        }
    }

    /// Returns the audit context and the patient, if this authorization covers `category` and
    /// `action`; otherwise the record store fails as for a missing record.
    pub(crate) fn scope(
        &self,
        category: DataCategory,
        action: Action,
    ) -> Result<(&AccessContext, PatientId), RecordsError> {
        if self.category == category && self.action == action {
            Ok((&self.access, self.patient))
        } else {
            tracing::error!(
                authorized = ?(self.category, self.action),
                requested = ?(category, action),
                "record operation called with an authorization for something else"
            );
            Err(RecordsError::NotFound)
        }
    }

    /// Returns the audit context, the patient and the audited action for a read of `category`.
    /// An export authorization also reads, because building an export bundle reads the record;
    /// the audit trail then records the read as an export.
    pub(crate) fn read_scope(
        &self,
        category: DataCategory,
    ) -> Result<(&AccessContext, PatientId, AccessAction), RecordsError> {
        let action = if self.action == Action::Export {
            Action::Export
        } else {
            Action::Read
        };
        let (access, patient) = self.scope(category, action)?;
        Ok((access, patient, audit_action(action)))
    }
}

/// Decides whether `actor` may perform `action` on `category` of `patient` for `purpose`.
/// A denial is audited and fails with [`AppError::not_found`].
pub async fn authorize(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    category: DataCategory,
    action: Action,
    purpose: &str,
) -> Result<Authorization, AppError> {
    authorize_at(conn, actor, patient, category, action, purpose, Utc::now()).await
}

/// [`authorize`] at a given instant, so that tests can probe the exact limits of time windows.
pub async fn authorize_at(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    category: DataCategory,
    action: Action,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<Authorization, AppError> {
    records::validate_purpose(purpose)?;
    let decision = decide(conn, actor, patient, category, action, at).await?;

    let access = AccessContext {
        actor: actor.user,
        actor_roles: actor.roles.clone(),
        clinic_id: actor.clinic,
        purpose: purpose.trim().to_owned(),
        emergency: decision.is_emergency(),
        client: actor.client.clone(),
    };
    let basis = match decision {
        Decision::Allow(basis) => basis,
        Decision::Deny(reason) => {
            record_denial(conn, &access, Some(patient), category, action, reason).await?;
            return Err(AppError::not_found());
        }
    };
    Ok(Authorization {
        access,
        patient,
        category,
        action,
        basis,
    })
}

/// Denies a request that a rule outside the policy refuses, such as an export whose
/// data-sharing consent no longer names the recipient, or a role check of break-glass
/// oversight. The denial is audited like the policy's own, without a patient when the request
/// names none, and the caller gets the same "not found or not permitted" error.
pub async fn deny(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: Option<PatientId>,
    category: DataCategory,
    action: Action,
    purpose: &str,
) -> AppError {
    if let Err(error) = records::validate_purpose(purpose) {
        return error.into();
    }
    let access = AccessContext {
        actor: actor.user,
        actor_roles: actor.roles.clone(),
        clinic_id: actor.clinic,
        purpose: purpose.trim().to_owned(),
        emergency: false,
        client: actor.client.clone(),
    };
    let recorded = record_denial(
        conn,
        &access,
        patient,
        category,
        action,
        DenyReason::NoConsent,
    )
    .await;
    match recorded {
        Ok(()) => AppError::not_found(),
        Err(error) => error,
    }
}

/// Authorizes several patients for one purpose; one denial refuses the whole request, and every
/// denial is audited.
pub async fn authorize_all(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    targets: &[(PatientId, DataCategory)],
    action: Action,
    purpose: &str,
) -> Result<Vec<Authorization>, AppError> {
    let mut granted = Vec::with_capacity(targets.len());
    let mut denied = false;
    for (patient, category) in targets {
        match authorize(conn, actor, *patient, *category, action, purpose).await {
            Ok(authorization) => granted.push(authorization),
            Err(error) if error.code == crate::error::ErrorCode::NotFound => denied = true,
            Err(error) => return Err(error),
        }
    }
    if denied {
        return Err(AppError::not_found());
    }
    Ok(granted)
}

/// Authorizes `action` on each of `categories` of one patient for one purpose, as a page that
/// shows several categories of one record does. The facts about the patient are loaded once,
/// with the permission table that the caller has already loaded. Returns one entry per
/// category in the same order: the authorization, or `None` where the policy denied it.
///
/// The denied categories are recorded together as one denial event, committed on its own
/// before the caller reads anything. When every category is denied the request fails as
/// [`authorize`] fails, with the same "not found or not permitted" error, so a page that shows
/// nothing reveals nothing about the patient. With no category to ask for, the request is
/// refused the same way.
pub async fn authorize_categories(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    categories: &[DataCategory],
    action: Action,
    purpose: &str,
    table: &PermissionTable,
) -> Result<Vec<Option<Authorization>>, AppError> {
    records::validate_purpose(purpose)?;
    let at = Utc::now();
    let decisions = decide_categories(conn, actor, patient, categories, action, at, table).await?;
    let access = |emergency| AccessContext {
        actor: actor.user,
        actor_roles: actor.roles.clone(),
        clinic_id: actor.clinic,
        purpose: purpose.trim().to_owned(),
        emergency,
        client: actor.client.clone(),
    };

    let mut granted = Vec::with_capacity(categories.len());
    let mut denied = Vec::new();
    let mut reason = DenyReason::NotInScope;
    for (&category, decision) in categories.iter().zip(decisions) {
        match decision {
            Decision::Allow(basis) => granted.push(Some(Authorization {
                access: access(decision.is_emergency()),
                patient,
                category,
                action,
                basis,
            })),
            Decision::Deny(why) => {
                reason = why;
                denied.push(category_element(category).to_owned());
                granted.push(None);
            }
        }
    }
    if denied.is_empty() && granted.is_empty() {
        denied.push("chart".to_owned());
    }
    if !denied.is_empty() {
        let everything = granted.iter().all(Option::is_none);
        record_denial_of(conn, &access(false), Some(patient), denied, action, reason).await?;
        if everything {
            return Err(AppError::not_found());
        }
    }
    Ok(granted)
}

/// Loads the facts and the permission table and applies the policy.
async fn decide(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    category: DataCategory,
    action: Action,
    at: DateTime<Utc>,
) -> Result<Decision, AppError> {
    let table = settings::permission_table(conn, actor.clinic).await?;
    let decisions =
        decide_categories(conn, actor, patient, &[category], action, at, &table).await?;
    Ok(decisions
        .into_iter()
        .next()
        .unwrap_or(Decision::Deny(DenyReason::NotInScope)))
}

/// Loads the facts about one patient once and applies the policy to each of `categories`,
/// returning one decision per category in the same order.
async fn decide_categories(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    categories: &[DataCategory],
    action: Action,
    at: DateTime<Utc>,
    table: &PermissionTable,
) -> Result<Vec<Decision>, AppError> {
    let mut facts = facts_of(conn, actor, &[patient]).await?;
    let known = facts.remove(&patient);
    Ok(decide_with(
        actor, patient, known, categories, action, at, table,
    ))
}

/// Facts about a patient that the policy decides on. A patient of another clinic, who is not
/// the actor herself, gets no further facts loaded.
enum Known {
    OtherClinic,
    InScope(PatientOwner, PatientFacts),
}

/// Loads what the policy needs about each of `patients` with four queries, whatever their
/// number: the owners, then the care-team memberships, care consents and break-glass grants of
/// those in scope. A patient who does not exist or is erased is left out.
async fn facts_of(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patients: &[PatientId],
) -> Result<HashMap<PatientId, Known>, AppError> {
    let owners = records::patient_owners(conn, patients).await?;
    let mut known = HashMap::with_capacity(owners.len());
    let mut in_scope: HashMap<ClinicId, Vec<PatientId>> = HashMap::new();
    for (&patient, owner) in &owners {
        if owner.clinic != actor.clinic && owner.user != Some(actor.user) {
            known.insert(patient, Known::OtherClinic);
        } else {
            in_scope.entry(owner.clinic).or_default().push(patient);
        }
    }

    let mut memberships = HashMap::new();
    let mut grants = HashMap::new();
    let mut consents = HashMap::new();
    for (clinic, ids) in &in_scope {
        memberships.extend(records::care_teams_memberships(conn, *clinic, ids).await?);
        grants.extend(emergency::grants_for_patients(conn, *clinic, ids).await?);
        let found = crate::consent::patients_care_consents(conn, *clinic, ids)
            .await
            .map_err(|error| {
                tracing::error!(%error, "loading care consents failed");
                AppError::internal()
            })?;
        consents.extend(found);
    }
    for patient in in_scope.into_values().flatten() {
        let facts = PatientFacts {
            memberships: memberships.remove(&patient).unwrap_or_default(),
            consents: consents.remove(&patient).unwrap_or_default(),
            emergency_grants: grants.remove(&patient).unwrap_or_default(),
        };
        known.insert(patient, Known::InScope(owners[&patient], facts));
    }
    Ok(known)
}

/// Applies the policy to each of `categories` of a patient with what is `known` of her, and
/// returns one decision per category in the same order.
fn decide_with(
    actor: &Actor,
    patient: PatientId,
    known: Option<Known>,
    categories: &[DataCategory],
    action: Action,
    at: DateTime<Utc>,
    table: &PermissionTable,
) -> Vec<Decision> {
    let deny_all = |reason| vec![Decision::Deny(reason); categories.len()];
    let (owner, facts) = match known {
        None => return deny_all(DenyReason::NotInScope),
        Some(Known::OtherClinic) => return deny_all(DenyReason::OtherClinic),
        Some(Known::InScope(owner, facts)) => (owner, facts),
    };
    categories
        .iter()
        .map(|&category| {
            let request = AccessRequest {
                user: actor.user,
                roles: actor.roles.clone(),
                user_clinic: actor.clinic,
                patient,
                patient_clinic: owner.clinic,
                patient_user: owner.user,
                category,
                action,
                at,
            };
            policy::decide(&request, &facts, table)
        })
        .collect()
}

/// Authorizes `action` on each of `categories` of each of `patients` for a listing, such as the
/// care-team dashboard, that shows only what the policy allows. The facts of all the patients
/// are loaded together, with four queries, and the permission table once.
///
/// A denied combination is left out of the result and not recorded as a denial, because the
/// caller did not request that patient's data. The listing shows what the user may see, and the
/// caller records an access event for each allowed authorization it uses. A request for one
/// patient by id still goes through [`authorize`], which records a denial.
pub async fn authorize_listed(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patients: &[PatientId],
    categories: &[DataCategory],
    action: Action,
    purpose: &str,
) -> Result<Vec<Authorization>, AppError> {
    records::validate_purpose(purpose)?;
    let table = settings::permission_table(conn, actor.clinic).await?;
    let at = Utc::now();
    let mut facts = facts_of(conn, actor, patients).await?;
    let mut granted = Vec::new();
    for &patient in patients {
        let known = facts.remove(&patient);
        let decisions = decide_with(actor, patient, known, categories, action, at, &table);
        for (&category, decision) in categories.iter().zip(decisions) {
            let Decision::Allow(basis) = decision else {
                continue;
            };
            let access = AccessContext {
                actor: actor.user,
                actor_roles: actor.roles.clone(),
                clinic_id: actor.clinic,
                purpose: purpose.trim().to_owned(),
                emergency: decision.is_emergency(),
                client: actor.client.clone(),
            };
            granted.push(Authorization {
                access,
                patient,
                category,
                action,
                basis,
            });
        }
    }
    Ok(granted)
}

/// Records a denied access, committed on its own (see [`commit_event`]).
async fn record_denial(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient: Option<PatientId>,
    category: DataCategory,
    action: Action,
    reason: DenyReason,
) -> Result<(), AppError> {
    let elements = vec![category_element(category).to_owned()];
    record_denial_of(conn, access, patient, elements, action, reason).await
}

/// Records one denied access to `data_elements`, committed on its own.
async fn record_denial_of(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient: Option<PatientId>,
    data_elements: Vec<String>,
    action: Action,
    reason: DenyReason,
) -> Result<(), AppError> {
    tracing::info!(?reason, ?patient, "access denied by policy");
    let event = NewAccessEvent {
        clinic_id: access.clinic_id,
        actor_user_id: Some(access.actor),
        actor_roles: access
            .actor_roles
            .iter()
            .map(|role| role.as_str().to_owned())
            .collect(),
        patient_id: patient,
        action: audit_action_for(patient, action),
        purpose: access.purpose.clone(),
        data_elements,
        outcome: AccessOutcome::Denied,
        emergency: false,
        client: access.client.clone(),
    };
    commit_event(conn, event).await.map_err(|error| {
        tracing::error!(%error, "recording a denied access failed");
        AppError::internal()
    })
}

/// Commits an access event on its own before the request goes on: through the server's
/// group-commit writer when the request has one, otherwise in a transaction on `conn`, as in
/// commands and tests that call the policy without a server.
async fn commit_event(
    conn: &mut AsyncPgConnection,
    event: NewAccessEvent,
) -> Result<(), AuditError> {
    match use_context::<Arc<Services>>() {
        Some(services) => services.audit.record(event).await.map(drop),
        None => {
            conn.transaction(async move |conn| record_access(conn, event).await.map(drop))
                .await
        }
    }
}

/// Returns the audit trail's name for an action.
pub fn audit_action(action: Action) -> AccessAction {
    match action {
        Action::Read => AccessAction::Read,
        Action::Write => AccessAction::Write,
        Action::Delete => AccessAction::Delete,
        Action::Export => AccessAction::Export,
    }
}

/// Returns the audit trail's name for an action on `patient`. The trail files an event without
/// a patient, such as a refused lookup or a listing of break-glass requests, as a search.
pub fn audit_action_for(patient: Option<PatientId>, action: Action) -> AccessAction {
    match patient {
        Some(_) => audit_action(action),
        None => AccessAction::Search,
    }
}

/// Returns the data element a denial names: the category, since nothing was read.
pub fn category_element(category: DataCategory) -> &'static str {
    match category {
        DataCategory::Maternal => "category.maternal",
        DataCategory::Infant => "category.infant",
        DataCategory::MentalHealth => "category.mental_health",
        DataCategory::FamilyHistory => "category.family_history",
        DataCategory::Contact => "category.contact",
        DataCategory::CareLogistics => "category.care_logistics",
    }
}

/// Records an allowed access in the caller's transaction, so that it commits or rolls back
/// with the read or change it describes.
pub async fn record_allowed_in_transaction(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
    data_elements: Vec<String>,
) -> Result<(), AppError> {
    record_in_transaction(conn, authorization.allowed_event(data_elements))
        .await
        .map_err(|error| {
            tracing::error!(%error, "recording an access failed");
            AppError::internal()
        })
}

/// Records an allowed access that no record-store function records, such as reading the
/// patient's own access history.
pub async fn record_allowed(
    conn: &mut AsyncPgConnection,
    authorization: &Authorization,
    data_elements: Vec<String>,
) -> Result<(), AppError> {
    let event = authorization.allowed_event(data_elements);
    commit_event(conn, event).await.map_err(|error| {
        tracing::error!(%error, "recording an access failed");
        AppError::internal()
    })
}
