//! The catalogue, templates and fonts qujat ships, built into the binary (by `build.rs`), and
//! [`Files`]: where a run reads each of them from — a folder the configuration or an option
//! names, or this built-in copy. An installed `qujat` works from any folder with no repository
//! and no share folder; a ministry that changes its catalogue or templates points the
//! configuration at its own folders (`qujat shipped --write DIR` gives it a copy to start from).
//!
//! The built-in copy is the repository's folders byte for byte, so a template bundle collected
//! from it has the version the same files on disk have (a test holds them equal).

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A folder built into the binary: its regular files, by `/`-separated path, sorted.
#[derive(Debug)]
pub struct Tree {
    /// The folder's name in the repository (`catalogue`, `templates`, `fonts`).
    pub name: &'static str,
    files: &'static [(&'static str, &'static [u8])],
}

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

impl Tree {
    fn get(&self, path: &str) -> Option<&'static [u8]> {
        self.files
            .binary_search_by(|(p, _)| (*p).cmp(path))
            .ok()
            .map(|i| self.files[i].1)
    }

    /// The files under folder `dir` ("" for the whole tree), at any depth.
    fn under(&self, dir: &str) -> impl Iterator<Item = &'static str> + '_ {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{}/", dir.trim_end_matches('/'))
        };
        self.files
            .iter()
            .map(|(p, _)| *p)
            .filter(move |p| p.starts_with(&prefix))
    }

    /// Every file of the tree, with its bytes.
    pub fn files(&self) -> &'static [(&'static str, &'static [u8])] {
        self.files
    }
}

/// Where a set of shipped files is read from.
#[derive(Debug, Clone)]
pub enum Files {
    /// A folder on disk.
    Dir(PathBuf),
    /// The copy built into this binary.
    BuiltIn(&'static Tree),
}

impl Files {
    /// How this source is named to people: the folder, or `built-in templates`.
    pub fn describe(&self) -> String {
        match self {
            Files::Dir(dir) => dir.display().to_string(),
            Files::BuiltIn(tree) => format!("built-in {}", tree.name),
        }
    }

    /// The folder, or `<built-in>/templates` for the built-in copy.
    pub fn path(&self) -> PathBuf {
        match self {
            Files::Dir(dir) => dir.clone(),
            Files::BuiltIn(tree) => Path::new("<built-in>").join(tree.name),
        }
    }

    /// The path of `relative` as errors and records show it: under the folder, or under
    /// `<built-in>/` for the built-in copy.
    pub fn show(&self, relative: &str) -> PathBuf {
        match self {
            Files::Dir(dir) => dir.join(relative),
            Files::BuiltIn(tree) => Path::new("<built-in>").join(tree.name).join(relative),
        }
    }

    /// The bytes of file `relative` (a `/`-separated path).
    pub fn read(&self, relative: &str) -> io::Result<Cow<'static, [u8]>> {
        match self {
            Files::Dir(dir) => std::fs::read(dir.join(relative)).map(Cow::Owned),
            Files::BuiltIn(tree) => tree
                .get(relative)
                .map(Cow::Borrowed)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such built-in file")),
        }
    }

    /// The text of file `relative`, which must be UTF-8 (as `std::fs::read_to_string`).
    pub fn read_string(&self, relative: &str) -> io::Result<String> {
        match self {
            Files::Dir(dir) => std::fs::read_to_string(dir.join(relative)),
            Files::BuiltIn(_) => {
                let bytes = self.read(relative)?;
                String::from_utf8(bytes.into_owned())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            }
        }
    }

