use chrono::NaiveDate;

use super::*;

const WEIGHT_FOR_AGE_CSV: &str = include_str!("../../../data/who-growth/weight_for_age.csv");
const LENGTH_FOR_AGE_CSV: &str = include_str!("../../../data/who-growth/length_height_for_age.csv");
const HEAD_FOR_AGE_CSV: &str =
    include_str!("../../../data/who-growth/head_circumference_for_age.csv");
const WEIGHT_FOR_LENGTH_CSV: &str = include_str!("../../../data/who-growth/weight_for_length.csv");
const WEIGHT_FOR_HEIGHT_CSV: &str = include_str!("../../../data/who-growth/weight_for_height.csv");

/// Finds the row "sex,key,..." in a CSV file by its text, apart from the module's parser.
fn csv_row(csv: &str, sex: &str, key: &str) -> (f64, f64, f64) {
    let prefix = format!("{sex},{key},");
    let line = csv
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no row {prefix}"));
    let fields: Vec<f64> = line[prefix.len()..]
        .split(',')
        .map(|field| field.parse().unwrap())
        .collect();
    (fields[0], fields[1], fields[2])
}

/// Computes the LMS z-score with the formula written out again, apart from the module's code.
fn expected_z((l, m, s): (f64, f64, f64), y: f64) -> f64 {
    if l == 0.0 {
        (y / m).ln() / s
    } else {
        ((y / m).powf(l) - 1.0) / (l * s)
    }
}

fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() < tolerance,
        "expected {expected}, got {actual}"
    );
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

#[test]
fn every_table_parses_both_sexes() {
    for indicator in [
        Indicator::WeightForAge,
        Indicator::LengthHeightForAge,
        Indicator::HeadCircumferenceForAge,
    ] {
        let table = indicator.table();
        assert_eq!(table.first_key(), 0.0, "{indicator}");
        assert_eq!(table.last_key(), 1856.0, "{indicator}");
        for sex in [Sex::Female, Sex::Male] {
            assert!(table.lookup(sex, 1856.0).is_some(), "{indicator}");
            assert!(table.lookup(sex, 1857.0).is_none(), "{indicator}");
        }
    }
    assert_eq!(Indicator::WeightForLength.table().first_key(), 45.0);
    assert_eq!(Indicator::WeightForLength.table().last_key(), 110.0);
    assert_eq!(Indicator::WeightForHeight.table().first_key(), 65.0);
    assert_eq!(Indicator::WeightForHeight.table().last_key(), 120.0);
}

#[test]
fn length_and_head_tables_have_l_one() {
    for csv in [LENGTH_FOR_AGE_CSV, HEAD_FOR_AGE_CSV] {
        for line in csv.lines().skip(1) {
            let l = line.split(',').nth(2).unwrap();
            assert_eq!(l, "1", "row {line}");
        }
    }
}

#[test]
fn weight_for_age_matches_csv_row() {
    let cases = [
        ("female", Sex::Female, 0, 2.5),
        ("female", Sex::Female, 200, 7.1),
        ("male", Sex::Male, 365, 9.0),
        ("male", Sex::Male, 1856, 19.2),
    ];

    for (sex_text, sex, age_days, weight) in cases {
        let row = csv_row(WEIGHT_FOR_AGE_CSV, sex_text, &age_days.to_string());

        let assessment = weight_for_age(sex, age_days, weight).unwrap();

        assert_close(assessment.z_score, expected_z(row, weight), 1e-12);
        assert_eq!(assessment.reference.m, row.1);
    }
}

#[test]
fn length_and_head_circumference_match_csv_rows() {
    let length_row = csv_row(LENGTH_FOR_AGE_CSV, "male", "800");
    let head_row = csv_row(HEAD_FOR_AGE_CSV, "female", "45");

    let length = length_height_for_age(Sex::Male, 800, 88.0).unwrap();
    let head = head_circumference_for_age(Sex::Female, 45, 37.1).unwrap();

    assert_close(length.z_score, expected_z(length_row, 88.0), 1e-12);
    assert_close(head.z_score, expected_z(head_row, 37.1), 1e-12);
}

