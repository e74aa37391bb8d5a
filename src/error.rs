//! The service error: a refusal the user should see (`Domain`), or a failure they should not see
//! the inside of (`Store`). Doors (`discord/`, `web/`) map it to a reply once.

use crate::domain::DomainError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("internal storage error")]
    Store(StoreError),
}

/// A refusal raised inside the store is the user's to see; every other store error is internal.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(d) => Error::Domain(d),
            other => Error::Store(other),
        }
    }
}

impl Error {
    /// What a user may be shown.
    pub fn user_message(&self) -> String {
        match self {
            Error::Domain(e) => e.to_string(),
            Error::Store(_) => {
                "Something went wrong on our side; nothing was changed. Please try again.".into()
            }
        }
    }

    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            Error::Domain(e) => Some(e),
            Error::Store(_) => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