    /// The names of the files directly in folder `relative` ("" for the root), sorted; an
    /// error if there is no such folder.
    pub fn list(&self, relative: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        match self {
            Files::Dir(dir) => {
                for entry in std::fs::read_dir(dir.join(relative))? {
                    let entry = entry?;
                    // As `read_dir` users did before: a link to a file counts as a file.
                    if entry.path().is_file() {
                        names.push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Files::BuiltIn(tree) => {
                let depth = |p: &str| p.matches('/').count();
                let base = if relative.is_empty() {
                    0
                } else {
                    depth(relative.trim_end_matches('/')) + 1
                };
                let mut any = false;
                for path in tree.under(relative) {
                    any = true;
                    if depth(path) == base {
                        names.push(path.rsplit('/').next().unwrap_or(path).to_string());
                    }
                }
                if !any {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        "no such built-in folder",
                    ));
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Every regular file under folder `relative`, at any depth, as `/`-separated paths from
    /// the root, sorted (symbolic links are not followed); none if the folder does not exist.
    pub fn walk(&self, relative: &str) -> Result<Vec<String>> {
        let mut paths = Vec::new();
        match self {
            Files::Dir(dir) => {
                let top = dir.join(relative);
                if !top.is_dir() {
                    return Ok(paths);
                }
                for entry in walkdir::WalkDir::new(&top).sort_by_file_name() {
                    let entry = entry.with_context(|| format!("cannot read {}", top.display()))?;
                    if !entry.file_type().is_file() {
                        continue;
                    }
                    let path = entry.path().strip_prefix(dir).expect("under the folder");
                    let name = path
                        .to_str()
                        .with_context(|| format!("file name {} is not UTF-8", path.display()))?;
                    paths.push(name.replace('\\', "/"));
                }
            }
            Files::BuiltIn(tree) => paths.extend(tree.under(relative).map(str::to_string)),
        }
        paths.sort();
        Ok(paths)
    }

    /// Writes every file of this source under `to` (for `qujat shipped --write`), refusing to
    /// overwrite a file that is there already.
    pub fn write_to(&self, to: &Path) -> Result<usize> {
        let paths = self.walk("")?;
        for path in &paths {
            let target = to.join(path);
            if target.exists() {
                anyhow::bail!(
                    "{} exists already: write into an empty folder",
                    target.display()
                );
            }
            let bytes = self
                .read(path)
                .with_context(|| format!("cannot read {}", self.show(path).display()))?;
            crate::fsio::write_atomically(&target, &bytes)?;
        }
        Ok(paths.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(folder: &str) -> Files {
        Files::Dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(folder))
    }

    #[test]
    fn the_built_in_copy_is_the_repository_folders_byte_for_byte() {
        for tree in [&CATALOGUE, &TEMPLATES, &FONTS] {
            let (disk, built_in) = (repo(tree.name), Files::BuiltIn(tree));
            let paths = disk.walk("").unwrap();
            assert_eq!(built_in.walk("").unwrap(), paths, "{}", tree.name);
            for path in &paths {
                assert_eq!(
                    built_in.read(path).unwrap(),
                    disk.read(path).unwrap(),
                    "{}/{path}",
                    tree.name
                );
            }
        }
    }

    #[test]
    fn folders_list_alike_on_disk_and_built_in() {
        for (tree, folder) in [
            (&CATALOGUE, ""),
            (&CATALOGUE, "services"),
            (&TEMPLATES, "lib"),
            (&TEMPLATES, "media"),
            (&FONTS, ""),
        ] {
            assert_eq!(
                Files::BuiltIn(tree).list(folder).unwrap(),
                repo(tree.name).list(folder).unwrap(),
                "{}/{folder}",
                tree.name
            );
        }
        let missing = Files::BuiltIn(&TEMPLATES).list("nowhere").unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        let missing = Files::BuiltIn(&TEMPLATES).read("media/nowhere.typ");
        assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(
            Files::BuiltIn(&TEMPLATES)
                .walk("nowhere")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            Files::BuiltIn(&TEMPLATES).show("lib/qujat.typ"),
            Path::new("<built-in>/templates/lib/qujat.typ")
        );
    }

    #[test]
    fn built_in_templates_have_the_versions_the_folder_gives_and_fonts_their_hash() {
        use crate::registry::templates::TemplateBundle;
        let (disk, built_in) = (repo("templates"), Files::BuiltIn(&TEMPLATES));
        let mains: Vec<String> = disk
            .walk("")
            .unwrap()
            .into_iter()
            .filter(|p| p.ends_with(".typ") && !p.starts_with("lib/"))
            .collect();
        assert!(mains.len() >= 10, "{mains:?}");
        for main in &mains {
            let on_disk = TemplateBundle::collect_from(&disk, main).unwrap();
            let shipped = TemplateBundle::collect_from(&built_in, main).unwrap();
            assert_eq!(shipped.version(), on_disk.version(), "{main}");
            assert_eq!(shipped.canonical(), on_disk.canonical(), "{main}");
            // The collector of a folder path is the same collector.
            let by_path = TemplateBundle::collect(&disk.path(), main).unwrap();
            assert_eq!(by_path.version(), on_disk.version(), "{main}");
        }
        let fonts = crate::render::Fonts::load_from(&Files::BuiltIn(&FONTS)).unwrap();
        let folder = crate::render::Fonts::load(&repo("fonts").path()).unwrap();
        assert_eq!(fonts.hash, folder.hash);
        assert_eq!(fonts.fonts.len(), folder.fonts.len());
        let catalogue = crate::catalogue::Catalogue::load_from(&Files::BuiltIn(&CATALOGUE));
        assert_eq!(
            catalogue.unwrap().services.len(),
            crate::catalogue::Catalogue::load(&repo("catalogue").path())
                .unwrap()
                .services
                .len()
        );
    }

    #[test]
    fn a_copy_is_written_whole_and_never_over_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let count = Files::BuiltIn(&CATALOGUE).write_to(dir.path()).unwrap();
        assert_eq!(count, CATALOGUE.files().len());
        assert_eq!(
            std::fs::read(dir.path().join("services/media-registration.toml")).unwrap(),
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("catalogue/services/media-registration.toml")
            )
            .unwrap()
        );
        let again = Files::BuiltIn(&CATALOGUE).write_to(dir.path()).unwrap_err();
        assert!(again.to_string().contains("exists already"), "{again}");
    }
}
