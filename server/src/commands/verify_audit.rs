//! `nurture verify-audit`: recomputes every audit hash chain and reports the first broken link.
//!
//! Prints one line per table and clinic with its event count, then either "all chains intact"
//! (exit status 0) or the first broken link (exit status 1). It needs the audit keys:
//! `NURTURE_AUDIT_KEY` and, for events signed before a key change, `NURTURE_AUDIT_KEY_PREVIOUS`. Exit status 2 means the check could
//! not run, for example because the database is unreachable.

use std::process::ExitCode;

use app::audit::{VerifyReport, verify_chains};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Runs the command with the configuration from the environment.
pub async fn run() -> ExitCode {
    match verify().await {
        Ok(report) => {
            print_report(&report);
            if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            tracing::error!(error = %message, "audit verification could not run");
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn verify() -> Result<VerifyReport, String> {
    let config = crate::start()?;
    let url = &config.database.url;
    let mut connection = AsyncPgConnection::establish(url.expose())
        .await
        .map_err(|error| format!("cannot connect to {url}: {error}"))?;

    let keys = server::state::audit_keyring(&config)?;
    let report = verify_chains(&mut connection, &keys)
        .await
        .map_err(|error| format!("reading the audit tables failed: {error}"))?;
    tracing::info!(
        chains = report.chains.len(),
        intact = report.is_intact(),
        "verified audit chains"
    );
    Ok(report)
}

fn print_report(report: &VerifyReport) {
    for chain in &report.chains {
        println!(
            "{:<18} clinic {}  {} events",
            chain.table.name(),
            chain.clinic_id,
            chain.events
        );
    }
    match report.first_break() {
        None => println!("all chains intact"),
        Some(link) => println!("first broken link: {link}"),
    }
}
