//! Clinics, user accounts and role assignments.
//!
//! A user's display name and email are encrypted under a data key of her own, wrapped by the
//! key-encryption key, so that they are unreadable in the database and in backups.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::crypto::{DataClass, DataKey, FieldContext, KeyProvider, WrappedDataKey};
use crate::error::AppError;
use crate::identity::Role;
use crate::identity::server::email::{BlindIndexKey, email_index};
use crate::ids::{ClinicId, PatientId, UserId};
use crate::schema::{clinics, role_assignments, sessions, users};

/// Lifecycle of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Created by an invitation; no passkey yet.
    Invited,
    Active,
    /// Cannot sign in; every session was ended when this was set.
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }

    pub fn parse(value: &str) -> Self {
        match value {
            "active" => UserStatus::Active,
            "deactivated" => UserStatus::Deactivated,
            _ => UserStatus::Invited,
        }
    }
}

/// Finds a clinic by its slug, creating it with `name` if missing.
pub async fn ensure_clinic(
    connection: &mut AsyncPgConnection,
    slug: &str,
    name: &str,
) -> Result<ClinicId, diesel::result::Error> {
    diesel::insert_into(clinics::table)
        .values((clinics::slug.eq(slug), clinics::name.eq(name)))
        .on_conflict(clinics::slug)
        .do_nothing()
        .execute(connection)
        .await?;
    clinics::table
        .filter(clinics::slug.eq(slug))
        .select(clinics::id)
        .first::<uuid::Uuid>(connection)
        .await
        .map(ClinicId)
}

pub async fn clinic_name(
    connection: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<String, diesel::result::Error> {
    clinics::table
        .find(clinic_id.0)
        .select(clinics::name)
        .first(connection)
        .await
}

/// Fields of a new account. `email` must already be normalised.
pub struct NewAccount<'a> {
    pub clinic_id: ClinicId,
    pub display_name: &'a str,
    pub email: &'a str,
    pub roles: &'a [Role],
    pub granted_by: Option<UserId>,
}

/// Builds the AAD context of a user's encrypted field. A user's data key has a single version.
fn field_context(user_id: UserId, column: &'static str) -> FieldContext {
    FieldContext {
        table: "users",
        column,
        row_id: user_id.0,
        // The data key belongs to the person the row describes; for a patient, her user id.
        patient_id: PatientId(user_id.0),
        data_class: DataClass::Contact,
        data_key_version: 1,
    }
}

/// Creates an account in status "invited"; fails with `Conflict` if the email is taken.
pub async fn create_user(
    connection: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    blind_index: &BlindIndexKey,
    account: NewAccount<'_>,
) -> Result<UserId, AppError> {
    let user_id = UserId::new_random();
    let (data_key, wrapped) = keys
        .new_data_key(PatientId(user_id.0))
        .await
        .map_err(internal)?;
    let name = data_key
        .encrypt(
            &field_context(user_id, "display_name_ciphertext"),
            account.display_name.as_bytes(),
        )
        .map_err(internal)?;
    let email = data_key
        .encrypt(
            &field_context(user_id, "email_ciphertext"),
            account.email.as_bytes(),
        )
        .map_err(internal)?;

    let inserted = diesel::insert_into(users::table)
        .values((
            users::id.eq(user_id.0),
            users::clinic_id.eq(account.clinic_id.0),
            users::data_key_wrapped.eq(&wrapped.bytes),
            users::data_key_kek_version.eq(wrapped.kek_version as i32),
            users::display_name_ciphertext.eq(name),
            users::email_ciphertext.eq(email),
            users::email_index.eq(email_index(blind_index, account.email)),
        ))
        .on_conflict(users::email_index)
        .do_nothing()
        .execute(connection)
        .await
        .map_err(internal)?;
    if inserted == 0 {
        return Err(AppError::new(
            crate::error::ErrorCode::Conflict,
            "An account with this email already exists.",
        ));
    }

    set_roles(
        connection,
        user_id,
        account.clinic_id,
        account.roles,
        account.granted_by,
    )
    .await
    .map_err(internal)?;
    Ok(user_id)
}

