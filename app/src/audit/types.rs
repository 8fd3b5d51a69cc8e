//! Values written to and read from the audit tables.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use uuid::Uuid;

use super::SecurityEventKind;
use crate::ids::{ClinicId, PatientId, UserId};

/// Id of one audit event in either table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditEventId(pub Uuid);

impl fmt::Display for AuditEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One of the two hash-chained audit tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditTable {
    DataAccess,
    SecurityEvents,
}

impl AuditTable {
    pub const ALL: [AuditTable; 2] = [AuditTable::DataAccess, AuditTable::SecurityEvents];

    /// Table name, also stored as the chain name in `audit_chain_heads`.
    pub fn name(self) -> &'static str {
        match self {
            AuditTable::DataAccess => "data_access_audit",
            AuditTable::SecurityEvents => "security_events",
        }
    }
}

impl fmt::Display for AuditTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Client details of a request, as far as the server can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Returns the value stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = AuditError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(AuditError::InvalidStoredValue {
                        column: stringify!($name),
                        value: text.to_owned(),
                    }),
                }
            }
        }
    };
}

text_enum!(
    /// Kind of access to a patient's data.
    AccessAction {
        Read => "read",
        Write => "write",
        Delete => "delete",
        Export => "export",
        Search => "search",
    }
);

text_enum!(
    /// Whether the access was allowed or denied by policy.
    AccessOutcome {
        Allowed => "allowed",
        Denied => "denied",
    }
);

/// An access to one patient's data, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessEvent {
    pub clinic_id: ClinicId,
    /// `None` when the system acted on its own.
    pub actor_user_id: Option<UserId>,
    pub actor_roles: Vec<String>,
    /// The patient whose data was accessed; `None` only for a search that found nobody.
    pub patient_id: Option<PatientId>,
    pub action: AccessAction,
    /// Reason for the access, such as "postnatal visit"; 1 to 500 characters.
    pub purpose: String,
    /// Names of the data elements accessed, such as "blood_pressure"; at least one.
    pub data_elements: Vec<String>,
    pub outcome: AccessOutcome,
    /// Whether break-glass emergency access applied.
    pub emergency: bool,
    pub client: ClientInfo,
}

/// An identity event, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSecurityEvent {
    pub clinic_id: ClinicId,
    pub actor_user_id: Option<UserId>,
    /// The user the event is about, when it differs from the actor or there is no actor.
    pub subject_user_id: Option<UserId>,
    pub kind: SecurityEventKind,
    /// A JSON object with context such as a credential id or a failure count; never PHI.
    pub detail: serde_json::Value,
    pub client: ClientInfo,
}

/// A failure to record, read or verify audit events.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The connection is not inside a transaction, so the event could not commit or roll back
    /// with the access it records.
    #[error("audit events must be recorded inside the caller's transaction")]
    NotInTransaction,
    /// The detail of a security event is not a JSON object.
    #[error("security event detail must be a JSON object")]
    DetailNotObject,
    /// A stored value could not be read back into its Rust type.
    #[error("invalid stored value {value:?} for {column}")]
    InvalidStoredValue { column: &'static str, value: String },
    /// An access other than a search names no patient.
    #[error("an access event must name a patient unless it records a search")]
    PatientRequired,
    /// The events of one call to `record_accesses` belong to different clinics.
    #[error("events recorded together must belong to one clinic")]
    MixedClinics,
    /// No audit key was installed in this process before an event was recorded.
    #[error("no audit key is installed; events cannot be signed")]
    NoKeyInstalled,
    /// A different audit key was installed earlier in this process.
    #[error("a different audit key is already installed in this process")]
    KeyAlreadyInstalled,
    /// An audit key version is 0 or does not fit the database column.
    #[error("an audit key version must be a whole number from 1 to 2147483647")]
    InvalidKeyVersion,
    /// Two keys of a keyring have the same version.
    #[error("audit key version {version} is given twice")]
    DuplicateKeyVersion { version: u32 },
    /// The head of a chain that this transaction had locked was found moved during an append.
    /// Only someone bypassing the locks, such as the tables' owner editing heads directly, can
    /// cause it.
    #[error("the head of an audit chain moved while this transaction held it")]
    HeadMoved,
    /// The group-commit writer has stopped, so the event was not recorded.
    #[error("the audit writer has stopped")]
    WriterStopped,
    /// No database connection could be had for the event.
    #[error("the audit trail's database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}
