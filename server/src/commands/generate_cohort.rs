//! `nurture generate-cohort`: loads a deterministic synthetic cohort into a clinic and prints
//! progress after each batch.

use server::cohort::{CohortOptions, MAX_PATIENTS, ensure_demo_patient, generate, staff_links};
use server::database;
use server::state::AppState;

pub const USAGE: &str = "\
Usage: nurture generate-cohort --clinic SLUG --patients N --seed S [--staff-links] [--demo-patient]

Creates the clinic SLUG if it does not exist and loads N synthetic patients (1 to 50000) with
their infants, observations, screens, care teams, appointments and, for the mothers who use the
portal, message threads with their care team. The same seed gives the same content. Every name
is invented and marked \"(synthetic)\".

The synthetic staff are one midwife, GP, lactation consultant, mental health specialist and
care coordinator per 500 patients, and one compliance officer.

--demo-patient also creates, once per clinic, a demo patient with the email
patient.1@SLUG.synthetic.invalid: a portal account with screens, vitals, an infant's growth and
feeding log, messages, the first staff member of every care role on her care team, and a
synthetic care consent (its signature evidence is generated, not a passkey's).

--staff-links prints a new enrollment link for each synthetic staff account, and for the demo
patient with --demo-patient (a recovery link once she enrolled), so that you can sign in as a
midwife, GP, compliance officer or other user.";

/// Switches of one run besides the cohort's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Switches {
    /// Print an enrollment link for each staff account (`--staff-links`).
    pub staff_links: bool,
    /// Create the demo patient (`--demo-patient`).
    pub demo_patient: bool,
}

/// Parses `--flag value` pairs, every one required, and the optional `--staff-links` and
/// `--demo-patient`.
pub fn parse(arguments: &[String]) -> Result<(CohortOptions, Switches), String> {
    let mut clinic = None;
    let mut patients = None;
    let mut seed = None;
    let mut switches = Switches::default();
    let mut iter = arguments.iter();
    while let Some(flag) = iter.next() {
        let switch = match flag.as_str() {
            "--staff-links" => Some(&mut switches.staff_links),
            "--demo-patient" => Some(&mut switches.demo_patient),
            _ => None,
        };
        if let Some(switch) = switch {
            *switch = true;
            continue;
        }
        let value = iter
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))?;
        match flag.as_str() {
            "--clinic" => clinic = Some(value.clone()),
            "--patients" => {
                let count = value
                    .parse::<u32>()
                    .ok()
                    .filter(|count| (1..=MAX_PATIENTS).contains(count))
                    .ok_or_else(|| {
                        format!(
                            "--patients {value:?} is not a whole number from 1 to {MAX_PATIENTS}"
                        )
                    })?;
                patients = Some(count);
            }
            "--seed" => {
                let number = value
                    .parse::<u64>()
                    .map_err(|_| format!("--seed {value:?} is not a whole number"))?;
                seed = Some(number);
            }
            other => return Err(format!("unknown option {other:?}\n\n{USAGE}")),
        }
    }
    let options = CohortOptions {
        clinic_slug: clinic.ok_or_else(|| format!("--clinic is missing\n\n{USAGE}"))?,
        patients: patients.ok_or_else(|| format!("--patients is missing\n\n{USAGE}"))?,
        seed: seed.ok_or_else(|| format!("--seed is missing\n\n{USAGE}"))?,
    };
    Ok((options, switches))
}

/// Runs the command with the configuration from the environment.
pub async fn run(arguments: &[String]) -> Result<(), String> {
    if arguments.iter().any(|argument| argument == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let (options, switches) = parse(arguments)?;
    let config = crate::start()?;
    let pool = database::prepare(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    let state = AppState::new(&config, pool)?;

    let summary = generate(&state.services, &options, |progress| {
        println!(
            "generated {} of {} patients ({:.1} patients per second)",
            progress.done, progress.total, progress.patients_per_second
        );
    })
    .await?;
    tracing::info!(
        clinic_id = %summary.clinic_id,
        patients = summary.patients.len(),
        seed = options.seed,
        "generated a synthetic cohort"
    );
    println!(
        "done: clinic {} now has {} more synthetic patients with {} infants, {} observations and {} appointments, in {:.1} s",
        summary.clinic_id,
        summary.patients.len(),
        summary.infants,
        summary.observations,
        summary.appointments,
        summary.seconds
    );
    println!(
        "{} mothers use the portal, with {} message threads and {} messages",
        summary.portal_accounts, summary.threads, summary.messages
    );
    database::analyze(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    println!("updated the planner's statistics");
    let mut emails = summary.staff_emails.clone();
    if switches.demo_patient {
        let demo = ensure_demo_patient(
            &state.services,
            summary.clinic_id,
            &options.clinic_slug,
            &summary.staff,
            options.seed,
        )
        .await?;
        println!("demo patient: {demo}");
        emails.push(demo);
    }
    if switches.staff_links {
        for (email, issued) in staff_links(&state.services, &emails).await? {
            println!(
                "Enrollment link for {email} (valid until {}):\n{}",
                issued.expires_at, issued.link
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    #[test]
    fn options_parsed() {
        let options = parse(&arguments(&[
            "--clinic",
            "harbour",
            "--patients",
            "20",
            "--seed",
            "7",
        ]))
        .unwrap();
        assert_eq!(
            options,
            (
                CohortOptions {
                    clinic_slug: "harbour".to_owned(),
                    patients: 20,
                    seed: 7
                },
                Switches::default()
            )
        );
        let (_, switches) = parse(&arguments(&[
            "--clinic",
            "harbour",
            "--staff-links",
            "--patients",
            "20",
            "--demo-patient",
            "--seed",
            "7",
        ]))
        .unwrap();
        assert!(switches.staff_links);
        assert!(switches.demo_patient);
    }

    #[test]
    fn invalid_options_rejected() {
        let cases = [
            (
                vec!["--clinic", "a", "--patients", "0", "--seed", "1"],
                "--patients",
            ),
            (
                vec!["--clinic", "a", "--patients", "50001", "--seed", "1"],
                "--patients",
            ),
            (
                vec!["--clinic", "a", "--patients", "5", "--seed", "x"],
                "--seed",
            ),
            (
                vec!["--clinic", "a", "--patients", "5"],
                "--seed is missing",
            ),
            (vec!["--clinic"], "--clinic needs a value"),
        ];
        for (values, expected) in cases {
            let error = parse(&arguments(&values)).unwrap_err();
            assert!(error.contains(expected), "{values:?}: {error}");
        }
    }
}
