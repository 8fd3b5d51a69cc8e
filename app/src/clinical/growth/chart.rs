//! The data of a growth chart: WHO percentile curves for the infant's sex and age range, and her
//! measurements with their z-scores.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use chrono::NaiveDate;

use super::{Indicator, MAX_AGE_DAYS, Sex, age_in_days, lms_for_age};
use crate::growth_chart::{ChartCurve, ChartPoint, GrowthChartData};

/// Percentiles drawn, with their z-scores (standard normal quantiles).
const PERCENTILES: [(u8, f64); 5] = [
    (3, -1.880_793_6),
    (15, -1.036_433_4),
    (50, 0.0),
    (85, 1.036_433_4),
    (97, 1.880_793_6),
];

/// Shortest age range drawn, in days, so that a newborn's chart still shows the first weeks.
const MIN_RANGE_DAYS: u32 = 56;

/// Builds the chart of an age-based indicator (weight, length or head circumference for age)
/// for measurements taken on the given dates. Measurements before birth or beyond the tables
/// are left out; the caller validated them when they were stored.
pub fn growth_chart(
    indicator: Indicator,
    sex: Sex,
    birth_date: NaiveDate,
    measurements: &[(NaiveDate, f64)],
) -> GrowthChartData {
    let mut points: Vec<ChartPoint> = measurements
        .iter()
        .filter_map(|(date, value)| {
            let age_days = age_in_days(birth_date, *date).ok()?;
            let assessed = match indicator {
                Indicator::WeightForAge => super::weight_for_age(sex, age_days, *value),
                Indicator::LengthHeightForAge => {
                    super::length_height_for_age(sex, age_days, *value)
                }
                Indicator::HeadCircumferenceForAge => {
                    super::head_circumference_for_age(sex, age_days, *value)
                }
                Indicator::WeightForLength | Indicator::WeightForHeight => return None,
            }
            .ok()?;
            Some(ChartPoint {
                age_days: f64::from(age_days),
                value: *value,
                date: date.format("%-d %b %Y").to_string(),
                z_score: assessed.z_score_text(),
                percentile: assessed.percentile_text(),
            })
        })
        .collect();
    points.sort_by(|a, b| a.age_days.total_cmp(&b.age_days));

    let oldest = points.last().map_or(0, |point| point.age_days as u32);
    // Show two more weeks than the oldest measurement, rounded up to whole weeks.
    let last_day = (oldest + 14).max(MIN_RANGE_DAYS).div_ceil(7) * 7;
    let last_day = last_day.min(MAX_AGE_DAYS);
    let curves = curves(indicator, sex, last_day);

    GrowthChartData {
        title: format!("{}, {}", indicator_name(indicator), sex_name(sex)),
        unit: match indicator {
            Indicator::WeightForAge | Indicator::WeightForLength | Indicator::WeightForHeight => {
                "kg"
            }
            _ => "cm",
        }
        .to_owned(),
        curves,
        points,
    }
}

/// The curves already drawn, by indicator, sex and last day. Every chart of the same range
/// draws the same curves, and each point costs a table lookup and a power. There are at most
/// three indicators, two sexes and 259 last days.
static DRAWN_CURVES: LazyLock<Mutex<HashMap<CurveRange, Vec<ChartCurve>>>> =
    LazyLock::new(Mutex::default);

/// An indicator, a sex and the last day drawn.
type CurveRange = (Indicator, Sex, u32);

/// Returns the percentile curves of `indicator` for `sex` from birth to `last_day`, with about
/// 60 points each.
fn curves(indicator: Indicator, sex: Sex, last_day: u32) -> Vec<ChartCurve> {
    let key = (indicator, sex, last_day);
    let drawn = || DRAWN_CURVES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(curves) = drawn().get(&key) {
        return curves.clone();
    }
    let step = (last_day / 60).max(1);
    let curves: Vec<ChartCurve> = PERCENTILES
        .iter()
        .map(|(percentile, z)| ChartCurve {
            percentile: *percentile,
            points: (0..=last_day)
                .step_by(step as usize)
                .chain(std::iter::once(last_day))
                .filter_map(|day| {
                    lms_for_age(indicator, sex, day)
                        .map(|lms| (f64::from(day), to_table_precision(lms.measurement_at(*z))))
                })
                .collect(),
        })
        .collect();
    drawn().insert(key, curves.clone());
    curves
}

