//! `nurture rotate-keys`: rewraps every user's and patient's data key under the current
//! key-encryption key (KEK), in batches.
//!
//! Start the server and this command with the new KEK in `NURTURE_KEK`, its version in
//! `NURTURE_KEK_VERSION`, and the old KEKs in `NURTURE_KEK_PREVIOUS`. The command selects only
//! rows whose KEK version is not the current one, so after an interruption running it again
//! resumes where it stopped. When it reports that no key is left on an old version, the old
//! KEKs can be removed from `NURTURE_KEK_PREVIOUS`.

use app::crypto::{CryptoError, KeyProvider};
use app::records::RecordsError;
use app::records::rotation::{
    pending_patient_keys, pending_user_keys, record_rotation_finished, record_rotation_started,
    rotate_patient_keys, rotate_user_keys,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use server::state::key_provider;

pub const USAGE: &str = "\
Usage: nurture rotate-keys [--batch-size N]

Rewraps every user's and patient's data key under the current key-encryption key
(NURTURE_KEK, version NURTURE_KEK_VERSION). Older keys must be listed in NURTURE_KEK_PREVIOUS
as VERSION:BASE64 entries. Each batch of N keys (default 500, 1 to 10000) commits on its own,
so an interrupted run resumes when started again.";

const DEFAULT_BATCH_SIZE: u32 = 500;
const MAX_BATCH_SIZE: u32 = 10_000;

/// Parses the options and returns the batch size.
pub fn parse(arguments: &[String]) -> Result<u32, String> {
    match arguments {
        [] => Ok(DEFAULT_BATCH_SIZE),
        [flag, value] if flag == "--batch-size" => value
            .parse::<u32>()
            .ok()
            .filter(|size| (1..=MAX_BATCH_SIZE).contains(size))
            .ok_or_else(|| {
                format!("--batch-size {value:?} is not a whole number from 1 to {MAX_BATCH_SIZE}")
            }),
        _ => Err(format!("unexpected options {arguments:?}\n\n{USAGE}")),
    }
}

/// Runs the command with the configuration from the environment.
pub async fn run(arguments: &[String]) -> Result<(), String> {
    if arguments.iter().any(|argument| argument == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let batch_size = parse(arguments)?;
    let config = crate::start()?;
    let provider = key_provider(&config)?;
    let url = &config.database.url;
    let mut connection = AsyncPgConnection::establish(url.expose())
        .await
        .map_err(|error| format!("cannot connect to {url}: {error}"))?;
    let current = provider.current_kek_version();
    println!("rewrapping data keys under key-encryption key version {current}");
    app::audit::install_audit_keys(server::state::audit_keyring(&config)?)
        .map_err(|error| error.to_string())?;
    let pending_users = pending_user_keys(&mut connection, current).await;
    let pending_patients = pending_patient_keys(&mut connection, current).await;
    let (pending_users, pending_patients) = pending_users
        .and_then(|users| Ok((users, pending_patients?)))
        .map_err(|error| format!("counting the keys to rewrap failed: {error}"))?;
    record_rotation_started(&mut connection, current, pending_users, pending_patients)
        .await
        .map_err(|error| format!("recording the start of the rotation failed: {error}"))?;

    rotate(&mut connection, &provider, batch_size, Kind::Users).await?;
    rotate(&mut connection, &provider, batch_size, Kind::Patients).await?;
    record_rotation_finished(&mut connection, current)
        .await
        .map_err(|error| format!("recording the end of the rotation failed: {error}"))?;
    tracing::info!(kek_version = current, "key rotation finished");
    println!("done: every data key is wrapped under version {current}");
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Users,
    Patients,
}

async fn rotate(
    connection: &mut AsyncPgConnection,
    provider: &dyn KeyProvider,
    batch_size: u32,
    kind: Kind,
) -> Result<(), String> {
    let current = provider.current_kek_version();
    let (name, pending) = match kind {
        Kind::Users => ("users", pending_user_keys(connection, current).await),
        Kind::Patients => ("patients", pending_patient_keys(connection, current).await),
    };
    let pending = pending.map_err(|error| format!("counting {name}' keys failed: {error}"))?;
    println!("{name}: {pending} keys to rewrap");

    let mut done: i64 = 0;
    loop {
        let batch = match kind {
            Kind::Users => rotate_user_keys(connection, provider, batch_size).await,
            Kind::Patients => rotate_patient_keys(connection, provider, batch_size).await,
        };
        let rewrapped = batch.map_err(|error| match error {
            RecordsError::Crypto(CryptoError::UnknownKekVersion { version }) => format!(
                "rewrapping {name}' keys stopped after {done} keys: a data key is wrapped under \
                 key-encryption key version {version}, which is not configured; add it to \
                 NURTURE_KEK_PREVIOUS and run the command again to resume"
            ),
            other => format!(
                "rewrapping {name}' keys failed after {done} keys; run the command again to resume: {other}"
            ),
        })?;
        if rewrapped == 0 {
            break;
        }
        done += i64::try_from(rewrapped).unwrap_or(i64::MAX);
        println!("{name}: rewrapped {done} of {pending}");
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
    fn batch_size_parsed() {
        assert_eq!(parse(&[]), Ok(DEFAULT_BATCH_SIZE));
        assert_eq!(parse(&arguments(&["--batch-size", "25"])), Ok(25));
    }

    #[test]
    fn invalid_batch_size_rejected() {
        for value in ["0", "10001", "many"] {
            let error = parse(&arguments(&["--batch-size", value])).unwrap_err();
            assert!(error.starts_with("--batch-size"), "{error}");
        }
        assert!(parse(&arguments(&["--size", "2"])).is_err());
    }
}
