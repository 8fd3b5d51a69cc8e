//! The application shell around every page: skip link, header, navigation and footer.

mod account_menu;
mod header;

pub use account_menu::AccountMenu;

pub use header::SiteHeader;

use leptos::prelude::*;

/// Wraps a page in the header, main landmark and footer shared by every area.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to main content"</a>
        <SiteHeader />
        <main id="main" class="page" tabindex="-1">
            {children()}
        </main>
        <SiteFooter />
    }
}

#[component]
fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "Nurture keeps postnatal records encrypted and records every access. "
                "In an emergency, call your local emergency number."
            </p>
            <crate::preferences::TextSizeForm />
        </footer>
    }
}
