//! The canonical encoding of audit events and their SHA-256 hashes.
//!
//! The encoding is a sequence of fields in a fixed order. Each field is its length as 4 bytes
//! big-endian followed by its bytes. A missing optional value is the 4 bytes `FF FF FF FF` with
//! nothing after, so it differs from an empty string. A list is its element count as 4 bytes
//! big-endian followed by each element as a field. Fixed-size values are fields too. UUIDs are
//! their 16 bytes. The sequence number and `occurred_at` are 8-byte big-endian signed integers,
//! the latter in microseconds since the Unix epoch, which is the precision PostgreSQL stores. A
//! boolean is one byte 0 or 1, and a client address is its 4 or 16 bytes.
//!
//! `data_access_audit` fields: the label `nurture.audit.data_access.v1`, id, clinic_id,
//! sequence, occurred_at, actor_user_id, actor_roles, patient_id, action, purpose,
//! data_elements, client_address, user_agent, request_id, outcome, emergency, prev_hash.
//!
//! `security_events` fields: the label `nurture.audit.security_event.v1`, id, clinic_id,
//! sequence, occurred_at, actor_user_id, subject_user_id, kind, detail, client_address,
//! user_agent, request_id, prev_hash. The detail is its compact JSON text with object keys
//! sorted by their bytes, so the order that `jsonb` returns keys in does not matter.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::rows::{AccessRow, SecurityRow};

/// Hash that the first event of a chain names as its predecessor.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

const ABSENT: [u8; 4] = [0xFF; 4];

struct Encoder(Sha256);

impl Encoder {
    fn new(label: &str) -> Self {
        let mut encoder = Self(Sha256::new());
        encoder.bytes(label.as_bytes());
        encoder
    }

