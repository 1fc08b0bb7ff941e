//! A progress bar on stderr for long reads: shown only for an input above 100 MB and only
//! when stderr is a terminal (a pipe or a log file gets nothing).

use std::io::IsTerminal;
use std::path::Path;

/// Inputs at least this large get a progress bar.
const SHOWN_FROM_BYTES: u64 = 100 << 20;

/// A progress bar over the bytes of one input file, or nothing.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A bar for reading `path`, when it is large and stderr is a terminal.
    pub fn for_file(path: &Path) -> Progress {
        let size = std::fs::metadata(path).map_or(0, |metadata| metadata.len());
        let shown = size >= SHOWN_FROM_BYTES && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let bar = indicatif::ProgressBar::new(size);
            let style = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(
                path.file_name().map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
            );
            bar
        });
        Progress { bar }
    }

    /// The bytes read so far.
    pub fn set(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        }
    }

    /// About `bytes` more read (decoded formats count decoded bytes: an estimate).
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
