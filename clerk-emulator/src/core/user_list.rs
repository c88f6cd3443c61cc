//! Listing and counting users (BAPI `GET /v1/users` and `/v1/users/count`).

use crate::model::User;
use crate::Emulator;

#[derive(Clone, Debug)]
pub(crate) struct ListQuery {
    pub limit: usize,
    pub offset: usize,
    pub order_field: String,
    pub order_desc: bool,
    pub query: Option<String>,
    pub email_addresses: Vec<String>,
    pub user_ids: Vec<String>,
    pub usernames: Vec<String>,
    pub external_ids: Vec<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            limit: 10,
            offset: 0,
            order_field: "created_at".into(),
            order_desc: true,
            query: None,
            email_addresses: Vec::new(),
            user_ids: Vec::new(),
            usernames: Vec::new(),
            external_ids: Vec::new(),
        }
    }
}

impl Emulator {
    pub(crate) fn op_list(&self, q: &ListQuery) -> (Vec<User>, usize) {
        let st = self.lock_state();
        let needle = q.query.as_ref().map(|s| s.to_lowercase());
        let mut users: Vec<User> = st
            .users
            .iter()
            .filter(|u| {
                (q.email_addresses.is_empty()
                    || u.email_addresses.iter().any(|a| {
                        q.email_addresses
                            .iter()
                            .any(|e| e.eq_ignore_ascii_case(&a.email_address))
                    }))
                    && (q.user_ids.is_empty() || q.user_ids.iter().any(|x| x == &u.id))
                    && (q.usernames.is_empty()
                        || q.usernames.iter().any(|x| {
                            u.username
                                .as_deref()
                                .is_some_and(|y| y.eq_ignore_ascii_case(x))
                        }))
                    && (q.external_ids.is_empty()
                        || q.external_ids
                            .iter()
                            .any(|x| u.external_id.as_deref() == Some(x.as_str())))
                    && needle.as_ref().is_none_or(|n| {
                        let mut hay: Vec<String> = vec![u.id.to_lowercase()];
                        hay.extend(
                            u.email_addresses
                                .iter()
                                .map(|a| a.email_address.to_lowercase()),
                        );
                        for v in [&u.username, &u.first_name, &u.last_name]
                            .into_iter()
                            .flatten()
                        {
                            hay.push(v.to_lowercase());
                        }
                        hay.iter().any(|h| h.contains(n.as_str()))
                    })
            })
            .cloned()
            .collect();
        drop(st);
        let total = users.len();
        let key = |u: &User| -> (Option<String>, i64) {
            match q.order_field.as_str() {
                "updated_at" => (None, u.updated_at),
                "email_address" => (u.primary_email().map(str::to_lowercase), 0),
                "first_name" => (u.first_name.as_ref().map(|s| s.to_lowercase()), 0),
                "last_name" => (u.last_name.as_ref().map(|s| s.to_lowercase()), 0),
                "username" => (u.username.as_ref().map(|s| s.to_lowercase()), 0),
                "last_sign_in_at" => (None, u.last_sign_in_at.unwrap_or(0)),
                "last_active_at" => (None, u.last_active_at.unwrap_or(0)),
                _ => (None, u.created_at),
            }
        };
        users.sort_by(|a, b| {
            let o = key(a).cmp(&key(b)).then(a.created_at.cmp(&b.created_at));
            if q.order_desc {
                o.reverse()
            } else {
                o
            }
        });
        let page = users.into_iter().skip(q.offset).take(q.limit).collect();
        (page, total)
    }
}
