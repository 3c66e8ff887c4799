//! What a picture says about itself: its size in pixels (from its header) and the camera
//! data in its Exif attributes (camera, lens, when it was taken, exposure), read with
//! `kamadak-exif` (<https://github.com/kamadak/exif-rs>) from JPEG, TIFF, PNG, WebP and HEIF.
//!
//! Only headers are read: a JPEG's segments up to its Exif one, a TIFF's attributes only when
//! the file is at most [`MAX_TIFF_BYTES`] (the reader loads a whole TIFF). Broken or hostile
//! bytes give fewer facts, never an error or a crash.

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use serde::Serialize;

/// A TIFF larger than this is not read for its Exif attributes (they would need the whole
/// file in memory).
pub const MAX_TIFF_BYTES: u64 = 64 * 1024 * 1024;

/// What a picture says about itself; each field `None` (or empty) when it does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PictureFacts {
    /// Width and height in pixels, as stored (before any Exif rotation).
    pub pixels: Option<(u32, u32)>,
    /// The camera: its model, after its make unless the model names it already.
    pub camera: Option<String>,
    /// The lens's model.
    pub lens: Option<String>,
    /// When it was taken (Exif `DateTimeOriginal`, the camera's local time as it writes it:
    /// `YYYY-MM-DD HH:MM:SS`).
    pub taken: Option<String>,
    /// Exposure, each part as photographers write it: `1/125 s`, `f/2.8`, `ISO 200`, `35 mm`.
    pub exposure: Vec<String>,
}

impl PictureFacts {
    /// True when the picture said nothing.
    pub fn is_empty(&self) -> bool {
        *self == PictureFacts::default()
    }
}

/// Reads what the picture at `path` says about itself (see the module's documentation).
/// `None` when it is not a regular file, cannot be read, or says nothing.
pub fn picture_facts(path: &Path) -> Option<PictureFacts> {
    let (file, meta) = crate::vdfs::fs::entry::open_regular_with_meta(path).ok()?;
    let mut r = BufReader::new(file);
    let mut facts = PictureFacts {
        pixels: image::ImageReader::new(&mut r)
            .with_guessed_format()
            .ok()
            .and_then(|i| i.into_dimensions().ok()),
        ..PictureFacts::default()
    };
    let mut magic = [0u8; 4];
    let read = r.rewind().and_then(|()| r.read_exact(&mut magic)).is_ok();
    let tiff = magic == *b"II*\0" || magic == *b"MM\0*";
    if read
        && !(tiff && meta.len() > MAX_TIFF_BYTES)
        && r.rewind().is_ok()
        && let Ok(exif) = exif::Reader::new().read_from_container(&mut r)
    {
        camera_facts(&exif, &mut facts);
    }
    (!facts.is_empty()).then_some(facts)
}

/// Fills the camera's part of `facts` from `exif`.
fn camera_facts(exif: &exif::Exif, facts: &mut PictureFacts) {
    use exif::{In, Tag};
    let text = |tag: Tag| {
        let f = exif.get_field(tag, In::PRIMARY)?;
        let s = match &f.value {
            exif::Value::Ascii(parts) => parts
                .iter()
                .map(|p| String::from_utf8_lossy(p).trim().to_owned())
                .collect::<Vec<_>>()
                .join(" "),
            _ => f.display_value().to_string(),
        };
        let s = s.trim().trim_matches('"').trim().to_owned();
        (!s.is_empty()).then_some(s)
    };
    facts.camera = match (text(Tag::Make), text(Tag::Model)) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            Some(model)
        }
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => model.or(make),
    };
    facts.lens = text(Tag::LensModel);
    // Exif writes dates `YYYY:MM:DD HH:MM:SS`.
    facts.taken = text(Tag::DateTimeOriginal)
        .or_else(|| text(Tag::DateTime))
        .map(|s| match s.split_once(' ') {
            Some((date, time)) if date.len() == 10 => format!("{} {time}", date.replace(':', "-")),
            _ => s,
        });
    let rational = |tag: Tag| match exif.get_field(tag, In::PRIMARY)?.value {
        exif::Value::Rational(ref v) if !v.is_empty() && v[0].denom != 0 => {
            Some((v[0].num, v[0].denom))
        }
        _ => None,
    };
    if let Some((n, d)) = rational(Tag::ExposureTime) {
        facts.exposure.push(if n != 0 && n < d {
            format!("1/{} s", (f64::from(d) / f64::from(n)).round())
        } else {
            format!("{} s", round1(f64::from(n) / f64::from(d)))
        });
    }
    if let Some((n, d)) = rational(Tag::FNumber) {
        facts
            .exposure
            .push(format!("f/{}", round1(f64::from(n) / f64::from(d))));
    }
    if let Some(iso) = exif
        .get_field(Tag::PhotographicSensitivity, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
    {
        facts.exposure.push(format!("ISO {iso}"));
    }
    if let Some((n, d)) = rational(Tag::FocalLength) {
        facts
            .exposure
            .push(format!("{} mm", round1(f64::from(n) / f64::from(d))));
    }
}

