//! Care events: notices that something new happened on a patient's record, routed to the care-team
//! members it concerns and pushed to their open dashboards.
//!
//! An event names the patient, the kind of change, its priority and the id of the new item, but
//! never clinical content: a dashboard that receives one fetches the details through the access
//! policy like any other read. Events are rows of `care_events`; a trigger announces each on a
//! PostgreSQL channel when its transaction commits, so every app node on the database hears of
//! it, and a client that reconnects requests the rows it missed.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identity::Role;
use crate::ids::PatientId;

#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
pub use store::{
    AnnouncedEvent, CHANNEL, EventsError, NewCareEvent, announced_event, announced_events,
    care_team_audience, event_by_id, events_after, latest_event_id, newest_event_id, publish,
};

/// The kind of change on the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareEventKind {
    /// A blood pressure, temperature or other vital-sign reading.
    Vitals,
    /// A mood or anxiety screen (EPDS, PHQ-9, GAD-7).
    Screening,
    /// An infant feeding log entry.
    Feeding,
    /// An infant growth measurement.
    Growth,
    /// A secure message.
    Message,
    /// An alert raised by a care protocol.
    Alert,
    /// A task created or reassigned by a care protocol or a clinician.
    Task,
}

impl CareEventKind {
    pub const ALL: [CareEventKind; 7] = [
        CareEventKind::Vitals,
        CareEventKind::Screening,
        CareEventKind::Feeding,
        CareEventKind::Growth,
        CareEventKind::Message,
        CareEventKind::Alert,
        CareEventKind::Task,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CareEventKind::Vitals => "vitals",
            CareEventKind::Screening => "screening",
            CareEventKind::Feeding => "feeding",
            CareEventKind::Growth => "growth",
            CareEventKind::Message => "message",
            CareEventKind::Alert => "alert",
            CareEventKind::Task => "task",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// The care-team roles an event of this kind concerns by default: mood to the mental health
    /// specialist and the GP, feeding and growth to the lactation consultant and the midwife,
    /// vitals to the midwife and the GP, and alerts to the whole team. Messages and tasks go to
    /// named people instead, so they have no default audience.
    pub fn default_audience(self) -> &'static [Role] {
        match self {
            CareEventKind::Vitals => &[Role::Midwife, Role::PrimaryCareProvider],
            CareEventKind::Screening => &[Role::MentalHealthSpecialist, Role::PrimaryCareProvider],
            CareEventKind::Feeding | CareEventKind::Growth => {
                &[Role::LactationConsultant, Role::Midwife]
            }
            CareEventKind::Alert => &[
                Role::PrimaryCareProvider,
                Role::Midwife,
                Role::LactationConsultant,
                Role::MentalHealthSpecialist,
                Role::CareCoordinator,
            ],
            CareEventKind::Message | CareEventKind::Task => &[],
        }
    }
}

/// The urgency of an event for its recipients. Dashboards list higher priorities first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Routine,
    Attention,
    Urgent,
}

impl Priority {
    pub fn level(self) -> i16 {
        match self {
            Priority::Routine => 0,
            Priority::Attention => 1,
            Priority::Urgent => 2,
        }
    }

    pub fn from_level(level: i16) -> Option<Self> {
        match level {
            0 => Some(Priority::Routine),
            1 => Some(Priority::Attention),
            2 => Some(Priority::Urgent),
            _ => None,
        }
    }
}

/// One event as a dashboard receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareEvent {
    /// Increases with each event; a reconnecting client sends the last one it saw.
    pub id: i64,
    pub patient_id: PatientId,
    pub kind: CareEventKind,
    pub priority: Priority,
    pub subject_id: Option<Uuid>,
    /// When the event was recorded, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// Sorts events for display: urgent first, then newest first.
pub fn sort_for_display(events: &mut [CareEvent]) {
    events.sort_by(|a, b| b.priority.cmp(&a.priority).then(b.id.cmp(&a.id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, priority: Priority) -> CareEvent {
        CareEvent {
            id,
            patient_id: PatientId(Uuid::nil()),
            kind: CareEventKind::Vitals,
            priority,
            subject_id: None,
            created_at_ms: 0,
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in CareEventKind::ALL {
            assert_eq!(CareEventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(CareEventKind::parse("Vitals"), None);
    }

    #[test]
    fn routing_follows_the_kind_of_change() {
        use Role::*;
        assert_eq!(
            CareEventKind::Screening.default_audience(),
            &[MentalHealthSpecialist, PrimaryCareProvider]
        );
        assert_eq!(
            CareEventKind::Vitals.default_audience(),
            &[Midwife, PrimaryCareProvider]
        );
        for kind in [CareEventKind::Feeding, CareEventKind::Growth] {
            assert_eq!(kind.default_audience(), &[LactationConsultant, Midwife]);
        }
        assert!(
            !CareEventKind::Feeding
                .default_audience()
                .contains(&MentalHealthSpecialist)
        );
        assert!(CareEventKind::Message.default_audience().is_empty());
    }

    #[test]
    fn priority_levels_round_trip_and_reject_unknown_levels() {
        for priority in [Priority::Routine, Priority::Attention, Priority::Urgent] {
            assert_eq!(Priority::from_level(priority.level()), Some(priority));
        }
        assert_eq!(Priority::from_level(3), None);
        assert_eq!(Priority::from_level(-1), None);
    }

    #[test]
    fn display_order_puts_urgent_first_then_newest() {
        let mut events = vec![
            event(1, Priority::Routine),
            event(2, Priority::Urgent),
            event(3, Priority::Routine),
            event(4, Priority::Attention),
            event(5, Priority::Urgent),
        ];
        sort_for_display(&mut events);
        let order: Vec<i64> = events.iter().map(|event| event.id).collect();
        assert_eq!(order, vec![5, 2, 4, 3, 1]);
    }
}
