//! Observations: maternal vital signs, infant growth, feeding and nappies, and screening
//! questionnaires. Each value is stored encrypted as JSON with its units as entered and
//! normalised (mmHg, °C, kg, cm).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::RecordsError;
use super::access::{self, AccessContext, PatientKey, RecordKeys, version_from_db, version_to_db};
use super::infants::ensure_infant_of;
use super::schema::observations;
use crate::audit::AccessAction;
use crate::clinical::growth::{HEAD_CIRCUMFERENCE_RANGE_CM, LENGTH_RANGE_CM};
use crate::clinical::screening::{EpdsThresholds, score_epds, score_gad7, score_phq9};
use crate::clinical::units::{Entered, LengthUnit, MassUnit, TemperatureUnit};
use crate::clinical::vitals::{
    BloodPressureReading, BloodPressureThresholds, TemperatureThresholds, assess_blood_pressure,
    assess_temperature,
};
use crate::crypto::DataClass;
use crate::ids::{ClinicId, InfantId, PatientId, UserId};

const TABLE: &str = "observations";
const COLUMN: &str = "value_ciphertext";
/// Plausible body weight in kg of a mother or an infant.
const WEIGHT_RANGE_KG: (f64, f64) = (0.2, 300.0);
/// Longest feed or expression session that is plausible, in minutes.
const MAX_FEEDING_MINUTES: u16 = 240;
/// Largest plausible single feed, in ml.
const MAX_FEEDING_ML: u16 = 500;

macro_rules! observation_kinds {
    ($($variant:ident => $text:literal,)+) => {
        /// Kind of observation, stored unencrypted so that lists can filter by it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ObservationKind {
            $($variant),+
        }

        impl ObservationKind {
            pub const ALL: &'static [ObservationKind] = &[$(ObservationKind::$variant),+];

            /// Value stored in `observations.kind`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ObservationKind::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(ObservationKind::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

observation_kinds! {
    BloodPressure => "blood_pressure",
    Temperature => "temperature",
    Weight => "weight",
    Length => "length",
    HeadCircumference => "head_circumference",
    Feeding => "feeding",
    Nappy => "nappy",
    Epds => "epds",
    Phq9 => "phq9",
    Gad7 => "gad7",
}

/// Method of one infant feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedingMethod {
    Breast,
    ExpressedBreastMilk,
    Formula,
}

/// A typed observation value. Build one with the constructors, which compute the normalised
/// values; [`add_observation`] recomputes them from the entered values before storing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObservationValue {
    BloodPressure {
        reading: BloodPressureReading,
        systolic_mmhg: f64,
        diastolic_mmhg: f64,
    },
    Temperature {
        entered: Entered<TemperatureUnit>,
        celsius: f64,
    },
    Weight {
        entered: Entered<MassUnit>,
        kilograms: f64,
    },
    Length {
        entered: Entered<LengthUnit>,
        centimetres: f64,
    },
    HeadCircumference {
        entered: Entered<LengthUnit>,
        centimetres: f64,
    },
    Feeding {
        method: FeedingMethod,
        duration_minutes: Option<u16>,
        volume_ml: Option<u16>,
    },
    Nappy {
        wet: bool,
        dirty: bool,
    },
    /// Answer positions as printed on the form, and the total when every item is answered.
    Epds {
        answers: Vec<Option<u8>>,
        total: Option<u8>,
    },
    Phq9 {
        answers: Vec<Option<u8>>,
        total: Option<u8>,
    },
    Gad7 {
        answers: Vec<Option<u8>>,
        total: Option<u8>,
    },
}

impl ObservationValue {
    pub fn blood_pressure(reading: BloodPressureReading) -> Result<Self, RecordsError> {
        Self::BloodPressure {
            reading,
            systolic_mmhg: 0.0,
            diastolic_mmhg: 0.0,
        }
        .normalized()
    }

