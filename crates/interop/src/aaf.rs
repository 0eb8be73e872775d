//! AAF 1D: the académie's directory export (`ficAlimMENESR` XML files).

pub mod feed;
pub mod reader;

pub use feed::{AafContext, AafInput, AafType, FunctionMap, read_files};
