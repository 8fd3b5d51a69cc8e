//! Envelope encryption: round trips, tampering, wrong keys and contexts, short input, nonce
//! uniqueness and key-encryption key rotation.

use std::collections::HashSet;

use app::crypto::{
    CryptoError, DataClass, DataKey, FieldContext, KeyProvider, LocalKeyProvider,
    MIN_CIPHERTEXT_LEN, WrappedDataKey,
};
use app::ids::PatientId;
use server::secrets::SecretKey;
use uuid::Uuid;

fn context(data_class: DataClass) -> FieldContext {
    FieldContext {
        table: "postnatal_observations",
        column: "note",
        row_id: Uuid::new_v4(),
        patient_id: PatientId::new_random(),
        data_class,
        data_key_version: 1,
    }
}

const NOTE: &[u8] = b"synthetic note: blood pressure 118/76, feeding well";

#[test]
fn round_trip_each_data_class() {
    let key = DataKey::generate();
    for data_class in DataClass::ALL {
        let context = context(data_class);
        let ciphertext = key.encrypt(&context, NOTE).unwrap();

        let plaintext = key.decrypt(&context, &ciphertext).unwrap();

        assert_eq!(plaintext.expose(), NOTE, "{}", data_class.label());
        assert_eq!(ciphertext.len(), MIN_CIPHERTEXT_LEN + NOTE.len());
        assert_eq!(ciphertext[0], app::crypto::FORMAT_VERSION);
    }
}

#[test]
fn empty_plaintext_round_trips() {
    let key = DataKey::generate();
    let context = context(DataClass::Contact);

    let ciphertext = key.encrypt(&context, b"").unwrap();

    assert_eq!(ciphertext.len(), MIN_CIPHERTEXT_LEN);
    assert!(key.decrypt(&context, &ciphertext).unwrap().is_empty());
}

#[test]
fn tampered_ciphertext_rejected() {
    let key = DataKey::generate();
    let context = context(DataClass::Maternal);
    let ciphertext = key.encrypt(&context, NOTE).unwrap();

    // Every byte after the version byte: nonce, body and tag.
    for index in 1..ciphertext.len() {
        let mut tampered = ciphertext.clone();
        tampered[index] ^= 0x01;
        assert_eq!(
            key.decrypt(&context, &tampered),
            Err(CryptoError::Authentication),
            "byte {index}"
        );
    }
}

#[test]
fn appended_byte_rejected() {
    let key = DataKey::generate();
    let context = context(DataClass::Maternal);
    let mut ciphertext = key.encrypt(&context, NOTE).unwrap();
    ciphertext.push(0);

    assert_eq!(
        key.decrypt(&context, &ciphertext),
        Err(CryptoError::Authentication)
    );
}

#[test]
fn wrong_data_key_rejected() {
    let context = context(DataClass::MentalHealth);
    let ciphertext = DataKey::generate().encrypt(&context, NOTE).unwrap();

    let result = DataKey::generate().decrypt(&context, &ciphertext);

    assert_eq!(result, Err(CryptoError::Authentication));
}

#[test]
fn ciphertext_swapped_between_rows_rejected() {
    let key = DataKey::generate();
    let first_row = context(DataClass::Maternal);
    let second_row = FieldContext {
        row_id: Uuid::new_v4(),
        ..first_row.clone()
    };
    let ciphertext = key.encrypt(&first_row, NOTE).unwrap();

    assert_eq!(
        key.decrypt(&second_row, &ciphertext),
        Err(CryptoError::Authentication)
    );
}

#[test]
fn ciphertext_swapped_between_patients_rejected() {
    // Even under the same data key, the patient id in the AAD must match.
    let key = DataKey::generate();
    let first_patient = context(DataClass::Infant);
    let second_patient = FieldContext {
        patient_id: PatientId::new_random(),
        ..first_patient.clone()
    };
    let ciphertext = key.encrypt(&first_patient, NOTE).unwrap();

    assert_eq!(
        key.decrypt(&second_patient, &ciphertext),
        Err(CryptoError::Authentication)
    );
}