    pub fn temperature(entered: Entered<TemperatureUnit>) -> Result<Self, RecordsError> {
        Self::Temperature {
            entered,
            celsius: 0.0,
        }
        .normalized()
    }

    pub fn weight(entered: Entered<MassUnit>) -> Result<Self, RecordsError> {
        Self::Weight {
            entered,
            kilograms: 0.0,
        }
        .normalized()
    }

    pub fn length(entered: Entered<LengthUnit>) -> Result<Self, RecordsError> {
        Self::Length {
            entered,
            centimetres: 0.0,
        }
        .normalized()
    }

    pub fn head_circumference(entered: Entered<LengthUnit>) -> Result<Self, RecordsError> {
        Self::HeadCircumference {
            entered,
            centimetres: 0.0,
        }
        .normalized()
    }

    /// An EPDS form: one answer position per item, `None` for an unanswered item.
    pub fn epds(answers: Vec<Option<u8>>) -> Result<Self, RecordsError> {
        Self::Epds {
            answers,
            total: None,
        }
        .normalized()
    }

    pub fn phq9(answers: Vec<Option<u8>>) -> Result<Self, RecordsError> {
        Self::Phq9 {
            answers,
            total: None,
        }
        .normalized()
    }

    pub fn gad7(answers: Vec<Option<u8>>) -> Result<Self, RecordsError> {
        Self::Gad7 {
            answers,
            total: None,
        }
        .normalized()
    }

    pub fn kind(&self) -> ObservationKind {
        match self {
            Self::BloodPressure { .. } => ObservationKind::BloodPressure,
            Self::Temperature { .. } => ObservationKind::Temperature,
            Self::Weight { .. } => ObservationKind::Weight,
            Self::Length { .. } => ObservationKind::Length,
            Self::HeadCircumference { .. } => ObservationKind::HeadCircumference,
            Self::Feeding { .. } => ObservationKind::Feeding,
            Self::Nappy { .. } => ObservationKind::Nappy,
            Self::Epds { .. } => ObservationKind::Epds,
            Self::Phq9 { .. } => ObservationKind::Phq9,
            Self::Gad7 { .. } => ObservationKind::Gad7,
        }
    }

    /// Validates the entered values and recomputes the normalised ones from them.
    pub fn normalized(self) -> Result<Self, RecordsError> {
        let invalid = |error: &dyn std::fmt::Display| RecordsError::InvalidInput(error.to_string());
        Ok(match self {
            Self::BloodPressure { reading, .. } => {
                let assessed = assess_blood_pressure(reading, &BloodPressureThresholds::default())
                    .map_err(|error| invalid(&error))?;
                Self::BloodPressure {
                    reading,
                    systolic_mmhg: assessed.systolic_mmhg,
                    diastolic_mmhg: assessed.diastolic_mmhg,
                }
            }
            Self::Temperature { entered, .. } => {
                let assessed = assess_temperature(entered, &TemperatureThresholds::default())
                    .map_err(|error| invalid(&error))?;
                Self::Temperature {
                    entered,
                    celsius: assessed.celsius,
                }
            }
            Self::Weight { entered, .. } => Self::Weight {
                entered,
                kilograms: within(entered.to_kilograms(), WEIGHT_RANGE_KG, "weight", "kg")?,
            },
            Self::Length { entered, .. } => Self::Length {
                entered,
                centimetres: within(entered.to_centimetres(), LENGTH_RANGE_CM, "length", "cm")?,
            },
            Self::HeadCircumference { entered, .. } => Self::HeadCircumference {
                entered,
                centimetres: within(
                    entered.to_centimetres(),
                    HEAD_CIRCUMFERENCE_RANGE_CM,
                    "head circumference",
                    "cm",
                )?,
            },
            Self::Feeding {
                method,
                duration_minutes,
                volume_ml,
            } => {
                if duration_minutes.is_some_and(|minutes| minutes > MAX_FEEDING_MINUTES)
                    || volume_ml.is_some_and(|ml| ml > MAX_FEEDING_ML)
                {
                    return Err(RecordsError::InvalidInput(format!(
                        "a feed lasts at most {MAX_FEEDING_MINUTES} minutes and {MAX_FEEDING_ML} ml"
                    )));
                }
                Self::Feeding {
                    method,
                    duration_minutes,
                    volume_ml,
                }
            }
            nappy @ Self::Nappy { .. } => nappy,
            Self::Epds { answers, .. } => {
                let scored = score_epds(&answers, EpdsThresholds::default())
                    .map_err(|error| invalid(&error))?;
                let total = scored.result.total;
                Self::Epds { answers, total }
            }
            Self::Phq9 { answers, .. } => {
                let total = score_phq9(&answers).map_err(|error| invalid(&error))?.total;
                Self::Phq9 { answers, total }
            }
            Self::Gad7 { answers, .. } => {
                let total = score_gad7(&answers).map_err(|error| invalid(&error))?.total;
                Self::Gad7 { answers, total }
            }
        })
    }
}

