//! A Clerk `User` as the Backend API and the `user.*` webhooks carry it, and what it becomes
//! for us.

use crate::models::{ClerkUserId, UserProfile};
use serde::{Deserialize, Serialize};

/// A Clerk `User`, as the Backend API and the `user.*` webhooks carry it (the fields we use;
/// unknown fields are ignored, missing optional ones default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkUser {
    pub id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub has_image: Option<bool>,
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    #[serde(default)]
    pub email_addresses: Vec<ClerkEmailAddress>,
    #[serde(default)]
    pub public_metadata: serde_json::Value,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub created_at: i64,
    /// Milliseconds since the epoch; orders the versions of a user.
    #[serde(default)]
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkEmailAddress {
    pub id: String,
    pub email_address: String,
}

/// Why a Clerk user cannot become one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the Clerk user {0} has no email address")]
    NoEmail(String),
}

impl ClerkUser {
    /// The seed's rule: full name, then first name, then last name, then username, then "User".
    pub fn display_name(&self) -> String {
        let first = non_blank(&self.first_name);
        let last = non_blank(&self.last_name);
        match (first, last) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            (Some(first), None) => first.to_owned(),
            (None, Some(last)) => last.to_owned(),
            (None, None) => non_blank(&self.username).unwrap_or("User").to_owned(),
        }
    }

    /// The primary email address; failing that, the first one.
    pub fn primary_email(&self) -> Option<&str> {
        let primary = self
            .primary_email_address_id
            .as_deref()
            .and_then(|primary| {
                self.email_addresses
                    .iter()
                    .find(|address| address.id == primary)
            });
        primary
            .or_else(|| self.email_addresses.first())
            .map(|address| address.email_address.as_str())
            .filter(|email| !email.trim().is_empty())
    }

    /// Clerk serves a generated avatar when the user has none; we keep only real images.
    fn real_image_url(&self) -> Option<String> {
        if self.has_image == Some(false) {
            return None;
        }
        non_blank(&self.image_url).map(str::to_owned)
    }

    pub fn to_profile(&self) -> Result<UserProfile, ProfileError> {
        let email = self
            .primary_email()
            .ok_or_else(|| ProfileError::NoEmail(self.id.clone()))?;
        Ok(UserProfile {
            clerk_user_id: ClerkUserId::new(&self.id),
            name: self.display_name(),
            email: email.trim().to_owned(),
            image_url: self.real_image_url(),
        })
    }

    /// `public_metadata.<key>` as a string, if it is one.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.public_metadata.get(key).and_then(|v| v.as_str())
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(first: Option<&str>, last: Option<&str>, username: Option<&str>) -> ClerkUser {
        ClerkUser {
            id: "user_1".into(),
            first_name: first.map(Into::into),
            last_name: last.map(Into::into),
            username: username.map(Into::into),
            image_url: None,
            has_image: None,
            primary_email_address_id: Some("idn_2".into()),
            email_addresses: vec![
                ClerkEmailAddress {
                    id: "idn_1".into(),
                    email_address: "old@x.io".into(),
                },
                ClerkEmailAddress {
                    id: "idn_2".into(),
                    email_address: "main@x.io".into(),
                },
            ],
            public_metadata: serde_json::json!({}),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_name_follows_the_seeds_order() {
        assert_eq!(
            user(Some("Ada"), Some("Lovelace"), Some("ada")).display_name(),
            "Ada Lovelace"
        );
        assert_eq!(user(Some("Ada"), None, Some("ada")).display_name(), "Ada");
        assert_eq!(
            user(None, Some("Lovelace"), Some("ada")).display_name(),
            "Lovelace"
        );
        assert_eq!(user(Some("  "), None, Some("ada")).display_name(), "ada");
        assert_eq!(user(None, None, None).display_name(), "User");
    }

    #[test]
    fn the_primary_email_wins() {
        assert_eq!(user(None, None, None).primary_email(), Some("main@x.io"));
        let mut no_email = user(None, None, None);
        no_email.email_addresses.clear();
        assert_eq!(
            no_email.to_profile(),
            Err(ProfileError::NoEmail("user_1".into()))
        );
    }

    #[test]
    fn clerks_example_events_parse() {
        for name in [
            "user.created.json",
            "user.updated.json",
            "user.created.docs-example.json",
        ] {
            let path = format!(
                "{}/tests/fixtures/clerk/examples/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text =
                std::fs::read_to_string(&path).expect("the Clerk fixtures of tests/fixtures");
            let event: serde_json::Value = serde_json::from_str(&text).unwrap();
            let user: ClerkUser = serde_json::from_value(event["data"].clone())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(user.id.starts_with("user_"), "{name}");
            assert!(user.updated_at > 0, "{name}");
        }
    }
}
