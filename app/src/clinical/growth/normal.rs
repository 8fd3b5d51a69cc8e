//! Standard normal cumulative distribution function Φ, used to turn a z-score into a percentile.
//!
//! Near the centre Φ comes from the series Φ(z) = 1/2 + φ(z)·(z + z³/3 + z⁵/(3·5) + …), and in
//! the tails from Laplace's continued fraction for the upper-tail probability. Compared with
//! Python's `math.erfc`, the absolute error is below 1e-15 at every value the tests check.

/// 1 / sqrt(2π).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Below this |z| the Taylor series converges quickly and loses no precision.
const SERIES_LIMIT: f64 = 3.0;

/// Depth of the continued fraction. From |z| = 3 on, more terms no longer change the result.
const CONTINUED_FRACTION_TERMS: u32 = 100;

/// Returns Φ(z), the probability that a standard normal variable is at most `z`.
///
/// NaN gives NaN.
pub fn standard_normal_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z.abs() < SERIES_LIMIT {
        return 0.5 + density(z) * taylor_sum(z);
    }

    let tail = upper_tail(z.abs());
    if z < 0.0 { tail } else { 1.0 - tail }
}

/// Standard normal density φ(z).
fn density(z: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * z * z).exp()
}

/// Sum of z + z³/3 + z⁵/(3·5) + …, so that Φ(z) = 1/2 + φ(z) times the sum.
fn taylor_sum(z: f64) -> f64 {
    let mut sum = z;
    let mut term = z;
    let mut divisor = 1.0;
    loop {
        divisor += 2.0;
        term *= z * z / divisor;
        let next = sum + term;
        if next == sum {
            return sum;
        }
        sum = next;
    }
}

/// Upper-tail probability 1 − Φ(x) for x ≥ 3, as φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))),
/// evaluated from the innermost term outwards.
fn upper_tail(x: f64) -> f64 {
    let mut fraction = x;
    for k in (1..=CONTINUED_FRACTION_TERMS).rev() {
        fraction = x + f64::from(k) / fraction;
    }
    density(x) / fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values are 0.5 * math.erfc(-z / math.sqrt(2)) computed with Python 3.
    const REFERENCE: &[(f64, f64)] = &[
        (0.0, 0.5),
        (0.5, 0.691_462_461_274_013_1),
        (1.0, 0.841_344_746_068_542_9),
        (-1.0, 0.158_655_253_931_457_07),
        (1.96, 0.975_002_104_851_779_5),
        (-1.96, 0.024_997_895_148_220_435),
        (2.0, 0.977_249_868_051_820_8),
        (2.5, 0.993_790_334_674_223_8),
        (3.0, 0.998_650_101_968_369_9),
        (-3.0, 0.001_349_898_031_630_095_7),
        (-5.0, 2.866_515_718_791_946e-7),
        (6.0, 0.999_999_999_013_412_3),
        (-8.0, 6.220_960_574_271_819e-16),
    ];

    #[test]
    fn cdf_matches_reference_values() {
        for &(z, expected) in REFERENCE {
            let actual = standard_normal_cdf(z);
            assert!(
                (actual - expected).abs() < 1e-15,
                "Φ({z}) = {actual}, expected {expected}"
            );
        }
    }

    #[test]
    fn cdf_at_1_96_to_seven_places() {
        let rounded = (standard_normal_cdf(1.96) * 1e7).round() / 1e7;

        assert_eq!(rounded, 0.975_002_1);
    }

    #[test]
    fn cdf_is_symmetric() {
        for step in 0..=80 {
            let z = f64::from(step) * 0.1;
            let sum = standard_normal_cdf(z) + standard_normal_cdf(-z);
            assert!((sum - 1.0).abs() < 1e-15, "z = {z}, sum {sum}");
        }
    }

    #[test]
    fn cdf_is_continuous_at_series_limit() {
        let below = standard_normal_cdf(SERIES_LIMIT - 1e-12);
        let at = standard_normal_cdf(SERIES_LIMIT);

        assert!((at - below).abs() < 1e-14);
    }

    #[test]
    fn cdf_extremes_and_nan() {
        assert_eq!(standard_normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(standard_normal_cdf(f64::NEG_INFINITY), 0.0);
        assert!(standard_normal_cdf(f64::NAN).is_nan());
    }
}
