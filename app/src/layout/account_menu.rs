//! The signed-in user's name and links in the header.

use leptos::prelude::*;

use crate::identity::pages::AccountResource;

/// "Sign in" for visitors; the user's name and a link to her security page otherwise.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let account = AccountResource::get();
    view! {
        <div class="account-menu">
            <Transition fallback=|| ()>
                {move || {
                    account
                        .0
                        .get()
                        .map(|result| match result {
                            Ok(Some(account)) => {
                                view! {
                                    <a href="/account/security" class="account-menu__name">
                                        {account.display_name}
                                    </a>
                                }
                                    .into_any()
                            }
                            _ => view! { <a href="/sign-in">"Sign in"</a> }.into_any(),
                        })
                }}
            </Transition>
        </div>
    }
}
