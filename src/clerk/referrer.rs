//! Where a navigation came from: Clerk's SDK handshakes once when a signed-in page is opened
//! from another site that is not Clerk's own (another of the team's domains may have signed the
//! browser in or out since), and it needs the page's full URL to come back to.

use crate::clerk::keys::{InstanceType, PublishableKey};

/// Development account portals (`foo-bar-13.accounts.dev`) and their older names.
const DEV_PORTAL_SUFFIXES: [&str; 3] = [
    ".accounts.dev",
    ".accountsstage.dev",
    ".accounts.lclclerk.com",
];
const LEGACY_DEV_SUFFIXES: [&str; 3] = [".lcl.dev", ".lclstage.dev", ".lclclerk.com"];

/// `referrer` is another origin than ours (an unreadable referrer is not).
pub fn is_cross_origin(referrer: &str, app_origin: &str) -> bool {
    let (Ok(referrer), Ok(app)) = (url::Url::parse(referrer), url::Url::parse(app_origin)) else {
        return false;
    };
    referrer.origin() != app.origin()
}

/// `referrer` is Clerk itself: the Frontend API, this instance's Account Portal, or (on
/// development instances only, since anyone can get such a domain) a development portal.
pub fn is_known_clerk_referrer(
    referrer: &str,
    frontend_api_url: &str,
    key: &PublishableKey,
) -> bool {
    let Ok(referrer) = url::Url::parse(referrer) else {
        return false;
    };
    let Some(host) = referrer.host_str() else {
        return false;
    };
    let frontend_host = url::Url::parse(frontend_api_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned));
    if frontend_host.as_deref() == Some(host) || host == key.frontend_api_host {
        return true;
    }
    if key.instance_type != InstanceType::Production {
        let current = DEV_PORTAL_SUFFIXES
            .iter()
            .any(|suffix| host.ends_with(suffix) && !host.ends_with(&format!(".clerk{suffix}")));
        let legacy = host.starts_with("accounts.")
            && LEGACY_DEV_SUFFIXES
                .iter()
                .any(|suffix| host.ends_with(suffix));
        if current || legacy {
            return true;
        }
    }
    let portal = key
        .frontend_api_host
        .replacen("clerk.accountsstage.", "accountsstage.", 1)
        .replacen("clerk.accounts.", "accounts.", 1)
        .replacen("clerk.", "accounts.", 1);
    referrer.origin().ascii_serialization() == format!("https://{portal}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(instance_type: InstanceType, host: &str) -> PublishableKey {
        PublishableKey::new("", instance_type, host)
    }

    #[test]
    fn origins_are_compared_whole() {
        assert!(is_cross_origin(
            "https://news.example.org/a",
            "https://app.example.com"
        ));
        assert!(is_cross_origin(
            "http://app.example.com/",
            "https://app.example.com"
        ));
        assert!(!is_cross_origin(
            "https://app.example.com/x?y",
            "https://app.example.com"
        ));
        assert!(!is_cross_origin("not a url", "https://app.example.com"));
    }

    #[test]
    fn clerk_referrers_are_known() {
        let live = key(InstanceType::Production, "clerk.example.com");
        let fapi = "https://clerk.example.com";
        assert!(is_known_clerk_referrer(
            "https://clerk.example.com/v1/x",
            fapi,
            &live
        ));
        assert!(is_known_clerk_referrer(
            "https://accounts.example.com/sign-in",
            fapi,
            &live
        ));
        assert!(!is_known_clerk_referrer(
            "https://accounts.evil.com/",
            fapi,
            &live
        ));
        // Anyone can have a development portal: trusted on development instances only.
        assert!(!is_known_clerk_referrer(
            "https://foo-bar-13.accounts.dev/",
            fapi,
            &live
        ));
        let test = key(InstanceType::Development, "foo-bar-13.clerk.accounts.dev");
        let fapi = "https://foo-bar-13.clerk.accounts.dev";
        assert!(is_known_clerk_referrer(
            "https://foo-bar-13.accounts.dev/sign-in",
            fapi,
            &test
        ));
        assert!(is_known_clerk_referrer(
            "https://other-cat-2.accounts.dev/",
            fapi,
            &test
        ));
        assert!(!is_known_clerk_referrer(
            "https://news.example.org/",
            fapi,
            &test
        ));
    }
}
