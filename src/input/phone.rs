//! Country from a phone number by calling code (and NANP area code), from the table in
//! `data/calling_codes.csv`. A contact is resolved once and cached by the reader; no full
//! phone-number parse happens per row. A derived country's number is checked against the
//! possible lengths of its calling code's numbering plan (`data/phone_lengths.csv`, written by
//! `scripts/gen_phone_lengths.py` from libphonenumber's metadata): a table read and a digit
//! count per row.

use crate::event::Country;
use std::num::NonZeroU64;

const TABLE: &str = include_str!("../../data/calling_codes.csv");
const LENGTHS: &str = include_str!("../../data/phone_lengths.csv");

/// A country's numbering plan: what the length check needs.
#[derive(Clone, Copy, Debug, Default)]
struct Plan {
    code: u16,
    /// Bit `n` set when a number of `n` digits in all (calling code included) is possible;
    /// 0 for a country the metadata does not have (its numbers are not checked).
    digits: u32,
}

/// A 4-digit prefix's country and the digit counts its plan allows (`Plan::digits`, all of
/// them when it has none): a typed number's country and length check in one read, not a
/// second one by the country's index (issue 24: per row, the same few countries).
#[derive(Clone, Copy, Debug)]
struct Prefix {
    country: Option<Country>,
    lengths: u32,
}

/// ISO codes with no calling code of their own (they share one); accepted in the `country` column.
const SHARED_CODE_COUNTRIES: &[&str] = &[
    "AQ", "AX", "BL", "BQ", "BV", "CC", "CX", "EH", "GG", "GS", "HM", "IM", "IO", "JE", "MF", "PN",
    "SJ", "TF", "UM", "VA", "YT",
];

/// Calling codes (1 to 4 digits, NANP area codes included as `1` + 3 digits) as flat tables,
/// so that deriving a country is a few array reads.
pub struct CallingCodes {
    /// `by_length[n - 1][p]`: the country of the `n`-digit prefix `p`.
    by_length: [Vec<Option<Country>>; 4],
    /// The country of every 4-digit prefix, longest match among `by_length` (numbers have
    /// at least 7 digits, so this answers them in one read), with its plan's lengths.
    by_prefix4: Vec<Prefix>,
    /// Every accepted ISO code, indexed by `Country::index`.
    known: Vec<bool>,
    /// Each country's plan, indexed by `Country::index`: the lengths of its own region, not the
    /// union over a shared calling code, so that `+1 555 1234` is not a US number because a
    /// Canadian 7-digit service code exists. Where regions share a code, the smaller ones'
    /// lengths are among the main one's (JE, GG, IM in GB; KZ = RU; VA in IT ...: checked in
    /// a test), so a number found under the main region by prefix is not refused wrongly. The
    /// one exception, Canada's 7-digit 310-xxxx codes, is dialled within Canada only.
    plans: Vec<Plan>,
}

impl CallingCodes {
    pub fn load() -> CallingCodes {
        let mut by_length = [
            vec![None; 10],
            vec![None; 100],
            vec![None; 1000],
            vec![None; 10000],
        ];
        let mut known = vec![false; 26 * 26];
        let mut rdr = csv::Reader::from_reader(TABLE.as_bytes());
        for rec in rdr.records().flatten() {
            if let (Some(p), Some(c)) = (rec.get(0), rec.get(1).and_then(Country::parse)) {
                if let Ok(n) = p.parse::<usize>() {
                    let digits = n.to_string().len();
                    if (1..=4).contains(&digits) {
                        by_length[digits - 1][n] = Some(c);
                        known[c.index()] = true;
                    }
                }
            }
        }
        for c in SHARED_CODE_COUNTRIES
            .iter()
            .filter_map(|c| Country::parse(c))
        {
            known[c.index()] = true;
        }
        // Indexes below 1000 are never read (a 4-digit prefix has no leading zero).
        let plans = plans();
        let by_prefix4 = (0..10_000)
            .map(|p| {
                let country = longest_match(&by_length, p, 4);
                let digits = country.map_or(0, |c| plans[c.index()].digits);
                let lengths = if digits == 0 { u32::MAX } else { digits };
                Prefix { country, lengths }
            })
            .collect();
        CallingCodes {
            by_length,
            by_prefix4,
            known,
            plans,
        }
    }

    /// Whether an ISO code names a country simcost knows (one with a calling code, or one that
    /// shares another's).
    pub fn is_known(&self, c: Country) -> bool {
        self.known[c.index()]
    }

    /// The country of normalized digits: the longest matching prefix of up to 4 digits.
    pub fn country_of(&self, digits: &str) -> Option<Country> {
        normalized_number(digits).and_then(|n| self.country_of_number(n))
    }

    /// The country of a number by its first four digits (`number_key_and_prefix`).
    pub fn country_of_prefix(&self, first_four: u16) -> Option<Country> {
        self.by_prefix4[first_four as usize].country
    }

    /// The country of a typed number by its first four digits, and whether its `digits`
    /// (below 32) are a possible count there (`check_digits` is `Ok`): one table read.
    #[inline]
    pub fn country_of_typed(&self, first_four: u16, digits: u32) -> Option<(Country, bool)> {
        let p = self.by_prefix4[first_four as usize];
        Some((p.country?, (p.lengths >> digits) & 1 == 1))
    }

    /// The country of a number as `number_key` gives it.
    pub fn country_of_number(&self, number: u64) -> Option<Country> {
        let digits = number.checked_ilog10().map_or(1, |l| l as usize + 1);
        if digits >= 4 {
            self.by_prefix4[first_four(number, digits) as usize].country
        } else {
            longest_match(&self.by_length, number as usize, digits)
        }
    }

    /// Whether `number` (its digits, calling code first, as `number_key` gives them) can be a
    /// number of `country`'s plan by its length; the reason when not, e.g. `not a possible
    /// number for +7 (RU): 9 digits after the calling code, RU numbers have 10 or 14`.
    #[inline]
    pub fn check_length(&self, country: Country, number: u64) -> Result<(), String> {
        self.check_digits(country, number.checked_ilog10().map_or(1, |l| l + 1))
    }