/// Replaces a user's roles in a clinic.
pub async fn set_roles(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    clinic_id: ClinicId,
    roles: &[Role],
    granted_by: Option<UserId>,
) -> Result<(), diesel::result::Error> {
    diesel::delete(
        role_assignments::table
            .filter(role_assignments::user_id.eq(user_id.0))
            .filter(role_assignments::clinic_id.eq(clinic_id.0)),
    )
    .execute(connection)
    .await?;
    let mut unique = roles.to_vec();
    unique.sort();
    unique.dedup();
    let rows: Vec<_> = unique
        .iter()
        .map(|role| {
            (
                role_assignments::user_id.eq(user_id.0),
                role_assignments::clinic_id.eq(clinic_id.0),
                role_assignments::role.eq(role.as_str()),
                role_assignments::granted_by.eq(granted_by.map(|id| id.0)),
            )
        })
        .collect();
    diesel::insert_into(role_assignments::table)
        .values(rows)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn roles_of(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    clinic_id: ClinicId,
) -> Result<Vec<Role>, diesel::result::Error> {
    let names: Vec<String> = role_assignments::table
        .filter(role_assignments::user_id.eq(user_id.0))
        .filter(role_assignments::clinic_id.eq(clinic_id.0))
        .select(role_assignments::role)
        .load(connection)
        .await?;
    Ok(sorted_roles(names.iter().map(String::as_str)))
}

/// Parses stored role names, leaving out unknown ones, in the order of [`Role`].
fn sorted_roles<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Role> {
    let mut roles: Vec<Role> = names.filter_map(Role::parse).collect();
    roles.sort();
    roles
}

/// A user's account as stored, without decrypting anything.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: UserId,
    pub clinic_id: ClinicId,
    pub status: UserStatus,
}

pub async fn find_account(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
) -> Result<Option<AccountRow>, diesel::result::Error> {
    let row: Option<(uuid::Uuid, uuid::Uuid, String)> = users::table
        .find(user_id.0)
        .select((users::id, users::clinic_id, users::status))
        .first(connection)
        .await
        .optional()?;
    Ok(row.map(|(id, clinic_id, status)| AccountRow {
        id: UserId(id),
        clinic_id: ClinicId(clinic_id),
        status: UserStatus::parse(&status),
    }))
}

/// The signed-in user's display name as stored, sealed under her data key, and her clinic's
/// name: what the header shows, read with the account so that no page looks it up again.
#[derive(Clone)]
pub struct SealedName {
    wrapped_key: Vec<u8>,
    kek_version: i32,
    ciphertext: Vec<u8>,
    clinic_name: String,
}

impl std::fmt::Debug for SealedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedName { .. }")
    }
}

impl SealedName {
    /// Decrypts the display name of `user_id` and returns it with the clinic's name.
    pub async fn open(
        &self,
        keys: &dyn KeyProvider,
        user_id: UserId,
    ) -> Result<(String, String), AppError> {
        let data_key =
            unwrap_user_key(keys, user_id, self.wrapped_key.clone(), self.kek_version).await?;
        let display_name = decrypt_text(
            &data_key,
            user_id,
            "display_name_ciphertext",
            &self.ciphertext,
        )?;
        Ok((display_name, self.clinic_name.clone()))
    }
}