fn within(
    value: f64,
    (low, high): (f64, f64),
    name: &str,
    unit: &str,
) -> Result<f64, RecordsError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(RecordsError::InvalidInput(format!(
            "{name} must be {low} to {high} {unit}; check the value and its unit"
        )))
    }
}

/// Data class of an observation: screening questionnaires are mental health, anything about an
/// infant is infant data, and the rest is maternal.
fn data_class(kind: ObservationKind, infant: bool) -> DataClass {
    match kind {
        ObservationKind::Epds | ObservationKind::Phq9 | ObservationKind::Gad7 => {
            DataClass::MentalHealth
        }
        _ if infant => DataClass::Infant,
        _ => DataClass::Maternal,
    }
}

/// A new observation of the patient or, with `infant_id`, of one of her infants.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObservation {
    pub infant_id: Option<InfantId>,
    pub observed_at: DateTime<Utc>,
    pub value: ObservationValue,
}

/// A stored observation with its decrypted value.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub id: uuid::Uuid,
    pub patient_id: PatientId,
    pub infant_id: Option<InfantId>,
    pub observed_at: DateTime<Utc>,
    pub author: UserId,
    pub value: ObservationValue,
}

#[derive(Insertable)]
#[diesel(table_name = observations)]
pub(super) struct ObservationRow {
    id: uuid::Uuid,
    clinic_id: uuid::Uuid,
    patient_id: uuid::Uuid,
    infant_id: Option<uuid::Uuid>,
    kind: &'static str,
    observed_at: DateTime<Utc>,
    author_user_id: uuid::Uuid,
    data_key_version: i32,
    value_ciphertext: Vec<u8>,
}

/// Checks that the kind fits the subject: growth, feeding and nappies are about an infant, and
/// blood pressure and screening questionnaires about the mother.
fn check_subject(kind: ObservationKind, infant: bool) -> Result<(), RecordsError> {
    use ObservationKind::*;
    match kind {
        Length | HeadCircumference | Feeding | Nappy if !infant => Err(RecordsError::InvalidInput(
            format!("a {} observation needs an infant", kind.as_str()),
        )),
        BloodPressure | Epds | Phq9 | Gad7 if infant => Err(RecordsError::InvalidInput(format!(
            "a {} observation is about the mother, not an infant",
            kind.as_str()
        ))),
        _ => Ok(()),
    }
}

