//! Which inputs go to which outputs, named as `aws-encryption-cli` names
//! them.
//!
//! - `-i -` reads standard input, `-o -` writes standard output.
//! - An output path that exists and is not a regular file or a directory
//!   (`/dev/null`, a FIFO) is written directly, like standard output; a
//!   symbolic link to a file is followed, so the link stays.
//! - One input file and an output that is not a directory: the output is
//!   that exact path.
//! - An output that is a directory (it exists, or is written with a
//!   trailing `/`): each input file `NAME` becomes `DIR/NAME` + suffix,
//!   the suffix being `.encrypted` or `.decrypted` unless `--suffix` says
//!   otherwise (`--suffix` alone: none). Decrypting `a.txt.encrypted` thus
//!   gives `a.txt.encrypted.decrypted`, as with `aws-encryption-cli`.
//! - An input directory needs `-r`; its tree is mirrored under the output
//!   directory. Symbolic links to files are followed, links to directories
//!   are not, and an output directory inside the input tree is skipped.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Where one operation reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Stdin,
    File(PathBuf),
}

/// Where one operation writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sink {
    Stdout,
    /// A file, written through a temporary file renamed into place.
    File(PathBuf),
    /// An existing non-regular file (a device, a FIFO), written directly
    /// and in order: like standard output, nothing can be taken back.
    Stream(PathBuf),
}

impl Sink {
    /// Whether what is written cannot be taken back.
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self, Self::Stdout | Self::Stream(_))
    }
}

/// The sink for an output named exactly.
fn exact(output: &Path) -> Sink {
    match std::fs::metadata(output) {
        Ok(m) if !m.is_file() && !m.is_dir() => Sink::Stream(output.to_owned()),
        Ok(m)
            if m.is_file()
                && std::fs::symlink_metadata(output).is_ok_and(|l| l.file_type().is_symlink()) =>
        {
            // Rename over the link's target, not over the link.
            Sink::File(std::fs::canonicalize(output).unwrap_or_else(|_| output.to_owned()))
        }
        _ => Sink::File(output.to_owned()),
    }
}

/// One file (or stream) to encrypt or decrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Task {
    pub(crate) source: Source,
    pub(crate) sink: Sink,
}

impl Source {
    pub(crate) fn display(&self) -> String {
        match self {
            Self::Stdin => "standard input".to_owned(),
            Self::File(p) => p.display().to_string(),
        }
    }
}

fn is_dash(p: &Path) -> bool {
    p.as_os_str() == "-"
}

/// Plans the work for `inputs` and `output`, appending `suffix` to names
/// derived from inputs.
pub(crate) fn plan(
    inputs: &[PathBuf],
    output: &Path,
    recursive: bool,
    suffix: &str,
) -> anyhow::Result<Vec<Task>> {
    let to_stdout = is_dash(output);
    let trailing_slash = output
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR);
    let output_is_dir = !to_stdout && (output.is_dir() || trailing_slash);

    if inputs.iter().any(|p| is_dash(p)) {
        if inputs.len() > 1 {
            bail!("`-i -` (standard input) cannot be combined with other inputs");
        }
        if output_is_dir {
            bail!(
                "{} is a directory: reading standard input needs an output file name or `-o -`",
                output.display()
            );
        }
        let sink = if to_stdout {
            Sink::Stdout
        } else {
            exact(output)
        };
        return Ok(vec![Task {
            source: Source::Stdin,
            sink,
        }]);
    }

    for input in inputs {
        let meta =
            std::fs::metadata(input).with_context(|| format!("cannot read {}", input.display()))?;
        if meta.is_dir() && !recursive {
            bail!(
                "{} is a directory: pass -r to process directories",
                input.display()
            );
        }
    }
    let single_file = inputs.len() == 1 && inputs[0].is_file();
    if to_stdout {
        if !single_file {
            bail!("`-o -` (standard output) takes exactly one input file");
        }
        return Ok(vec![Task {
            source: Source::File(inputs[0].clone()),
            sink: Sink::Stdout,
        }]);
    }
    if single_file && !output_is_dir {
        return Ok(vec![Task {
            source: Source::File(inputs[0].clone()),
            sink: exact(output),
        }]);
    }
    if !output_is_dir {
        bail!(
            "{} is not a directory: with several inputs or a directory, -o must be a directory \
             (write it with a trailing / to have it created)",
            output.display()
        );
    }

    let mut tasks = Vec::new();
    // Canonical, so that an output directory inside an input tree is
    // recognised and skipped (it does not exist yet when `None`).
    let output_canonical = std::fs::canonicalize(output).ok();
    for input in inputs {
        if input.is_dir() {
            walk(
                input,
                output,
                output_canonical.as_deref(),
                suffix,
                &mut tasks,
            )?;
        } else {
            tasks.push(Task {
                source: Source::File(input.clone()),
                sink: Sink::File(output.join(named(input, suffix)?)),
            });
        }
    }
    Ok(tasks)
}

/// The output file name for `input`: its name with `suffix` appended.
fn named(input: &Path, suffix: &str) -> anyhow::Result<PathBuf> {
    let Some(name) = input.file_name() else {
        bail!("{} has no file name", input.display());
    };
    let mut name = name.to_owned();
    name.push(suffix);
    Ok(PathBuf::from(name))
}

