//! The security page: the signed-in user's passkeys and sessions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::{AccountResource, SignInRequired, StatusMessage, browser_action};
use crate::error::AppError;
use crate::identity::{
    PasskeySummary, SessionSummary, end_session, flows, list_passkeys, list_sessions,
    remove_passkey, rename_passkey, sign_out,
};

/// Passkeys (add, rename, remove) and sessions (see, end), plus sign-out.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let account = AccountResource::get();
    // Resources are created here, at the top of the page, so that during server rendering they
    // run inside the request's context; inside a Suspense closure they would not.
    let passkeys = Resource::new(|| (), |_| list_passkeys());
    let sessions = Resource::new(|| (), |_| list_sessions());

    view! {
        <Title text="Security" />
        <h1>"Security"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                account
                    .0
                    .get()
                    .map(|result| match result {
                        Ok(Some(_)) => view! { <SecurityPanels passkeys sessions /> }.into_any(),
                        _ => view! { <SignInRequired /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn SecurityPanels(
    passkeys: Resource<Result<Vec<PasskeySummary>, AppError>>,
    sessions: Resource<Result<Vec<SessionSummary>, AppError>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let account = AccountResource::get();
    let navigate = use_navigate();

    let report = move |result: Result<String, String>| match result {
        Ok(message) => {
            error.set(None);
            notice.set(Some(message));
        }
        Err(message) => {
            notice.set(None);
            error.set(Some(message));
        }
    };
    let sign_out_action = browser_action(|_: &()| sign_out());
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out_action.value().get() {
            account.refetch();
            navigate("/sign-in", Default::default());
        }
    });

    view! {
        <StatusMessage error notice />
        <section class="panel" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <Suspense fallback=|| view! { <p>"Loading passkeys…"</p> }>
                {move || {
                    passkeys
                        .get()
                        .map(|result| match result {
                            Ok(list) => {
                                view! { <PasskeyList list reload=move || passkeys.refetch() report /> }
                                    .into_any()
                            }
                            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
            <AddPasskeyForm reload=move || passkeys.refetch() report />
        </section>
        <section class="panel" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions"</h2>
            <Suspense fallback=|| view! { <p>"Loading sessions…"</p> }>
                {move || {
                    sessions
                        .get()
                        .map(|result| match result {
                            Ok(list) => {
                                view! { <SessionList list reload=move || sessions.refetch() report /> }
                                    .into_any()
                            }
                            Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                        })
                }}
            </Suspense>
            <button type="button" class="button" on:click=move |_| { sign_out_action.dispatch(()); }>
                "Sign out"
            </button>
        </section>
    }
}

#[component]
fn PasskeyList(
    list: Vec<PasskeySummary>,
    reload: impl Fn() + Copy + 'static,
    report: impl Fn(Result<String, String>) + Copy + 'static,
) -> impl IntoView {
    let only_one = list.len() == 1;
    view! {
        <ul class="item-list" aria-label="Your passkeys">
            {list
                .into_iter()
                .map(|passkey| view! { <PasskeyItem passkey only_one reload report /> })
                .collect_view()}
        </ul>
    }
}

#[component]
fn PasskeyItem(
    passkey: PasskeySummary,
    only_one: bool,
    reload: impl Fn() + Copy + 'static,
    report: impl Fn(Result<String, String>) + Copy + 'static,
) -> impl IntoView {
    let name = RwSignal::new(passkey.name.clone());
    let id = passkey.id.clone();
    let rename = browser_action(move |new_name: &String| {
        let (id, new_name) = (id.clone(), new_name.clone());
        async move {
            rename_passkey(id, new_name)
                .await
                .map_err(|error| error.message)
        }
    });
    let id = passkey.id.clone();
    let remove = browser_action(move |_: &()| {
        let id = id.clone();
        async move { flows::with_step_up(|| remove_passkey(id.clone())).await }
    });
    Effect::new(move |_| {
        if let Some(result) = rename.value().get() {
            report(result.map(|()| "Passkey renamed.".to_owned()));
            reload();
        }
    });
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            report(result.map(|()| "Passkey removed.".to_owned()));
            reload();
        }
    });
    let last_used = passkey.last_used_at.clone().map_or_else(
        || "never used to sign in".to_owned(),
        |at| format!("last used {at}"),
    );
    let input_id = format!("passkey-name-{}", passkey.id);

    view! {
        <li class="item">
            <form
                class="inline-form"
                on:submit=move |event| {
                    event.prevent_default();
                    rename.dispatch(name.get_untracked());
                }
            >
                <label for=input_id.clone() class="visually-hidden">"Passkey name"</label>
                <input id=input_id maxlength="80" bind:value=name />
                <button type="submit" class="button button--quiet">"Rename"</button>
            </form>
            <p class="hint">
                {format!("Created {}, {}.", passkey.created_at, last_used)}
                {passkey.backed_up.then_some(" Synced to a backup.")}
            </p>
            <button
                type="button"
                class="button button--danger"
                disabled=only_one
                title=only_one.then_some("Add another passkey before removing your only one.")
                on:click=move |_| { remove.dispatch(()); }
            >
                "Remove"
            </button>
        </li>
    }
}

#[component]
fn AddPasskeyForm(
    reload: impl Fn() + Copy + 'static,
    report: impl Fn(Result<String, String>) + Copy + 'static,
) -> impl IntoView {
    let name = RwSignal::new("Another device".to_owned());
    let add = browser_action(|name: &String| flows::add_passkey(name.clone()));
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            report(result.map(|()| "Passkey added.".to_owned()));
            reload();
        }
    });
    view! {
        <form
            class="inline-form"
            on:submit=move |event| {
                event.prevent_default();
                add.dispatch(name.get_untracked());
            }
        >
            <label for="new-passkey-name">"Name for a new passkey"</label>
            <input id="new-passkey-name" maxlength="80" required bind:value=name />
            <button type="submit" class="button">"Add a passkey"</button>
        </form>
    }
}

#[component]
fn SessionList(
    list: Vec<SessionSummary>,
    reload: impl Fn() + Copy + 'static,
    report: impl Fn(Result<String, String>) + Copy + 'static,
) -> impl IntoView {
    let end = browser_action(|handle: &String| {
        let handle = handle.clone();
        async move { end_session(handle).await.map_err(|error| error.message) }
    });
    Effect::new(move |_| {
        if let Some(result) = end.value().get() {
            report(result.map(|()| "Session ended.".to_owned()));
            reload();
        }
    });
    view! {
        <ul class="item-list" aria-label="Your sessions">
            {list
                .into_iter()
                .map(|session| {
                    let handle = session.handle.clone();
                    view! {
                        <li class="item">
                            <p>
                                <strong>{session.device.clone()}</strong>
                                {session.current.then_some(" (this device)")}
                            </p>
                            <p class="hint">
                                {format!(
                                    "Signed in {}, last active {}.",
                                    session.signed_in_at,
                                    session.last_seen_at,
                                )}
                            </p>
                            <button
                                type="button"
                                class="button button--quiet"
                                hidden=session.current
                                on:click=move |_| { end.dispatch(handle.clone()); }
                            >
                                "End session"
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
