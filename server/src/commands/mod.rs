//! Commands of the `nurture` binary other than serving and migrating.

pub mod generate_cohort;
pub mod rotate_keys;
pub mod verify_audit;
pub mod verify_consents;
