//! Development dashboard (no JavaScript): list users, edit name/email/public_metadata,
//! delete, create; each change fires the matching webhook.

use crate::core::{CreateUser, ReqInfo, UpdateUser};
use crate::html::{forbidden, html_response, page, same_origin_ok, see_other};
use crate::util::{esc, first, qenc, query_pairs};
use crate::Emulator;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::collections::HashMap;

pub(crate) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/dashboard/users", post(create_user))
        .route("/dashboard/users/{user_id}", post(update_user))
        .route("/dashboard/users/{user_id}/delete", post(delete_user))
        .route("/dashboard/rotate-key", post(rotate_key))
}

struct Problem<'a> {
    user_id: &'a str,
    message: String,
    form: &'a HashMap<String, String>,
}

fn render(emu: &Emulator, notice: Option<&str>, problem: Option<&Problem<'_>>) -> String {
    let base = esc(&emu.config().frontend_api_url);
    let users = emu.lock_state().users.clone();
    let mut body = format!(
        "<h1>Dashboard</h1><p class=\"muted\">{} user(s). Every change here fires the matching \
         webhook (<code>user.created</code>, <code>user.updated</code>, <code>user.deleted</code>).</p>",
        users.len()
    );
    if let Some(n) = notice {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            esc(n)
        ));
    }
    if let Some(p) = problem.filter(|p| p.user_id.is_empty()) {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            esc(&p.message)
        ));
    }
    for u in users.iter().rev() {
        let mine = problem.filter(|p| p.user_id == u.id);
        let val = |k: &str, current: String| -> String {
            mine.and_then(|p| p.form.get(k).cloned()).unwrap_or(current)
        };
        let meta = serde_json::to_string_pretty(&u.public_metadata).unwrap_or_default();
        body.push_str(&format!(
            "<section class=\"card\" id=\"{id}\"><h2>{name}</h2>\
             <p class=\"muted\"><code>{id}</code> · created {created} · updated {updated}</p>",
            id = esc(&u.id),
            name = esc(&u.display_name()),
            created = u.created_at,
            updated = u.updated_at,
        ));
        if let Some(p) = mine {
            body.push_str(&format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                esc(&p.message)
            ));
        }
        body.push_str(&format!(
            "<form method=\"post\" action=\"{base}/dashboard/users/{id}\">\
             <label>First name <input type=\"text\" name=\"first_name\" value=\"{f}\"></label>\
             <label>Last name <input type=\"text\" name=\"last_name\" value=\"{l}\"></label>\
             <label>Email address <input type=\"email\" name=\"email_address\" value=\"{e}\"></label>\
             <label>public_metadata (JSON object) <textarea name=\"public_metadata\">{m}</textarea></label>\
             <button type=\"submit\">Save</button></form>\
             <form method=\"post\" action=\"{base}/dashboard/users/{id}/delete\">\
             <button type=\"submit\">Delete user</button></form></section>",
            id = esc(&u.id),
            f = esc(&val("first_name", u.first_name.clone().unwrap_or_default())),
            l = esc(&val("last_name", u.last_name.clone().unwrap_or_default())),
            e = esc(&val(
                "email_address",
                u.primary_email().unwrap_or_default().to_string()
            )),
            m = esc(&val("public_metadata", meta)),
        ));
    }
    body.push_str(&format!(
        "<h2>Create a user</h2><form class=\"card\" method=\"post\" action=\"{base}/dashboard/users\">\
         <label>First name <input type=\"text\" name=\"first_name\"></label>\
         <label>Last name <input type=\"text\" name=\"last_name\"></label>\
         <label>Username <input type=\"text\" name=\"username\"></label>\
         <label>Email address <input type=\"email\" name=\"email_address\" required></label>\
         <label>public_metadata (JSON object) <textarea name=\"public_metadata\">{{}}</textarea></label>\
         <button type=\"submit\">Create user</button></form>\
         <h2>Signing key</h2><p>Current kid: <code>{kid}</code></p>\
         <form method=\"post\" action=\"{base}/dashboard/rotate-key\"><button type=\"submit\">Rotate signing key</button></form>",
        kid = esc(&emu.current_kid()),
    ));
    page(emu, "Dashboard", &body)
}

