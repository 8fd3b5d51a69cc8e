use super::*;

fn mmhg(systolic: f64, diastolic: f64) -> BloodPressureReading {
    BloodPressureReading {
        systolic,
        diastolic,
        unit: PressureUnit::MillimetresOfMercury,
    }
}

fn category_of(systolic: f64, diastolic: f64) -> BloodPressureCategory {
    assess_blood_pressure(
        mmhg(systolic, diastolic),
        &BloodPressureThresholds::default(),
    )
    .unwrap()
    .category
}

fn celsius(value: f64) -> TemperatureAssessment {
    assess_temperature(
        Entered::new(value, TemperatureUnit::Celsius),
        &TemperatureThresholds::default(),
    )
    .unwrap()
}

#[test]
fn systolic_raised_boundary_139_140() {
    assert_eq!(category_of(139.0, 70.0), BloodPressureCategory::Normal);
    assert_eq!(category_of(140.0, 70.0), BloodPressureCategory::Raised);
}

#[test]
fn diastolic_raised_boundary_89_90() {
    assert_eq!(category_of(120.0, 89.0), BloodPressureCategory::Normal);
    assert_eq!(category_of(120.0, 90.0), BloodPressureCategory::Raised);
}

#[test]
fn systolic_severe_boundary_159_160() {
    assert_eq!(category_of(159.0, 70.0), BloodPressureCategory::Raised);
    assert_eq!(category_of(160.0, 70.0), BloodPressureCategory::SevereRange);
}

#[test]
fn diastolic_severe_boundary_109_110() {
    assert_eq!(category_of(130.0, 109.0), BloodPressureCategory::Raised);
    assert_eq!(
        category_of(130.0, 110.0),
        BloodPressureCategory::SevereRange
    );
}

#[test]
fn blood_pressure_highest_class_wins() {
    assert_eq!(category_of(165.0, 85.0), BloodPressureCategory::SevereRange);
    assert_eq!(
        category_of(125.0, 112.0),
        BloodPressureCategory::SevereRange
    );
    assert_eq!(category_of(145.0, 95.0), BloodPressureCategory::Raised);
}

#[test]
fn blood_pressure_urgency_follows_category() {
    let thresholds = BloodPressureThresholds::default();

    let normal = assess_blood_pressure(mmhg(118.0, 76.0), &thresholds).unwrap();
    let raised = assess_blood_pressure(mmhg(142.0, 76.0), &thresholds).unwrap();
    let severe = assess_blood_pressure(mmhg(162.0, 76.0), &thresholds).unwrap();

    assert_eq!(normal.urgency, Urgency::Routine);
    assert_eq!(raised.urgency, Urgency::FollowUp);
    assert_eq!(severe.urgency, Urgency::Urgent);
}

#[test]
fn blood_pressure_result_carries_thresholds_and_reading() {
    let thresholds = BloodPressureThresholds::new(135, 85, 155, 105).unwrap();
    let reading = mmhg(136.0, 80.0);

    let assessment = assess_blood_pressure(reading, &thresholds).unwrap();

    assert_eq!(assessment.category, BloodPressureCategory::Raised);
    assert_eq!(assessment.thresholds, thresholds);
    assert_eq!(assessment.reading, reading);
}

#[test]
fn custom_blood_pressure_thresholds_move_boundaries() {
    let thresholds = BloodPressureThresholds::new(135, 85, 155, 105).unwrap();
    let classify = |systolic, diastolic| {
        assess_blood_pressure(mmhg(systolic, diastolic), &thresholds)
            .unwrap()
            .category
    };

    assert_eq!(classify(134.0, 84.0), BloodPressureCategory::Normal);
    assert_eq!(classify(135.0, 84.0), BloodPressureCategory::Raised);
    assert_eq!(classify(134.0, 85.0), BloodPressureCategory::Raised);
    assert_eq!(classify(155.0, 70.0), BloodPressureCategory::SevereRange);
    assert_eq!(classify(130.0, 105.0), BloodPressureCategory::SevereRange);
}

#[test]
fn kilopascals_convert_before_classifying() {
    let thresholds = BloodPressureThresholds::default();
    let reading = BloodPressureReading {
        systolic: 21.33,
        diastolic: 12.0,
        unit: PressureUnit::Kilopascals,
    };

    let assessment = assess_blood_pressure(reading, &thresholds).unwrap();

    // 21.33 kPa is 159.988 mmHg and 12 kPa is 90.007 mmHg, each rounded to 0.1 mmHg.
    assert_eq!(assessment.systolic_mmhg, 160.0);
    assert_eq!(assessment.diastolic_mmhg, 90.0);
    assert_eq!(assessment.category, BloodPressureCategory::SevereRange);
    assert_eq!(assessment.reading.unit, PressureUnit::Kilopascals);
}

