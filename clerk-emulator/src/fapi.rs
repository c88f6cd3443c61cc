//! Frontend API: JWKS, sign-in/sign-out pages (no JavaScript), handshake, token refresh.

use crate::api_error::{json_response, ApiError};
use crate::core::{CreateUser, ReqInfo};
use crate::html::{forbidden, html_response, page, redirect, same_origin_ok, see_other};
use crate::keys::cookie_suffix;
use crate::util::{cookie, esc, first, origin_of, parse_cookies, qenc, query_pairs};
use crate::{Emulator, User};
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use std::collections::HashMap;

const YEAR: i64 = 31_536_000;

pub(crate) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/", get(home))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/v1/client/handshake", get(handshake))
        .route(
            "/v1/client/sessions/{session_id}/tokens",
            post(refresh_token),
        )
        .route("/sign-in", get(sign_in_page).post(sign_in_create))
        .route("/sign-in/pick", post(sign_in_pick))
        .route("/sign-up", get(sign_in_page).post(sign_in_create))
        .route("/sign-out", get(sign_out_page).post(sign_out))
        .route("/avatar/{file}", get(avatar))
}

fn secure_attr(emu: &Emulator) -> &'static str {
    if emu.config().frontend_api_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// Set-Cookie strings for a signed-in browser (`__session`, `__client_uat`, and their
/// suffixed twins as clerk-js writes them).
pub(crate) fn session_cookie_strings(emu: &Emulator, jwt: &str, uat: i64) -> Vec<String> {
    let sfx = cookie_suffix(&emu.config().publishable_key);
    let sec = secure_attr(emu);
    let mut v = Vec::new();
    for name in ["__session".to_string(), format!("__session_{sfx}")] {
        v.push(format!(
            "{name}={jwt}; Path=/; SameSite=Lax; Max-Age={YEAR}{sec}"
        ));
    }
    for name in ["__client_uat".to_string(), format!("__client_uat_{sfx}")] {
        v.push(format!(
            "{name}={uat}; Path=/; SameSite=Lax; Max-Age={YEAR}{sec}"
        ));
    }
    v
}

/// Directives for "no session": clear `__session`, set `__client_uat=0`.
fn signed_out_directives(emu: &Emulator) -> Vec<String> {
    let sfx = cookie_suffix(&emu.config().publishable_key);
    let sec = secure_attr(emu);
    let mut v = Vec::new();
    for name in ["__session".to_string(), format!("__session_{sfx}")] {
        v.push(format!("{name}=; Path=/; SameSite=Lax; Max-Age=0{sec}"));
    }
    for name in ["__client_uat".to_string(), format!("__client_uat_{sfx}")] {
        v.push(format!(
            "{name}=0; Path=/; SameSite=Lax; Max-Age={YEAR}{sec}"
        ));
    }
    v
}

fn client_cookie(emu: &Emulator, token: &str) -> String {
    format!(
        "__client={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={YEAR}{}",
        secure_attr(emu)
    )
}

/// Sign-out: clear `__client`, `__session`, `__client_uat` (value 0) and the suffixed twins.
fn cleared_cookies(emu: &Emulator) -> Vec<String> {
    let sfx = cookie_suffix(&emu.config().publishable_key);
    let sec = secure_attr(emu);
    vec![
        format!("__client=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{sec}"),
        format!("__session=; Path=/; SameSite=Lax; Max-Age=0{sec}"),
        format!("__client_uat=0; Path=/; SameSite=Lax; Max-Age=0{sec}"),
        format!("__session_{sfx}=; Path=/; SameSite=Lax; Max-Age=0{sec}"),
        format!("__client_uat_{sfx}=0; Path=/; SameSite=Lax; Max-Age=0{sec}"),
    ]
}

