//! Converts between tfplugin6 messages and engine types, at the edge. No planning logic here.
//!
//! | module | owns |
//! |---|---|
//! | [`cty`] | Terraform value types implied by the catalogue, and their JSON form |
//! | [`msgpack`] | the msgpack value encoding (what Terraform sends and we answer) |
//! | [`json`] | the JSON value encoding (DynamicValue.json, stored state) |
//! | [`shape`] | schema-driven reshaping: nested-block collections, write-only attributes |
//! | [`from_proto`] | request messages → engine values |
//! | [`to_proto`] | engine schemas, values and diagnostics → response messages |

pub mod cty;
pub mod from_proto;
pub mod json;
pub mod msgpack;
pub mod shape;
pub mod to_proto;

/// A value that does not match its type, or bytes that are not a value.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The value at `path` is not of the expected type.
    #[error("expected {expected} at `{path}`, found {found}")]
    Type {
        /// Where, as `.attr[0]["key"]` steps.
        path: String,
        /// The expected type.
        expected: String,
        /// What was found.
        found: String,
    },
    /// An object holds an attribute its type does not have.
    #[error("unsupported attribute `{name}` at `{path}`")]
    UnsupportedAttribute {
        /// The object's path.
        path: String,
        /// The attribute.
        name: String,
    },
    /// The bytes are not msgpack.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// The bytes are not JSON.
    #[error("invalid JSON")]
    Json(#[source] serde_json::Error),
    /// A whole resource object is unknown where a known one is required.
    #[error("the whole object is unknown")]
    UnknownObject,
    /// A value that must be an object is something else.
    #[error("expected an object, found `{0}`")]
    NotAnObject(String),
}
