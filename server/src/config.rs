//! Configuration, read once at startup from environment variables into typed structs.
//!
//! Every key is documented in `.env.example`. A missing or invalid value stops the server with
//! the variable's name in the message.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::database::DatabaseUrl;
use crate::secrets::{self, SecretKey, SecretsFileError};

/// Whether the server runs for a local demonstration or for real patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Missing secrets are generated into a local file; defaults point at localhost.
    Demo,
    /// Every secret and the public URL must be given explicitly.
    Production,
}

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub logging: LogConfig,
    pub secrets: Secrets,
    pub identity: IdentityConfig,
}

/// Lifetimes of invitations and sessions, and how many sign-in and enrollment attempts one
/// client address may make in five minutes.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    pub invitation_ttl: Duration,
    pub session_idle_timeout: Duration,
    pub session_max_lifetime: Duration,
    pub sign_in_attempts_per_address: u32,
    pub enrollment_attempts_per_address: u32,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Connection of the running server, as a role that owns no table.
    pub url: DatabaseUrl,
    /// Connection that creates the database and runs migrations, as the role that owns the
    /// tables; `None` when `url` does both.
    pub migration_url: Option<DatabaseUrl>,
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before failing.
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Address that browsers use to reach the site; its origin is the only one allowed to send
    /// state-changing requests.
    pub public_url: Url,
    /// Folder holding `pkg/` (the wasm bundle, JavaScript and CSS) and the favicon.
    pub site_root: PathBuf,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
}

impl HttpConfig {
    /// Returns the public URL's origin, such as `http://localhost:3000`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing_subscriber::EnvFilter` directive such as `info,server=debug`.
    pub filter: String,
}

/// Secret keys. None of them is ever logged: `SecretKey`'s `Debug` is redacted.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Key-encryption key that wraps every patient's data key.
    pub key_encryption_key: SecretKey,
    pub key_encryption_key_version: u32,
    /// Older key-encryption keys with their versions, used only to unwrap data keys that are not
    /// yet rewrapped under the current one (see `nurture rotate-keys`).
    pub previous_key_encryption_keys: Vec<(u32, SecretKey)>,
    /// Key of the HMAC that turns patient ids into research pseudonyms.
    pub pseudonym_key: SecretKey,
    /// Key of the HMAC that turns emails and names into searchable blind indexes.
    pub blind_index_key: SecretKey,
    /// Key of the HMAC that chains audit events, and its version.
    pub audit_key: SecretKey,
    pub audit_key_version: u32,
    /// Older audit keys with their versions, used only to verify events they signed.
    pub previous_audit_keys: Vec<(u32, SecretKey)>,
}

/// Names of the secret variables, in the order they are written to a new secrets file.
const SECRET_NAMES: [&str; 4] = [
    "NURTURE_KEK",
    "NURTURE_PSEUDONYM_KEY",
    "NURTURE_BLIND_INDEX_KEY",
    "NURTURE_AUDIT_KEY",
];

/// The runtime role's connection and the owner's, used when neither variable is set.
const DEFAULT_DATABASE_URL: &str = "postgres://nurture_app:nurture_app@localhost:5432/nurture";
const DEFAULT_MIGRATION_DATABASE_URL: &str = "postgres://nurture:nurture@localhost:5432/nurture";
const DEFAULT_PUBLIC_URL: &str = "http://localhost:3000";
const DEFAULT_SECRETS_FILE: &str = ".nurture/secrets.env";

/// A configuration value that is missing or cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is required in production mode: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(transparent)]
    SecretsFile(#[from] SecretsFileError),
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value if it is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { lookup: &lookup };
        let mode = match env.get("NURTURE_MODE").as_deref() {
            None | Some("demo") => Mode::Demo,
            Some("production") => Mode::Production,
            Some(other) => {
                return Err(invalid(
                    "NURTURE_MODE",
                    format!("{other:?} is not one of \"demo\", \"production\""),
                ));
            }
        };

        Ok(Self {
            mode,
            database: read_database(&env)?,
            http: read_http(&env, mode)?,
            logging: read_logging(&env)?,
            secrets: read_secrets(&env, mode)?,
            identity: read_identity(&env)?,
        })
    }
}