fn client_token(headers: &HeaderMap) -> Option<String> {
    let cookies = parse_cookies(headers);
    cookie(&cookies, "__client")
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

async fn jwks(State(emu): State<Emulator>) -> Response {
    let mut r = json_response(StatusCode::OK, &emu.jwks());
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

async fn home(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_pairs(raw.as_deref());
    let base = esc(&emu.config().frontend_api_url);
    let mut body = String::from("<h1>Clerk emulator</h1>");
    if first(&q, "redirect_refused").is_some() {
        body.push_str(
            "<p class=\"notice\">The requested <code>redirect_url</code> is not on this \
             instance's allow-list, so you were brought here instead.</p>",
        );
    }
    match client_token(&headers).and_then(|t| emu.client_user(&t)) {
        Some(u) => body.push_str(&format!(
            "<p>Signed in as <strong>{}</strong> (<code>{}</code>).</p>\
             <form method=\"post\" action=\"{base}/sign-out\"><button>Sign out</button></form>",
            esc(&u.display_name()),
            esc(&u.id)
        )),
        None => body.push_str(&format!(
            "<p>Not signed in. <a href=\"{base}/sign-in\">Sign in</a></p>"
        )),
    }
    body.push_str(&format!(
        "<h2>Instance</h2><table>\
         <tr><th>Frontend API</th><td><code>{base}</code></td></tr>\
         <tr><th>Publishable key</th><td><code>{}</code></td></tr>\
         <tr><th>Instance id</th><td><code>{}</code></td></tr>\
         <tr><th>JWKS</th><td><a href=\"{base}/.well-known/jwks.json\">{base}/.well-known/jwks.json</a></td></tr>\
         </table>",
        esc(&emu.config().publishable_key),
        esc(&emu.instance_id()),
    ));
    html_response(StatusCode::OK, page(&emu, "Home", &body))
}

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
    form: &SignInForm,
    error: Option<&str>,
) -> String {
    let base = esc(&emu.config().frontend_api_url);
    let hidden = redirect_url
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"redirect_url\" value=\"{}\">",
                esc(r)
            )
        })
        .unwrap_or_default();
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

async fn sign_in_page(State(emu): State<Emulator>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let redirect_url = first(&q, "redirect_url").filter(|s| !s.is_empty());
    html_response(
        StatusCode::OK,
        sign_in_html(&emu, redirect_url, &SignInForm::default(), None),
    )
}

fn redirect_param(form: &HashMap<String, String>, raw: Option<&str>) -> Option<String> {
    form.get("redirect_url")
        .cloned()
        .or_else(|| {
            let q = query_pairs(raw);
            first(&q, "redirect_url").map(str::to_string)
        })
        .filter(|s| !s.is_empty())
}

/// Sign the user in on the browser's client, set cookies, redirect (allow-list only).
fn complete_sign_in(
    emu: &Emulator,
    headers: &HeaderMap,
    user_id: &str,
    redirect_url: Option<&str>,
) -> Result<Response, ApiError> {
    let target = emu.allowed_redirect(redirect_url);
    let azp = target.as_deref().and_then(origin_of);
    let existing = client_token(headers);
    let signed = emu.op_sign_in(user_id, existing.as_deref(), azp)?;
    let mut cookies = vec![client_cookie(emu, &signed.client_token)];
    cookies.extend(session_cookie_strings(
        emu,
        &signed.session_token,
        signed.client_uat,
    ));
    let base = &emu.config().frontend_api_url;
    let location = match (target, redirect_url) {
        (Some(t), _) => t,
        (None, Some(_)) => format!("{base}/?redirect_refused=1"),
        (None, None) => format!("{base}/"),
    };
    Ok(see_other(&location, &cookies))
}

async fn sign_in_create(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let redirect_url = redirect_param(&form, raw.as_deref());
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let f = SignInForm {
        first_name: get("first_name"),
        last_name: get("last_name"),
        username: get("username"),
        email_address: get("email_address"),
        image_url: get("image_url"),
    };
    if f.email_address.trim().is_empty() {
        return html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_html(
                &emu,
                redirect_url.as_deref(),
                &f,
                Some("An email address is required."),
            ),
        );
    }
    let image = f.image_url.trim();
    let image_ok =
        image.is_empty() || image.starts_with("https://") || image.starts_with("http://");
    if !image_ok {
        return html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_html(
                &emu,
                redirect_url.as_deref(),
                &f,
                Some("The image URL must start with http:// or https://."),
            ),
        );
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
        Err(e) => {
            return html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                sign_in_html(&emu, redirect_url.as_deref(), &f, Some(&e.long_message())),
            )
        }
    };
    match complete_sign_in(&emu, &headers, &user.id, redirect_url.as_deref()) {
        Ok(r) => r,
        Err(e) => html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_html(&emu, redirect_url.as_deref(), &f, Some(&e.long_message())),
        ),
    }
}

