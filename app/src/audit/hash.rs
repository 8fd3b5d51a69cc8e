//! The canonical encoding of audit events and their keyed hashes.
//!
//! An event signed with audit key version N (1 or more, stored in `key_version`) is hashed with
//! HMAC-SHA-256 under that key, over the encoding below with the `.v2` labels. The `.v2`
//! encoding adds the key version, as a 4-byte big-endian field, right after the label, and the patient id of a data
//! access is optional, because a search that finds nobody names no patient. Events stored before
//! chains were keyed have key version 0 and were hashed with plain SHA-256 over the `.v1`
//! encoding; the verifier accepts them only where the migration that introduced keys found them.
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

use hmac::{Hmac, Mac};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::keys::AuditKey;
use super::rows::{AccessRow, SecurityRow};

/// Hash that the first event of a chain names as its predecessor.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

const ABSENT: [u8; 4] = [0xFF; 4];

/// The function an encoding is fed to: plain SHA-256 for events stored before chains were
/// keyed, HMAC-SHA-256 for every later one.
enum Hasher {
    Plain(Sha256),
    Keyed(Hmac<Sha256>),
}

struct Encoder(Hasher);

impl Encoder {
    fn plain(label: &str) -> Self {
        let mut encoder = Self(Hasher::Plain(Sha256::new()));
        encoder.bytes(label.as_bytes());
        encoder
    }

    fn keyed(label: &str, key: &AuditKey) -> Self {
        let mut encoder = Self(Hasher::Keyed(key.mac()));
        encoder.bytes(label.as_bytes());
        encoder.bytes(&key.version().to_be_bytes());
        encoder
    }

    fn raw(&mut self, data: &[u8]) {
        match &mut self.0 {
            Hasher::Plain(digest) => Digest::update(digest, data),
            Hasher::Keyed(mac) => Mac::update(mac, data),
        }
    }

    fn bytes(&mut self, value: &[u8]) {
        // Audit values are limited to far below 4 GiB by the tables' CHECK constraints and by
        // PostgreSQL's 1 GiB field limit.
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX - 1);
        self.raw(&len.to_be_bytes());
        self.raw(value);
    }

    fn optional(&mut self, value: Option<&[u8]>) {
        match value {
            Some(value) => self.bytes(value),
            None => self.raw(&ABSENT),
        }
    }

    fn list(&mut self, values: &[String]) {
        let count = u32::try_from(values.len()).unwrap_or(u32::MAX);
        self.raw(&count.to_be_bytes());
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
        match self.0 {
            Hasher::Plain(digest) => digest.finalize().into(),
            Hasher::Keyed(mac) => mac.finalize().into_bytes().into(),
        }
    }
}

/// Computes the keyed hash of a `data_access_audit` row from every column except `hash`. The
/// row's `key_version` must be `key`'s version.
pub(super) fn access_hash(row: &AccessRow, key: &AuditKey) -> [u8; 32] {
    let mut encoder = Encoder::keyed("nurture.audit.data_access.v2", key);
    encode_access(&mut encoder, row, |encoder, patient| {
        encoder.optional(patient)
    });
    encoder.finish()
}

/// Computes the unkeyed hash of a `data_access_audit` row stored before chains were keyed.
pub(super) fn legacy_access_hash(row: &AccessRow) -> [u8; 32] {
    let mut encoder = Encoder::plain("nurture.audit.data_access.v1");
    // Every event stored before keys has a patient id; a missing one is encoded as absent so
    // that such a row fails verification instead of being read as another value.
    encode_access(&mut encoder, row, |encoder, patient| match patient {
        Some(patient) => encoder.bytes(patient),
        None => encoder.optional(None),
    });
    encoder.finish()
}

/// Computes the keyed hash of a `security_events` row from every column except `hash`.
pub(super) fn security_hash(row: &SecurityRow, key: &AuditKey) -> [u8; 32] {
    let mut encoder = Encoder::keyed("nurture.audit.security_event.v2", key);
    encode_security(&mut encoder, row);
    encoder.finish()
}