    /// `check_length` of a number of `digits` digits.
    #[inline]
    pub fn check_digits(&self, country: Country, digits: u32) -> Result<(), String> {
        let plan = self.plans[country.index()];
        if plan.digits == 0 || (plan.digits >> digits) & 1 == 1 {
            return Ok(());
        }
        Err(impossible(country, plan, digits))
    }
}

#[cold]
fn impossible(country: Country, plan: Plan, digits: u32) -> String {
    let code_digits = plan.code.ilog10() + 1;
    let national: Vec<String> = (0..32)
        .filter(|n| (plan.digits >> n) & 1 == 1)
        .map(|n| (n - code_digits).to_string())
        .collect();
    format!(
        "not a possible number for +{} ({country}): {} digits after the calling code, {country} numbers have {}",
        plan.code,
        digits.saturating_sub(code_digits),
        national.join(" or ")
    )
}

/// `data/phone_lengths.csv` (`region,calling_code,national_lengths`) as each country's plan.
fn plans() -> Vec<Plan> {
    let mut by_region = vec![Plan::default(); 26 * 26];
    let rows = LENGTHS.lines().skip(1).filter_map(|line| {
        let mut f = line.split(',');
        let (region, code, lengths) = (f.next()?, f.next()?.parse::<u16>().ok()?, f.next()?);
        let national = lengths
            .split(' ')
            .filter_map(|n| n.parse::<u32>().ok())
            .fold(0u32, |m, n| m | 1u32.checked_shl(n).unwrap_or(0));
        Some((Country::parse(region), code, national))
    });
    // Region `001` (non-geographic codes) is no country: simcost derives none of them.
    for (region, code, national) in rows {
        if let (Some(r), 1..=999) = (region, code) {
            // Lengths in all digits: the national ones moved up by the calling code's length.
            let digits = national << (code.ilog10() + 1);
            by_region[r.index()] = Plan { code, digits };
        }
    }
    by_region
}

/// The first four of a number's `digits` (4 to 20), with no division instruction and no
/// branch on the digit count (numbers of different lengths alternate from row to row): up to
/// 15 digits, a multiply by the divisor's reciprocal (`RECIPROCALS`).
fn first_four(number: u64, digits: usize) -> u64 {
    if digits <= 15 {
        let (m, s) = RECIPROCALS[digits - 4];
        ((number as u128 * m as u128) >> s) as u64
    } else {
        number / POW10[digits - 4]
    }
}

/// For each `d = 10^k`, k from 0 to 11: `(m, s)` with `x / d == (x * m) >> s` for every `x`
/// below 2^50, which 15 digits are. With `l = ceil(log2 d)`, `s = 50 + l` and
/// `m = ceil(2^s / d)` (below 2^51): then `x * m / 2^s = x / d + x * e / (d * 2^s)` with
/// `e = m * d - 2^s < d`, and the added part is below `2^50 / 2^s = 2^-l <= 1 / d`, too little to
/// reach the next whole number (`x / d` is at most `1 - 1/d` past one).
const RECIPROCALS: [(u64, u32); 12] = {
    let mut r = [(0u64, 0u32); 12];
    let mut k = 0;
    while k < 12 {
        let d = POW10[k] as u128;
        let mut l = 0;
        while (1u128 << l) < d {
            l += 1;
        }
        let s = 50 + l;
        r[k] = ((1u128 << s).div_ceil(d) as u64, s);
        k += 1;
    }
    r
};

/// The country of the longest calling code that begins the `n`-digit `prefix`.
fn longest_match(
    by_length: &[Vec<Option<Country>>; 4],
    prefix: usize,
    n: usize,
) -> Option<Country> {
    (1..=n)
        .rev()
        .find_map(|k| by_length[k - 1][prefix / POW10[n - k] as usize])
}

const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// The digits of a phone number in any of the usual spellings (`+380 50 123-45-67`,
/// `00380501234567`, `380.50.123.45.67`), or `None` if the contact is not a number (an opaque id).
pub fn normalize(raw: &str) -> Option<String> {
    number_key(raw).map(|n| n.to_string())
}

/// `normalize` as a number, without allocating: the reader's key for a contact. Numbers have
/// 7 to 15 digits and no leading zero, so the value identifies the digits.
pub fn number_key(raw: &str) -> Option<u64> {
    number_key_bytes(super::trim(raw).as_bytes())
}

/// `number_key` of a field as typed, before trimming or decoding: spaces around the number
/// are separators here, so a field this accepts gives the same key trimmed; anything else
/// (a tab, other white space, bytes that are not ASCII) gives `None`, and the caller falls
/// back to the text.
pub fn number_key_bytes(s: &[u8]) -> Option<u64> {
    number_key_and_prefix(s).map(|(key, _)| key)
}

/// `number_key_bytes` and the number's first four digits, which give its country
/// (`CallingCodes::country_of_prefix`): read from the typed digits when they are plain, with
/// no need to find how many digits the number has.
pub fn number_key_and_prefix(s: &[u8]) -> Option<(u64, u16)> {
    typed_number(s).map(|t| (t.key(), t.prefix()))
}

/// A contact's number read as typed (`typed_number`): two words, so that an `Option` of it is
/// handed back in two registers and copied word for word. (As a key, a `u16` prefix and a `u8`
/// count, each copy read back whole a word written in two parts, which waited for the stores
/// to reach the cache: some 10% of the parse's time on the generated log.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypedNumber {
    /// The number's key (`number_key`): never zero (7 digits at least, the first not a zero).
    key: NonZeroU64,
    /// Its first four digits (the low 16 bits), which give its country
    /// (`CallingCodes::country_of_prefix`), and how many digits it has (the bits above).
    prefix_and_digits: u32,
}

impl TypedNumber {
    /// The reading of a key of `digits` digits (7 to 15: `checked_len`); `None` for a zero key.
    #[inline(always)]
    fn new(key: u64, digits: usize) -> Option<TypedNumber> {
        Some(TypedNumber {
            key: NonZeroU64::new(key)?,
            prefix_and_digits: first_four(key, digits) as u32 | (digits as u32) << 16,
        })
    }