async fn sign_in_pick(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !same_origin_ok(&emu, &headers) {
        return forbidden(&emu);
    }
    let redirect_url = redirect_param(&form, raw.as_deref());
    let user_id = form.get("user_id").cloned().unwrap_or_default();
    match complete_sign_in(&emu, &headers, &user_id, redirect_url.as_deref()) {
        Ok(r) => r,
        Err(e) => html_response(
            StatusCode::NOT_FOUND,
            sign_in_html(
                &emu,
                redirect_url.as_deref(),
                &SignInForm::default(),
                Some(&e.long_message()),
            ),
        ),
    }
}

async fn sign_out_page(State(emu): State<Emulator>, RawQuery(raw): RawQuery) -> Response {
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

async fn sign_out(
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

async fn handshake(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_pairs(raw.as_deref());
    let Some(target) = emu.allowed_redirect(first(&q, "redirect_url")) else {
        let body = "<h1>Handshake refused</h1><p class=\"error\">The <code>redirect_url</code> \
                    is missing or its origin is not on this instance's allow-list.</p>";
        return html_response(
            StatusCode::BAD_REQUEST,
            page(&emu, "Handshake refused", body),
        );
    };
    let azp = origin_of(&target);
    let directives = match client_token(&headers).and_then(|t| emu.live_session(&t)) {
        Some((sid, uat)) => match emu.mint_for_session(&sid, azp.as_deref()) {
            Ok(jwt) => session_cookie_strings(&emu, &jwt, uat),
            Err(_) => signed_out_directives(&emu),
        },
        None => signed_out_directives(&emu),
    };
    let token = match emu.sign_jwt(&json!({ "handshake": directives }), None) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let cookie = format!(
        "__clerk_handshake={token}; Path=/; Max-Age=10; SameSite=Lax; HttpOnly{}",
        secure_attr(&emu)
    );
    redirect(StatusCode::TEMPORARY_REDIRECT, &target, &[cookie])
}

/// clerk-js's refresh call: a fresh token for the browser's own live session.
async fn refresh_token(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Response {
    let live = client_token(&headers).and_then(|t| emu.live_session(&t));
    let Some((sid, _)) = live.filter(|(sid, _)| *sid == session_id) else {
        return ApiError::new(
            401,
            "authentication_invalid",
            "Invalid authentication",
            "Unable to authenticate the request, you need to supply an active session",
        )
        .into_response();
    };
    let azp = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| emu.origin_allowed(o))
        .map(str::to_string);
    match emu.mint_for_session(&sid, azp.as_deref()) {
        Ok(jwt) => json_response(StatusCode::OK, &json!({"object": "token", "jwt": jwt})),
        Err(e) => e.into_response(),
    }
}

fn initials(u: &User) -> String {
    let name = u.display_name();
    let mut s: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    if s.is_empty() {
        s.push('?');
    }
    s.to_uppercase()
}

async fn avatar(State(emu): State<Emulator>, Path(file): Path<String>) -> Response {
    let id = file.strip_suffix(".svg").unwrap_or(&file);
    let text = match emu.get_user(id).await {
        Some(u) => initials(&u),
        None => "?".into(),
    };
    let hue = id
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b.into()))
        % 360;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"128\" height=\"128\" viewBox=\"0 0 128 128\">\
         <rect width=\"128\" height=\"128\" rx=\"64\" fill=\"hsl({hue},45%,45%)\"/>\
         <text x=\"64\" y=\"78\" font-family=\"sans-serif\" font-size=\"44\" fill=\"#fff\" text-anchor=\"middle\">{}</text></svg>",
        esc(&text)
    );
    let mut r = (StatusCode::OK, svg).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    r
}

impl Emulator {
    /// `{frontend_api_url}/sign-in?redirect_url=…`
    pub fn sign_in_url(&self, redirect_url: &str) -> String {
        format!(
            "{}/sign-in?redirect_url={}",
            self.config().frontend_api_url,
            qenc(redirect_url)
        )
    }

    /// `{frontend_api_url}/sign-out?redirect_url=…` (GET shows a confirm form; POST signs out).
    pub fn sign_out_url(&self, redirect_url: &str) -> String {
        format!(
            "{}/sign-out?redirect_url={}",
            self.config().frontend_api_url,
            qenc(redirect_url)
        )
    }
}
