//! Output formatting shared by the docker commands: `--format` Go templates
//! (with docker/cli's `table`/`json` handling, functions, errors and tabwriter
//! layout) and go-units' human-readable sizes and durations.

pub mod template;
pub mod tree;
pub mod units;

pub use template::{Template, TemplateError, render};
pub use units::{bytes_size, created_since, human_duration, human_size, human_size_with_precision};
