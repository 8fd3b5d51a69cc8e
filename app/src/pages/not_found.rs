//! The page for an unknown address.

use leptos::prelude::*;
use leptos_meta::Title;

/// Page shown for any path without a route; answers with HTTP 404 on the server.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text="Page not found" />
        <section class="panel" aria-labelledby="not-found-heading">
            <h1 id="not-found-heading">"Page not found"</h1>
            <p>"There is no page at this address. Check the link, or go back to the start."</p>
            <p>
                <a href="/">"Go to the start page"</a>
            </p>
        </section>
    }
}
