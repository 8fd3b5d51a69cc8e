//! `nurture verify-consents`: recomputes every patient's and clinic's consent ledger chain and
//! reports the first broken link.
//!
//! Prints one line per chain with its entry count, then either "all consent chains intact"
//! (exit status 0) or the first broken link (exit status 1). Exit status 2 means the check could
//! not run, for example because the database is unreachable.

use std::process::ExitCode;

use app::consent::{LedgerReport, verify_ledger};
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
            tracing::error!(error = %message, "consent ledger verification could not run");
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn verify() -> Result<LedgerReport, String> {
    let config = crate::start()?;
    let url = &config.database.url;
    let mut connection = AsyncPgConnection::establish(url.expose())
        .await
        .map_err(|error| format!("cannot connect to {url}: {error}"))?;

    let report = verify_ledger(&mut connection)
        .await
        .map_err(|error| format!("reading the consent ledger failed: {error}"))?;
    tracing::info!(
        chains = report.chains.len(),
        intact = report.is_intact(),
        "verified consent ledger chains"
    );
    Ok(report)
}

fn print_report(report: &LedgerReport) {
    for (scope, owner, entries) in &report.chains {
        println!("{scope:<8} {owner}  {entries} entries");
    }
    match report.first_break() {
        None => println!("all consent chains intact"),
        Some(link) => println!("first broken link: {link}"),
    }
}
