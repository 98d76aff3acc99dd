//! OpenCV FileStorage calibration files (XML or YAML).
//!
//! Reads the top-level entries that are numbers, plain number lists (`<rvec>1 2 3</rvec>`) or
//! `opencv-matrix` nodes (rows, cols, data). Recognised entries: `camera_matrix` (3x3) and
//! `distortion_coefficients` (4, 5 or more) for intrinsics; `rvec` + `tvec`, or a 3x3 `R` /
//! `rotation_matrix` + `tvec` / `T`, for extrinsics (`camera_from_world`, file units).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use super::CalibError;

/// A numeric entry of a FileStorage file.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    /// Row-major.
    pub data: Vec<f64>,
}

/// All numeric top-level entries of one FileStorage file.
#[derive(Debug, Clone)]
pub struct FileStorage {
    pub path: PathBuf,
    pub entries: BTreeMap<String, Matrix>,
}

impl FileStorage {
    /// Reads an XML (`<opencv_storage>`) or YAML (`%YAML:1.0`) FileStorage file.
    pub fn read(path: &Path) -> Result<FileStorage, CalibError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalibError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<FileStorage, CalibError> {
        let trimmed = text.trim_start();
        let entries = if trimmed.starts_with('<') {
            parse_xml(path, text)?
        } else {
            parse_yaml(path, text)?
        };
        Ok(FileStorage {
            path: path.to_path_buf(),
            entries,
        })
    }

    fn field_err(&self, key: &str, message: impl Into<String>) -> CalibError {
        CalibError::Field {
            path: self.path.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// The first present entry among `keys`.
    pub fn get(&self, keys: &[&str]) -> Option<(&str, &Matrix)> {
        keys.iter()
            .find_map(|k| self.entries.get_key_value(*k).map(|(k, m)| (k.as_str(), m)))
    }

    /// A required entry with exactly `len` values.
    pub fn vector(&self, keys: &[&str], len: usize) -> Result<Vec<f64>, CalibError> {
        let Some((key, m)) = self.get(keys) else {
            return Err(self.field_err(keys[0], format!("missing (expected {len} numbers)")));
        };
        if m.data.len() != len {
            return Err(self.field_err(
                key,
                format!("expected {len} numbers, found {}", m.data.len()),
            ));
        }
        check_finite(self, key, &m.data)?;
        Ok(m.data.clone())
    }

    /// `camera_matrix` as (fx, fy, cx, cy).
    pub fn camera_matrix(&self) -> Result<[f64; 4], CalibError> {
        let k = self.vector(&["camera_matrix", "K", "intrinsic_matrix"], 9)?;
        Ok([k[0], k[4], k[2], k[5]])
    }

    /// Distortion coefficients (empty when the file has none).
    pub fn distortion(&self) -> Result<Vec<f64>, CalibError> {
        match self.get(&["distortion_coefficients", "dist_coeffs", "D"]) {
            None => Ok(Vec::new()),
            Some((key, m)) => {
                check_finite(self, key, &m.data)?;
                Ok(m.data.clone())
            }
        }
    }

    /// Extrinsics as (rotation row-major 3x3 or rvec, tvec), in file units.
    pub fn extrinsics(&self) -> Result<(Rotation, [f64; 3]), CalibError> {
        let t = self.vector(&["tvec", "T", "translation"], 3)?;
        let tvec = [t[0], t[1], t[2]];
        if self.get(&["rvec"]).is_some() {
            let r = self.vector(&["rvec"], 3)?;
            return Ok((Rotation::Rvec([r[0], r[1], r[2]]), tvec));
        }
        if self.get(&["R", "rotation_matrix"]).is_some() {
            let r = self.vector(&["R", "rotation_matrix"], 9)?;
            let mut m = [[0.0; 3]; 3];
            for (i, v) in r.iter().enumerate() {
                m[i / 3][i % 3] = *v;
            }
            return Ok((Rotation::Matrix(m), tvec));
        }
        Err(self.field_err(
            "rvec",
            "missing (expected `rvec` with 3 numbers or `R` with 9)",
        ))
    }
}

/// A rotation as found in a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rotation {
    Rvec([f64; 3]),
    /// Row-major.
    Matrix([[f64; 3]; 3]),
}

fn check_finite(fs: &FileStorage, key: &str, data: &[f64]) -> Result<(), CalibError> {
    match data.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(fs.field_err(key, format!("value {i} is not a finite number"))),
        None => Ok(()),
    }
}

