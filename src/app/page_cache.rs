//! Rendered pages kept per user, under that user's cache tags.
//!
//! Rendering a page costs far more than everything else a signed-in request does: the verified
//! token and the user's row are cached already, so the Leptos render was most of the profile
//! page's time. A page whose every byte comes from the user's own row and the URL can be kept
//! like the row itself: it carries the row's tags, so whatever invalidates the row (a role
//! change here, the change feed for another process, the CLI or plain SQL) drops the page too,
//! and while the change feed is down nothing is served from here at all.
//!
//! Which pages qualify is the router's decision; this only keeps them.

use crate::cache::{CacheTags, Tag, TaggedCache};
use crate::models::UserId;
use crate::users::current::Resolution;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::Response;
use leptos::nonce::Nonce;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A page as it left the renderer: only complete, successful HTML answers are kept.
///
/// The body is kept cut around its render's CSP nonce: each answer carries the nonce of its
/// own request (the one its CSP header names), put back in at the cuts.
#[derive(Debug)]
struct RenderedPage {
    headers: HeaderMap,
    pieces: Vec<Bytes>,
}

impl RenderedPage {
    fn body(&self, nonce: Option<&Nonce>) -> Body {
        match (self.pieces.as_slice(), nonce) {
            ([whole], _) => Body::from(whole.clone()),
            (pieces, Some(nonce)) => Body::from(pieces.join(nonce.as_bytes())),
            // Every request gets a nonce from the security layer; without one, the scripts
            // carry none and the browser refuses them, which is the safe way to fail.
            (pieces, None) => Body::from(pieces.concat()),
        }
    }
}

/// `body` cut at every occurrence of `nonce` (a random 128-bit token, found nowhere else).
fn cut_at(body: Bytes, nonce: Option<&Nonce>) -> Vec<Bytes> {
    let Some(needle) = nonce
        .map(|nonce| nonce.as_bytes())
        .filter(|n| !n.is_empty())
    else {
        return vec![body];
    };
    let mut pieces = Vec::new();
    let (mut start, mut at) = (0, 0);
    while at + needle.len() <= body.len() {
        if &body[at..at + needle.len()] == needle {
            pieces.push(body.slice(start..at));
            at += needle.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(body.slice(start..));
    pieces
}

/// Far above any page of the app; a body beyond it is an error, not a page.
const MAX_KEPT_PAGE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct PageCache {
    pages: TaggedCache<(UserId, String), Arc<RenderedPage>>,
}

impl PageCache {
    pub fn new(tags: Arc<CacheTags>, max_entries: u64, ttl: Duration) -> Self {
        PageCache {
            pages: TaggedCache::new("pages", tags, max_entries, ttl),
        }
    }

    /// The page `render` gives for `request`, signed in as user `user_id` (the route guard's
    /// resolution, in the request), from the cache when a render for this user and path is
    /// still fresh.
    ///
    /// The renderer runs without the resolution the route guard made: that read happened
    /// before this cache took its clock, so the page re-reads the user after it, and a change
    /// committed in between makes the kept page stale rather than wrong.
    pub async fn get_or_render<F, Fut>(
        &self,
        user_id: UserId,
        mut request: Request<Body>,
        render: F,
    ) -> Response
    where
        F: FnOnce(Request<Body>) -> Fut,
        Fut: Future<Output = Response>,
    {
        let key = (user_id, request.uri().path().to_owned());
        let nonce = request.extensions().get::<Nonce>().cloned();
        let render_nonce = nonce.clone();
        let kept = self
            .pages
            .get_or_load(key, || async move {
                let mut tags = vec![Tag::user(user_id)];
                if let Some(Resolution::Active(user)) = request.extensions_mut().remove() {
                    tags.push(Tag::clerk_user(&user.clerk_user_id));
                }
                keepable(render(request).await, render_nonce.as_ref())
                    .await
                    .map(|page| (Arc::new(page), tags))
            })
            .await;
        match kept {
            Ok(page) => {
                let mut response = Response::new(page.body(nonce.as_ref()));
                *response.headers_mut() = page.headers.clone();
                response
            }
            Err(response) => response,
        }
    }

    pub fn entry_count(&self) -> u64 {
        self.pages.entry_count()
    }
}

/// The page to keep, or the response as it is when it must not be kept.
async fn keepable(response: Response, nonce: Option<&Nonce>) -> Result<RenderedPage, Response> {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if response.status() != StatusCode::OK
        || !is_html
        || response.headers().contains_key(header::SET_COOKIE)
    {
        return Err(response);
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_KEPT_PAGE_BYTES).await {
        Ok(body) => Ok(RenderedPage {
            headers: parts.headers,
            pieces: cut_at(body, nonce),
        }),
        Err(error) => {
            tracing::error!(%error, "reading a rendered page failed");
            let mut response = Response::new(Body::from("Something went wrong on our side."));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            Err(response)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_page_carries_the_nonce_of_each_request() {
        let first = Nonce::from_value("n0nce-of-the-render");
        let html = r#"<script nonce="n0nce-of-the-render">a</script><link crossorigin="n0nce-of-the-render">end"#;
        let page = RenderedPage {
            headers: HeaderMap::new(),
            pieces: cut_at(Bytes::from(html), Some(&first)),
        };
        assert_eq!(page.pieces.len(), 3);
        let later = Nonce::from_value("another");
        let body = body_text(page.body(Some(&later)));
        assert_eq!(
            body,
            r#"<script nonce="another">a</script><link crossorigin="another">end"#
        );
        let plain = cut_at(Bytes::from("no scripts"), Some(&first));
        assert_eq!(plain.len(), 1);
    }

    fn body_text(body: Body) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime
            .block_on(axum::body::to_bytes(body, usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
