//! docker/cli's image tree table (`docker images --tree`, Docker 29's
//! view): an IMAGE column as narrow as its widest name, then ID, DISK USAGE,
//! CONTENT SIZE and EXTRA, three spaces apart; an image's names one per
//! line, its platforms below it as `├─`/`└─` rows. Pure: rows in, text out.

/// One image: its names (none: `<untagged>`) and its platform rows.
#[derive(Debug, Clone)]
pub struct TreeImage {
    pub names: Vec<String>,
    pub details: TreeDetails,
    pub children: Vec<TreePlatform>,
}

/// One platform of an image.
#[derive(Debug, Clone)]
pub struct TreePlatform {
    pub platform: String,
    pub details: TreeDetails,
}

/// The columns after IMAGE, already rendered (sizes by go-units).
#[derive(Debug, Clone)]
pub struct TreeDetails {
    /// The full ID; the table shows its first 12 hex digits.
    pub id: String,
    pub disk_usage: String,
    pub content_size: String,
    pub in_use: bool,
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

const SPACING: usize = 3;

/// The fixed columns: title, width, alignment.
const COLUMNS: [(&str, usize, Align); 4] = [
    ("ID", 12, Align::Left),
    ("DISK USAGE", 10, Align::Right),
    ("CONTENT SIZE", 12, Align::Right),
    ("EXTRA", 5, Align::Left),
];

/// The legend docker prints above the table on a terminal.
pub const LEGEND: &str = "Info → U In Use";

/// The table for a terminal `width` columns wide (docker uses 80 when it
/// cannot tell, and at least 20). Columns that would leave the IMAGE column
/// under 12 characters are dropped; names wider than it end in `...`.
pub fn render(images: &[TreeImage], width: usize) -> String {
    let width = width.max(20);
    let mut name_width = width;
    let mut shown = 0;
    for (_, w, _) in COLUMNS {
        let d = w + SPACING;
        if name_width < d + 12 {
            break;
        }
        name_width -= d;
        shown += 1;
    }
    let columns = &COLUMNS[..shown];
    name_width = name_width.min(widest(images));
    // Extra spacing between images once any image has platform rows.
    let spacing = images.iter().any(|i| !i.children.is_empty());

    let mut out = pad("IMAGE", name_width, Align::Left);
    for (title, w, a) in columns {
        out.push_str(&" ".repeat(SPACING));
        out.push_str(&pad(title, *w, *a));
    }
    out.push('\n');
    for img in images {
        if img.names.is_empty() {
            out.push_str(&pad("<untagged>", name_width, Align::Left));
        }
        for (i, name) in img.names.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&pad(name, name_width, Align::Left));
        }
        details(&mut out, columns, &img.details);
        if !img.children.is_empty() || spacing {
            out.push('\n');
        }
        for (i, c) in img.children.iter().enumerate() {
            let branch = if i + 1 == img.children.len() {
                "└─ "
            } else {
                "├─ "
            };
            out.push_str(&pad(
                &format!("{branch}{}", c.platform),
                name_width,
                Align::Left,
            ));
            details(&mut out, columns, &c.details);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn details(out: &mut String, columns: &[(&str, usize, Align)], d: &TreeDetails) {
    for (title, w, a) in columns {
        out.push_str(&" ".repeat(SPACING));
        let v = match *title {
            "ID" => short_id(&d.id),
            "DISK USAGE" => d.disk_usage.clone(),
            "CONTENT SIZE" => d.content_size.clone(),
            _ => if d.in_use { "U" } else { "" }.to_string(),
        };
        out.push_str(&pad(&v, *w, *a));
    }
}

/// `stringid.TruncateID`: the hex after any `algo:`, 12 characters.
fn short_id(id: &str) -> String {
    let hex = id.split_once(':').map_or(id, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// The widest IMAGE cell, counted in bytes as docker/cli counts it (so the
/// three-byte box-drawing characters of a platform row count three times).
fn widest(images: &[TreeImage]) -> usize {
    let mut w = "Image".len();
    for img in images {
        if img.names.is_empty() {
            w = w.max("<untagged>".len());
        }
        for n in &img.names {
            w = w.max(n.len());
        }
        for c in &img.children {
            w = w.max(c.platform.len() + "└─ ".len());
        }
    }
    w
}

/// `s` padded (or cut to `width - 3` characters and `...`) to `width`
/// characters.
fn pad(s: &str, width: usize, align: Align) -> String {
    let n = s.chars().count();
    if n > width {
        let keep = width.saturating_sub(3);
        return s.chars().take(keep).collect::<String>() + "...";
    }
    let fill = " ".repeat(width - n);
    match align {
        Align::Left => format!("{s}{fill}"),
        Align::Right => format!("{fill}{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: char, disk: &str, content: &str, in_use: bool) -> TreeDetails {
        TreeDetails {
            id: format!("sha256:{}", id.to_string().repeat(64)),
            disk_usage: disk.into(),
            content_size: content.into(),
            in_use,
        }
    }

    #[test]
    fn flat_images_are_not_spaced_and_untagged_ones_are_named_so() {
        let images = [
            TreeImage {
                names: vec!["a:1".into()],
                details: d('1', "5.5 MB", "2.5 MB", false),
                children: vec![],
            },
            TreeImage {
                names: vec![],
                details: d('2', "3.2 MB", "1.6 MB", false),
                children: vec![],
            },
        ];
        assert_eq!(
            render(&images, 80),
            "IMAGE        ID             DISK USAGE   CONTENT SIZE   EXTRA\n\
             a:1          111111111111       5.5 MB         2.5 MB        \n\
             <untagged>   222222222222       3.2 MB         1.6 MB        \n"
        );
    }

    #[test]
    fn names_stack_and_platforms_hang_below_with_a_blank_line_after_each_image() {
        let images = [
            TreeImage {
                names: vec!["app:v1".into(), "app:latest".into()],
                details: d('a', "30.5 MB", "25.2 MB", true),
                children: vec![TreePlatform {
                    platform: "linux/amd64".into(),
                    details: d('b', "15.2 MB", "12.6 MB", true),
                }],
            },
            TreeImage {
                names: vec!["base:alpine".into()],
                details: d('c', "5.5 MB", "5.5 MB", false),
                children: vec![
                    TreePlatform {
                        platform: "linux/amd64".into(),
                        details: d('d', "1 MB", "1 MB", false),
                    },
                    TreePlatform {
                        platform: "linux/arm/v7".into(),
                        details: d('e', "1 MB", "1 MB", false),
                    },
                ],
            },
        ];
        let want = "IMAGE                 ID             DISK USAGE   CONTENT SIZE   EXTRA\n\
app:v1             \n\
app:latest            aaaaaaaaaaaa      30.5 MB        25.2 MB   U    \n\
└─ linux/amd64        bbbbbbbbbbbb      15.2 MB        12.6 MB   U    \n\
\n\
base:alpine           cccccccccccc       5.5 MB         5.5 MB        \n\
├─ linux/amd64        dddddddddddd         1 MB           1 MB        \n\
└─ linux/arm/v7       eeeeeeeeeeee         1 MB           1 MB        \n\
\n";
        assert_eq!(render(&images, 80), want);
    }

    #[test]
    fn a_narrow_terminal_drops_columns_and_cuts_long_names() {
        let images = [TreeImage {
            names: vec!["registry.example.com/team/a-very-long-name:1".into()],
            details: d('1', "5.5MB", "2.5MB", false),
            children: vec![],
        }];
        let out = render(&images, 40);
        assert_eq!(
            out,
            "IMAGE          ID             DISK USAGE\n\
             registry....   111111111111        5.5MB\n"
        );
    }
}