    /// The number's key (`number_key`).
    #[inline(always)]
    pub fn key(self) -> u64 {
        self.key.get()
    }

    /// Its first four digits, which give its country (`CallingCodes::country_of_prefix`).
    #[inline(always)]
    pub fn prefix(self) -> u16 {
        self.prefix_and_digits as u16
    }

    /// How many digits it has (`CallingCodes::check_digits`): known from the reading, so the
    /// length check needs no `ilog10` of the key per row.
    #[inline(always)]
    pub fn digits(self) -> u32 {
        self.prefix_and_digits >> 16
    }
}

/// `number_key_and_prefix`, with the number's digit count. The plain spelling (8 to 16
/// digits after any `+`) is read inline; the others out of line (`separated_number`), so
/// that a plain number costs no call.
#[inline(always)]
pub fn typed_number(s: &[u8]) -> Option<TypedNumber> {
    let s = s.strip_prefix(b"+").unwrap_or(s);
    let Some(key) = plain_digits(s) else {
        return separated_number(s);
    };
    let len = checked_len(key, s.len())?;
    // The prefix from the key by a multiply (the typed digits read one by one took three
    // times the instructions).
    TypedNumber::new(key, len)
}

/// `typed_number` of a spelling that is not plain digits (after any `+`): its digits
/// compacted a word at a time where the processor can (`separated_compacted`), else read
/// byte by byte.
#[inline(never)]
fn separated_number(s: &[u8]) -> Option<TypedNumber> {
    #[cfg(target_arch = "x86_64")]
    if (8..=24).contains(&s.len())
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("popcnt")
    {
        // SAFETY: the processor has BMI2 and POPCNT (checked just above; the answers are cached).
        return unsafe { separated_compacted(s) };
    }
    separated_reading(s, scan_bytewise(s))
}

/// `separated_number` of 8 to 24 bytes where the processor has BMI2 and POPCNT, with
/// `scan_compacted` inlined: called from `separated_number`, it handed its three values
/// back through memory and saved and restored six registers, some 20 instructions a number.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2,popcnt")]
fn separated_compacted(s: &[u8]) -> Option<TypedNumber> {
    separated_reading(s, scan_compacted(s))
}

/// `typed_number` of a separated spelling `s` from its scan: the value of all its digits
/// (leading zeros add nothing), their count, and the `CLASS` bits of all its bytes.
#[inline(always)]
fn separated_reading(s: &[u8], (value, n, class): (u64, usize, u8)) -> Option<TypedNumber> {
    let other = class & OTHER != 0;
    // `+49 (0) 151 ...`: the trunk zero is no digit of the number (`export_number`). Looked
    // for only when there is a `(`: a `memchr` call per number cost more than this scan.
    if class & PAREN != 0 && trunk_zero(s) {
        return None;
    }
    let (key, len) = if other {
        if !s.contains(&0xC2) {
            return None;
        }
        let value = number_key_spelled(s)?;
        (value, value.ilog10() as usize + 1)
    } else {
        (value, checked_len(value, n)?)
    };
    TypedNumber::new(key, len)
}

/// The scan of `separated_reading` with no branch per byte: logs mix spellings, so separators come at places a branch
/// would mispredict. A multiply and an add per byte, one after another.
fn scan_bytewise(s: &[u8]) -> (u64, usize, u8) {
    let (mut value, mut n, mut class) = (0u64, 0usize, 0u8);
    for &b in s {
        let d = b.wrapping_sub(b'0');
        let digit = (d < 10) as u64;
        value = value
            .wrapping_mul(1 + 9 * digit)
            .wrapping_add(d as u64 * digit);
        n += digit as usize;
        class |= CLASS[b as usize];
    }
    (value, n, class)
}

/// `scan_bytewise` of 8 to 24 bytes without the chain of a multiply per byte: the bytes as three
/// words, told apart sixteen at a time (digits, separators, `(`), each word's digits packed
/// together (`pext`) and read eight at a time (`eight_digits`), the three values joined.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2,popcnt")]
#[inline]
fn scan_compacted(s: &[u8]) -> (u64, usize, u8) {
    use std::arch::x86_64::*;
    let n = s.len();
    let word = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    // Word `i` holds bytes 8i.. (zeros past the end): a whole word, or the last one moved
    // down. No branch on the length (lengths vary from row to row): shifts of 64 or more
    // give zero.
    let tail = |i: usize| {
        let at = (8 * i).min(n - 8);
        let shift = (8 * i + 8).saturating_sub(n) * 8;
        word(at).checked_shr(shift as u32).unwrap_or(0)
    };
    let words = [word(0), tail(1), tail(2)];
    let masks = |v: __m128i| {
        // SAFETY: SSE2 is part of the x86_64 baseline (and these read no memory).
        unsafe {
            let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
            let is = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
            let paren = is(b'(');
            let sep = _mm_or_si128(
                _mm_or_si128(
                    _mm_or_si128(is(b' '), is(b'-')),
                    _mm_or_si128(paren, is(b')')),
                ),
                _mm_or_si128(is(b'.'), is(b'/')),
            );
            let bits = |m: __m128i| _mm_movemask_epi8(m) as u32 & 0xFFFF;
            (bits(digit), bits(_mm_or_si128(digit, sep)), bits(paren))
        }
    };
    let w = words.map(|x| x as i64);
    // SAFETY: SSE2 is part of the x86_64 baseline (and these read no memory).
    let (low, high) = unsafe { (_mm_set_epi64x(w[1], w[0]), _mm_set_epi64x(0, w[2])) };
    let ((d0, k0, p0), (d1, k1, p1)) = (masks(low), masks(high));
    let inside = (1u32 << n) - 1;
    let digits = (d0 | d1 << 16) & inside;
    let known = k0 | k1 << 16;
    let mut class = if known & inside != inside { OTHER } else { 0 };
    if (p0 | p1 << 16) & inside != 0 {
        class |= PAREN;
    }
    let mut value = 0u64;
    for (i, &x) in words.iter().enumerate() {
        let m = (digits >> (8 * i)) & 0xFF;
        let k = m.count_ones();
        let bytes = _pdep_u64(m as u64, 0x0101_0101_0101_0101) * 0xFF;
        // The word's digits in its low bytes, the first lowest; moved to the high end, the
        // low bytes are leading zeros.
        let packed = _pext_u64(x ^ ZEROS, bytes);
        let read = eight_digits(packed.checked_shl(64 - 8 * k).unwrap_or(0));
        value = value.wrapping_mul(POW10[k as usize]).wrapping_add(read);
    }
    (value, digits.count_ones() as usize, class)
}