#[test]
fn literal_reference_values() {
    // Computed with Python 3 from the CSV rows: z = ((y/M)**L - 1)/(L*S) and the percentile as
    // 50 * math.erfc(-z / math.sqrt(2)).
    let female_birth = weight_for_age(Sex::Female, 0, 2.5).unwrap();
    let male_year = weight_for_age(Sex::Male, 365, 9.0).unwrap();
    let length_newborn = length_height_for_age(Sex::Female, 0, 50.0).unwrap();
    let head = head_circumference_for_age(Sex::Male, 100, 40.5).unwrap();
    let height = weight_for_length_or_height(Sex::Male, 1000, 100.0, 15.0).unwrap();

    assert_close(female_birth.z_score, -1.726_806_649_667_757_7, 1e-9);
    assert_close(female_birth.percentile, 4.210_119_693_022_099, 1e-7);
    assert_close(male_year.z_score, -0.633_080_191_357_098_9, 1e-9);
    assert_close(male_year.percentile, 26.334_063_857_164_207, 1e-7);
    assert_close(length_newborn.z_score, 0.457_562_137_171_761_64, 1e-9);
    assert_close(head.z_score, -0.299_944_806_358_861_2, 1e-9);
    assert_eq!(height.indicator, Indicator::WeightForHeight);
    assert_close(height.z_score, -0.287_498_579_334_126_4, 1e-9);
}

#[test]
fn median_at_age_zero_is_z_zero() {
    let median = csv_row(WEIGHT_FOR_AGE_CSV, "male", "0").1;

    let assessment = weight_for_age(Sex::Male, 0, median).unwrap();

    assert_close(assessment.z_score, 0.0, 1e-12);
    assert_close(assessment.percentile, 50.0, 1e-9);
    assert_eq!(assessment.z_score_text(), "0.00");
    assert_eq!(assessment.percentile_text(), "50.0");
}

#[test]
fn restricted_tail_above_plus_three() {
    // Male, 30 days, 7.5 kg: the plain LMS z-score is 4.1306, and the restricted one is
    // 3 + (7.5 - SD3) / (SD3 - SD2) with SD3 = 6.54230 and SD2 = 5.77631 kg, giving 4.25029
    // (Python 3, from the CSV row L = 0.2303, M = 4.4525, S = 0.13413).
    let row = csv_row(WEIGHT_FOR_AGE_CSV, "male", "30");
    let (l, m, s) = row;
    let at = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);

    let assessment = weight_for_age(Sex::Male, 30, 7.5).unwrap();

    let expected = 3.0 + (7.5 - at(3.0)) / (at(3.0) - at(2.0));
    assert!(expected_z(row, 7.5) > 3.0);
    assert_close(assessment.z_score, expected, 1e-12);
    assert_close(assessment.z_score, 4.250_290_670_164_257, 1e-9);
    assert_eq!(assessment.percentile_text(), ">99.9");
}

#[test]
fn restricted_tail_below_minus_three() {
    // Female, 0 days, 1.8 kg: plain z -3.70268, restricted z -3.64298 (Python 3, from the CSV
    // row L = 0.3809, M = 3.2322, S = 0.14171).
    let row = csv_row(WEIGHT_FOR_AGE_CSV, "female", "0");
    let (l, m, s) = row;
    let at = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);

    let assessment = weight_for_age(Sex::Female, 0, 1.8).unwrap();

    let expected = -3.0 + (1.8 - at(-3.0)) / (at(-2.0) - at(-3.0));
    assert!(expected_z(row, 1.8) < -3.0);
    assert_close(assessment.z_score, expected, 1e-12);
    assert_close(assessment.z_score, -3.642_979_972_303_520_8, 1e-9);
    assert_eq!(assessment.percentile_text(), "<0.1");
}

