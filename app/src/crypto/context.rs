//! The context a value is encrypted for, which becomes its additional authenticated data.

use uuid::Uuid;

use super::format::push_field;
use crate::ids::PatientId;

/// Category of patient data, part of every value's AAD so that a value cannot be read as
/// another category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataClass {
    Maternal,
    Infant,
    MentalHealth,
    FamilyHistory,
    Contact,
}

impl DataClass {
    /// Every data class, for tests and for listings.
    pub const ALL: [DataClass; 5] = [
        DataClass::Maternal,
        DataClass::Infant,
        DataClass::MentalHealth,
        DataClass::FamilyHistory,
        DataClass::Contact,
    ];

    /// Returns the label written into the AAD. Changing it makes existing values unreadable.
    pub fn label(self) -> &'static str {
        match self {
            DataClass::Maternal => "maternal",
            DataClass::Infant => "infant",
            DataClass::MentalHealth => "mental_health",
            DataClass::FamilyHistory => "family_history",
            DataClass::Contact => "contact",
        }
    }
}

/// Location and owner of an encrypted value: the table, column and row that store it, the
/// patient it belongs to, its data class and the version of the patient's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldContext {
    pub table: &'static str,
    pub column: &'static str,
    /// Primary key of the row that stores the value.
    pub row_id: Uuid,
    pub patient_id: PatientId,
    pub data_class: DataClass,
    pub data_key_version: u32,
}

impl FieldContext {
    /// Encodes the context as AAD: the label `nurture.field.v1`, then table, column, row id,
    /// patient id, data class label and data-key version, each length-prefixed.
    pub fn to_aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(128);
        push_field(&mut aad, b"nurture.field.v1");
        push_field(&mut aad, self.table.as_bytes());
        push_field(&mut aad, self.column.as_bytes());
        push_field(&mut aad, self.row_id.as_bytes());
        push_field(&mut aad, self.patient_id.0.as_bytes());
        push_field(&mut aad, self.data_class.label().as_bytes());
        push_field(&mut aad, &self.data_key_version.to_be_bytes());
        aad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(table: &'static str, column: &'static str) -> FieldContext {
        FieldContext {
            table,
            column,
            row_id: Uuid::nil(),
            patient_id: PatientId(Uuid::nil()),
            data_class: DataClass::Maternal,
            data_key_version: 1,
        }
    }

    #[test]
    fn shifted_boundary_changes_aad() {
        // Without length prefixes "ab" + "c" and "a" + "bc" would encode alike.
        assert_ne!(context("ab", "c").to_aad(), context("a", "bc").to_aad());
    }

    #[test]
    fn labels_are_distinct() {
        let mut labels: Vec<_> = DataClass::ALL.iter().map(|class| class.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), DataClass::ALL.len());
    }
}