/// Validates, normalises and encrypts an observation written by `author`.
pub(super) fn encrypt_observation(
    key: &PatientKey,
    clinic_id: ClinicId,
    author: UserId,
    new: &NewObservation,
) -> Result<ObservationRow, RecordsError> {
    let value = new.value.clone().normalized()?;
    let kind = value.kind();
    check_subject(kind, new.infant_id.is_some())?;

    let id = uuid::Uuid::new_v4();
    let context = key.context(TABLE, COLUMN, id, data_class(kind, new.infant_id.is_some()));
    Ok(ObservationRow {
        id,
        clinic_id: clinic_id.0,
        patient_id: key.patient_id.0,
        infant_id: new.infant_id.map(|infant| infant.0),
        kind: kind.as_str(),
        observed_at: new.observed_at,
        author_user_id: author.0,
        data_key_version: version_to_db(key.version)?,
        value_ciphertext: key.encrypt_json(&context, &value)?,
    })
}

pub(super) async fn insert_observations(
    conn: &mut AsyncPgConnection,
    rows: &[ObservationRow],
) -> Result<(), RecordsError> {
    // Nine parameters per row keep 5,000 rows below PostgreSQL's 65,535 parameter limit.
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(observations::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

fn element(kind: ObservationKind) -> String {
    format!("observation.{}", kind.as_str())
}

/// Records an observation of a patient, or of her infant, authored by the caller.
pub async fn add_observation(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    patient_id: PatientId,
    new: &NewObservation,
) -> Result<uuid::Uuid, RecordsError> {
    access.validate()?;

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        if let Some(infant_id) = new.infant_id {
            ensure_infant_of(conn, access.clinic_id, patient_id, infant_id).await?;
        }
        let row = encrypt_observation(&key, access.clinic_id, access.actor, new)?;
        let id = row.id;
        let elements = vec![element(new.value.kind())];
        insert_observations(conn, &[row]).await?;

        access::record(conn, access, patient_id, AccessAction::Write, elements).await?;
        Ok(id)
    })
    .await
}

/// Lists a patient's observations of the given kinds, including her infants', oldest first.
pub async fn list_observations(
    conn: &mut AsyncPgConnection,
    keys: RecordKeys<'_>,
    access: &AccessContext,
    patient_id: PatientId,
    kinds: &[ObservationKind],
) -> Result<Vec<Observation>, RecordsError> {
    access.validate()?;
    if kinds.is_empty() {
        return Err(RecordsError::InvalidInput(
            "request at least one observation kind".to_owned(),
        ));
    }
    let names: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();

    conn.transaction::<_, RecordsError, _>(async move |conn| {
        let key = access::patient_key(conn, keys.provider, access.clinic_id, patient_id).await?;
        type Row = (
            uuid::Uuid,
            Option<uuid::Uuid>,
            String,
            DateTime<Utc>,
            uuid::Uuid,
            i32,
            Vec<u8>,
        );
        let rows: Vec<Row> = observations::table
            .filter(observations::clinic_id.eq(access.clinic_id.0))
            .filter(observations::patient_id.eq(patient_id.0))
            .filter(observations::kind.eq_any(&names))
            .order((observations::observed_at, observations::id))
            .select((
                observations::id,
                observations::infant_id,
                observations::kind,
                observations::observed_at,
                observations::author_user_id,
                observations::data_key_version,
                observations::value_ciphertext,
            ))
            .load(conn)
            .await?;

        let mut found = Vec::with_capacity(rows.len());
        for (id, infant_id, kind, observed_at, author, version, ciphertext) in rows {
            let kind = ObservationKind::parse(&kind).ok_or(RecordsError::CorruptValue {
                table: TABLE,
                column: "kind",
                row_id: id,
            })?;
            let mut context = key.context(TABLE, COLUMN, id, data_class(kind, infant_id.is_some()));
            context.data_key_version = version_from_db(version);
            found.push(Observation {
                id,
                patient_id,
                infant_id: infant_id.map(InfantId),
                observed_at,
                author: UserId(author),
                value: key.decrypt_json(&context, &ciphertext)?,
            });
        }

        let elements = kinds.iter().map(|kind| element(*kind)).collect();
        access::record(conn, access, patient_id, AccessAction::Read, elements).await?;
        Ok(found)
    })
    .await
}
