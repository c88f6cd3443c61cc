//! Page layout, HTML responses and the same-origin check for state-changing POSTs.

use crate::util::esc;
use crate::Emulator;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}\
label{display:block;margin:.4rem 0}input[type=text],input[type=email],input[type=url],textarea{width:100%;max-width:28rem;padding:.35rem;box-sizing:border-box}\
textarea{font-family:monospace;min-height:6rem}button{padding:.35rem .9rem;margin:.3rem 0;cursor:pointer}\
.card{border:1px solid #ccc;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}\
.error{background:#fde2e2;border:1px solid #e99;padding:.6rem;border-radius:4px}\
.notice{background:#e6f2ff;border:1px solid #9bd;padding:.6rem;border-radius:4px}\
.muted{color:#666;font-size:.9rem}code{background:#f3f3f3;padding:0 .2rem}\
nav a{margin-right:1rem}table{border-collapse:collapse}td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left}";

/// A complete HTML document (no JavaScript).
pub(crate) fn page(emu: &Emulator, title: &str, body: &str) -> String {
    let base = &emu.config().frontend_api_url;
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t} · Clerk emulator</title><style>{CSS}</style></head><body>\
<nav><a href=\"{b}/\">Clerk emulator</a><a href=\"{b}/sign-in\">Sign in</a>\
<a href=\"{b}/sign-out\">Sign out</a><a href=\"{b}/dashboard\">Dashboard</a></nav>\
<main>{body}</main>\
<p class=\"muted\">Local Clerk-compatible emulator for development and tests. Not Clerk.</p>\
</body></html>",
        t = esc(title),
        b = esc(base),
    )
}

pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: http: https:; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// A 303 redirect with optional Set-Cookie headers.
pub(crate) fn see_other(location: &str, cookies: &[String]) -> Response {
    redirect(StatusCode::SEE_OTHER, location, cookies)
}

pub(crate) fn redirect(status: StatusCode, location: &str, cookies: &[String]) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// State-changing POSTs: an `Origin` header, when present, must be the emulator's own origin
/// or an allowed redirect origin.
pub(crate) fn same_origin_ok(emu: &Emulator, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN) {
        None => !headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("cross-site")),
        Some(o) => match o.to_str() {
            Ok(o) => emu.origin_allowed(o.trim_end_matches('/')),
            Err(_) => false,
        },
    }
}

pub(crate) fn forbidden(emu: &Emulator) -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        page(
            emu,
            "Forbidden",
            "<h1>Forbidden</h1><p class=\"error\">This form was posted from another origin.</p>",
        ),
    )
}
