//! Frontend API: JWKS, sign-in/sign-out pages (no JavaScript), handshake, token refresh.

mod avatar;
mod cookies;
mod handshake;
mod sign_in;

use crate::api_error::json_response;
use crate::html::{html_response, page};
use crate::util::{esc, first, qenc, query_pairs};
use crate::Emulator;
use avatar::avatar;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use cookies::client_token;
use handshake::{handshake, refresh_token};
use sign_in::{sign_in_create, sign_in_page, sign_in_pick, sign_out, sign_out_page};

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
