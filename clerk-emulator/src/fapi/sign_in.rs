//! The sign-in and sign-out pages: pick or create a user, then redirect (allow-list only).

use super::cookies::{cleared_cookies, client_cookie, client_token, session_cookie_strings};
use crate::api_error::ApiError;
use crate::core::{CreateUser, ReqInfo};
use crate::html::{forbidden, html_response, page, same_origin_ok, see_other};
use crate::util::{esc, first, origin_of, query_pairs};
use crate::Emulator;
use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;

#[derive(Default)]
struct SignInForm {
    first_name: String,
    last_name: String,
    username: String,
    email_address: String,
    image_url: String,
}

fn sign_in_html(
    emu: &Emulator,
    redirect_url: Option<&str>,
    dev_browser: Option<&str>,
    form: &SignInForm,
    error: Option<&str>,
) -> String {
    let base = esc(&emu.config().frontend_api_url);
    let mut hidden = redirect_url
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"redirect_url\" value=\"{}\">",
                esc(r)
            )
        })
        .unwrap_or_default();
    if let Some(token) = dev_browser {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"__clerk_db_jwt\" value=\"{}\">",
            esc(token)
        ));
    }
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(r) = redirect_url {
        if emu.allowed_redirect(Some(r)).is_none() {
            body.push_str(
                "<p class=\"notice\">The <code>redirect_url</code> is not on this instance's \
                 allow-list: after signing in you will stay on the emulator.</p>",
            );
        }
    }
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)));
    }
    let users = {
        let st = emu.lock_state();
        st.users.clone()
    };
    if !users.is_empty() {
        body.push_str("<h2>Continue as an existing user</h2>");
        for u in users.iter().rev() {
            body.push_str(&format!(
                "<form class=\"card\" method=\"post\" action=\"{base}/sign-in/pick\">{hidden}\
                 <input type=\"hidden\" name=\"user_id\" value=\"{id}\">\
                 <strong>{name}</strong> <span class=\"muted\">{email} · <code>{id}</code></span><br>\
                 <button type=\"submit\">Continue as {name}</button></form>",
                id = esc(&u.id),
                name = esc(&u.display_name()),
                email = esc(u.primary_email().unwrap_or("")),
            ));
        }
    }
    body.push_str(&format!(
        "<h2>Create a user</h2><form class=\"card\" method=\"post\" action=\"{base}/sign-in\">{hidden}\
         <label>First name <input type=\"text\" name=\"first_name\" value=\"{fname}\" autocomplete=\"given-name\"></label>\
         <label>Last name <input type=\"text\" name=\"last_name\" value=\"{lname}\" autocomplete=\"family-name\"></label>\
         <label>Username <input type=\"text\" name=\"username\" value=\"{uname}\" autocomplete=\"username\"></label>\
         <label>Email address <input type=\"email\" name=\"email_address\" value=\"{email}\" required autocomplete=\"email\"></label>\
         <label>Image URL (optional) <input type=\"url\" name=\"image_url\" value=\"{img}\"></label>\
         <button type=\"submit\">Create user and sign in</button></form>",
        fname = esc(&form.first_name),
        lname = esc(&form.last_name),
        uname = esc(&form.username),
        email = esc(&form.email_address),
        img = esc(&form.image_url),
    ));
    page(emu, "Sign in", &body)
}

pub(super) async fn sign_in_page(State(emu): State<Emulator>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let redirect_url = first(&q, "redirect_url").filter(|s| !s.is_empty());
    let dev_browser = first(&q, "__clerk_db_jwt").filter(|s| !s.is_empty());
    html_response(
        StatusCode::OK,
        sign_in_html(
            &emu,
            redirect_url,
            dev_browser,
            &SignInForm::default(),
            None,
        ),
    )
}

fn form_or_query(form: &HashMap<String, String>, raw: Option<&str>, name: &str) -> Option<String> {
    form.get(name)
        .cloned()
        .or_else(|| {
            let q = query_pairs(raw);
            first(&q, name).map(str::to_string)
        })
        .filter(|s| !s.is_empty())
}

fn redirect_param(form: &HashMap<String, String>, raw: Option<&str>) -> Option<String> {
    form_or_query(form, raw, "redirect_url")
}

/// The browser a sign-in form speaks for: on a development instance its development
/// browser (from the app's link), else the `__client` cookie.
struct Browser {
    dev_browser: Option<String>,
}

impl Browser {
    fn of(form: &HashMap<String, String>, raw: Option<&str>) -> Browser {
        Browser {
            dev_browser: form_or_query(form, raw, "__clerk_db_jwt"),
        }
    }
}

