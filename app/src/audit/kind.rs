//! Kinds of identity events. The column is open text so new kinds need no migration, and this
//! enum decides which names are written.

use std::str::FromStr;

use super::AuditError;

macro_rules! kinds {
    ($($variant:ident => $text:literal,)+) => {
        /// Kind of an identity event in `security_events`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SecurityEventKind {
            $($variant),+
        }

        impl SecurityEventKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [SecurityEventKind] = &[$(SecurityEventKind::$variant),+];

            /// Returns the value stored in the `kind` column.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(SecurityEventKind::$variant => $text),+
                }
            }
        }

        impl FromStr for SecurityEventKind {
            type Err = AuditError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(SecurityEventKind::$variant),)+
                    _ => Err(AuditError::InvalidStoredValue {
                        column: "security_events.kind",
                        value: text.to_owned(),
                    }),
                }
            }
        }
    };
}

kinds! {
    SignInSucceeded => "sign_in_succeeded",
    SignInFailed => "sign_in_failed",
    PasskeyAdded => "passkey_added",
    PasskeyRemoved => "passkey_removed",
    CounterRegression => "counter_regression",
    SessionEnded => "session_ended",
    InvitationCreated => "invitation_created",
    InvitationUsed => "invitation_used",
    InvitationRevoked => "invitation_revoked",
    StepUp => "step_up",
    AccountRecovery => "account_recovery",
    UserDeactivated => "user_deactivated",
    RolesChanged => "roles_changed",
    ConsentChanged => "consent_changed",
    EmergencyAccessStarted => "emergency_access_started",
    KeyRotationStarted => "key_rotation_started",
    DataKeysRewrapped => "data_keys_rewrapped",
    KeyRotationFinished => "key_rotation_finished",
    EmergencyAccessRequested => "emergency_access_requested",
    EmergencyAccessDenied => "emergency_access_denied",
    EmergencyAccessReviewed => "emergency_access_reviewed",
    AccessSettingsChanged => "access_settings_changed",
    ProtocolSettingsChanged => "protocol_settings_changed",
}