/// Returns the account with its roles in its own clinic and its sealed display name, in one
/// query. Every signed-in request makes this lookup, which [`find_account`], [`roles_of`] and
/// [`load_display_name_and_clinic`] would make in three.
pub async fn find_account_with_roles(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
) -> Result<Option<(AccountRow, Vec<Role>, SealedName)>, diesel::result::Error> {
    type Row = (
        uuid::Uuid,
        String,
        Vec<u8>,
        i32,
        Vec<u8>,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = users::table
        .inner_join(clinics::table)
        .left_join(
            role_assignments::table.on(role_assignments::user_id
                .eq(users::id)
                .and(role_assignments::clinic_id.eq(users::clinic_id))),
        )
        .filter(users::id.eq(user_id.0))
        .select((
            users::clinic_id,
            users::status,
            users::data_key_wrapped,
            users::data_key_kek_version,
            users::display_name_ciphertext,
            clinics::name,
            role_assignments::role.nullable(),
        ))
        .load(connection)
        .await?;
    let roles = sorted_roles(rows.iter().filter_map(|row| row.6.as_deref()));
    let Some((clinic_id, status, wrapped_key, kek_version, ciphertext, clinic_name, _)) =
        rows.into_iter().next()
    else {
        return Ok(None);
    };
    let account = AccountRow {
        id: user_id,
        clinic_id: ClinicId(clinic_id),
        status: UserStatus::parse(&status),
    };
    let name = SealedName {
        wrapped_key,
        kek_version,
        ciphertext,
        clinic_name,
    };
    Ok(Some((account, roles, name)))
}

pub async fn find_by_email(
    connection: &mut AsyncPgConnection,
    blind_index: &BlindIndexKey,
    normalized_email: &str,
) -> Result<Option<AccountRow>, diesel::result::Error> {
    let id: Option<uuid::Uuid> = users::table
        .filter(users::email_index.eq(email_index(blind_index, normalized_email)))
        .select(users::id)
        .first(connection)
        .await
        .optional()?;
    match id {
        Some(id) => find_account(connection, UserId(id)).await,
        None => Ok(None),
    }
}

/// Decrypted name and email of a user.
pub struct Profile {
    pub display_name: String,
    pub email: String,
}

/// Decrypts a user's name and email.
pub async fn load_profile(
    connection: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    user_id: UserId,
) -> Result<Profile, AppError> {
    let (wrapped, kek_version, name, email): (Vec<u8>, i32, Vec<u8>, Vec<u8>) = users::table
        .find(user_id.0)
        .select((
            users::data_key_wrapped,
            users::data_key_kek_version,
            users::display_name_ciphertext,
            users::email_ciphertext,
        ))
        .first(connection)
        .await
        .map_err(internal)?;
    let data_key = unwrap_user_key(keys, user_id, wrapped, kek_version).await?;
    Ok(Profile {
        display_name: decrypt_text(&data_key, user_id, "display_name_ciphertext", &name)?,
        email: decrypt_text(&data_key, user_id, "email_ciphertext", &email)?,
    })
}

/// Loads and decrypts the user's display name, with the name of her clinic, in one query.
pub async fn load_display_name_and_clinic(
    connection: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    user_id: UserId,
) -> Result<(String, String), AppError> {
    let (wrapped_key, kek_version, ciphertext, clinic_name) = users::table
        .inner_join(clinics::table)
        .filter(users::id.eq(user_id.0))
        .select((
            users::data_key_wrapped,
            users::data_key_kek_version,
            users::display_name_ciphertext,
            clinics::name,
        ))
        .get_result(connection)
        .await
        .map_err(internal)?;
    let name = SealedName {
        wrapped_key,
        kek_version,
        ciphertext,
        clinic_name,
    };
    name.open(keys, user_id).await
}

/// Unwraps the user's data key from its stored columns.
async fn unwrap_user_key(
    keys: &dyn KeyProvider,
    user_id: UserId,
    wrapped: Vec<u8>,
    kek_version: i32,
) -> Result<DataKey, AppError> {
    let wrapped = WrappedDataKey {
        kek_version: kek_version as u32,
        bytes: wrapped,
    };
    keys.unwrap(PatientId(user_id.0), &wrapped)
        .await
        .map_err(internal)
}

/// Decrypts the user's text field stored in `column`.
fn decrypt_text(
    data_key: &DataKey,
    user_id: UserId,
    column: &'static str,
    ciphertext: &[u8],
) -> Result<String, AppError> {
    let plaintext = data_key
        .decrypt(&field_context(user_id, column), ciphertext)
        .map_err(internal)?;
    String::from_utf8(plaintext.expose().to_vec()).map_err(internal)
}

/// Loads and decrypts the display names of several users in one query. Users that do not
/// exist are left out.
pub async fn load_display_names(
    connection: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    user_ids: &[UserId],
) -> Result<Vec<(UserId, String)>, AppError> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = user_ids.iter().map(|user| user.0).collect();
    let rows: Vec<(uuid::Uuid, Vec<u8>, i32, Vec<u8>)> = users::table
        .filter(users::id.eq_any(&ids))
        .select((
            users::id,
            users::data_key_wrapped,
            users::data_key_kek_version,
            users::display_name_ciphertext,
        ))
        .load(connection)
        .await
        .map_err(internal)?;
    let mut names = Vec::with_capacity(rows.len());
    for (id, wrapped, kek_version, name) in rows {
        let user_id = UserId(id);
        let data_key = unwrap_user_key(keys, user_id, wrapped, kek_version).await?;
        let name = decrypt_text(&data_key, user_id, "display_name_ciphertext", &name)?;
        names.push((user_id, name));
    }
    Ok(names)
}

pub async fn set_status(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    status: UserStatus,
) -> Result<(), diesel::result::Error> {
    let deactivated_at = (status == UserStatus::Deactivated).then(Utc::now);
    diesel::update(users::table.find(user_id.0))
        .set((
            users::status.eq(status.as_str()),
            users::deactivated_at.eq(deactivated_at),
        ))
        .execute(connection)
        .await?;
    Ok(())
}

/// Deletes every session of a user, signing her out everywhere at once.
pub async fn end_all_sessions(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
) -> Result<usize, diesel::result::Error> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id.0)))
        .execute(connection)
        .await
}

/// Users of a clinic with their status, oldest first.
pub async fn list_clinic_users(
    connection: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<Vec<AccountRow>, diesel::result::Error> {
    let rows: Vec<(uuid::Uuid, String)> = users::table
        .filter(users::clinic_id.eq(clinic_id.0))
        .order(users::created_at.asc())
        .select((users::id, users::status))
        .load(connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, status)| AccountRow {
            id: UserId(id),
            clinic_id,
            status: UserStatus::parse(&status),
        })
        .collect())
}

/// Logs an internal failure and returns the generic error for the client.
pub fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "identity operation failed");
    AppError::internal()
}