#[test]
fn changed_context_fields_rejected() {
    let key = DataKey::generate();
    let original = context(DataClass::FamilyHistory);
    let ciphertext = key.encrypt(&original, NOTE).unwrap();
    let changed = [
        FieldContext {
            table: "infant_observations",
            ..original.clone()
        },
        FieldContext {
            column: "summary",
            ..original.clone()
        },
        FieldContext {
            data_class: DataClass::Maternal,
            ..original.clone()
        },
        FieldContext {
            data_key_version: 2,
            ..original.clone()
        },
    ];

    for other in changed {
        assert_eq!(
            key.decrypt(&other, &ciphertext),
            Err(CryptoError::Authentication),
            "{other:?}"
        );
    }
}

#[test]
fn truncated_input_rejected() {
    let key = DataKey::generate();
    let context = context(DataClass::Contact);
    let ciphertext = key.encrypt(&context, b"").unwrap();

    for len in [0, 1, 12, 27, MIN_CIPHERTEXT_LEN - 1] {
        let result = key.decrypt(&context, &ciphertext[..len]);
        assert!(
            matches!(result, Err(CryptoError::Malformed { .. })),
            "{len} bytes gave {result:?}"
        );
    }
}

#[test]
fn unknown_format_version_rejected() {
    let key = DataKey::generate();
    let context = context(DataClass::Contact);
    let mut ciphertext = key.encrypt(&context, NOTE).unwrap();
    ciphertext[0] = 2;

    assert_eq!(
        key.decrypt(&context, &ciphertext),
        Err(CryptoError::UnsupportedFormat { version: 2 })
    );
}

#[test]
fn nonces_never_repeat() {
    let key = DataKey::generate();
    let context = context(DataClass::Maternal);
    let mut nonces = HashSet::with_capacity(1_000_000);

    for _ in 0..1_000_000 {
        let ciphertext = key.encrypt(&context, b"").unwrap();
        let nonce: [u8; 12] = ciphertext[1..13].try_into().unwrap();
        assert!(
            nonces.insert(nonce),
            "nonce repeated after {} values",
            nonces.len()
        );
    }
}

#[test]
fn debug_output_redacts_secrets() {
    let key = DataKey::generate();
    let context = context(DataClass::Contact);
    let plaintext = key
        .decrypt(&context, &key.encrypt(&context, NOTE).unwrap())
        .unwrap();
    let provider = LocalKeyProvider::new(1, SecretKey::generate().expose());

    assert_eq!(format!("{key:?}"), "DataKey(redacted)");
    assert_eq!(
        format!("{plaintext:?}"),
        format!("Plaintext({} bytes, redacted)", NOTE.len())
    );
    assert_eq!(
        format!("{provider:?}"),
        "LocalKeyProvider { current_version: 1, versions: [1], .. }"
    );
}

fn provider(version: u32) -> (LocalKeyProvider, SecretKey) {
    let kek = SecretKey::generate();
    (LocalKeyProvider::new(version, kek.expose()), kek)
}

#[tokio::test]
async fn wrapped_key_round_trips() {
    let (provider, _) = provider(1);
    let patient_id = PatientId::new_random();

    let (data_key, wrapped) = provider.new_data_key(patient_id).await.unwrap();
    let unwrapped = provider.unwrap(patient_id, &wrapped).await.unwrap();

    assert_eq!(wrapped.kek_version, 1);
    assert_eq!(wrapped.bytes.len(), MIN_CIPHERTEXT_LEN + 32);
    assert_eq!(unwrapped.expose(), data_key.expose());
}

#[tokio::test]
async fn wrapped_key_moved_to_other_patient_rejected() {
    let (provider, _) = provider(1);
    let (_, wrapped) = provider
        .new_data_key(PatientId::new_random())
        .await
        .unwrap();

    let result = provider.unwrap(PatientId::new_random(), &wrapped).await;

    assert_eq!(result.unwrap_err(), CryptoError::Authentication);
}

