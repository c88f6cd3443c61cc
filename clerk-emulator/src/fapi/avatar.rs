//! Generated initials avatars for users without an image.

use crate::util::esc;
use crate::{Emulator, User};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

fn initials(u: &User) -> String {
    let name = u.display_name();
    let mut s: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    if s.is_empty() {
        s.push('?');
    }
    s.to_uppercase()
}

pub(super) async fn avatar(State(emu): State<Emulator>, Path(file): Path<String>) -> Response {
    let id = file.strip_suffix(".svg").unwrap_or(&file);
    let text = match emu.get_user(id).await {
        Some(u) => initials(&u),
        None => "?".into(),
    };
    let hue = id
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b.into()))
        % 360;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"128\" height=\"128\" viewBox=\"0 0 128 128\">\
         <rect width=\"128\" height=\"128\" rx=\"64\" fill=\"hsl({hue},45%,45%)\"/>\
         <text x=\"64\" y=\"78\" font-family=\"sans-serif\" font-size=\"44\" fill=\"#fff\" text-anchor=\"middle\">{}</text></svg>",
        esc(&text)
    );
    let mut r = (StatusCode::OK, svg).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    r
}
