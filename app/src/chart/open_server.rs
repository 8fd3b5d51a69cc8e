//! Server side of opening a chart: one connection, one authorization of every category the
//! user's roles may read, and one transaction for the reads and their audit events, which are
//! appended together.

use diesel_async::AsyncPgConnection;

use crate::access::guard::authorize_categories;
use crate::access::{Action, Actor, Authorization, DataCategory, PermissionTable, settings};
use crate::audit;
use crate::chart::open::{
    ALERT_CATEGORIES, NOTE_CATEGORIES, OpenedChart, Section, TASK_CATEGORIES,
};
use crate::chart::{CategoryPermission, PatientSummary, readings_server};
use crate::error::{AppError, ErrorCode};
use crate::identity::Role;
use crate::ids::PatientId;
use crate::records::{self, Classification, ObservationKind, PatientField, RecordKeys};
use crate::services::Services;

/// Lists what the staff roles among `roles` may do with each data category under `table`. A
/// patient's own-record permissions do not open the clinician chart.
pub fn category_permissions(table: &PermissionTable, roles: &[Role]) -> Vec<CategoryPermission> {
    let staff_roles: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|role| *role != Role::Patient)
        .collect();
    DataCategory::ALL
        .into_iter()
        .map(|category| CategoryPermission {
            category,
            actions: Action::ALL
                .into_iter()
                .filter(|action| {
                    staff_roles
                        .iter()
                        .any(|role| table.allows(*role, category, *action))
                })
                .collect(),
        })
        .collect()
}

/// Reads the patient's name and date of birth for the chart header.
pub async fn summary(
    conn: &mut AsyncPgConnection,
    services: &Services,
    authorization: &Authorization,
) -> Result<PatientSummary, AppError> {
    let fields = [PatientField::FullName, PatientField::DateOfBirth];
    let keys = RecordKeys::from_services(services);
    let identity = records::read_patient_identity(conn, keys, authorization, &fields).await?;
    Ok(PatientSummary {
        patient_id: authorization.patient(),
        full_name: identity.full_name.unwrap_or_default(),
        date_of_birth: identity
            .date_of_birth
            .map(|date| date.to_string())
            .unwrap_or_default(),
    })
}

/// The authorizations of one chart, by category.
struct Granted(Vec<(DataCategory, Option<Authorization>)>);

impl Granted {
    /// Returns the authorization for `category`: `Ok(None)` when the user's roles may not read
    /// it, and `Err` with the message to show when the policy denied it for this patient.
    fn of(&self, category: DataCategory) -> Result<Option<&Authorization>, String> {
        match self.0.iter().find(|(granted, _)| *granted == category) {
            None => Ok(None),
            Some((_, Some(authorization))) => Ok(Some(authorization)),
            Some((_, None)) => Err(AppError::not_found().message),
        }
    }
}

