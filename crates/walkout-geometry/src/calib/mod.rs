//! Importers for calibration files made by other tools: OpenCV FileStorage (XML and YAML, as
//! WILDTRACK and MultiviewX ship them) and Tsai camera models (PETS 2009).

pub mod opencv;
pub mod tsai;

use std::path::PathBuf;

/// Errors reading a calibration file; each names the file and what was wrong in it.
#[derive(Debug, thiserror::Error)]
pub enum CalibError {
    #[error("calibration file {path}: cannot read")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("calibration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("calibration file {path}: `{key}`: {message}")]
    Field {
        path: PathBuf,
        key: String,
        message: String,
    },
}
