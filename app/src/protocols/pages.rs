//! The admin page for the clinic's care-protocol thresholds, `/admin/protocols`. Clinicians see
//! the same page without the form.

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{
    ProtocolSettingsView, SettingsVersionView, ThresholdValues, protocol_settings,
    update_protocol_settings,
};
use crate::error::AppError;
use crate::identity::flows;
use crate::identity::pages::{StatusMessage, browser_action};

type Settings = Resource<Result<ProtocolSettingsView, AppError>>;

/// Shows the thresholds in force, a form to change them (admins) and the history of versions.
#[component]
pub fn ProtocolSettingsPage() -> impl IntoView {
    let settings: Settings = Resource::new(|| (), |_| protocol_settings());
    // Kept here, outside the panels, because a saved change reloads the panels.
    let messages = Messages {
        error: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    view! {
        <Title text="Care protocol thresholds" />
        <h1>"Care protocol thresholds"</h1>
        <p>
            "Each new observation is checked against these thresholds. A change applies to every \
             later observation, and each alert or task records the version that raised it."
        </p>
        <StatusMessage error=messages.error notice=messages.notice />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                settings
                    .get()
                    .map(|result| match result {
                        Ok(view) => view! { <SettingsPanels view settings messages /> }.into_any(),
                        Err(failure) => view! { <p class="form-error">{failure.message}</p> }.into_any(),
                    })
            }}
        </Transition>
    }
}

/// The page's error and confirmation messages.
#[derive(Clone, Copy)]
struct Messages {
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
}

impl Messages {
    fn report(&self, result: Result<String, String>) {
        match result {
            Ok(message) => {
                self.error.set(None);
                self.notice.set(Some(message));
            }
            Err(message) => {
                self.notice.set(None);
                self.error.set(Some(message));
            }
        }
    }
}