async fn dashboard(State(emu): State<Emulator>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    html_response(StatusCode::OK, render(&emu, first(&q, "notice"), None))
}

fn done(emu: &Emulator, notice: &str) -> Response {
    see_other(
        &format!(
            "{}/dashboard?notice={}",
            emu.config().frontend_api_url,
            qenc(notice)
        ),
        &[],
    )
}

fn problem(
    emu: &Emulator,
    user_id: &str,
    message: String,
    form: &HashMap<String, String>,
) -> Response {
    let p = Problem {
        user_id,
        message,
        form,
    };
    html_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        render(emu, None, Some(&p)),
    )
}

/// Parse the metadata textarea: must be a JSON object.
fn parse_metadata(raw: Option<&String>) -> Result<Option<Value>, String> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.trim().is_empty() {
        return Ok(Some(Value::Object(Default::default())));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(Some(v)),
        Ok(_) => Err("public_metadata must be a JSON object, e.g. {\"role\": \"admin\"}.".into()),
        Err(e) => Err(format!(
            "public_metadata is not valid JSON: {e}. Nothing was changed."
        )),
    }
}

async fn create_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let meta = match parse_metadata(form.get("public_metadata")) {
        Ok(m) => m,
        Err(msg) => return problem(&emu, "", msg, &form),
    };
    let input = CreateUser {
        email_addresses: form.get("email_address").cloned().into_iter().collect(),
        first_name: form.get("first_name").cloned(),
        last_name: form.get("last_name").cloned(),
        username: form.get("username").cloned(),
        public_metadata: meta,
        ..CreateUser::default()
    };
    match emu.op_create_user(input, &ReqInfo::from_headers(&headers)) {
        Ok(u) => done(&emu, &format!("Created {}.", u.id)),
        Err(e) => problem(&emu, "", e.long_message(), &form),
    }
}

async fn update_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let Some(current) = emu.get_user(&user_id).await else {
        return problem(
            &emu,
            "",
            format!("No user was found with id {user_id}"),
            &form,
        );
    };
    // Validate everything before changing anything.
    let meta = match parse_metadata(form.get("public_metadata")) {
        Ok(m) => m,
        Err(msg) => return problem(&emu, &user_id, msg, &form),
    };
    let email = form
        .get("email_address")
        .map(|e| e.trim().to_string())
        .filter(|e| Some(e.as_str()) != current.primary_email());
    let upd = UpdateUser {
        first_name: form.get("first_name").cloned().map(Some),
        last_name: form.get("last_name").cloned().map(Some),
        primary_email: email,
        ..UpdateUser::default()
    };
    let req = ReqInfo::from_headers(&headers);
    let profile_changed = upd.primary_email.is_some()
        || upd.first_name.as_ref().is_some_and(|f| {
            f.as_deref().unwrap_or("").trim() != current.first_name.as_deref().unwrap_or("")
        })
        || upd.last_name.as_ref().is_some_and(|l| {
            l.as_deref().unwrap_or("").trim() != current.last_name.as_deref().unwrap_or("")
        });
    let meta_changed = meta.as_ref().is_some_and(|m| *m != current.public_metadata);
    if !profile_changed && !meta_changed {
        return done(&emu, "Nothing changed.");
    }
    // One user.updated per save: apply profile and metadata (replace) in one update.
    let upd = UpdateUser {
        public_metadata: if meta_changed { meta } else { None },
        ..upd
    };
    match emu.op_update_user(&user_id, upd, &req) {
        Ok(u) => done(&emu, &format!("Saved {}.", u.id)),
        Err(e) => problem(&emu, &user_id, e.long_message(), &form),
    }
}

async fn delete_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    match emu.op_delete_user(&user_id, &ReqInfo::from_headers(&headers)) {
        Ok(_) => done(&emu, &format!("Deleted {user_id}.")),
        Err(e) => problem(&emu, "", e.long_message(), &HashMap::new()),
    }
}

async fn rotate_key(State(emu): State<Emulator>, headers: HeaderMap) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let kid = emu.rotate_key().await;
    done(
        &emu,
        &format!("New signing key {kid}; the previous key stays in JWKS."),
    )
}
