//! Request messages → engine values. Every function takes the attributes the value was encoded
//! against (a resource's, or the provider's) and returns catalogue-shaped values (see
//! [`super::shape`]).

use std::collections::BTreeMap;

use engine::schema::Attribute;
use engine::value::{ObjectValue, Value};

use super::ConvertError;
use super::cty::object_type;
use super::json::{self, ExtraAttributes};
use super::{msgpack, shape};
use crate::proto::tfplugin6::{ClientCapabilities, DynamicValue, RawState};

/// Decodes a resource-shaped DynamicValue (msgpack, else JSON). `None` is a null object (no
/// prior state on create, no planned state on delete); attributes inside may be unknown.
pub fn object(
    value: Option<&DynamicValue>,
    attributes: &BTreeMap<String, Attribute>,
) -> Result<Option<ObjectValue>, ConvertError> {
    let Some(value) = value else { return Ok(None) };
    let ty = object_type(attributes);
    let decoded = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, &ty)?
    } else if !value.json.is_empty() {
        json::decode(&value.json, &ty, ExtraAttributes::Reject)?
    } else {
        Value::Null
    };
    into_object(decoded, attributes)
}

/// Decodes stored state (`UpgradeResourceState`): JSON against the current attributes, dropping
/// attributes the catalogue no longer has. The legacy flat-map format (Terraform < 0.12) is not
/// supported: this provider never wrote it.
pub fn raw_state(
    raw: Option<&RawState>,
    attributes: &BTreeMap<String, Attribute>,
) -> Result<Option<ObjectValue>, ConvertError> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.json.is_empty() {
        return Err(ConvertError::Type {
            path: String::new(),
            expected: "state stored as JSON".to_owned(),
            found: "the legacy flat-map state format".to_owned(),
        });
    }
    let decoded = json::decode(&raw.json, &object_type(attributes), ExtraAttributes::Drop)?;
    into_object(decoded, attributes)
}

fn into_object(
    decoded: Value,
    attributes: &BTreeMap<String, Attribute>,
) -> Result<Option<ObjectValue>, ConvertError> {
    match decoded {
        Value::Null => Ok(None),
        Value::Unknown => Err(ConvertError::UnknownObject),
        Value::Map(mut entries) => {
            shape::blocks_from_proto(attributes, &mut entries);
            Ok(Some(ObjectValue(entries)))
        }
        other => Err(ConvertError::NotAnObject(other.to_string())),
    }
}

/// Whether the client honours write-only attributes (Terraform >= 1.11 says so in
/// `ClientCapabilities`; older clients send no capabilities at all).
pub fn write_only_allowed(capabilities: Option<&ClientCapabilities>) -> bool {
    capabilities.is_some_and(|capabilities| capabilities.write_only_attributes_allowed)
}