fn parse_numbers(path: &Path, key: &str, text: &str) -> Result<Vec<f64>, CalibError> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<f64>().map_err(|_| CalibError::Field {
                path: path.to_path_buf(),
                key: key.into(),
                message: format!("`{s}` is not a number"),
            })
        })
        .collect()
}

fn parse_xml(path: &Path, text: &str) -> Result<BTreeMap<String, Matrix>, CalibError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| CalibError::Parse {
        path: path.to_path_buf(),
        message: format!("invalid XML: {e}"),
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "opencv_storage" {
        return Err(CalibError::Parse {
            path: path.to_path_buf(),
            message: format!(
                "expected an <opencv_storage> root element, found <{}>",
                root.tag_name().name()
            ),
        });
    }
    let mut entries = BTreeMap::new();
    for node in root.children().filter(|n| n.is_element()) {
        let key = node.tag_name().name().to_string();
        let child = |name: &str| {
            node.children()
                .find(|c| c.is_element() && c.tag_name().name() == name)
                .map(|c| c.text().unwrap_or("").trim().to_string())
        };
        let matrix = if node.attribute("type_id") == Some("opencv-matrix") {
            let dims = |name: &str| -> Result<usize, CalibError> {
                child(name)
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| CalibError::Field {
                        path: path.to_path_buf(),
                        key: key.clone(),
                        message: format!("opencv-matrix without a valid <{name}>"),
                    })
            };
            let (rows, cols) = (dims("rows")?, dims("cols")?);
            let data = parse_numbers(path, &key, &child("data").unwrap_or_default())?;
            Matrix { rows, cols, data }
        } else if node.children().any(|c| c.is_element()) {
            continue; // a nested structure we do not use
        } else {
            let data = parse_numbers(path, &key, node.text().unwrap_or(""))?;
            if data.is_empty() {
                continue;
            }
            Matrix {
                rows: data.len(),
                cols: 1,
                data,
            }
        };
        if matrix.rows * matrix.cols != matrix.data.len() {
            return Err(CalibError::Field {
                path: path.to_path_buf(),
                key,
                message: format!(
                    "{}x{} matrix with {} values",
                    matrix.rows,
                    matrix.cols,
                    matrix.data.len()
                ),
            });
        }
        entries.insert(key, matrix);
    }
    Ok(entries)
}

fn parse_yaml(path: &Path, text: &str) -> Result<BTreeMap<String, Matrix>, CalibError> {
    // OpenCV writes a `%YAML:1.0` directive that YAML parsers reject; it carries nothing we need.
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("%YAML"))
        .collect::<Vec<_>>()
        .join("\n");
    let docs = YamlLoader::load_from_str(&body).map_err(|e| CalibError::Parse {
        path: path.to_path_buf(),
        message: format!("invalid YAML: {e}"),
    })?;
    let Some(Yaml::Hash(map)) = docs.into_iter().next() else {
        return Err(CalibError::Parse {
            path: path.to_path_buf(),
            message: "expected a mapping of named entries (OpenCV FileStorage YAML)".into(),
        });
    };
    let number = |y: &Yaml| match y {
        Yaml::Real(s) => s.parse::<f64>().ok(),
        Yaml::Integer(i) => Some(*i as f64),
        _ => None,
    };
    let mut entries = BTreeMap::new();
    for (k, v) in map {
        let Some(key) = k.as_str().map(str::to_string) else {
            continue;
        };
        let bad = |message: String| CalibError::Field {
            path: path.to_path_buf(),
            key: key.clone(),
            message,
        };
        let list = |y: &Yaml| -> Result<Vec<f64>, CalibError> {
            match y {
                Yaml::Array(items) => items
                    .iter()
                    .map(|i| number(i).ok_or_else(|| bad(format!("{i:?} is not a number"))))
                    .collect(),
                other => number(other)
                    .map(|n| vec![n])
                    .ok_or_else(|| bad("expected numbers".into())),
            }
        };
        let matrix = match &v {
            Yaml::Hash(h) => {
                let get = |name: &str| h.get(&Yaml::String(name.into()));
                let (Some(rows), Some(cols), Some(data)) = (get("rows"), get("cols"), get("data"))
                else {
                    continue;
                };
                let dim = |y: &Yaml, name: &str| {
                    y.as_i64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| bad(format!("opencv-matrix `{name}` is not a count")))
                };
                Matrix {
                    rows: dim(rows, "rows")?,
                    cols: dim(cols, "cols")?,
                    data: list(data)?,
                }
            }
            Yaml::Array(_) | Yaml::Real(_) | Yaml::Integer(_) => {
                let data = list(&v)?;
                Matrix {
                    rows: data.len(),
                    cols: 1,
                    data,
                }
            }
            _ => continue,
        };
        if matrix.rows * matrix.cols != matrix.data.len() {
            return Err(bad(format!(
                "{}x{} matrix with {} values",
                matrix.rows,
                matrix.cols,
                matrix.data.len()
            )));
        }
        entries.insert(key, matrix);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<opencv_storage>
