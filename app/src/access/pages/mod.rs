//! Pages of access control: the clinician's break-glass request, the compliance officer's
//! approval and review queues, care-team management, the patient's access history and the
//! clinic's permission table.

mod care_team;
mod compliance;
mod emergency;
mod history;
mod permissions;

pub use care_team::CareTeamPage;
pub use compliance::CompliancePage;
pub use emergency::EmergencyAccessPage;
pub use history::AccessHistoryPage;
pub use permissions::PermissionsPage;
