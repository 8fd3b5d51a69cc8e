//! Care consents in each state the authorization matrix needs.

use app::ids::PatientId;
use diesel_async::AsyncPgConnection;

use super::TestApp;
use super::matrix::Consent;

/// Puts the patient's care-coordination consent in `state`, covering every category and every
/// care-team role when granted.
// TODO: store the consent through `app::consent` once branch `consent` is merged.
pub async fn set_consent(
    _app: &TestApp,
    _conn: &mut AsyncPgConnection,
    _patient: PatientId,
    _state: Consent,
) {
}
