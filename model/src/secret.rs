//! Keyed digests of secret attribute values, so `amlplan`'s state can detect a changed password,
//! key or token without ever holding it in plaintext (DESIGN §4, "Secrets").
//!
//! Reads never return write-only values (DESIGN §1 rule 5), so the only way to notice that the
//! configuration changed a secret is to remember something about the value that was sent. The
//! state stores `hmac-sha256:<hex>`: an HMAC-SHA256 of the value under a random per-state key
//! kept beside the state file (`.azureml/state.key`, mode 0600, created on first use). Without
//! the key a digest cannot be used to test guesses of a password.
//!
//! The Terraform provider keeps secrets the way Terraform does (write-only attributes with
//! Terraform >= 1.11, sensitive attributes otherwise). A provider reading a state that `amlplan`
//! wrote finds digests in sensitive and write-only attributes; it must treat such a value as
//! "known only by digest" and compare a configured plaintext with [`matches`], never send the
//! digest to the API.
//!
//! Pure functions: the key file is read and written by `engine::state::key`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::schema::{AttrType, Attribute};
use crate::value::{ObjectValue, Value};

/// The prefix that marks a stored digest.
pub const DIGEST_PREFIX: &str = "hmac-sha256:";

/// The key length in bytes.
pub const KEY_LEN: usize = 32;

/// The per-state HMAC key. Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A key from raw bytes (tests, or a key kept elsewhere).
    pub fn from_bytes(bytes: &[u8]) -> SecretKey {
        SecretKey(bytes.to_vec())
    }

    /// A new random key.
    pub fn generate() -> SecretKey {
        let bytes: [u8; KEY_LEN] = rand::random();
        SecretKey(bytes.to_vec())
    }

    /// The key as hex digits, as it is kept in a key file.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// A key from its hex form; `None` unless it is [`KEY_LEN`] bytes of hex.
    pub fn from_hex(text: &str) -> Option<SecretKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        (bytes.len() == KEY_LEN).then_some(SecretKey(bytes))
    }
}

