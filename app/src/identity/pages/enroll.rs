//! The enrollment page that an invitation link opens.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::{AccountResource, StatusMessage, browser_action, home_path};
use crate::identity::{flows, get_invitation};

/// Creates the first passkey from an invitation link. The token is in the address after `#`,
/// which browsers never send to the server, so the page reads it once hydrated.
#[component]
pub fn EnrollPage() -> impl IntoView {
    let token = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        token.set(Some(crate::identity::browser::location_fragment()));
    });
    let details = LocalResource::new(move || {
        let token = token.get();
        async move {
            match token {
                Some(token) if !token.is_empty() => Some(get_invitation(token).await),
                Some(_) => Some(Err(crate::identity::invitation_link_invalid())),
                None => None,
            }
        }
    });

    view! {
        <Title text="Create your passkey" />
        <section class="panel narrow" aria-labelledby="enroll-heading">
            <h1 id="enroll-heading">"Create your passkey"</h1>
            <noscript>
                <p class="notice">"Creating a passkey needs JavaScript. Turn it on and reload the page."</p>
            </noscript>
            <Suspense fallback=|| view! { <p>"Checking your invitation…"</p> }>
                {move || {
                    details
                        .get()
                        .flatten()
                        .map(|result| match result {
                            Ok(invitation) => {
                                view! {
                                    <EnrollForm
                                        token=token.get_untracked().unwrap_or_default()
                                        invitation
                                    />
                                }
                                    .into_any()
                            }
                            Err(error) => {
                                view! {
                                    <p class="form-error" role="alert">
                                        {error.message}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn EnrollForm(token: String, invitation: crate::identity::InvitationDetails) -> impl IntoView {
    let passkey_name = RwSignal::new("My phone".to_owned());
    let account = AccountResource::get();
    let action = browser_action(move |name: &String| flows::enroll(token.clone(), name.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(signed_in)) = action.value().get() {
            account.refetch();
            navigate(home_path(&signed_in), Default::default());
        }
    });
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let pending = action.pending();
    let intro = if invitation.recovery {
        "This link replaces your lost passkeys. When you create a new one, every other session of your account ends."
    } else {
        "Your clinic invited you to Nurture. A passkey lets you sign in with your fingerprint, face or PIN instead of a password."
    };

    view! {
        <p>
            <strong>{format!("Welcome, {}.", invitation.display_name)}</strong>
            " "
            {intro}
        </p>
        <p class="hint">{format!("Clinic: {}.", invitation.clinic_name)}</p>
        <form
            class="stack"
            on:submit=move |event| {
                event.prevent_default();
                action.dispatch(passkey_name.get_untracked());
            }
        >
            <label for="passkey-name">"Name for this passkey"</label>
            <input id="passkey-name" name="passkey_name" maxlength="80" required bind:value=passkey_name />
            <p class="hint">"For example the device it is on, so you can recognise it later."</p>
            <button type="submit" class="button" disabled=move || pending.get()>
                "Create passkey"
            </button>
        </form>
        <StatusMessage error notice=Signal::derive(|| None::<String>) />
    }
}
