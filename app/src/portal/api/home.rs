//! The portal home and the patient's infants.

use leptos::prelude::*;

use crate::error::AppError;
use crate::ids::InfantId;
use crate::portal::{InfantSex, InfantSummary, PortalHome};

/// Days after which the portal suggests a new EPDS check-in. This is the product's own
/// reminder interval, not a clinical screening schedule: the care team decides on follow-up.
pub const EPDS_CHECK_IN_INTERVAL_DAYS: i64 = 14;

/// Loads the signed-in patient's home: her current care team, her next appointments, what is
/// waiting for her, her infants and her weeks since delivery.
#[server(prefix = "/api", endpoint = "portal/home")]
pub async fn load_portal_home() -> Result<PortalHome, AppError> {
    use diesel_async::AsyncConnection;

    use crate::access::guard::authorize_categories;
    use crate::access::{Action, DataCategory, settings};
    use crate::chart::PORTAL_PURPOSE;
    use crate::portal::server;
    use crate::records::RecordKeys;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    // The three categories are authorized together, and the reads and their audit events
    // commit in one transaction. The home needs all three, so any denial refuses it.
    let table = settings::permission_table(&mut conn, actor.clinic).await?;
    let categories = [
        DataCategory::CareLogistics,
        DataCategory::MentalHealth,
        DataCategory::Infant,
    ];
    let granted = authorize_categories(
        &mut conn,
        &actor,
        patient,
        &categories,
        Action::Read,
        PORTAL_PURPOSE,
        &table,
    )
    .await?;
    let [Some(logistics), Some(mental_health), Some(infant_data)] =
        <[_; 3]>::try_from(granted).map_err(|_| AppError::internal())?
    else {
        return Err(AppError::not_found());
    };

    let keys = RecordKeys::from_services(&services);
    let mut names = server::StaffNames::new(&services);
    let clinic = actor.clinic;
    let authorizations = [&logistics, &mental_health, &infant_data];
    conn.transaction::<_, AppError, _>(async |conn| {
        let reads = home_server::read_home(conn, keys, &mut names, authorizations, clinic);
        let (home, events) =
            crate::audit::collecting(crate::records::remembering_keys(reads)).await;
        let home = home?;
        crate::audit::record_accesses(conn, events).await?;
        Ok(home)
    })
    .await
}

/// Lists the signed-in patient's infants.
#[server(prefix = "/api", endpoint = "portal/infants")]
pub async fn my_infants() -> Result<Vec<InfantSummary>, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::portal::server;
    use crate::records::RecordKeys;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Infant,
        Action::Read,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    let infants = server::infants(&mut conn, keys, &authorization).await?;
    Ok(infants.iter().map(server::infant_summary).collect())
}

/// Adds the signed-in patient's baby to her record, so that she can log feeds and growth.
/// `birth_date` is an ISO 8601 date; `birth_weight_grams` is the weight in grams.
#[server(prefix = "/api", endpoint = "portal/infants/add")]
pub async fn add_my_infant(
    name: String,
    birth_date: String,
    birth_weight_grams: f64,
    sex: InfantSex,
) -> Result<InfantId, AppError> {
    use crate::access::{Action, DataCategory};
    use crate::clinical::growth::{MAX_AGE_DAYS, Sex};
    use crate::clinical::units::{Entered, MassUnit};
    use crate::portal::server;
    use crate::records::{self, NewInfant, RecordKeys};

    let (services, actor) = server::begin().await?;
    let birth_date: chrono::NaiveDate = birth_date.trim().parse().map_err(|_| {
        AppError::invalid_input("Enter the date of birth as a date, such as 2026-11-20.")
    })?;
    let today = chrono::Utc::now().date_naive();
    if birth_date > today {
        return Err(AppError::invalid_input(
            "The date of birth is in the future. Check the date.",
        ));
    }
    if (today - birth_date).num_days() > i64::from(MAX_AGE_DAYS) {
        return Err(AppError::invalid_input(
            "The portal's growth charts cover children up to 5 years old. Check the date.",
        ));
    }
    let new = NewInfant {
        name,
        birth_date,
        birth_weight: Entered::new(birth_weight_grams, MassUnit::Grams),
        sex: match sex {
            InfantSex::Female => Sex::Female,
            InfantSex::Male => Sex::Male,
        },
    };
    let mut conn = crate::db::connection(&services.pool).await?;
    let patient = server::own_patient(&mut conn, &actor).await?;
    let authorization = server::authorize_own(
        &mut conn,
        &actor,
        patient,
        DataCategory::Infant,
        Action::Write,
    )
    .await?;

    let keys = RecordKeys::from_services(&services);
    Ok(records::add_infant(&mut conn, keys, &authorization, &new).await?)
}

