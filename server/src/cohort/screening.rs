//! Synthetic EPDS answers with a realistic share of high totals.
//!
//! About 16 % of mothers carry a raised risk, and their items average 1.75 points, so that about
//! 12 % of all screens total 13 or more, within the 10 to 15 % of probable depression that
//! postnatal populations show. Item 10 (thoughts of self-harm) is answered with anything but
//! "Never" by about 15 % of the raised-risk mothers and 0.5 % of the others, a few in a hundred.

use app::clinical::screening::{Instrument, ScoringDirection};
use rand::RngExt;
use rand::rngs::StdRng;

use super::random::{clamped_normal, weighted};

/// Share of mothers with a raised risk of postnatal depression.
pub const RAISED_RISK_SHARE: f64 = 0.16;

/// Draws a complete EPDS form as answer positions in printed order.
pub fn epds_answers(rng: &mut StdRng, raised_risk: bool) -> Vec<Option<u8>> {
    let items = Instrument::Epds.definition().items;
    let mean = if raised_risk { 1.75 } else { 0.5 };
    let self_harm = if raised_risk { 0.15 } else { 0.005 };

    items
        .iter()
        .map(|item| {
            let points = if item.number == 10 {
                if rng.random_bool(self_harm) {
                    weighted(rng, &[(1u8, 0.6), (2, 0.3), (3, 0.1)])
                } else {
                    0
                }
            } else {
                clamped_normal(rng, mean, 0.75, 0.0, 3.0).round() as u8
            };
            let position = match item.scoring {
                ScoringDirection::Ascending => points,
                ScoringDirection::Descending => item.last_position() - points,
            };
            Some(position)
        })
        .collect()
}
