//! Security alerts that a clinic's admins must see: possible cloned passkeys and repeated
//! failed sign-ins.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Int8, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppError;
use crate::identity::SecurityAlert;
use crate::identity::api::support::timestamp;
use crate::identity::server::accounts::{self, internal};
use crate::ids::{ClinicId, UserId};
use crate::services::Services;

/// Failed sign-ins of one account within a day that raise an alert.
const FAILED_SIGN_IN_THRESHOLD: i64 = 5;

/// Counter regressions of the last 30 days and accounts with repeated failed sign-ins in the
/// last 24 hours, newest first.
pub async fn recent(
    services: &Services,
    connection: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<Vec<SecurityAlert>, AppError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Nullable<SqlUuid>)]
        subject_user_id: Option<uuid::Uuid>,
        #[diesel(sql_type = Timestamptz)]
        occurred_at: DateTime<Utc>,
        #[diesel(sql_type = Int8)]
        occurrences: i64,
        #[diesel(sql_type = Jsonb)]
        detail: serde_json::Value,
    }

    let rows: Vec<Row> = diesel::sql_query(
        "SELECT kind, subject_user_id, occurred_at, 1::int8 AS occurrences, detail \
           FROM security_events \
          WHERE clinic_id = $1 AND kind = 'counter_regression' \
            AND occurred_at > now() - interval '30 days' \
         UNION ALL \
         SELECT 'sign_in_failed', subject_user_id, max(occurred_at), count(*), '{}'::jsonb \
           FROM security_events \
          WHERE clinic_id = $1 AND kind = 'sign_in_failed' \
            AND occurred_at > now() - interval '1 day' \
          GROUP BY subject_user_id HAVING count(*) >= $2 \
         ORDER BY occurred_at DESC LIMIT 50",
    )
    .bind::<SqlUuid, _>(clinic_id.0)
    .bind::<Int8, _>(FAILED_SIGN_IN_THRESHOLD)
    .load(connection)
    .await
    .map_err(internal)?;

    let mut alerts = Vec::with_capacity(rows.len());
    for row in rows {
        let subject = match row.subject_user_id {
            Some(id) => {
                accounts::load_profile(connection, services.keys.as_ref(), UserId(id))
                    .await?
                    .display_name
            }
            None => "Unknown account".to_owned(),
        };
        let message = if row.kind == "counter_regression" {
            format!(
                "A passkey of {subject} reported a signature counter of {} after {}: it may have been copied. The sign-in was refused; review the account and remove the passkey if needed.",
                row.detail["received_counter"], row.detail["stored_counter"]
            )
        } else {
            format!(
                "{} failed sign-ins for {subject} in the last 24 hours.",
                row.occurrences
            )
        };
        alerts.push(SecurityAlert {
            kind: row.kind,
            message,
            occurred_at: timestamp(row.occurred_at),
        });
    }
    Ok(alerts)
}
