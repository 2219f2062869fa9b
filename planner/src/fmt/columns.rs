//! How many columns a piece of text takes for alignment: hclwrite counts grapheme clusters (so
//! `é` written as `e` plus a combining accent is one column, and so is an emoji with its skin
//! tone), not bytes and not display width (`日本` is two columns).
//!
//! This is a compact approximation of Unicode's extended grapheme cluster rules, enough for
//! configuration text: a cluster is a character followed by any number of extending characters
//! (combining marks, variation selectors, emoji modifiers, zero-width joiner, spacing marks of
//! the common scripts), a zero-width joiner also joins the next character, two regional
//! indicators form one flag, and `\r\n` is one cluster.

/// The number of grapheme clusters in `text`.
pub(crate) fn columns(text: &str) -> usize {
    if text.is_ascii() {
        return text.len() - text.matches("\r\n").count();
    }
    let mut count = 0;
    let mut previous: Option<char> = None;
    let mut regional_run = 0;
    for character in text.chars() {
        let joins = match previous {
            None => false,
            Some('\r') => character == '\n',
            Some('\u{200D}') => true,
            Some(last) if is_regional_indicator(last) && is_regional_indicator(character) => {
                regional_run % 2 == 1
            }
            Some(_) => extends(character),
        };
        regional_run = if is_regional_indicator(character) {
            regional_run + 1
        } else {
            0
        };
        if !joins {
            count += 1;
        }
        previous = Some(character);
    }
    count
}

fn is_regional_indicator(character: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&character)
}

/// Characters that never start a cluster: Grapheme_Extend, ZWJ and SpacingMark, for the ranges
/// that appear in practice.
fn extends(character: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x0300, 0x036F), // combining diacritical marks (U+034F included)
        (0x0483, 0x0489), // Cyrillic
        (0x0591, 0x05BD),
        (0x05BF, 0x05BF),
        (0x05C1, 0x05C2),
        (0x05C4, 0x05C5),
        (0x05C7, 0x05C7), // Hebrew
        (0x0610, 0x061A),
        (0x064B, 0x065F),
        (0x0670, 0x0670),
        (0x06D6, 0x06DC),
        (0x06DF, 0x06E4),
        (0x06E7, 0x06E8),
        (0x06EA, 0x06ED), // Arabic
        (0x0900, 0x0903),
        (0x093A, 0x093C),
        (0x093E, 0x094F),
        (0x0951, 0x0957),
        (0x0962, 0x0963), // Devanagari
        (0x0981, 0x0983),
        (0x09BC, 0x09BC),
        (0x09BE, 0x09CD),
        (0x09D7, 0x09D7),
        (0x09E2, 0x09E3), // Bengali
        (0x0E31, 0x0E31),
        (0x0E33, 0x0E3A),
        (0x0E47, 0x0E4E), // Thai
        (0x1AB0, 0x1AFF),
        (0x1DC0, 0x1DFF),
        (0x200C, 0x200D),
        (0x20D0, 0x20FF),
        (0x302A, 0x302F),
        (0x3099, 0x309A),
        (0xFE00, 0xFE0F),
        (0xFE20, 0xFE2F),
        (0xFF9E, 0xFF9F),
        (0x1F3FB, 0x1F3FF), // emoji modifiers
        (0xE0020, 0xE007F), // tags
        (0xE0100, 0xE01EF), // variation selectors supplement
    ];
    let code = u32::from(character);
    RANGES
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::columns;

    #[test]
    fn clusters_not_bytes_nor_width() {
        assert_eq!(columns("abc"), 3);
        assert_eq!(columns("\"é\""), 3);
        assert_eq!(columns("e\u{34F}\u{301}e"), 2);
        assert_eq!(columns("日本"), 2);
        assert_eq!(columns("👍🏽"), 1);
        assert_eq!(columns("👨\u{200D}👩\u{200D}👧"), 1);
        assert_eq!(columns("🇫🇷🇩🇪"), 2);
    }
}
