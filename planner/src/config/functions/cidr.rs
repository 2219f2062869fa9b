//! IP network functions: `cidrhost cidrnetmask cidrsubnet cidrsubnets`, for IPv4 and IPv6
//! prefixes. As in Terraform, IPv4 octets with leading zeros are read as decimal, host bits of
//! the given prefix are ignored, and IPv6 results are written as Go writes them (RFC 5952, and
//! IPv4-mapped addresses in dotted form).

use std::path::Path;

use engine::value::Value;

use super::{string, whole_number};

/// A network prefix: its address (host bits cleared), address width and prefix length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Prefix {
    address: u128,
    /// 32 or 128.
    width: u32,
    length: u32,
}

impl Prefix {
    fn host_bits(&self) -> u32 {
        self.width - self.length
    }

    fn family(&self) -> &'static str {
        if self.width == 32 { "IPv4" } else { "IPv6" }
    }
}

/// An address of `width` bits whose low `bits` bits are set.
fn all_ones(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The netmask of a prefix of `length` bits in an address of `width` bits.
fn mask(width: u32, length: u32) -> u128 {
    all_ones(width) & !all_ones(width - length)
}

fn parse_ipv4(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    parts.iter().try_fold(0u32, |address, part| {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        (octet <= 255).then_some((address << 8) | octet)
    })
}

fn parse_ipv6(text: &str) -> Option<u128> {
    let (head, tail) = match text.split_once("::") {
        Some((head, tail)) => (head, Some(tail)),
        None => (text, None),
    };
    let groups = |part: &str| -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        let pieces: Vec<&str> = part.split(':').collect();
        let mut out = Vec::new();
        for (index, piece) in pieces.iter().enumerate() {
            if index == pieces.len() - 1 && piece.contains('.') {
                let v4 = parse_ipv4(piece)?;
                out.push((v4 >> 16) as u16);
                out.push(v4 as u16);
            } else {
                if piece.is_empty() || piece.len() > 4 {
                    return None;
                }
                out.push(u16::from_str_radix(piece, 16).ok()?);
            }
        }
        Some(out)
    };
    let first = groups(head)?;
    let all: Vec<u16> = match tail {
        None if first.len() == 8 => first,
        None => return None,
        Some(tail) => {
            if tail.contains("::") {
                return None;
            }
            let last = groups(tail)?;
            if first.len() + last.len() > 7 {
                return None;
            }
            let mut all = first;
            all.resize(8 - last.len(), 0);
            all.extend(last);
            all
        }
    };
    Some(
        all.iter()
            .fold(0u128, |address, group| (address << 16) | u128::from(*group)),
    )
}

fn parse_prefix(text: &str) -> Result<Prefix, String> {
    let invalid = || format!("invalid CIDR expression: invalid CIDR address: {text}");
    let (address, length) = text.split_once('/').ok_or_else(invalid)?;
    let (address, width) = match parse_ipv4(address) {
        Some(v4) => (u128::from(v4), 32),
        None => (parse_ipv6(address).ok_or_else(invalid)?, 128),
    };
    if length.is_empty() || length.len() > 3 || !length.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let length: u32 = length.parse().map_err(|_| invalid())?;
    if length > width {
        return Err(invalid());
    }
    Ok(Prefix {
        address: address & mask(width, length),
        width,
        length,
    })
}

