//! Each clinic's access settings: its permission table and its break-glass rules. A clinic
//! without stored settings uses the defaults. Changing them is audited as a security event.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::PermissionTable;
use super::tables::clinic_access_settings;
use crate::audit::SecurityEventKind;
use crate::error::AppError;
use crate::identity::server::events::{self, Event};
use crate::ids::{ClinicId, UserId};

/// Default lifetime of a break-glass grant.
pub const DEFAULT_GRANT_MINUTES: i32 = 240;

/// A clinic's access settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    pub permissions: PermissionTable,
    /// Whether critical break-glass requests of the clinic's own clinicians are granted at once.
    pub auto_grant_critical: bool,
    /// Lifetime of a break-glass grant, in minutes.
    pub emergency_grant_minutes: i32,
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            permissions: PermissionTable::default_for_clinic(),
            auto_grant_critical: true,
            emergency_grant_minutes: DEFAULT_GRANT_MINUTES,
        }
    }
}

/// Loads a clinic's settings, or the defaults if none are stored.
pub async fn load(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
) -> Result<AccessSettings, AppError> {
    let row: Option<(serde_json::Value, bool, i32)> = clinic_access_settings::table
        .find(clinic.0)
        .select((
            clinic_access_settings::permissions,
            clinic_access_settings::auto_grant_critical,
            clinic_access_settings::emergency_grant_minutes,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((permissions, auto_grant_critical, emergency_grant_minutes)) = row else {
        return Ok(AccessSettings::default());
    };
    let permissions = serde_json::from_value(permissions).map_err(|error| {
        tracing::error!(%error, %clinic, "stored permission table is unreadable");
        AppError::internal()
    })?;
    Ok(AccessSettings {
        permissions,
        auto_grant_critical,
        emergency_grant_minutes,
    })
}

/// Loads the permission table the policy applies in `clinic`.
pub async fn permission_table(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
) -> Result<PermissionTable, AppError> {
    Ok(load(conn, clinic).await?.permissions)
}

/// Stores new settings for `clinic` and records the change, with the old and new values, in the
/// audit trail in the same transaction.
pub async fn store(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    actor: UserId,
    new: &AccessSettings,
) -> Result<(), AppError> {
    if !(1..=1440).contains(&new.emergency_grant_minutes) {
        return Err(AppError::invalid_input(
            "An emergency grant must last 1 to 1440 minutes.",
        ));
    }
    let permissions = serde_json::to_value(&new.permissions).map_err(|_| AppError::internal())?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = load(conn, clinic).await?;
        diesel::insert_into(clinic_access_settings::table)
            .values((
                clinic_access_settings::clinic_id.eq(clinic.0),
                clinic_access_settings::permissions.eq(&permissions),
                clinic_access_settings::auto_grant_critical.eq(new.auto_grant_critical),
                clinic_access_settings::emergency_grant_minutes.eq(new.emergency_grant_minutes),
                clinic_access_settings::updated_at.eq(Utc::now()),
                clinic_access_settings::updated_by.eq(Some(actor.0)),
            ))
            .on_conflict(clinic_access_settings::clinic_id)
            .do_update()
            .set((
                clinic_access_settings::permissions.eq(&permissions),
                clinic_access_settings::auto_grant_critical.eq(new.auto_grant_critical),
                clinic_access_settings::emergency_grant_minutes.eq(new.emergency_grant_minutes),
                clinic_access_settings::updated_at.eq(Utc::now()),
                clinic_access_settings::updated_by.eq(Some(actor.0)),
            ))
            .execute(conn)
            .await?;
        let detail = serde_json::json!({
            "before": {
                "permissions": before.permissions,
                "auto_grant_critical": before.auto_grant_critical,
                "emergency_grant_minutes": before.emergency_grant_minutes,
            },
            "after": {
                "permissions": permissions,
                "auto_grant_critical": new.auto_grant_critical,
                "emergency_grant_minutes": new.emergency_grant_minutes,
            },
        });
        let event = Event {
            kind: SecurityEventKind::AccessSettingsChanged,
            clinic_id: clinic,
            actor: Some(actor),
            subject: None,
            detail,
        };
        events::record(conn, event).await
    })
    .await
}