/// `x` with at most one decimal, without a trailing `.0`.
fn round1(x: f64) -> String {
    let s = format!("{:.1}", x);
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use exif::{Field, In, Rational, Tag, Value};

    /// A 40×30 JPEG carrying Exif attributes written by kamadak-exif's writer.
    fn jpeg_with_exif(dir: &Path) -> std::path::PathBuf {
        let mut jpeg = Vec::new();
        image::RgbImage::new(40, 30)
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
        let fields = [
            Field {
                tag: Tag::Make,
                ifd_num: In::PRIMARY,
                value: ascii("Canon"),
            },
            Field {
                tag: Tag::Model,
                ifd_num: In::PRIMARY,
                value: ascii("Canon EOS R6"),
            },
            Field {
                tag: Tag::DateTimeOriginal,
                ifd_num: In::PRIMARY,
                value: ascii("2024:06:01 12:34:56"),
            },
            Field {
                tag: Tag::ExposureTime,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![Rational { num: 1, denom: 125 }]),
            },
            Field {
                tag: Tag::FNumber,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![Rational { num: 28, denom: 10 }]),
            },
            Field {
                tag: Tag::PhotographicSensitivity,
                ifd_num: In::PRIMARY,
                value: Value::Short(vec![200]),
            },
            Field {
                tag: Tag::FocalLength,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![Rational { num: 35, denom: 1 }]),
            },
            Field {
                tag: Tag::LensModel,
                ifd_num: In::PRIMARY,
                value: ascii("RF24-105mm F4 L IS USM"),
            },
        ];
        let mut w = exif::experimental::Writer::new();
        for f in &fields {
            w.push_field(f);
        }
        let mut tiff = std::io::Cursor::new(Vec::new());
        w.write(&mut tiff, false).unwrap();
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff.into_inner());
        let mut out = jpeg[..2].to_vec();
        out.extend([0xff, 0xe1]);
        out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        let p = dir.join("photo.jpg");
        std::fs::write(&p, out).unwrap();
        p
    }

    #[test]
    fn a_photo_says_its_size_camera_lens_date_and_exposure() {
        let d = tempfile::tempdir().unwrap();
        let f = picture_facts(&jpeg_with_exif(d.path())).unwrap();
        assert_eq!(f.pixels, Some((40, 30)));
        assert_eq!(
            f.camera.as_deref(),
            Some("Canon EOS R6"),
            "the make said once"
        );
        assert_eq!(f.lens.as_deref(), Some("RF24-105mm F4 L IS USM"));
        assert_eq!(f.taken.as_deref(), Some("2024-06-01 12:34:56"));
        assert_eq!(f.exposure, ["1/125 s", "f/2.8", "ISO 200", "35 mm"]);
    }

    #[test]
    fn broken_pictures_and_other_files_say_less_never_fail() {
        let d = tempfile::tempdir().unwrap();
        // A picture without Exif: its size only.
        let png = d.path().join("plain.png");
        image::RgbaImage::new(7, 5).save(&png).unwrap();
        assert_eq!(
            picture_facts(&png),
            Some(PictureFacts {
                pixels: Some((7, 5)),
                ..PictureFacts::default()
            })
        );
        // Cut short, garbage, empty, text: nothing, and no panic.
        let photo = std::fs::read(jpeg_with_exif(d.path())).unwrap();
        for (name, bytes) in [
            ("cut.jpg", photo[..60].to_vec()),
            (
                "garbage.jpg",
                vec![0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, b'E', b'x'],
            ),
            ("empty.jpg", Vec::new()),
            ("notes.txt", b"hello".to_vec()),
        ] {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let f = picture_facts(&p);
            assert!(
                f.as_ref().is_none_or(|f| f.camera.is_none()),
                "{name}: {f:?}"
            );
        }
    }
}