#[test]
fn kilopascals_below_raised_stay_normal() {
    let reading = BloodPressureReading {
        systolic: 16.0,
        diastolic: 10.0,
        unit: PressureUnit::Kilopascals,
    };

    let assessment = assess_blood_pressure(reading, &BloodPressureThresholds::default()).unwrap();

    // 16 kPa is 120.01 mmHg and 10 kPa is 75.006 mmHg.
    assert_eq!(assessment.systolic_mmhg, 120.0);
    assert_eq!(assessment.diastolic_mmhg, 75.0);
    assert_eq!(assessment.category, BloodPressureCategory::Normal);
}

#[test]
fn implausible_systolic_rejected() {
    let thresholds = BloodPressureThresholds::default();

    let low = assess_blood_pressure(mmhg(49.0, 30.0), &thresholds).unwrap_err();
    let high = assess_blood_pressure(mmhg(301.0, 100.0), &thresholds).unwrap_err();

    assert_eq!(low, VitalSignError::SystolicOutOfRange { mmhg: 49.0 });
    assert_eq!(high, VitalSignError::SystolicOutOfRange { mmhg: 301.0 });
    assert_eq!(
        high.to_string(),
        "Systolic pressure 301.0 mmHg is outside the plausible range 50 to 300 mmHg. \
         Check the value and its unit."
    );
    assert!(assess_blood_pressure(mmhg(50.0, 30.0), &thresholds).is_ok());
    assert!(assess_blood_pressure(mmhg(300.0, 120.0), &thresholds).is_ok());
}

#[test]
fn implausible_diastolic_rejected() {
    let thresholds = BloodPressureThresholds::default();

    let low = assess_blood_pressure(mmhg(120.0, 19.0), &thresholds).unwrap_err();
    let high = assess_blood_pressure(mmhg(250.0, 201.0), &thresholds).unwrap_err();

    assert_eq!(low, VitalSignError::DiastolicOutOfRange { mmhg: 19.0 });
    assert_eq!(high, VitalSignError::DiastolicOutOfRange { mmhg: 201.0 });
    assert!(low.to_string().starts_with("Diastolic pressure 19.0 mmHg"));
}

#[test]
fn diastolic_not_below_systolic_rejected() {
    let thresholds = BloodPressureThresholds::default();

    let swapped = assess_blood_pressure(mmhg(80.0, 120.0), &thresholds).unwrap_err();
    let equal = assess_blood_pressure(mmhg(100.0, 100.0), &thresholds).unwrap_err();

    assert_eq!(
        swapped,
        VitalSignError::DiastolicNotBelowSystolic {
            systolic_mmhg: 80.0,
            diastolic_mmhg: 120.0
        }
    );
    assert!(swapped.to_string().contains("swapped"));
    assert!(matches!(
        equal,
        VitalSignError::DiastolicNotBelowSystolic { .. }
    ));
}

#[test]
fn kilopascals_entered_as_mmhg_rejected() {
    // 16/10 typed in mmHg when the device showed kPa.
    let error = assess_blood_pressure(mmhg(16.0, 10.0), &BloodPressureThresholds::default());

    assert_eq!(
        error,
        Err(VitalSignError::SystolicOutOfRange { mmhg: 16.0 })
    );
}

#[test]
fn non_finite_pressure_rejected() {
    let thresholds = BloodPressureThresholds::default();

    let result = assess_blood_pressure(mmhg(f64::NAN, 80.0), &thresholds);

    assert!(matches!(
        result,
        Err(VitalSignError::SystolicOutOfRange { .. })
    ));
}

#[test]
fn temperature_boundary_37_9_38_0() {
    assert!(!celsius(37.9).assess_for_infection);
    assert!(celsius(38.0).assess_for_infection);
    assert!(celsius(39.4).assess_for_infection);
}

#[test]
fn fahrenheit_converts_before_classifying() {
    let thresholds = TemperatureThresholds::default();
    let at_threshold = Entered::new(100.4, TemperatureUnit::Fahrenheit);
    let below = Entered::new(100.2, TemperatureUnit::Fahrenheit);

    let at_threshold = assess_temperature(at_threshold, &thresholds).unwrap();
    let below = assess_temperature(below, &thresholds).unwrap();

    assert_eq!(at_threshold.celsius, 38.0);
    assert!(at_threshold.assess_for_infection);
    assert_eq!(at_threshold.entered.unit, TemperatureUnit::Fahrenheit);
    // 100.2 °F is 37.888... °C, rounded to 37.89 °C.
    assert_eq!(below.celsius, 37.89);
    assert!(!below.assess_for_infection);
}

