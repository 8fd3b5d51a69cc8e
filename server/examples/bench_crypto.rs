//! Throughput of envelope encryption, run by `scripts/bench-crypto` in release mode.
//!
//! Prints encryption and decryption throughput for 1 KiB values on one thread, as the median of
//! [`CRYPTO_ROUNDS`] rounds because the machine is shared. The audit trail has its own
//! benchmark, `bench_audit.rs`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::crypto::{DataClass, DataKey, FieldContext};
use app::ids::PatientId;

const VALUE_LEN: usize = 1024;
const CRYPTO_VALUES: usize = 200_000;
const CRYPTO_ROUNDS: usize = 5;

fn main() {
    bench_crypto();
}

fn rate(count: usize, elapsed: Duration, unit: &str) -> String {
    format!(
        "{count} {unit} in {:.2} s = {:.0} {unit}/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    )
}

fn megabytes_per_second(elapsed: Duration) -> f64 {
    (CRYPTO_VALUES * VALUE_LEN) as f64 / elapsed.as_secs_f64() / 1e6
}

fn bench_crypto() {
    let key = DataKey::generate();
    let context = FieldContext {
        table: "postnatal_observations",
        column: "note",
        row_id: uuid::Uuid::new_v4(),
        patient_id: PatientId::new_random(),
        data_class: DataClass::Maternal,
        data_key_version: 1,
    };
    let value = vec![0x5a_u8; VALUE_LEN];
    let ciphertext = key.encrypt(&context, &value).unwrap();

    let mut encrypt = Vec::new();
    let mut decrypt = Vec::new();
    for _ in 0..CRYPTO_ROUNDS {
        let start = Instant::now();
        for _ in 0..CRYPTO_VALUES {
            black_box(key.encrypt(&context, black_box(&value)).unwrap());
        }
        encrypt.push(start.elapsed());

        let start = Instant::now();
        for _ in 0..CRYPTO_VALUES {
            black_box(key.decrypt(&context, black_box(&ciphertext)).unwrap());
        }
        decrypt.push(start.elapsed());
    }

    for (name, mut times) in [("encrypt", encrypt), ("decrypt", decrypt)] {
        times.sort_unstable();
        let median = times[CRYPTO_ROUNDS / 2];
        let all: Vec<String> = times
            .iter()
            .map(|time| format!("{:.0}", megabytes_per_second(*time)))
            .collect();
        println!(
            "{name} {VALUE_LEN}-byte values, median of {CRYPTO_ROUNDS}: {} = {:.0} MB/s \
             (all rounds: {} MB/s)",
            rate(CRYPTO_VALUES, median, "values"),
            megabytes_per_second(median),
            all.join(", ")
        );
    }
}
