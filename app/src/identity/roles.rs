//! The roles a user can hold in a clinic.

use serde::{Deserialize, Serialize};

/// A role from the clinic's role table. A user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Patient,
    PrimaryCareProvider,
    Midwife,
    LactationConsultant,
    MentalHealthSpecialist,
    CareCoordinator,
    Researcher,
    ComplianceOfficer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Patient,
        Role::PrimaryCareProvider,
        Role::Midwife,
        Role::LactationConsultant,
        Role::MentalHealthSpecialist,
        Role::CareCoordinator,
        Role::Researcher,
        Role::ComplianceOfficer,
        Role::Admin,
    ];

    /// Value stored in `role_assignments.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::PrimaryCareProvider => "primary_care_provider",
            Role::Midwife => "midwife",
            Role::LactationConsultant => "lactation_consultant",
            Role::MentalHealthSpecialist => "mental_health_specialist",
            Role::CareCoordinator => "care_coordinator",
            Role::Researcher => "researcher",
            Role::ComplianceOfficer => "compliance_officer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value)
    }

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Patient => "Patient",
            Role::PrimaryCareProvider => "GP",
            Role::Midwife => "Midwife",
            Role::LactationConsultant => "Lactation consultant",
            Role::MentalHealthSpecialist => "Mental health specialist",
            Role::CareCoordinator => "Care coordinator",
            Role::Researcher => "Researcher",
            Role::ComplianceOfficer => "Compliance officer",
            Role::Admin => "Admin",
        }
    }

    /// Roles that work with patients' care and may invite a patient.
    pub fn may_invite_patients(self) -> bool {
        matches!(
            self,
            Role::PrimaryCareProvider
                | Role::Midwife
                | Role::LactationConsultant
                | Role::MentalHealthSpecialist
                | Role::CareCoordinator
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}