/// Whether `(0)` at `at` in `s` (after any `+`) follows a calling code: 1 to 3 digits, after
/// `00` or nothing, and spaces.
fn trunk_zero_after_code(s: &[u8], at: usize) -> bool {
    // An area code in parentheses, `(212)`, is the usual case: told at once.
    if !s[at..].starts_with(b"(0)") {
        return false;
    }
    let before = s[..at].trim_ascii_end();
    let code = before.strip_prefix(b"00").unwrap_or(before).trim_ascii();
    (1..=3).contains(&code.len()) && code.iter().all(u8::is_ascii_digit)
}

/// The number of digits of the key whose `n` typed digits have this value, if it is a key.
fn checked_len(value: u64, n: usize) -> Option<usize> {
    if n > 17 {
        return None;
    }
    // "00" before the calling code: then the value has fewer digits than were typed.
    let len = if n >= 2 && value < POW10[n - 2] {
        n - 2
    } else {
        n
    };
    // 7 to 15 digits after any "00", the first not a zero.
    ((7..=15).contains(&len) && value >= POW10[len - 1]).then_some(len)
}

/// The value of 8 to 16 digits and nothing else, read eight at a time: most logs spell their
/// numbers this way, and a multiply per digit is a long chain.
fn plain_digits(s: &[u8]) -> Option<u64> {
    let n = s.len();
    if !(8..=16).contains(&n) {
        return None;
    }
    let word = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    // The first and the last eight bytes: together, all of them.
    let (first, last) = (word(0), word(n - 8));
    if !all_digits(first) || !all_digits(last) {
        return None;
    }
    // The digits before the last eight, moved to the high end: the low bytes are then leading
    // zeros. The first byte is the lowest (little-endian).
    let high = match n {
        8 => 0,
        _ => eight_digits((first - ZEROS) << ((16 - n) * 8)),
    };
    Some(high * 100_000_000 + eight_digits(last - ZEROS))
}

const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);

/// Whether all eight bytes are ASCII digits: a high nibble of 3, and still 3 after adding 6.
fn all_digits(v: u64) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    (v & HIGH) | ((v.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4) == 0x3333_3333_3333_3333
}

/// The value of eight digit values (0-9) in the bytes of `v`, the most significant in the
/// lowest byte: pairs, then fours, then the eight, with three multiplies in all.
fn eight_digits(v: u64) -> u64 {
    // The products run past the top byte on purpose: only the bytes kept matter.
    let pairs = (v.wrapping_mul(10).wrapping_add(v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let fours = (pairs.wrapping_mul(1 + (100 << 16)) >> 16) & 0x0000_FFFF_0000_FFFF;
    fours.wrapping_mul(1 + (10_000 << 32)) >> 32
}

/// The bytes that may separate the digits of a number (a no-break space aside).
const SEPARATOR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    let seps = b" -()./";
    while i < seps.len() {
        t[seps[i] as usize] = true;
        i += 1;
    }
    t
};

/// What a byte of a typed number is, as bits: `OTHER` neither a digit nor a separator (a
/// no-break space aside), `PAREN` an opening parenthesis. One table load and one OR a byte,
/// as the separator test was.
const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        if SEPARATOR[b] || (b >= b'0' as usize && b <= b'9' as usize) {
            t[b] = 0;
        }
        b += 1;
    }
    t[b'(' as usize] = PAREN;
    t
};
const OTHER: u8 = 1;
const PAREN: u8 = 2;

/// Whether `s` has a trunk `(0)` after its calling code (`trunk_zero_after_code`).
fn trunk_zero(s: &[u8]) -> bool {
    s.iter()
        .position(|&b| b == b'(')
        .is_some_and(|at| trunk_zero_after_code(s, at))
}

/// `number_key_bytes` byte by byte, for spellings with a no-break space (after any `+`).
fn number_key_spelled(s: &[u8]) -> Option<u64> {
    if trunk_zero(s) {
        return None;
    }
    // The value of all digits (leading zeros add nothing), their count and the first three.
    let (mut value, mut n, mut first) = (0u64, 0usize, [0u8; 3]);
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            d @ b'0'..=b'9' => {
                // "00" + 15 digits at most.
                if n == 17 {
                    return None;
                }
                if n < 3 {
                    first[n] = d;
                }
                value = value * 10 + (d - b'0') as u64;
                n += 1;
            }
            b' ' | b'-' | b'(' | b')' | b'.' | b'/' => {}
            // U+00A0, a no-break space
            0xC2 if s.get(i + 1) == Some(&0xA0) => i += 1,
            _ => return None,
        }
        i += 1;
    }
    let (len, lead) = if n >= 2 && first[..2] == *b"00" {
        (n - 2, first[2])
    } else {
        (n, first[0])
    };
    ((7..=15).contains(&len) && lead != b'0').then_some(value)
}

/// Channel prefixes that exports put before a number (Twilio's `whatsapp:+1...`, `tel:` URIs
/// of RFC 3966), dropped whatever their case.
const CHANNEL_PREFIXES: [&str; 3] = ["whatsapp:", "viber:", "tel:"];

/// Whether a contact that `number_key` does not read may still be a number spelled as exports
/// spell them (`export_number`): the quick test that keeps an opaque id (`user-7`) off the
/// slower way.
#[inline]
pub fn may_be_export_number(raw: &str) -> bool {
    matches!(raw.as_bytes().first(), Some(b'0' | b'+' | b'(')) || raw.contains(':')
}

