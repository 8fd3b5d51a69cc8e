//! Server functions of the care-protocol settings page and their wire types. The settings hold
//! no patient data, so they are read by role only and are not in the patient-data registry.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::identity::Role;

/// Roles that may read the clinic's protocol thresholds: admins, and the clinicians whose
/// tasks and alerts the thresholds decide.
pub const SETTINGS_READERS: &[Role] = &[
    Role::Admin,
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
];

/// Every threshold of a clinic's care protocols, as the settings form shows and sends them.
/// Whole-number fields are `i64` so that an out-of-range number gets a clear message rather than
/// a decoding error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdValues {
    /// Lowest EPDS total that counts as possible depression (0 to 30).
    pub epds_possible_depression: i64,
    /// Lowest EPDS total that counts as probable depression and creates a referral (0 to 30).
    pub epds_probable_depression: i64,
    pub raised_systolic_mmhg: i64,
    pub raised_diastolic_mmhg: i64,
    pub severe_systolic_mmhg: i64,
    pub severe_diastolic_mmhg: i64,
    /// Temperature in °C at or above which a postpartum mother is assessed for infection.
    pub fever_celsius: f64,
    /// Weight-for-age z-score below which an infant is underweight.
    pub underweight_z_score: f64,
    /// Share of birth weight, in percent, whose loss calls for a feeding assessment.
    pub weight_loss_percent: i64,
    /// Last day of life on which birth-weight loss is checked.
    pub weight_loss_window_days: i64,
}

/// One version of the clinic's thresholds. Version 0 is the built-in defaults, used until an
/// admin stores a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsVersionView {
    pub version: i32,
    pub thresholds: ThresholdValues,
    /// Display name of the admin who stored this version.
    pub changed_by: Option<String>,
    /// RFC 3339 time the version was stored.
    pub changed_at: Option<String>,
}

/// The thresholds in force and every stored version, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolSettingsView {
    pub current: SettingsVersionView,
    pub history: Vec<SettingsVersionView>,
    /// Whether the signed-in user may change the thresholds (admins only).
    pub may_change: bool,
}

/// Returns the clinic's protocol thresholds in force and their history. Admins and clinicians.
#[server(prefix = "/api", endpoint = "protocols/settings")]
pub async fn protocol_settings() -> Result<ProtocolSettingsView, AppError> {
    use crate::identity::server::auth;
    use crate::protocols::server;

    let services = crate::services::services()?;
    let user = auth::require_any_role(&services, SETTINGS_READERS).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::settings_view(&services, &mut conn, &user).await
}

/// Stores `thresholds` as the clinic's next settings version, used by every later observation,
/// and records the change in the security audit trail. Thresholds equal to the ones in force
/// store nothing. Admins only, after a recent passkey step-up. Takes JSON, so that the numbers
/// keep their types.
#[server(
    prefix = "/api",
    endpoint = "protocols/settings/update",
    input = server_fn::codec::Json
)]
pub async fn update_protocol_settings(
    thresholds: ThresholdValues,
) -> Result<ProtocolSettingsView, AppError> {
    use crate::identity::server::auth;
    use crate::protocols::server;

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    auth::require_recent_step_up(&services).await?;
    let settings = server::validate(&thresholds)?;

    let mut conn = crate::db::connection(&services.pool).await?;
    server::store_if_changed(&mut conn, &admin, settings).await?;

    server::settings_view(&services, &mut conn, &admin).await
}
