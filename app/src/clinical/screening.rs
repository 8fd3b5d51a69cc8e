//! Scoring of the mental health screening questionnaires: EPDS, PHQ-9 and GAD-7.
//!
//! The item definitions are data so that the UI renders exactly the questions and answers that
//! are scored. A submitted form is a list with one entry per item: the 0-based position of the
//! chosen answer as printed, or `None` when the item was left unanswered. Scoring goes by
//! position, so an item whose first printed answer is the most severe (a reverse-scored item)
//! needs no special handling by the caller.

mod instruments;
#[cfg(all(test, feature = "ssr"))]
mod tests;
mod thresholds;

use serde::{Deserialize, Serialize};

pub use thresholds::{EpdsThresholds, ThresholdError};

/// Highest possible EPDS total: ten items of at most 3 points.
pub const EPDS_MAX_TOTAL: u8 = 30;

/// A screening questionnaire that Nurture scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Edinburgh Postnatal Depression Scale (Cox, Holden and Sagovsky, 1987).
    Epds,
    /// Patient Health Questionnaire-9 (Kroenke, Spitzer and Williams, 2001).
    Phq9,
    /// Generalized Anxiety Disorder-7 (Spitzer, Kroenke, Williams and Löwe, 2006).
    Gad7,
}

impl Instrument {
    /// Every instrument, in the order the UI lists them.
    pub const ALL: [Instrument; 3] = [Self::Epds, Self::Phq9, Self::Gad7];

    /// Question text, answers and scoring of this instrument.
    pub fn definition(self) -> &'static InstrumentDefinition {
        match self {
            Self::Epds => &instruments::EPDS,
            Self::Phq9 => &instruments::PHQ9,
            Self::Gad7 => &instruments::GAD7,
        }
    }

    /// Short name used in messages, such as "PHQ-9".
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::Epds => "EPDS",
            Self::Phq9 => "PHQ-9",
            Self::Gad7 => "GAD-7",
        }
    }
}

impl std::fmt::Display for Instrument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.abbreviation())
    }
}

/// How the printed position of an answer maps to points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringDirection {
    /// The first printed answer scores 0 and the last scores 3.
    Ascending,
    /// Reverse-scored: the first printed answer scores 3 and the last scores 0.
    Descending,
}

/// A questionnaire as printed: its instructions and its items in order.
#[derive(Debug, Serialize)]
pub struct InstrumentDefinition {
    pub instrument: Instrument,
    /// Full name of the questionnaire.
    pub name: &'static str,
    /// Reference to the paper that published the questionnaire, shown with the form.
    pub citation: &'static str,
    /// Text shown above the first item.
    pub instructions: &'static str,
    pub items: &'static [ItemDefinition],
}

/// One question with its answer labels in printed order.
#[derive(Debug, Serialize)]
pub struct ItemDefinition {
    /// 1-based item number as printed on the form.
    pub number: u8,
    pub question: &'static str,
    pub answers: &'static [&'static str],
    pub scoring: ScoringDirection,
}

impl ItemDefinition {
    /// Converts the 0-based position of a printed answer to points, or `None` when the item has
    /// no answer at that position.
    pub fn score(&self, position: u8) -> Option<u8> {
        let last = self.last_position();
        if position > last {
            return None;
        }
        match self.scoring {
            ScoringDirection::Ascending => Some(position),
            ScoringDirection::Descending => Some(last - position),
        }
    }

    /// Position of the last printed answer.
    pub fn last_position(&self) -> u8 {
        // Every item has between one and four answers, so the cast cannot truncate.
        self.answers.len().saturating_sub(1) as u8
    }
}

/// A submitted form that cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreeningError {
    #[error(
        "{instrument} has items 1 to {expected}, but the form contains {received} answers. \
         Send one entry per item, with an empty entry for an unanswered item."
    )]
    WrongItemCount {
        instrument: Instrument,
        expected: usize,
        received: usize,
    },
    #[error(
        "{instrument} item {item}: answer position {position} is invalid because the item has \
         answers at positions 0 to {last}."
    )]
    AnswerOutOfRange {
        instrument: Instrument,
        item: u8,
        position: u8,
        last: u8,
    },
}

/// EPDS band of a complete form, under the clinic's cut-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpdsBand {
    /// Total below the possible-depression cut-off.
    BelowThreshold,
    PossibleDepression,
    ProbableDepression,
}

/// PHQ-9 depression severity (Kroenke, Spitzer and Williams, 2001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phq9Band {
    /// Total 0 to 4.
    Minimal,
    /// Total 5 to 9.
    Mild,
    /// Total 10 to 14.
    Moderate,
    /// Total 15 to 19.
    ModeratelySevere,
    /// Total 20 to 27.
    Severe,
}

/// GAD-7 anxiety severity (Spitzer, Kroenke, Williams and Löwe, 2006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gad7Band {
    /// Total 0 to 4.
    Minimal,
    /// Total 5 to 9.
    Mild,
    /// Total 10 to 14.
    Moderate,
    /// Total 15 to 21.
    Severe,
}

/// A finding that needs action regardless of, or in addition to, the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningFlag {
    /// EPDS item 10 answered with anything other than "Never": urgent follow-up for thoughts of
    /// self-harm, whatever the total.
    UrgentSelfHarm,
    /// PHQ-9 item 9 scored above 0: safety follow-up on the same day.
    SameDaySafetyFollowUp,
    /// GAD-7 total of 10 or more: further evaluation for an anxiety disorder.
    FurtherEvaluation,
}

