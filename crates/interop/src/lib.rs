//! Formats spoken with the outside world: the ONDE CSV extracts and AAF XML exports that
//! feed the directory, and the printed connection letters.

pub mod aaf;
pub mod letters;
pub mod onde;
pub mod text;

/// A file that cannot be read at all. Every message is French and names the file, since it
/// is shown as is to the directeur or the operator who brought the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    #[error("{0} : le fichier est vide")]
    Empty(String),
    #[error(
        "{0} : c'est un classeur (Excel, LibreOffice) ou une archive, pas un fichier CSV ; enregistrez-le au format CSV"
    )]
    Spreadsheet(String),
    #[error(
        "{0} : encodage non reconnu (ni UTF-8 ni Windows-1252/ISO-8859) ou fichier qui n'est pas du texte"
    )]
    Encoding(String),
    #[error(
        "{file} : en-têtes non reconnus ({found}) ; ce n'est ni une extraction ONDE des élèves, ni des responsables, ni un fichier des enseignants"
    )]
    UnknownHeaders { file: String, found: String },
    #[error("{file} : colonne obligatoire absente : « {column} »")]
    MissingColumn { file: String, column: String },
    #[error("{file}, ligne {line} : {reason}")]
    Syntax {
        file: String,
        line: u64,
        reason: String,
    },
    #[error("{file} : fichier trop volumineux ({size} octets, limite {limit} octets)")]
    TooLarge { file: String, size: u64, limit: u64 },
    #[error("{0}")]
    Missing(String),
    #[error("{file} : lecture impossible : {reason}")]
    Io { file: String, reason: String },
}

/// Largest file read by default: ONDE extracts of one school weigh well under a megabyte and
/// AAF files are chunked by 10,000 records (about 15 MB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

fn io_error(path: &std::path::Path, e: &std::io::Error) -> FeedError {
    FeedError::Io {
        file: file_name(path),
        reason: e.to_string(),
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Opens a feed file, refusing it before reading a byte when it is larger than `limit`.
pub fn open_limited(path: &std::path::Path, limit: u64) -> Result<std::fs::File, FeedError> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    let size = file.metadata().map_err(|e| io_error(path, &e))?.len();
    if size > limit {
        return Err(FeedError::TooLarge {
            file: file_name(path),
            size,
            limit,
        });
    }
    Ok(file)
}

/// Reads a whole feed file (ONDE extracts are small), with the same size check.
pub fn read_limited(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, FeedError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_limited(path, limit)?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    Ok(bytes)
}
