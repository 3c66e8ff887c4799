//! Thumbnail sidecars: for Deep-mode locations, a 256-pixel JPEG of every image content
//! (a PNG for SVG drawings, which keep their transparency), stored once per content (copies
//! share it) in the library's `sidecars/thumbs/` folder.
//!
//! Originals are only read. Decoding is bounded (pixel count and allocation limits; for SVG
//! the file's size, the size once unzipped, and no file or image it links to is read), so a
//! hostile or broken image is an error on that path, never a crash or a memory blow-up.
//! SVG is drawn with `resvg` (<https://github.com/linebender/resvg>) without its text
//! support: text in a drawing is left out of its thumbnail.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::schema::CONTENT;
use crate::vdfs::content::filetype::ContentKind;
use crate::vdfs::home::atomic::write_atomic;
use crate::vdfs::index::{self, ContentRecord};
use crate::vdfs::jobs::{Job, JobContext, JobError, JobPathError, JobProgress};

/// Longest side of a thumbnail, in pixels.
pub const THUMB_SIZE: u32 = 256;
/// Images larger than this many pixels are not decoded (e.g. 100 MP).
pub const MAX_PIXELS: u64 = 100_000_000;
/// SVG files (and `.svgz` once unzipped) larger than this are not drawn.
pub const MAX_SVG_BYTES: u64 = 16 * 1024 * 1024;
/// PDF files larger than this are not drawn.
pub const MAX_PDF_BYTES: u64 = 64 * 1024 * 1024;
/// Contents per checkpoint.
const BATCH: usize = 32;

/// Where the thumbnail of `content` lives under the `sidecars` folder:
/// `thumbs/<first 2 hex of the uuid>/<uuid>.jpg` (a JPEG, or a PNG for an SVG drawing: it is
/// read by its bytes, not its name).
pub fn thumbnail_path(sidecars: &Path, content: Uuid) -> PathBuf {
    let s = content.simple().to_string();
    sidecars
        .join("thumbs")
        .join(&s[..2])
        .join(format!("{content}.jpg"))
}

/// Decodes `source` (any format `image` reads: JPEG, PNG, GIF, WebP, BMP, TIFF; an SVG
/// drawing, `.svg` or gzipped `.svgz`; or a PDF's first page) and returns a thumbnail whose
/// longest side is at most `size`: a JPEG, or for SVG a PNG with its transparency.
///
/// # Errors
/// A message for unreadable, undecodable or oversized images.
pub fn make_thumbnail(source: &Path, size: u32) -> Result<Vec<u8>, String> {
    if is_svg_name(source) {
        return svg_thumbnail(source, size);
    }
    if is_pdf_name(source) {
        return pdf_thumbnail(source, size);
    }
    // Dimensions first (a header read), so a huge image is refused before it is decoded.
    let (w, h) = reader(source)?
        .into_dimensions()
        .map_err(|e| e.to_string())?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("{w}×{h} pixels is too large to preview"));
    }
    let img = reader(source)?.decode().map_err(|e| e.to_string())?;
    let thumb = img.thumbnail(size, size).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode_image(&thumb)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// True for a name ending in `.pdf` (any case): its first page is its picture.
pub fn is_pdf_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
}

