//! One page of the user list as it travels to the page: rows, neighbour cursors, the total.

use crate::models::user::{Role, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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
}