/// The keyed digest of `plaintext`, as stored in state: `hmac-sha256:<64 hex digits>`.
///
/// ```
/// use model::secret::{SecretKey, digest, is_digest};
/// let key = SecretKey::from_bytes(b"k");
/// let stored = digest(&key, "hunter2");
/// assert!(is_digest(&stored));
/// assert!(!stored.contains("hunter2"));
/// assert_ne!(stored, digest(&SecretKey::from_bytes(b"other"), "hunter2"));
/// ```
pub fn digest(key: &SecretKey, plaintext: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC accepts keys of any length");
    mac.update(plaintext.as_bytes());
    format!(
        "{DIGEST_PREFIX}{}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// True when `text` has the shape of a stored digest.
///
/// ```
/// assert!(!model::secret::is_digest("hunter2"));
/// ```
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix(DIGEST_PREFIX).is_some_and(|hex_part| {
        hex_part.len() == 64 && hex_part.bytes().all(|byte| byte.is_ascii_hexdigit())
    })
}

/// True when `stored` is the digest of `plaintext` under `key` (constant-time comparison).
///
/// ```
/// use model::secret::{SecretKey, digest, matches};
/// let key = SecretKey::from_bytes(b"k");
/// assert!(matches(&key, &digest(&key, "a"), "a"));
/// assert!(!matches(&key, &digest(&key, "a"), "b"));
/// ```
pub fn matches(key: &SecretKey, stored: &str, plaintext: &str) -> bool {
    let Some(expected) = stored
        .strip_prefix(DIGEST_PREFIX)
        .and_then(|hex_part| hex::decode(hex_part).ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC accepts keys of any length");
    mac.update(plaintext.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// The text a secret value is digested as: strings as they are, anything else as its JSON.
fn secret_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_json().to_string(),
    }
}

/// Whether a value held in state (`stored`: a digest, or a plaintext written by another tool)
/// stands for the configured `plaintext` value. Null equals only null; unknown equals nothing.
pub fn value_matches(key: Option<&SecretKey>, stored: &Value, plaintext: &Value) -> bool {
    match (stored, plaintext) {
        (Value::Unknown, _) | (_, Value::Unknown) => false,
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::String(text), plain) if is_digest(text) => match (key, plain) {
            (Some(key), plain) => matches(key, text, &secret_text(plain)),
            // Without the key a digest cannot be checked: report a change rather than hide one.
            (None, _) => false,
        },
        (stored, plain) => stored == plain,
    }
}

/// Replaces every known, non-null value of a sensitive or write-only attribute (at any depth) by
/// its digest, so the object can be written to state. Digests already present are kept.
///
/// ```
/// use model::secret::{SecretKey, digest_secrets, is_digest};
/// let registry = model::schema::load_registry().unwrap();
/// let schema = registry.get("azureml_attached_virtual_machine").unwrap();
/// let mut object = model::value::ObjectValue::default();
/// object.set("admin_password", "hunter2".into());
/// digest_secrets(&schema.attributes, &SecretKey::from_bytes(b"k"), &mut object);
/// assert!(is_digest(object.get_str("admin_password").unwrap()));
/// ```
pub fn digest_secrets(
    attributes: &std::collections::BTreeMap<String, Attribute>,
    key: &SecretKey,
    object: &mut ObjectValue,
) {
    for (name, value) in object.0.iter_mut() {
        if let Some(attribute) = attributes.get(name) {
            digest_value(attribute, key, value);
        }
    }
}

fn digest_value(attribute: &Attribute, key: &SecretKey, value: &mut Value) {
    if attribute.sensitive || attribute.write_only {
        match value {
            Value::Null | Value::Unknown => {}
            Value::String(text) if is_digest(text) => {}
            other => *other = Value::String(digest(key, &secret_text(other))),
        }
        return;
    }
    let Some(nested) = attribute.ty.nested_attributes() else {
        return;
    };
    let digest_object = |entries: &mut std::collections::BTreeMap<String, Value>| {
        for (name, inner) in entries.iter_mut() {
            if let Some(inner_attribute) = nested.get(name) {
                digest_value(inner_attribute, key, inner);
            }
        }
    };
    match (&attribute.ty, value) {
        (AttrType::Object(_), Value::Map(entries)) => digest_object(entries),
        (AttrType::List(_), Value::List(items)) => {
            for item in items {
                if let Value::Map(entries) = item {
                    digest_object(entries);
                }
            }
        }
        (AttrType::Map(_), Value::Map(elements)) => {
            for element in elements.values_mut() {
                if let Value::Map(entries) = element {
                    digest_object(entries);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable_and_keyed() {
        let key = SecretKey::from_bytes(&[7; 32]);
        assert_eq!(digest(&key, "x"), digest(&key, "x"));
        assert_ne!(digest(&key, "x"), digest(&key, "y"));
        assert!(!is_digest("hmac-sha256:zz"));
    }

    #[test]
    fn value_matches_handles_plaintext_and_digests() {
        let key = SecretKey::from_bytes(&[1; 32]);
        let stored = Value::String(digest(&key, "pw"));
        assert!(value_matches(Some(&key), &stored, &Value::from("pw")));
        assert!(!value_matches(Some(&key), &stored, &Value::from("pw2")));
        assert!(!value_matches(None, &stored, &Value::from("pw")));
        // Plaintext written by Terraform (sensitive attribute).
        assert!(value_matches(
            Some(&key),
            &Value::from("pw"),
            &Value::from("pw")
        ));
        assert!(!value_matches(Some(&key), &Value::Null, &Value::from("pw")));
        assert!(value_matches(Some(&key), &Value::Null, &Value::Null));
        assert!(!value_matches(Some(&key), &stored, &Value::Unknown));
    }

    #[test]
    fn nested_secrets_are_digested() {
        let registry = crate::schema::load_registry().expect("catalogue");
        let schema = registry.get("azureml_inference_cluster").expect("aks");
        let key = SecretKey::from_bytes(&[2; 32]);
        let mut object = ObjectValue::default();
        object.set(
            "ssl",
            Value::Map(
                [
                    ("status".to_owned(), Value::from("Enabled")),
                    (
                        "cert".to_owned(),
                        Value::from("-----BEGIN CERTIFICATE-----"),
                    ),
                ]
                .into(),
            ),
        );
        digest_secrets(&schema.attributes, &key, &mut object);
        let ssl = object.get("ssl").as_map().expect("map");
        assert_eq!(ssl["status"], Value::from("Enabled"));
        let cert = ssl["cert"].as_str().expect("string");
        assert!(is_digest(cert));
        // Digesting twice keeps the digest.
        let before = object.clone();
        digest_secrets(&schema.attributes, &key, &mut object);
        assert_eq!(object, before);
    }
}
