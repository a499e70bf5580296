//! The bytes of a log before they are CSV: gzip or zstd compression (told by magic bytes, not
//! by the file's name) undone, and text in another encoding than UTF-8 (UTF-16 with a BOM, or
//! `--encoding NAME`) transcoded to UTF-8, all streaming: nothing is read twice, so a pipe
//! works as well as a file. Transcoding keeps every line end, so line numbers are the file's.

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_16LE, UTF_8};
use std::io::{self, Cursor, Read};

/// Why the input is not read.
pub enum Refused {
    Io(io::Error),
    /// A message for the user (the input's line 0).
    Input(String),
}

/// What was done to the input to make it UTF-8 text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// `gzip` or `zstd`.
    pub compression: Option<&'static str>,
    /// The encoding transcoded from (none: the input is UTF-8).
    pub encoding: Option<&'static Encoding>,
}

impl Decoded {
    /// The input's bytes are not the text's: its size says nothing of the text's length.
    pub fn changed(&self) -> bool {
        self.compression.is_some() || self.encoding.is_some()
    }
}

/// Bytes looked at to tell what an input is.
const HEAD: u64 = 64;

/// The input as UTF-8 text: decompressed if it starts with gzip's or zstd's magic bytes,
/// transcoded from UTF-16 if it starts with a UTF-16 BOM, or from `encoding` if given (a BOM
/// wins over it, as the WHATWG decoders do).
pub fn decode<'a>(
    input: impl Read + Send + 'a,
    encoding: Option<&'static Encoding>,
) -> Result<(Box<dyn Read + Send + 'a>, Decoded), Refused> {
    let (head, input) = peek(input).map_err(Refused::Io)?;
    let mut decoded = Decoded::default();
    let input: Box<dyn Read + Send + 'a> = if head.starts_with(b"\x1f\x8b") {
        decoded.compression = Some("gzip");
        // Multi-member: `cat a.gz b.gz` and pigz/bgzip output are one stream of members.
        Box::new(Named("gzip", flate2::read::MultiGzDecoder::new(input)))
    } else if head.starts_with(b"\x28\xb5\x2f\xfd") {
        decoded.compression = Some("zstd");
        let zstd = zstd::stream::read::Decoder::new(input).map_err(Refused::Io)?;
        Box::new(Named("zstd", zstd))
    } else {
        Box::new(input)
    };
    // The text's own first bytes (the compressed stream's differ).
    let (head, input) = if decoded.compression.is_some() {
        let (head, input) = peek(input).map_err(Refused::Io)?;
        (head, Box::new(input) as Box<dyn Read + Send + 'a>)
    } else {
        (head, input)
    };
    if let Some(what) = not_text(&head) {
        return Err(Refused::Input(what.into()));
    }
    let bom = Encoding::for_bom(&head).map(|(e, _)| e);
    let encoding = match (bom, encoding) {
        (Some(e), _) => Some(e),
        (None, Some(e)) => Some(e),
        (None, None) => {
            if let Some(label) = utf16_without_bom(&head) {
                return Err(Refused::Input(format!(
                    "the file looks like UTF-16 without a BOM (a NUL byte every other byte): \
                     read it with --encoding {label}, or save it as UTF-8"
                )));
            }
            None
        }
    };
    match encoding {
        // UTF-8 (with or without its BOM, which the header drops) is read as it is.
        None => Ok((input, decoded)),
        Some(e) if e == UTF_8 => Ok((input, decoded)),
        Some(e) => {
            decoded.encoding = Some(e);
            Ok((Box::new(Transcode::new(input, e)), decoded))
        }
    }
}

/// A decompressor whose errors say which format they are about (a truncated or corrupt
/// file names its format rather than only "invalid data").
struct Named<R>(&'static str, R);

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.1
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), format!("{} data: {e}", self.0)))
    }
}

/// An input whose first bytes were read, given back whole: those bytes, then the rest.
pub type Replayed<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// The first `HEAD` bytes of `input` (fewer if it is shorter), and the whole input again.
fn peek<R: Read>(mut input: R) -> io::Result<(Vec<u8>, Replayed<R>)> {
    let mut head = Vec::with_capacity(HEAD as usize);
    (&mut input).take(HEAD).read_to_end(&mut head)?;
    Ok((head.clone(), Cursor::new(head).chain(input)))
}

