//! The one rule for user-visible text typed by people (item, task, command, category, currency
//! names; descriptions): no control characters, and none of the invisible bidi and format marks
//! that reorder or hide what a reader sees (U+202E makes "exe.txt" read "txt.exe").

use super::DomainError;

/// Invisible marks that reorder or hide text: LRM/RLM, the bidi embeddings and overrides
/// (U+202A-202E), the isolates (U+2066-2069), the Arabic letter mark, zero-width space, word
/// joiner and invisible operators, and the BOM. ZWJ/ZWNJ stay allowed: emoji sequences use them.
pub fn is_invisible_mark(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Whether `c` may not appear in a name: a control character (C0, DEL, C1) or an invisible mark.
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control() || is_invisible_mark(c)
}

fn describe(c: char) -> String {
    if c.is_control() {
        format!("a control character (U+{:04X})", u32::from(c))
    } else {
        format!(
            "an invisible direction or format mark (U+{:04X})",
            u32::from(c)
        )
    }
}

/// Checks a one-line name for `field`: refuses control characters and invisible marks, naming
/// the field and the character. Length rules stay with each type.
pub fn check_name(field: &str, value: &str) -> Result<(), DomainError> {
    match value.chars().find(|c| is_forbidden_in_name(*c)) {
        Some(c) => Err(DomainError::invalid(
            field,
            format!("must not contain {}", describe(c)),
        )),
        None => Ok(()),
    }
}

/// Like `check_name` for multi-line text (descriptions, messages): newlines and tabs are fine.
pub fn check_text(field: &str, value: &str) -> Result<(), DomainError> {
    let bad = |c: &char| !matches!(c, '\n' | '\r' | '\t') && is_forbidden_in_name(*c);
    match value.chars().find(bad) {
        Some(c) => Err(DomainError::invalid(
            field,
            format!("must not contain {}", describe(c)),
        )),
        None => Ok(()),
    }
}

/// `value` made safe to log: at most 64 characters, forbidden ones as `?`.
pub fn sanitize_for_log(value: &str) -> String {
    value
        .chars()
        .take(64)
        .map(|c| if is_forbidden_in_name(c) { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_control_characters_or_bidi_overrides_are_refused_naming_the_field() {
        for bad in [
            "a\u{0000}",
            "tab\there",
            "new\nline",
            "\u{202E}txt.exe",
            "x\u{2066}y",
            "\u{200F}",
            "bom\u{FEFF}",
            "c1\u{0085}",
        ] {
            let e = check_name("name", bad).unwrap_err();
            match e {
                DomainError::Invalid { field, message } => {
                    assert_eq!(field, "name");
                    assert!(message.contains("U+"), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        for ok in [
            "Coffee ☕",
            "Café",
            "👨\u{200D}👩\u{200D}👧",
            "日本語",
            "a-b_c.d",
        ] {
            assert!(check_name("name", ok).is_ok(), "{ok:?}");
        }
        assert!(check_text("description", "two\nlines\twith tab").is_ok());
        assert!(check_text("description", "bad\u{202E}").is_err());
        assert_eq!(sanitize_for_log("ad\u{202E}min\n"), "ad?min?");
        assert_eq!(sanitize_for_log(&"x".repeat(100)).len(), 64);
    }
}
