//! Keeping a browser's session token fresh: the handshake redirect and clerk-js's refresh.

use super::cookies::{
    client_token, dev_browser_directives, secure_attr, session_cookie_strings,
    signed_out_directives,
};
use crate::api_error::{json_response, ApiError};
use crate::html::{html_response, page, redirect};
use crate::util::{first, origin_of, query_pairs};
use crate::Emulator;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `GET /v1/client/handshake`: the browser's current session as cookie directives, sent back
/// to `redirect_url` as a signed token (`format=token`, the default) or behind a nonce the
/// Backend API redeems once (`format=nonce`). A production instance sets the payload as a
/// cookie (it shares the app's site); a development instance puts it in the URL, and adds the
/// development browser's cookie to the directives.
pub(super) async fn handshake(
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
    let (client, dev_browser) = if emu.is_development() {
        match emu.op_dev_browser(first(&q, "__clerk_db_jwt")) {
            Ok((dev_browser, client)) => (Some(client), Some(dev_browser)),
            Err(e) => return e.into_response(),
        }
    } else {
        (client_token(&headers), None)
    };
    let azp = origin_of(&target);
    let mut directives = match client.and_then(|t| emu.live_session(&t)) {
        Some((sid, uat)) => match emu.mint_for_session(&sid, azp.as_deref()) {
            Ok(jwt) => session_cookie_strings(&emu, &jwt, uat),
            Err(_) => signed_out_directives(&emu),
        },
        None => signed_out_directives(&emu),
    };
    if let Some(dev_browser) = &dev_browser {
        directives.extend(dev_browser_directives(&emu, dev_browser));
    }
    let (name, value) = if first(&q, "format") == Some("nonce") {
        (
            "__clerk_handshake_nonce",
            emu.op_store_handshake(directives),
        )
    } else {
        match emu.sign_jwt(&json!({ "handshake": directives }), None) {
            Ok(token) => ("__clerk_handshake", token),
            Err(e) => return e.into_response(),
        }
    };
    if emu.is_development() {
        let Ok(mut back) = url::Url::parse(&target) else {
            return ApiError::internal(500).into_response();
        };
        back.query_pairs_mut().append_pair(name, &value);
        return redirect(StatusCode::TEMPORARY_REDIRECT, back.as_str(), &[]);
    }
    let cookie = format!(
        "{name}={value}; Path=/; Max-Age=10; SameSite=Lax; HttpOnly{}",
        secure_attr(&emu)
    );
    redirect(StatusCode::TEMPORARY_REDIRECT, &target, &[cookie])
}

/// clerk-js's refresh call: a fresh token for the browser's own live session.
pub(super) async fn refresh_token(
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
