//! The WebAuthn ceremonies: enrollment from an invitation, sign-in with or without an email,
//! adding a passkey, and step-up before a sensitive action.
//!
//! Every ceremony stores its state server side and hands the browser only its id; finishing
//! takes the state out of the database before verifying, so each challenge accepts one response.
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, WebauthnError,
};

use crate::audit::SecurityEventKind;
use crate::error::{AppError, ErrorCode};
use crate::identity::server::accounts::{self, UserStatus, internal};
use crate::identity::server::ceremonies::{self, CeremonyKind};
use crate::identity::server::email::{BlindIndexKey, email_index, normalize_email};
use crate::identity::server::events::{self, Event};
use crate::identity::server::invitations::{
    self, FoundInvitation, InvitationPurpose, InvitationState,
};
use crate::identity::server::passkeys::{self, StoredPasskey};
use crate::identity::server::rate_limit;
use crate::identity::server::request::RequestMeta;
use crate::ids::UserId;
use crate::services::Services;

/// Options for `navigator.credentials.create()` or `.get()`, and the id to send back.
pub struct CeremonyStart {
    pub ceremony_id: Uuid,
    /// webauthn-rs's challenge response as JSON: `{"publicKey": {...}}`.
    pub options: serde_json::Value,
}

/// Returns the one error for every failed sign-in, so that an unknown account, a wrong passkey
/// and a replayed challenge look the same.
pub fn sign_in_failed() -> AppError {
    AppError::new(
        ErrorCode::Unauthenticated,
        "Sign-in failed. Try again with your passkey, or ask your clinic for help.",
    )
}

fn ceremony_expired() -> AppError {
    AppError::invalid_input("This request has expired or was already used. Start again.")
}

async fn check_rate(
    connection: &mut AsyncPgConnection,
    bucket: String,
    limit: u32,
    services: &Services,
) -> Result<(), AppError> {
    match rate_limit::hit(
        connection,
        &bucket,
        limit,
        services.settings.rate_limits.window,
    )
    .await
    .map_err(internal)?
    {
        Ok(()) => Ok(()),
        Err(retry_after) => {
            tracing::warn!(bucket, "rate limit reached");
            Err(rate_limit::too_many_attempts(retry_after))
        }
    }
}

/// Returns the error for an invitation that can no longer be used.
pub fn invitation_error(state: Option<InvitationState>) -> AppError {
    let message = match state {
        Some(InvitationState::Expired) => {
            "This invitation has expired. Ask your clinic for a new one."
        }
        Some(InvitationState::Used) => {
            "This invitation was already used. Sign in with your passkey, or ask your clinic for a new invitation."
        }
        Some(InvitationState::Revoked) => {
            "This invitation was withdrawn. Ask your clinic for a new one."
        }
        Some(InvitationState::Open) | None => return crate::identity::invitation_link_invalid(),
    };
    AppError::new(ErrorCode::NotFound, message)
}

/// Finds an open invitation by token, or fails with the message for its state.
pub async fn open_invitation(
    connection: &mut AsyncPgConnection,
    token: &str,
) -> Result<FoundInvitation, AppError> {
    let found = invitations::find_by_token(connection, token)
        .await
        .map_err(internal)?;
    match found {
        Some(invitation) if invitation.state == InvitationState::Open => Ok(invitation),
        other => Err(invitation_error(other.map(|invitation| invitation.state))),
    }
}

/// Registration options that ask for a discoverable credential, so that the user can later sign
/// in without typing an email. webauthn-rs's passkey registration leaves this optional; the
/// server cannot verify it either way, so only the request changes.
fn require_resident_key(options: &mut serde_json::Value) {
    let selection = &mut options["publicKey"]["authenticatorSelection"];
    if !selection.is_object() {
        *selection = serde_json::json!({});
    }
    selection["residentKey"] = "required".into();
    selection["requireResidentKey"] = true.into();
    selection["userVerification"] = "required".into();
}

