//! What the users service refuses, and how that reaches a person.

use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user not found")]
    NotFound,
    #[error("the user was deleted; Clerk ids are never reused, so it cannot come back")]
    Deleted,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<UserError> for AppError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::NotFound => AppError::NotFound("No such user.".into()),
            UserError::Deleted => AppError::Unprocessable(
                "This user was deleted and cannot be changed or brought back.".into(),
            ),
            UserError::Invalid(message) => AppError::Unprocessable(message),
            UserError::Database(error) => error.into(),
        }
    }
}
