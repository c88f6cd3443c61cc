//! The browser half of the app (the `hydrate` build that `scripts/build-wasm` makes), looked
//! for once at start-up. Without it every page is complete server-rendered HTML and no script
//! is sent; with it the shell adds Leptos's `<HydrationScripts/>` and the pages hydrate.
//!
//! The files carry a hash of their content in their names (`warden.<hash>.js`,
//! `warden.<hash>.wasm`), so that browsers may keep them for good; the manifest that names
//! them is `hash.txt` beside them, in the format Leptos reads (`js: <hash>`, `wasm: <hash>`).
//! `cargo leptos build` writes the same manifest beside the server binary instead (where
//! Leptos looks by default), so that place is the second one looked at.

use std::path::{Path, PathBuf};

/// The manifest's file name, beside the files it names.
pub const MANIFEST: &str = "hash.txt";
/// The file names' stem (Leptos's `output_name`).
pub const OUTPUT_NAME: &str = "warden";

/// A bundle whose manifest and both files were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The folder the files are served from at `/pkg/`.
    pub dir: PathBuf,
    /// The manifest, as an absolute path (Leptos reads it again on each render).
    pub manifest: PathBuf,
    /// The script's file name.
    pub js: String,
    /// The WebAssembly module's file name.
    pub wasm: String,
}

impl Bundle {
    /// The bundle in `dir`, named by the manifest in `dir` or else by the one beside the
    /// running binary; `None` when there is none (or it is incomplete).
    pub fn find(dir: &Path) -> Option<Bundle> {
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|parent| parent.join(MANIFEST)));
        Bundle::find_with(dir, [Some(dir.join(MANIFEST)), beside_binary])
    }

    fn find_with(dir: &Path, manifests: [Option<PathBuf>; 2]) -> Option<Bundle> {
        let (manifest, text) = manifests.into_iter().flatten().find_map(|manifest| {
            let text = std::fs::read_to_string(&manifest).ok()?;
            Some((manifest, text))
        })?;
        let (js, wasm) = parse_manifest(&text)?;
        let missing: Vec<&str> = [js.as_str(), wasm.as_str()]
            .into_iter()
            .filter(|file| !dir.join(file).is_file())
            .collect();
        if !missing.is_empty() {
            tracing::warn!(
                dir = %dir.display(),
                ?missing,
                "the browser bundle's manifest names files that are not there: pages will not hydrate"
            );
            return None;
        }
        let manifest = std::path::absolute(&manifest).unwrap_or(manifest);
        Some(Bundle {
            dir: dir.to_owned(),
            manifest,
            js,
            wasm,
        })
    }

    /// Whether `file` (a name under `/pkg/`) is one of this bundle's files.
    pub fn has_file(&self, file: &str) -> bool {
        file == self.js || file == self.wasm
    }
}

/// The two file names a manifest gives, when it gives both and their hashes are plain.
fn parse_manifest(text: &str) -> Option<(String, String)> {
    let (mut js, mut wasm) = (None, None);
    for line in text.lines() {
        let Some((kind, hash)) = line.split_once(':') else {
            continue;
        };
        let hash = hash.trim();
        // A hash becomes part of a path and a URL: nothing but letters, digits, `-` and `_`.
        if hash.is_empty()
            || !hash
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return None;
        }
        match kind.trim() {
            "js" => js = Some(format!("{OUTPUT_NAME}.{hash}.js")),
            "wasm" => wasm = Some(format!("{OUTPUT_NAME}.{hash}.wasm")),
            _ => {}
        }
    }
    Some((js?, wasm?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_both_files() {
        assert_eq!(
            parse_manifest("js: abc123\nwasm: def456\ncss: 789\n"),
            Some(("warden.abc123.js".into(), "warden.def456.wasm".into()))
        );
        assert_eq!(parse_manifest("js: abc\n"), None);
        assert_eq!(parse_manifest("js: ../x\nwasm: y\n"), None);
        assert_eq!(parse_manifest("js: \nwasm: y\n"), None);
    }

    #[test]
    fn a_bundle_needs_its_files() {
        let dir = std::env::temp_dir().join(format!("warden-bundle-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Bundle::find(&dir), None, "no manifest");
        std::fs::write(dir.join(MANIFEST), "js: a1\nwasm: b2\n").unwrap();
        std::fs::write(dir.join("warden.a1.js"), "export default 1").unwrap();
        assert_eq!(Bundle::find(&dir), None, "no wasm file");
        std::fs::write(dir.join("warden.b2.wasm"), b"\0asm").unwrap();
        let bundle = Bundle::find(&dir).expect("a bundle");
        assert!(bundle.has_file("warden.a1.js") && bundle.has_file("warden.b2.wasm"));
        assert!(!bundle.has_file("hash.txt"));
        assert!(bundle.manifest.is_absolute());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_manifest_beside_the_binary_names_files_in_the_bundle_folder() {
        let dir = std::env::temp_dir().join(format!("warden-bundle-{}", uuid::Uuid::new_v4()));
        let (pkg, bin) = (dir.join("site/pkg"), dir.join("release"));
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join(MANIFEST), "js: Tw-i3\nwasm: Hw_V6\ncss: s1\n").unwrap();
        std::fs::write(pkg.join("warden.Tw-i3.js"), "export default 1").unwrap();
        std::fs::write(pkg.join("warden.Hw_V6.wasm"), b"\0asm").unwrap();
        let beside_binary = Some(bin.join(MANIFEST));
        let bundle = Bundle::find_with(&pkg, [Some(pkg.join(MANIFEST)), beside_binary.clone()])
            .expect("the bundle cargo-leptos wrote");
        assert_eq!(bundle.manifest, bin.join(MANIFEST));
        assert_eq!(bundle.dir, pkg);
        // The bundle folder's own manifest comes first.
        std::fs::write(pkg.join(MANIFEST), "js: a1\nwasm: b2\n").unwrap();
        assert_eq!(
            Bundle::find_with(&pkg, [Some(pkg.join(MANIFEST)), beside_binary]),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