async fn start_registration(
    services: &Services,
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    invitation_id: Option<Uuid>,
) -> Result<CeremonyStart, AppError> {
    let profile = accounts::load_profile(connection, services.keys.as_ref(), user_id).await?;
    let existing: Vec<_> = passkeys::for_user(connection, user_id)
        .await?
        .into_iter()
        .map(|stored| stored.passkey.cred_id().clone())
        .collect();
    let (challenge, state) = services
        .webauthn
        .start_passkey_registration(
            user_id.0,
            &profile.email,
            &profile.display_name,
            Some(existing),
        )
        .map_err(internal)?;

    let mut options = serde_json::to_value(&challenge).map_err(internal)?;
    require_resident_key(&mut options);
    let state = serde_json::to_value(&state).map_err(internal)?;
    let ceremony_id = ceremonies::store(
        connection,
        CeremonyKind::Registration,
        Some(user_id),
        invitation_id,
        state,
        services.settings.ceremony_ttl,
    )
    .await
    .map_err(internal)?;
    Ok(CeremonyStart {
        ceremony_id,
        options,
    })
}

/// Starts enrollment from an invitation token.
pub async fn begin_enrollment(services: &Services, token: &str) -> Result<CeremonyStart, AppError> {
    let mut connection = crate::db::connection(&services.pool).await?;
    let meta = RequestMeta::current();
    check_rate(
        &mut connection,
        format!("enroll:address:{}", meta.address_key()),
        services.settings.rate_limits.enrollment_per_address,
        services,
    )
    .await?;
    let invitation = open_invitation(&mut connection, token).await?;
    start_registration(
        services,
        &mut connection,
        invitation.user_id,
        Some(invitation.id),
    )
    .await
}

fn parse_registration(credential: &str) -> Result<RegisterPublicKeyCredential, AppError> {
    serde_json::from_str(credential)
        .map_err(|_| AppError::invalid_input("The passkey response could not be read. Try again."))
}

fn registration_failed(error: WebauthnError) -> AppError {
    tracing::warn!(%error, "passkey registration was not verified");
    AppError::invalid_input(
        "Your passkey could not be verified. Try again, making sure your device asks for your fingerprint, face or PIN.",
    )
}

/// Verifies a registration response against the state its ceremony stored.
fn verify_registration(
    services: &Services,
    state: serde_json::Value,
    credential: &RegisterPublicKeyCredential,
) -> Result<Passkey, AppError> {
    let state: PasskeyRegistration = serde_json::from_value(state).map_err(internal)?;
    services
        .webauthn
        .finish_passkey_registration(credential, &state)
        .map_err(registration_failed)
}

/// Finishes enrollment: stores the passkey, uses up the invitation, activates the account and
/// returns the user to sign in. A recovery invitation also ends every existing session.
pub async fn finish_enrollment(
    services: &Services,
    ceremony_id: Uuid,
    credential: &str,
    passkey_name: &str,
) -> Result<UserId, AppError> {
    let name = passkeys::validate_name(passkey_name)?;
    let credential = parse_registration(credential)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let ceremony = ceremonies::take(&mut connection, ceremony_id, &[CeremonyKind::Registration])
        .await
        .map_err(internal)?
        .ok_or_else(ceremony_expired)?;
    let (Some(user_id), Some(invitation_id)) = (ceremony.user_id, ceremony.invitation_id) else {
        return Err(ceremony_expired());
    };
    let passkey = verify_registration(services, ceremony.state, &credential)?;

    connection
        .transaction::<_, AppError, _>(async move |connection| {
            let invitation = invitations::find_by_id(connection, invitation_id)
                .await
                .map_err(internal)?
                .filter(|invitation| invitation.user_id == user_id);
            let state = invitation.as_ref().map(|invitation| invitation.state);
            let Some(invitation) = invitation.filter(|_| state == Some(InvitationState::Open))
            else {
                return Err(invitation_error(state));
            };
            let passkey_id = passkeys::insert(connection, user_id, &passkey, &name).await?;
            invitations::mark_used(connection, invitation.id)
                .await
                .map_err(internal)?;
            accounts::set_status(connection, user_id, UserStatus::Active)
                .await
                .map_err(internal)?;

            let clinic_id = invitation.clinic_id;
            let event = |kind, detail| Event {
                kind,
                clinic_id,
                actor: Some(user_id),
                subject: Some(user_id),
                detail,
            };
            if invitation.purpose == InvitationPurpose::Recovery {
                let ended = accounts::end_all_sessions(connection, user_id)
                    .await
                    .map_err(internal)?;
                let detail = serde_json::json!({ "sessions_ended": ended });
                events::record(
                    connection,
                    event(SecurityEventKind::AccountRecovery, detail),
                )
                .await?;
            }
            let detail = serde_json::json!({ "invitation_id": invitation.id });
            events::record(connection, event(SecurityEventKind::InvitationUsed, detail)).await?;
            let detail = serde_json::json!({ "passkey_id": passkey_id });
            events::record(connection, event(SecurityEventKind::PasskeyAdded, detail)).await?;
            Ok(())
        })
        .await?;
    Ok(user_id)
}

