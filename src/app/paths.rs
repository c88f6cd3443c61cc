//! The app's own addresses that other code links to, and where we may send a browser back to:
//! only paths on our own origin.
//!
//! The seed redirected to any `Referer`: an open redirect. Here every return target goes through
//! [`safe_return_path`], which keeps the path and query of a same-origin URL or of a relative
//! path, and refuses everything else (other hosts, scheme-relative `//evil.example`, backslash
//! tricks, control characters, the sync route itself).

/// The sync route, which must never be a return target (it would loop).
pub const SYNC_PATH: &str = "/api/clerk/syncUsers";
/// Our sign-in route, which hands over to Clerk.
pub const SIGN_IN_PATH: &str = "/sign-in";

/// Our sign-in route, bringing the person back to `return_to`.
#[cfg(feature = "ssr")]
pub fn sign_in_url(return_to: &str) -> String {
    with_redirect_url(SIGN_IN_PATH, return_to)
}

/// The sync route's URL that brings a not-yet-synced user back to `return_to`.
#[cfg(feature = "ssr")]
pub fn sync_url(return_to: &str) -> String {
    with_redirect_url(SYNC_PATH, return_to)
}

#[cfg(feature = "ssr")]
fn with_redirect_url(path: &str, return_to: &str) -> String {
    let mut url = format!("{path}?redirect_url=");
    url.extend(url::form_urlencoded::byte_serialize(return_to.as_bytes()));
    url
}

/// The path (and query) to return to, if `candidate` stays on `app_origin`.
pub fn safe_return_path(candidate: &str, app_origin: &str) -> Option<String> {
    let candidate = candidate.trim();
    if candidate.is_empty() || candidate.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let path = if candidate.starts_with('/') {
        if candidate.starts_with("//") {
            return None;
        }
        candidate.to_owned()
    } else {
        let origin = app_origin.trim_end_matches('/');
        let rest = candidate.strip_prefix(origin)?;
        if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
            // `https://app.example.com.evil.example/…` shares the prefix but not the origin.
            return None;
        }
        match rest {
            "" => "/".to_owned(),
            rest if rest.starts_with('?') => format!("/{rest}"),
            rest => rest.to_owned(),
        }
    };
    let path = path.split('#').next().unwrap_or("/").to_owned();
    if path == SYNC_PATH || path.starts_with(&format!("{SYNC_PATH}?")) {
        return None;
    }
    if path.starts_with("//") {
        return None;
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:3000";

    #[test]
    fn same_origin_paths_are_kept() {
        assert_eq!(
            safe_return_path("/profile", ORIGIN).as_deref(),
            Some("/profile")
        );
        assert_eq!(
            safe_return_path("/admin/users?q=ada", ORIGIN).as_deref(),
            Some("/admin/users?q=ada")
        );
        assert_eq!(
            safe_return_path("http://127.0.0.1:3000/profile?x=1#top", ORIGIN).as_deref(),
            Some("/profile?x=1")
        );
        assert_eq!(
            safe_return_path("http://127.0.0.1:3000", ORIGIN).as_deref(),
            Some("/")
        );
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "http://127.0.0.1:3000.evil.example/",
            "http://127.0.0.1:30001/",
            "javascript:alert(1)",
            "/api/clerk/syncUsers",
            "/api/clerk/syncUsers?redirect_url=/",
            "/pro\nfile",
            "",
        ] {
            assert_eq!(safe_return_path(bad, ORIGIN), None, "{bad:?}");
        }
    }
}