/// Computes the unkeyed hash of a `security_events` row stored before chains were keyed.
pub(super) fn legacy_security_hash(row: &SecurityRow) -> [u8; 32] {
    let mut encoder = Encoder::plain("nurture.audit.security_event.v1");
    encode_security(&mut encoder, row);
    encoder.finish()
}

fn encode_access(
    encoder: &mut Encoder,
    row: &AccessRow,
    patient: impl Fn(&mut Encoder, Option<&[u8]>),
) {
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
    patient(
        encoder,
        row.patient_id.as_ref().map(|id| id.as_bytes().as_slice()),
    );
    encoder.bytes(row.action.as_bytes());
    encoder.bytes(row.purpose.as_bytes());
    encoder.list(&row.data_elements);
    encoder.address(row.client_address.as_deref());
    encoder.optional(row.user_agent.as_deref().map(str::as_bytes));
    encoder.optional(row.request_id.as_deref().map(str::as_bytes));
    encoder.bytes(row.outcome.as_bytes());
    encoder.bytes(&[u8::from(row.emergency)]);
    encoder.bytes(&row.prev_hash);
}

fn encode_security(encoder: &mut Encoder, row: &SecurityRow) {
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
            patient_id: Some(Uuid::from_u128(4)),
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
            key_version: 0,
        }
    }

    fn security_row() -> SecurityRow {
        SecurityRow {
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
            key_version: 0,
        }
    }

    fn key() -> AuditKey {
        AuditKey::new(1, [0x42; 32]).unwrap()
    }

    // Stored chains are verified with this encoding, so a change to it must be deliberate and
    // come with a new label. The expected hashes were computed with Python's hashlib from the
    // encoding documented above.
    #[test]
    fn legacy_access_hash_is_stable() {
        assert_eq!(
            hex(&legacy_access_hash(&access_row())),
            "38dd4dd95f7e368b9abe33bb392dc30f6575cc5b83fe1a7970ff01a971403504"
        );
    }

    #[test]
    fn legacy_security_hash_is_stable() {
        assert_eq!(
            hex(&legacy_security_hash(&security_row())),
            "cdaa98e4072f49d145d15b0c3827019653aad12e35ac4fc431e8d08779d26fe9"
        );
    }

    // Computed with Python's hmac module from the `.v2` encoding, key 32 bytes of 0x42.
    #[test]
    fn keyed_hashes_are_stable() {
        let mut access = access_row();
        access.key_version = 1;
        let mut security = security_row();
        security.key_version = 1;

        assert_eq!(
            hex(&access_hash(&access, &key())),
            "aaef2625f8c656adebe7a4afcc51f3d0f15676810762a8504ac64571810a136e"
        );
        assert_eq!(
            hex(&security_hash(&security, &key())),
            "6671e98dc0d1d3af7acfb4f68a2249785a3c2b274e58702003c9227eb3281aae"
        );
    }

    #[test]
    fn keyed_hash_depends_on_key_and_version() {
        let row = access_row();
        let other_key = AuditKey::new(1, [0x43; 32]).unwrap();
        let other_version = AuditKey::new(2, [0x42; 32]).unwrap();

        assert_ne!(access_hash(&row, &key()), access_hash(&row, &other_key));
        assert_ne!(access_hash(&row, &key()), access_hash(&row, &other_version));
        assert_ne!(
            access_hash(&row, &key()).to_vec(),
            legacy_access_hash(&row).to_vec()
        );
    }

    #[test]
    fn missing_patient_differs_from_present() {
        let mut row = access_row();
        let with_patient = access_hash(&row, &key());
        row.patient_id = None;

        assert_ne!(access_hash(&row, &key()), with_patient);
    }

    #[test]
    fn missing_value_differs_from_empty() {
        let mut row = access_row();
        let with_empty = access_hash(&row, &key());
        row.request_id = None;

        assert_ne!(access_hash(&row, &key()), with_empty);
    }

    #[test]
    fn address_text_form_does_not_matter() {
        let mut row = access_row();
        row.client_address = Some("2001:db8::1".to_owned());
        let short = access_hash(&row, &key());
        row.client_address = Some("2001:0db8:0000:0000:0000:0000:0000:0001".to_owned());

        assert_eq!(access_hash(&row, &key()), short);
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
