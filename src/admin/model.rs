//! Types the admin pages and the admin services share. They compile for the browser too: they
//! travel through server functions.

use crate::users::{ClerkUserId, Role, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// Rows per page when the URL does not say, and the most a URL may ask for.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longer searches are cut to this many characters: no name or email is longer (see
/// `users::store::MAX_NAME_LEN`), and a 10,000-character pattern must not reach the database.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest reason a role change may carry (the database checks it too).
pub const MAX_REASON_CHARS: usize = 500;

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

/// One row of the admin user list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub image_url: Option<String>,
    pub deleted: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// How many users match: counted when that is cheap, else the planner's estimate, or for a
/// search that matches many users, the bound the count stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Total {
    Exact(u64),
    About(u64),
    /// Counting stopped after this many: there are more.
    MoreThan(u64),
}

impl Total {
    /// The number behind the words (a lower bound for "more than").
    pub fn count(self) -> u64 {
        match self {
            Total::Exact(n) | Total::About(n) | Total::MoreThan(n) => n,
        }
    }

    /// "1 user", "about 990,000 users".
    pub fn describe(self) -> String {
        match self {
            Total::Exact(n) => {
                format!("{} {}", thousands(n), if n == 1 { "user" } else { "users" })
            }
            Total::About(n) => format!("about {} users", thousands(round_estimate(n))),
            Total::MoreThan(n) => format!("more than {} users", thousands(n)),
        }
    }
}

/// An estimate shown with two significant digits: more would claim a precision it lacks.
fn round_estimate(n: u64) -> u64 {
    if n < 100 {
        return n;
    }
    let mut scale = 1;
    while n / scale >= 100 {
        scale *= 10;
    }
    (n + scale / 2) / scale * scale
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One page of the admin user list, with the cursors of its neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListPage {
    pub rows: Vec<UserListRow>,
    /// Cursor for the "Next" link (`after=`), when there are rows after this page.
    pub next: Option<String>,
    /// Cursor for the "Previous" link (`before=`), when there are rows before this page.
    pub previous: Option<String>,
    pub total: Total,
}

/// Who changed a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleActor {
    /// An admin, through the admin pages.
    Admin(UserId),
    /// `warden users set-role` on the command line.
    Cli,
}

/// One line of a user's role history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub id: i64,
    pub user_id: UserId,
    /// `None` for the command line.
    pub actor_user_id: Option<UserId>,
    /// The actor's current name, or "command line".
    pub actor_name: String,
    pub from_role: Role,
    pub to_role: Role,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

/// What a role change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleChangeOutcome {
    Changed {
        user_id: UserId,
        clerk_user_id: ClerkUserId,
        name: String,
        from: Role,
        to: Role,
    },
    /// The user already had that role (a double submit, or someone else was quicker): nothing
    /// was written.
    Unchanged {
        user_id: UserId,
        name: String,
        role: Role,
    },
}

impl RoleChangeOutcome {
    /// A sentence for the page or the terminal.
    pub fn describe(&self) -> String {
        match self {
            RoleChangeOutcome::Changed { name, from, to, .. } => {
                format!("{name} is now {} (was {}).", article_role(*to), from)
            }
            RoleChangeOutcome::Unchanged { name, role, .. } => {
                format!(
                    "{name} already is {}; nothing was changed.",
                    article_role(*role)
                )
            }
        }
    }
}

fn article_role(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin",
        Role::User => "a user",
    }
}

/// Sign-ups of one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySignups {
    #[serde(with = "time::serde::rfc3339")]
    pub day: OffsetDateTime,
    pub count: u64,
}

/// The numbers of the admin overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub active_admins: u64,
    pub active_users: u64,
    pub deleted: u64,
    /// The last 30 days, oldest first, today included, days without sign-ups as zero.
    pub signups: Vec<DailySignups>,
}

impl Overview {
    pub fn active(&self) -> u64 {
        self.active_admins + self.active_users
    }
}

/// "Download my data": everything warden holds about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDataExport {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// The row of `users`, as stored (the role is the database's, the source of truth).
    pub user: crate::users::User,
    /// Changes of this person's role, newest first.
    pub role_history: Vec<RoleChange>,
    /// Role changes this person made as an admin, newest first.
    pub role_changes_made: Vec<RoleChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_keep_two_significant_digits() {
        assert_eq!(round_estimate(42), 42);
        assert_eq!(round_estimate(987_654), 990_000);
        assert_eq!(round_estimate(1_004), 1_000);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(Total::About(987_654).describe(), "about 990,000 users");
        assert_eq!(Total::Exact(1).describe(), "1 user");
        assert_eq!(Total::MoreThan(1_000).describe(), "more than 1,000 users");
    }

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
