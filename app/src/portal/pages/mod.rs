//! The portal's pages. Each page loads its data from the portal's server functions and shows it
//! only to a signed-in patient.

mod check_in;
mod crisis;
mod feeding;
mod growth;
mod home;
mod infants;
mod learn;
mod vitals;

pub use check_in::CheckInPage;
pub use feeding::FeedingPage;
pub use growth::GrowthPage;
pub use home::PortalHomePage;
pub use learn::LearnPage;
pub use vitals::VitalsPage;

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::pages::{AccountResource, SignInRequired};
use crate::identity::{Role, current_account};
use crate::portal::{PortalHome, load_portal_home};

/// Shows `children` to a signed-in patient, and a notice to anyone else.
#[component]
fn PatientOnly(children: ChildrenFn) -> impl IntoView {
    let account = AccountResource::get();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(account)) if account.roles.contains(&Role::Patient) => {
                            children().into_any()
                        }
                        Ok(Some(_)) => {
                            view! {
                                <p class="notice">
                                    "These pages are for patients using their own record."
                                </p>
                            }
                                .into_any()
                        }
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// Loads the portal home for a signed-in patient, and nothing for anyone else, so that a
/// visitor who opens "My care" before signing in causes no failed request.
async fn home_if_patient() -> Result<Option<PortalHome>, AppError> {
    match current_account().await? {
        Some(account) if account.roles.contains(&Role::Patient) => {
            load_portal_home().await.map(Some)
        }
        _ => Ok(None),
    }
}

/// Formats an RFC 3339 instant as "2026-12-04 21:08" in UTC.
fn short_time(instant: &str) -> String {
    let date = instant.get(..10).unwrap_or(instant);
    let time = instant.get(11..16).unwrap_or("");
    format!("{date} {time} UTC").replace("  ", " ")
}

/// Writes answer positions as the JSON array that the check-in function expects.
fn answers_json(answers: &[Option<u8>]) -> String {
    let items: Vec<String> = answers
        .iter()
        .map(|answer| answer.map_or_else(|| "null".to_owned(), |position| position.to_string()))
        .collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_a_json_array() {
        assert_eq!(answers_json(&[Some(0), None, Some(3)]), "[0,null,3]");
        assert_eq!(answers_json(&[]), "[]");
    }

    #[test]
    fn instants_read_as_date_and_minute() {
        assert_eq!(short_time("2026-12-04T21:08:08Z"), "2026-12-04 21:08 UTC");
    }
}
