//! Typed identifiers, so that a patient id can never be passed where a user id is expected.
//!
//! Each is a UUID on the wire and in PostgreSQL (`uuid` columns).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(
            feature = "ssr",
            derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)
        )]
        #[cfg_attr(feature = "ssr", diesel(sql_type = diesel::sql_types::Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Draws a new random (version 4) id.
            #[cfg(feature = "ssr")]
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }

        #[cfg(feature = "ssr")]
        impl diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                diesel::serialize::ToSql::<diesel::sql_types::Uuid, diesel::pg::Pg>::to_sql(
                    &self.0, out,
                )
            }
        }

        #[cfg(feature = "ssr")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                <Uuid as diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::from_sql(bytes)
                    .map(Self)
            }
        }
    };
}

uuid_id!(
    /// A clinic: the tenant that owns users, patients and records.
    ClinicId
);
uuid_id!(
    /// A person who signs in: patient, clinician, admin, compliance officer or researcher.
    UserId
);
uuid_id!(
    /// A mother whose record Nurture keeps.
    PatientId
);
uuid_id!(
    /// An infant, whose record belongs to the mother's.
    InfantId
);
uuid_id!(
    /// A conversation about one patient between her and members of her care team.
    ThreadId
);
uuid_id!(
    /// One message in a thread.
    MessageId
);
uuid_id!(
    /// A consent template, such as the clinic's care-coordination consent.
    ConsentTemplateId
);
uuid_id!(
    /// One version of a consent template's text.
    ConsentVersionId
);
uuid_id!(
    /// A patient's signed grant of a consent.
    ConsentGrantId
);
uuid_id!(
    /// A data-sharing export of one patient's record to a named party.
    ExportId
);