#[tokio::test]
async fn wrong_kek_version_rejected() {
    let (old_provider, old_kek) = provider(1);
    let (new_provider, _) = provider(2);
    let new_provider = new_provider.with_previous(1, old_kek.expose()).unwrap();
    let patient_id = PatientId::new_random();
    let (_, wrapped) = old_provider.new_data_key(patient_id).await.unwrap();

    // The same bytes relabelled with another version that the provider holds.
    let relabelled = WrappedDataKey {
        kek_version: 2,
        ..wrapped.clone()
    };
    let unknown = WrappedDataKey {
        kek_version: 7,
        ..wrapped
    };

    assert_eq!(
        new_provider
            .unwrap(patient_id, &relabelled)
            .await
            .unwrap_err(),
        CryptoError::Authentication
    );
    assert_eq!(
        new_provider.unwrap(patient_id, &unknown).await.unwrap_err(),
        CryptoError::UnknownKekVersion { version: 7 }
    );
}

#[tokio::test]
async fn wrapped_key_unwraps_after_rotation() {
    let (old_provider, old_kek) = provider(1);
    let patient_id = PatientId::new_random();
    let (data_key, wrapped) = old_provider.new_data_key(patient_id).await.unwrap();
    let (rotated, _) = provider(2);
    let rotated = rotated.with_previous(1, old_kek.expose()).unwrap();

    let unwrapped = rotated.unwrap(patient_id, &wrapped).await.unwrap();
    let rewrapped = rotated.rewrap(patient_id, &wrapped).await.unwrap();

    assert_eq!(unwrapped.expose(), data_key.expose());
    assert_eq!(rotated.current_kek_version(), 2);
    assert_eq!(rewrapped.kek_version, 2);
    assert_eq!(
        rotated
            .unwrap(patient_id, &rewrapped)
            .await
            .unwrap()
            .expose(),
        data_key.expose()
    );
    assert_eq!(
        old_provider
            .unwrap(patient_id, &rewrapped)
            .await
            .unwrap_err(),
        CryptoError::UnknownKekVersion { version: 2 }
    );
}

#[test]
fn duplicate_kek_version_rejected() {
    let (provider, _) = provider(3);

    let result = provider.with_previous(3, SecretKey::generate().expose());

    assert_eq!(
        result.unwrap_err(),
        CryptoError::DuplicateKekVersion { version: 3 }
    );
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
        .collect()
}

/// Values produced outside Rust, with Python's `cryptography` package (AESGCM) and the AAD
/// encoding documented in `app::crypto`, so a change to the format or the AAD fails here before
/// it makes stored data unreadable.
#[tokio::test]
async fn stored_values_still_decrypt() {
    let patient_id = PatientId(Uuid::from_u128(6));
    let provider = LocalKeyProvider::new(4, &[9; 32]);
    let wrapped = WrappedDataKey {
        kek_version: 4,
        bytes: from_hex(
            "01000102030405060708090a0bed569cc53b482de298512b98d7c4c233d47288a59a173ba3780937f141\
             cef8dc4e809f2ebc706a04ad98b027805cbfdb",
        ),
    };
    let context = FieldContext {
        table: "postnatal_observations",
        column: "note",
        row_id: Uuid::from_u128(5),
        patient_id,
        data_class: DataClass::MentalHealth,
        data_key_version: 3,
    };
    let ciphertext = from_hex(
        "010c0d0e0f1011121314151617d2a2be1b38553efa938df4739be8d37f513bd8378f802a0c3a0ff4077c\
         0e6e128d5f803b1ec6",
    );

    let data_key = provider.unwrap(patient_id, &wrapped).await.unwrap();
    let plaintext = data_key.decrypt(&context, &ciphertext).unwrap();

    assert_eq!(data_key.expose(), &[7; 32]);
    assert_eq!(plaintext.expose(), b"synthetic stored value");
}
