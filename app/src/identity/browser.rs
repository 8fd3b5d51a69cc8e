//! The browser's WebAuthn calls, through a small JavaScript module that wasm-bindgen ships
//! next to the bundle (so the Content-Security-Policy needs no inline script for it).
//!
//! Chromium and Safari read webauthn-rs's JSON directly with
//! `PublicKeyCredential.parseCreationOptionsFromJSON` and `parseRequestOptionsFromJSON`, and
//! `toJSON()` produces the JSON webauthn-rs reads back.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
function unsupported() {
  return typeof PublicKeyCredential === 'undefined'
    || typeof PublicKeyCredential.parseCreationOptionsFromJSON !== 'function';
}

export async function createPasskey(optionsJson) {
  if (unsupported()) throw new Error('unsupported');
  const options = JSON.parse(optionsJson);
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
  const credential = await navigator.credentials.create({ publicKey });
  return JSON.stringify(credential.toJSON());
}

export async function getPasskey(optionsJson) {
  if (unsupported()) throw new Error('unsupported');
  const options = JSON.parse(optionsJson);
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey);
  const credential = await navigator.credentials.get({ publicKey });
  return JSON.stringify(credential.toJSON());
}

export function errorName(error) {
  return (error && error.name === 'Error' && error.message === 'unsupported')
    ? 'Unsupported'
    : (error && error.name) || 'Error';
}

export function locationFragment() {
  return window.location.hash.slice(1);
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = createPasskey)]
    async fn create_passkey_js(options: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_name = getPasskey)]
    async fn get_passkey_js(options: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = errorName)]
    fn error_name(error: &JsValue) -> String;

    #[wasm_bindgen(js_name = locationFragment)]
    fn location_fragment_js() -> String;
}

/// Why the browser did not produce a credential, as a message for the user.
fn describe(error: &JsValue) -> String {
    match error_name(error).as_str() {
        "NotAllowedError" => {
            "The passkey request was cancelled or timed out. Try again when you are ready."
                .to_owned()
        }
        "InvalidStateError" => "This device already has a passkey for this account.".to_owned(),
        "Unsupported" => {
            "This browser does not support passkeys. Use a recent Chrome, Edge, Safari or Firefox."
                .to_owned()
        }
        _ => "Your device could not complete the passkey request. Try again.".to_owned(),
    }
}

/// Asks the authenticator to create a passkey; returns the credential as JSON.
pub async fn create_passkey(options: &str) -> Result<String, String> {
    let value = create_passkey_js(options)
        .await
        .map_err(|error| describe(&error))?;
    value.as_string().ok_or_else(|| describe(&JsValue::NULL))
}

/// Asks the authenticator for an assertion; returns the credential as JSON.
pub async fn get_passkey(options: &str) -> Result<String, String> {
    let value = get_passkey_js(options)
        .await
        .map_err(|error| describe(&error))?;
    value.as_string().ok_or_else(|| describe(&JsValue::NULL))
}

/// Returns the part of the address after `#`, where enrollment links carry their token so that it is
/// never sent to the server in a URL or a `Referer`.
pub fn location_fragment() -> String {
    location_fragment_js()
}