<camera_matrix type_id="opencv-matrix">
  <rows>3</rows><cols>3</cols><dt>d</dt>
  <data>1743.4 0.0 934.5 0.0 1735.1 444.3 0.0 0.0 1.0</data></camera_matrix>
<distortion_coefficients type_id="opencv-matrix">
  <rows>5</rows><cols>1</cols><dt>d</dt>
  <data>
    0.1 -0.2
    0 0
    0.01</data></distortion_coefficients>
  <rvec>
    1.759 0.467 -0.331
   </rvec>
  <tvec>-525.89 45.40 986.72</tvec>
</opencv_storage>"#;

    const YAML: &str = "%YAML:1.0\n---\ncamera_matrix: !!opencv-matrix\n   rows: 3\n   cols: 3\n   dt: d\n   data: [ 1743.4, 0., 934.5, 0., 1735.1,\n       444.3, 0., 0., 1. ]\ndistortion_coefficients: !!opencv-matrix\n   rows: 5\n   cols: 1\n   dt: d\n   data: [ 0.1, -0.2, 0., 0., 0.01 ]\nrvec: !!opencv-matrix\n   rows: 3\n   cols: 1\n   dt: d\n   data: [ 1.759, 0.467, -0.331 ]\ntvec: [ -525.89, 45.40, 986.72 ]\n";

    #[test]
    fn xml_and_yaml_read_the_same_numbers() {
        for (name, text) in [("a.xml", XML), ("a.yml", YAML)] {
            let fs = FileStorage::parse(Path::new(name), text).expect(name);
            assert_eq!(
                fs.camera_matrix().expect("K"),
                [1743.4, 1735.1, 934.5, 444.3],
                "{name}"
            );
            assert_eq!(
                fs.distortion().expect("D"),
                vec![0.1, -0.2, 0.0, 0.0, 0.01],
                "{name}"
            );
            let (rot, t) = fs.extrinsics().expect("extrinsics");
            assert_eq!(rot, Rotation::Rvec([1.759, 0.467, -0.331]), "{name}");
            assert_eq!(t, [-525.89, 45.40, 986.72], "{name}");
        }
    }

    #[test]
    fn bad_files_name_the_problem() {
        let err = FileStorage::parse(
            Path::new("x.xml"),
            "<opencv_storage><rvec>1 two 3</rvec></opencv_storage>",
        )
        .expect_err("not a number");
        assert!(
            err.to_string().contains("x.xml") && err.to_string().contains("`two`"),
            "{err}"
        );
        let err = FileStorage::parse(Path::new("x.xml"), "<foo/>").expect_err("wrong root");
        assert!(err.to_string().contains("opencv_storage"), "{err}");
        let fs = FileStorage::parse(
            Path::new("x.xml"),
            "<opencv_storage><tvec>1 2</tvec></opencv_storage>",
        )
        .expect("parses");
        let err = fs.extrinsics().expect_err("tvec too short");
        assert!(
            err.to_string()
                .contains("`tvec`: expected 3 numbers, found 2"),
            "{err}"
        );
    }
}