fn format_address(address: u128, width: u32) -> String {
    let v4 = |value: u32| {
        format!(
            "{}.{}.{}.{}",
            value >> 24,
            (value >> 16) & 0xFF,
            (value >> 8) & 0xFF,
            value & 0xFF
        )
    };
    if width == 32 {
        return v4(address as u32);
    }
    if address >> 32 == 0xFFFF {
        return v4(address as u32);
    }
    let groups: Vec<u16> = (0..8)
        .rev()
        .map(|index| (address >> (index * 16)) as u16)
        .collect();
    // The first longest run of two or more zero groups becomes `::`.
    let (mut best_start, mut best_length) = (usize::MAX, 1);
    let mut index = 0;
    while index < 8 {
        if groups[index] == 0 {
            let start = index;
            while index < 8 && groups[index] == 0 {
                index += 1;
            }
            if index - start > best_length {
                (best_start, best_length) = (start, index - start);
            }
        } else {
            index += 1;
        }
    }
    let hex = |range: &[u16]| {
        range
            .iter()
            .map(|group| format!("{group:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best_start == usize::MAX {
        return hex(&groups);
    }
    format!(
        "{}::{}",
        hex(&groups[..best_start]),
        hex(&groups[best_start + best_length..])
    )
}

fn format_prefix(address: u128, width: u32, length: u32) -> String {
    format!("{}/{length}", format_address(address, width))
}

pub(super) fn cidrhost(args: &[Value], _: &Path) -> Result<Value, String> {
    let prefix = parse_prefix(&string(&args[0], "prefix")?)?;
    let number = whole_number(&args[1], "hostnum")?;
    let bits = prefix.host_bits();
    let max_host = all_ones(bits);
    let host = if number < 0 {
        max_host.checked_sub(u128::from(number.unsigned_abs()) - 1)
    } else {
        Some(u128::from(number.unsigned_abs())).filter(|host| *host <= max_host)
    }
    .ok_or_else(|| {
        format!(
            "prefix of {} does not accommodate a host numbered {number}",
            prefix.length
        )
    })?;
    Ok(Value::String(format_address(
        prefix.address | host,
        prefix.width,
    )))
}

pub(super) fn cidrnetmask(args: &[Value], _: &Path) -> Result<Value, String> {
    let prefix = parse_prefix(&string(&args[0], "prefix")?)?;
    if prefix.width != 32 {
        return Err("only IPv4 networks are supported".to_owned());
    }
    Ok(Value::String(format_address(mask(32, prefix.length), 32)))
}

/// The subnet `number` of `prefix` extended by `newbits`.
fn subnet(prefix: &Prefix, newbits: i64, number: i64) -> Result<Prefix, String> {
    if newbits > 32 {
        return Err("may not extend prefix by more than 32 bits".to_owned());
    }
    let length = i64::from(prefix.length) + newbits;
    if newbits < 0 || length > i64::from(prefix.width) {
        return Err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            prefix.length
        ));
    }
    let length = length as u32;
    if number < 0 || (newbits < 64 && number >> newbits != 0) {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {number}"
        ));
    }
    let shift = prefix.width - length;
    let offset = if shift >= 128 {
        0
    } else {
        (number as u128) << shift
    };
    Ok(Prefix {
        address: prefix.address | offset,
        width: prefix.width,
        length,
    })
}

pub(super) fn cidrsubnet(args: &[Value], _: &Path) -> Result<Value, String> {
    let prefix = parse_prefix(&string(&args[0], "prefix")?)?;
    let newbits = whole_number(&args[1], "newbits")?;
    let number = whole_number(&args[2], "netnum")?;
    let result = subnet(&prefix, newbits, number)?;
    Ok(Value::String(format_prefix(
        result.address,
        result.width,
        result.length,
    )))
}

