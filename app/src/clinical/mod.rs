//! Clinical calculations used by the server: screening questionnaires, infant growth z-scores and
//! maternal vital-sign classification.
//!
//! The screening forms, the units and the feeding terms are also compiled into the browser
//! bundle, so that the portal's forms render and check exactly what the server scores. The
//! growth tables and the vital-sign rules stay on the server.
//!
//! Everything here is pure computation over values the caller passes in. Nothing reads the
//! database or the clock, so each rule can be tested at its exact boundaries. Thresholds that
//! differ between clinics come in as validated settings, and every result records the thresholds
//! that produced it.

pub mod feeding;
#[cfg(feature = "ssr")]
pub mod growth;
pub mod screening;
pub mod units;
#[cfg(feature = "ssr")]
pub mod vitals;
