use super::*;

/// Answer positions that give `scores` on an EPDS form, so that tests can state totals directly.
fn epds_positions_for_scores(scores: [u8; 10]) -> Vec<Option<u8>> {
    let items = Instrument::Epds.definition().items;
    items
        .iter()
        .zip(scores)
        .map(|(item, score)| {
            let position = (0..=item.last_position())
                .find(|&position| item.score(position) == Some(score))
                .expect("every score 0 to 3 has a position");
            Some(position)
        })
        .collect()
}

/// EPDS form with the given total spread over items 1 to 9 and "Never" on item 10.
fn epds_with_total(total: u8) -> Vec<Option<u8>> {
    assert!(total <= 27, "items 1 to 9 hold at most 27 points");
    let mut scores = [0u8; 10];
    let mut remaining = total;
    for score in scores.iter_mut().take(9) {
        *score = remaining.min(3);
        remaining -= *score;
    }
    epds_positions_for_scores(scores)
}

fn all_at(position: u8, count: usize) -> Vec<Option<u8>> {
    vec![Some(position); count]
}

#[test]
fn epds_definition_has_ten_items_of_four_answers() {
    let definition = Instrument::Epds.definition();

    assert_eq!(definition.items.len(), 10);
    for (index, item) in definition.items.iter().enumerate() {
        assert_eq!(usize::from(item.number), index + 1);
        assert_eq!(item.answers.len(), 4, "item {}", item.number);
    }
    assert!(definition.instructions.contains("past 7 days"));
}

#[test]
fn instrument_list_has_each_definition() {
    for instrument in Instrument::ALL {
        assert_eq!(instrument.definition().instrument, instrument);
    }
    assert_eq!(Instrument::Phq9.definition().items.len(), 9);
    assert_eq!(Instrument::Gad7.definition().items.len(), 7);
}

#[test]
fn epds_item_10_answers_in_printed_order() {
    let item = &Instrument::Epds.definition().items[9];

    assert_eq!(
        item.answers,
        ["Yes, quite often", "Sometimes", "Hardly ever", "Never"]
    );
}

#[test]
fn epds_scoring_direction_per_item() {
    let items = Instrument::Epds.definition().items;

    for item in items {
        let scores: Vec<_> = (0..4).map(|position| item.score(position)).collect();
        let expected = match item.number {
            1 | 2 | 4 => [Some(0), Some(1), Some(2), Some(3)],
            3 | 5..=10 => [Some(3), Some(2), Some(1), Some(0)],
            other => panic!("unexpected item number {other}"),
        };
        assert_eq!(scores, expected, "item {}", item.number);
        assert_eq!(item.score(4), None, "item {}", item.number);
    }
}

#[test]
fn epds_first_answers_score_by_direction() {
    let result = score_epds(&all_at(0, 10), EpdsThresholds::default()).unwrap();

    let expected = [0, 0, 3, 0, 3, 3, 3, 3, 3, 3].map(Some).to_vec();
    assert_eq!(result.result.item_scores, expected);
    assert_eq!(result.result.total, Some(21));
}

#[test]
fn epds_last_answers_score_by_direction() {
    let result = score_epds(&all_at(3, 10), EpdsThresholds::default()).unwrap();

    let expected = [3, 3, 0, 3, 0, 0, 0, 0, 0, 0].map(Some).to_vec();
    assert_eq!(result.result.item_scores, expected);
    assert_eq!(result.result.total, Some(9));
    assert!(result.result.flags.is_empty());
}

#[test]
fn epds_total_covers_zero_to_thirty() {
    let lowest = score_epds(
        &epds_positions_for_scores([0; 10]),
        EpdsThresholds::default(),
    );
    let highest = score_epds(
        &epds_positions_for_scores([3; 10]),
        EpdsThresholds::default(),
    );

    assert_eq!(lowest.unwrap().result.total, Some(0));
    assert_eq!(highest.unwrap().result.total, Some(30));
}

