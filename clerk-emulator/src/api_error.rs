//! Clerk's error body (`ClerkErrors`) and the error codes the emulator answers with.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub status: u16,
    pub errors: Vec<Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: &str, long_message: &str) -> Self {
        ApiError {
            status,
            errors: vec![json!({"message": message, "long_message": long_message, "code": code})],
            retry_after: None,
        }
    }

    fn with_param(mut self, param: &str) -> Self {
        if let Some(Value::Object(m)) = self.errors.first_mut() {
            m.insert("meta".into(), json!({"param_name": param}));
        }
        self
    }

    pub fn code(&self) -> String {
        self.errors
            .first()
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    pub fn long_message(&self) -> String {
        self.errors
            .first()
            .and_then(|e| e.get("long_message"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    pub fn user_not_found(id: &str) -> Self {
        Self::new(
            404,
            "resource_not_found",
            "not found",
            &format!("No user was found with id {id}"),
        )
    }

    pub fn resource_not_found() -> Self {
        Self::new(404, "resource_not_found", "not found", "Resource not found")
    }

    pub fn key_invalid() -> Self {
        let m = "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.";
        Self::new(401, "clerk_key_invalid", m, m)
    }

    pub fn header_format_invalid() -> Self {
        Self::new(
            401,
            "authorization_header_format_invalid",
            "Invalid Authorization header format",
            "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'",
        )
    }

    pub fn param_unknown(param: &str) -> Self {
        Self::new(
            422,
            "form_param_unknown",
            "is unknown",
            &format!("{param} is not a valid parameter for this request."),
        )
        .with_param(param)
    }

    pub fn param_value_invalid(param: &str, long: &str) -> Self {
        Self::new(422, "form_param_value_invalid", "is invalid", long).with_param(param)
    }

    pub fn param_type_invalid(param: &str, received: &str, expected: &str) -> Self {
        Self::param_value_invalid(
            param,
            &format!("{param} is invalid. Received {received}, must be of type {expected}."),
        )
    }

    pub fn param_format_invalid(param: &str, long: &str) -> Self {
        Self::new(422, "form_param_format_invalid", "is invalid", long).with_param(param)
    }

    pub fn identifier_exists(param: &str, what: &str) -> Self {
        let m = format!("That {what} is taken. Please try another.");
        Self::new(422, "form_identifier_exists", &m, &m).with_param(param)
    }

    pub fn data_missing(param: &str) -> Self {
        Self::new(
            422,
            "form_data_missing",
            "missing data",
            &format!("\"{param}\" data doesn't match user requirements set for this instance"),
        )
        .with_param(param)
    }

    pub fn body_invalid() -> Self {
        Self::new(
            400,
            "request_body_invalid",
            "Request body invalid",
            "The request body is invalid. Please consult the API documentation for more information.",
        )
    }

    pub fn unsupported_content_type(actual: &str) -> Self {
        Self::new(
            415,
            "unsupported_content_type",
            "Content-Type is unsupported",
            &format!(
                "Content-Type {actual} is unsupported. You should use application/json instead."
            ),
        )
    }

    pub fn api_version_invalid(reason: &str) -> Self {
        Self::new(
            400,
            "api_version_invalid",
            "invalid API version",
            &format!("Invalid Clerk API version: {reason}"),
        )
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "too_many_requests",
            "Too many requests",
            "Too many requests, retry later",
        );
        if let Some(Value::Object(m)) = e.errors.first_mut() {
            m.insert("meta".into(), json!({"resets_in": retry_after}));
        }
        e.retry_after = Some(retry_after);
        e
    }

    pub fn internal(status: u16) -> Self {
        Self::new(
            status,
            "internal_clerk_error",
            "Oops, an unexpected error occurred",
            "There was an internal error on our servers. We've been notified and are working on fixing it.",
        )
    }

    pub fn body(&self) -> Value {
        json!({"errors": self.errors, "clerk_trace_id": crate::util::random_hex(16)})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = json_response(status, &self.body());
        if let Some(ra) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&ra.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<ApiError> for crate::EmulatorError {
    fn from(e: ApiError) -> Self {
        crate::EmulatorError::Api {
            status: e.status,
            code: e.code(),
            message: e.long_message(),
        }
    }
}

/// JSON response with `Content-Type` exactly `application/json`.
pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