/// Draws the first page of the PDF at `source` on white, to fit `size`×`size`, and returns
/// it as a JPEG. Drawn with `hayro` (<https://github.com/LaurenzV/hayro>, pure Rust, its
/// standard fonts built in). At most [`MAX_PDF_BYTES`] are read; an encrypted, broken or
/// unsupported file is an error, and a panic inside the renderer is caught and said as one.
fn pdf_thumbnail(source: &Path, size: u32) -> Result<Vec<u8>, String> {
    let data = read_at_most(source, MAX_PDF_BYTES)?;
    if data.len() as u64 > MAX_PDF_BYTES {
        return Err(format!(
            "a PDF of over {} is too large to preview",
            crate::format::bytes(MAX_PDF_BYTES)
        ));
    }
    let drawn = std::panic::catch_unwind(move || -> Result<(Vec<u8>, u32, u32), String> {
        let pdf = hayro::hayro_syntax::Pdf::new(data)
            .map_err(|e| format!("not a PDF that can be read: {e:?}"))?;
        let page = pdf.pages().first().ok_or("the PDF has no pages")?;
        let (w, h) = page.render_dimensions();
        if !(w.is_finite() && h.is_finite() && w >= 1.0 && h >= 1.0) {
            return Err(format!("the first page measures {w}×{h}"));
        }
        let scale = size as f32 / w.max(h);
        let pixmap = hayro::render(
            page,
            &hayro::RenderCache::new(),
            &hayro::hayro_interpret::InterpreterSettings::default(),
            &hayro::RenderSettings::default(),
            &hayro::PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: hayro::vello_cpu::color::palette::css::WHITE,
            },
        );
        let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
        // On white, every pixel is opaque: premultiplied and plain colours are the same.
        let rgb: Vec<u8> = pixmap
            .data_as_u8_slice()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok((rgb, pw, ph))
    })
    .map_err(|_| "this PDF could not be drawn".to_owned())??;
    let (rgb, pw, ph) = drawn;
    if pw == 0 || ph == 0 {
        return Err("the first page is empty".to_owned());
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
        .encode(&rgb, pw, ph, image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The first `max` + 1 bytes of the regular file at `source` (never through a symbolic
/// link): more than `max` means the file is too large.
fn read_at_most(source: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = crate::vdfs::fs::entry::open_regular(source).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    Ok(data)
}

/// True for a name ending in `.svg` or `.svgz` (any case).
fn is_svg_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("svg") || e.eq_ignore_ascii_case("svgz"))
}

/// Draws the SVG at `source` (gzipped or not) to fit `size`×`size` and returns it as PNG.
/// Only the file itself is read: images and files it links to are left out, and so is
/// text (no fonts are loaded). At most [`MAX_SVG_BYTES`] are read, also once unzipped.
fn svg_thumbnail(source: &Path, size: u32) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut data = read_at_most(source, MAX_SVG_BYTES)?;
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(data.as_slice())
            .take(MAX_SVG_BYTES + 1)
            .read_to_end(&mut unzipped)
            .map_err(|e| format!("not a gzipped SVG: {e}"))?;
        data = unzipped;
    }
    if data.len() as u64 > MAX_SVG_BYTES {
        return Err(format!(
            "an SVG drawing of over {} is too large to preview",
            crate::format::bytes(MAX_SVG_BYTES)
        ));
    }
    let opt = resvg::usvg::Options {
        image_href_resolver: resvg::usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_data(&data, &opt).map_err(|e| e.to_string())?;
    let (w, h) = (tree.size().width(), tree.size().height());
    let scale = size as f32 / w.max(h);
    // At least a pixel a side (a drawing 1000 wide and 1 high stays visible).
    let pw = ((w * scale).round() as u32).clamp(1, size);
    let ph = ((h * scale).round() as u32).clamp(1, size);
    let mut pixmap = resvg::tiny_skia::Pixmap::new(pw, ph)
        .ok_or_else(|| format!("cannot draw {pw}×{ph} pixels"))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    // tiny-skia's pixels are premultiplied; PNG's are not.
    let rgba: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    use image::ImageEncoder;
    let mut out = Vec::new();
    // Fast compression: the thumbnail is small, and written and read back at once.
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(&rgba, pw, ph, image::ExtendedColorType::Rgba8)
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// An image reader for `source` with its format guessed from the bytes and a 512 MiB
/// allocation limit.
/// The pixel size (width, height) of the image at `source`, read from its header (a few
/// hundred bytes; nothing is decoded). `None` for a file that is not an image `image` reads.
pub fn image_dimensions(source: &Path) -> Option<(u32, u32)> {
    reader(source).ok()?.into_dimensions().ok()
}

fn reader(source: &Path) -> Result<image::ImageReader<std::io::BufReader<std::fs::File>>, String> {
    // Only a regular file is read: a FIFO or device named like an image never blocks.
    let file = crate::vdfs::fs::entry::open_regular(source).map_err(|e| e.to_string())?;
    let mut r = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(512 * 1024 * 1024);
    r.limits(limits);
    Ok(r)
}

/// Makes the missing thumbnails of a location's image contents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThumbnailJob {
    /// The location.
    pub location: u32,
    /// Unused, kept so that jobs saved by earlier versions still decode: the sidecar folder
    /// is always the running library's (`<library>/sidecars`), so a renamed or moved library
    /// resumes into its own folder, never the old path.
    pub sidecars: PathBuf,
    /// The last cas_id handled (the cursor).
    pub after: Option<u64>,
    /// Thumbnails made.
    pub made: u64,
    /// Images that could not be previewed.
    pub failed: u64,
    /// The location's folder name, for the title (empty in a job saved before it existed).
    pub name: String,
}