/// Reads both connections. Without `DATABASE_URL`, the defaults connect as the runtime role and
/// migrate as the owner; with only `DATABASE_URL`, that one connection also migrates.
fn read_database(env: &Env<'_>) -> Result<DatabaseConfig, ConfigError> {
    let explicit_url = env.get("DATABASE_URL");
    let migration_url = match (env.get("NURTURE_MIGRATION_DATABASE_URL"), &explicit_url) {
        (Some(url), _) => Some(url),
        (None, None) => Some(DEFAULT_MIGRATION_DATABASE_URL.to_owned()),
        (None, Some(_)) => None,
    };
    let url = explicit_url.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let migration_url = migration_url
        .map(|url| DatabaseUrl::parse(&url))
        .transpose()
        .map_err(|reason| invalid("NURTURE_MIGRATION_DATABASE_URL", reason))?;
    let url = DatabaseUrl::parse(&url).map_err(|reason| invalid("DATABASE_URL", reason))?;
    if let Some(migration_url) = &migration_url
        && migration_url.database_name() != url.database_name()
    {
        return Err(invalid(
            "NURTURE_MIGRATION_DATABASE_URL",
            "must name the same database as DATABASE_URL".to_owned(),
        ));
    }
    Ok(DatabaseConfig {
        url,
        migration_url,
        pool_size: env.number("NURTURE_DB_POOL_SIZE", 16, 1..=1000)?,
        acquire_timeout: Duration::from_secs(env.number(
            "NURTURE_DB_ACQUIRE_TIMEOUT_SECS",
            5,
            1..=300,
        )?),
    })
}

fn read_http(env: &Env<'_>, mode: Mode) -> Result<HttpConfig, ConfigError> {
    let listen = env
        .get("NURTURE_LISTEN")
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let listen = listen.parse().map_err(|_| {
        invalid(
            "NURTURE_LISTEN",
            format!("{listen:?} is not an address such as 127.0.0.1:3000"),
        )
    })?;

    let public_url = match (env.get("NURTURE_PUBLIC_URL"), mode) {
        (Some(url), _) => url,
        (None, Mode::Demo) => DEFAULT_PUBLIC_URL.to_owned(),
        (None, Mode::Production) => {
            return Err(ConfigError::Missing {
                name: "NURTURE_PUBLIC_URL",
                hint: "set it to the https address that browsers use, such as https://nurture.example.org",
            });
        }
    };
    let public_url = Url::parse(&public_url)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .ok_or_else(|| {
            invalid(
                "NURTURE_PUBLIC_URL",
                format!("{public_url:?} is not an http or https URL"),
            )
        })?;

    Ok(HttpConfig {
        listen,
        public_url,
        site_root: env
            .get("NURTURE_SITE_ROOT")
            .map_or_else(|| PathBuf::from("target/site"), PathBuf::from),
        body_limit_bytes: env.number(
            "NURTURE_BODY_LIMIT_BYTES",
            1024 * 1024,
            1024..=64 * 1024 * 1024,
        )?,
        request_timeout: Duration::from_secs(env.number(
            "NURTURE_REQUEST_TIMEOUT_SECS",
            30,
            1..=600,
        )?),
    })
}

fn read_identity(env: &Env<'_>) -> Result<IdentityConfig, ConfigError> {
    let hours = |value: u64| Duration::from_secs(value * 3600);
    Ok(IdentityConfig {
        invitation_ttl: hours(env.number("NURTURE_INVITATION_TTL_HOURS", 72, 1..=24 * 30)?),
        session_idle_timeout: Duration::from_secs(
            60 * env.number("NURTURE_SESSION_IDLE_MINUTES", 30, 1..=24 * 60)?,
        ),
        session_max_lifetime: hours(env.number("NURTURE_SESSION_MAX_HOURS", 4, 1..=24 * 7)?),
        sign_in_attempts_per_address: env.number(
            "NURTURE_SIGN_IN_ATTEMPTS_PER_ADDRESS",
            30,
            1..=100_000,
        )?,
        enrollment_attempts_per_address: env.number(
            "NURTURE_ENROLLMENT_ATTEMPTS_PER_ADDRESS",
            20,
            1..=100_000,
        )?,
    })
}

