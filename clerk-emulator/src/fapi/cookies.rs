//! The cookies clerk-js and the Clerk SDKs read: `__client`, `__session`, `__client_uat`.

use crate::keys::cookie_suffix;
use crate::util::{cookie, parse_cookies};
use crate::Emulator;
use axum::http::HeaderMap;

const YEAR: i64 = 31_536_000;

pub(super) fn secure_attr(emu: &Emulator) -> &'static str {
    if emu.config().frontend_api_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// Set-Cookie strings for a signed-in browser (`__session`, `__client_uat`, and their
/// suffixed twins as clerk-js writes them).
pub(super) fn session_cookie_strings(emu: &Emulator, jwt: &str, uat: i64) -> Vec<String> {
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
pub(super) fn signed_out_directives(emu: &Emulator) -> Vec<String> {
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

/// The development browser's cookies (plain and suffixed), as a handshake directive.
pub(super) fn dev_browser_directives(emu: &Emulator, token: &str) -> Vec<String> {
    let sfx = cookie_suffix(&emu.config().publishable_key);
    [
        "__clerk_db_jwt".to_string(),
        format!("__clerk_db_jwt_{sfx}"),
    ]
    .into_iter()
    .map(|name| format!("{name}={token}; Path=/; SameSite=Lax; Max-Age={YEAR}"))
    .collect()
}

pub(super) fn client_cookie(emu: &Emulator, token: &str) -> String {
    format!(
        "__client={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={YEAR}{}",
        secure_attr(emu)
    )
}

/// Sign-out: clear `__client`, `__session`, `__client_uat` (value 0) and the suffixed twins.
pub(super) fn cleared_cookies(emu: &Emulator) -> Vec<String> {
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

pub(super) fn client_token(headers: &HeaderMap) -> Option<String> {
    let cookies = parse_cookies(headers);
    cookie(&cookies, "__client")
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