/// What the first bytes of a (decompressed) input say it is, when it is nothing simcost
/// reads: a format it does not decompress, or a spreadsheet.
fn not_text(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 3] = [
        (
            b"BZh",
            "the file is bzip2-compressed: decompress it first (bunzip2), or compress it with gzip or zstd",
        ),
        (
            b"\xfd7zXZ\x00",
            "the file is xz-compressed: decompress it first (unxz), or compress it with gzip or zstd",
        ),
        (
            b"PK\x03\x04",
            "the file is a ZIP archive (an .xlsx workbook?): save or extract it as CSV",
        ),
    ];
    let (_, what) = MAGIC.iter().find(|(m, _)| head.starts_with(m))?;
    // "BZh" could begin a header: bzip2 has a block size digit after it.
    (!what.contains("bzip2") || matches!(head.get(3), Some(b'1'..=b'9'))).then_some(*what)
}

/// The `--encoding` label of text that is UTF-16 without a BOM: ASCII with a NUL beside every
/// character (after it: little-endian; before it: big-endian).
fn utf16_without_bom(head: &[u8]) -> Option<&'static str> {
    let pairs = head.len() / 2;
    let nul_at = |k: usize| (0..pairs).all(|p| head[2 * p + k] == 0);
    let text_at = |k: usize| (0..pairs).all(|p| head[2 * p + k] != 0);
    if pairs < 2 {
        None
    } else if nul_at(1) && text_at(0) {
        Some("utf-16le")
    } else if nul_at(0) && text_at(1) {
        Some("utf-16be")
    } else {
        None
    }
}

/// The WHATWG encoding of an `--encoding` label (`windows-1252`, `latin1`, `utf-16le`, ...).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
        // WHATWG maps the label "utf-16" to UTF-16LE; "utf-16be" is its own.
        .or_else(|| (label.eq_ignore_ascii_case("ucs-2")).then_some(UTF_16LE))
        .filter(|e| *e != encoding_rs::REPLACEMENT)
}

/// Bytes of the input decoded at a time.
const CHUNK: usize = 64 << 10;

/// A reader of `input` in `encoding`, giving UTF-8. A byte sequence the encoding cannot decode
/// (an unpaired UTF-16 surrogate) is an error naming its line, never a replacement character:
/// a changed contact would change money.
struct Transcode<R> {
    input: R,
    decoder: Decoder,
    encoding: &'static Encoding,
    raw: Vec<u8>,
    /// `raw[start..]` is not decoded yet.
    start: usize,
    eof: bool,
    /// The decoder has had the last of the input.
    finished: bool,
    /// Decoded text not yet handed out: `text[pos..end]`.
    text: Vec<u8>,
    pos: usize,
    end: usize,
    /// Line ends decoded so far, to name the line of an undecodable sequence.
    lines: u64,
}

impl<R: Read> Transcode<R> {
    fn new(input: R, encoding: &'static Encoding) -> Transcode<R> {
        Transcode {
            input,
            // A BOM is dropped; without one, the text is in the encoding asked for.
            decoder: encoding.new_decoder_with_bom_removal(),
            encoding,
            raw: Vec::with_capacity(CHUNK),
            start: 0,
            eof: false,
            finished: false,
            // UTF-8 takes at most three bytes for each UTF-16 unit or legacy byte.
            text: vec![0; 3 * CHUNK + 16],
            pos: 0,
            end: 0,
            lines: 0,
        }
    }