/// Scored form of an instrument with bands of type `B`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreeningResult<B> {
    pub instrument: Instrument,
    /// Points per item in printed order, `None` for an unanswered item.
    pub item_scores: Vec<Option<u8>>,
    /// Sum of the item scores, `None` when any item is unanswered.
    pub total: Option<u8>,
    /// Band of the total, `None` when there is no total.
    pub band: Option<B>,
    pub flags: Vec<ScreeningFlag>,
}

impl<B> ScreeningResult<B> {
    /// Tells whether the result carries `flag`.
    pub fn has_flag(&self, flag: ScreeningFlag) -> bool {
        self.flags.contains(&flag)
    }
}

/// Scored EPDS form together with the cut-offs that assigned its band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpdsResult {
    #[serde(flatten)]
    pub result: ScreeningResult<EpdsBand>,
    pub thresholds: EpdsThresholds,
}

/// Scores an EPDS form (Cox, Holden and Sagovsky, 1987) and bands it with the clinic's cut-offs.
///
/// Any answer other than "Never" on item 10 sets [`ScreeningFlag::UrgentSelfHarm`], also when
/// the total is low or other items are unanswered. An unanswered item 10 sets no flag, and the
/// form then has no total, so the caller must show it as incomplete.
pub fn score_epds(
    answers: &[Option<u8>],
    thresholds: EpdsThresholds,
) -> Result<EpdsResult, ScreeningError> {
    let (item_scores, total) = score_items(Instrument::Epds, answers)?;

    let band = total.map(|total| {
        if total >= thresholds.probable_depression() {
            EpdsBand::ProbableDepression
        } else if total >= thresholds.possible_depression() {
            EpdsBand::PossibleDepression
        } else {
            EpdsBand::BelowThreshold
        }
    });
    // Item 10 is reverse-scored, so "Never" is the only answer that scores 0.
    let self_harm = matches!(item_scores[9], Some(score) if score > 0);
    let flags = self_harm
        .then_some(ScreeningFlag::UrgentSelfHarm)
        .into_iter()
        .collect();

    Ok(EpdsResult {
        result: ScreeningResult {
            instrument: Instrument::Epds,
            item_scores,
            total,
            band,
            flags,
        },
        thresholds,
    })
}

/// Scores a PHQ-9 form and bands it by the published severity ranges (Kroenke, Spitzer and
/// Williams, 2001).
///
/// A score above 0 on item 9 (thoughts of being better off dead or of self-harm) sets
/// [`ScreeningFlag::SameDaySafetyFollowUp`], also when other items are unanswered. An
/// unanswered item 9 sets no flag, and the form then has no total.
pub fn score_phq9(answers: &[Option<u8>]) -> Result<ScreeningResult<Phq9Band>, ScreeningError> {
    let (item_scores, total) = score_items(Instrument::Phq9, answers)?;

    let band = total.map(|total| match total {
        0..=4 => Phq9Band::Minimal,
        5..=9 => Phq9Band::Mild,
        10..=14 => Phq9Band::Moderate,
        15..=19 => Phq9Band::ModeratelySevere,
        _ => Phq9Band::Severe,
    });
    let safety = matches!(item_scores[8], Some(score) if score > 0);
    let flags = safety
        .then_some(ScreeningFlag::SameDaySafetyFollowUp)
        .into_iter()
        .collect();

    Ok(ScreeningResult {
        instrument: Instrument::Phq9,
        item_scores,
        total,
        band,
        flags,
    })
}

/// Scores a GAD-7 form and bands it by the published severity ranges (Spitzer, Kroenke, Williams
/// and Löwe, 2006).
///
/// A total of 10 or more sets [`ScreeningFlag::FurtherEvaluation`].
pub fn score_gad7(answers: &[Option<u8>]) -> Result<ScreeningResult<Gad7Band>, ScreeningError> {
    let (item_scores, total) = score_items(Instrument::Gad7, answers)?;

    let band = total.map(|total| match total {
        0..=4 => Gad7Band::Minimal,
        5..=9 => Gad7Band::Mild,
        10..=14 => Gad7Band::Moderate,
        _ => Gad7Band::Severe,
    });
    let further_evaluation = matches!(total, Some(total) if total >= 10);
    let flags = further_evaluation
        .then_some(ScreeningFlag::FurtherEvaluation)
        .into_iter()
        .collect();

    Ok(ScreeningResult {
        instrument: Instrument::Gad7,
        item_scores,
        total,
        band,
        flags,
    })
}

/// Checks a form against the instrument and returns the points per item and the total, which is
/// `None` as soon as one item is unanswered.
fn score_items(
    instrument: Instrument,
    answers: &[Option<u8>],
) -> Result<(Vec<Option<u8>>, Option<u8>), ScreeningError> {
    let items = instrument.definition().items;
    if answers.len() != items.len() {
        return Err(ScreeningError::WrongItemCount {
            instrument,
            expected: items.len(),
            received: answers.len(),
        });
    }

    let mut item_scores = Vec::with_capacity(items.len());
    for (item, answer) in items.iter().zip(answers) {
        let score = match *answer {
            None => None,
            Some(position) => Some(item.score(position).ok_or(
                ScreeningError::AnswerOutOfRange {
                    instrument,
                    item: item.number,
                    position,
                    last: item.last_position(),
                },
            )?),
        };
        item_scores.push(score);
    }
    let total = item_scores.iter().copied().sum::<Option<u8>>();

    Ok((item_scores, total))
}
