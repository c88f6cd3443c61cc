//! The admin services' error type, and how it reaches a person.

use crate::error::AppError;
use crate::models::Role;
use crate::users::UserError;

/// What the admin services refuse, in words for the admin who asked.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Parameters that are not what a page of ours sends (a broken cursor, …).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The actor is not (or no longer) an active admin.
    #[error("Only an admin can change roles, and you are not one (any more).")]
    ActorNotAdmin,
    #[error("{name} is the last admin; promote someone else first.")]
    LastAdmin { name: String },
    #[error("{name} was deleted; a deleted user's role cannot change.")]
    DeletedUser { name: String },
    /// The form showed another role than the user has now, and acting on it would not give
    /// what the admin saw and meant.
    #[error(
        "{name}'s role changed to {actual} since the page was loaded (it showed {expected}). \
         Nothing was changed; look again and retry if you still want to."
    )]
    StaleForm {
        name: String,
        expected: Role,
        actual: Role,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<AdminError> for AppError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::BadRequest(message) => AppError::BadRequest(message),
            AdminError::NotFound(message) => AppError::NotFound(message),
            AdminError::ActorNotAdmin => AppError::Forbidden(error_text(&error)),
            AdminError::LastAdmin { .. }
            | AdminError::DeletedUser { .. }
            | AdminError::StaleForm { .. }
            | AdminError::Invalid(_) => AppError::Unprocessable(error_text(&error)),
            AdminError::Database(error) => error.into(),
        }
    }
}

fn error_text(error: &AdminError) -> String {
    error.to_string()
}

impl From<UserError> for AdminError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Database(error) => AdminError::Database(error),
            UserError::NotFound => AdminError::NotFound("There is no user with this id.".into()),
            other => AdminError::Invalid(other.to_string()),
        }
    }
}