/// Starts adding another passkey for a signed-in user.
pub async fn begin_add_passkey(
    services: &Services,
    user_id: UserId,
) -> Result<CeremonyStart, AppError> {
    let mut connection = crate::db::connection(&services.pool).await?;
    start_registration(services, &mut connection, user_id, None).await
}

/// Finishes adding a passkey for the signed-in user `user_id`.
pub async fn finish_add_passkey(
    services: &Services,
    user_id: UserId,
    clinic_id: crate::ids::ClinicId,
    ceremony_id: Uuid,
    credential: &str,
    passkey_name: &str,
) -> Result<Uuid, AppError> {
    let name = passkeys::validate_name(passkey_name)?;
    let credential = parse_registration(credential)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let ceremony = ceremonies::take(&mut connection, ceremony_id, &[CeremonyKind::Registration])
        .await
        .map_err(internal)?
        .filter(|ceremony| ceremony.user_id == Some(user_id) && ceremony.invitation_id.is_none())
        .ok_or_else(ceremony_expired)?;
    let passkey = verify_registration(services, ceremony.state, &credential)?;

    connection
        .transaction::<_, AppError, _>(async move |connection| {
            let passkey_id = passkeys::insert(connection, user_id, &passkey, &name).await?;
            let event = Event {
                kind: SecurityEventKind::PasskeyAdded,
                clinic_id,
                actor: Some(user_id),
                subject: Some(user_id),
                detail: serde_json::json!({ "passkey_id": passkey_id }),
            };
            events::record(connection, event).await?;
            Ok(passkey_id)
        })
        .await
}

/// Starts sign-in. With the email of an active account, the challenge lists that account's
/// passkeys. Without an email it is a discoverable challenge. For an unknown email it is a
/// discoverable challenge disguised as an account's, so the response does not reveal whether
/// the account exists.
pub async fn begin_sign_in(
    services: &Services,
    email: Option<&str>,
) -> Result<CeremonyStart, AppError> {
    let mut connection = crate::db::connection(&services.pool).await?;
    let meta = RequestMeta::current();
    let limits = services.settings.rate_limits;
    check_rate(
        &mut connection,
        format!("sign-in:address:{}", meta.address_key()),
        limits.sign_in_per_address,
        services,
    )
    .await?;

    let mut account_passkeys = Vec::new();
    let mut account = None;
    let mut typed_email = None;
    if let Some(email) = email.map(str::trim).filter(|email| !email.is_empty()) {
        let email = normalize_email(email).map_err(AppError::invalid_input)?;
        typed_email = Some(email.clone());
        let index = hex(&email_index(&services.blind_index, &email));
        check_rate(
            &mut connection,
            format!("sign-in:account:{index}"),
            limits.sign_in_per_account,
            services,
        )
        .await?;
        account = accounts::find_by_email(&mut connection, &services.blind_index, &email)
            .await
            .map_err(internal)?
            .filter(|account| account.status == UserStatus::Active);
        if let Some(account) = &account {
            account_passkeys = passkeys::for_user(&mut connection, account.id).await?;
        }
    }

    let (kind, user_id, options, state) = match account {
        Some(account) if !account_passkeys.is_empty() => {
            let keys: Vec<_> = account_passkeys
                .into_iter()
                .map(|stored| stored.passkey)
                .collect();
            let (challenge, state) = services
                .webauthn
                .start_passkey_authentication(&keys)
                .map_err(internal)?;
            let state = serde_json::to_value::<PasskeyAuthentication>(state).map_err(internal)?;
            (
                CeremonyKind::Authentication,
                Some(account.id),
                serde_json::to_value(challenge).map_err(internal),
                state,
            )
        }
        _ => {
            let (mut challenge, state) = services
                .webauthn
                .start_discoverable_authentication()
                .map_err(internal)?;
            // The sign-in button requests a passkey at once instead of waiting for autofill.
            challenge.mediation = None;
            let state =
                serde_json::to_value::<DiscoverableAuthentication>(state).map_err(internal)?;
            let mut options = serde_json::to_value(challenge).map_err(internal);
            if let (Some(email), Ok(options)) = (&typed_email, &mut options) {
                disguise_as_account_challenge(options, &services.blind_index, email);
            }
            (CeremonyKind::Discoverable, None, options, state)
        }
    };
    let options = options?;
    let ceremony_id = ceremonies::store(
        &mut connection,
        kind,
        user_id,
        None,
        state,
        services.settings.ceremony_ttl,
    )
    .await
    .map_err(internal)?;
    Ok(CeremonyStart {
        ceremony_id,
        options,
    })
}

