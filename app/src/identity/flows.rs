//! Browser-side sequences that combine server functions with the WebAuthn calls.

use crate::error::{AppError, ErrorCode};
use crate::identity::{
    Account, begin_add_passkey, begin_enrollment, begin_sign_in, begin_step_up, finish_add_passkey,
    finish_enrollment, finish_sign_in, finish_step_up,
};

fn message(error: AppError) -> String {
    error.message
}

#[cfg(feature = "hydrate")]
async fn create(options: &str) -> Result<String, String> {
    crate::identity::browser::create_passkey(options).await
}

#[cfg(feature = "hydrate")]
async fn get(options: &str) -> Result<String, String> {
    crate::identity::browser::get_passkey(options).await
}

#[cfg(not(feature = "hydrate"))]
async fn create(_options: &str) -> Result<String, String> {
    Err("Passkeys need JavaScript in the browser.".to_owned())
}

#[cfg(not(feature = "hydrate"))]
async fn get(_options: &str) -> Result<String, String> {
    Err("Passkeys need JavaScript in the browser.".to_owned())
}

/// Signs in with a passkey; `email` narrows the request to one account.
pub async fn sign_in(email: Option<String>) -> Result<Account, String> {
    let start = begin_sign_in(email).await.map_err(message)?;
    let credential = get(&start.options).await?;
    finish_sign_in(start.ceremony_id, credential)
        .await
        .map_err(message)
}

/// Creates the first passkey of an invited account and signs in.
pub async fn enroll(token: String, passkey_name: String) -> Result<Account, String> {
    let start = begin_enrollment(token).await.map_err(message)?;
    let credential = create(&start.options).await?;
    finish_enrollment(start.ceremony_id, credential, passkey_name)
        .await
        .map_err(message)
}

/// Adds another passkey to the signed-in account, confirming with an existing one first when the
/// last confirmation is not recent.
pub async fn add_passkey(passkey_name: String) -> Result<(), String> {
    let start = with_step_up(begin_add_passkey).await?;
    let credential = create(&start.options).await?;
    finish_add_passkey(start.ceremony_id, credential, passkey_name)
        .await
        .map_err(message)
}

/// Confirms the signed-in user with a fresh passkey assertion.
pub async fn step_up() -> Result<(), String> {
    let start = begin_step_up().await.map_err(message)?;
    let credential = get(&start.options).await?;
    finish_step_up(start.ceremony_id, credential)
        .await
        .map_err(message)
}

/// Runs a sensitive action; if the server requires a step-up first, performs it and runs the
/// action once more.
pub async fn with_step_up<T, F, Fut>(action: F) -> Result<T, String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    match action().await {
        Err(error) if error.code == ErrorCode::StepUpRequired => {
            step_up().await?;
            action().await.map_err(message)
        }
        other => other.map_err(message),
    }
}

/// Asks the authenticator for an assertion over `options`, for ceremonies that other modules
/// start, such as signing a consent; returns the credential as JSON.
pub async fn passkey_assertion(options: &str) -> Result<String, String> {
    get(options).await
}
