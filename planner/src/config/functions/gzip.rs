//! Gzip (RFC 1952) of a DEFLATE stream (RFC 1951) for `base64gzip`: LZ77 matches with hash
//! chains, coded with the fixed Huffman tables in one block. The workspace has no compression
//! crate; the output is valid gzip that any reader inflates to the same bytes, but its bytes
//! differ from Go's `compress/gzip`, so `base64gzip` results differ from Terraform's.

/// The gzip header Go writes: no name, no time, unknown OS.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const MAX_CHAIN: usize = 64;

/// Base lengths of the length codes 257..=285 and their extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of the distance codes 0..=29 and their extra bits.
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Writes bits least-significant first, as DEFLATE packs them.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    buffer: u64,
    count: u32,
}

impl BitWriter {
    fn bits(&mut self, value: u32, count: u32) {
        self.buffer |= u64::from(value) << self.count;
        self.count += count;
        while self.count >= 8 {
            self.bytes.push(self.buffer as u8);
            self.buffer >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code, which DEFLATE stores most-significant bit first.
    fn code(&mut self, code: u32, length: u32) {
        let reversed = code.reverse_bits() >> (32 - length);
        self.bits(reversed, length);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.bytes.push(self.buffer as u8);
        }
        self.bytes
    }
}

/// The fixed literal/length code of `symbol` (RFC 1951 section 3.2.6).
fn fixed_literal(writer: &mut BitWriter, symbol: u32) {
    match symbol {
        0..=143 => writer.code(0x30 + symbol, 8),
        144..=255 => writer.code(0x190 + symbol - 144, 9),
        256..=279 => writer.code(symbol - 256, 7),
        _ => writer.code(0xC0 + symbol - 280, 8),
    }
}

fn write_match(writer: &mut BitWriter, length: usize, distance: usize) {
    let code = LENGTH_BASE
        .iter()
        .rposition(|base| usize::from(*base) <= length)
        .expect("lengths start at 3");
    fixed_literal(writer, 257 + code as u32);
    writer.bits(
        (length - usize::from(LENGTH_BASE[code])) as u32,
        u32::from(LENGTH_EXTRA[code]),
    );
    let code = DISTANCE_BASE
        .iter()
        .rposition(|base| usize::from(*base) <= distance)
        .expect("distances start at 1");
    writer.code(code as u32, 5);
    writer.bits(
        (distance - usize::from(DISTANCE_BASE[code])) as u32,
        u32::from(DISTANCE_EXTRA[code]),
    );
}

fn hash(data: &[u8], position: usize) -> usize {
    let value = (u32::from(data[position]) << 16)
        | (u32::from(data[position + 1]) << 8)
        | u32::from(data[position + 2]);
    (value.wrapping_mul(2_654_435_761) >> 17) as usize
}

/// Positions of earlier 3-byte sequences by hash, each linked to the previous one.
struct Chains<'a> {
    data: &'a [u8],
    head: Vec<usize>,
    previous: Vec<usize>,
}

impl Chains<'_> {
    fn insert(&mut self, position: usize) {
        if position + MIN_MATCH <= self.data.len() {
            let key = hash(self.data, position);
            self.previous[position] = self.head[key];
            self.head[key] = position;
        }
    }

    /// The longest earlier match at `position` within the window: (length, distance).
    fn longest(&self, position: usize) -> (usize, usize) {
        let data = self.data;
        let (mut best_length, mut best_distance) = (0, 0);
        if position + MIN_MATCH > data.len() {
            return (0, 0);
        }
        let limit = (data.len() - position).min(MAX_MATCH);
        let mut candidate = self.head[hash(data, position)];
        let mut chain = 0;
        while candidate != usize::MAX && position - candidate <= WINDOW && chain < MAX_CHAIN {
            let length = data[candidate..]
                .iter()
                .zip(&data[position..position + limit])
                .take_while(|(a, b)| a == b)
                .count();
            if length > best_length {
                (best_length, best_distance) = (length, position - candidate);
                if length == limit {
                    break;
                }
            }
            candidate = self.previous[candidate];
            chain += 1;
        }
        (best_length, best_distance)
    }
}