/// A contact spelled as exports spell numbers, read once per distinct text: a channel prefix
/// dropped (`whatsapp:+4915112345678`), a trunk `(0)` after the calling code dropped
/// (`+49 (0) 151 12345678`), and a national number (`050 555 1234`, its trunk prefix `0`)
/// read in `country`'s numbering plan (libphonenumber's metadata). `Ok(None)`: not a number
/// (an opaque id). A national number with no `country` is an error: it is some country's
/// number, and guessing which would change the price.
pub fn export_number(raw: &str, country: Option<Country>) -> Result<Option<u64>, String> {
    let mut text = super::trim(raw);
    if let Some(p) = CHANNEL_PREFIXES
        .iter()
        .find(|p| text.len() >= p.len() && text[..p.len()].eq_ignore_ascii_case(p))
    {
        text = super::trim(&text[p.len()..]);
    }
    let text = without_trunk_zero(text);
    if let Some(n) = number_key(&text) {
        return Ok(Some(n));
    }
    if !is_national(&text) {
        return Ok(None);
    }
    let Some(country) = country else {
        return Err(
            "a national number (its trunk prefix 0, no calling code): pass --default-country CC \
             to read national numbers in that country's numbering plan"
                .into(),
        );
    };
    let id: phonenumber::country::Id = country
        .as_str()
        .parse()
        .map_err(|_| format!("no numbering plan is known for {}", country.as_str()))?;
    let number = phonenumber::parse(Some(id), &text).map_err(|e| {
        format!(
            "not a number in the numbering plan of {} ({e})",
            country.as_str()
        )
    })?;
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    number_key(&e164)
        .map(Some)
        .ok_or_else(|| format!("not a number in the numbering plan of {}", country.as_str()))
}

/// `+49 (0) 151 12345678` -> `+49  151 12345678`: a `(0)` after a calling code (1 to 3 digits
/// after `+` or `00`) is the national trunk prefix, which is never dialled from abroad.
fn without_trunk_zero(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(at) = text.find("(0)") else {
        return text.into();
    };
    let before = text[..at].trim_end();
    let code = before
        .strip_prefix('+')
        .or_else(|| before.strip_prefix("00"))
        .map(str::trim);
    match code {
        Some(c) if (1..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{before} {}", &text[at + 3..]).into()
        }
        _ => text.into(),
    }
}

/// Digits and separators only, the first digit a single `0` (a trunk prefix, not `00`), and
/// enough digits to be a subscriber's number.
fn is_national(text: &str) -> bool {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
    let spelled = text
        .bytes()
        .all(|b| b.is_ascii_digit() || SEPARATOR[b as usize]);
    spelled && (6..=15).contains(&digits.len()) && digits[0] == b'0' && digits[1] != b'0'
}

/// `--default-country CC`: a country whose numbering plan libphonenumber's metadata has.
pub fn plan_country(cc: &str) -> Result<Country, String> {
    let c = Country::parse(cc).ok_or_else(|| format!("not an ISO country code ({cc})"))?;
    let id: Option<phonenumber::country::Id> = c.as_str().parse().ok();
    match id.and_then(|id| phonenumber::metadata::DATABASE.by_id(id.as_ref())) {
        Some(_) => Ok(c),
        None => Err(format!("no numbering plan is known for {}", c.as_str())),
    }
}

