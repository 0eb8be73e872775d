//! Directory imports: the one path every import takes (command line, web upload, scheduled
//! drop): read the files into a feed, plan against the directory, refuse or apply.

pub mod runner;

pub use runner::{ImportError, ImportOptions, import_aaf, import_onde};