    fn bytes(&mut self, value: &[u8]) {
        // Audit values are limited to far below 4 GiB by the tables' CHECK constraints and by
        // PostgreSQL's 1 GiB field limit.
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX - 1);
        self.0.update(len.to_be_bytes());
        self.0.update(value);
    }

    fn optional(&mut self, value: Option<&[u8]>) {
        match value {
            Some(value) => self.bytes(value),
            None => self.0.update(ABSENT),
        }
    }

    fn list(&mut self, values: &[String]) {
        let count = u32::try_from(values.len()).unwrap_or(u32::MAX);
        self.0.update(count.to_be_bytes());
        for value in values {
            self.bytes(value.as_bytes());
        }
    }

    fn address(&mut self, address: Option<&str>) {
        // Addresses are hashed in binary so that the text form PostgreSQL returns does not
        // matter. Text that is not an address can only come from tampering, and it is hashed as
        // text so that verification reports a mismatch.
        match address.map(|text| (text, text.parse::<IpAddr>())) {
            None => self.optional(None),
            Some((_, Ok(IpAddr::V4(v4)))) => self.bytes(&v4.octets()),
            Some((_, Ok(IpAddr::V6(v6)))) => self.bytes(&v6.octets()),
            Some((text, Err(_))) => self.bytes(text.as_bytes()),
        }
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// Computes the hash of a `data_access_audit` row from every column except `hash`.
pub(super) fn access_hash(row: &AccessRow) -> [u8; 32] {
    let mut encoder = Encoder::new("nurture.audit.data_access.v1");
    encoder.bytes(row.id.as_bytes());
    encoder.bytes(row.clinic_id.as_bytes());
    encoder.bytes(&row.sequence.to_be_bytes());
    encoder.bytes(&row.occurred_at.timestamp_micros().to_be_bytes());
    encoder.optional(
        row.actor_user_id
            .as_ref()
            .map(|id| id.as_bytes().as_slice()),
    );
    encoder.list(&row.actor_roles);
    encoder.bytes(row.patient_id.as_bytes());
    encoder.bytes(row.action.as_bytes());
    encoder.bytes(row.purpose.as_bytes());
    encoder.list(&row.data_elements);
    encoder.address(row.client_address.as_deref());
    encoder.optional(row.user_agent.as_deref().map(str::as_bytes));
    encoder.optional(row.request_id.as_deref().map(str::as_bytes));
    encoder.bytes(row.outcome.as_bytes());
    encoder.bytes(&[u8::from(row.emergency)]);
    encoder.bytes(&row.prev_hash);
    encoder.finish()
}

/// Computes the hash of a `security_events` row from every column except `hash`.
pub(super) fn security_hash(row: &SecurityRow) -> [u8; 32] {
    let mut encoder = Encoder::new("nurture.audit.security_event.v1");
    encoder.bytes(row.id.as_bytes());
    encoder.bytes(row.clinic_id.as_bytes());
    encoder.bytes(&row.sequence.to_be_bytes());
    encoder.bytes(&row.occurred_at.timestamp_micros().to_be_bytes());
    encoder.optional(
        row.actor_user_id
            .as_ref()
            .map(|id| id.as_bytes().as_slice()),
    );
    encoder.optional(
        row.subject_user_id
            .as_ref()
            .map(|id| id.as_bytes().as_slice()),
    );
    encoder.bytes(row.kind.as_bytes());
    encoder.bytes(canonical_json(&row.detail).as_bytes());
    encoder.address(row.client_address.as_deref());
    encoder.optional(row.user_agent.as_deref().map(str::as_bytes));
    encoder.optional(row.request_id.as_deref().map(str::as_bytes));
    encoder.bytes(&row.prev_hash);
    encoder.finish()
}

/// Serialises `value` as compact JSON with object keys sorted by their bytes.
fn canonical_json(value: &serde_json::Value) -> String {
    // serde_json fails only on map keys that are not strings, which a JSON value cannot hold.
    serde_json::to_string(&Canonical(value)).unwrap_or_default()
}

struct Canonical<'a>(&'a serde_json::Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            serde_json::Value::Object(map) => {
                let sorted: BTreeMap<&str, Canonical<'_>> = map
                    .iter()
                    .map(|(key, value)| (key.as_str(), Canonical(value)))
                    .collect();
                sorted.serialize(serializer)
            }
            serde_json::Value::Array(items) => {
                let items: Vec<Canonical<'_>> = items.iter().map(Canonical).collect();
                items.serialize(serializer)
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn access_row() -> AccessRow {
        AccessRow {
            id: Uuid::from_u128(1),
            clinic_id: Uuid::from_u128(2),
            sequence: 1,
            occurred_at: DateTime::from_timestamp_micros(1_796_400_000_123_456).unwrap(),
            actor_user_id: Some(Uuid::from_u128(3)),
            actor_roles: vec!["midwife".to_owned()],
            patient_id: Uuid::from_u128(4),
            action: "read".to_owned(),
            purpose: "postnatal visit".to_owned(),
            data_elements: vec!["blood_pressure".to_owned()],
            client_address: Some("192.0.2.10".to_owned()),
            user_agent: None,
            request_id: Some(String::new()),
            outcome: "allowed".to_owned(),
            emergency: false,
            prev_hash: GENESIS_HASH.to_vec(),
            hash: Vec::new(),
        }
    }

    // Stored chains are verified with this encoding, so a change to it must be deliberate and
    // come with a new label. The expected hashes were computed with Python's hashlib from the
    // encoding documented above.
    #[test]
    fn access_hash_is_stable() {
        assert_eq!(
            hex(&access_hash(&access_row())),
            "38dd4dd95f7e368b9abe33bb392dc30f6575cc5b83fe1a7970ff01a971403504"
        );
    }

    #[test]
    fn security_hash_is_stable() {
        let row = SecurityRow {
            id: Uuid::from_u128(1),
            clinic_id: Uuid::from_u128(2),
            sequence: 7,
            occurred_at: DateTime::from_timestamp_micros(1_796_400_000_123_456).unwrap(),
            actor_user_id: None,
            subject_user_id: Some(Uuid::from_u128(3)),
            kind: "sign_in_failed".to_owned(),
            detail: serde_json::json!({ "b": [1, 2.5], "a": "x" }),
            client_address: Some("2001:db8::1".to_owned()),
            user_agent: Some("Mozilla/5.0".to_owned()),
            request_id: None,
            prev_hash: vec![0xab; 32],
            hash: Vec::new(),
        };

        assert_eq!(
            hex(&security_hash(&row)),
            "cdaa98e4072f49d145d15b0c3827019653aad12e35ac4fc431e8d08779d26fe9"
        );
    }

    #[test]
    fn missing_value_differs_from_empty() {
        let mut row = access_row();
        let with_empty = access_hash(&row);
        row.request_id = None;

        assert_ne!(access_hash(&row), with_empty);
    }

    #[test]
    fn address_text_form_does_not_matter() {
        let mut row = access_row();
        row.client_address = Some("2001:db8::1".to_owned());
        let short = access_hash(&row);
        row.client_address = Some("2001:0db8:0000:0000:0000:0000:0000:0001".to_owned());

        assert_eq!(access_hash(&row), short);
    }

    #[test]
    fn key_order_does_not_change_json() {
        let first: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,2],"c":true}}"#).unwrap();
        let second: serde_json::Value =
            serde_json::from_str(r#"{"a":{"c":true,"d":[1,2]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&first), canonical_json(&second));
        assert_eq!(
            canonical_json(&first),
            r#"{"a":{"c":true,"d":[1,2]},"b":1}"#
        );
    }
}
