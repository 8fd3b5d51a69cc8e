//! Command-line entry point of the Nurture server.

mod commands;

use server::config::Config;
use server::state::AppState;
use server::{bootstrap, database, events, logging, maintenance, router};
use std::process::ExitCode;
use tokio::net::TcpListener;

/// mimalloc instead of the system allocator: a rendered page makes many small allocations,
/// and the system allocator took about a quarter of the server's CPU under load
/// (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
Usage: nurture [COMMAND]

Commands:
  serve          Prepare the database and serve the portal (the default)
  migrate        Create the database if missing, apply pending migrations, and exit
  create-admin   Create a clinic's first admin and print her enrollment link
                 (nurture create-admin --help for its options)
  issue-link     Print a new enrollment or recovery link for an account by email
                 (nurture issue-link --email EMAIL)
  verify-audit   Recompute the audit hash chains; exit 0 if intact, 1 if broken, 2 on error
  verify-consents
                 Recompute the consent ledger chains; exit 0 if intact, 1 if broken, 2 on error
  rotate-keys    Rewrap every data key under the current key-encryption key
                 (nurture rotate-keys --help for its options)
  generate-cohort
                 Load a deterministic synthetic cohort into a clinic
                 (nurture generate-cohort --help for its options)
  help           Show this message

Configuration comes from environment variables; see .env.example.";

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        None | Some("serve") => serve().await,
        Some("migrate") => migrate().await,
        Some("create-admin") => create_admin().await,
        Some("issue-link") => issue_link().await,
        Some("verify-audit") => return commands::verify_audit::run().await,
        Some("verify-consents") => return commands::verify_consents::run().await,
        Some("rotate-keys") => commands::rotate_keys::run(&arguments()).await,
        Some("generate-cohort") => commands::generate_cohort::run(&arguments()).await,
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(error = %message, "server stopped");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Returns the arguments after the command name.
fn arguments() -> Vec<String> {
    std::env::args().skip(2).collect()
}

/// Reads the configuration and sets up logging, shared by every command.
fn start() -> Result<Config, String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    logging::init(&config.logging)?;
    Ok(config)
}

async fn migrate() -> Result<(), String> {
    let config = start()?;
    let owner = config
        .database
        .migration_url
        .as_ref()
        .unwrap_or(&config.database.url);
    database::ensure_database_exists(owner)
        .await
        .map_err(|error| error.to_string())?;
    database::run_migrations(owner)
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!(database = %owner, "database is migrated");
    Ok(())
}

/// Refuses, in production, a runtime connection that owns the audit tables, because it could
/// disable their triggers; in demo mode it only warns.
async fn check_runtime_role(config: &Config, pool: &app::db::DbPool) -> Result<(), String> {
    let owns = database::runtime_owns_audit_tables(pool)
        .await
        .map_err(|error| format!("cannot check the database role: {error}"))?;
    match (owns, config.mode) {
        (false, _) => Ok(()),
        (true, server::config::Mode::Production) => Err(
            "DATABASE_URL connects as the owner of the audit tables; connect as a member of \
             nurture_runtime and set NURTURE_MIGRATION_DATABASE_URL to the owner"
                .to_owned(),
        ),
        (true, server::config::Mode::Demo) => {
            tracing::warn!(
                "DATABASE_URL connects as the owner of the audit tables, which can disable \
                 their append-only triggers; see NURTURE_MIGRATION_DATABASE_URL"
            );
            Ok(())
        }
    }
}

async fn create_admin() -> Result<(), String> {
    let arguments: Vec<String> = std::env::args().skip(2).collect();
    if arguments.iter().any(|argument| argument == "--help") {
        println!("{}", bootstrap::USAGE);
        return Ok(());
    }
    let command = bootstrap::CreateAdmin::parse(&arguments)?;
    let config = start()?;
    let pool = database::prepare(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    let state = AppState::new(&config, pool)?;
    println!("{}", command.run(&state).await?);
    Ok(())
}

async fn issue_link() -> Result<(), String> {
    let arguments: Vec<String> = std::env::args().skip(2).collect();
    if arguments.iter().any(|argument| argument == "--help") {
        println!("{}", bootstrap::ISSUE_LINK_USAGE);
        return Ok(());
    }
    let config = start()?;
    let pool = database::prepare(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    let state = AppState::new(&config, pool)?;
    println!("{}", bootstrap::issue_link(&arguments, &state).await?);
    Ok(())
}

async fn serve() -> Result<(), String> {
    let config = start()?;
    tracing::info!(mode = ?config.mode, database = %config.database.url, "starting Nurture");

    let pool = database::prepare(&config.database)
        .await
        .map_err(|error| error.to_string())?;
    check_runtime_role(&config, &pool).await?;
    let state = AppState::new(&config, pool.clone())?;
    let hub = state.events.clone();
    let event_listener =
        events::spawn_listener(config.database.url.clone(), pool.clone(), hub.clone());
    tokio::spawn(maintenance::run(pool));
    tokio::spawn(app::exports::worker::run(state.services.clone()));

    let listener = TcpListener::bind(config.http.listen)
        .await
        .map_err(|error| {
            format!(
                "cannot listen on {} (NURTURE_LISTEN): {error}",
                config.http.listen
            )
        })?;
    tracing::info!(
        address = %config.http.listen,
        public_url = %config.http.public_url,
        "listening"
    );

    let app = router::build(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Open event streams would otherwise hold the shutdown until browsers leave.
            hub.close();
        })
        .await
        .map_err(|error| format!("server failed: {error}"))?;
    let _ = event_listener.await;
    tracing::info!("stopped after finishing requests in flight");
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C; the server then stops accepting connections and finishes
/// the requests in flight.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("received Ctrl-C, shutting down"),
        () = terminate => tracing::info!("received SIGTERM, shutting down"),
    }
}
