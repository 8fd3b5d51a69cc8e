//! Sampling helpers over the seeded generator.

use rand::RngExt;
use rand::rngs::StdRng;

/// Draws from a normal distribution by the Box-Muller transform.
pub fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    mean + sd * z
}

/// Draws a normal value clamped to `[low, high]`.
pub fn clamped_normal(rng: &mut StdRng, mean: f64, sd: f64, low: f64, high: f64) -> f64 {
    normal(rng, mean, sd).clamp(low, high)
}

/// Picks one of `choices` with probability proportional to its weight.
pub fn weighted<T: Copy>(rng: &mut StdRng, choices: &[(T, f64)]) -> T {
    let total: f64 = choices.iter().map(|(_, weight)| weight).sum();
    let mut point = rng.random::<f64>() * total;
    for (choice, weight) in choices {
        if point < *weight {
            return *choice;
        }
        point -= weight;
    }
    choices[choices.len() - 1].0
}

/// Picks one element of a non-empty slice uniformly.
pub fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Rounds to one decimal, as values are typed.
pub fn tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
