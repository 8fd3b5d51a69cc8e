//! Site header with the product name and the navigation between areas.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::pages::Area;

/// Header with the product name and navigation.
///
/// On narrow screens the navigation folds behind a menu button once the page has hydrated.
/// Before hydration, or with JavaScript off, the button stays hidden and the links are shown,
/// so the page never depends on script to be navigable.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let nav_collapsed = move || hydrated.get() && !menu_open.get();

    view! {
        <header class="site-header">
            <div class="site-header__bar">
                <a class="brand" href="/">
                    <span class="brand__mark" aria-hidden="true">"N"</span>
                    <span class="brand__name">"Nurture"</span>
                </a>
                <super::AccountMenu />
                <button
                    type="button"
                    class="menu-button"
                    aria-controls="site-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    hidden=move || !hydrated.get()
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    {move || if menu_open.get() { "Close menu" } else { "Menu" }}
                </button>
            </div>
            <nav
                id="site-nav"
                class="site-nav"
                class:site-nav--collapsed=nav_collapsed
                aria-label="Main"
            >
                <ul>
                    <li>
                        <A href="/" exact=true on:click=move |_| menu_open.set(false)>
                            "Home"
                        </A>
                    </li>
                    {Area::ALL
                        .into_iter()
                        .map(|area| {
                            view! {
                                <li>
                                    <A href=area.path() on:click=move |_| menu_open.set(false)>
                                        {area.title()}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
        </header>
    }
}