/// Reads one section under the authorization for `category`. A refusal of the policy, now or
/// from the record store, becomes a refused section; any other error fails the whole chart.
async fn section<'a, T, F, Fu>(
    granted: &'a Granted,
    category: DataCategory,
    read: F,
) -> Result<Section<T>, AppError>
where
    F: FnOnce(&'a Authorization) -> Fu,
    Fu: Future<Output = Result<T, AppError>>,
{
    let authorization = match granted.of(category) {
        Ok(Some(authorization)) => authorization,
        Ok(None) => return Ok(Section::NotForRole),
        Err(message) => return Ok(Section::Refused(message)),
    };
    match read(authorization).await {
        Ok(value) => Ok(Section::Shown(value)),
        Err(error) if error.code == ErrorCode::NotFound => Ok(Section::Refused(error.message)),
        Err(error) => Err(error),
    }
}

/// Reads the sections of several categories with one call of `read`, which gets `conn` and the
/// authorizations of the categories that may be read now and returns one value for each, in
/// their order. When the record store answers "not found", every section of that call shows
/// the refusal.
async fn sections<'a, 'c, T, F, Fu>(
    conn: &'c mut AsyncPgConnection,
    granted: &'a Granted,
    categories: &[DataCategory],
    read: F,
) -> Result<Vec<(DataCategory, Section<T>)>, AppError>
where
    F: FnOnce(&'c mut AsyncPgConnection, Vec<&'a Authorization>) -> Fu,
    Fu: Future<Output = Result<Vec<T>, AppError>>,
{
    let mut slots: Vec<(DataCategory, Option<Section<T>>)> = Vec::with_capacity(categories.len());
    let mut authorized = Vec::with_capacity(categories.len());
    for category in categories {
        let slot = match granted.of(*category) {
            Ok(Some(authorization)) => {
                authorized.push(authorization);
                None
            }
            Ok(None) => Some(Section::NotForRole),
            Err(message) => Some(Section::Refused(message)),
        };
        slots.push((*category, slot));
    }
    if authorized.is_empty() {
        return Ok(slots
            .into_iter()
            .map(|(category, slot)| (category, slot.unwrap_or(Section::NotForRole)))
            .collect());
    }
    let count = authorized.len();
    let read: Vec<Section<T>> = match read(conn, authorized).await {
        Ok(values) if values.len() == count => values.into_iter().map(Section::Shown).collect(),
        Ok(_) => {
            tracing::error!("a chart read returned a list per category of another length");
            return Err(AppError::internal());
        }
        Err(error) if error.code == ErrorCode::NotFound => (0..count)
            .map(|_| Section::Refused(error.message.clone()))
            .collect(),
        Err(error) => return Err(error),
    };
    let mut read = read.into_iter();
    Ok(slots
        .into_iter()
        .map(|(category, slot)| {
            let section = slot.or_else(|| read.next()).unwrap_or(Section::NotForRole);
            (category, section)
        })
        .collect())
}

/// The categories whose observations the chart shows, in the order of its sections: vital
/// signs, screenings and infants.
const OBSERVED_CATEGORIES: [DataCategory; 3] = [
    DataCategory::Maternal,
    DataCategory::MentalHealth,
    DataCategory::Infant,
];

/// Returns the observation kinds the chart shows of `category`.
fn observed_kinds(category: DataCategory) -> &'static [ObservationKind] {
    match category {
        DataCategory::Maternal => &readings_server::VITAL_KINDS,
        DataCategory::MentalHealth => &readings_server::SCREENING_KINDS,
        _ => &readings_server::INFANT_KINDS,
    }
}

/// Opens the chart of `patient` as `actor` for `purpose`.
pub async fn open(
    services: &Services,
    actor: &Actor,
    patient: PatientId,
    purpose: String,
) -> Result<OpenedChart, AppError> {
    let purpose = purpose.trim().to_owned();
    let mut conn = crate::db::connection(&services.pool).await?;
    let table = settings::permission_table(&mut conn, actor.clinic).await?;
    let permissions = category_permissions(&table, &actor.roles);
    let readable: Vec<DataCategory> = DataCategory::ALL
        .into_iter()
        .filter(|category| crate::chart::open::allows(&permissions, *category, Action::Read))
        .collect();
    let authorizations = authorize_categories(
        &mut conn,
        actor,
        patient,
        &readable,
        Action::Read,
        &purpose,
        &table,
    )
    .await?;
    let granted = Granted(readable.into_iter().zip(authorizations).collect());

    // Each section's read records its access event, and the events are appended together
    // before the transaction commits. The patient's data key is unwrapped once for all of them.
    let chart = crate::db::in_transaction::<_, _, AppError>(&mut conn, async |conn| {
        let reads = read_sections(
            conn,
            services,
            actor,
            &granted,
            patient,
            purpose,
            permissions,
        );
        let (chart, events) = audit::collecting(records::remembering_keys(reads)).await;
        let chart = chart?;
        audit::record_accesses(conn, events).await?;
        Ok(chart)
    })
    .await?;
    if chart.shows_anything() {
        Ok(chart)
    } else {
        Err(AppError::not_found())
    }
}

