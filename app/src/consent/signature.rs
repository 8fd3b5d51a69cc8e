//! Signing a consent text with a passkey: a WebAuthn assertion whose challenge is derived from
//! the text's SHA-256, so the assertion itself shows which text was signed.
//!
//! The challenge is SHA-256 over the label `nurture.consent.signature.v1`, the text hash and a
//! 32-byte random nonce, each length-prefixed (see [`signature_challenge`]). The ceremony's
//! state is kept in `consent_signature_ceremonies` and deleted before the response is verified,
//! so each challenge accepts one response. Verifying recomputes the challenge from the text hash
//! of the version being granted and compares it with the challenge inside the signed client
//! data, so an assertion over another text is rejected even when its signature is valid.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

use super::hash::Encoder;
use super::schema::consent_signature_ceremonies;
use super::templates::ConsentVersion;
use crate::error::AppError;
use crate::identity::server::accounts::internal;
use crate::identity::server::passkeys;
use crate::ids::UserId;
use crate::services::Services;

/// A started signature ceremony: the id to send back and the options for
/// `navigator.credentials.get()`.
pub struct SignatureStart {
    pub ceremony_id: Uuid,
    pub options: serde_json::Value,
}

/// The verified parts of a signature that a grant stores.
pub struct VerifiedSignature {
    pub credential_id: Vec<u8>,
    /// The assertion as the JSON text the browser sent.
    pub assertion: String,
}

/// Computes the challenge that binds a consent text's hash.
pub fn signature_challenge(text_hash: &[u8; 32], nonce: &[u8; 32]) -> [u8; 32] {
    Encoder::new("nurture.consent.signature.v1")
        .bytes(text_hash)
        .bytes(nonce)
        .finish()
}

/// Returns the error for a signature that could not be verified. Like sign-in, it does not say
/// which check failed.
pub fn signature_not_verified() -> AppError {
    AppError::invalid_input(
        "Your passkey signature could not be verified. Reload the page and sign again.",
    )
}

/// Replaces every occurrence of `from` in webauthn-rs's serialised state by `to`, whether it is
/// stored as base64url text or as an array of bytes, and returns how many were replaced.
// NOTE: this relies on the state's JSON form, which webauthn-rs 0.6.2 produces with the feature
// `danger-allow-state-serialisation`. If a later version stores the challenge differently,
// nothing is replaced and `begin_signature` fails instead of issuing an unbound challenge.
fn replace_challenge(value: &mut serde_json::Value, from: &[u8], to: &[u8]) -> usize {
    use serde_json::Value;

    let from_text = URL_SAFE_NO_PAD.encode(from);
    match value {
        Value::String(text) if text.trim_end_matches('=') == from_text => {
            *text = URL_SAFE_NO_PAD.encode(to);
            1
        }
        Value::Array(items)
            if items.len() == from.len()
                && items
                    .iter()
                    .zip(from)
                    .all(|(item, byte)| item.as_u64() == Some(u64::from(*byte))) =>
        {
            *items = to.iter().map(|byte| Value::from(*byte)).collect();
            1
        }
        Value::Array(items) => items
            .iter_mut()
            .map(|item| replace_challenge(item, from, to))
            .sum(),
        Value::Object(fields) => fields
            .values_mut()
            .map(|item| replace_challenge(item, from, to))
            .sum(),
        _ => 0,
    }
}