/// [`ThumbnailJob`]'s saved state as written before it had a `name`. Frozen: never change it.
#[derive(Debug, Deserialize)]
struct ThumbnailJobV1 {
    location: u32,
    sidecars: PathBuf,
    after: Option<u64>,
    made: u64,
    failed: u64,
}

impl From<ThumbnailJobV1> for ThumbnailJob {
    fn from(v: ThumbnailJobV1) -> ThumbnailJob {
        ThumbnailJob {
            location: v.location,
            sidecars: v.sidecars,
            after: v.after,
            made: v.made,
            failed: v.failed,
            name: String::new(),
        }
    }
}

impl ThumbnailJob {
    /// A job for `location` (its folder named `name`, for the title), writing into the
    /// library's sidecar folder.
    pub fn new(location: u32, name: String) -> ThumbnailJob {
        ThumbnailJob {
            location,
            sidecars: PathBuf::new(),
            after: None,
            made: 0,
            failed: 0,
            name,
        }
    }
}

impl Job for ThumbnailJob {
    const KIND: &'static str = "thumbnails";

    fn title(&self) -> String {
        // A person knows a location by its folder, not by its id.
        if self.name.is_empty() {
            "Thumbnails".to_owned()
        } else {
            format!("Thumbnails for {}", self.name)
        }
    }

    fn decode_state(bytes: &[u8]) -> Result<ThumbnailJob, postcard::Error> {
        // The current layout first: an old state lacks the name and never decodes as it.
        match postcard::from_bytes::<ThumbnailJob>(bytes) {
            Ok(job) => Ok(job),
            Err(current) => postcard::from_bytes::<ThumbnailJobV1>(bytes)
                .map(ThumbnailJob::from)
                .map_err(|_| current),
        }
    }

    fn resources(&self) -> Vec<crate::vdfs::jobs::Resource> {
        vec![crate::vdfs::jobs::Resource::Location(self.location)]
    }

