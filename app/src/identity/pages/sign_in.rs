//! The sign-in page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::{AccountResource, StatusMessage, browser_action, home_path};
use crate::identity::flows;

/// Sign-in with a passkey. The email field is optional: empty, the browser offers every
/// passkey this device holds for Nurture.
#[component]
pub fn SignInPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let account = AccountResource::get();
    let action = browser_action(|email: &Option<String>| flows::sign_in(email.clone()));
    let navigate = use_navigate();

    Effect::new(move |_| {
        if let Some(Ok(signed_in)) = action.value().get() {
            account.refetch();
            navigate(home_path(&signed_in), Default::default());
        }
    });
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let pending = action.pending();

    view! {
        <Title text="Sign in" />
        <section class="panel narrow" aria-labelledby="sign-in-heading">
            <h1 id="sign-in-heading">"Sign in"</h1>
            <p>
                "Nurture has no passwords. Sign in with the passkey you created from your "
                "invitation: your device will ask for your fingerprint, face or PIN."
            </p>
            <noscript>
                <p class="notice">"Signing in with a passkey needs JavaScript. Turn it on and reload the page."</p>
            </noscript>
            <form
                class="stack"
                on:submit=move |event| {
                    event.prevent_default();
                    let typed = email.get_untracked();
                    let email = (!typed.trim().is_empty()).then_some(typed);
                    action.dispatch(email);
                }
            >
                <label for="sign-in-email">"Email (optional)"</label>
                <input
                    id="sign-in-email"
                    name="email"
                    type="email"
                    autocomplete="username webauthn"
                    bind:value=email
                />
                <p class="hint">"Leave it empty to choose from the passkeys on this device."</p>
                <button type="submit" class="button" disabled=move || pending.get()>
                    "Sign in with a passkey"
                </button>
            </form>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
        </section>
    }
}
