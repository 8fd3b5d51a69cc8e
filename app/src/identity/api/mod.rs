//! Server functions of identity, grouped by page.

mod admin;
mod enroll;
mod security;
mod sign_in;

pub use admin::*;
pub use enroll::*;
pub use security::*;
pub use sign_in::*;

#[cfg(feature = "ssr")]
pub(crate) mod support {
    use uuid::Uuid;

    use crate::error::AppError;
    use crate::identity::server::accounts::{self, internal};
    use crate::identity::server::auth::SignedInUser;
    use crate::identity::server::sign_in::CeremonyStart;
    use crate::identity::{Account, CeremonyOptions};
    use crate::ids::UserId;
    use crate::services::Services;

    pub fn ceremony_options(start: CeremonyStart) -> Result<CeremonyOptions, AppError> {
        Ok(CeremonyOptions {
            ceremony_id: start.ceremony_id.to_string(),
            options: serde_json::to_string(&start.options).map_err(internal)?,
        })
    }

    /// Parses an id sent by the browser. A malformed id gets the same error as a missing record.
    pub fn parse_id(text: &str) -> Result<Uuid, AppError> {
        Uuid::parse_str(text.trim()).map_err(|_| AppError::not_found())
    }

    /// Loads the account summary shown in the header.
    pub async fn account(services: &Services, user_id: UserId) -> Result<Account, AppError> {
        let mut connection = crate::db::connection(&services.pool).await?;
        let (row, roles, name) = accounts::find_account_with_roles(&mut connection, user_id)
            .await
            .map_err(internal)?
            .ok_or_else(AppError::not_found)?;
        drop(connection);
        let user = SignedInUser {
            id: user_id,
            clinic_id: row.clinic_id,
            roles,
            name,
        };
        account_of(services, user).await
    }

    /// Returns the account summary of the signed-in user from what the session lookup read
    /// with her account, without another query.
    pub async fn account_of(services: &Services, user: SignedInUser) -> Result<Account, AppError> {
        let (display_name, clinic_name) = user.name.open(services.keys.as_ref(), user.id).await?;
        Ok(Account {
            id: user.id,
            display_name,
            clinic_name,
            roles: user.roles,
        })
    }

    /// Formats a timestamp for the wire.
    pub fn timestamp(instant: chrono::DateTime<chrono::Utc>) -> String {
        instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}