/// Starts a ceremony in which `user` signs `version`'s text with one of her passkeys.
pub async fn begin_signature(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: UserId,
    version: &ConsentVersion,
) -> Result<SignatureStart, AppError> {
    let keys: Vec<_> = passkeys::for_user(conn, user)
        .await?
        .into_iter()
        .map(|stored| stored.passkey)
        .collect();
    let (challenge, state) = services
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(internal)?;
    let original = challenge.public_key.challenge.to_vec();

    let mut nonce = [0u8; 32];
    rand::fill(&mut nonce);
    let bound = signature_challenge(&version.text_hash, &nonce);
    let mut options = serde_json::to_value(&challenge).map_err(internal)?;
    let mut state = serde_json::to_value(&state).map_err(internal)?;
    if replace_challenge(&mut options, &original, &bound) != 1
        || replace_challenge(&mut state, &original, &bound) == 0
    {
        tracing::error!("the WebAuthn challenge could not be bound to the consent text");
        return Err(AppError::internal());
    }

    let ceremony_id = Uuid::new_v4();
    let expires_at =
        Utc::now() + chrono::Duration::from_std(services.settings.ceremony_ttl).unwrap_or_default();
    diesel::insert_into(consent_signature_ceremonies::table)
        .values((
            consent_signature_ceremonies::id.eq(ceremony_id),
            consent_signature_ceremonies::user_id.eq(user.0),
            consent_signature_ceremonies::version_id.eq(version.id.0),
            consent_signature_ceremonies::nonce.eq(nonce.to_vec()),
            consent_signature_ceremonies::state.eq(state),
            consent_signature_ceremonies::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map_err(internal)?;
    Ok(SignatureStart {
        ceremony_id,
        options,
    })
}

/// Deletes the ceremony and returns its nonce and state, so that it accepts one response. Call
/// it outside any transaction, so the deletion is kept when verification then fails.
async fn take_ceremony(
    conn: &mut AsyncPgConnection,
    ceremony_id: Uuid,
    user: UserId,
) -> Result<Option<(Vec<u8>, serde_json::Value)>, AppError> {
    diesel::delete(
        consent_signature_ceremonies::table
            .filter(consent_signature_ceremonies::id.eq(ceremony_id))
            .filter(consent_signature_ceremonies::user_id.eq(user.0))
            .filter(consent_signature_ceremonies::expires_at.gt(Utc::now())),
    )
    .returning((
        consent_signature_ceremonies::nonce,
        consent_signature_ceremonies::state,
    ))
    .get_result(conn)
    .await
    .optional()
    .map_err(internal)
}

/// Returns the challenge inside the assertion's client data, which the authenticator signed.
fn signed_challenge(credential: &PublicKeyCredential) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct ClientData {
        challenge: String,
    }
    let client_data: ClientData =
        serde_json::from_slice(credential.response.client_data_json.as_ref()).ok()?;
    URL_SAFE_NO_PAD
        .decode(client_data.challenge.trim_end_matches('='))
        .ok()
}

/// Deletes expired signature ceremonies and returns how many.
pub async fn delete_expired_ceremonies(
    conn: &mut AsyncPgConnection,
) -> Result<usize, diesel::result::Error> {
    diesel::delete(
        consent_signature_ceremonies::table
            .filter(consent_signature_ceremonies::expires_at.le(Utc::now())),
    )
    .execute(conn)
    .await
}

/// Verifies that `user` signed `version`'s text in ceremony `ceremony_id` with a user-verified
/// assertion of one of her passkeys, and records the passkey's use.
///
/// Fails with [`super::ConsentError::SignatureMismatch`] (as an [`AppError`]) when the signed
/// challenge binds another text, and with [`signature_not_verified`] for every other failure.
pub async fn verify_signature(
    services: &Services,
    conn: &mut AsyncPgConnection,
    user: UserId,
    ceremony_id: Uuid,
    version: &ConsentVersion,
    credential_json: &str,
) -> Result<VerifiedSignature, AppError> {
    let credential: PublicKeyCredential =
        serde_json::from_str(credential_json).map_err(|_| signature_not_verified())?;
    let (nonce, state) = take_ceremony(conn, ceremony_id, user)
        .await?
        .ok_or_else(signature_not_verified)?;
    let nonce: [u8; 32] = nonce.try_into().map_err(|_| signature_not_verified())?;
    let expected = signature_challenge(&version.text_hash, &nonce);
    if signed_challenge(&credential).as_deref() != Some(expected.as_slice()) {
        return Err(super::ConsentError::SignatureMismatch.into());
    }

    let mut stored = passkeys::find_by_credential_id(conn, credential.raw_id.as_ref())
        .await?
        .filter(|stored| stored.user_id == user)
        .ok_or_else(signature_not_verified)?;
    let state: PasskeyAuthentication = serde_json::from_value(state).map_err(internal)?;
    let result = services
        .webauthn
        .finish_passkey_authentication(&credential, &state)
        .map_err(|error| {
            tracing::info!(%error, user_id = %user, "consent signature was not verified");
            signature_not_verified()
        })?;
    if !result.user_verified() || !passkeys::counter_is_valid(stored.sign_count, result.counter()) {
        tracing::info!(user_id = %user, "consent signature without user verification or with a stale counter");
        return Err(signature_not_verified());
    }
    passkeys::record_use(conn, &mut stored, &result).await?;

    Ok(VerifiedSignature {
        credential_id: credential.raw_id.to_vec(),
        assertion: credential_json.to_owned(),
    })
}
