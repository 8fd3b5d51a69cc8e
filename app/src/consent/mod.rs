//! Stand-in for the consent module that branch `consent` provides; replaced when it is merged.
// TODO: delete this file when merging branch `consent`, which stores care consents.

use diesel_async::AsyncPgConnection;

use crate::access::policy::CareConsent;
use crate::ids::PatientId;

#[derive(Debug, thiserror::Error)]
#[error("consent storage failed")]
pub struct ConsentError;

/// Returns no consent, because none is stored yet.
pub async fn care_consents(
    _conn: &mut AsyncPgConnection,
    _patient: PatientId,
) -> Result<Vec<CareConsent>, ConsentError> {
    Ok(Vec::new())
}
