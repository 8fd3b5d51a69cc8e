//! The patient portal: the pages a mother uses every day (home, mood check-in, blood pressure
//! and temperature, feeding log, infant growth, guidance by week) and their server functions.
//!
//! Every server function here reaches only the signed-in patient's own record, except
//! [`assign_screening`], which a clinician calls for a patient. Each one authorizes through
//! [`crate::access::guard::authorize`] before it reads or writes anything, and is listed in
//! [`crate::chart::PATIENT_DATA_FUNCTIONS`].

mod api;
#[cfg(feature = "ssr")]
pub mod assignments;
pub mod education;
pub mod pages;
#[cfg(feature = "ssr")]
pub(crate) mod server;
mod types;

pub use api::*;
pub use types::*;
