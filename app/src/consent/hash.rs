//! Canonical encodings and SHA-256 hashes of consent texts, grants and ledger entries.
//!
//! Every encoding starts with a label that names it and its version. Then come fields, each as
//! its length in 4 bytes big-endian followed by its bytes, so no two different inputs encode to
//! the same bytes. A missing optional value is the 4 bytes `FF FF FF FF`. A list is its element
//! count in 4 bytes followed by each element as a field. UUIDs are their 16 bytes; instants are
//! microseconds since the Unix epoch as 8 bytes big-endian, the precision PostgreSQL stores.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Hash that the first entry of a chain names as its predecessor.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

const ABSENT: [u8; 4] = [0xFF; 4];

pub(super) struct Encoder(Sha256);

impl Encoder {
    pub fn new(label: &str) -> Self {
        let mut encoder = Self(Sha256::new());
        encoder.bytes(label.as_bytes());
        encoder
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        // Every stored value is limited far below 4 GiB by the tables' CHECK constraints.
        let length = u32::try_from(value.len()).unwrap_or(u32::MAX - 1);
        self.0.update(length.to_be_bytes());
        self.0.update(value);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn id(&mut self, value: Uuid) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub fn instant(&mut self, value: DateTime<Utc>) -> &mut Self {
        self.bytes(&value.timestamp_micros().to_be_bytes())
    }

    pub fn integer(&mut self, value: i64) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    pub fn optional_bytes(&mut self, value: Option<&[u8]>) -> &mut Self {
        match value {
            Some(value) => self.bytes(value),
            None => {
                self.0.update(ABSENT);
                self
            }
        }
    }

    pub fn optional_instant(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        match value {
            Some(value) => self.instant(value),
            None => self.optional_bytes(None),
        }
    }

    pub fn list(&mut self, values: &[String]) -> &mut Self {
        let count = u32::try_from(values.len()).unwrap_or(u32::MAX);
        self.0.update(count.to_be_bytes());
        for value in values {
            self.text(value);
        }
        self
    }

    pub fn finish(&mut self) -> [u8; 32] {
        std::mem::take(&mut self.0).finalize().into()
    }
}

/// Returns the SHA-256 of a consent text's UTF-8 bytes, the value a patient signs. The database
/// computes the same hash in a CHECK constraint.
pub fn text_hash(body: &str) -> [u8; 32] {
    Sha256::digest(body.as_bytes()).into()
}

/// Rounds an instant down to the microsecond, the precision PostgreSQL stores, so that a hash
/// computed before an insert matches the one recomputed from the stored row.
pub fn to_micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(instant.timestamp_micros()).unwrap_or(instant)
}
