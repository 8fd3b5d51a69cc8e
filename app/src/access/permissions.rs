//! The permission table: for each role, the data categories and actions it may use on patients
//! in its scope. It is data, so a clinic admin can view it and a change to it can be audited.

use serde::{Deserialize, Serialize};

use crate::identity::Role;

/// A class of patient data. The first five are clinical or identifying classes of the record;
/// `CareLogistics` covers appointments, tasks and care-team membership, which hold no clinical
/// content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    /// Birth outcome, delivery type, parity, complications, vitals, postnatal visits.
    Maternal,
    /// Growth measurements, feeding log, developmental milestones.
    Infant,
    /// Screening results, therapy notes, treatment plans: the most restricted class.
    MentalHealth,
    /// Genetic and multi-generational history.
    FamilyHistory,
    /// Name, date of birth, address, phone, email, insurance id, emergency contact.
    Contact,
    /// Appointments, tasks and care-team membership.
    CareLogistics,
}

impl DataCategory {
    pub const ALL: [DataCategory; 6] = [
        DataCategory::Maternal,
        DataCategory::Infant,
        DataCategory::MentalHealth,
        DataCategory::FamilyHistory,
        DataCategory::Contact,
        DataCategory::CareLogistics,
    ];

    /// Clinical classes, which break-glass emergency access opens.
    pub fn is_clinical(self) -> bool {
        matches!(
            self,
            DataCategory::Maternal
                | DataCategory::Infant
                | DataCategory::MentalHealth
                | DataCategory::FamilyHistory
        )
    }
}

/// Operation on patient data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Write,
    Delete,
    Export,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Write, Action::Delete, Action::Export];
}

/// One row of the table: `role` may perform `actions` on `category`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionRow {
    pub role: Role,
    pub category: DataCategory,
    pub actions: Vec<Action>,
}

/// The permissions of every role. Roles missing from the table may do nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionTable {
    pub rows: Vec<PermissionRow>,
}

impl PermissionTable {
    /// Returns whether `role` may perform `action` on `category`, given that the patient is in
    /// scope.
    pub fn allows(&self, role: Role, category: DataCategory, action: Action) -> bool {
        self.rows.iter().any(|row| {
            row.role == role && row.category == category && row.actions.contains(&action)
        })
    }

    /// Returns the default table, which follows the clinic roles of a postnatal service:
    ///
    /// - a patient reads and exports her whole record and writes her own contact details,
    ///   self-reported vitals, feeding and growth logs, and mood check-ins;
    /// - a GP reads and writes every clinical class and contact details of her patients;
    /// - a midwife works with maternal data, infant feeding and growth, and contact details;
    /// - a lactation consultant works with infant feeding and growth only;
    /// - a mental health specialist works with mental health data only;
    /// - a care coordinator works with contact details and care logistics, no clinical notes;
    /// - researchers, compliance officers and admins have no access to identified records (they
    ///   use anonymized exports, the audit trail and account administration instead).
    ///
    /// Every clinical role also reads care logistics. A GP, midwife, lactation consultant or
    /// mental health specialist may also export the categories she works with to a party that
    /// the patient's data-sharing consent names; a care coordinator exports nothing, because
    /// her data contains no clinical content to share.
    pub fn default_for_clinic() -> Self {
        use Action::{Delete, Export, Read, Write};
        use DataCategory::{CareLogistics, Contact, FamilyHistory, Infant, Maternal, MentalHealth};

        let row = |role, category, actions: &[Action]| PermissionRow {
            role,
            category,
            actions: actions.to_vec(),
        };
        let mut rows = vec![
            row(Role::Patient, Maternal, &[Read, Write, Export]),
            row(Role::Patient, Infant, &[Read, Write, Export]),
            row(Role::Patient, MentalHealth, &[Read, Write, Export]),
            row(Role::Patient, FamilyHistory, &[Read, Export]),
            row(Role::Patient, Contact, &[Read, Write, Export]),
            row(Role::Patient, CareLogistics, &[Read]),
            row(Role::CareCoordinator, Contact, &[Read, Write]),
            row(Role::CareCoordinator, CareLogistics, &[Read, Write, Delete]),
            row(Role::LactationConsultant, Infant, &[Read, Write, Export]),
            row(
                Role::MentalHealthSpecialist,
                MentalHealth,
                &[Read, Write, Export],
            ),
        ];
        for category in [Maternal, Infant, MentalHealth, FamilyHistory, Contact] {
            rows.push(row(
                Role::PrimaryCareProvider,
                category,
                &[Read, Write, Export],
            ));
        }
        for category in [Maternal, Infant, Contact] {
            rows.push(row(Role::Midwife, category, &[Read, Write, Export]));
        }
        for role in [
            Role::PrimaryCareProvider,
            Role::Midwife,
            Role::LactationConsultant,
            Role::MentalHealthSpecialist,
        ] {
            rows.push(row(role, CareLogistics, &[Read, Write]));
        }
        Self { rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lactation_consultant_limited_to_infant() {
        let table = PermissionTable::default_for_clinic();
        for category in DataCategory::ALL {
            let expected = matches!(category, DataCategory::Infant | DataCategory::CareLogistics);
            assert_eq!(
                table.allows(Role::LactationConsultant, category, Action::Read),
                expected,
                "{category:?}"
            );
        }
    }

    #[test]
    fn non_clinical_roles_have_no_record_access() {
        let table = PermissionTable::default_for_clinic();
        for role in [Role::Researcher, Role::ComplianceOfficer, Role::Admin] {
            for category in DataCategory::ALL {
                for action in Action::ALL {
                    assert!(
                        !table.allows(role, category, action),
                        "{role:?} {category:?} {action:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_gp_and_specialist_read_mental_health_as_staff() {
        let table = PermissionTable::default_for_clinic();
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| *role != Role::Patient)
            .filter(|role| table.allows(*role, DataCategory::MentalHealth, Action::Read))
            .collect();
        assert_eq!(
            readers,
            vec![Role::PrimaryCareProvider, Role::MentalHealthSpecialist]
        );
    }
}
