//! Server side of the protocol settings page: checking submitted thresholds, storing a new
//! version and building the page's view.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;

use super::api::{ProtocolSettingsView, SettingsVersionView, ThresholdValues};
use super::{ProtocolError, ProtocolSettings, change_settings, current_settings, settings_history};
use crate::access::guard::Actor;
use crate::clinical::growth::GrowthFlagThresholds;
use crate::clinical::screening::EpdsThresholds;
use crate::clinical::vitals::{
    BloodPressureThresholds, TemperatureThresholds, VitalSignThresholds,
};
use crate::error::AppError;
use crate::identity::Role;
use crate::identity::server::accounts;
use crate::identity::server::auth::SignedInUser;
use crate::ids::UserId;
use crate::services::Services;

/// Logs a storage failure and returns the generic error for the client.
fn internal(error: ProtocolError) -> AppError {
    tracing::error!(%error, "protocol settings operation failed");
    AppError::internal()
}

/// Converts a submitted whole number into the type its threshold uses, or explains the range.
fn whole<T: TryFrom<i64>>(value: i64, name: &str, low: i64, high: i64) -> Result<T, AppError> {
    if !(low..=high).contains(&value) {
        return Err(AppError::invalid_input(format!(
            "{name} {value} is outside the allowed range {low} to {high}."
        )));
    }
    T::try_from(value).map_err(|_| AppError::invalid_input(format!("{name} {value} is invalid.")))
}

/// Checks submitted thresholds with the rules of each threshold type and builds the settings.
/// Every failure is a 400 whose message names the value and its allowed range.
pub fn validate(values: &ThresholdValues) -> Result<ProtocolSettings, AppError> {
    let invalid = |error: &dyn std::fmt::Display| AppError::invalid_input(error.to_string());
    let epds = EpdsThresholds::new(
        whole(
            values.epds_possible_depression,
            "EPDS possible-depression cut-off",
            0,
            30,
        )?,
        whole(
            values.epds_probable_depression,
            "EPDS referral cut-off",
            0,
            30,
        )?,
    )
    .map_err(|error| invalid(&error))?;
    let blood_pressure = BloodPressureThresholds::new(
        whole(
            values.raised_systolic_mmhg,
            "Raised systolic threshold",
            50,
            300,
        )?,
        whole(
            values.raised_diastolic_mmhg,
            "Raised diastolic threshold",
            20,
            200,
        )?,
        whole(
            values.severe_systolic_mmhg,
            "Severe systolic threshold",
            50,
            300,
        )?,
        whole(
            values.severe_diastolic_mmhg,
            "Severe diastolic threshold",
            20,
            200,
        )?,
    )
    .map_err(|error| invalid(&error))?;
    let temperature =
        TemperatureThresholds::new(values.fever_celsius).map_err(|error| invalid(&error))?;
    let growth = GrowthFlagThresholds::new(
        values.underweight_z_score,
        whole(values.weight_loss_percent, "Weight-loss threshold", 1, 30)?,
        whole(values.weight_loss_window_days, "Weight-loss window", 1, 28)?,
    )
    .map_err(|error| invalid(&error))?;

    Ok(ProtocolSettings {
        epds,
        vitals: VitalSignThresholds {
            blood_pressure,
            temperature,
        },
        growth,
    })
}

/// Stores `settings` as the clinic's next version unless they equal the ones in force.
pub async fn store_if_changed(
    conn: &mut AsyncPgConnection,
    admin: &SignedInUser,
    settings: ProtocolSettings,
) -> Result<(), AppError> {
    let current = current_settings(conn, admin.clinic_id)
        .await
        .map_err(internal)?;
    if current.settings == settings {
        return Ok(());
    }
    let client = Actor::from_signed_in(admin).client;
    change_settings(conn, admin.clinic_id, admin.id, settings, client)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Converts stored settings into the values the form shows.
fn values_of(settings: &ProtocolSettings) -> ThresholdValues {
    let pressure = &settings.vitals.blood_pressure;
    ThresholdValues {
        epds_possible_depression: settings.epds.possible_depression().into(),
        epds_probable_depression: settings.epds.probable_depression().into(),
        raised_systolic_mmhg: pressure.raised_systolic().into(),
        raised_diastolic_mmhg: pressure.raised_diastolic().into(),
        severe_systolic_mmhg: pressure.severe_systolic().into(),
        severe_diastolic_mmhg: pressure.severe_diastolic().into(),
        fever_celsius: settings.vitals.temperature.infection_celsius(),
        underweight_z_score: settings.growth.underweight_z_score(),
        weight_loss_percent: settings.growth.weight_loss_percent().into(),
        weight_loss_window_days: settings.growth.weight_loss_window_days().into(),
    }
}

/// Builds the page's view: the version in force, who stored it and when, and the history.
pub async fn settings_view(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: &SignedInUser,
) -> Result<ProtocolSettingsView, AppError> {
    let versions = settings_history(conn, user.clinic_id)
        .await
        .map_err(internal)?;
    let mut names: HashMap<UserId, String> = HashMap::new();
    let mut history = Vec::with_capacity(versions.len());
    for stored in versions {
        let changed_by = match stored.changed_by {
            Some(id) => Some(display_name(services, conn, &mut names, id).await?),
            None => None,
        };
        history.push(SettingsVersionView {
            version: stored.version,
            thresholds: values_of(&stored.settings),
            changed_by,
            changed_at: Some(
                stored
                    .changed_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        });
    }
    let current = history.first().cloned().unwrap_or(SettingsVersionView {
        version: 0,
        thresholds: values_of(&ProtocolSettings::default()),
        changed_by: None,
        changed_at: None,
    });

    Ok(ProtocolSettingsView {
        current,
        history,
        may_change: user.has_role(Role::Admin),
    })
}

/// Returns a user's display name, decrypting each user's profile once per view.
async fn display_name(
    services: &Services,
    conn: &mut AsyncPgConnection,
    names: &mut HashMap<UserId, String>,
    id: UserId,
) -> Result<String, AppError> {
    if let Some(name) = names.get(&id) {
        return Ok(name.clone());
    }
    let profile = accounts::load_profile(conn, services.keys.as_ref(), id).await?;
    names.insert(id, profile.display_name.clone());
    Ok(profile.display_name)
}
