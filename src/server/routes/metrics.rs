//! `GET /metrics` (Prometheus' text format): on a listener of its own (`METRICS_ADDR`), and on
//! the main one for `Authorization: Bearer <METRICS_TOKEN>`. Never public: the counts say how
//! busy the app is and what fails in it.

use crate::app::state::AppState;
use crate::clerk::keys::Secret;
use crate::server::metrics::scrape as render;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const METRICS_PATH: &str = "/metrics";

#[derive(Clone)]
struct Scrape {
    app: AppState,
    handle: PrometheusHandle,
    /// `None` on the metrics listener, where reaching the address is the permission.
    token: Option<Secret>,
}

/// `/metrics` behind the bearer token, for the main router.
pub fn with_token(app: AppState, handle: PrometheusHandle, token: Secret) -> Router<AppState> {
    routes(Scrape {
        app,
        handle,
        token: Some(token),
    })
}

/// The metrics listener's whole router: `/metrics` and nothing else.
pub fn listener_router(app: AppState, handle: PrometheusHandle) -> Router {
    routes(Scrape {
        app,
        handle,
        token: None,
    })
}

fn routes<S: Clone + Send + Sync + 'static>(scrape: Scrape) -> Router<S> {
    Router::new()
        .route(METRICS_PATH, get(metrics))
        .with_state(scrape)
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &scrape.token {
        if !bearer_matches(&headers, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required",
            )
                .into_response();
        }
    }
    let text = render(&scrape.app, &scrape.handle).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Whether `Authorization` is `Bearer <token>`. Both sides are hashed first, so the comparison
/// takes the same time whatever the given value, its length included.
fn bearer_matches(headers: &HeaderMap, token: &Secret) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given = Sha256::digest(given.trim().as_bytes());
    let expected = Sha256::digest(token.expose().as_bytes());
    given.as_slice().ct_eq(expected.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_the_exact_bearer_token_matches() {
        let token = Secret::new("0123456789abcdef-token");
        assert!(bearer_matches(
            &with_authorization("Bearer 0123456789abcdef-token"),
            &token
        ));
        for wrong in [
            "Bearer 0123456789abcdef-toke",
            "Bearer 0123456789abcdef-token2",
            "Basic 0123456789abcdef-token",
            "0123456789abcdef-token",
            "Bearer ",
        ] {
            assert!(
                !bearer_matches(&with_authorization(wrong), &token),
                "{wrong}"
            );
        }
        assert!(!bearer_matches(&HeaderMap::new(), &token));
    }
}