/// Appends a task for every file under `root`, mirrored under `out_root`,
/// in a stable (sorted) order.
fn walk(
    root: &Path,
    out_root: &Path,
    skip: Option<&Path>,
    suffix: &str,
    tasks: &mut Vec<Task>,
) -> anyhow::Result<()> {
    let mut stack = vec![(root.to_owned(), out_root.to_owned())];
    while let Some((dir, out_dir)) = stack.pop() {
        if let (Some(skip), Ok(canonical)) = (skip, std::fs::canonicalize(&dir))
            && canonical == skip
        {
            continue;
        }
        let mut entries = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("cannot list {}", dir.display()))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if kind.is_dir() {
                subdirs.push((path, out_dir.join(entry.file_name())));
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                if is_temporary(&entry.file_name()) {
                    continue;
                }
                tasks.push(Task {
                    source: Source::File(path.clone()),
                    sink: Sink::File(out_dir.join(named(&path, suffix)?)),
                });
            }
        }
        // Depth first, in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

/// The prefix and suffix of the temporary files outputs are written to
/// before being renamed into place.
pub(crate) const TEMP_PREFIX: &str = ".custos-";
pub(crate) const TEMP_SUFFIX: &str = ".partial";

fn is_temporary(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(tasks: &[Task], base: &Path) -> Vec<(String, String)> {
        let rel = |p: &Path| {
            p.strip_prefix(base)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        };
        tasks
            .iter()
            .map(|t| match (&t.source, &t.sink) {
                (Source::File(i), Sink::File(o)) => (rel(i), rel(o)),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn names_outputs_like_the_aws_encryption_cli() {
        let d = tempfile::tempdir().expect("tempdir");
        let base = d.path();
        std::fs::create_dir_all(base.join("in/sub/deeper")).expect("mkdir");
        std::fs::create_dir_all(base.join("out")).expect("mkdir");
        for f in ["in/a.txt", "in/sub/b", "in/sub/deeper/c", "x.txt"] {
            std::fs::write(base.join(f), b"x").expect("write");
        }
        // A leftover temporary file is not an input.
        std::fs::write(base.join("in/.custos-123.partial"), b"x").expect("write");

        // One file to a named file, or into a directory.
        let t = plan(&[base.join("x.txt")], &base.join("y"), false, ".encrypted").expect("plan");
        assert_eq!(files(&t, base), [("x.txt".into(), "y".into())]);
        let t = plan(
            &[base.join("x.txt")],
            &base.join("out"),
            false,
            ".encrypted",
        )
        .expect("plan");
        assert_eq!(
            files(&t, base),
            [("x.txt".into(), "out/x.txt.encrypted".into())]
        );
        let t = plan(&[base.join("x.txt")], &base.join("out"), false, "").expect("plan");
        assert_eq!(files(&t, base), [("x.txt".into(), "out/x.txt".into())]);
        // A directory, recursively, mirrored.
        let t = plan(&[base.join("in")], &base.join("out"), true, ".decrypted").expect("plan");
        assert_eq!(
            files(&t, base),
            [
                ("in/a.txt".into(), "out/a.txt.decrypted".into()),
                ("in/sub/b".into(), "out/sub/b.decrypted".into()),
                (
                    "in/sub/deeper/c".into(),
                    "out/sub/deeper/c.decrypted".into()
                ),
            ]
        );
        // An output directory inside the input tree is not walked.
        let t = plan(&[base.join("in")], &base.join("in/sub"), true, ".e").expect("plan");
        assert_eq!(
            files(&t, base),
            [("in/a.txt".into(), "in/sub/a.txt.e".into())]
        );
        // Several inputs need a directory; a trailing slash makes one.
        assert!(
            plan(
                &[base.join("x.txt"), base.join("in/a.txt")],
                &base.join("new"),
                false,
                ""
            )
            .is_err()
        );
        let slash = PathBuf::from(format!("{}/", base.join("new").display()));
        let t = plan(
            &[base.join("x.txt"), base.join("in/a.txt")],
            &slash,
            false,
            ".s",
        )
        .expect("plan");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn refuses_what_cannot_be_meant() {
        let d = tempfile::tempdir().expect("tempdir");
        let base = d.path();
        std::fs::create_dir(base.join("dir")).expect("mkdir");
        std::fs::write(base.join("f"), b"x").expect("write");
        let dash = PathBuf::from("-");
        let err = |r: anyhow::Result<Vec<Task>>| format!("{:#}", r.expect_err("refused"));
        assert!(err(plan(&[base.join("dir")], &base.join("o"), false, "")).contains("pass -r"));
        assert!(err(plan(&[base.join("dir")], &dash, true, "")).contains("exactly one input file"));
        assert!(
            err(plan(
                std::slice::from_ref(&dash),
                &base.join("dir"),
                false,
                ""
            ))
            .contains("is a directory")
        );
        assert!(
            err(plan(&[dash.clone(), base.join("f")], &dash, false, ""))
                .contains("cannot be combined")
        );
        assert!(err(plan(&[base.join("missing")], &dash, false, "")).contains("cannot read"));
        let t = plan(std::slice::from_ref(&dash), &dash, false, "").expect("plan");
        assert_eq!(
            t,
            [Task {
                source: Source::Stdin,
                sink: Sink::Stdout
            }]
        );
        let t = plan(&[base.join("f")], &dash, false, "").expect("plan");
        assert_eq!(t[0].sink, Sink::Stdout);
    }
}
