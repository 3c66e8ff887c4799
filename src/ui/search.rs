//! The search bar's filter chips: content kind, size, modification date and tag.

use eframe::egui;

use crate::vdfs::content::filetype::ContentKind;

/// Where the one search field looks, and what typing in it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindMode {
    /// Filters the folder shown as it is typed (no I/O); Enter searches below it.
    #[default]
    Filter,
    /// Searches the folder shown and below it, as it is typed.
    Below,
    /// Searches the whole library, as it is typed.
    Library,
}

/// Size buckets offered by the size chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizeFilter {
    /// No size filter.
    #[default]
    Any,
    /// Under 100 KiB.
    Small,
    /// 100 KiB to 10 MiB.
    Medium,
    /// 10 MiB to 1 GiB.
    Large,
    /// Over 1 GiB.
    Huge,
}

impl SizeFilter {
    /// Every bucket, in menu order.
    pub const ALL: [SizeFilter; 5] = [
        SizeFilter::Any,
        SizeFilter::Small,
        SizeFilter::Medium,
        SizeFilter::Large,
        SizeFilter::Huge,
    ];

    /// The chip's text.
    pub fn label(self) -> &'static str {
        match self {
            SizeFilter::Any => "Any size",
            SizeFilter::Small => "Under 100 KiB",
            SizeFilter::Medium => "100 KiB – 10 MiB",
            SizeFilter::Large => "10 MiB – 1 GiB",
            SizeFilter::Huge => "Over 1 GiB",
        }
    }

    /// The inclusive byte range (binary units, as the size column shows), or `None` for any.
    pub fn range(self) -> Option<(u64, u64)> {
        const KB: u64 = 1024;
        match self {
            SizeFilter::Any => None,
            SizeFilter::Small => Some((0, 100 * KB - 1)),
            SizeFilter::Medium => Some((100 * KB, 10 * KB * KB - 1)),
            SizeFilter::Large => Some((10 * KB * KB, KB * KB * KB - 1)),
            SizeFilter::Huge => Some((KB * KB * KB, u64::MAX)),
        }
    }
}

/// Modification-date buckets offered by the date chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateFilter {
    /// No date filter.
    #[default]
    Any,
    /// In the last 24 hours.
    Day,
    /// In the last 7 days.
    Week,
    /// In the last 30 days.
    Month,
    /// In the last 365 days.
    Year,
    /// More than a year ago.
    Older,
}

impl DateFilter {
    /// Every bucket, in menu order.
    pub const ALL: [DateFilter; 6] = [
        DateFilter::Any,
        DateFilter::Day,
        DateFilter::Week,
        DateFilter::Month,
        DateFilter::Year,
        DateFilter::Older,
    ];

    /// The chip's text.
    pub fn label(self) -> &'static str {
        match self {
            DateFilter::Any => "Any time",
            DateFilter::Day => "Past 24 hours",
            DateFilter::Week => "Past week",
            DateFilter::Month => "Past month",
            DateFilter::Year => "Past year",
            DateFilter::Older => "Over a year ago",
        }
    }

    /// The inclusive range in ns since the epoch, relative to `now_ns`.
    pub fn range(self, now_ns: i64) -> Option<(i64, i64)> {
        const DAY: i64 = 86_400_000_000_000;
        let since = |days: i64| Some((now_ns - days * DAY, i64::MAX));
        match self {
            DateFilter::Any => None,
            DateFilter::Day => since(1),
            DateFilter::Week => since(7),
            DateFilter::Month => since(30),
            DateFilter::Year => since(365),
            DateFilter::Older => Some((i64::MIN, now_ns - 365 * DAY - 1)),
        }
    }
}

/// The filter chips' state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchFilters {
    /// Only this kind of content.
    pub kind: Option<ContentKind>,
    /// Size bucket.
    pub size: SizeFilter,
    /// Modification-date bucket.
    pub modified: DateFilter,
    /// Only what carries this tag (or a tag below it).
    pub tag: Option<uuid::Uuid>,
    /// With `tag`: what is below a tagged folder carries its tags too.
    pub tag_inherited: bool,
    /// Only the items of this collection (set from the sidebar).
    pub collection: Option<uuid::Uuid>,
}

impl SearchFilters {
    /// True if no chip filters anything.
    pub fn is_empty(&self) -> bool {
        *self == SearchFilters::default()
    }

    /// Draws the chips (kind, size, date, and "Tagged with…" when the library has `tags`) and
    /// a "Clear filters" button; returns true if any changed.
    pub fn chips(
        &mut self,
        ui: &mut egui::Ui,
        tags: &[crate::vdfs::library::TagInfo],
        collections: &[crate::vdfs::library::CollectionInfo],
    ) -> bool {
        let before = *self;
        let kind_text = self
            .kind
            .map_or_else(|| "Any kind".to_owned(), |k| title(k.as_str()));
        egui::ComboBox::from_id_salt("search_kind")
            .selected_text(kind_text)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.kind, None, "Any kind");
                for k in ContentKind::ALL.into_iter().skip(1) {
                    ui.selectable_value(&mut self.kind, Some(k), title(k.as_str()));
                }
            });
        egui::ComboBox::from_id_salt("search_size")
            .selected_text(self.size.label())
            .show_ui(ui, |ui| {
                for s in SizeFilter::ALL {
                    ui.selectable_value(&mut self.size, s, s.label());
                }
            });
        egui::ComboBox::from_id_salt("search_date")
            .selected_text(self.modified.label())
            .show_ui(ui, |ui| {
                for d in DateFilter::ALL {
                    ui.selectable_value(&mut self.modified, d, d.label());
                }
            });
        if !tags.is_empty() || self.tag.is_some() {
            let text = self
                .tag
                .and_then(|id| tags.iter().find(|t| t.id == id))
                .map_or_else(
                    || "Any tag".to_owned(),
                    |t| format!("Tagged {}", t.qualified()),
                );
            egui::ComboBox::from_id_salt("search_tag")
                .selected_text(text)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.tag, None, "Any tag");
                    for t in tags {
                        ui.selectable_value(&mut self.tag, Some(t.id), t.qualified());
                    }
                });
        }
        if self.tag.is_some() {
            ui.checkbox(&mut self.tag_inherited, "Also inside tagged folders");
        }
        if let Some(c) = self.collection {
            let name = collections
                .iter()
                .find(|x| x.id == c)
                .map_or("a collection", |x| x.record.name.as_str());
            ui.label(format!("In \"{name}\""));
        }
        if !self.is_empty() && ui.button("Clear filters").clicked() {
            *self = SearchFilters::default();
        }
        *self != before
    }
}

/// `"spreadsheet"` → `"Spreadsheet"`.
fn title(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