/// Makes a discoverable challenge for an email without a usable account look like the
/// challenge of an account with one passkey: no extensions, and one credential id derived from
/// the email with the blind-index key, stable across attempts. Without this, the response
/// would reveal which emails have accounts. No authenticator has a credential with the decoy
/// id, so the browser finds no passkey to offer.
fn disguise_as_account_challenge(
    options: &mut serde_json::Value,
    key: &BlindIndexKey,
    email: &str,
) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let decoy = URL_SAFE_NO_PAD.encode(key.index("decoy-credential", email));
    let public_key = &mut options["publicKey"];
    if let Some(fields) = public_key.as_object_mut() {
        fields.remove("extensions");
    }
    public_key["allowCredentials"] = serde_json::json!([{ "type": "public-key", "id": decoy }]);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Reads the signature counter from authenticator data: four big-endian bytes after the 32-byte
/// RP id hash and the flags byte (WebAuthn Level 3, section 6.1). Returns 0 for short data.
fn signature_counter(authenticator_data: &[u8]) -> u32 {
    authenticator_data
        .get(33..37)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

fn parse_assertion(credential: &str) -> Result<PublicKeyCredential, AppError> {
    serde_json::from_str(credential).map_err(|_| sign_in_failed())
}

/// Verifies an assertion against a stored passkey and updates the passkey, or records why it
/// failed. Shared by sign-in and step-up.
async fn verify_assertion(
    services: &Services,
    connection: &mut AsyncPgConnection,
    ceremony: ceremonies::Ceremony,
    credential: &PublicKeyCredential,
    mut stored: StoredPasskey,
    failure_kind: SecurityEventKind,
) -> Result<(), AppError> {
    let account = accounts::find_account(connection, stored.user_id)
        .await
        .map_err(internal)?
        .filter(|account| account.status == UserStatus::Active)
        .ok_or_else(sign_in_failed)?;
    let eligibility_changed = passkeys::align_backup_eligibility(
        &mut stored.passkey,
        &credential.response.authenticator_data,
    );

    let verified = match ceremony.kind {
        CeremonyKind::Discoverable => {
            let state: DiscoverableAuthentication =
                serde_json::from_value(ceremony.state).map_err(internal)?;
            let handle_matches = services
                .webauthn
                .identify_discoverable_authentication(credential)
                .is_ok_and(|(user_uuid, _)| user_uuid == stored.user_id.0);
            if handle_matches {
                services.webauthn.finish_discoverable_authentication_v2(
                    credential,
                    state,
                    &stored.passkey,
                )
            } else {
                Err(WebauthnError::InvalidUserUniqueId)
            }
        }
        _ => {
            let state: PasskeyAuthentication =
                serde_json::from_value(ceremony.state).map_err(internal)?;
            services
                .webauthn
                .finish_passkey_authentication(credential, &state)
        }
    };

    let regression = |received: u32| -> AppError {
        tracing::warn!(user_id = %stored.user_id, passkey_id = %stored.id, stored = stored.sign_count, received, "passkey counter went backwards");
        sign_in_failed()
    };
    let result = match verified {
        Ok(result)
            if result.user_verified()
                && passkeys::counter_is_valid(stored.sign_count, result.counter()) =>
        {
            result
        }
        Ok(result) if !result.user_verified() => {
            record_failure(
                connection,
                &account,
                stored.id,
                failure_kind,
                "user_not_verified",
            )
            .await?;
            return Err(sign_in_failed());
        }
        Ok(result) => {
            record_counter_regression(connection, &account, &stored, result.counter()).await?;
            return Err(regression(result.counter()));
        }
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let received = signature_counter(&credential.response.authenticator_data);
            record_counter_regression(connection, &account, &stored, received).await?;
            return Err(regression(received));
        }
        Err(error) => {
            tracing::info!(%error, user_id = %stored.user_id, "passkey assertion was not verified");
            record_failure(
                connection,
                &account,
                stored.id,
                failure_kind,
                "assertion_not_verified",
            )
            .await?;
            return Err(sign_in_failed());
        }
    };

    passkeys::record_use(connection, &mut stored, &result).await?;
    if eligibility_changed {
        tracing::info!(passkey_id = %stored.id, "passkey backup eligibility changed");
    }
    Ok(())
}