#[component]
fn SettingsPanels(
    view: ProtocolSettingsView,
    settings: Settings,
    messages: Messages,
) -> impl IntoView {
    let form = view
        .may_change
        .then(|| view! { <ThresholdForm current=view.current.thresholds settings messages /> });
    view! {
        <section class="panel" aria-labelledby="current-heading">
            <h2 id="current-heading">"In force"</h2>
            <p data-testid="current-version">{version_line(&view.current)}</p>
            <p>{summary(&view.current.thresholds)}</p>
        </section>
        {form}
        <section class="panel" aria-labelledby="history-heading">
            <h2 id="history-heading">"History"</h2>
            <Show
                when={
                    let empty = view.history.is_empty();
                    move || !empty
                }
                fallback=|| view! { <p>"The clinic uses the built-in defaults; nobody changed them yet."</p> }
            >
                <ol class="item-list" aria-label="Versions, newest first">
                    {view
                        .history
                        .clone()
                        .into_iter()
                        .map(|version| {
                            view! {
                                <li class="item">
                                    <p>
                                        <strong>{version_line(&version)}</strong>
                                    </p>
                                    <p class="hint">{summary(&version.thresholds)}</p>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </Show>
        </section>
    }
}

/// "Version 3, changed by Dana Admin at …", or the defaults' line for version 0.
fn version_line(version: &SettingsVersionView) -> String {
    match (&version.changed_by, &version.changed_at) {
        (Some(name), Some(at)) => format!("Version {}, changed by {name} at {at}", version.version),
        _ => "Version 0: the built-in defaults".to_owned(),
    }
}

/// Describes the thresholds in one line.
fn summary(values: &ThresholdValues) -> String {
    format!(
        "EPDS referral at {} or more (possible depression at {}); raised blood pressure at \
         {}/{} mmHg, severe range at {}/{} mmHg; fever at {:.1} °C; infant underweight below \
         z {}; feeding assessment after a loss of more than {}% of birth weight within {} days.",
        values.epds_probable_depression,
        values.epds_possible_depression,
        values.raised_systolic_mmhg,
        values.raised_diastolic_mmhg,
        values.severe_systolic_mmhg,
        values.severe_diastolic_mmhg,
        values.fever_celsius,
        values.underweight_z_score,
        values.weight_loss_percent,
        values.weight_loss_window_days,
    )
}

/// Text fields of the form, one per threshold, in the order of [`ThresholdValues`].
#[derive(Clone, Copy)]
struct Fields {
    epds_possible: RwSignal<String>,
    epds_probable: RwSignal<String>,
    raised_systolic: RwSignal<String>,
    raised_diastolic: RwSignal<String>,
    severe_systolic: RwSignal<String>,
    severe_diastolic: RwSignal<String>,
    fever: RwSignal<String>,
    underweight: RwSignal<String>,
    loss_percent: RwSignal<String>,
    loss_window: RwSignal<String>,
}

impl Fields {
    fn new(values: &ThresholdValues) -> Self {
        let text = |value: String| RwSignal::new(value);
        Self {
            epds_possible: text(values.epds_possible_depression.to_string()),
            epds_probable: text(values.epds_probable_depression.to_string()),
            raised_systolic: text(values.raised_systolic_mmhg.to_string()),
            raised_diastolic: text(values.raised_diastolic_mmhg.to_string()),
            severe_systolic: text(values.severe_systolic_mmhg.to_string()),
            severe_diastolic: text(values.severe_diastolic_mmhg.to_string()),
            fever: text(format!("{:.1}", values.fever_celsius)),
            underweight: text(values.underweight_z_score.to_string()),
            loss_percent: text(values.weight_loss_percent.to_string()),
            loss_window: text(values.weight_loss_window_days.to_string()),
        }
    }

    /// Reads the typed values; the server checks their ranges and order.
    fn parse(&self) -> Result<ThresholdValues, String> {
        Ok(ThresholdValues {
            epds_possible_depression: whole(
                self.epds_possible,
                "EPDS possible-depression cut-off",
            )?,
            epds_probable_depression: whole(self.epds_probable, "EPDS referral cut-off")?,
            raised_systolic_mmhg: whole(self.raised_systolic, "raised systolic threshold")?,
            raised_diastolic_mmhg: whole(self.raised_diastolic, "raised diastolic threshold")?,
            severe_systolic_mmhg: whole(self.severe_systolic, "severe systolic threshold")?,
            severe_diastolic_mmhg: whole(self.severe_diastolic, "severe diastolic threshold")?,
            fever_celsius: decimal(self.fever, "fever threshold")?,
            underweight_z_score: decimal(self.underweight, "underweight z-score")?,
            weight_loss_percent: whole(self.loss_percent, "weight-loss threshold")?,
            weight_loss_window_days: whole(self.loss_window, "weight-loss window")?,
        })
    }
}

fn whole(field: RwSignal<String>, name: &str) -> Result<i64, String> {
    field
        .get_untracked()
        .trim()
        .parse::<i64>()
        .map_err(|_| format!("Enter the {name} as a whole number."))
}

/// Parses a decimal number, accepting a decimal comma.
fn decimal(field: RwSignal<String>, name: &str) -> Result<f64, String> {
    field
        .get_untracked()
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| format!("Enter the {name} as a number."))
}

#[component]
fn ThresholdForm(
    current: ThresholdValues,
    settings: Settings,
    messages: Messages,
) -> impl IntoView {
    let fields = Fields::new(&current);
    let save = browser_action(|values: &ThresholdValues| {
        let values = *values;
        async move { flows::with_step_up(|| update_protocol_settings(values)).await }
    });
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            let saved = result.is_ok();
            messages.report(
                result.map(|view| format!("Saved. Version {} is in force.", view.current.version)),
            );
            if saved {
                settings.refetch();
            }
        }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        match fields.parse() {
            Ok(values) => {
                save.dispatch(values);
            }
            Err(message) => messages.report(Err(message)),
        }
    };

    view! {
        <form class="panel stack" aria-labelledby="change-heading" on:submit=submit>
            <h2 id="change-heading">"Change thresholds"</h2>
            <p class="hint">"Saving asks you to confirm with your passkey."</p>
            <fieldset class="threshold-group">
                <legend>"EPDS (total 0 to 30)"</legend>
                <NumberField id="epds-probable" label="Referral to mental health at a total of" hint="Default 13" value=fields.epds_probable />
                <NumberField id="epds-possible" label="Possible depression at a total of" hint="Default 10; below the referral cut-off" value=fields.epds_possible />
            </fieldset>
            <fieldset class="threshold-group">
                <legend>"Blood pressure (mmHg)"</legend>
                <NumberField id="raised-systolic" label="Raised: systolic at" hint="Default 140" value=fields.raised_systolic />
                <NumberField id="raised-diastolic" label="Raised: diastolic at" hint="Default 90" value=fields.raised_diastolic />
                <NumberField id="severe-systolic" label="Severe range: systolic at" hint="Default 160; above the raised threshold" value=fields.severe_systolic />
                <NumberField id="severe-diastolic" label="Severe range: diastolic at" hint="Default 110; above the raised threshold" value=fields.severe_diastolic />
            </fieldset>
            <fieldset class="threshold-group">
                <legend>"Temperature and infant growth"</legend>
                <NumberField id="fever" label="Fever at (°C)" hint="Default 38.0; 37.0 to 40.0" value=fields.fever />
                <NumberField id="underweight" label="Infant underweight below weight-for-age z" hint="Default -2; -4 to 0" value=fields.underweight />
                <NumberField id="loss-percent" label="Feeding assessment after a birth-weight loss of more than (%)" hint="Default 10; 1 to 30" value=fields.loss_percent />
                <NumberField id="loss-window" label="Within the first days of life" hint="Default 14; 1 to 28" value=fields.loss_window />
            </fieldset>
            <div class="action-bar">
                <button type="submit" class="button" disabled=move || save.pending().get()>
                    "Save thresholds"
                </button>
            </div>
        </form>
    }
}

/// Renders a labelled text field for a number, with its hint announced as its description.
#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="threshold-field">
            <label for=id>{label}</label>
            <input id=id inputmode="decimal" autocomplete="off" required aria-describedby=hint_id.clone() bind:value=value />
            <p class="hint" id=hint_id>{hint}</p>
        </div>
    }
}
