//! Loading the chart: the address's record id and purpose are checked here, and the server
//! opens every section the user may see in one request (see [`crate::chart::open`]).

use crate::chart::open::open_chart;
use crate::ids::PatientId;

pub use crate::chart::open::{OpenedChart, Section};

/// Loads the chart of the patient whose record id is `patient`, for `purpose`. Returns the
/// message to show when the id or purpose is invalid or nothing of the record may be seen.
pub async fn load_chart(patient: String, purpose: String) -> Result<OpenedChart, String> {
    let patient_id: PatientId = patient
        .trim()
        .parse()
        .map_err(|_| "Enter the patient's record id.".to_owned())?;
    let purpose = purpose.trim().to_owned();
    if purpose.is_empty() {
        return Err("Enter the purpose of access. It is recorded with every read.".to_owned());
    }
    open_chart(patient_id, purpose)
        .await
        .map_err(|error| error.message)
}
