//! Commands of the `nurture` binary other than serving and migrating.

pub mod verify_audit;