/// Reads every section of the chart on `conn`, inside the caller's transaction.
async fn read_sections(
    conn: &mut AsyncPgConnection,
    services: &Services,
    actor: &Actor,
    granted: &Granted,
    patient: PatientId,
    purpose: String,
    permissions: Vec<CategoryPermission>,
) -> Result<OpenedChart, AppError> {
    use super::{care_server, schedule_server, server};

    let keys = RecordKeys::from_services(services);
    let thresholds = &readings_server::thresholds(conn, actor.clinic).await?;
    let summary = section(granted, DataCategory::Contact, |authorization| {
        summary(conn, services, authorization)
    })
    .await?;
    let entries = section(granted, DataCategory::Maternal, async |authorization| {
        let entries =
            records::list_clinical_entries(conn, keys, authorization, Classification::Maternal)
                .await?;
        Ok(entries.into_iter().map(server::entry_view).collect())
    })
    .await?;
    // The vital signs', screenings' and infants' observations come with one query, each
    // category under its own authorization.
    let observed = sections(
        conn,
        granted,
        &OBSERVED_CATEGORIES,
        |conn, authorizations| async move {
            let reads: Vec<(&Authorization, &[ObservationKind])> = authorizations
                .into_iter()
                .map(|authorization| (authorization, observed_kinds(authorization.category())))
                .collect();
            Ok(records::list_observations_by_category(conn, keys, &reads).await?)
        },
    )
    .await?;
    let mut observed = observed.into_iter().map(|(_, section)| section);
    let (Some(maternal), Some(mental_health), Some(infant)) =
        (observed.next(), observed.next(), observed.next())
    else {
        tracing::error!("the chart's observation read returned fewer sections than categories");
        return Err(AppError::internal());
    };
    let vitals = maternal.try_map(|found| readings_server::vital_readings(found, thresholds))?;
    let screenings =
        mental_health.try_map(|found| readings_server::screening_scores(&found, thresholds))?;
    let infants = match infant {
        Section::Shown(found) => {
            section(granted, DataCategory::Infant, |authorization| {
                readings_server::infants_with(conn, services, authorization, &found)
            })
            .await?
        }
        Section::NotForRole => Section::NotForRole,
        Section::Refused(message) => Section::Refused(message),
    };
    let schedule = section(granted, DataCategory::CareLogistics, |authorization| {
        schedule_server::schedule(conn, services, authorization)
    })
    .await?;

    let notes = sections(
        conn,
        granted,
        &NOTE_CATEGORIES,
        |conn, authorizations| async move {
            let mut reads = Vec::with_capacity(authorizations.len());
            for authorization in authorizations {
                reads.push((
                    authorization,
                    server::classification(authorization.category())?,
                ));
            }
            let lists = records::list_notes_by_classification(conn, keys, &reads).await?;
            Ok(lists
                .into_iter()
                .map(|notes| notes.into_iter().map(server::note_view).collect())
                .collect())
        },
    )
    .await?;
    let tasks = sections(
        conn,
        granted,
        &TASK_CATEGORIES,
        |conn, authorizations| async move {
            care_server::tasks_by_category(conn, services, actor, &authorizations).await
        },
    )
    .await?;
    let alerts = sections(
        conn,
        granted,
        &ALERT_CATEGORIES,
        |conn, authorizations| async move {
            care_server::alerts_by_category(conn, actor, &authorizations).await
        },
    )
    .await?;

    Ok(OpenedChart {
        patient_id: patient,
        purpose,
        permissions,
        summary,
        entries,
        vitals,
        screenings,
        infants,
        notes,
        tasks,
        alerts,
        schedule,
    })
}
