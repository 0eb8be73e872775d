//! Activation codes: what a family receives on paper to open an account.

/// No 0/O, 1/I/L, 5/S, 2/Z, 8/B: a code typed from a printed letter must not be misread.
pub const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";
/// 10 symbols of a 25-letter alphabet ≈ 46 bits; codes are single use, expire and sign-in is throttled.
pub const CODE_LENGTH: usize = 10;
/// How long a code stays valid, in days: long enough for a letter sent home in a schoolbag.
pub const CODE_VALIDITY_DAYS: i64 = 60;

/// Builds a code from random bytes, by rejection sampling so every symbol is equally likely.
pub fn code_from_random(mut next_byte: impl FnMut() -> u8) -> String {
    let limit = 256 - (256 % CODE_ALPHABET.len());
    let mut code = String::with_capacity(CODE_LENGTH);
    while code.len() < CODE_LENGTH {
        let b = next_byte() as usize;
        if b < limit {
            code.push(CODE_ALPHABET[b % CODE_ALPHABET.len()] as char);
        }
    }
    code
}

/// Groups of five for printing: "ACDEF-GHJKM".
pub fn format_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(5));
    if b.is_empty() {
        a.to_owned()
    } else {
        format!("{a}-{b}")
    }
}

/// What the person typed, back to the stored form: spaces and dashes dropped, upper-cased,
/// and the look-alikes that are not in the alphabet mapped to the letter they must have meant.
pub fn normalize_typed_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' | '0' => 'Q',
            'B' | '8' => 'E',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_only_the_alphabet_and_normalize_back() {
        let mut n = 0u8;
        let code = code_from_random(|| {
            n = n.wrapping_add(37);
            n
        });
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        let printed = format_code(&code);
        assert_eq!(printed.len(), CODE_LENGTH + 1);
        assert_eq!(normalize_typed_code(&printed.to_lowercase()), code);
    }

    #[test]
    fn rejection_sampling_skips_biased_bytes() {
        let mut bytes = [255u8, 254, 0].into_iter().cycle();
        let code = code_from_random(|| bytes.next().unwrap_or(0));
        assert_eq!(code, "A".repeat(CODE_LENGTH));
    }
}
