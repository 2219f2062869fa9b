//! Hash and UUID functions: `md5 sha1 sha256 sha512 base64sha256 base64sha512`, their `file*`
//! forms over a file's bytes, `uuid` and `uuidv5`. SHA-256 and SHA-512 come from `sha2`; MD5
//! and SHA-1 (RFC 1321, FIPS 180-4), which the planner has no crate for, are written here.
//! `uuid()` is unknown while planning, as in Terraform (a new value on every call).

use std::path::Path;

use engine::value::Value;
use sha2::Digest as _;

use super::encoding::base64_encode;
use super::filesystem::read_bytes;
use super::string;

/// MD5 of `data` (RFC 1321).
pub(super) fn md5_digest(data: &[u8]) -> [u8; 16] {
    const SHIFTS: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(abs(sin(i + 1)) * 2^32).
    let constants: Vec<u32> = (0..64)
        .map(|index| ((f64::from(index + 1)).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded(data, false).chunks(64) {
        let words: Vec<u32> = block
            .chunks(4)
            .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for index in 0..64 {
            let (mixed, word) = match index / 16 {
                0 => ((b & c) | (!b & d), index),
                1 => ((d & b) | (!d & c), (5 * index + 1) % 16),
                2 => (b ^ c ^ d, (3 * index + 5) % 16),
                _ => (c ^ (b | !d), (7 * index) % 16),
            };
            let rotated = a
                .wrapping_add(mixed)
                .wrapping_add(constants[index])
                .wrapping_add(words[word])
                .rotate_left(SHIFTS[index]);
            (a, d, c) = (d, c, b);
            b = b.wrapping_add(rotated);
        }
        for (slot, value) in state.iter_mut().zip([a, b, c, d]) {
            *slot = slot.wrapping_add(value);
        }
    }
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// SHA-1 of `data` (FIPS 180-4).
pub(super) fn sha1_digest(data: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    for block in padded(data, true).chunks(64) {
        let mut words = [0u32; 80];
        for (index, word) in block.chunks(4).enumerate() {
            words[index] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for index in 16..80 {
            words[index] =
                (words[index - 3] ^ words[index - 8] ^ words[index - 14] ^ words[index - 16])
                    .rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = state;
        for (index, word) in words.iter().enumerate() {
            let (mixed, constant) = match index / 20 {
                0 => ((b & c) | (!b & d), 0x5A82_7999),
                1 => (b ^ c ^ d, 0x6ED9_EBA1),
                2 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6u32),
            };
            let next = a
                .rotate_left(5)
                .wrapping_add(mixed)
                .wrapping_add(e)
                .wrapping_add(constant)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, next);
        }
        for (slot, value) in state.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(value);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Merkle–Damgård padding to 64-byte blocks, with the bit length big- or little-endian.
fn padded(data: &[u8], big_endian: bool) -> Vec<u8> {
    let mut out = data.to_vec();
    out.push(0x80);
    while out.len() % 64 != 56 {
        out.push(0);
    }
    let bits = (data.len() as u64).wrapping_mul(8);
    out.extend(if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    out
}

fn text_bytes(args: &[Value]) -> Result<Vec<u8>, String> {
    Ok(string(&args[0], "str")?.into_bytes())
}

fn file_bytes(args: &[Value], base: &Path) -> Result<Vec<u8>, String> {
    read_bytes(&args[0], base).map(|(_, bytes)| bytes)
}

fn hex_value(bytes: &[u8]) -> Value {
    Value::String(hex::encode(bytes))
}

pub(super) fn md5(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(hex_value(&md5_digest(&text_bytes(args)?)))
}

pub(super) fn sha1(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(hex_value(&sha1_digest(&text_bytes(args)?)))
}

pub(super) fn sha256(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(hex_value(&sha2::Sha256::digest(text_bytes(args)?)))
}

pub(super) fn sha512(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(hex_value(&sha2::Sha512::digest(text_bytes(args)?)))
}

pub(super) fn base64sha256(args: &[Value], _: &Path) -> Result<Value, String> {
    base64_encode(&sha2::Sha256::digest(text_bytes(args)?)).map(Value::String)
}

pub(super) fn base64sha512(args: &[Value], _: &Path) -> Result<Value, String> {
    base64_encode(&sha2::Sha512::digest(text_bytes(args)?)).map(Value::String)
}

pub(super) fn filemd5(args: &[Value], base: &Path) -> Result<Value, String> {
    Ok(hex_value(&md5_digest(&file_bytes(args, base)?)))
}

pub(super) fn filesha1(args: &[Value], base: &Path) -> Result<Value, String> {
    Ok(hex_value(&sha1_digest(&file_bytes(args, base)?)))
}

pub(super) fn filesha256(args: &[Value], base: &Path) -> Result<Value, String> {
    Ok(hex_value(&sha2::Sha256::digest(file_bytes(args, base)?)))
}

pub(super) fn filesha512(args: &[Value], base: &Path) -> Result<Value, String> {
    Ok(hex_value(&sha2::Sha512::digest(file_bytes(args, base)?)))
}

pub(super) fn filebase64sha256(args: &[Value], base: &Path) -> Result<Value, String> {
    base64_encode(&sha2::Sha256::digest(file_bytes(args, base)?)).map(Value::String)
}

pub(super) fn filebase64sha512(args: &[Value], base: &Path) -> Result<Value, String> {
    base64_encode(&sha2::Sha512::digest(file_bytes(args, base)?)).map(Value::String)
}

/// Unknown while planning: Terraform makes a new random UUID on every call.
pub(super) fn uuid(_: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::Unknown)
}

/// The 16 bytes of a UUID written with or without hyphens, braces or a `urn:uuid:` prefix.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let inner = text
        .strip_prefix("urn:uuid:")
        .or_else(|| {
            text.strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
        })
        .unwrap_or(text);
    let hex_digits: String = match inner.len() {
        36 => {
            let dashes = [8, 13, 18, 23];
            if inner
                .char_indices()
                .any(|(index, c)| dashes.contains(&index) != (c == '-'))
            {
                return None;
            }
            inner.chars().filter(|c| *c != '-').collect()
        }
        32 => inner.to_owned(),
        _ => return None,
    };
    let bytes = hex::decode(hex_digits).ok()?;
    bytes.try_into().ok()
}

fn format_uuid(bytes: &[u8]) -> String {
    let text = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &text[..8],
        &text[8..12],
        &text[12..16],
        &text[16..20],
        &text[20..]
    )
}

pub(super) fn uuidv5(args: &[Value], _: &Path) -> Result<Value, String> {
    let (namespace, name) = (string(&args[0], "namespace")?, string(&args[1], "name")?);
    let namespace_id = match namespace.as_str() {
        "dns" => "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "url" => "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
        "oid" => "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
        "x500" => "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
        other => other,
    };
    let namespace_bytes = parse_uuid(namespace_id).ok_or_else(|| {
        format!("uuidv5() doesn't support namespace {namespace} (invalid UUID format)")
    })?;
    let mut input = namespace_bytes.to_vec();
    input.extend_from_slice(name.as_bytes());
    let mut bytes = sha1_digest(&input);
    bytes[6] = (bytes[6] & 0x0F) | 0x50;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    Ok(Value::String(format_uuid(&bytes[..16])))
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        let hash = |name: &str, text: &str| run(name, vec![text.into()]);
        assert_eq!(
            hash("md5", "hello world"),
            Ok("5eb63bbbe01eeed093cb22bb8f5acdc3".into())
        );
        assert_eq!(
            hash("sha1", "hello world"),
            Ok("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed".into())
        );
        assert_eq!(
            hash("sha256", "hello world"),
            Ok("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9".into())
        );
        assert_eq!(
            hash("sha512", "hello world"),
            Ok("309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f".into())
        );
        assert_eq!(
            hash("base64sha256", "hello world"),
            Ok("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=".into())
        );
        assert_eq!(
            hash("base64sha512", "hello world"),
            Ok("MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==".into())
        );
        assert_eq!(
            run("uuidv5", vec!["dns".into(), "www.terraform.io".into()]),
            Ok("a5008fae-b28c-5ba5-96cd-82b4c53552d6".into())
        );
        assert_eq!(
            run(
                "uuidv5",
                vec!["url".into(), "https://www.terraform.io/".into()]
            ),
            Ok("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5".into())
        );
        assert_eq!(
            run("uuidv5", vec!["oid".into(), "1.3.6.1.4".into()]),
            Ok("af9d40a5-7a36-5c07-b23a-851cd99fbfa5".into())
        );
        assert_eq!(
            run(
                "uuidv5",
                vec![
                    "x500".into(),
                    "CN=Example Services,DC=example,DC=com".into()
                ]
            ),
            Ok("9e697873-3847-57f7-8aed-2595531b4a21".into())
        );
        assert_eq!(
            run(
                "uuidv5",
                vec![
                    "6ba7b810-9dad-11d1-80b4-00c04fd430c8".into(),
                    "www.terraform.io".into()
                ]
            ),
            Ok("a5008fae-b28c-5ba5-96cd-82b4c53552d6".into())
        );
        assert_eq!(run("uuid", vec![]), Ok(Value::Unknown));
    }

    #[test]
    fn digests_of_edge_lengths() {
        assert_eq!(
            hex::encode(md5_digest(b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hex::encode(sha1_digest(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        let long = vec![b'a'; 1_000];
        assert_eq!(
            hex::encode(md5_digest(&long)),
            "cabe45dcc9ae5b66ba86600cca6b8ba8"
        );
        assert_eq!(
            hex::encode(sha1_digest(&long)),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
        let fifty_six = vec![b'b'; 56];
        assert_eq!(hex::encode(sha1_digest(&fifty_six)).len(), 40);
        assert_eq!(
            run("uuidv5", vec!["nope".into(), "x".into()]),
            Err("uuidv5() doesn't support namespace nope (invalid UUID format)".to_owned())
        );
        assert_eq!(
            parse_uuid("{6ba7b8109dad11d180b400c04fd430c8}").map(|b| b[0]),
            Some(0x6b)
        );
    }

    #[test]
    fn file_digests() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("hello.txt"), "hello world").expect("write");
        let call = |name: &str| {
            super::super::call(
                super::super::lookup(name).expect("known"),
                vec!["hello.txt".into()],
                dir.path(),
            )
        };
        assert_eq!(
            call("filemd5"),
            Ok("5eb63bbbe01eeed093cb22bb8f5acdc3".into())
        );
        assert_eq!(
            call("filesha1"),
            Ok("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed".into())
        );
        assert_eq!(
            call("filesha256"),
            Ok("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9".into())
        );
        assert!(
            call("filesha512")
                .expect("hash")
                .as_str()
                .is_some_and(|text| text.starts_with("309ecc48"))
        );
        assert_eq!(
            call("filebase64sha256"),
            Ok("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=".into())
        );
        assert!(
            call("filebase64sha512")
                .expect("hash")
                .as_str()
                .is_some_and(|text| text.starts_with("MJ7MSJwS"))
        );
    }
}