/// Digits already normalized, as a number.
fn normalized_number(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<Country> {
        Country::parse(s)
    }

    #[test]
    fn the_branch_free_scan_agrees_with_the_byte_by_byte_one() {
        use rand::{Rng, SeedableRng};
        // Random spellings: mostly digits, with separators, zeros, '+', no-break spaces and
        // now and then a letter or a tab.
        let pieces: [&[u8]; 12] = [
            b"0",
            b"00",
            b"+",
            b" ",
            b"-",
            b"(",
            b")",
            b".",
            b"/",
            b"\xC2\xA0",
            b"a",
            b"\t",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut numbers, mut with_nbsp, mut with_00, mut plain) = (0, 0, 0, 0);
        for _ in 0..200_000 {
            let mut s = Vec::new();
            for _ in 0..rng.gen_range(1..24) {
                if rng.gen_bool(0.8) {
                    s.push(rng.gen_range(b'1'..=b'9'));
                } else {
                    let k = rng.gen_range(0..pieces.len() * 4) % pieces.len();
                    let k = if k >= 10 && rng.gen_bool(0.9) { 0 } else { k };
                    s.extend_from_slice(pieces[k]);
                }
            }
            let body = s.strip_prefix(b"+").unwrap_or(&s);
            let want = number_key_spelled(body);
            assert_eq!(
                number_key_bytes(&s),
                want,
                "{:?}",
                String::from_utf8_lossy(&s)
            );
            // With the key, its first four digits, worked out here by plain division.
            let prefix = want.map(|k| (k, (k / 10u64.pow(k.ilog10() - 3)) as u16));
            assert_eq!(number_key_and_prefix(&s), prefix);
            // And its digit count, as the length check counts them.
            let digits = want.map(|k| k.ilog10() as u8 + 1);
            assert_eq!(typed_number(&s).map(|t| t.digits() as u8), digits);
            if want.is_some() {
                numbers += 1;
                with_nbsp += s.contains(&0xC2) as u32;
                with_00 += (body.starts_with(b"00")) as u32;
                plain += (plain_digits(body).is_some()) as u32;
            }
        }
        // The spellings the reader meets are among them.
        assert!(
            numbers > 20_000 && with_nbsp > 1_000 && with_00 > 100 && plain > 1_000,
            "{numbers} {with_nbsp} {with_00} {plain}"
        );
    }

    #[test]
    fn the_compacting_scan_agrees_with_the_byte_by_byte_one() {
        use rand::{Rng, SeedableRng};
        #[cfg(target_arch = "x86_64")]
        if !std::arch::is_x86_feature_detected!("bmi2")
            || !std::arch::is_x86_feature_detected!("popcnt")
        {
            return;
        }
        // Every byte value now and then, digits and separators mostly, at every length read.
        let common = b"0123456789 -()./+";
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        for _ in 0..300_000 {
            let n = rng.gen_range(8..=24);
            let s: Vec<u8> = (0..n)
                .map(|_| match rng.gen_range(0..20) {
                    0 => rng.gen(),
                    1..=9 => rng.gen_range(b'0'..=b'9'),
                    _ => common[rng.gen_range(0..common.len())],
                })
                .collect();
            #[cfg(target_arch = "x86_64")]
            // SAFETY: BMI2 and POPCNT are there (checked above).
            let got = unsafe { scan_compacted(&s) };
            #[cfg(not(target_arch = "x86_64"))]
            let got = scan_bytewise(&s);
            assert_eq!(got, scan_bytewise(&s), "{:?}", String::from_utf8_lossy(&s));
        }
    }

    /// Numbers typed every way, each key and first four worked out by hand: the digits after
    /// any `+` or `00`, separators dropped.
    #[test]
    fn numbers_typed_with_separators() {
        let key = |s: &str| number_key_and_prefix(s.as_bytes());
        // spaces, dashes, dots, slashes, brackets; `+`, `00` and nothing before the code
        assert_eq!(key("+39 700 0418379"), Some((397_000_418_379, 3970)));
        assert_eq!(key("00380700410657"), Some((380_700_410_657, 3807)));
        assert_eq!(key("00 380 70-041-06-57"), Some((380_700_410_657, 3807)));
        assert_eq!(key("+1212 (10) 031-81"), Some((12_121_003_181, 1212)));
        assert_eq!(key("+1 (212) 555-0142"), Some((12_125_550_142, 1212)));
        assert_eq!(key("380.50.123.45.67"), Some((380_501_234_567, 3805)));
        assert_eq!(key("+49/151/1234/5678"), Some((4_915_112_345_678, 4915)));
        assert_eq!(key("+49 800 0035510"), Some((498_000_035_510, 4980)));
        // 23 and 24 bytes after the `+` (24 the longest read a word at a time), and 29, read
        // byte by byte
        assert_eq!(key("+4 9 - 1 5 1 - 1 2 3 4 5"), Some((4_915_112_345, 4915)));
        assert_eq!(
            key("+4 9 - 1 5 1 - 1 2 3 4 5 "),
            Some((4_915_112_345, 4915))
        );
        assert_eq!(
            key("+4 9 - 1 5 1 - 1 2 3 4 5 6 7 8"),
            Some((4_915_112_345_678, 4915))
        );
        // too short (6 digits; 7 is enough), too long (16 digits; 15 after `00`), a leading zero
        assert_eq!(key("+49 151 1"), None);
        assert_eq!(key("+49 151 12"), Some((4_915_112, 4915)));
        assert_eq!(key("+49 151 1234 5678 901"), None);
        assert_eq!(
            key("00 49 151 1234 5678 90"),
            Some((491_511_234_567_890, 4915))
        );
        assert_eq!(key("00 49 151 1234 5678 901"), None);
        assert_eq!(key("+0 49 151 1234"), None);
        // letters, a tab, a trunk zero, a `+` inside: not a number here
        assert_eq!(key("+49 151 1234 567a"), None);
        assert_eq!(key("+49 151\t1234 5678"), None);
        assert_eq!(key("+49 (0) 151 1234 5678"), None);
        assert_eq!(key("+49 151 +1234 5678"), None);
        // a no-break space: the byte-by-byte way
        assert_eq!(
            key("+49\u{a0}151 1234 5678"),
            Some((4_915_112_345_678, 4915))
        );
    }

    #[test]
    fn plain_digits_read_eight_at_a_time() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut read = 0;
        for _ in 0..100_000 {
            let n = rng.gen_range(1..=20);
            let mut s: Vec<u8> = (0..n).map(|_| rng.gen_range(b'0'..=b'9')).collect();
            // Sometimes one byte that is not a digit, anywhere, including the bytes next to
            // '0' and '9'.
            if rng.gen_bool(0.3) {
                let i = rng.gen_range(0..n);
                s[i] = *[b'/', b':', b' ', b'a', 0xC2, 0xFF, 0x00, b'+']
                    .get(rng.gen_range(0..8))
                    .unwrap();
            }
            let want = std::str::from_utf8(&s)
                .ok()
                .filter(|t| (8..=16).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
                .map(|t| t.parse::<u64>().unwrap());
            assert_eq!(plain_digits(&s), want, "{:?}", String::from_utf8_lossy(&s));
            read += want.is_some() as u32;
        }
        assert!(read > 20_000, "{read}");
        assert_eq!(
            plain_digits(b"9999999999999999"),
            Some(9_999_999_999_999_999)
        );
        assert_eq!(plain_digits(b"0000000000000001"), Some(1));
        assert_eq!(plain_digits(b"12345678"), Some(12_345_678));
    }

    #[test]
    fn first_four_agree_with_integer_division() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        for digits in 4..=20usize {
            let low = POW10[digits - 1];
            let high = POW10.get(digits).map_or(u64::MAX, |p| p - 1);
            // The ends of the range, numbers just under a multiple of the divisor, and some
            // at random.
            let divisor = POW10[digits - 4];
            let mut numbers = vec![low, high, low + divisor - 1, high - divisor + 1];
            numbers.extend((0..2_000).map(|_| rng.gen_range(low..=high)));
            numbers.extend((0..2_000).map(|_| {
                (rng.gen_range(low / divisor..=high / divisor) * divisor)
                    .saturating_sub(1)
                    .max(low)
            }));
            for n in numbers {
                assert_eq!(first_four(n, digits), n / divisor, "{n}");
            }
        }
    }

    #[test]
    fn first_four_are_the_leading_digits() {
        for digits in 4..=19 {
            let number: u64 = "9876543210987654321"[..digits].parse().unwrap();
            assert_eq!(first_four(number, digits), 9876, "{number}");
        }
        assert_eq!(first_four(u64::MAX, 20), 1844);
    }

    #[test]
    fn formats_normalize_to_the_same_digits() {
        for raw in [
            "+380 50 123 4567",
            "380501234567",
            "00380501234567",
            "+380 (50) 123-45-67",
            "380.50.123.45.67",
        ] {
            assert_eq!(normalize(raw).as_deref(), Some("380501234567"), "{raw}");
        }
        assert_eq!(normalize("user-42"), None);
        assert_eq!(normalize("+12"), None);
        assert_eq!(normalize("0501234567"), None);
        assert_eq!(
            normalize("\u{a0}+48\u{a0}500 806 336 "),
            Some("48500806336".into())
        );
        assert_eq!(normalize("000380501234567"), None);
        assert_eq!(
            normalize("00123456789012345"),
            Some("123456789012345".into())
        );
        assert_eq!(normalize("001234567890123456"), None);
        assert_eq!(number_key("+1 (212) 555-1234"), Some(12125551234));
    }

    /// A region's national lengths as the `phonenumber` crate reads libphonenumber's metadata:
    /// the union over its number types but `NoInternational`.
    fn crate_lengths_of(m: &phonenumber::Metadata) -> Vec<u16> {
        use phonenumber::Type::*;
        let types = [
            Unknown,
            FixedLine,
            Mobile,
            TollFree,
            PremiumRate,
            SharedCost,
            PersonalNumber,
            Voip,
            Pager,
            Uan,
            Emergency,
            Voicemail,
            ShortCode,
            StandardRate,
            Carrier,
        ];
        let mut all: Vec<u16> = (types.iter())
            .filter_map(|t| m.descriptors().get(*t))
            .flat_map(|d| d.possible_length().iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Every region of every calling code the crate knows (by code: the crate keeps the
    /// non-geographic codes, region `001`, under one id).
    fn crate_lengths() -> Vec<(String, u16, Vec<u16>)> {
        let db = &phonenumber::metadata::DATABASE;
        let mut out: Vec<(String, u16, Vec<u16>)> = (1..1000u16)
            .filter_map(|code| db.by_code(&code))
            .flatten()
            .map(|m| (m.id().to_string(), m.country_code(), crate_lengths_of(m)))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_length_table_is_libphonenumbers_for_every_region() {
        let mut table: Vec<(String, u16, Vec<u16>)> = LENGTHS
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let lengths = f[2].split(' ').map(|n| n.parse().unwrap()).collect();
                (f[0].to_string(), f[1].parse().unwrap(), lengths)
            })
            .collect();
        table.sort();
        let want = crate_lengths();
        assert!(want.len() > 240, "{} regions", want.len());
        assert_eq!(table, want);
        // Every country simcost derives has a plan, under a calling code its prefixes begin with.
        let codes = CallingCodes::load();
        for line in TABLE.lines().skip(1) {
            let (prefix, iso) = line.split_once(',').unwrap();
            let iso = &iso[..2];
            let plan = codes.plans[c(iso).unwrap().index()];
            assert!(plan.digits != 0, "{iso}");
            assert!(prefix.starts_with(&plan.code.to_string()), "{iso} {prefix}");
        }
    }

    #[test]
    fn every_example_number_has_a_possible_length_and_one_digit_more_or_less_may_not() {
        // For each example number of each region (libphonenumber's), found under whichever
        // country simcost's prefixes give: the region's lengths are all that country's too
        // (a shared code's smaller regions fit the main one), so no real number is refused.
        let codes = CallingCodes::load();
        let db = &phonenumber::metadata::DATABASE;
        let mut checked = 0;
        for m in db.iter() {
            let d = m.descriptors();
            let examples = [d.fixed_line(), d.mobile(), d.toll_free(), d.voip()];
            for example in examples.iter().flatten().filter_map(|d| d.example()) {
                let digits = format!("{}{example}", m.country_code());
                let Some(country) = codes.country_of(&digits) else {
                    continue;
                };
                let number: u64 = digits.parse().unwrap();
                assert_eq!(codes.check_length(country, number), Ok(()), "{digits}");
                let found = crate_lengths_of(db.by_id(country.as_str()).unwrap());
                for len in crate_lengths_of(m) {
                    // Canada's 7-digit 310-xxxx codes are dialled within Canada only; as
                    // +1 310 xxxx they read as a US area code, and are refused.
                    if (m.id(), country.as_str(), len) == ("CA", "US", 7) {
                        continue;
                    }
                    assert!(found.contains(&len), "{} {len} not in {country}", m.id());
                }
                // One digit more or less: possible exactly when that country has that length.
                let national = example.len() as u16;
                for (n, len) in [(number * 10 + 7, national + 1), (number / 10, national - 1)] {
                    let ok = codes.check_length(country, n).is_ok();
                    assert_eq!(ok, found.contains(&len), "{n} ({len} digits in {country})");
                }
                checked += 1;
            }
        }
        assert!(checked > 500, "{checked}");
    }

    #[test]
    fn impossible_lengths_are_named() {
        let t = CallingCodes::load();
        let check = |n: u64| t.check_length(t.country_of_number(n).unwrap(), n);
        // +7 numbers have 10 national digits (14 for some Russian and Kazakh services).
        assert_eq!(
            check(7911123456).unwrap_err(),
            "not a possible number for +7 (RU): 9 digits after the calling code, RU numbers have 10 or 14"
        );
        assert_eq!(check(79111234567), Ok(()));
        assert!(check(791112345678).is_err());
        assert_eq!(check(77011234567), Ok(()));
        assert!(check(7701123456).unwrap_err().contains("+7 (KZ): 9 digits"));
        // +1: ten digits, whichever NANP country the area code names.
        assert_eq!(check(12125551234), Ok(()));
        assert_eq!(check(18095551234), Ok(()));
        assert!(check(1212555123).unwrap_err().contains("+1 (US): 9 digits"));
        assert!(check(121255512345)
            .unwrap_err()
            .contains("+1 (US): 11 digits"));
        assert!(check(1809555123).unwrap_err().contains("+1 (DO)"));
        // A US number written without its area code: Canada's 7-digit service codes (310-xxxx)
        // do not make it a possible US number.
        assert!(check(15551234)
            .unwrap_err()
            .ends_with("+1 (US): 7 digits after the calling code, US numbers have 10"));
        assert_eq!(check(14163101234), Ok(()));
        // Ukraine: 9 (10 for some services); Germany 4 to 15.
        assert_eq!(check(380501234567), Ok(()));
        assert!(check(38050123456)
            .unwrap_err()
            .contains("+380 (UA): 8 digits"));
        assert_eq!(check(4930123), Ok(()));
        assert_eq!(check(4915112345678), Ok(()));
        // +44: Jersey's and Guernsey's lengths are among Britain's.
        assert_eq!(check(447911123456), Ok(()));
        assert!(check(4479111234)
            .unwrap_err()
            .contains("+44 (GB): 8 digits"));
    }

    #[test]
    fn calling_codes_and_area_codes() {
        let t = CallingCodes::load();
        assert_eq!(t.country_of("380501234567"), c("UA"));
        assert_eq!(t.country_of("4915112345678"), c("DE"));
        assert_eq!(t.country_of("359881234567"), c("BG"));
        assert_eq!(t.country_of("35312345678"), c("IE"));
        // NANP: area code decides; unknown area codes are the United States
        assert_eq!(t.country_of("18095551234"), c("DO"));
        assert_eq!(t.country_of("14165551234"), c("CA"));
        assert_eq!(t.country_of("12125551234"), c("US"));
        // +7: Kazakhstan's plan uses 6xx/7xx
        assert_eq!(t.country_of("77011234567"), c("KZ"));
        assert_eq!(t.country_of("79161234567"), c("RU"));
        assert_eq!(t.country_of("99999999"), None);
        assert!(t.is_known(c("VA").unwrap()));
        assert!(!t.is_known(c("ZZ").unwrap()));
    }

    /// A typed number's key, first four digits and digit count, worked out by hand.
    #[test]
    fn a_typed_number_is_two_words_its_key_prefix_and_digit_count_as_read() {
        // Two words: an `Option` of it is handed back in registers (`TypedNumber`).
        assert_eq!(std::mem::size_of::<Option<TypedNumber>>(), 16);
        let read = |s: &str| typed_number(s.as_bytes()).map(|t| (t.key(), t.prefix(), t.digits()));
        // Plain (read inline), with `00`, separated (out of line), 15 digits, and refused.
        assert_eq!(read("+447911123456"), Some((447_911_123_456, 4479, 12)));
        assert_eq!(read("00380501234567"), Some((380_501_234_567, 3805, 12)));
        assert_eq!(read("+1 (212) 555-0134"), Some((12_125_550_134, 1212, 11)));
        assert_eq!(read("+39 700 0418379"), Some((397_000_418_379, 3970, 12)));
        assert_eq!(
            read("+862 1234 5678 9012"),
            Some((862_123_456_789_012, 8621, 15))
        );
        assert_eq!(read("+0123456789"), None);
        assert_eq!(read("+12345"), None);
    }

    /// A typed number's country and length check by one read: GB (+44) numbers have 7, 9 or
    /// 10 national digits (9, 11 or 12 in all), UA (+380) 9 or 10 (12 or 13), US (+1 212)
    /// 10 (11); +990 is no country's. And for every prefix and count, what the country by
    /// prefix and `check_digits` give.
    #[test]
    fn a_typed_numbers_country_and_length_in_one_read() {
        let t = CallingCodes::load();
        let c = |s: &str| Country::parse(s).unwrap();
        for (prefix, digits, want) in [
            (4420, 9, Some((c("GB"), true))),
            (4420, 10, Some((c("GB"), false))),
            (4420, 11, Some((c("GB"), true))),
            (4420, 12, Some((c("GB"), true))),
            (4420, 13, Some((c("GB"), false))),
            (3805, 11, Some((c("UA"), false))),
            (3805, 12, Some((c("UA"), true))),
            (3805, 13, Some((c("UA"), true))),
            (1212, 11, Some((c("US"), true))),
            (1212, 10, Some((c("US"), false))),
            (9901, 11, None),
        ] {
            assert_eq!(
                t.country_of_typed(prefix, digits),
                want,
                "{prefix} {digits}"
            );
        }
        for prefix in 1000..10_000u16 {
            for digits in 0..32 {
                let want =
                    (t.country_of_prefix(prefix)).map(|c| (c, t.check_digits(c, digits).is_ok()));
                assert_eq!(
                    t.country_of_typed(prefix, digits),
                    want,
                    "{prefix} {digits}"
                );
            }
        }
    }

    #[test]
    fn numbers_as_exports_spell_them() {
        let de = Some(4915112345678);
        assert_eq!(export_number("+49 (0) 151 12345678", None), Ok(de));
        assert_eq!(export_number("0049(0)15112345678", None), Ok(de));
        assert_eq!(export_number("whatsapp:+4915112345678", None), Ok(de));
        assert_eq!(export_number("WhatsApp:+49 (0) 151 12345678", None), Ok(de));
        assert_eq!(export_number("viber:+4915112345678", None), Ok(de));
        assert_eq!(export_number("tel:+49-151-12345678", None), Ok(de));
        // A (0) that is not after a calling code is read as digits, as before.
        assert_eq!(number_key("+4915 (0) 112345678"), Some(49150112345678));
        assert_eq!(number_key("+49 (0) 151 12345678"), None);
        assert_eq!(export_number("whatsapp:user-7", None), Ok(None));
        assert_eq!(export_number("user-7", None), Ok(None));
    }

    #[test]
    fn national_numbers_need_a_country() {
        let ua = Country::parse("UA");
        // Ukraine: trunk prefix 0, calling code 380: 050 555 1234 is +380 50 555 1234.
        assert_eq!(export_number("050 555 1234", ua), Ok(Some(380505551234)));
        assert_eq!(export_number("(050) 555-12-34", ua), Ok(Some(380505551234)));
        // Germany: 0151 12345678 is +49 151 12345678.
        assert_eq!(
            export_number("0151 12345678", Country::parse("DE")),
            Ok(Some(4915112345678))
        );
        let e = export_number("050 555 1234", None).unwrap_err();
        assert!(e.contains("--default-country"), "{e}");
        assert!(plan_country("UA").is_ok());
        assert!(plan_country("XX").is_err());
        assert!(plan_country("ukraine").is_err());
        assert!(may_be_export_number("050 555 1234"));
        assert!(may_be_export_number("whatsapp:+1"));
        assert!(!may_be_export_number("user-7"));
    }
}