#[test]
fn restriction_is_continuous_at_three() {
    let row = csv_row(WEIGHT_FOR_AGE_CSV, "female", "400");
    let (l, m, s) = row;
    let at = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);

    let plus_three = weight_for_age(Sex::Female, 400, at(3.0)).unwrap();
    let minus_three = weight_for_age(Sex::Female, 400, at(-3.0)).unwrap();

    assert_close(plus_three.z_score, 3.0, 1e-9);
    assert_close(minus_three.z_score, -3.0, 1e-9);
}

#[test]
fn length_for_age_is_not_restricted() {
    // L = 1, so z stays linear in the tail: 40 cm at birth for a girl is far below -3.
    let row = csv_row(LENGTH_FOR_AGE_CSV, "female", "0");

    let assessment = length_height_for_age(Sex::Female, 0, 40.0).unwrap();

    assert!(assessment.z_score < -3.0);
    assert_close(assessment.z_score, expected_z(row, 40.0), 1e-12);
}

#[test]
fn weight_for_length_restricted_tail() {
    let row = csv_row(WEIGHT_FOR_LENGTH_CSV, "male", "60");
    let (l, m, s) = row;
    let at = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);
    let heavy = at(3.0) + 1.0;

    let assessment = weight_for_length_or_height(Sex::Male, 90, 60.0, heavy).unwrap();

    assert_eq!(assessment.indicator, Indicator::WeightForLength);
    assert_close(
        assessment.z_score,
        3.0 + (heavy - at(3.0)) / (at(3.0) - at(2.0)),
        1e-12,
    );
}

#[test]
fn length_between_rows_interpolates() {
    let below = csv_row(WEIGHT_FOR_LENGTH_CSV, "female", "67.2");
    let above = csv_row(WEIGHT_FOR_LENGTH_CSV, "female", "67.3");
    let midpoint = (
        (below.0 + above.0) / 2.0,
        (below.1 + above.1) / 2.0,
        (below.2 + above.2) / 2.0,
    );

    let assessment = weight_for_length_or_height(Sex::Female, 200, 67.25, 7.5).unwrap();

    assert_close(assessment.reference.m, midpoint.1, 1e-12);
    assert_close(assessment.reference.s, midpoint.2, 1e-12);
    assert_close(assessment.z_score, expected_z(midpoint, 7.5), 1e-12);
    // Python 3 with M = 7.5833, S = 0.090985, L = -0.3833.
    assert_close(assessment.z_score, -0.121_655_825_041_242_05, 1e-9);
}

#[test]
fn length_on_a_row_uses_it_exactly() {
    let row = csv_row(WEIGHT_FOR_HEIGHT_CSV, "female", "87.3");

    let assessment = weight_for_length_or_height(Sex::Female, 900, 87.3, 12.0).unwrap();

    assert_eq!(assessment.reference.m, row.1);
    assert_eq!(assessment.reference.s, row.2);
}

#[test]
fn table_edges_are_inclusive() {
    let first = weight_for_length_or_height(Sex::Female, 0, 45.0, 2.0).unwrap();
    let last = weight_for_length_or_height(Sex::Male, 1856, 120.0, 22.0).unwrap();

    assert_close(first.z_score, -2.389_599_525_413_508, 1e-9);
    assert_eq!(
        last.reference.m,
        csv_row(WEIGHT_FOR_HEIGHT_CSV, "male", "120").1
    );
}

#[test]
fn age_selects_length_or_height_table() {
    let before = weight_for_length_or_height(Sex::Male, 730, 85.0, 11.5).unwrap();
    let from = weight_for_length_or_height(Sex::Male, 731, 85.0, 11.5).unwrap();

    assert_eq!(before.indicator, Indicator::WeightForLength);
    assert_eq!(from.indicator, Indicator::WeightForHeight);
}

