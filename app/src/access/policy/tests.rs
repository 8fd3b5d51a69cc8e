//! The authorization matrix: every role × relationship × consent state × category × action,
//! checked against the rules stated per relationship, plus the boundaries of every time window.

use chrono::{Duration, TimeZone, Utc};
use uuid::Uuid;

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relationship {
    OwnRecord,
    OnCareTeam,
    OffCareTeam,
    OtherClinic,
    ExpiredMembership,
    UnderBreakGlass,
    AfterBreakGlass,
}

const RELATIONSHIPS: [Relationship; 7] = [
    Relationship::OwnRecord,
    Relationship::OnCareTeam,
    Relationship::OffCareTeam,
    Relationship::OtherClinic,
    Relationship::ExpiredMembership,
    Relationship::UnderBreakGlass,
    Relationship::AfterBreakGlass,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsentState {
    Granted,
    Revoked,
    Expired,
    NeverGiven,
}

const CONSENT_STATES: [ConsentState; 4] = [
    ConsentState::Granted,
    ConsentState::Revoked,
    ConsentState::Expired,
    ConsentState::NeverGiven,
];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Builds the request and facts for one cell of the matrix.
fn scenario(
    role: Role,
    relationship: Relationship,
    consent: ConsentState,
    category: DataCategory,
    action: Action,
) -> (AccessRequest, PatientFacts) {
    let user = UserId(id(1));
    let clinic = ClinicId(id(10));
    let other_clinic = ClinicId(id(11));
    let at = now();
    let request = AccessRequest {
        user,
        roles: vec![role],
        user_clinic: clinic,
        patient: PatientId(id(100)),
        patient_clinic: if relationship == Relationship::OtherClinic {
            other_clinic
        } else {
            clinic
        },
        patient_user: Some(if relationship == Relationship::OwnRecord {
            user
        } else {
            UserId(id(2))
        }),
        category,
        action,
        at,
    };

    let mut facts = PatientFacts::default();
    let membership = |starts_at, ends_at| Membership {
        user,
        role,
        starts_at,
        ends_at,
    };
    match relationship {
        Relationship::OnCareTeam | Relationship::OtherClinic => {
            facts
                .memberships
                .push(membership(at - Duration::days(30), None));
        }
        Relationship::ExpiredMembership => {
            facts.memberships.push(membership(
                at - Duration::days(30),
                Some(at - Duration::days(1)),
            ));
        }
        Relationship::UnderBreakGlass => facts.emergency_grants.push(EmergencyGrant {
            user,
            granted_at: at - Duration::hours(1),
            expires_at: at + Duration::hours(3),
        }),
        Relationship::AfterBreakGlass => facts.emergency_grants.push(EmergencyGrant {
            user,
            granted_at: at - Duration::hours(5),
            expires_at: at - Duration::hours(1),
        }),
        Relationship::OwnRecord | Relationship::OffCareTeam => {}
    }

    let care_consent = |expires_at, revoked_at| CareConsent {
        categories: DataCategory::ALL.to_vec(),
        roles: Role::ALL.to_vec(),
        starts_at: at - Duration::days(60),
        expires_at,
        revoked_at,
    };
    match consent {
        ConsentState::Granted => facts
            .consents
            .push(care_consent(Some(at + Duration::days(300)), None)),
        ConsentState::Revoked => facts
            .consents
            .push(care_consent(None, Some(at - Duration::minutes(5)))),
        ConsentState::Expired => facts
            .consents
            .push(care_consent(Some(at - Duration::days(1)), None)),
        ConsentState::NeverGiven => {}
    }
    (request, facts)
}

/// Returns the expected outcome, stated per relationship independently of how `decide` orders
/// its checks.
fn expected(
    role: Role,
    relationship: Relationship,
    consent: ConsentState,
    category: DataCategory,
    action: Action,
) -> bool {
    let table = PermissionTable::default_for_clinic();
    let permitted = table.allows(role, category, action);
    match relationship {
        Relationship::OwnRecord => role == Role::Patient && permitted,
        _ if role == Role::Patient => false,
        Relationship::OnCareTeam => permitted && consent == ConsentState::Granted,
        Relationship::UnderBreakGlass => {
            permitted
                && EMERGENCY_ROLES.contains(&role)
                && category.is_clinical()
                && matches!(action, Action::Read | Action::Write)
        }
        Relationship::OffCareTeam
        | Relationship::OtherClinic
        | Relationship::ExpiredMembership
        | Relationship::AfterBreakGlass => false,
    }
}

#[test]
fn matrix_matches_rules() {
    let table = PermissionTable::default_for_clinic();
    let mut cells = 0;
    let mut allowed = 0;
    for role in Role::ALL {
        for relationship in RELATIONSHIPS {
            for consent in CONSENT_STATES {
                for category in DataCategory::ALL {
                    for action in Action::ALL {
                        let (request, facts) =
                            scenario(role, relationship, consent, category, action);
                        let decision = decide(&request, &facts, &table);
                        let want = expected(role, relationship, consent, category, action);
                        assert_eq!(
                            decision.is_allowed(),
                            want,
                            "{role:?} {relationship:?} {consent:?} {category:?} {action:?}: {decision:?}"
                        );
                        assert_eq!(
                            decision.is_emergency(),
                            want && relationship == Relationship::UnderBreakGlass,
                            "{role:?} {relationship:?} {consent:?} {category:?} {action:?}"
                        );
                        cells += 1;
                        allowed += usize::from(want);
                    }
                }
            }
        }
    }
    assert_eq!(cells, 9 * 7 * 4 * 6 * 4);
    assert!(allowed > 0, "no cell allows access");
    assert!(allowed < cells, "every cell allows access");
}

#[test]
fn midwife_cannot_read_mental_health_notes() {
    let (request, facts) = scenario(
        Role::Midwife,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::MentalHealth,
        Action::Read,
    );
    let decision = decide(&request, &facts, &PermissionTable::default_for_clinic());
    assert_eq!(decision, Decision::Deny(DenyReason::RoleNotPermitted));
}

#[test]
fn consent_must_name_the_role() {
    let (request, mut facts) = scenario(
        Role::LactationConsultant,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::Infant,
        Action::Read,
    );
    facts.consents[0].roles = vec![Role::Midwife];
    let decision = decide(&request, &facts, &PermissionTable::default_for_clinic());
    assert_eq!(decision, Decision::Deny(DenyReason::NoConsent));
}

#[test]
fn consent_must_name_the_category() {
    let (request, mut facts) = scenario(
        Role::PrimaryCareProvider,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::FamilyHistory,
        Action::Read,
    );
    facts.consents[0].categories = vec![DataCategory::Maternal];
    let decision = decide(&request, &facts, &PermissionTable::default_for_clinic());
    assert_eq!(decision, Decision::Deny(DenyReason::NoConsent));
}

/// Decides a midwife reading maternal data at `at` with the scenario's facts.
fn midwife_reads_at(facts: &PatientFacts, at: DateTime<Utc>) -> Decision {
    let (mut request, _) = scenario(
        Role::Midwife,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::Maternal,
        Action::Read,
    );
    request.at = at;
    decide(&request, facts, &PermissionTable::default_for_clinic())
}

#[test]
fn break_glass_ends_exactly_at_expiry() {
    let expires_at = now() + Duration::hours(4);
    let facts = PatientFacts {
        emergency_grants: vec![EmergencyGrant {
            user: UserId(id(1)),
            granted_at: now(),
            expires_at,
        }],
        ..PatientFacts::default()
    };
    let just_before = midwife_reads_at(&facts, expires_at - Duration::microseconds(1));
    let at_expiry = midwife_reads_at(&facts, expires_at);
    assert_eq!(just_before, Decision::Allow(Basis::Emergency));
    assert_eq!(at_expiry, Decision::Deny(DenyReason::NotInScope));
}

#[test]
fn membership_ends_exactly_at_end() {
    let (_, mut facts) = scenario(
        Role::Midwife,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::Maternal,
        Action::Read,
    );
    let ends_at = now() + Duration::days(1);
    facts.memberships[0].ends_at = Some(ends_at);
    assert!(midwife_reads_at(&facts, ends_at - Duration::microseconds(1)).is_allowed());
    assert_eq!(
        midwife_reads_at(&facts, ends_at),
        Decision::Deny(DenyReason::NotInScope)
    );
}

#[test]
fn revocation_applies_from_its_instant() {
    let (_, mut facts) = scenario(
        Role::Midwife,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::Maternal,
        Action::Read,
    );
    let revoked_at = now() + Duration::minutes(10);
    facts.consents[0].revoked_at = Some(revoked_at);
    assert!(midwife_reads_at(&facts, revoked_at - Duration::microseconds(1)).is_allowed());
    assert_eq!(
        midwife_reads_at(&facts, revoked_at),
        Decision::Deny(DenyReason::NoConsent)
    );
}

#[test]
fn consent_expiry_applies_from_its_instant() {
    let (_, mut facts) = scenario(
        Role::Midwife,
        Relationship::OnCareTeam,
        ConsentState::Granted,
        DataCategory::Maternal,
        Action::Read,
    );
    let expires_at = now() + Duration::days(2);
    facts.consents[0].expires_at = Some(expires_at);
    assert!(midwife_reads_at(&facts, expires_at - Duration::microseconds(1)).is_allowed());
    assert_eq!(
        midwife_reads_at(&facts, expires_at),
        Decision::Deny(DenyReason::NoConsent)
    );
}

#[test]
fn other_patients_grant_does_not_apply() {
    let facts = PatientFacts {
        emergency_grants: vec![EmergencyGrant {
            user: UserId(id(99)),
            granted_at: now() - Duration::hours(1),
            expires_at: now() + Duration::hours(1),
        }],
        ..PatientFacts::default()
    };
    assert_eq!(
        midwife_reads_at(&facts, now()),
        Decision::Deny(DenyReason::NotInScope)
    );
}
