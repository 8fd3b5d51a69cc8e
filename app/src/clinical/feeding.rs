//! Terms of the infant feeding log that the browser and the server share.

use serde::{Deserialize, Serialize};

/// Breast given at one breastfeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreastSide {
    Left,
    Right,
    /// Both breasts at one feed.
    Both,
}

impl BreastSide {
    pub const ALL: [BreastSide; 3] = [BreastSide::Left, BreastSide::Right, BreastSide::Both];

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            BreastSide::Left => "Left",
            BreastSide::Right => "Right",
            BreastSide::Both => "Both",
        }
    }
}
