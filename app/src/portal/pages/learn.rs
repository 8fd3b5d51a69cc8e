//! Guidance for every stage after birth, with the mother's own stage marked.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{PatientOnly, home_if_patient};
use crate::portal::education::{GENERAL_NOTE, GUIDANCE};

/// Renders the guidance page.
#[component]
pub fn LearnPage() -> impl IntoView {
    let home = Resource::new(|| (), |_| home_if_patient());
    view! {
        <Title text="Guidance for your week" />
        <h1>"Guidance for your week"</h1>
        <p class="notice">{GENERAL_NOTE}</p>
        <PatientOnly>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    home.get()
                        .map(|result| {
                            let week = result.ok().flatten().and_then(|home| home.weeks_postpartum);
                            view! { <Stages week /> }
                        })
                }}
            </Transition>
        </PatientOnly>
    }
}

#[component]
fn Stages(week: Option<u32>) -> impl IntoView {
    let intro = match week {
        Some(week) => format!("Your baby is {week} weeks old. Your stage is marked."),
        None => "Add your baby's details on the growth page to see your stage marked.".to_owned(),
    };
    view! {
        <p>{intro}</p>
        {GUIDANCE
            .iter()
            .enumerate()
            .map(|(index, stage)| {
                let current = week.is_some_and(|week| stage.covers(week));
                let heading = format!("stage-{index}");
                let labelled_by = heading.clone();
                view! {
                    <section
                        class="panel"
                        class:panel--current=current
                        aria-labelledby=labelled_by
                        data-current=current.to_string()
                    >
                        <h2 id=heading>
                            {format!("{}: {}", stage.weeks_label(), stage.title)}
                            {current.then(|| view! { <span class="badge">"Your stage"</span> })}
                        </h2>
                        <ul>{stage.points.iter().map(|point| view! { <li>{*point}</li> }).collect_view()}</ul>
                    </section>
                }
            })
            .collect_view()}
    }
}
