//! Keeping a browser's session token fresh: the handshake redirect and clerk-js's refresh.

use super::cookies::{client_token, secure_attr, session_cookie_strings, signed_out_directives};
use crate::api_error::{json_response, ApiError};
use crate::html::{html_response, page, redirect};
use crate::util::{first, origin_of, query_pairs};
use crate::Emulator;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
