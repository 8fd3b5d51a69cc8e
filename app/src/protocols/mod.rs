//! Care protocols: rules run on every new observation, with per-clinic thresholds, that raise
//! alerts and create tasks for the right members of the care team.
//!
//! The defaults: an EPDS total of 13 or more creates a referral task for the mental health
//! specialist; any EPDS item 10 answer other than "Never" raises an urgent alert to the whole care
//! team, whatever the total; severe-range blood pressure raises an urgent alert to the midwife
//! and the GP; raised blood pressure creates a follow-up task; an infant weight-for-age z-score
//! below -2, or a loss of more than 10 % of birth weight in the first two weeks, creates a
//! feeding-assessment task for the lactation consultant. PHQ-9 item 9, GAD-7 totals of 10 or more
//! and postpartum fever have rules too. Each firing is stored with the clinic's settings version
//! and the threshold in force, and a settings change is recorded in the security audit trail.
//!
//! Admins change the thresholds on `/admin/protocols` ([`pages::ProtocolSettingsPage`]).

mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod rules;
#[cfg(feature = "ssr")]
mod server;
#[cfg(feature = "ssr")]
mod store;

pub use api::*;
#[cfg(feature = "ssr")]
pub use rules::{InfantFacts, ProtocolSettings, Rule, evaluate};
#[cfg(feature = "ssr")]
pub use store::{
    AppliedFiring, CareAlert, CareTask, NewObservationFacts, ProtocolError, RecordedFiring,
    SettingsVersion, TaskChange, TaskStatus, VersionedSettings, acknowledge_alert,
    apply_to_observation, change_settings, current_settings, event_kind, firings_of_observation,
    open_tasks_of, patient_alerts, patient_tasks, settings_history, task_histories, task_history,
    update_task,
};