#[test]
fn epds_default_band_boundaries() {
    let cases = [
        (0, EpdsBand::BelowThreshold),
        (9, EpdsBand::BelowThreshold),
        (10, EpdsBand::PossibleDepression),
        (12, EpdsBand::PossibleDepression),
        (13, EpdsBand::ProbableDepression),
        (27, EpdsBand::ProbableDepression),
    ];

    for (total, band) in cases {
        let result = score_epds(&epds_with_total(total), EpdsThresholds::default()).unwrap();
        assert_eq!(result.result.total, Some(total));
        assert_eq!(result.result.band, Some(band), "total {total}");
        assert!(result.result.flags.is_empty(), "total {total}");
    }
}

#[test]
fn epds_every_total_has_one_band() {
    let thresholds = EpdsThresholds::default();

    for total in 0..=27 {
        let band = score_epds(&epds_with_total(total), thresholds)
            .unwrap()
            .result
            .band;
        let expected = if total >= 13 {
            EpdsBand::ProbableDepression
        } else if total >= 10 {
            EpdsBand::PossibleDepression
        } else {
            EpdsBand::BelowThreshold
        };
        assert_eq!(band, Some(expected), "total {total}");
    }
}

#[test]
fn epds_result_records_thresholds() {
    let result = score_epds(&epds_with_total(5), EpdsThresholds::default()).unwrap();

    assert_eq!(result.thresholds.possible_depression(), 10);
    assert_eq!(result.thresholds.probable_depression(), 13);
}

#[test]
fn epds_item_10_flags_with_low_total() {
    // Item 10 "Hardly ever" (position 2, 1 point) with every other item at 0.
    let mut answers = epds_with_total(0);
    answers[9] = Some(2);

    let result = score_epds(&answers, EpdsThresholds::default()).unwrap();

    assert_eq!(result.result.total, Some(1));
    assert_eq!(result.result.band, Some(EpdsBand::BelowThreshold));
    assert!(result.result.has_flag(ScreeningFlag::UrgentSelfHarm));
}

#[test]
fn epds_item_10_flags_unless_never() {
    for position in 0..=3u8 {
        let mut answers = epds_with_total(0);
        answers[9] = Some(position);

        let result = score_epds(&answers, EpdsThresholds::default()).unwrap();

        let never = position == 3;
        assert_eq!(
            result.result.has_flag(ScreeningFlag::UrgentSelfHarm),
            !never,
            "item 10 position {position}"
        );
    }
}

#[test]
fn epds_item_10_flags_when_others_unanswered() {
    let mut answers = vec![None; 10];
    answers[9] = Some(0);

    let result = score_epds(&answers, EpdsThresholds::default()).unwrap();

    assert_eq!(result.result.total, None);
    assert_eq!(result.result.band, None);
    assert!(result.result.has_flag(ScreeningFlag::UrgentSelfHarm));
}

#[test]
fn epds_any_unanswered_item_gives_no_total() {
    for missing in 0..10 {
        let mut answers = epds_with_total(20);
        answers[missing] = None;

        let result = score_epds(&answers, EpdsThresholds::default()).unwrap();

        assert_eq!(result.result.total, None, "item {} unanswered", missing + 1);
        assert_eq!(result.result.band, None, "item {} unanswered", missing + 1);
        assert_eq!(result.result.item_scores[missing], None);
    }
}

#[test]
fn epds_custom_thresholds_move_bands() {
    let thresholds = EpdsThresholds::new(12, 15).unwrap();
    let cases = [
        (11, EpdsBand::BelowThreshold),
        (12, EpdsBand::PossibleDepression),
        (14, EpdsBand::PossibleDepression),
        (15, EpdsBand::ProbableDepression),
    ];

    for (total, band) in cases {
        let result = score_epds(&epds_with_total(total), thresholds).unwrap();
        assert_eq!(result.result.band, Some(band), "total {total}");
        assert_eq!(result.thresholds, thresholds);
    }
}

#[test]
fn epds_thresholds_reject_invalid_values() {
    assert_eq!(
        EpdsThresholds::new(13, 13),
        Err(ThresholdError::NotAscending {
            possible: 13,
            probable: 13
        })
    );
    assert_eq!(
        EpdsThresholds::new(14, 10),
        Err(ThresholdError::NotAscending {
            possible: 14,
            probable: 10
        })
    );
    assert_eq!(
        EpdsThresholds::new(10, 31),
        Err(ThresholdError::AboveMaximum {
            name: "probable depression",
            value: 31
        })
    );
    assert!(EpdsThresholds::new(0, 30).is_ok());
}