/// Sign the user in on the browser's client, set cookies, redirect (allow-list only).
///
/// A development instance lives on another site than the app: it sets no cookie there, and
/// sends the browser back with its development browser in the URL (`__clerk_db_jwt`), from
/// which the app's handshake fetches the session.
fn complete_sign_in(
    emu: &Emulator,
    headers: &HeaderMap,
    browser: &Browser,
    user_id: &str,
    redirect_url: Option<&str>,
) -> Result<Response, ApiError> {
    let target = emu.allowed_redirect(redirect_url);
    let azp = target.as_deref().and_then(origin_of);
    let (existing, dev_browser) = if emu.is_development() {
        let (dev_browser, client) = emu.op_dev_browser(browser.dev_browser.as_deref())?;
        (Some(client), Some(dev_browser))
    } else {
        (client_token(headers), None)
    };
    let signed = emu.op_sign_in(user_id, existing.as_deref(), azp)?;
    let mut cookies = vec![client_cookie(emu, &signed.client_token)];
    if dev_browser.is_none() {
        cookies.extend(session_cookie_strings(
            emu,
            &signed.session_token,
            signed.client_uat,
        ));
    }
    let target = match (target, &dev_browser) {
        (Some(t), Some(dev_browser)) => url::Url::parse(&t).ok().map(|mut url| {
            url.query_pairs_mut()
                .append_pair("__clerk_db_jwt", dev_browser);
            url.to_string()
        }),
        (target, _) => target,
    };
    let base = &emu.config().frontend_api_url;
    let location = match (target, redirect_url) {
        (Some(t), _) => t,
        (None, Some(_)) => format!("{base}/?redirect_refused=1"),
        (None, None) => format!("{base}/"),
    };
    Ok(see_other(&location, &cookies))
}

pub(super) async fn sign_in_create(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let redirect_url = redirect_param(&form, raw.as_deref());
    let browser = Browser::of(&form, raw.as_deref());
    let dev_browser = browser.dev_browser.as_deref();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let f = SignInForm {
        first_name: get("first_name"),
        last_name: get("last_name"),
        username: get("username"),
        email_address: get("email_address"),
        image_url: get("image_url"),
    };
    // The form again, filled in as sent, with what was wrong.
    let refuse = |message: &str| {
        html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_html(
                &emu,
                redirect_url.as_deref(),
                dev_browser,
                &f,
                Some(message),
            ),
        )
    };
    if f.email_address.trim().is_empty() {
        return refuse("An email address is required.");
    }
    let image = f.image_url.trim();
    let image_ok =
        image.is_empty() || image.starts_with("https://") || image.starts_with("http://");
    if !image_ok {
        return refuse("The image URL must start with http:// or https://.");
    }
    let input = CreateUser {
        email_addresses: vec![f.email_address.clone()],
        first_name: Some(f.first_name.clone()),
        last_name: Some(f.last_name.clone()),
        username: Some(f.username.clone()),
        image_url: Some(f.image_url.clone()),
        ..CreateUser::default()
    };
    let user = match emu.op_create_user(input, &ReqInfo::from_headers(&headers)) {
        Ok(u) => u,
        Err(e) => return refuse(&e.long_message()),
    };
    match complete_sign_in(&emu, &headers, &browser, &user.id, redirect_url.as_deref()) {
        Ok(r) => r,
        Err(e) => refuse(&e.long_message()),
    }
}

pub(super) async fn sign_in_pick(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let redirect_url = redirect_param(&form, raw.as_deref());
    let browser = Browser::of(&form, raw.as_deref());
    let user_id = form.get("user_id").cloned().unwrap_or_default();
    match complete_sign_in(&emu, &headers, &browser, &user_id, redirect_url.as_deref()) {
        Ok(r) => r,
        Err(e) => html_response(
            StatusCode::NOT_FOUND,
            sign_in_html(
                &emu,
                redirect_url.as_deref(),
                browser.dev_browser.as_deref(),
                &SignInForm::default(),
                Some(&e.long_message()),
            ),
        ),
    }
}

pub(super) async fn sign_out_page(
    State(emu): State<Emulator>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_pairs(raw.as_deref());
    let base = esc(&emu.config().frontend_api_url);
    let hidden = first(&q, "redirect_url")
        .filter(|s| !s.is_empty())
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"redirect_url\" value=\"{}\">",
                esc(r)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign out</h1><form class=\"card\" method=\"post\" action=\"{base}/sign-out\">{hidden}\
         <p>End your session on this browser?</p><button type=\"submit\">Sign out</button></form>"
    );
    html_response(StatusCode::OK, page(&emu, "Sign out", &body))
}

pub(super) async fn sign_out(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let redirect_url = redirect_param(&form, raw.as_deref());
    if let Some(t) = client_token(&headers) {
        emu.op_sign_out(&t);
    }
    let base = &emu.config().frontend_api_url;
    let location = match emu.allowed_redirect(redirect_url.as_deref()) {
        Some(t) => t,
        None if redirect_url.is_some() => format!("{base}/?redirect_refused=1"),
        None => format!("{base}/sign-in"),
    };
    see_other(&location, &cleared_cookies(&emu))
}
