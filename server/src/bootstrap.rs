//! `nurture create-admin`: creates a clinic's first admin and prints her enrollment link, so
//! that a fresh installation can be set up without a browser session.

use app::identity::server::admin::bootstrap_admin;

use crate::state::AppState;

/// Options of `create-admin`.
#[derive(Debug, PartialEq, Eq)]
pub struct CreateAdmin {
    pub clinic_slug: String,
    pub clinic_name: String,
    pub display_name: String,
    pub email: String,
}

pub const USAGE: &str = "\
Usage: nurture create-admin --clinic SLUG --clinic-name NAME --name NAME --email EMAIL

Creates the clinic if it does not exist, creates an admin account in it, and prints the
enrollment link where the admin creates her passkey.";

impl CreateAdmin {
    /// Parses `--flag value` pairs; every flag is required.
    pub fn parse(arguments: &[String]) -> Result<Self, String> {
        let mut values = std::collections::HashMap::new();
        let mut iter = arguments.iter();
        while let Some(flag) = iter.next() {
            let name = match flag.as_str() {
                "--clinic" | "--clinic-name" | "--name" | "--email" => flag.as_str(),
                other => return Err(format!("unknown option {other:?}\n\n{USAGE}")),
            };
            let value = iter
                .next()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))?;
            values.insert(name, value.clone());
        }
        let mut take = |name: &str| {
            values
                .remove(name)
                .ok_or_else(|| format!("{name} is missing\n\n{USAGE}"))
        };
        Ok(Self {
            clinic_slug: take("--clinic")?,
            clinic_name: take("--clinic-name")?,
            display_name: take("--name")?,
            email: take("--email")?,
        })
    }

    /// Creates the admin and returns the text to print.
    pub async fn run(&self, state: &AppState) -> Result<String, String> {
        let issued = bootstrap_admin(
            &state.services,
            &self.clinic_slug,
            &self.clinic_name,
            &self.display_name,
            &self.email,
        )
        .await
        .map_err(|error| error.message)?;
        Ok(format!(
            "Created admin {} in clinic {}.\nEnrollment link (valid until {}):\n{}",
            self.display_name, self.clinic_slug, issued.expires_at, issued.link
        ))
    }
}

pub const ISSUE_LINK_USAGE: &str = "\
Usage: nurture issue-link --email EMAIL

Prints a new enrollment link for the account with this email: a recovery link if she already
enrolled (using it ends all her sessions), otherwise a fresh enrollment link. Earlier open links
of the account stop working.";

/// Runs `issue-link`: parses `--email EMAIL` and returns the text to print.
pub async fn issue_link(arguments: &[String], state: &AppState) -> Result<String, String> {
    let email = match arguments {
        [flag, email] if flag == "--email" => email,
        _ => return Err(format!("expected --email EMAIL\n\n{ISSUE_LINK_USAGE}")),
    };
    let issued = app::identity::server::admin::reissue_by_operator(&state.services, email)
        .await
        .map_err(|error| error.message)?;
    Ok(format!(
        "Enrollment link for {email} (valid until {}):\n{}",
        issued.expires_at, issued.link
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn parses_all_flags() {
        let parsed = CreateAdmin::parse(&arguments(
            "--clinic north --clinic-name North --name Ada --email ada@example.org",
        ))
        .unwrap();
        assert_eq!(parsed.clinic_slug, "north");
        assert_eq!(parsed.email, "ada@example.org");
    }

    #[test]
    fn missing_flag_is_named() {
        let error = CreateAdmin::parse(&arguments("--clinic north --name Ada")).unwrap_err();
        assert!(error.starts_with("--clinic-name is missing"), "{error}");
    }

    #[test]
    fn unknown_flag_rejected() {
        let error = CreateAdmin::parse(&arguments("--role admin")).unwrap_err();
        assert!(error.starts_with("unknown option \"--role\""), "{error}");
    }
}
