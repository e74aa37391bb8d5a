//! JSON encoding of stored values. A record that fails to decode is reported as corrupt with the
//! table it came from, never a panic.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::StoreError;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        table: "encode",
        detail: e.to_string(),
    })
}

pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        detail: e.to_string(),
    })
}
