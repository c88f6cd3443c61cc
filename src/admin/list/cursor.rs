//! The rows a list statement returns, and the opaque cursor that marks a position in one sort
//! order.

use crate::admin::AdminError;
use crate::models::user_list::{SortField, UserListRow};
use crate::models::{Role, UserId};
use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(super) struct ListedUser {
    pub(super) id: UserId,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) role: Role,
    pub(super) image_url: Option<String>,
    pub(super) deleted_at: Option<OffsetDateTime>,
    pub(super) created_at: OffsetDateTime,
    pub(super) sort_text: Option<String>,
    /// How many matches a search's probe collected (only the probe selects it).
    #[sqlx(default)]
    pub(super) matched: Option<i64>,
}

impl ListedUser {
    pub(super) fn cursor(&self, sort: SortField) -> Cursor {
        let key = match sort {
            SortField::Name | SortField::Email => {
                SortKey::Text(self.sort_text.clone().unwrap_or_default())
            }
            SortField::Created => SortKey::Time(self.created_at),
            SortField::Role => SortKey::Role(self.role),
        };
        Cursor {
            sort,
            key,
            id: self.id.0,
        }
    }

    pub(super) fn into_row(self) -> UserListRow {
        UserListRow {
            id: self.id,
            name: self.name,
            email: self.email,
            role: self.role,
            image_url: self.image_url,
            deleted: self.deleted_at.is_some(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum SortKey {
    Text(String),
    Time(OffsetDateTime),
    Role(Role),
}

/// A position in one sort order: the last row's sort key and id.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Cursor {
    pub(super) sort: SortField,
    pub(super) key: SortKey,
    pub(super) id: Uuid,
}

/// The cursor as it travels in the URL.
#[derive(Serialize, Deserialize)]
pub(super) struct WireCursor {
    s: SortField,
    k: String,
    id: Uuid,
}

/// Longest cursor accepted: a 200-character name in base64 JSON fits easily.
pub(super) const MAX_CURSOR_LEN: usize = 2_048;

impl Cursor {
    pub(super) fn encode(&self) -> String {
        let k = match &self.key {
            SortKey::Text(text) => text.clone(),
            // Microseconds: PostgreSQL's precision, so the key compares exactly.
            SortKey::Time(at) => (at.unix_timestamp_nanos() / 1_000).to_string(),
            SortKey::Role(role) => role.as_str().to_owned(),
        };
        let wire = WireCursor {
            s: self.sort,
            k,
            id: self.id,
        };
        // Serialising a struct of strings and a uuid cannot fail; an empty cursor would only
        // restart the list.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub(super) fn decode(raw: &str, sort: SortField) -> Result<Cursor, AdminError> {
        let bad = || {
            AdminError::BadRequest(
                "That page link is broken or out of date. Start again from the first page.".into(),
            )
        };
        if raw.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| bad())?;
        let wire: WireCursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if wire.s != sort {
            return Err(bad());
        }
        let key = match sort {
            SortField::Name | SortField::Email => {
                // A NUL byte cannot be sent to PostgreSQL as text.
                if wire.k.contains('\0') {
                    return Err(bad());
                }
                SortKey::Text(wire.k)
            }
            SortField::Created => {
                let micros: i64 = wire.k.parse().map_err(|_| bad())?;
                let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                    .map_err(|_| bad())?;
                SortKey::Time(at)
            }
            SortField::Role => SortKey::Role(wire.k.parse().map_err(|_| bad())?),
        };
        Ok(Cursor {
            sort,
            key,
            id: wire.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000).unwrap();
        for (sort, key) in [
            (SortField::Name, SortKey::Text("ada \"lovelace\"".into())),
            (SortField::Created, SortKey::Time(at)),
            (SortField::Role, SortKey::Role(Role::Admin)),
        ] {
            let cursor = Cursor {
                sort,
                key,
                id: Uuid::new_v4(),
            };
            assert_eq!(Cursor::decode(&cursor.encode(), sort).unwrap(), cursor);
        }
        let name_cursor = Cursor {
            sort: SortField::Name,
            key: SortKey::Text("x".into()),
            id: Uuid::nil(),
        }
        .encode();
        assert!(Cursor::decode(&name_cursor, SortField::Email).is_err());
        for garbage in ["", "not a cursor", "eyJ9", &"A".repeat(10_000)] {
            assert!(matches!(
                Cursor::decode(garbage, SortField::Name),
                Err(AdminError::BadRequest(_))
            ));
        }
    }
}