#[test]
fn temperature_result_carries_thresholds() {
    let thresholds = TemperatureThresholds::new(37.8).unwrap();

    let assessment =
        assess_temperature(Entered::new(37.8, TemperatureUnit::Celsius), &thresholds).unwrap();

    assert!(assessment.assess_for_infection);
    assert_eq!(assessment.thresholds, thresholds);
}

#[test]
fn implausible_temperature_rejected() {
    let thresholds = TemperatureThresholds::default();
    let fahrenheit_as_celsius = Entered::new(98.6, TemperatureUnit::Celsius);
    let too_cold = Entered::new(29.9, TemperatureUnit::Celsius);
    let too_cold_fahrenheit = Entered::new(85.0, TemperatureUnit::Fahrenheit);

    let high = assess_temperature(fahrenheit_as_celsius, &thresholds).unwrap_err();
    let low = assess_temperature(too_cold, &thresholds).unwrap_err();
    let low_fahrenheit = assess_temperature(too_cold_fahrenheit, &thresholds).unwrap_err();

    assert_eq!(
        high,
        VitalSignError::TemperatureOutOfRange { celsius: 98.6 }
    );
    assert_eq!(
        high.to_string(),
        "Temperature 98.6 °C is outside the plausible range 30 to 45 °C. \
         Check the value and its unit."
    );
    assert_eq!(low, VitalSignError::TemperatureOutOfRange { celsius: 29.9 });
    // 85 °F is 29.44 °C.
    assert_eq!(
        low_fahrenheit,
        VitalSignError::TemperatureOutOfRange { celsius: 29.44 }
    );
    assert!(assess_temperature(Entered::new(45.0, TemperatureUnit::Celsius), &thresholds).is_ok());
}

#[test]
fn default_thresholds_match_guideline() {
    let defaults = VitalSignThresholds::default();

    assert_eq!(defaults.blood_pressure.raised_systolic(), 140);
    assert_eq!(defaults.blood_pressure.raised_diastolic(), 90);
    assert_eq!(defaults.blood_pressure.severe_systolic(), 160);
    assert_eq!(defaults.blood_pressure.severe_diastolic(), 110);
    assert_eq!(defaults.temperature.infection_celsius(), 38.0);
}

#[test]
fn blood_pressure_thresholds_reject_invalid_values() {
    assert_eq!(
        BloodPressureThresholds::new(160, 90, 160, 110),
        Err(ThresholdError::RaisedNotBelowSevere {
            pressure: "systolic",
            raised: 160,
            severe: 160
        })
    );
    assert_eq!(
        BloodPressureThresholds::new(140, 115, 160, 110),
        Err(ThresholdError::RaisedNotBelowSevere {
            pressure: "diastolic",
            raised: 115,
            severe: 110
        })
    );
    assert!(matches!(
        BloodPressureThresholds::new(140, 90, 400, 110),
        Err(ThresholdError::OutOfRange {
            name: "Severe systolic",
            ..
        })
    ));
    assert!(matches!(
        BloodPressureThresholds::new(140, 10, 160, 110),
        Err(ThresholdError::OutOfRange {
            name: "Raised diastolic",
            ..
        })
    ));
}

#[test]
fn temperature_threshold_rejects_fahrenheit_value() {
    let error = TemperatureThresholds::new(100.4).unwrap_err();

    assert_eq!(
        error.to_string(),
        "Fever threshold 100.4 °C is outside the allowed range 37 to 40 °C."
    );
    assert!(TemperatureThresholds::new(f64::NAN).is_err());
}

#[test]
fn thresholds_serde_round_trip() {
    let thresholds = VitalSignThresholds {
        blood_pressure: BloodPressureThresholds::new(135, 85, 155, 105).unwrap(),
        temperature: TemperatureThresholds::new(37.8).unwrap(),
    };

    let json = serde_json::to_string(&thresholds).unwrap();
    let parsed: VitalSignThresholds = serde_json::from_str(&json).unwrap();

    assert_eq!(parsed, thresholds);
}

#[test]
fn thresholds_deserialization_validates() {
    let json = r#"{
        "blood_pressure": {
            "raised_systolic": 170, "raised_diastolic": 90,
            "severe_systolic": 160, "severe_diastolic": 110
        },
        "temperature": { "infection_celsius": 38.0 }
    }"#;

    let error = serde_json::from_str::<VitalSignThresholds>(json).unwrap_err();

    assert!(
        error
            .to_string()
            .contains("Raised systolic threshold (170 mmHg)")
    );
}