#[test]
fn length_outside_table_rejected() {
    let short = weight_for_length_or_height(Sex::Female, 100, 44.9, 2.0).unwrap_err();
    let short_standing = weight_for_length_or_height(Sex::Female, 800, 64.9, 7.0).unwrap_err();

    assert_eq!(
        short,
        GrowthError::LengthBeyondTable {
            indicator: Indicator::WeightForLength,
            cm: 44.9,
            first: 45.0,
            last: 110.0
        }
    );
    assert_eq!(
        short.to_string(),
        "Length 44.9 cm is outside the weight-for-length table, which covers 45 to 110 cm."
    );
    assert!(matches!(
        short_standing,
        GrowthError::LengthBeyondTable {
            indicator: Indicator::WeightForHeight,
            ..
        }
    ));
}

#[test]
fn age_in_days_counts_completed_days() {
    assert_eq!(age_in_days(date(2026, 3, 1), date(2026, 3, 1)), Ok(0));
    assert_eq!(age_in_days(date(2026, 2, 28), date(2026, 3, 1)), Ok(1));
    // 2028 is a leap year.
    assert_eq!(age_in_days(date(2028, 2, 1), date(2028, 3, 1)), Ok(29));
    assert_eq!(age_in_days(date(2026, 1, 1), date(2027, 1, 1)), Ok(365));
}

#[test]
fn age_in_days_rejects_before_birth() {
    let birth = date(2026, 5, 10);
    let measured = date(2026, 5, 9);

    let error = age_in_days(birth, measured).unwrap_err();

    assert_eq!(error, GrowthError::MeasuredBeforeBirth { birth, measured });
    assert_eq!(
        error.to_string(),
        "Measurement date 2026-05-09 is before the birth date 2026-05-10. Check both dates."
    );
}

#[test]
fn age_beyond_table_rejected() {
    let birth = date(2020, 1, 1);
    let last_day = birth + chrono::Days::new(1856);

    assert_eq!(age_in_days(birth, last_day), Ok(1856));
    assert_eq!(
        age_in_days(birth, last_day + chrono::Days::new(1)),
        Err(GrowthError::AgeBeyondTable { age_days: 1857 })
    );
    assert_eq!(
        weight_for_age(Sex::Male, 1857, 18.0),
        Err(GrowthError::AgeBeyondTable { age_days: 1857 })
    );
    assert!(head_circumference_for_age(Sex::Male, 1857, 50.0).is_err());
    assert!(weight_for_length_or_height(Sex::Male, 1857, 110.0, 18.0).is_err());
}

#[test]
fn implausible_measurements_rejected() {
    assert_eq!(
        weight_for_age(Sex::Female, 10, 3400.0),
        Err(GrowthError::ImplausibleWeight { kg: 3400.0 })
    );
    assert_eq!(
        weight_for_age(Sex::Female, 10, 0.1),
        Err(GrowthError::ImplausibleWeight { kg: 0.1 })
    );
    assert_eq!(
        length_height_for_age(Sex::Female, 10, 500.0),
        Err(GrowthError::ImplausibleLength { cm: 500.0 })
    );
    assert_eq!(
        head_circumference_for_age(Sex::Female, 10, 14.0),
        Err(GrowthError::ImplausibleHeadCircumference { cm: 14.0 })
    );
    assert!(weight_for_age(Sex::Female, 10, f64::NAN).is_err());
    assert!(weight_for_length_or_height(Sex::Female, 10, 50.0, -1.0).is_err());
}

#[test]
fn implausible_weight_message_names_value() {
    let error = weight_for_age(Sex::Male, 5, 7.5e3).unwrap_err();

    assert_eq!(
        error.to_string(),
        "Weight 7500 kg is outside the plausible range 0.2 to 60 kg. Check the value and its unit."
    );
}

