//! Pages with a browser bundle: the shell loads it, every script carries the nonce that the
//! CSP header names (a fresh one per request, kept pages included), and the bundle's files are
//! served for good under their hashed names. The bundle here is a stand-in with the layout
//! `scripts/build-wasm` writes; nothing in it runs.

use crate::helpers::app::{spawn_app, spawn_app_with, AppOptions, TestApp};

const JS: &str = "warden.0a1b2c3d4e.js";
const WASM: &str = "warden.5f6a7b8c9d.wasm";

/// A folder laid out as `scripts/build-wasm` leaves it.
fn fake_bundle() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-pkg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hash.txt"), "js: 0a1b2c3d4e\nwasm: 5f6a7b8c9d\n").unwrap();
    std::fs::write(dir.join(JS), "export default async function () {}\n").unwrap();
    std::fs::write(dir.join(WASM), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join(format!("{WASM}.gz")), b"gzip stand-in").unwrap();
    std::fs::write(dir.join("notes.txt"), "not part of the bundle").unwrap();
    dir
}

async fn spawn_with_bundle() -> (TestApp, std::path::PathBuf) {
    let dir = fake_bundle();
    let app = spawn_app_with(AppOptions {
        env: vec![("WARDEN_PKG_DIR", dir.to_string_lossy().into_owned())],
        ..Default::default()
    })
    .await;
    (app, dir)
}

/// The nonce the CSP header allows scripts with.
fn csp_nonce(response: &reqwest::Response) -> String {
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("script-src "))
        .unwrap_or_else(|| panic!("no script-src: {csp}"));
    let nonces: Vec<&str> = script_src
        .split_whitespace()
        .filter_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
        .collect();
    assert_eq!(nonces.len(), 1, "{csp}");
    assert!(nonces[0].len() >= 16, "a nonce of 128 bits: {csp}");
    nonces[0].to_owned()
}

/// Every `<script …>` opening tag of the page.
fn script_tags(body: &str) -> Vec<&str> {
    body.match_indices("<script")
        .map(|(at, _)| &body[at..at + body[at..].find('>').expect("a closed tag") + 1])
        .collect()
}

/// The page's scripts all carry the CSP's nonce; returns that nonce.
async fn page_nonce(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let nonce = csp_nonce(&response);
    let body = response.text().await.unwrap();
    let scripts = script_tags(&body);
    assert!(
        scripts.iter().any(|tag| tag.contains("type=\"module\"")),
        "the hydration script: {body}"
    );
    for tag in &scripts {
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "{tag} lacks the CSP's nonce {nonce}"
        );
    }
    assert!(body.contains(&format!("/pkg/{JS}")), "{body}");
    assert!(body.contains(&format!("/pkg/{WASM}")), "{body}");
    nonce
}

#[tokio::test]
async fn every_script_carries_the_nonce_of_its_own_request() {
    let (app, dir) = spawn_with_bundle().await;
    let first = page_nonce(app.get_page("/").await).await;
    let second = page_nonce(app.get_page("/").await).await;
    assert_ne!(first, second, "a nonce per request");

    // A signed-in person's profile is kept and served again: with each request's own nonce.
    let user = app.clerk_user("Ada", "Lovelace", "ada@example.com").await;
    let browser = app.signed_in_client(&user.id).await;
    app.sync(&browser).await;
    let kept: Vec<String> = [
        page_nonce(browser.get("/profile").await).await,
        page_nonce(browser.get("/profile").await).await,
        page_nonce(browser.get("/profile").await).await,
    ]
    .into();
    assert!(app.state.pages.entry_count() <= 1, "one kept page");
    assert_ne!(kept[0], kept[1]);
    assert_ne!(kept[1], kept[2]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A GET of `path` as a script or `fetch` asks for it, with `accept-encoding` when given.
async fn fetch(app: &TestApp, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_bundle_is_served_for_good_and_nothing_else_of_its_folder() {
    let (app, dir) = spawn_with_bundle().await;
    let wasm = fetch(&app, &format!("/pkg/{WASM}"), None).await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(!wasm.headers().contains_key("content-encoding"));
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), b"\0asm\x01\0\0\0");
    // The build's gzip copy, for browsers that take it (the stand-in's bytes come back as they are).
    let gzipped = fetch(&app, &format!("/pkg/{WASM}"), Some("gzip, br")).await;
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert_eq!(gzipped.headers()["content-type"], "application/wasm");
    assert_eq!(gzipped.bytes().await.unwrap().as_ref(), b"gzip stand-in");
    let js = fetch(&app, &format!("/pkg/{JS}"), None).await;
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    for other in ["hash.txt", "notes.txt", "warden.ffff.js", "..%2Fhash.txt"] {
        let response = fetch(&app, &format!("/pkg/{other}"), None).await;
        assert_eq!(response.status(), 404, "{other}");
    }
    let css = fetch(&app, "/pkg/warden.css", None).await;
    assert_eq!(css.status(), 200, "the stylesheet keeps its own route");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn without_a_bundle_pages_carry_no_script_and_pkg_serves_nothing() {
    let app = spawn_app().await;
    let response = app.get_page("/").await;
    let nonce = csp_nonce(&response);
    let body = response.text().await.unwrap();
    assert!(script_tags(&body).is_empty(), "{body}");
    assert!(!body.contains(&nonce), "{body}");
    let js = fetch(&app, &format!("/pkg/{JS}"), None).await;
    assert_eq!(js.status(), 404);
}
