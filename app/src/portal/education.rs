//! General guidance for the weeks after birth, keyed to the weeks since delivery.
//!
//! The texts are Nurture's own short summaries of widely published public-health advice for the
//! postnatal period. They are general information for every mother and never replace advice
//! from her care team.

/// Guidance for a range of weeks after delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyGuidance {
    /// First completed week after delivery that this guidance covers.
    pub from_week: u32,
    /// Last completed week covered, `None` for open-ended.
    pub to_week: Option<u32>,
    pub title: &'static str,
    pub points: &'static [&'static str],
}

impl WeeklyGuidance {
    /// Tells whether this guidance covers `week` completed weeks after delivery.
    pub fn covers(&self, week: u32) -> bool {
        week >= self.from_week && self.to_week.is_none_or(|last| week <= last)
    }

    /// Describes the weeks covered, such as "Weeks 2 to 3".
    pub fn weeks_label(&self) -> String {
        match self.to_week {
            Some(last) if last == self.from_week => format!("Week {}", self.from_week),
            Some(last) => format!("Weeks {} to {last}", self.from_week),
            None => format!("Week {} onwards", self.from_week),
        }
    }
}

/// A reminder shown with every piece of guidance.
pub const GENERAL_NOTE: &str = "This is general information for every new mother, not advice \
     about you. If you are worried about yourself or your baby, contact your care team. In an \
     emergency, call your local emergency number.";

/// Every stage, in order; together they cover every week from delivery on.
pub const GUIDANCE: &[WeeklyGuidance] = &[
    WeeklyGuidance {
        from_week: 0,
        to_week: Some(1),
        title: "The first days",
        points: &[
            "Newborns usually feed 8 to 12 times in 24 hours. Feed whenever your baby shows \
             hunger cues, such as rooting or sucking on hands.",
            "Wet nappies increase over the first week. By about day 5, expect at least 6 heavy \
             wet nappies a day.",
            "Bleeding after birth is heaviest in the first days and then eases. Contact your \
             midwife at once if you soak a pad in an hour, pass large clots, have a fever, a \
             severe headache, or a painful, swollen calf.",
            "Put your baby to sleep on their back, in a clear, flat cot or Moses basket, in \
             the same room as you.",
        ],
    },
    WeeklyGuidance {
        from_week: 2,
        to_week: Some(3),
        title: "Settling in",
        points: &[
            "Many mothers feel tearful or low a few days after birth. If low mood lasts more \
             than two weeks, tell your care team: it is common and help works.",
            "Most babies are back to their birth weight by about two weeks old.",
            "Evenings of frequent feeding, called cluster feeding, are normal and help build \
             your milk supply.",
            "Rest when you can and accept offers of help with meals and housework.",
        ],
    },
    WeeklyGuidance {
        from_week: 4,
        to_week: Some(5),
        title: "Finding a rhythm",
        points: &[
            "Babies often have growth spurts with extra feeding for a day or two.",
            "Gentle walks and pelvic floor exercises help your recovery. Build up slowly.",
            "Keep answering your mood check-ins: how you feel matters as much as how your baby \
             grows.",
        ],
    },
    WeeklyGuidance {
        from_week: 6,
        to_week: Some(8),
        title: "Your postnatal check",
        points: &[
            "A check for you and one for your baby are usually offered around 6 to 8 weeks \
             after birth. Write down questions to bring.",
            "It is a good time to talk about contraception, your mood, your body's recovery and \
             feeding.",
            "In many countries your baby's first routine vaccinations are due at about 8 weeks.",
        ],
    },
    WeeklyGuidance {
        from_week: 9,
        to_week: Some(12),
        title: "Getting stronger",
        points: &[
            "If your postnatal check went well, you can return to exercise step by step. Stop \
             if you have pain, heavy bleeding or leaking.",
            "Sleep is still broken for most families. Share night feeds when you can.",
            "Talk with your care team if feeding hurts or worries you. Support is available.",
        ],
    },
    WeeklyGuidance {
        from_week: 13,
        to_week: None,
        title: "The months ahead",
        points: &[
            "Postnatal depression can begin at any time in the first year. Keep checking in and \
             tell your care team if you feel low, anxious or unlike yourself.",
            "Breast milk alone meets your baby's needs for about the first six months. Solid \
             foods are usually started at around six months.",
            "Keep going to your baby's routine reviews and vaccinations.",
        ],
    },
];

/// Returns the guidance for `week` completed weeks after delivery.
pub fn guidance_for_week(week: u32) -> &'static WeeklyGuidance {
    GUIDANCE
        .iter()
        .find(|guidance| guidance.covers(week))
        .unwrap_or(&GUIDANCE[GUIDANCE.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_cover_every_week_once() {
        for week in 0..200 {
            let covering = GUIDANCE.iter().filter(|stage| stage.covers(week)).count();
            assert_eq!(covering, 1, "week {week}");
        }
    }

    #[test]
    fn week_selects_its_stage() {
        assert_eq!(guidance_for_week(0).title, "The first days");
        assert_eq!(guidance_for_week(2).title, "Settling in");
        assert_eq!(guidance_for_week(6).title, "Your postnatal check");
        assert_eq!(guidance_for_week(52).title, "The months ahead");
    }

    #[test]
    fn labels_name_the_weeks() {
        assert_eq!(GUIDANCE[0].weeks_label(), "Weeks 0 to 1");
        assert_eq!(GUIDANCE[5].weeks_label(), "Week 13 onwards");
    }
}
