//! JSON request bodies read as the API document declares them: ids only as strings of digits
//! (`domain::ids::strictly`), and a whole number written with a fraction (`5.0`) taken as the
//! integer it is (JSON Schema counts `5.0` as an integer). Handlers take `Body<T>`, never
//! `axum::Json<T>`, so every body goes through here.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// A JSON request body, parsed strictly (see the module comment).
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(&req) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let operation = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| {
                (
                    p.as_str().to_owned(),
                    req.method().as_str().to_ascii_lowercase(),
                )
            });
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError::from(axum::extract::rejection::JsonRejection::from(r)))?;
        if let Some((path, method)) = operation {
            check_types(&path, &method, &bytes)?;
        }
        parse(&bytes).map(Body)
    }
}

fn is_json(req: &Request) -> bool {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Refuses a body whose JSON types are not the operation's schema's, naming the field.
pub fn check_types(path: &str, method: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let Ok(mut value) = serde_json::from_slice::<Value>(bytes) else {
        // Not JSON at all: `parse` says so.
        return Ok(());
    };
    whole_numbers(&mut value);
    match crate::web::contract::types::mismatch(path, method, &value) {
        None => Ok(()),
        Some(field) => Err(ApiError::bad_request(
            "invalid_body",
            format!("The JSON body is not valid: `{field}` has the wrong type for this operation (see /api/openapi.json)."),
        )
        .with_details(serde_json::json!({ "field": field }))),
    }
}

/// Parses `bytes` as the document reads a body: ids strictly, whole floats as integers.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            format!("The request body is not valid JSON: {e}"),
        )
    })?;
    // Every body the document declares is an object; serde would also read a struct from an
    // array of its fields in order.
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "The request body must be a JSON object.",
        ));
    }
    whole_numbers(&mut value);
    let text = serde_json::to_vec(&value).unwrap_or_default();
    crate::domain::ids::strictly(|| axum::Json::<T>::from_bytes(&text))
        .map(|axum::Json(t)| t)
        .map_err(ApiError::from)
}

/// `5.0` -> `5` wherever a float is a whole number an integer type can hold.
fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                let whole = f.fract() == 0.0;
                // 2^63 and up no longer fit in i64; below -2^63 neither.
                if whole && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
                    *v = Value::from(f as i64);
                } else if whole && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
                    *v = Value::from(f as u64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(whole_numbers),
        Value::Object(o) => o.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct T {
        n: i64,
        u: u32,
        role: crate::domain::RoleId,
    }

    #[test]
    fn whole_floats_are_integers_and_ids_are_strings() {
        let t: T = parse(br#"{"n": -640.0, "u": 5e3, "role": "42"}"#).unwrap();
        assert_eq!(
            t,
            T {
                n: -640,
                u: 5000,
                role: crate::domain::RoleId(42)
            }
        );
        for bad in [
            &br#"{"n": 1.5, "u": 1, "role": "42"}"#[..],
            br#"{"n": 1, "u": 1, "role": 42}"#,
            br#"{"n": 1, "u": 1, "role": "0"}"#,
            br#"{"n": 1, "u": -1.0, "role": "1"}"#,
            br#"{"n": 1e300, "u": 1, "role": "1"}"#,
        ] {
            let e = parse::<T>(bad).unwrap_err();
            assert_eq!(
                e.status,
                StatusCode::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