#[cfg(feature = "ssr")]
mod home_server {
    use chrono::{Duration, Utc};
    use diesel_async::AsyncPgConnection;

    use super::EPDS_CHECK_IN_INTERVAL_DAYS;
    use crate::access::Authorization;
    use crate::clinical::screening::Instrument;
    use crate::error::AppError;
    use crate::identity::support::timestamp;
    use crate::ids::ClinicId;
    use crate::portal::server::{self, StaffNames, appointment_purpose};
    use crate::portal::{
        AwaitingItem, CareTeamContact, InfantSummary, PortalHome, UpcomingAppointment, assignments,
    };
    use crate::records::{self, AppointmentStatus, ObservationKind, RecordKeys};

    /// Appointments shown on the home page.
    const UPCOMING_SHOWN: usize = 3;

    /// Reads the portal home inside the caller's transaction, under the authorizations of care
    /// logistics, mental health and infant data, in that order.
    pub async fn read_home(
        conn: &mut AsyncPgConnection,
        keys: RecordKeys<'_>,
        names: &mut StaffNames<'_>,
        [logistics, mental_health, infant_data]: [&Authorization; 3],
        clinic: ClinicId,
    ) -> Result<PortalHome, AppError> {
        let care_team = care_team(conn, names, logistics).await?;
        let appointments = upcoming(conn, names, logistics).await?;
        let infants = server::infants(conn, keys, infant_data).await?;
        let awaiting =
            awaiting(conn, keys, names, mental_health, clinic, infants.is_empty()).await?;

        let infants: Vec<InfantSummary> = infants.iter().map(server::infant_summary).collect();
        let weeks_postpartum = infants.iter().map(|infant| infant.age_days / 7).min();
        Ok(PortalHome {
            care_team,
            appointments,
            awaiting,
            infants,
            weeks_postpartum,
        })
    }

    /// Returns the members of her care team now, in the order they joined.
    pub async fn care_team(
        conn: &mut AsyncPgConnection,
        names: &mut StaffNames<'_>,
        authorization: &Authorization,
    ) -> Result<Vec<CareTeamContact>, AppError> {
        let now = Utc::now();
        let members = records::list_care_team(conn, authorization).await?;
        let mut contacts = Vec::new();
        for member in members {
            let current =
                member.starts_at <= now && member.ends_at.is_none_or(|ends_at| now < ends_at);
            if current {
                contacts.push(CareTeamContact {
                    name: names.of(conn, member.provider).await?,
                    role: member.role,
                });
            }
        }
        Ok(contacts)
    }

    /// Returns her next scheduled appointments, soonest first.
    pub async fn upcoming(
        conn: &mut AsyncPgConnection,
        names: &mut StaffNames<'_>,
        authorization: &Authorization,
    ) -> Result<Vec<UpcomingAppointment>, AppError> {
        let now = Utc::now();
        let appointments = records::list_appointments(conn, authorization).await?;
        let mut upcoming = Vec::new();
        for appointment in appointments
            .into_iter()
            .filter(|item| item.starts_at > now && item.status == AppointmentStatus::Scheduled)
            .take(UPCOMING_SHOWN)
        {
            upcoming.push(UpcomingAppointment {
                starts_at: timestamp(appointment.starts_at),
                purpose: appointment_purpose(appointment.kind).to_owned(),
                clinician_name: names.of(conn, appointment.clinician).await?,
            });
        }
        Ok(upcoming)
    }

    /// Returns what waits for her: assigned questionnaires, an EPDS check-in when none was
    /// submitted within the interval, and adding her baby when her record has no infant.
    pub async fn awaiting(
        conn: &mut AsyncPgConnection,
        keys: RecordKeys<'_>,
        names: &mut StaffNames<'_>,
        authorization: &Authorization,
        clinic: ClinicId,
        no_infant: bool,
    ) -> Result<Vec<AwaitingItem>, AppError> {
        let mut items = Vec::new();
        if no_infant {
            items.push(AwaitingItem::AddInfant);
        }
        let open = assignments::list_open(conn, authorization, clinic).await?;
        let epds_assigned = open.iter().any(|open| open.instrument == Instrument::Epds);
        for assignment in open {
            items.push(AwaitingItem::AssignedScreening {
                instrument: assignment.instrument,
                assigned_by: names.of(conn, assignment.assigned_by).await?,
            });
        }

        let screens =
            records::list_observations(conn, keys, authorization, &[ObservationKind::Epds]).await?;
        let since = Utc::now() - Duration::days(EPDS_CHECK_IN_INTERVAL_DAYS);
        let recent = screens.iter().any(|screen| screen.observed_at >= since);
        if !recent && !epds_assigned {
            items.push(AwaitingItem::EpdsDue);
        }
        Ok(items)
    }
}
