//! Helpers of `scripts/bench-pages`, which measures server-rendered pages under load against a
//! generated cohort. Each subcommand does one step; the script runs them and the load
//! generator (wrk) in order.
//!
//! - `bare ADDRESS` serves a bare axum handler that returns a small fixed HTML page, the
//!   ceiling the pages are compared with: the same runtime, framework and build profile, with
//!   no session, database, policy, decryption, audit or rendering.
//! - `sessions SLUG USERS PATIENTS_EACH OUT_DIR` signs in `USERS` GPs and `USERS` patients of
//!   the clinic by writing sessions into the session store, and writes the request lists
//!   `clinician.txt` and `patient.txt` (one `cookie<TAB>path` line per request target).
//! - `alerts SLUG BASE_URL COUNT` measures alert latency. Patients on a midwife's care team
//!   record severe blood pressures while her event stream is open, and it prints p50 and p99 of
//!   the time from the start of each request to the arrival of its alert on the stream.
//!
//! The database and secrets come from the environment, as for `nurture serve`.

mod alerts;
mod users;

use std::process::ExitCode;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use server::config::Config;
use server::database;
use server::state::AppState;

const USAGE: &str = "\
Usage: bench_pages bare ADDRESS
       bench_pages sessions SLUG USERS PATIENTS_EACH OUT_DIR
       bench_pages alerts SLUG BASE_URL COUNT";

/// The bare handler's page: about as long as the head of a Nurture page, with no data.
const BARE_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Bare page</title></head><body><main><h1>Bare page</h1>\
<p>A fixed page that measures the ceiling of the HTTP stack on this machine.</p>\
</main></body></html>";

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["bare", address] => serve_bare(address).await,
        ["sessions", slug, users, per_user, out] => {
            let users = number(users, "USERS");
            sessions(slug, users, number(per_user, "PATIENTS_EACH"), out).await
        }
        ["alerts", slug, base_url, count] => {
            alerts_latency(slug, base_url, number(count, "COUNT")).await
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn number(text: &str, name: &str) -> usize {
    text.parse().unwrap_or_else(|_| {
        eprintln!("error: {name} {text:?} is not a whole number\n\n{USAGE}");
        std::process::exit(2)
    })
}

async fn serve_bare(address: &str) -> Result<(), String> {
    let router = Router::new().route("/", get(|| async { Html(BARE_PAGE) }));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    axum::serve(listener, router)
        .await
        .map_err(|error| error.to_string())
}

/// Connects to the configured database with the server's own services.
async fn state() -> Result<AppState, String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let pool = database::prepare(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    AppState::new(&config, pool)
}

async fn sessions(slug: &str, users: usize, per_user: usize, out: &str) -> Result<(), String> {
    let state = state().await?;
    let out = std::path::Path::new(out);
    let clinicians = users::clinician_targets(&state.services, slug, users, per_user).await?;
    users::write_targets(&out.join("clinician.txt"), &clinicians)?;
    let patients = users::patient_targets(&state.services, slug, users).await?;
    users::write_targets(&out.join("patient.txt"), &patients)?;
    // Signing in gave the targets care teams and consents after the generator took the
    // planner's statistics. The server plans each statement once, so it would plan on the old
    // counts without a new `ANALYZE`.
    let config = Config::from_env().map_err(|error| error.to_string())?;
    database::analyze(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "signed in {users} GPs ({} chart targets) and {} patients",
        clinicians.len(),
        patients.len()
    );
    Ok(())
}

async fn alerts_latency(slug: &str, base_url: &str, count: usize) -> Result<(), String> {
    let state = state().await?;
    let setup = users::alert_setup(&state.services, slug).await?;
    // The server accepts a POST only from its own public origin.
    let origin = std::env::var("NURTURE_PUBLIC_URL").unwrap_or_else(|_| base_url.to_owned());
    let mut latencies = alerts::measure(base_url, &origin, &setup, count).await?;
    latencies.sort_unstable();
    let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "alert latency over {} severe blood pressures from {} patients: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        setup.patients.len(),
        quantile(0.50).as_secs_f64() * 1000.0,
        quantile(0.99).as_secs_f64() * 1000.0,
        quantile(1.0).as_secs_f64() * 1000.0,
    );
    Ok(())
}