#[test]
fn epds_thresholds_serde_round_trip() {
    let thresholds = EpdsThresholds::new(11, 14).unwrap();

    let json = serde_json::to_string(&thresholds).unwrap();
    let parsed: EpdsThresholds = serde_json::from_str(&json).unwrap();

    assert_eq!(
        json,
        r#"{"possible_depression":11,"probable_depression":14}"#
    );
    assert_eq!(parsed, thresholds);
}

#[test]
fn epds_thresholds_deserialization_validates() {
    let reversed = r#"{"possible_depression":13,"probable_depression":10}"#;
    let too_high = r#"{"possible_depression":10,"probable_depression":40}"#;

    let reversed_error = serde_json::from_str::<EpdsThresholds>(reversed).unwrap_err();
    let too_high_error = serde_json::from_str::<EpdsThresholds>(too_high).unwrap_err();

    assert!(reversed_error.to_string().contains("must be below"));
    assert!(too_high_error.to_string().contains("above the maximum"));
}

#[test]
fn wrong_item_count_rejected() {
    let error = score_epds(&all_at(0, 9), EpdsThresholds::default()).unwrap_err();

    assert_eq!(
        error,
        ScreeningError::WrongItemCount {
            instrument: Instrument::Epds,
            expected: 10,
            received: 9
        }
    );
    assert!(error.to_string().contains("EPDS has items 1 to 10"));
    assert!(score_phq9(&all_at(0, 10)).is_err());
    assert!(score_gad7(&all_at(0, 6)).is_err());
}

#[test]
fn out_of_range_position_names_item() {
    let mut answers = all_at(0, 9);
    answers[6] = Some(4);

    let error = score_phq9(&answers).unwrap_err();

    assert_eq!(
        error,
        ScreeningError::AnswerOutOfRange {
            instrument: Instrument::Phq9,
            item: 7,
            position: 4,
            last: 3
        }
    );
    assert_eq!(
        error.to_string(),
        "PHQ-9 item 7: answer position 4 is invalid because the item has answers at positions \
         0 to 3."
    );
}

#[test]
fn out_of_range_position_rejected_for_each_instrument() {
    let mut epds = all_at(0, 10);
    epds[9] = Some(u8::MAX);
    let mut gad7 = all_at(0, 7);
    gad7[0] = Some(4);

    let epds_error = score_epds(&epds, EpdsThresholds::default()).unwrap_err();
    let gad7_error = score_gad7(&gad7).unwrap_err();

    assert!(
        epds_error
            .to_string()
            .starts_with("EPDS item 10: answer position 255")
    );
    assert!(
        gad7_error
            .to_string()
            .starts_with("GAD-7 item 1: answer position 4")
    );
}

#[test]
fn phq9_and_gad7_answers_score_zero_to_three() {
    for instrument in [Instrument::Phq9, Instrument::Gad7] {
        for item in instrument.definition().items {
            assert_eq!(
                item.answers,
                [
                    "Not at all",
                    "Several days",
                    "More than half the days",
                    "Nearly every day"
                ]
            );
            let scores: Vec<_> = (0..5).map(|position| item.score(position)).collect();
            assert_eq!(scores, [Some(0), Some(1), Some(2), Some(3), None]);
        }
    }
}

/// Form of `count` items whose positions add up to `total`, filled from the first item.
fn frequency_form_with_total(count: usize, total: u8) -> Vec<Option<u8>> {
    let mut remaining = total;
    (0..count)
        .map(|_| {
            let score = remaining.min(3);
            remaining -= score;
            Some(score)
        })
        .collect()
}

#[test]
fn phq9_every_total_has_one_band() {
    for total in 0..=27u8 {
        let result = score_phq9(&frequency_form_with_total(9, total)).unwrap();

        let expected = match total {
            0..=4 => Phq9Band::Minimal,
            5..=9 => Phq9Band::Mild,
            10..=14 => Phq9Band::Moderate,
            15..=19 => Phq9Band::ModeratelySevere,
            20..=27 => Phq9Band::Severe,
            _ => unreachable!(),
        };
        assert_eq!(result.total, Some(total));
        assert_eq!(result.band, Some(expected), "total {total}");
    }
}