/// Rounds a curve value to four decimals, the precision of the WHO tables' medians, which
/// keeps the chart's data short on the page and in what the browser receives to hydrate it.
fn to_table_precision(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn indicator_name(indicator: Indicator) -> &'static str {
    match indicator {
        Indicator::WeightForAge => "Weight-for-age",
        Indicator::LengthHeightForAge => "Length/height-for-age",
        Indicator::HeadCircumferenceForAge => "Head circumference-for-age",
        Indicator::WeightForLength => "Weight-for-length",
        Indicator::WeightForHeight => "Weight-for-height",
    }
}

fn sex_name(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "girls",
        Sex::Male => "boys",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    #[test]
    fn median_curve_matches_the_who_table() {
        let chart = growth_chart(Indicator::WeightForAge, Sex::Female, date(1), &[]);
        let median = chart
            .curves
            .iter()
            .find(|curve| curve.percentile == 50)
            .unwrap();
        let (day, value) = median.points[0];
        assert_eq!(day, 0.0);
        let lms = lms_for_age(Indicator::WeightForAge, Sex::Female, 0).unwrap();
        assert_eq!(value, lms.m);
    }

    #[test]
    fn curves_kept_per_indicator_sex_and_range() {
        let median_at = |curves: &[ChartCurve], index: usize| {
            curves
                .iter()
                .find(|curve| curve.percentile == 50)
                .unwrap()
                .points[index]
        };
        for indicator in [Indicator::WeightForAge, Indicator::HeadCircumferenceForAge] {
            for sex in [Sex::Female, Sex::Male] {
                for last_day in [56, 371] {
                    let first = curves(indicator, sex, last_day);
                    assert_eq!(
                        curves(indicator, sex, last_day),
                        first,
                        "drawn again, the same"
                    );
                    let (day, value) = *first[2].points.last().unwrap();
                    assert_eq!(day, f64::from(last_day));
                    assert_eq!(
                        median_at(&first, 0).1,
                        lms_for_age(indicator, sex, 0).unwrap().m
                    );
                    assert!(value > 0.0);
                }
            }
        }
    }

    #[test]
    fn curves_are_ordered_by_percentile_at_every_age() {
        let chart = growth_chart(Indicator::LengthHeightForAge, Sex::Male, date(1), &[]);
        for index in 0..chart.curves[0].points.len() {
            let values: Vec<f64> = chart
                .curves
                .iter()
                .map(|curve| curve.points[index].1)
                .collect();
            assert!(
                values.windows(2).all(|pair| pair[0] < pair[1]),
                "{values:?}"
            );
        }
    }

    #[test]
    fn points_skip_dates_before_birth() {
        let chart = growth_chart(
            Indicator::WeightForAge,
            Sex::Female,
            date(10),
            &[(date(24), 3.9), (date(3), 3.0), (date(17), 3.5)],
        );
        assert_eq!(chart.points.len(), 2);
        assert_eq!(chart.points[0].age_days, 7.0);
        assert_eq!(chart.points[1].age_days, 14.0);
        let expected = crate::clinical::growth::weight_for_age(Sex::Female, 14, 3.9).unwrap();
        assert_eq!(chart.points[1].z_score, expected.z_score_text());
        assert_eq!(chart.unit, "kg");
        assert_eq!(chart.title, "Weight-for-age, girls");
    }

    #[test]
    fn range_covers_the_oldest_measurement_plus_two_weeks() {
        let chart = growth_chart(
            Indicator::WeightForAge,
            Sex::Male,
            date(1),
            &[(date(1) + chrono::Days::new(120), 6.5)],
        );
        let last_day = chart.curves[0].points.last().unwrap().0;
        assert_eq!(last_day, 140.0);
    }
}
