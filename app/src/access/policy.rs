//! The policy decision: one function that every access to patient data goes through.
//!
//! It takes the facts about one request (who, which patient, which data category, which action,
//! when) and the facts about the patient (care-team memberships, consents, emergency grants)
//! and returns allow or deny. Any failed condition denies. The caller records the decision in
//! the audit trail either way and returns the same error for a denial as for a missing record.

use chrono::{DateTime, Utc};

use crate::access::{Action, DataCategory, PermissionTable};
use crate::identity::Role;
use crate::ids::{ClinicId, PatientId, UserId};

/// The request to decide.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    pub user: UserId,
    pub roles: Vec<Role>,
    pub user_clinic: ClinicId,
    pub patient: PatientId,
    pub patient_clinic: ClinicId,
    /// The account of the patient herself, so that she can reach her own record.
    pub patient_user: Option<UserId>,
    pub category: DataCategory,
    pub action: Action,
    pub at: DateTime<Utc>,
}

/// A provider's membership of a patient's care team, in one role, for a period.
#[derive(Debug, Clone)]
pub struct Membership {
    pub user: UserId,
    pub role: Role,
    pub starts_at: DateTime<Utc>,
    /// `None` while the membership is open-ended.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Membership {
    fn active_at(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }
}

/// A consent for care coordination: the patient lets care-team members in `roles` use
/// `categories` of her record for her care, from `starts_at` until it expires or is revoked.
#[derive(Debug, Clone)]
pub struct CareConsent {
    pub categories: Vec<DataCategory>,
    pub roles: Vec<Role>,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl CareConsent {
    /// Returns whether the consent covers `role` using `category` at `at`. Expiry and revocation take
    /// effect at their instant: from then on, nothing is covered.
    fn covers(&self, role: Role, category: DataCategory, at: DateTime<Utc>) -> bool {
        self.starts_at <= at
            && self.expires_at.is_none_or(|expiry| at < expiry)
            && self.revoked_at.is_none_or(|revoked| at < revoked)
            && self.categories.contains(&category)
            && self.roles.contains(&role)
    }
}

/// A break-glass grant: emergency access for one clinician to one patient for a limited time.
#[derive(Debug, Clone)]
pub struct EmergencyGrant {
    pub user: UserId,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl EmergencyGrant {
    fn active_at(&self, at: DateTime<Utc>) -> bool {
        self.granted_at <= at && at < self.expires_at
    }
}

/// Facts about the patient at the time of the request.
#[derive(Debug, Clone, Default)]
pub struct PatientFacts {
    pub memberships: Vec<Membership>,
    pub consents: Vec<CareConsent>,
    pub emergency_grants: Vec<EmergencyGrant>,
}

/// Roles that may use break-glass emergency access.
pub const EMERGENCY_ROLES: [Role; 4] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
];

/// Ground on which access was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The patient using her own record.
    OwnRecord,
    /// A care-team member in this role, within the patient's consent.
    CareTeam(Role),
    /// A break-glass grant; every access under it is audited as emergency access.
    Emergency,
}

/// Reason access was denied, for the audit trail; never shown to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The patient belongs to another clinic.
    OtherClinic,
    /// No role of the user may perform this action on this category.
    RoleNotPermitted,
    /// The user is not on the patient's care team now and has no active emergency grant.
    NotInScope,
    /// The user is on the care team, but no active consent covers this category for her role.
    NoConsent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Basis),
    Deny(DenyReason),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// Returns whether the access is to be audited as emergency access.
    pub fn is_emergency(self) -> bool {
        self == Decision::Allow(Basis::Emergency)
    }
}

/// Decides one request. The rules, in order:
///
/// 1. A patient using her own record needs only her role's permission.
/// 2. Patients of another clinic are out of reach.
/// 3. A care-team member needs a membership active at the request's instant, in a role that
///    may perform the action on the category, and an active care consent covering that role
///    and category.
/// 4. Otherwise, a clinician with an active emergency grant may read and write the clinical
///    categories her role permits. Neither care-team scope nor consent applies, because an
///    emergency is never blocked, but the access is marked as emergency access.
pub fn decide(request: &AccessRequest, facts: &PatientFacts, table: &PermissionTable) -> Decision {
    let permitted = |role: Role| table.allows(role, request.category, request.action);

    if request.patient_user == Some(request.user) && request.roles.contains(&Role::Patient) {
        return if permitted(Role::Patient) {
            Decision::Allow(Basis::OwnRecord)
        } else {
            Decision::Deny(DenyReason::RoleNotPermitted)
        };
    }
    if request.patient_clinic != request.user_clinic {
        return Decision::Deny(DenyReason::OtherClinic);
    }
    let staff_roles = || {
        request
            .roles
            .iter()
            .copied()
            .filter(|role| *role != Role::Patient)
    };
    if !staff_roles().any(permitted) {
        return Decision::Deny(DenyReason::RoleNotPermitted);
    }

    let active_roles: Vec<Role> = facts
        .memberships
        .iter()
        .filter(|membership| membership.user == request.user && membership.active_at(request.at))
        .map(|membership| membership.role)
        .filter(|role| request.roles.contains(role) && permitted(*role))
        .collect();
    if !active_roles.is_empty() {
        let consented = active_roles.iter().copied().find(|role| {
            facts
                .consents
                .iter()
                .any(|consent| consent.covers(*role, request.category, request.at))
        });
        if let Some(role) = consented {
            return Decision::Allow(Basis::CareTeam(role));
        }
    }

    let emergency = request.category.is_clinical()
        && matches!(request.action, Action::Read | Action::Write)
        && request
            .roles
            .iter()
            .any(|role| EMERGENCY_ROLES.contains(role))
        && facts
            .emergency_grants
            .iter()
            .any(|grant| grant.user == request.user && grant.active_at(request.at));
    if emergency {
        return Decision::Allow(Basis::Emergency);
    }

    if active_roles.is_empty() {
        Decision::Deny(DenyReason::NotInScope)
    } else {
        Decision::Deny(DenyReason::NoConsent)
    }
}

#[cfg(test)]
mod tests;
