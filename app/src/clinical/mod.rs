//! Clinical calculations used by the server: screening questionnaires, infant growth z-scores and
//! maternal vital-sign classification.
//!
//! Everything here is pure computation over values the caller passes in. Nothing reads the
//! database or the clock, so each rule can be tested at its exact boundaries. Thresholds that
//! differ between clinics come in as validated settings, and every result records the thresholds
//! that produced it.

pub mod growth;
pub mod screening;
pub mod units;
pub mod vitals;