async fn record_failure(
    connection: &mut AsyncPgConnection,
    account: &accounts::AccountRow,
    passkey_id: Uuid,
    kind: SecurityEventKind,
    reason: &str,
) -> Result<(), AppError> {
    let event = Event {
        kind,
        clinic_id: account.clinic_id,
        actor: None,
        subject: Some(account.id),
        detail: serde_json::json!({ "passkey_id": passkey_id, "reason": reason }),
    };
    events::record_alone(connection, event).await
}

async fn record_counter_regression(
    connection: &mut AsyncPgConnection,
    account: &accounts::AccountRow,
    stored: &StoredPasskey,
    received: u32,
) -> Result<(), AppError> {
    let event = Event {
        kind: SecurityEventKind::CounterRegression,
        clinic_id: account.clinic_id,
        actor: None,
        subject: Some(account.id),
        detail: serde_json::json!({
            "passkey_id": stored.id,
            "stored_counter": stored.sign_count,
            "received_counter": received,
        }),
    };
    events::record_alone(connection, event).await
}

/// Finishes sign-in and returns the user to start a session for.
pub async fn finish_sign_in(
    services: &Services,
    ceremony_id: Uuid,
    credential: &str,
) -> Result<UserId, AppError> {
    let credential = parse_assertion(credential)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let ceremony = ceremonies::take(
        &mut connection,
        ceremony_id,
        &[CeremonyKind::Authentication, CeremonyKind::Discoverable],
    )
    .await
    .map_err(internal)?
    .ok_or_else(sign_in_failed)?;

    let stored = passkeys::find_by_credential_id(&mut connection, &credential.raw_id)
        .await?
        .filter(|stored| {
            ceremony
                .user_id
                .is_none_or(|expected| expected == stored.user_id)
        })
        .ok_or_else(|| {
            tracing::info!("sign-in with an unknown passkey or another account's passkey");
            sign_in_failed()
        })?;
    let user_id = stored.user_id;
    verify_assertion(
        services,
        &mut connection,
        ceremony,
        &credential,
        stored,
        SecurityEventKind::SignInFailed,
    )
    .await?;
    Ok(user_id)
}

/// Starts a step-up ceremony over the signed-in user's passkeys.
pub async fn begin_step_up(
    services: &Services,
    user_id: UserId,
) -> Result<CeremonyStart, AppError> {
    let mut connection = crate::db::connection(&services.pool).await?;
    let keys: Vec<_> = passkeys::for_user(&mut connection, user_id)
        .await?
        .into_iter()
        .map(|stored| stored.passkey)
        .collect();
    let (challenge, state) = services
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(internal)?;
    let state = serde_json::to_value(state).map_err(internal)?;
    let ceremony_id = ceremonies::store(
        &mut connection,
        CeremonyKind::StepUp,
        Some(user_id),
        None,
        state,
        services.settings.ceremony_ttl,
    )
    .await
    .map_err(internal)?;
    let options = serde_json::to_value(challenge).map_err(internal)?;
    Ok(CeremonyStart {
        ceremony_id,
        options,
    })
}

/// Verifies a step-up assertion by the signed-in user `user_id`.
pub async fn finish_step_up(
    services: &Services,
    user_id: UserId,
    ceremony_id: Uuid,
    credential: &str,
) -> Result<(), AppError> {
    let credential = parse_assertion(credential)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let ceremony = ceremonies::take(&mut connection, ceremony_id, &[CeremonyKind::StepUp])
        .await
        .map_err(internal)?
        .filter(|ceremony| ceremony.user_id == Some(user_id))
        .ok_or_else(sign_in_failed)?;
    let stored = passkeys::find_by_credential_id(&mut connection, &credential.raw_id)
        .await?
        .filter(|stored| stored.user_id == user_id)
        .ok_or_else(sign_in_failed)?;
    let account = accounts::find_account(&mut connection, user_id)
        .await
        .map_err(internal)?
        .ok_or_else(sign_in_failed)?;
    verify_assertion(
        services,
        &mut connection,
        ceremony,
        &credential,
        stored,
        SecurityEventKind::SignInFailed,
    )
    .await?;

    let event = Event {
        kind: SecurityEventKind::StepUp,
        clinic_id: account.clinic_id,
        actor: Some(user_id),
        subject: Some(user_id),
        detail: serde_json::json!({}),
    };
    events::record_alone(&mut connection, event).await
}