#[test]
fn phq9_band_boundaries() {
    let cases = [
        (4, Phq9Band::Minimal),
        (5, Phq9Band::Mild),
        (9, Phq9Band::Mild),
        (10, Phq9Band::Moderate),
        (14, Phq9Band::Moderate),
        (15, Phq9Band::ModeratelySevere),
        (19, Phq9Band::ModeratelySevere),
        (20, Phq9Band::Severe),
        (27, Phq9Band::Severe),
    ];

    for (total, band) in cases {
        let result = score_phq9(&frequency_form_with_total(9, total)).unwrap();
        assert_eq!(result.band, Some(band), "total {total}");
    }
}

#[test]
fn phq9_item_9_flags_same_day_follow_up() {
    let mut answers = all_at(0, 9);
    answers[8] = Some(1);

    let result = score_phq9(&answers).unwrap();

    assert_eq!(result.total, Some(1));
    assert_eq!(result.band, Some(Phq9Band::Minimal));
    assert_eq!(result.flags, [ScreeningFlag::SameDaySafetyFollowUp]);
}

#[test]
fn phq9_item_9_zero_does_not_flag() {
    // Total 24 with item 9 at 0.
    let mut answers = all_at(3, 9);
    answers[8] = Some(0);

    let result = score_phq9(&answers).unwrap();

    assert_eq!(result.total, Some(24));
    assert!(result.flags.is_empty());
}

#[test]
fn phq9_item_9_flags_when_others_unanswered() {
    let mut answers = vec![None; 9];
    answers[8] = Some(3);

    let result = score_phq9(&answers).unwrap();

    assert_eq!(result.total, None);
    assert!(result.has_flag(ScreeningFlag::SameDaySafetyFollowUp));
}

#[test]
fn phq9_unanswered_item_gives_no_total() {
    for missing in 0..9 {
        let mut answers = all_at(1, 9);
        answers[missing] = None;

        let result = score_phq9(&answers).unwrap();

        assert_eq!(result.total, None, "item {} unanswered", missing + 1);
        assert_eq!(result.band, None, "item {} unanswered", missing + 1);
    }
}

#[test]
fn gad7_every_total_has_one_band() {
    for total in 0..=21u8 {
        let result = score_gad7(&frequency_form_with_total(7, total)).unwrap();

        let expected = match total {
            0..=4 => Gad7Band::Minimal,
            5..=9 => Gad7Band::Mild,
            10..=14 => Gad7Band::Moderate,
            15..=21 => Gad7Band::Severe,
            _ => unreachable!(),
        };
        assert_eq!(result.total, Some(total));
        assert_eq!(result.band, Some(expected), "total {total}");
        assert_eq!(
            result.has_flag(ScreeningFlag::FurtherEvaluation),
            total >= 10,
            "total {total}"
        );
    }
}

#[test]
fn gad7_further_evaluation_boundary() {
    let nine = score_gad7(&frequency_form_with_total(7, 9)).unwrap();
    let ten = score_gad7(&frequency_form_with_total(7, 10)).unwrap();

    assert!(nine.flags.is_empty());
    assert_eq!(ten.flags, [ScreeningFlag::FurtherEvaluation]);
}

#[test]
fn gad7_unanswered_item_gives_no_total_or_flag() {
    let mut answers = all_at(3, 7);
    answers[3] = None;

    let result = score_gad7(&answers).unwrap();

    assert_eq!(result.total, None);
    assert_eq!(result.band, None);
    assert!(result.flags.is_empty());
}

#[test]
fn definitions_serialize_for_the_ui() {
    let json = serde_json::to_value(Instrument::Epds.definition()).unwrap();

    assert_eq!(json["instrument"], "epds");
    assert_eq!(json["items"][2]["scoring"], "descending");
    assert_eq!(json["items"][9]["answers"][3], "Never");
}

#[test]
fn epds_result_serializes_flat() {
    let mut answers = epds_with_total(12);
    answers[9] = Some(1);

    let result = score_epds(&answers, EpdsThresholds::default()).unwrap();
    let json = serde_json::to_value(&result).unwrap();

    assert_eq!(json["total"], 14);
    assert_eq!(json["band"], "probable_depression");
    assert_eq!(json["flags"][0], "urgent_self_harm");
    assert_eq!(json["thresholds"]["probable_depression"], 13);
}