pub(super) fn cidrsubnets(args: &[Value], _: &Path) -> Result<Value, String> {
    let prefix = parse_prefix(&string(&args[0], "prefix")?)?;
    let mut out = Vec::with_capacity(args.len() - 1);
    let mut current: Option<Prefix> = None;
    for (position, argument) in args[1..].iter().enumerate() {
        let newbits = whole_number(argument, "newbits")?;
        let argument_error = |message: String| {
            format!(
                "invalid value for newbits argument {}: {message}",
                position + 1
            )
        };
        if newbits < 1 {
            return Err(argument_error(
                "must extend prefix by at least one bit".to_owned(),
            ));
        }
        let length = i64::from(prefix.length) + newbits;
        if length > i64::from(prefix.width) {
            return Err(argument_error(format!(
                "would extend prefix to {length} bits, which is too long for an {} address",
                prefix.family()
            )));
        }
        if newbits > 32 {
            return Err(argument_error(
                "may not extend prefix by more than 32 bits".to_owned(),
            ));
        }
        let length = length as u32;
        let next = match current {
            None => subnet(&prefix, newbits, 0)?,
            Some(previous) => {
                // Terraform's NextSubnet: the subnet of the new size after the one holding the
                // previous allocation's last address.
                let last = previous.address | all_ones(previous.width - previous.length);
                let holding = last & mask(prefix.width, length);
                let holding_last = holding | all_ones(prefix.width - length);
                let rollover = holding_last == all_ones(prefix.width);
                let start = holding_last.wrapping_add(1) & mask(prefix.width, length);
                let inside = start & mask(prefix.width, prefix.length) == prefix.address;
                if rollover || !inside {
                    return Err(argument_error(format!(
                        "not enough remaining address space for a subnet with a prefix of {length} bits after {}",
                        format_prefix(previous.address, previous.width, previous.length)
                    )));
                }
                Prefix {
                    address: start,
                    width: prefix.width,
                    length,
                }
            }
        };
        out.push(Value::String(format_prefix(
            next.address,
            next.width,
            next.length,
        )));
        current = Some(next);
    }
    Ok(Value::List(out))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        assert_eq!(
            run("cidrhost", vec!["10.12.112.0/20".into(), 16.into()]),
            Ok("10.12.112.16".into())
        );
        assert_eq!(
            run("cidrhost", vec!["10.12.112.0/20".into(), 268.into()]),
            Ok("10.12.113.12".into())
        );
        assert_eq!(
            run(
                "cidrhost",
                vec!["fd00:fd12:3456:7890:00a2::/72".into(), 34.into()]
            ),
            Ok("fd00:fd12:3456:7890::22".into())
        );
        assert_eq!(
            run("cidrnetmask", vec!["172.16.0.0/12".into()]),
            Ok("255.240.0.0".into())
        );
        assert_eq!(
            run(
                "cidrsubnet",
                vec!["172.16.0.0/12".into(), 4.into(), 2.into()]
            ),
            Ok("172.18.0.0/16".into())
        );
        assert_eq!(
            run(
                "cidrsubnet",
                vec!["10.1.2.0/24".into(), 4.into(), 15.into()]
            ),
            Ok("10.1.2.240/28".into())
        );
        assert_eq!(
            run(
                "cidrsubnet",
                vec!["fd00:fd12:3456:7890::/56".into(), 16.into(), 162.into()]
            ),
            Ok("fd00:fd12:3456:7800:a200::/72".into())
        );
        assert_eq!(
            run(
                "cidrsubnets",
                vec!["10.1.0.0/16".into(), 4.into(), 4.into(), 8.into(), 4.into()]
            ),
            Ok(strings(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ]))
        );
        assert_eq!(
            run(
                "cidrsubnets",
                vec![
                    "fd00:fd12:3456:7890::/56".into(),
                    16.into(),
                    16.into(),
                    16.into(),
                    32.into()
                ]
            ),
            Ok(strings(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88",
            ]))
        );
    }

    #[test]
    fn edges_and_errors() {
        assert_eq!(
            run("cidrhost", vec!["10.0.0.0/24".into(), (-1).into()]),
            Ok("10.0.0.255".into())
        );
        assert_eq!(
            run("cidrhost", vec!["10.0.0.0/24".into(), (-2).into()]),
            Ok("10.0.0.254".into())
        );
        assert_eq!(
            run("cidrhost", vec!["10.0.0.0/24".into(), 256.into()]),
            Err("prefix of 24 does not accommodate a host numbered 256".to_owned())
        );
        assert_eq!(
            run("cidrhost", vec!["010.000.1.5/16".into(), 1.into()]),
            Ok("10.0.0.1".into())
        );
        assert_eq!(
            run("cidrhost", vec!["::ffff:10.0.0.0/120".into(), 5.into()]),
            Ok("10.0.0.5".into())
        );
        assert_eq!(
            run("cidrhost", vec!["::/0".into(), 1.into()]),
            Ok("::1".into())
        );
        assert_eq!(
            run("cidrhost", vec!["10.0.0/24".into(), 1.into()]),
            Err("invalid CIDR expression: invalid CIDR address: 10.0.0/24".to_owned())
        );
        assert_eq!(
            run("cidrnetmask", vec!["10.0.0.0/0".into()]),
            Ok("0.0.0.0".into())
        );
        assert_eq!(
            run("cidrnetmask", vec!["10.0.0.0/32".into()]),
            Ok("255.255.255.255".into())
        );
        assert_eq!(
            run("cidrnetmask", vec!["::/64".into()]),
            Err("only IPv4 networks are supported".to_owned())
        );
        assert_eq!(
            run("cidrsubnet", vec!["10.0.0.0/30".into(), 4.into(), 0.into()]),
            Err("insufficient address space to extend prefix of 30 by 4".to_owned())
        );
        assert_eq!(
            run("cidrsubnet", vec!["10.0.0.0/16".into(), 2.into(), 4.into()]),
            Err("prefix extension of 2 does not accommodate a subnet numbered 4".to_owned())
        );
        assert_eq!(
            run("cidrsubnets", vec!["10.0.0.0/24".into(), 1.into(), 1.into(), 1.into()]),
            Err("invalid value for newbits argument 3: not enough remaining address space for a subnet with a prefix of 25 bits after 10.0.0.128/25".to_owned())
        );
        assert_eq!(
            run("cidrsubnets", vec!["10.0.0.0/24".into(), 9.into()]),
            Err("invalid value for newbits argument 1: would extend prefix to 33 bits, which is too long for an IPv4 address".to_owned())
        );
        assert_eq!(
            run("cidrsubnets", vec!["10.0.0.0/8".into()]),
            Ok(strings(&[]))
        );
        assert_eq!(
            run(
                "cidrsubnets",
                vec!["10.0.0.0/8".into(), 8.into(), 8.into(), 8.into(), 8.into()]
            ),
            Ok(strings(&[
                "10.0.0.0/16",
                "10.1.0.0/16",
                "10.2.0.0/16",
                "10.3.0.0/16"
            ]))
        );
        assert_eq!(
            format_address(parse_ipv6("2001:db8:0:0:1:0:0:1").expect("v6"), 128),
            "2001:db8::1:0:0:1"
        );
        assert_eq!(
            format_address(parse_ipv6("1:0:0:2:0:0:0:3").expect("v6"), 128),
            "1:0:0:2::3"
        );
    }
}