/// One final DEFLATE block with fixed codes.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut writer = BitWriter::default();
    writer.bits(1, 1);
    writer.bits(1, 2);
    let mut chains = Chains {
        data,
        head: vec![usize::MAX; 1 << 15],
        previous: vec![usize::MAX; data.len()],
    };
    let mut position = 0;
    while position < data.len() {
        let (length, distance) = chains.longest(position);
        if length >= MIN_MATCH {
            write_match(&mut writer, length, distance);
            for offset in 0..length {
                chains.insert(position + offset);
            }
            position += length;
        } else {
            fixed_literal(&mut writer, u32::from(data[position]));
            chains.insert(position);
            position += 1;
        }
    }
    fixed_literal(&mut writer, 256);
    writer.finish()
}

/// CRC-32 (IEEE), as gzip's trailer holds it.
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (index, entry) in table.iter_mut().enumerate() {
        let mut value = index as u32;
        for _ in 0..8 {
            value = if value & 1 == 1 {
                0xEDB8_8320 ^ (value >> 1)
            } else {
                value >> 1
            };
        }
        *entry = value;
    }
    !data.iter().fold(!0u32, |crc, byte| {
        table[((crc ^ u32::from(*byte)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

/// `data` as a gzip member.
pub(super) fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    out.extend(deflate(data));
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// Inflates a stream of fixed-code blocks (what [`compress`] writes), to check it.
#[cfg(test)]
pub(super) fn inflate_for_tests(stream: &[u8]) -> Vec<u8> {
    struct Reader<'a> {
        data: &'a [u8],
        position: usize,
    }
    impl Reader<'_> {
        fn bit(&mut self) -> u32 {
            let bit = (self.data[self.position / 8] >> (self.position % 8)) & 1;
            self.position += 1;
            u32::from(bit)
        }
        fn bits(&mut self, count: u32) -> u32 {
            (0..count).fold(0, |value, shift| value | (self.bit() << shift))
        }
        fn code(&mut self, count: u32) -> u32 {
            (0..count).fold(0, |value, _| (value << 1) | self.bit())
        }
    }
    let mut reader = Reader {
        data: stream,
        position: 0,
    };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let last = reader.bits(1);
        assert_eq!(reader.bits(2), 1, "fixed codes");
        loop {
            let mut code = reader.code(7);
            let symbol = if code <= 0x17 {
                code + 256
            } else {
                code = (code << 1) | reader.bit();
                if (0x30..=0xBF).contains(&code) {
                    code - 0x30
                } else if (0xC0..=0xC7).contains(&code) {
                    code - 0xC0 + 280
                } else {
                    ((code << 1) | reader.bit()) - 0x190 + 144
                }
            };
            match symbol {
                0..=255 => out.push(symbol as u8),
                256 => break,
                _ => {
                    let index = (symbol - 257) as usize;
                    let length = usize::from(LENGTH_BASE[index])
                        + reader.bits(u32::from(LENGTH_EXTRA[index])) as usize;
                    let code = reader.code(5) as usize;
                    let distance = usize::from(DISTANCE_BASE[code])
                        + reader.bits(u32::from(DISTANCE_EXTRA[code])) as usize;
                    for _ in 0..length {
                        out.push(out[out.len() - distance]);
                    }
                }
            }
        }
        if last == 1 {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn round_trips() {
        for data in [
            b"".to_vec(),
            b"test".to_vec(),
            b"abcabcabcabcabcabcabcabc hello hello hello".to_vec(),
            (0..20_000u32).map(|i| (i % 251) as u8).collect(),
            vec![b'x'; 100_000],
        ] {
            let compressed = compress(&data);
            assert_eq!(&compressed[..10], &HEADER);
            let body = &compressed[10..compressed.len() - 8];
            assert_eq!(inflate_for_tests(body), data);
            let trailer = &compressed[compressed.len() - 8..];
            assert_eq!(trailer[..4], crc32(&data).to_le_bytes());
        }
        assert!(compress(&[b'x'; 100_000]).len() < 2_000);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
