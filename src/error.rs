//! The error policy of the web layer.
//!
//! Every failure that can reach a person or a client is an [`AppError`]. It is the one type that
//! pages, server functions and axum handlers return, and the only place where a status code is
//! chosen:
//!
//! | variant               | status | body                                  |
//! |-----------------------|--------|---------------------------------------|
//! | `BadRequest`          | 400    | the message, written for a person      |
//! | `Unauthorized`        | 401    | "signed out or session expired"        |
//! | `Forbidden`           | 403    | the message                            |
//! | `NotFound`            | 404    | the message                            |
//! | `Unprocessable`       | 422    | the message                            |
//! | `BadGateway`          | 502    | the message (never an upstream body)   |
//! | `DatabaseUnavailable` | 503    | "the database is unavailable"          |
//! | `Internal`            | 500    | an opaque text and nothing else        |
//!
//! Lower layers keep their own error types (`users::UserError`, `sqlx::Error`, …) with the full
//! cause. They become an `AppError` through a `From` written beside each of them (this module
//! imports nothing of the crate), and that conversion is where the cause is logged: a 500 or 503 body never carries it (it may hold SQL, hosts or secrets), the
//! log always does. Messages of the 4xx variants are shown to people, so they must be written
//! for them and never include secrets.
//!
//! `AppError` is serialisable because server functions send it to the browser (and, with
//! JavaScript off, through the redirect that brings a form back to its page).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("You are signed out, or your session expired: nothing was changed. Please try again.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    BadGateway(String),
    #[error("The database is unavailable. Please try again in a moment.")]
    DatabaseUnavailable,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
}

impl AppError {
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Unprocessable(_) => 422,
            AppError::BadGateway(_) => 502,
            AppError::DatabaseUnavailable => 503,
            AppError::Internal => 500,
        }
    }

    /// A short title for an error page.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "That request did not make sense",
            AppError::Unauthorized => "Please sign in",
            AppError::Forbidden(_) => "You do not have access to this page",
            AppError::NotFound(_) => "Page not found",
            AppError::Unprocessable(_) => "We could not do that",
            AppError::BadGateway(_) => "Clerk did not answer",
            AppError::DatabaseUnavailable => "Database unavailable",
            AppError::Internal => "Something went wrong",
        }
    }

    /// An internal error whose cause is logged here and never shown.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        AppError::Internal
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(message) | E::MissingArg(message) => {
                AppError::BadRequest(format!("The form was incomplete or malformed ({message})."))
            }
            #[cfg(feature = "ssr")]
            other => AppError::internal(other),
            #[cfg(not(feature = "ssr"))]
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status_code())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, self.to_string()).into_response()
    }
}