#[test]
fn z_score_text_never_negative_zero() {
    assert_eq!(format_z_score(-0.004), "0.00");
    assert_eq!(format_z_score(-0.0), "0.00");
    assert_eq!(format_z_score(0.004), "0.00");
    assert_eq!(format_z_score(-0.006), "-0.01");
    assert_eq!(format_z_score(1.234), "1.23");
    assert_eq!(format_z_score(-2.0), "-2.00");
    assert_eq!(format_z_score(-3.642_979), "-3.64");
    assert_eq!(format_z_score(0.125), "0.12");
    assert_eq!(format_z_score(2.675_1), "2.68");
}

#[test]
fn percentile_text_extremes() {
    assert_eq!(format_percentile(0.0), "<0.1");
    assert_eq!(format_percentile(0.099), "<0.1");
    assert_eq!(format_percentile(0.1), "0.1");
    assert_eq!(format_percentile(4.210_119), "4.2");
    assert_eq!(format_percentile(50.0), "50.0");
    assert_eq!(format_percentile(99.89), "99.9");
    assert_eq!(format_percentile(99.9), "99.9");
    assert_eq!(format_percentile(99.91), ">99.9");
    assert_eq!(format_percentile(100.0), ">99.9");
}

#[test]
fn underweight_below_minus_two() {
    let thresholds = GrowthFlagThresholds::default();
    let (l, m, s) = csv_row(WEIGHT_FOR_AGE_CSV, "female", "120");
    let at = |k: f64| m * (1.0 + l * s * k).powf(1.0 / l);

    let just_below = weight_for_age(Sex::Female, 120, at(-2.0) - 0.01).unwrap();
    let just_above = weight_for_age(Sex::Female, 120, at(-2.0) + 0.01).unwrap();
    let length = length_height_for_age(Sex::Female, 120, 50.0).unwrap();

    assert!(thresholds.is_underweight(&just_below));
    assert!(!thresholds.is_underweight(&just_above));
    assert!(length.z_score < -2.0);
    assert!(!thresholds.is_underweight(&length));
}

#[test]
fn underweight_exactly_minus_two_not_flagged() {
    let at_cut_off = GrowthAssessment {
        z_score: -2.0,
        ..weight_for_age(Sex::Female, 30, 3.0).unwrap()
    };
    let below = GrowthAssessment {
        z_score: -2.000_001,
        ..at_cut_off
    };

    assert!(!GrowthFlagThresholds::default().is_underweight(&at_cut_off));
    assert!(GrowthFlagThresholds::default().is_underweight(&below));
}

#[test]
fn underweight_custom_cut_off() {
    let thresholds = GrowthFlagThresholds::new(-3.0, 10, 14).unwrap();

    let assessment = weight_for_age(Sex::Male, 60, 4.1).unwrap();

    assert!(assessment.z_score < -2.0);
    assert!(assessment.z_score > -3.0);
    assert!(!thresholds.is_underweight(&assessment));
    assert!(GrowthFlagThresholds::default().is_underweight(&assessment));
}

#[test]
fn weight_loss_exactly_ten_percent_not_flagged() {
    let thresholds = GrowthFlagThresholds::default();

    let check = check_weight_loss(3.5, 3.15, 4, &thresholds).unwrap();

    assert!(!check.feeding_assessment);
    assert_close(check.loss_percent, 10.0, 1e-12);
}

#[test]
fn weight_loss_over_ten_percent_flagged() {
    let thresholds = GrowthFlagThresholds::default();

    let one_gram_more = check_weight_loss(3.5, 3.149, 4, &thresholds).unwrap();
    let much_more = check_weight_loss(3.2, 2.7, 6, &thresholds).unwrap();

    assert!(one_gram_more.feeding_assessment);
    assert!(much_more.feeding_assessment);
    assert_eq!(much_more.thresholds, thresholds);
}

#[test]
fn weight_loss_window_day_14_vs_15() {
    let thresholds = GrowthFlagThresholds::default();

    let day_0 = check_weight_loss(3.0, 2.6, 0, &thresholds).unwrap();
    let day_14 = check_weight_loss(3.0, 2.6, 14, &thresholds).unwrap();
    let day_15 = check_weight_loss(3.0, 2.6, 15, &thresholds).unwrap();

    assert!(day_0.feeding_assessment);
    assert!(day_14.feeding_assessment);
    assert!(!day_15.feeding_assessment);
}