    /// Decodes the next stretch of input into `text`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        while !self.finished {
            if self.start == self.raw.len() && !self.eof {
                self.raw.clear();
                self.start = 0;
                let got = (&mut self.input)
                    .take(CHUNK as u64)
                    .read_to_end(&mut self.raw)?;
                self.eof = got == 0;
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.raw[self.start..],
                &mut self.text,
                self.eof,
            );
            self.start += read;
            let line_ends = memchr::memchr_iter(b'\n', &self.text[..written]).count() as u64;
            match result {
                DecoderResult::Malformed(..) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "line {}: bytes that are not {} text",
                            self.lines + line_ends + 1,
                            self.encoding.name()
                        ),
                    ))
                }
                DecoderResult::InputEmpty => self.finished = self.eof,
                DecoderResult::OutputFull => {}
            }
            if written > 0 {
                self.lines += line_ends;
                (self.pos, self.end) = (0, written);
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.end - self.pos);
        buf[..n].copy_from_slice(&self.text[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(bytes: &[u8], encoding: Option<&'static Encoding>) -> (String, Decoded) {
        let (mut r, d) = decode(bytes, encoding).ok().unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        (s, d)
    }

    fn utf16le(s: &str) -> Vec<u8> {
        let mut b = vec![0xFF, 0xFE];
        b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        b
    }

    fn refused(bytes: &[u8], encoding: Option<&'static Encoding>) -> String {
        match decode(bytes, encoding) {
            Err(Refused::Input(m)) => m,
            Err(Refused::Io(e)) => format!("io: {e}"),
            Ok(_) => "read".into(),
        }
    }

    #[test]
    fn utf16_with_a_bom_is_transcoded_in_pieces() {
        // Long enough for many chunks; a character outside the BMP (a surrogate pair) and a
        // Cyrillic one on each line.
        let line = "2026-11-03 09:22\t+380505551234\tвхідне 😀\r\n";
        let text = line.repeat(20_000);
        let (got, d) = text_of(&utf16le(&text), None);
        assert_eq!(got, text);
        assert_eq!(d.encoding, Some(UTF_16LE));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(text_of(&be, None).0, text);
    }

    #[test]
    fn a_legacy_code_page_by_its_label() {
        let e = encoding_for_label("windows-1252");
        assert_eq!(text_of(b"M\xfcller;\x80\n", e).0, "Müller;€\n");
        assert_eq!(encoding_for_label("latin1"), e);
        assert_eq!(encoding_for_label("no-such-code-page"), None);
        // UTF-8 asked for: read as it is.
        assert_eq!(
            text_of(b"a,b\n", encoding_for_label("utf-8")).1,
            Decoded::default()
        );
    }

    #[test]
    fn utf16_without_a_bom_names_the_option() {
        let le: Vec<u8> = "time,contact"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(refused(&le, None).contains("--encoding utf-16le"));
        let be: Vec<u8> = "time,contact"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(refused(&be, None).contains("--encoding utf-16be"));
        // ... and with it, reads.
        assert_eq!(
            text_of(&le, encoding_for_label("utf-16le")).0,
            "time,contact"
        );
    }

    #[test]
    fn an_unpaired_surrogate_is_an_error_at_its_line() {
        let mut b = utf16le("a,b\nc,d\n");
        b.extend([0x00, 0xD8, b'x', 0]);
        let (mut r, _) = decode(&b[..], None).ok().unwrap();
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "line 3: bytes that are not UTF-16LE text");
    }

    #[test]
    fn gzip_and_zstd_are_told_by_their_magic_bytes() {
        use std::io::Write;
        let text = "timestamp,contact,direction\n".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let mut gz = gz.finish().unwrap();
        let (got, d) = text_of(&gz, None);
        assert_eq!((got.as_str(), d.compression), (text.as_str(), Some("gzip")));
        // Two members, as `cat a.gz b.gz` makes: both read.
        gz.extend(gz.clone());
        assert_eq!(text_of(&gz, None).0.len(), 2 * text.len());
        let zst = zstd::encode_all(utf16le(&text).as_slice(), 1).unwrap();
        let (got, d) = text_of(&zst, None);
        assert_eq!(got, text);
        assert_eq!((d.compression, d.encoding), (Some("zstd"), Some(UTF_16LE)));
    }

    #[test]
    fn other_archives_are_named() {
        assert!(refused(b"BZh91AY&SY", None).contains("bzip2"));
        assert!(refused(b"PK\x03\x04", None).contains("ZIP"));
        assert_eq!(refused(b"BZhistory,contact\n", None), "read");
        assert_eq!(refused(b"\0\0\0\0", None), "read");
    }
}
