//! Choosing one of the mother's infants, and adding her baby when her record has none.
//!
//! The infant a page is about is the one the mother chose, otherwise her youngest. Pages work
//! it out in their resources' fetchers rather than by setting a signal while rendering, so that
//! the server-rendered page and the hydrated one show the same infant.

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::InfantId;
use crate::portal::{InfantSex, InfantSummary, add_my_infant, my_infants};

pub type Infants = Resource<Result<Vec<InfantSummary>, AppError>>;

/// The infant's details as the form collects them.
#[derive(Clone)]
struct NewBaby {
    name: String,
    birth_date: String,
    birth_weight_grams: f64,
    sex: InfantSex,
}

/// Returns the infant a page is about: the one the mother chose, otherwise her youngest.
pub fn current_infant(chosen: Option<InfantId>, infants: &[InfantSummary]) -> Option<InfantId> {
    chosen
        .filter(|id| infants.iter().any(|infant| infant.id == *id))
        .or_else(|| infants.last().map(|infant| infant.id))
}

/// Returns [`current_infant`] of the loaded list without tracking, for a form being submitted.
pub fn submitted_infant(chosen: RwSignal<Option<InfantId>>, infants: Infants) -> Option<InfantId> {
    let list = infants
        .get_untracked()
        .and_then(Result::ok)
        .unwrap_or_default();
    current_infant(chosen.get_untracked(), &list)
}

/// Loads the infant a page is about, for a resource's fetcher.
pub async fn infant_to_show(chosen: Option<InfantId>) -> Result<Option<InfantId>, AppError> {
    let infants = my_infants().await?;
    Ok(current_infant(chosen, &infants))
}

/// Form that adds the mother's baby to her record, then reloads `infants` and runs `added`.
#[component]
pub fn InfantForm(infants: Infants, added: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let birth_date = RwSignal::new(String::new());
    let weight = RwSignal::new(String::new());
    let sex = RwSignal::new("female".to_owned());
    let error = RwSignal::new(None::<String>);
    let add = browser_action(|baby: &NewBaby| {
        let baby = baby.clone();
        async move {
            add_my_infant(
                baby.name,
                baby.birth_date,
                baby.birth_weight_grams,
                baby.sex,
            )
            .await
        }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(_)) => {
            infants.refetch();
            added.run(());
        }
        Some(Err(failure)) => error.set(Some(failure.message)),
        None => {}
    });
    view! {
        <form
            class="panel stack"
            aria-labelledby="baby-heading"
            on:submit=move |event| {
                event.prevent_default();
                let grams = weight.get_untracked().trim().replace(',', ".").parse::<f64>();
                let Ok(grams) = grams else {
                    error.set(Some("Enter the birth weight in grams, such as 3400.".to_owned()));
                    return;
                };
                let sex = if sex.get_untracked() == "male" {
                    InfantSex::Male
                } else {
                    InfantSex::Female
                };
                add.dispatch(NewBaby {
                    name: name.get_untracked(),
                    birth_date: birth_date.get_untracked(),
                    birth_weight_grams: grams,
                    sex,
                });
            }
        >
            <h2 id="baby-heading">"Add your baby"</h2>
            <p>"Your baby's details are kept in your encrypted record."</p>
            <label for="baby-name">"Baby's name"</label>
            <input id="baby-name" required maxlength="200" autocomplete="off" bind:value=name />
            <label for="baby-birth-date">"Date of birth"</label>
            <input id="baby-birth-date" type="date" required bind:value=birth_date />
            <label for="baby-weight">"Birth weight in grams"</label>
            <input id="baby-weight" inputmode="decimal" required autocomplete="off" bind:value=weight />
            <label for="baby-sex">"Sex (for the WHO growth charts)"</label>
            <select id="baby-sex" bind:value=sex>
                <option value="female">"Girl"</option>
                <option value="male">"Boy"</option>
            </select>
            <StatusMessage error notice=Signal::derive(|| None::<String>) />
            <div class="action-bar">
                <button type="submit" class="button button--wide">"Add baby"</button>
            </div>
        </form>
    }
}

/// Chooses the infant a page is about; hidden when there is only one.
#[component]
pub fn InfantPicker(
    infants: Vec<InfantSummary>,
    chosen: RwSignal<Option<InfantId>>,
) -> impl IntoView {
    if infants.len() < 2 {
        return ().into_any();
    }
    let current = current_infant(chosen.get_untracked(), &infants);
    view! {
        <div class="panel stack">
            <label for="infant-choice">"Baby"</label>
            <select
                id="infant-choice"
                on:change=move |event| chosen.set(event_target_value(&event).parse().ok())
            >
                {infants
                    .into_iter()
                    .map(|infant| {
                        let id = infant.id;
                        view! {
                            <option value=id.to_string() selected=current == Some(id)>
                                {infant.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
    .into_any()
}

/// Shows the baby form when the record has no infant, and the infant picker and `children`
/// otherwise. `added` runs once a baby was added.
#[component]
pub fn WithInfant(
    infants: Infants,
    chosen: RwSignal<Option<InfantId>>,
    added: Callback<()>,
    children: ChildrenFn,
) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                infants
                    .get()
                    .map(|result| match result {
                        Ok(list) if list.is_empty() => {
                            view! { <InfantForm infants added /> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <InfantPicker infants=list chosen />
                                {children()}
                            }
                                .into_any()
                        }
                        Err(failure) => {
                            view! { <p class="form-error">{failure.message}</p> }.into_any()
                        }
                    })
            }}
        </Transition>
    }
}