#[test]
fn weight_gain_not_flagged() {
    let check = check_weight_loss(3.0, 3.3, 10, &GrowthFlagThresholds::default()).unwrap();

    assert!(!check.feeding_assessment);
    assert_close(check.loss_percent, -10.0, 1e-12);
}

#[test]
fn weight_loss_custom_threshold() {
    let thresholds = GrowthFlagThresholds::new(-2.0, 7, 10).unwrap();

    let at_seven = check_weight_loss(4.0, 3.72, 3, &thresholds).unwrap();
    let over_seven = check_weight_loss(4.0, 3.719, 3, &thresholds).unwrap();
    let after_window = check_weight_loss(4.0, 3.5, 11, &thresholds).unwrap();

    assert!(!at_seven.feeding_assessment);
    assert!(over_seven.feeding_assessment);
    assert!(!after_window.feeding_assessment);
}

#[test]
fn weight_loss_rejects_implausible_weights() {
    let thresholds = GrowthFlagThresholds::default();

    assert_eq!(
        check_weight_loss(3500.0, 3.2, 3, &thresholds),
        Err(GrowthError::ImplausibleWeight { kg: 3500.0 })
    );
    assert!(check_weight_loss(3.5, f64::NAN, 3, &thresholds).is_err());
}

#[test]
fn flag_thresholds_validate() {
    assert_eq!(
        GrowthFlagThresholds::new(1.0, 10, 14),
        Err(FlagThresholdError::UnderweightZScore(1.0))
    );
    assert_eq!(
        GrowthFlagThresholds::new(-2.0, 0, 14),
        Err(FlagThresholdError::WeightLossPercent(0))
    );
    assert_eq!(
        GrowthFlagThresholds::new(-2.0, 10, 0),
        Err(FlagThresholdError::WeightLossWindow(0))
    );
    assert!(GrowthFlagThresholds::new(f64::NAN, 10, 14).is_err());
}

#[test]
fn flag_thresholds_serde_round_trip_and_validation() {
    let thresholds = GrowthFlagThresholds::new(-2.5, 8, 10).unwrap();
    let invalid =
        r#"{"underweight_z_score":-2.0,"weight_loss_percent":50,"weight_loss_window_days":14}"#;

    let json = serde_json::to_string(&thresholds).unwrap();
    let parsed: GrowthFlagThresholds = serde_json::from_str(&json).unwrap();
    let error = serde_json::from_str::<GrowthFlagThresholds>(invalid).unwrap_err();

    assert_eq!(parsed, thresholds);
    assert!(error.to_string().contains("Weight-loss threshold 50%"));
}

#[test]
fn lms_for_age_matches_table_and_inverts() {
    let reference = lms_for_age(Indicator::WeightForAge, Sex::Female, 42).unwrap();
    let (l, m, s) = csv_row(WEIGHT_FOR_AGE_CSV, "female", "42");
    assert_close(reference.l, l, 1e-12);
    assert_close(reference.m, m, 1e-12);
    assert_close(reference.s, s, 1e-12);

    let weight = reference.measurement_at(1.5);
    let assessed = weight_for_age(Sex::Female, 42, weight).unwrap();
    assert_close(assessed.z_score, 1.5, 1e-9);
}

#[test]
fn lms_for_age_rejects_length_tables_and_late_ages() {
    assert!(lms_for_age(Indicator::WeightForLength, Sex::Male, 10).is_none());
    assert!(lms_for_age(Indicator::LengthHeightForAge, Sex::Male, MAX_AGE_DAYS + 1).is_none());
    assert!(lms_for_age(Indicator::HeadCircumferenceForAge, Sex::Male, MAX_AGE_DAYS).is_some());
}
