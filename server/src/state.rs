//! State shared by every request handler.

use std::sync::Arc;
use std::time::Duration;

use app::audit::{AuditKey, AuditKeyring, AuditWriter};
use app::crypto::LocalKeyProvider;
use app::db::DbPool;
use app::identity::server::email::BlindIndexKey;
use app::services::{IdentitySettings, RateLimits, Services};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::{Config, DatabaseConfig, HttpConfig};
use crate::events::EventHub;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: DbPool,
    pub http: Arc<HttpConfig>,
    pub services: Arc<Services>,
    /// Care events for this node's open streams.
    pub events: EventHub,
}

impl AppState {
    pub fn new(config: &Config, pool: DbPool) -> Result<Self, String> {
        let http = &config.http;
        let leptos_options = LeptosOptions::builder()
            .output_name(app::BUNDLE_NAME)
            .site_root(http.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(http.listen)
            .build();
        app::audit::install_audit_keys(audit_keyring(config)?)
            .map_err(|error| format!("NURTURE_AUDIT_KEY cannot be used: {error}"))?;
        let services = Services {
            pool: pool.clone(),
            webauthn: relying_party(http)?,
            keys: Arc::new(key_provider(config)?),
            blind_index: BlindIndexKey::new(*config.secrets.blind_index_key.expose()),
            settings: IdentitySettings {
                public_url: http.public_origin(),
                invitation_ttl: config.identity.invitation_ttl,
                session_idle_timeout: config.identity.session_idle_timeout,
                session_max_lifetime: config.identity.session_max_lifetime,
                step_up_window: Duration::from_secs(5 * 60),
                ceremony_ttl: Duration::from_secs(5 * 60),
                rate_limits: RateLimits {
                    sign_in_per_address: config.identity.sign_in_attempts_per_address,
                    enrollment_per_address: config.identity.enrollment_attempts_per_address,
                    ..RateLimits::default()
                },
            },
            audit: AuditWriter::start(crate::database::build_pool(&DatabaseConfig {
                pool_size: AuditWriter::CONNECTIONS,
                ..config.database.clone()
            })),
        };
        Ok(Self {
            leptos_options,
            pool,
            http: Arc::new(http.clone()),
            services: Arc::new(services),
            events: EventHub::new(),
        })
    }
}

/// Builds the key provider holding the current KEK and the previous ones that still unwrap data keys
/// not yet rewrapped by `nurture rotate-keys`.
pub fn key_provider(config: &Config) -> Result<LocalKeyProvider, String> {
    let secrets = &config.secrets;
    let mut provider = LocalKeyProvider::new(
        secrets.key_encryption_key_version,
        secrets.key_encryption_key.expose(),
    );
    for (version, key) in &secrets.previous_key_encryption_keys {
        provider = provider
            .with_previous(*version, key.expose())
            .map_err(|error| format!("NURTURE_KEK_PREVIOUS is invalid: {error}"))?;
    }
    Ok(provider)
}

/// Builds the audit keyring: the current audit key, which signs new events, and the previous
/// ones, which only verify.
pub fn audit_keyring(config: &Config) -> Result<AuditKeyring, String> {
    let secrets = &config.secrets;
    let key = |version: u32, key: &crate::secrets::SecretKey, name: &str| {
        AuditKey::new(version, *key.expose()).map_err(|error| format!("{name} is invalid: {error}"))
    };
    let mut keyring = AuditKeyring::new(key(
        secrets.audit_key_version,
        &secrets.audit_key,
        "NURTURE_AUDIT_KEY_VERSION",
    )?);
    for (version, previous) in &secrets.previous_audit_keys {
        keyring = keyring
            .with_previous(key(*version, previous, "NURTURE_AUDIT_KEY_PREVIOUS")?)
            .map_err(|error| format!("NURTURE_AUDIT_KEY_PREVIOUS is invalid: {error}"))?;
    }
    Ok(keyring)
}

/// Builds the WebAuthn relying party. Its id is the public URL's host, and only responses from
/// the public origin (scheme, host and port) are accepted.
fn relying_party(http: &HttpConfig) -> Result<Webauthn, String> {
    let rp_id = http
        .public_url
        .host_str()
        .ok_or("NURTURE_PUBLIC_URL has no host")?
        .to_owned();
    let origin = url::Url::parse(&http.public_origin()).map_err(|error| error.to_string())?;
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|builder| builder.rp_name("Nurture").build())
        .map_err(|error| {
            format!("NURTURE_PUBLIC_URL cannot be a WebAuthn origin ({error}); use a host name such as localhost, not an IP address")
        })
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
