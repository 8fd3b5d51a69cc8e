//! Consent pages: the patient's consents and the admin's templates and coverage.

mod admin;
mod grant_form;
mod patient;

pub use admin::AdminConsentsPage;
pub(crate) use grant_form::CheckboxGroup;
pub use patient::PatientConsentsPage;

use leptos::prelude::*;

/// Returns a callback that shows an action's outcome in the page's status message and then
/// reloads the page's data with `reload`.
fn outcome_reporter(
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl Fn(Result<String, String>) + Copy + Send + Sync + 'static {
    move |result| {
        match result {
            Ok(message) => {
                error.set(None);
                notice.set(Some(message));
            }
            Err(message) => {
                notice.set(None);
                error.set(Some(message));
            }
        }
        reload();
    }
}