    fn run(&mut self, ctx: &mut JobContext) -> Result<String, JobError> {
        let sidecars = ctx
            .library_dir()
            .join(crate::vdfs::home::libraries::SIDECARS_DIR);
        loop {
            let after = self.after;
            let location = self.location;
            // The next image contents with a copy in this location, how far the scan got,
            // and whether it reached the end of the table.
            let (work, last, end) = ctx.store().read(|tx| {
                let t = tx.open_table(CONTENT)?;
                let mut work: Vec<(ContentRecord, Vec<PathBuf>)> = Vec::new();
                let mut last = after;
                let start = after.map_or(0, |a| a.saturating_add(1));
                let mut end = true;
                if after != Some(u64::MAX) {
                    for row in t.range(start..)? {
                        let rec: ContentRecord =
                            crate::store::record::decode_record(row?.1.value())?;
                        last = Some(rec.cas.0);
                        if rec.kind == ContentKind::Image {
                            let mut paths = Vec::new();
                            for id in index::instances(tx, rec.cas)? {
                                if index::entry(tx, id)?.is_some_and(|e| e.location == location) {
                                    paths.push(index::path_of(tx, id)?);
                                }
                            }
                            if !paths.is_empty() {
                                work.push((rec, paths));
                            }
                        }
                        if work.len() == BATCH {
                            end = false;
                            break;
                        }
                    }
                }
                Ok((work, last, end))
            })?;
            let results = std::thread::scope(|s| {
                let handles: Vec<_> = work
                    .chunks(work.len().div_ceil(2).max(1))
                    .map(|chunk| {
                        let sidecars = &sidecars;
                        s.spawn(move || {
                            chunk
                                .iter()
                                .map(|(rec, paths)| make_one(sidecars, rec, paths))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect::<Vec<_>>()
            });
            for r in results {
                match r {
                    Outcome::Made => self.made += 1,
                    Outcome::Existed => {}
                    Outcome::Failed(path, why) => {
                        self.failed += 1;
                        ctx.record_error(JobPathError::new(&path, format!("no thumbnail: {why}")));
                    }
                }
            }
            self.after = if end { Some(u64::MAX) } else { last };
            ctx.set_progress(JobProgress {
                phase: "thumbnails".into(),
                completed: self.made,
                total: None,
                bytes: 0,
                message: String::new(),
            });
            ctx.checkpoint(self, |_| Ok(()))?;
            if end {
                break;
            }
        }
        Ok(format!(
            "{} thumbnails made, {} images could not be previewed",
            self.made, self.failed
        ))
    }
}

enum Outcome {
    Made,
    Existed,
    Failed(PathBuf, String),
}

fn make_one(sidecars: &Path, rec: &ContentRecord, paths: &[PathBuf]) -> Outcome {
    let target = thumbnail_path(sidecars, rec.uuid);
    if target.is_file() {
        return Outcome::Existed;
    }
    let mut last_err = None;
    for p in paths {
        match make_thumbnail(p, THUMB_SIZE) {
            Ok(bytes) => {
                if let Some(dir) = target.parent()
                    && let Err(e) = crate::vdfs::home::atomic::ensure_own_dirs(dir, 3)
                {
                    return Outcome::Failed(p.clone(), format!("{}: {e}", dir.display()));
                }
                return match write_atomic(&target, &bytes, None) {
                    Ok(()) => Outcome::Made,
                    Err(e) => Outcome::Failed(p.clone(), format!("{}: {e}", target.display())),
                };
            }
            Err(e) => last_err = Some((p.clone(), e)),
        }
    }
    let (p, e) = last_err.unwrap_or_else(|| (PathBuf::new(), "no copy found".into()));
    Outcome::Failed(p, e)
}

#[cfg(all(test, unix))]
mod fifo_tests {
    use super::*;

    /// A FIFO named like an image (or a file swapped for one) must never block the thumbnail
    /// pool: opening it for reading would wait for a writer forever.
    #[test]
    fn a_fifo_named_like_an_image_is_refused_at_once() {
        use crate::vdfs::fs::testing::{fifo, within};
        let d = tempfile::tempdir().unwrap();
        let fifo = fifo(d.path(), "holiday.jpg");
        let r = within("make_thumbnail blocked on a FIFO", move || {
            make_thumbnail(&fifo, THUMB_SIZE)
        });
        assert!(r.unwrap_err().contains("not a regular file"));
    }

    /// An SVG that links to a FIFO (or any file) is drawn without reading it.
    #[test]
    fn an_svg_linking_to_a_fifo_is_drawn_without_reading_it() {
        use crate::vdfs::fs::testing::{fifo, within};
        let d = tempfile::tempdir().unwrap();
        let fifo = fifo(d.path(), "trap.png");
        let svg = d.path().join("icon.svg");
        std::fs::write(
            &svg,
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image xlink:href="{}" width="10" height="10"/><rect width="5" height="5" fill="red"/></svg>"#,
                fifo.display()
            ),
        )
        .unwrap();
        let r = within("an SVG's linked FIFO blocked the thumbnail", move || {
            make_thumbnail(&svg, THUMB_SIZE)
        });
        assert!(r.is_ok(), "{r:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 200×100 drawing: a red disc in the middle on a transparent ground.
    const DISC: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100"><circle cx="100" cy="50" r="40" fill="#ff0000"/></svg>"##;

    fn decoded(png: &[u8]) -> image::RgbaImage {
        assert_eq!(
            image::guess_format(png).unwrap(),
            image::ImageFormat::Png,
            "a PNG, to keep the transparency"
        );
        image::load_from_memory(png).unwrap().to_rgba8()
    }

    #[test]
    fn an_svg_drawing_gets_a_thumbnail_with_its_transparency_svgz_too() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let svg = d.path().join("disc.SVG");
        std::fs::write(&svg, DISC).unwrap();
        let img = decoded(&make_thumbnail(&svg, THUMB_SIZE).unwrap());
        assert_eq!(
            img.dimensions(),
            (256, 128),
            "the longest side fits, the shape kept"
        );
        assert_eq!(img.get_pixel(128, 64).0, [255, 0, 0, 255], "the disc");
        assert_eq!(img.get_pixel(2, 2).0[3], 0, "the ground stays transparent");
        // Gzipped (.svgz): the same drawing.
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(DISC.as_bytes()).unwrap();
        let svgz = d.path().join("disc.svgz");
        std::fs::write(&svgz, z.finish().unwrap()).unwrap();
        assert_eq!(decoded(&make_thumbnail(&svgz, THUMB_SIZE).unwrap()), img);
    }

    #[test]
    fn broken_and_oversized_svg_are_errors_not_crashes() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let bad = d.path().join("bad.svg");
        std::fs::write(&bad, "<svg><g></svg").unwrap();
        assert!(make_thumbnail(&bad, THUMB_SIZE).is_err());
        let empty = d.path().join("empty.svg");
        std::fs::write(&empty, "").unwrap();
        assert!(make_thumbnail(&empty, THUMB_SIZE).is_err());
        // A gzip bomb: a small file that unzips to more than the limit is refused unread.
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"9\" height=\"9\">")
            .unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..=MAX_SVG_BYTES >> 20 {
            z.write_all(&spaces).unwrap();
        }
        let bomb = z.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let path = d.path().join("bomb.svgz");
        std::fs::write(&path, bomb).unwrap();
        let e = make_thumbnail(&path, THUMB_SIZE).unwrap_err();
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn a_job_saved_before_it_had_a_name_still_resumes() {
        // The layout of ThumbnailJobV1, written as an earlier build did.
        #[derive(Serialize)]
        struct Saved {
            location: u32,
            sidecars: PathBuf,
            after: Option<u64>,
            made: u64,
            failed: u64,
        }
        let old = postcard::to_allocvec(&Saved {
            location: 6,
            sidecars: PathBuf::new(),
            after: Some(41),
            made: 40,
            failed: 1,
        })
        .unwrap();
        let job = ThumbnailJob::decode_state(&old).unwrap();
        assert_eq!((job.location, job.after, job.made), (6, Some(41), 40));
        assert_eq!(job.title(), "Thumbnails");
        let new = ThumbnailJob::new(6, "Pictures".into());
        assert_eq!(new.title(), "Thumbnails for Pictures");
        let again = ThumbnailJob::decode_state(&postcard::to_allocvec(&new).unwrap()).unwrap();
        assert_eq!(again.name, "Pictures");
    }
}

#[cfg(test)]
mod pdf_tests {
    use super::*;

    /// A one-page PDF, 200×100 points, its left half filled red; with a correct xref table.
    fn red_half_pdf() -> Vec<u8> {
        let content = "1 0 0 rg 0 0 100 100 re f";
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>".to_owned(),
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for off in offsets {
            pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn a_pdf_shows_its_first_page_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Report.PDF");
        std::fs::write(&path, red_half_pdf()).unwrap();
        let jpeg = make_thumbnail(&path, THUMB_SIZE).unwrap();
        let img = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert_eq!(
            img.dimensions(),
            (256, 128),
            "fits 256, keeps the page's shape"
        );
        let left = img.get_pixel(60, 64);
        let right = img.get_pixel(196, 64);
        assert!(
            left[0] > 200 && left[1] < 60 && left[2] < 60,
            "red: {left:?}"
        );
        assert!(right.0.iter().all(|&c| c > 230), "white paper: {right:?}");
        // Not a PDF, and a PDF cut short: errors, never a crash.
        std::fs::write(&path, b"%PDF-1.4\n1 0 obj << /Type").unwrap();
        assert!(make_thumbnail(&path, THUMB_SIZE).is_err());
        std::fs::write(&path, b"hello").unwrap();
        assert!(make_thumbnail(&path, THUMB_SIZE).is_err());
    }
}
