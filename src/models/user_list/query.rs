//! The user list's query: the URL's parameters as they come, and the validated query the list
//! service runs.

use crate::models::user::Role;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Rows per page when the URL does not say, and the most a URL may ask for.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longer searches are cut to this many characters: no name or email is longer (see
/// `users::store::MAX_NAME_LEN`), and a 10,000-character pattern must not reach the database.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A column the user list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortField {
    #[default]
    Name,
    Email,
    Created,
    Role,
}

impl SortField {
    pub const ALL: [SortField; 4] = [
        SortField::Name,
        SortField::Email,
        SortField::Created,
        SortField::Role,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Name => "name",
            SortField::Email => "email",
            SortField::Created => "created",
            SortField::Role => "role",
        }
    }

    /// The direction a click on the column header starts with: newest first for dates.
    pub fn natural_direction(self) -> SortDirection {
        match self {
            SortField::Created => SortDirection::Desc,
            _ => SortDirection::Asc,
        }
    }
}

impl FromStr for SortField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SortField::ALL
            .into_iter()
            .find(|field| field.as_str() == s)
            .ok_or_else(|| {
                format!("The list cannot be sorted by {s:?}. Use name, email, created or role.")
            })
    }
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

impl SortDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            SortDirection::Asc => "asc",
            SortDirection::Desc => "desc",
        }
    }

    pub fn reversed(self) -> SortDirection {
        match self {
            SortDirection::Asc => SortDirection::Desc,
            SortDirection::Desc => SortDirection::Asc,
        }
    }
}

impl FromStr for SortDirection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "asc" => Ok(SortDirection::Asc),
            "desc" => Ok(SortDirection::Desc),
            other => Err(format!(
                "The sort direction {other:?} is not one we know. Use asc or desc."
            )),
        }
    }
}

/// The user list's query string exactly as the URL carries it: every field is optional text, so
/// that a hand-edited URL reaches [`UserListQuery::parse`] and gets a message rather than a
/// deserialisation failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListParams {
    pub q: Option<String>,
    pub role: Option<String>,
    pub deleted: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub size: Option<String>,
}

impl UserListParams {
    /// The query string for these parameters (empty ones left out), starting with `?`.
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("role", &self.role),
            ("deleted", &self.deleted),
            ("sort", &self.sort),
            ("dir", &self.dir),
            ("after", &self.after),
            ("before", &self.before),
            ("size", &self.size),
        ];
        let mut out = String::new();
        for (key, value) in pairs {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                out.push(if out.is_empty() { '?' } else { '&' });
                out.push_str(key);
                out.push('=');
                out.push_str(&encode_query_value(value));
            }
        }
        out
    }
}

/// Percent-encodes a query string value (RFC 3986 unreserved characters stay as they are).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Which way to page from a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageFrom {
    Start,
    /// The rows after this cursor (the "Next" link).
    After(String),
    /// The rows before this cursor (the "Previous" link).
    Before(String),
}

/// A validated user-list query. Built only by [`UserListQuery::parse`] (or by hand in tests and
/// the benchmark), which clamps what can be clamped and refuses the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListQuery {
    /// Trimmed, at most [`MAX_SEARCH_CHARS`] characters; empty means no search.
    pub search: String,
    pub role: Option<Role>,
    pub include_deleted: bool,
    pub sort: SortField,
    pub direction: SortDirection,
    pub page_size: u32,
    pub from: PageFrom,
}

impl Default for UserListQuery {
    fn default() -> Self {
        UserListQuery {
            search: String::new(),
            role: None,
            include_deleted: false,
            sort: SortField::Name,
            direction: SortDirection::Asc,
            page_size: DEFAULT_PAGE_SIZE,
            from: PageFrom::Start,
        }
    }
}

