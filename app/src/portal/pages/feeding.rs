//! The infant feeding log: a feed or a nappy in a few taps, with the primary button within
//! thumb reach at the bottom of a phone screen, and the recent entries.

use leptos::prelude::*;
use leptos_meta::Title;

use super::PatientOnly;
use super::infants::{Infants, WithInfant, infant_to_show, submitted_infant};
use super::vitals::EntryList;
use crate::clinical::feeding::BreastSide;
use crate::error::AppError;
use crate::identity::pages::{StatusMessage, browser_action};
use crate::ids::InfantId;
use crate::portal::{FeedingLogKind, LogEntry, infant_feeding_log, log_feeding, my_infants};

/// Quick choices of a breastfeed's minutes and a bottle's millilitres.
const MINUTE_CHOICES: [u16; 5] = [5, 10, 15, 20, 30];
const ML_CHOICES: [u16; 4] = [30, 60, 90, 120];

const KINDS: [(FeedingLogKind, &str); 4] = [
    (FeedingLogKind::Breastfeed, "Breastfeed"),
    (FeedingLogKind::ExpressedMilkBottle, "Bottle of breast milk"),
    (FeedingLogKind::FormulaBottle, "Bottle of formula"),
    (FeedingLogKind::Nappy, "Nappy"),
];

/// What the form holds, read when it is saved.
#[derive(Clone, Copy)]
struct FeedChoices {
    kind: RwSignal<FeedingLogKind>,
    side: RwSignal<Option<BreastSide>>,
    minutes: RwSignal<String>,
    millilitres: RwSignal<String>,
    wet: RwSignal<bool>,
    dirty: RwSignal<bool>,
}

/// A feeding-log entry ready to send.
#[derive(Clone)]
struct FeedEntry {
    infant: InfantId,
    kind: FeedingLogKind,
    side: Option<BreastSide>,
    minutes: Option<u16>,
    millilitres: Option<u16>,
    wet: bool,
    dirty: bool,
}

impl FeedChoices {
    fn new() -> Self {
        Self {
            kind: RwSignal::new(FeedingLogKind::Breastfeed),
            side: RwSignal::new(None),
            minutes: RwSignal::new(String::new()),
            millilitres: RwSignal::new(String::new()),
            wet: RwSignal::new(false),
            dirty: RwSignal::new(false),
        }
    }

    /// Builds the entry for `infant`, sending only the fields its kind uses.
    fn entry(self, infant: InfantId) -> Result<FeedEntry, String> {
        let kind = self.kind.get_untracked();
        let whole = |text: String, what: &str| -> Result<Option<u16>, String> {
            let text = text.trim().to_owned();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<u16>()
                .map(Some)
                .map_err(|_| format!("Enter the {what} as a whole number."))
        };
        let breastfeed = kind == FeedingLogKind::Breastfeed;
        let bottle = matches!(
            kind,
            FeedingLogKind::ExpressedMilkBottle | FeedingLogKind::FormulaBottle
        );
        Ok(FeedEntry {
            infant,
            kind,
            side: self.side.get_untracked().filter(|_| breastfeed),
            minutes: if breastfeed {
                whole(self.minutes.get_untracked(), "minutes")?
            } else {
                None
            },
            millilitres: if bottle {
                whole(self.millilitres.get_untracked(), "amount in ml")?
            } else {
                None
            },
            wet: kind == FeedingLogKind::Nappy && self.wet.get_untracked(),
            dirty: kind == FeedingLogKind::Nappy && self.dirty.get_untracked(),
        })
    }

    fn reset(self) {
        self.side.set(None);
        self.minutes.set(String::new());
        self.millilitres.set(String::new());
        self.wet.set(false);
        self.dirty.set(false);
    }
}

/// Renders the feeding log page.
#[component]
pub fn FeedingPage() -> impl IntoView {
    let infants = Resource::new(|| (), |_| my_infants());
    let chosen = RwSignal::new(None::<InfantId>);
    let log = Resource::new(
        move || chosen.get(),
        |chosen| async move {
            match infant_to_show(chosen).await? {
                Some(infant) => infant_feeding_log(infant).await,
                None => Ok(Vec::new()),
            }
        },
    );
    let added = Callback::new(move |()| log.refetch());
    view! {
        <Title text="Feeding log" />
        <h1>"Feeding log"</h1>
        <PatientOnly>
            <WithInfant infants chosen added>
                <FeedForm chosen infants log />
                <section class="panel" aria-labelledby="recent-heading">
                    <h2 id="recent-heading">"Recent feeds and nappies"</h2>
                    <Transition fallback=|| view! { <p>"Loading…"</p> }>
                        {move || log.get().map(|result| view! { <EntryList result label="Recent feeds and nappies" /> })}
                    </Transition>
                </section>
            </WithInfant>
        </PatientOnly>
    }
}

