//! Pages for signing in, enrolling, managing one's own passkeys and sessions, and managing the
//! clinic's users.

mod admin_users;
mod enroll;
mod invite_patient;
mod security;
mod sign_in;

pub use admin_users::AdminUsersPage;
pub use enroll::EnrollPage;
pub use invite_patient::InvitePatientPanel;
pub use security::SecurityPage;
pub use sign_in::SignInPage;

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::{Account, Role, current_account};

/// The signed-in account, loaded once per page load and refetched after sign-in and sign-out.
#[derive(Clone, Copy)]
pub struct AccountResource(pub Resource<Result<Option<Account>, AppError>>);

impl AccountResource {
    pub fn provide() {
        provide_context(AccountResource(Resource::new(|| (), |_| current_account())));
    }

    pub fn get() -> Self {
        expect_context::<AccountResource>()
    }

    pub fn refetch(self) {
        self.0.refetch();
    }
}

/// Creates an action whose futures run only in the browser.
///
/// Server functions and WebAuthn calls return futures that are not `Send` in the browser.
/// Actions are dispatched only in the browser, which runs on a single thread, so each future is
/// wrapped at dispatch and never crosses threads. Unlike `Action::new_local`, the action itself
/// can be created and dropped during server rendering.
pub fn browser_action<I, O, F, Fu>(action_fn: F) -> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(&I) -> Fu + Send + Sync + 'static,
    Fu: Future<Output = O> + 'static,
{
    Action::new(move |input: &I| send_wrapper::SendWrapper::new(action_fn(input)))
}

/// Returns the page a user lands on after signing in, by her roles.
pub fn home_path(account: &Account) -> &'static str {
    let has = |role| account.roles.contains(&role);
    if has(Role::Patient) {
        "/patient"
    } else if account.roles.iter().any(|role| role.may_invite_patients()) {
        "/clinician"
    } else if has(Role::Admin) {
        "/admin/users"
    } else if has(Role::ComplianceOfficer) {
        "/compliance"
    } else if has(Role::Researcher) {
        "/research"
    } else {
        "/account/security"
    }
}

/// Notice shown in place of a page's content when no user is signed in.
#[component]
pub fn SignInRequired() -> impl IntoView {
    view! {
        <p class="notice" role="note">
            "You need to be signed in with a passkey to use this page. "
            <a href="/sign-in">"Sign in"</a>
        </p>
    }
}

/// Message area that screen readers announce when it changes.
#[component]
pub fn StatusMessage(
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] notice: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <p class="form-error" role="alert" hidden=move || error.get().is_none()>
            {move || error.get()}
        </p>
        <p class="form-notice" role="status" hidden=move || notice.get().is_none()>
            {move || notice.get()}
        </p>
    }
}