fn read_logging(env: &Env<'_>) -> Result<LogConfig, ConfigError> {
    let format = match env.get("NURTURE_LOG_FORMAT").as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(invalid(
                "NURTURE_LOG_FORMAT",
                format!("{other:?} is not one of \"text\", \"json\""),
            ));
        }
    };
    let filter = env.get("RUST_LOG").unwrap_or_else(|| "info".to_owned());
    Ok(LogConfig { format, filter })
}

/// Reads the secrets from the environment, then from the secrets file. In demo mode a missing
/// secrets file is created with fresh keys; in production mode every secret must be given.
fn read_secrets(env: &Env<'_>, mode: Mode) -> Result<Secrets, ConfigError> {
    let explicit_file = env.get("NURTURE_SECRETS_FILE").map(PathBuf::from);
    let all_in_env = SECRET_NAMES.iter().all(|name| env.get(name).is_some());

    let file_entries = match (&explicit_file, mode) {
        _ if all_in_env => Vec::new(),
        (Some(path), _) => secrets::read_file(path)?,
        (None, Mode::Production) => Vec::new(),
        (None, Mode::Demo) => {
            let path = PathBuf::from(DEFAULT_SECRETS_FILE);
            if !path.exists() {
                secrets::create_file(&path, &SECRET_NAMES)?;
            }
            secrets::add_missing(&path, &SECRET_NAMES)?;
            secrets::read_file(&path)?
        }
    };
    let secret = |name: &'static str| -> Result<SecretKey, ConfigError> {
        let value = env.get(name).or_else(|| {
            file_entries
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        });
        let value = value.ok_or(ConfigError::Missing {
            name,
            hint: "set it to 32 random bytes in base64, for example from `openssl rand -base64 32`",
        })?;
        SecretKey::from_base64(&value).map_err(|reason| invalid(name, reason))
    };

    let previous = |name: &'static str, current: u32, current_name: &str| {
        let text = env.get(name).or_else(|| {
            file_entries
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        });
        match text {
            Some(text) => parse_previous_keys(&text, current, current_name)
                .map_err(|reason| invalid(name, reason)),
            None => Ok(Vec::new()),
        }
    };

    let key_encryption_key_version = env.number("NURTURE_KEK_VERSION", 1, 1..=u32::MAX)?;
    // The audit key version is stored in an `integer` column.
    let audit_key_version =
        env.number("NURTURE_AUDIT_KEY_VERSION", 1, 1..=i32::MAX.unsigned_abs())?;
    Ok(Secrets {
        key_encryption_key: secret("NURTURE_KEK")?,
        key_encryption_key_version,
        previous_key_encryption_keys: previous(
            "NURTURE_KEK_PREVIOUS",
            key_encryption_key_version,
            "NURTURE_KEK_VERSION",
        )?,
        pseudonym_key: secret("NURTURE_PSEUDONYM_KEY")?,
        blind_index_key: secret("NURTURE_BLIND_INDEX_KEY")?,
        audit_key: secret("NURTURE_AUDIT_KEY")?,
        audit_key_version,
        previous_audit_keys: previous(
            "NURTURE_AUDIT_KEY_PREVIOUS",
            audit_key_version,
            "NURTURE_AUDIT_KEY_VERSION",
        )?,
    })
}

/// Parses `VERSION:BASE64` entries separated by commas, such as `1:AAAA...,2:BBBB...`. A version
/// may appear once and must differ from the current version `current`, named `current_name`.
fn parse_previous_keys(
    text: &str,
    current: u32,
    current_name: &str,
) -> Result<Vec<(u32, SecretKey)>, String> {
    let mut keys: Vec<(u32, SecretKey)> = Vec::new();
    for entry in text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let Some((version, key)) = entry.split_once(':') else {
            return Err("each entry must be VERSION:BASE64, such as 1:<32 bytes in base64>".into());
        };
        let version: u32 = version
            .trim()
            .parse()
            .ok()
            .filter(|version| *version >= 1)
            .ok_or_else(|| {
                format!(
                    "version {:?} is not a whole number of 1 or more",
                    version.trim()
                )
            })?;
        if version == current {
            return Err(format!(
                "version {version} is the current {current_name}; list only older versions"
            ));
        }
        if keys.iter().any(|(existing, _)| *existing == version) {
            return Err(format!("version {version} is listed twice"));
        }
        let key = SecretKey::from_base64(key.trim())
            .map_err(|reason| format!("the key of version {version} {reason}"))?;
        keys.push((version, key));
    }
    Ok(keys)
}

struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    /// Returns the variable's value, treating an empty value as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.trim().parse::<T>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(invalid(
                name,
                format!(
                    "{text:?} is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }
}

fn invalid(name: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { name, reason }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn lookup_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn with_secrets(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = vec![
            ("NURTURE_KEK", SecretKey::generate().to_base64()),
            ("NURTURE_PSEUDONYM_KEY", SecretKey::generate().to_base64()),
            ("NURTURE_BLIND_INDEX_KEY", SecretKey::generate().to_base64()),
            ("NURTURE_AUDIT_KEY", SecretKey::generate().to_base64()),
        ];
        pairs.extend(extra.iter().map(|(key, value)| (*key, value.to_string())));
        pairs
    }

    fn config_from(pairs: &[(&'static str, String)]) -> Result<Config, ConfigError> {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Config::from_lookup(lookup_from(&borrowed))
    }

    #[test]
    fn demo_defaults_apply() {
        let config = config_from(&with_secrets(&[])).unwrap();
        assert_eq!(config.mode, Mode::Demo);
        assert_eq!(config.http.public_origin(), "http://localhost:3000");
        assert_eq!(config.http.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(config.http.body_limit_bytes, 1024 * 1024);
        assert_eq!(config.logging.format, LogFormat::Text);
        assert_eq!(config.secrets.key_encryption_key_version, 1);
    }

    #[test]
    fn production_requires_public_url() {
        let error = config_from(&with_secrets(&[("NURTURE_MODE", "production")])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("NURTURE_PUBLIC_URL is required"),
            "{error}"
        );
    }

    #[test]
    fn production_requires_each_secret() {
        let pairs = vec![
            ("NURTURE_MODE", "production".to_owned()),
            (
                "NURTURE_PUBLIC_URL",
                "https://nurture.example.org".to_owned(),
            ),
            ("NURTURE_KEK", SecretKey::generate().to_base64()),
        ];
        let error = config_from(&pairs).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("NURTURE_PSEUDONYM_KEY is required"),
            "{error}"
        );
    }

    #[test]
    fn invalid_number_names_variable() {
        let error =
            config_from(&with_secrets(&[("NURTURE_BODY_LIMIT_BYTES", "lots")])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "NURTURE_BODY_LIMIT_BYTES is invalid: \"lots\" is not a whole number from 1024 to 67108864"
        );
    }

    #[test]
    fn previous_keys_parsed() {
        let first = SecretKey::generate();
        let second = SecretKey::generate();
        let text = format!("1:{}, 2:{}", first.to_base64(), second.to_base64());
        let pairs = with_secrets(&[("NURTURE_KEK_VERSION", "3")]);
        let mut pairs = pairs;
        pairs.push(("NURTURE_KEK_PREVIOUS", text));

        let config = config_from(&pairs).unwrap();

        assert_eq!(
            config.secrets.previous_key_encryption_keys,
            vec![(1, first), (2, second)]
        );
    }

    #[test]
    fn previous_keys_rejected_when_invalid() {
        let key = SecretKey::generate().to_base64();
        let cases = [
            (format!("2:{key}"), "is the current NURTURE_KEK_VERSION"),
            (format!("1:{key},1:{key}"), "listed twice"),
            (key.clone(), "VERSION:BASE64"),
            (format!("0:{key}"), "1 or more"),
            ("1:c2hvcnQ=".to_owned(), "decodes to 5 bytes"),
        ];
        for (text, expected) in cases {
            let mut pairs = with_secrets(&[("NURTURE_KEK_VERSION", "2")]);
            pairs.push(("NURTURE_KEK_PREVIOUS", text.clone()));
            let error = config_from(&pairs).unwrap_err().to_string();
            assert!(
                error.starts_with("NURTURE_KEK_PREVIOUS is invalid"),
                "{error}"
            );
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn database_roles_default_to_runtime_and_owner() {
        let config = config_from(&with_secrets(&[])).unwrap();
        assert!(
            config
                .database
                .url
                .expose()
                .starts_with("postgres://nurture_app:")
        );
        let migration = config.database.migration_url.unwrap();
        assert!(migration.expose().starts_with("postgres://nurture:"));

        let single = "postgres://someone@db.internal/nurture";
        let config = config_from(&with_secrets(&[("DATABASE_URL", single)])).unwrap();
        assert_eq!(config.database.url.expose(), single);
        assert!(config.database.migration_url.is_none());
    }

    #[test]
    fn migration_url_must_name_same_database() {
        let error = config_from(&with_secrets(&[
            ("DATABASE_URL", "postgres://app@localhost/first"),
            (
                "NURTURE_MIGRATION_DATABASE_URL",
                "postgres://owner@localhost/second",
            ),
        ]))
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("NURTURE_MIGRATION_DATABASE_URL is invalid"),
            "{error}"
        );
    }

    #[test]
    fn previous_audit_keys_parsed() {
        let old = SecretKey::generate();
        let mut pairs = with_secrets(&[("NURTURE_AUDIT_KEY_VERSION", "2")]);
        pairs.push((
            "NURTURE_AUDIT_KEY_PREVIOUS",
            format!("1:{}", old.to_base64()),
        ));

        let config = config_from(&pairs).unwrap();

        assert_eq!(config.secrets.audit_key_version, 2);
        assert_eq!(config.secrets.previous_audit_keys, vec![(1, old)]);
    }

    #[test]
    fn invalid_mode_names_variable() {
        let error = config_from(&with_secrets(&[("NURTURE_MODE", "staging")])).unwrap_err();
        assert!(
            error.to_string().starts_with("NURTURE_MODE is invalid"),
            "{error}"
        );
    }

    #[test]
    fn short_secret_names_variable() {
        let pairs = vec![
            ("NURTURE_KEK", "c2hvcnQ=".to_owned()),
            ("NURTURE_PSEUDONYM_KEY", SecretKey::generate().to_base64()),
            ("NURTURE_BLIND_INDEX_KEY", SecretKey::generate().to_base64()),
            ("NURTURE_AUDIT_KEY", SecretKey::generate().to_base64()),
        ];
        let error = config_from(&pairs).unwrap_err();
        assert_eq!(
            error.to_string(),
            "NURTURE_KEK is invalid: decodes to 5 bytes, expected 32"
        );
    }

    #[test]
    fn non_http_public_url_rejected() {
        let error =
            config_from(&with_secrets(&[("NURTURE_PUBLIC_URL", "ftp://localhost")])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("NURTURE_PUBLIC_URL is invalid"),
            "{error}"
        );
    }

    #[test]
    fn secrets_file_created_private_and_reused() {
        let folder = std::env::temp_dir().join(format!("nurture-config-{}", uuid::Uuid::new_v4()));
        let path = folder.join("secrets.env");
        let path_text = path.to_str().unwrap().to_owned();
        let pairs = vec![("NURTURE_SECRETS_FILE", path_text.clone())];

        secrets::create_file(&path, &SECRET_NAMES).unwrap();
        let first = config_from(&pairs).unwrap();
        let second = config_from(&pairs).unwrap();

        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            first.secrets.key_encryption_key,
            second.secrets.key_encryption_key
        );
        assert_eq!(first.secrets.pseudonym_key, second.secrets.pseudonym_key);
        assert_ne!(
            first.secrets.key_encryption_key,
            first.secrets.pseudonym_key
        );
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[test]
    fn readable_secrets_file_rejected() {
        let folder = std::env::temp_dir().join(format!("nurture-config-{}", uuid::Uuid::new_v4()));
        let path = folder.join("secrets.env");
        secrets::create_file(&path, &SECRET_NAMES).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

        let error = config_from(&[("NURTURE_SECRETS_FILE", path.to_str().unwrap().to_owned())])
            .unwrap_err();
        assert!(
            error.to_string().contains("readable by other users"),
            "{error}"
        );
        std::fs::remove_dir_all(folder).unwrap();
    }
}