impl UserListQuery {
    /// Validates the URL's parameters. Page size and search length are clamped; an unknown
    /// role, sort or direction is an error written for a person (it becomes a 400 page). Cursors
    /// are checked when the query runs, where their sort key is known.
    pub fn parse(params: &UserListParams) -> Result<UserListQuery, String> {
        let search = clamp_search(params.q.as_deref().unwrap_or(""));
        let role = match non_empty(&params.role) {
            None | Some("all") => None,
            Some(role) => Some(role.parse::<Role>().map_err(|_| {
                format!("There is no role {role:?}. Choose admin, user or all roles.")
            })?),
        };
        let include_deleted = match non_empty(&params.deleted) {
            None | Some("0") | Some("false") | Some("no") => false,
            Some("1") | Some("true") | Some("yes") | Some("on") => true,
            Some(other) => {
                return Err(format!(
                "The deleted filter {other:?} is not one we know. Use 1 to include deleted users."
            ))
            }
        };
        let sort = match non_empty(&params.sort) {
            None => SortField::default(),
            Some(sort) => sort.parse()?,
        };
        let direction = match non_empty(&params.dir) {
            None => sort.natural_direction(),
            Some(dir) => dir.parse()?,
        };
        // A size that is not a number falls back to the default, one that is out of range is
        // clamped: neither deserves an error page.
        let page_size = non_empty(&params.size)
            .and_then(|size| size.parse::<i64>().ok())
            .map(|size| size.clamp(1, i64::from(MAX_PAGE_SIZE)) as u32)
            .unwrap_or(DEFAULT_PAGE_SIZE);
        let from = match (non_empty(&params.after), non_empty(&params.before)) {
            (Some(_), Some(_)) => {
                return Err("A page link cannot go both after and before a row.".into())
            }
            (Some(after), None) => PageFrom::After(after.to_owned()),
            (None, Some(before)) => PageFrom::Before(before.to_owned()),
            (None, None) => PageFrom::Start,
        };
        Ok(UserListQuery {
            search,
            role,
            include_deleted,
            sort,
            direction,
            page_size,
            from,
        })
    }

    /// The parameters of this view without its cursor (filters, sort and size), as the URL
    /// should carry them: defaults are left out so that links stay short.
    pub fn view_params(&self) -> UserListParams {
        UserListParams {
            q: (!self.search.is_empty()).then(|| self.search.clone()),
            role: self.role.map(|role| role.as_str().to_owned()),
            deleted: self.include_deleted.then(|| "1".to_owned()),
            sort: (self.sort != SortField::default()).then(|| self.sort.as_str().to_owned()),
            dir: (self.direction != self.sort.natural_direction())
                .then(|| self.direction.as_str().to_owned()),
            after: None,
            before: None,
            size: (self.page_size != DEFAULT_PAGE_SIZE).then(|| self.page_size.to_string()),
        }
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Trims a search and keeps at most [`MAX_SEARCH_CHARS`] characters (never splitting one).
pub fn clamp_search(raw: &str) -> String {
    raw.trim()
        .chars()
        .take(MAX_SEARCH_CHARS)
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_clamps_what_it_can_and_refuses_the_rest() {
        let params = UserListParams {
            q: Some("x".repeat(10_000)),
            size: Some("100000".into()),
            ..Default::default()
        };
        let query = UserListQuery::parse(&params).unwrap();
        assert_eq!(query.search.chars().count(), MAX_SEARCH_CHARS);
        assert_eq!(query.page_size, MAX_PAGE_SIZE);

        for bad in [
            UserListParams {
                role: Some("root".into()),
                ..Default::default()
            },
            UserListParams {
                sort: Some("password".into()),
                ..Default::default()
            },
            UserListParams {
                dir: Some("sideways".into()),
                ..Default::default()
            },
        ] {
            assert!(UserListQuery::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn view_params_round_trip_through_the_query_string() {
        let query = UserListQuery {
            search: "ada & co".into(),
            role: Some(Role::Admin),
            include_deleted: true,
            sort: SortField::Created,
            direction: SortDirection::Asc,
            page_size: 10,
            from: PageFrom::Start,
        };
        let qs = query.view_params().to_query_string();
        assert_eq!(
            qs,
            "?q=ada%20%26%20co&role=admin&deleted=1&sort=created&dir=asc&size=10"
        );
    }
}
