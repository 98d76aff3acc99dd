//! Recorded-detection input formats.
//!
//! - Per-camera detections, MOTChallenge det format: `frame,id,left,top,width,height,score[,...]`
//!   (the first 7 columns are read, the rest ignored; frame = integer index, non-decreasing).
//! - Floor points: CSV with header `frame,x,y[,score]`, metres.

use std::path::{Path, PathBuf};

use walkout_types::Detection;

/// Errors of the input files; each names the file and, for content errors, the line.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: cannot read")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// One detection at one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameDetection {
    pub frame: u64,
    pub detection: Detection,
}

fn parse_err(path: &Path, line: usize, message: String) -> InputError {
    InputError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn number(path: &Path, line: usize, field: &str, what: &str) -> Result<f64, InputError> {
    let v: f64 = field.trim().parse().map_err(|_| {
        parse_err(
            path,
            line,
            format!("{what} `{}` is not a number", field.trim()),
        )
    })?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(parse_err(
            path,
            line,
            format!("{what} is {v}, expected a finite number"),
        ))
    }
}

fn frame_index(path: &Path, line: usize, field: &str) -> Result<u64, InputError> {
    let v = number(path, line, field, "frame")?;
    if v >= 0.0 && v.fract() == 0.0 && v < 1e15 {
        Ok(v as u64)
    } else {
        Err(parse_err(
            path,
            line,
            format!("frame {v} is not a non-negative integer"),
        ))
    }
}

/// Reads a MOTChallenge detection file. An empty file is a camera that saw nobody.
pub fn read_mot_detections(path: &Path) -> Result<Vec<FrameDetection>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    let mut last_frame = 0u64;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = raw.split(',').collect();
        if f.len() < 7 {
            return Err(parse_err(
                path,
                line,
                format!(
                    "expected at least 7 columns `frame,id,left,top,width,height,score`, found {}",
                    f.len()
                ),
            ));
        }
        let frame = frame_index(path, line, f[0])?;
        if frame < last_frame {
            return Err(parse_err(
                path,
                line,
                format!("frame {frame} comes after frame {last_frame}: frames must not decrease"),
            ));
        }
        last_frame = frame;
        let left = number(path, line, f[2], "left")?;
        let top = number(path, line, f[3], "top")?;
        let width = number(path, line, f[4], "width")?;
        let height = number(path, line, f[5], "height")?;
        let score = number(path, line, f[6], "score")?;
        if width <= 0.0 || height <= 0.0 {
            return Err(parse_err(
                path,
                line,
                format!("box size {width} x {height} must be positive"),
            ));
        }
        out.push(FrameDetection {
            frame,
            detection: Detection {
                left,
                top,
                width,
                height,
                score,
                embedding: None,
                wrists: Vec::new(),
            },
        });
    }
    Ok(out)
}

/// A fused floor point at one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorPoint {
    pub frame: u64,
    pub x: f64,
    pub y: f64,
    pub score: f64,
}

/// Reads a floor-point CSV (`frame,x,y[,score]` with that header).
pub fn read_floor_points(path: &Path) -> Result<Vec<FloorPoint>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = match lines.next() {
        Some((_, h)) => h.split(',').map(|s| s.trim().to_string()).collect(),
        None => {
            return Err(parse_err(
                path,
                1,
                "empty file: expected a header `frame,x,y[,score]`".into(),
            ));
        }
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(fi), Some(xi), Some(yi)) = (col("frame"), col("x"), col("y")) else {
        return Err(parse_err(
            path,
            1,
            format!("header `{}` must name frame, x and y", header.join(",")),
        ));
    };
    let si = col("score");
    let mut out = Vec::new();
    let mut last = 0u64;
    for (n, raw) in lines {
        let line = n + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let f: Vec<&str> = raw.split(',').collect();
        let get = |i: usize, what: &str| -> Result<&str, InputError> {
            f.get(i)
                .copied()
                .ok_or_else(|| parse_err(path, line, format!("missing column `{what}`")))
        };
        let frame = frame_index(path, line, get(fi, "frame")?)?;
        if frame < last {
            return Err(parse_err(
                path,
                line,
                format!("frame {frame} comes after frame {last}: frames must not decrease"),
            ));
        }
        last = frame;
        let score = match si {
            Some(i) => number(path, line, get(i, "score")?, "score")?,
            None => 1.0,
        };
        out.push(FloorPoint {
            frame,
            x: number(path, line, get(xi, "x")?, "x")?,
            y: number(path, line, get(yi, "y")?, "y")?,
            score,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("walkout-mot-{}-{name}", std::process::id()));
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn reads_rows_and_ignores_extra_columns() {
        let p = write(
            "ok.txt",
            "0,-1,10.5,20,30,60,0.9,-1,-1,-1\n5,-1,1,2,3,4,0.5\n",
        );
        let d = read_mot_detections(&p).expect("reads");
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].frame, 5);
        assert_eq!(d[0].detection.left, 10.5);
        assert!(
            read_mot_detections(&write("empty.txt", ""))
                .expect("empty is fine")
                .is_empty()
        );
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        let cases = [
            (
                "text.txt",
                "0,-1,1,2,3,4,0.9\n1,-1,abc,2,3,4,0.9\n",
                ":2:",
                "left `abc` is not a number",
            ),
            ("neg.txt", "0,-1,1,2,-3,4,0.9\n", ":1:", "must be positive"),
            ("nan.txt", "0,-1,1,2,3,4,NaN\n", ":1:", "finite"),
            ("short.txt", "0,-1,1,2\n", ":1:", "at least 7 columns"),
            (
                "order.txt",
                "5,-1,1,2,3,4,0.9\n3,-1,1,2,3,4,0.9\n",
                ":2:",
                "must not decrease",
            ),
            (
                "frac.txt",
                "1.5,-1,1,2,3,4,0.9\n",
                ":1:",
                "not a non-negative integer",
            ),
        ];
        for (name, text, line, msg) in cases {
            let e = read_mot_detections(&write(name, text))
                .expect_err(name)
                .to_string();
            assert!(
                e.contains(name) && e.contains(line) && e.contains(msg),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn floor_points() {
        let p = write("pts.csv", "frame,x,y,score\n0,1.0,2.0,0.8\n1,3,4,1\n");
        let pts = read_floor_points(&p).expect("reads");
        assert_eq!(
            pts[0],
            FloorPoint {
                frame: 0,
                x: 1.0,
                y: 2.0,
                score: 0.8
            }
        );
        let e = read_floor_points(&write("hdr.csv", "a,b\n1,2\n"))
            .expect_err("header")
            .to_string();
        assert!(e.contains("hdr.csv:1:"), "{e}");
    }
}
