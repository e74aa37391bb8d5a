//! The one mapping from failures to HTTP: every error leaves as
//! `{"error": {"code", "message", "details"}}` with the right status. A 500 says nothing internal;
//! its cause is logged here, once. Axum's own JSON/path/query rejections come out the same way.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::error::Error;

/// An API failure: status, stable code, user-facing message, optional details.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    pub retry_after: Option<u64>,
}

/// The error body every failing response carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `insufficient_funds`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// Extra structured facts (the invalid field, amounts...); `null` when none.
    #[schema(value_type = Option<Object>)]
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs.max(1));
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 400 naming the offending field.
    pub fn invalid_param(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::bad_request("invalid_parameter", message).with_details(json!({ "field": field }))
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            .with_details(json!({ "retry_after_secs": retry_after_secs }));
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// A 500 that reveals nothing; `cause` goes to the log only.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "request failed with an internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; nothing was changed. Please try again.",
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        use DomainError as D;
        let status = match &e {
            D::NotFound(_) | D::ClaimNotFound { .. } | D::RoleNotListed { .. } => {
                StatusCode::NOT_FOUND
            }
            D::InsufficientFunds { .. }
            | D::WouldGoNegative(_)
            | D::RemoveExceedsBalance { .. }
            | D::NegativeBalance { .. }
            | D::ReversalWouldGoNegative { .. }
            | D::RemoveExceedsHolding { .. }
            | D::AlreadyReversed { .. }
            | D::Conflict(_)
            | D::Refused(_) => StatusCode::CONFLICT,
            D::RateLimited { .. } | D::OnCooldown { .. } => StatusCode::TOO_MANY_REQUESTS,
            D::Invalid { .. }
            | D::InvalidAmount(_)
            | D::SelfTransfer
            | D::BalanceOverflow
            | D::LimitExceeded(_)
            | D::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let (details, retry_after) = match &e {
            D::Invalid { field, .. } => (json!({ "field": field }), None),
            D::InsufficientFunds {
                needed, available, ..
            } => (json!({ "needed": needed, "available": available }), None),
            D::AlreadyReversed { original, by } => {
                (json!({ "original": original, "reversed_by": by }), None)
            }
            D::RemoveExceedsBalance {
                user,
                balance,
                currency,
            }
            | D::NegativeBalance {
                user,
                balance,
                currency,
            } => (
                json!({ "user_id": user, "balance": balance, "currency": currency }),
                None,
            ),
            D::ReversalWouldGoNegative { transaction, user } => (
                json!({ "transaction_id": transaction, "user_id": user }),
                None,
            ),
            D::RemoveExceedsHolding {
                user,
                item_id,
                item,
                held,
            } => (
                json!({ "user_id": user, "item_id": item_id, "item": item, "held": held }),
                None,
            ),
            D::ClaimNotFound {
                user,
                task_id,
                task,
            } => (
                json!({ "user_id": user, "task_id": task_id, "task": task }),
                None,
            ),
            D::RoleNotListed { role, list } => (json!({ "role_id": role, "list": list }), None),
            D::RateLimited { retry_after_secs } => (
                json!({ "retry_after_secs": retry_after_secs }),
                Some((*retry_after_secs).max(1)),
            ),
            D::OnCooldown { until, now } => {
                let secs = u64::try_from((*until - *now).num_seconds()).unwrap_or(0);
                (json!({ "until": until }), Some(secs.max(1)))
            }
            _ => (Value::Null, None),
        };
        ApiError {
            status,
            code: e.code(),
            message: e.to_string(),
            details,
            retry_after,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Domain(d) => d.into(),
            Error::Store(s) => ApiError::internal(&s),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ),
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                // "...target type: days: must be 1 to 36500 at line 1 column 10": name the field.
                let field = text
                    .split_once("target type: ")
                    .and_then(|(_, d)| d.split_once(": "))
                    .map(|(f, _)| f)
                    .filter(|f| !f.is_empty() && !f.contains(' '));
                let e = ApiError::bad_request(
                    "invalid_body",
                    format!("The JSON body is not valid: {text}"),
                );
                match field {
                    Some(f) => e.with_details(json!({ "field": f })),
                    None => e,
                }
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.",
            ),
            other => ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {}", other.body_text()),
            ),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request("invalid_path", format!("Invalid path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        let text = r.body_text();
        // "Failed to deserialize query string: limit: must be 1 to 500": name the field.
        let detail = text
            .split_once("query string: ")
            .map_or(text.as_str(), |(_, d)| d);
        if let Some((field, message)) = detail.split_once(": ") {
            if !field.is_empty()
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return ApiError::invalid_param(field, format!("{field} {message}"));
            }
        }
        ApiError::bad_request("invalid_query", format!("Invalid query parameter: {text}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "code": self.code, "message": self.message, "details": self.details }
        });
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `axum::Json` whose rejections use the API error shape.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path` with the API error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` with the API error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The 404 for unknown routes, in the error shape.
pub async fn not_found_fallback() -> ApiError {
    ApiError::not_found("No such endpoint.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;

    #[test]
    fn domain_errors_map_to_their_statuses_and_codes() {
        let cases = [
            (DomainError::NotFound("User 1".into()), 404, "not_found"),
            (
                DomainError::InsufficientFunds {
                    needed: Money::new(5),
                    available: Money::new(1),
                    currency: "coins".into(),
                },
                409,
                "insufficient_funds",
            ),
            (DomainError::invalid("amount", "bad"), 422, "invalid"),
            (
                DomainError::InvalidAmount("x".into()),
                422,
                "invalid_amount",
            ),
            (
                DomainError::RateLimited {
                    retry_after_secs: 7,
                },
                429,
                "rate_limited",
            ),
            (
                DomainError::NegativeBalance {
                    user: crate::domain::UserId(3),
                    balance: Money::new(-1),
                    currency: "coins".into(),
                },
                409,
                "would_go_negative",
            ),
            (
                DomainError::ClaimNotFound {
                    user: crate::domain::UserId(3),
                    task_id: 1,
                    task: "Bake".into(),
                },
                404,
                "not_found",
            ),
        ];
        for (e, status, code) in cases {
            let a = ApiError::from(e);
            assert_eq!((a.status.as_u16(), a.code), (status, code));
        }
        let r = ApiError::from(DomainError::RateLimited {
            retry_after_secs: 7,
        })
        .into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn a_refusal_naming_a_role_carries_its_id_as_a_detail_not_a_mention() {
        let a = ApiError::from(DomainError::RoleNotListed {
            role: crate::domain::RoleId(42),
            list: "admin_roles".into(),
        });
        assert_eq!((a.status.as_u16(), a.code), (404, "not_found"));
        assert_eq!(a.message, "Role 42 in admin_roles not found.");
        assert_eq!(a.details, json!({ "role_id": "42", "list": "admin_roles" }));
    }

    #[test]
    fn store_errors_become_an_opaque_500() {
        let e = Error::Store(crate::store::StoreError::Invariant("secret detail".into()));
        let a = ApiError::from(e);
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!a.message.contains("secret"));
    }
}