#[component]
fn FeedForm(
    chosen: RwSignal<Option<InfantId>>,
    infants: Infants,
    log: Resource<Result<Vec<LogEntry>, AppError>>,
) -> impl IntoView {
    let choices = FeedChoices::new();
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let save = browser_action(|entry: &FeedEntry| {
        let entry = entry.clone();
        async move {
            log_feeding(
                entry.infant,
                entry.kind,
                entry.side,
                entry.minutes,
                entry.millilitres,
                Some(entry.wet),
                Some(entry.dirty),
            )
            .await
        }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(entry)) => {
            error.set(None);
            notice.set(Some(format!("Saved: {}.", entry.summary)));
            choices.reset();
            log.refetch();
        }
        Some(Err(failure)) => {
            notice.set(None);
            error.set(Some(failure.message));
        }
        None => {}
    });
    view! {
        <form
            class="panel feed-form"
            aria-labelledby="feed-heading"
            on:submit=move |event| {
                event.prevent_default();
                let Some(infant) = submitted_infant(chosen, infants) else { return };
                match choices.entry(infant) {
                    Ok(entry) => {
                        save.dispatch(entry);
                    }
                    Err(message) => error.set(Some(message)),
                }
            }
        >
            <h2 id="feed-heading">"Log a feed or nappy"</h2>
            <fieldset class="choices">
                <legend>"What happened?"</legend>
                {KINDS
                    .into_iter()
                    .map(|(kind, label)| view! { <Choice name="feed-kind" label selected=choices.kind value=kind /> })
                    .collect_view()}
            </fieldset>
            {move || match choices.kind.get() {
                FeedingLogKind::Breastfeed => view! { <BreastFields choices /> }.into_any(),
                FeedingLogKind::Nappy => view! { <NappyFields choices /> }.into_any(),
                _ => view! { <BottleFields choices /> }.into_any(),
            }}
            <StatusMessage error notice />
            <div class="action-bar">
                <button type="submit" class="button button--wide" disabled=move || save.pending().get()>
                    "Save"
                </button>
            </div>
        </form>
    }
}

/// A radio button drawn as a large tile.
#[component]
fn Choice<T>(
    name: &'static str,
    label: &'static str,
    selected: RwSignal<T>,
    value: T,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <label class="choice choice--tile">
            <input
                type="radio"
                name=name
                prop:checked=move || selected.get() == value
                on:change=move |_| selected.set(value)
            />
            <span>{label}</span>
        </label>
    }
}

#[component]
fn BreastFields(choices: FeedChoices) -> impl IntoView {
    view! {
        <fieldset class="choices">
            <legend>"Side"</legend>
            {BreastSide::ALL
                .into_iter()
                .map(|side| view! { <Choice name="breast-side" label=side.label() selected=choices.side value=Some(side) /> })
                .collect_view()}
        </fieldset>
        <QuickNumber label="Minutes" id="feed-minutes" choices=&MINUTE_CHOICES unit="min" value=choices.minutes />
    }
}

#[component]
fn BottleFields(choices: FeedChoices) -> impl IntoView {
    view! { <QuickNumber label="Amount in ml" id="feed-ml" choices=&ML_CHOICES unit="ml" value=choices.millilitres /> }
}

#[component]
fn NappyFields(choices: FeedChoices) -> impl IntoView {
    view! {
        <fieldset class="choices">
            <legend>"Nappy"</legend>
            <label class="choice choice--tile">
                <input type="checkbox" prop:checked=move || choices.wet.get() on:change=move |event| choices.wet.set(event_target_checked(&event)) />
                <span>"Wet"</span>
            </label>
            <label class="choice choice--tile">
                <input type="checkbox" prop:checked=move || choices.dirty.get() on:change=move |event| choices.dirty.set(event_target_checked(&event)) />
                <span>"Dirty"</span>
            </label>
        </fieldset>
    }
}

/// A number field with buttons for the common values.
#[component]
fn QuickNumber(
    label: &'static str,
    id: &'static str,
    choices: &'static [u16],
    unit: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="stack">
            <label for=id>{label}</label>
            <div class="quick-picks">
                {choices
                    .iter()
                    .map(|choice| {
                        let text = choice.to_string();
                        let pressed = text.clone();
                        view! {
                            <button
                                type="button"
                                class="button button--quiet"
                                aria-pressed=move || (value.get() == pressed).to_string()
                                on:click=move |_| value.set(text.clone())
                            >
                                {format!("{choice} {unit}")}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <input id=id inputmode="numeric" autocomplete="off" bind:value=value />
        </div>
    }
}
