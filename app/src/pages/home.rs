//! The public landing page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::Area;

/// Landing page: what Nurture is and where each kind of user goes.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Postnatal care, together" />
        <section class="hero" aria-labelledby="home-heading">
            <h1 id="home-heading">"Postnatal care, together"</h1>
            <p class="hero__lead">
                "Nurture connects new mothers with their midwife, GP, lactation consultant and "
                "mental health specialist. Every record is encrypted, every access is recorded, "
                "and you decide who may see what."
            </p>
        </section>
        <section aria-labelledby="areas-heading">
            <h2 id="areas-heading">"Where to go"</h2>
            <ul class="area-list">
                {Area::ALL
                    .into_iter()
                    .map(|area| {
                        view! {
                            <li class="area-card">
                                <h3>
                                    <A href=area.path()>{area.title()}</A>
                                </h3>
                                <p>{area.summary()}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
