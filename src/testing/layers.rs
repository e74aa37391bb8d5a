//! The module boundary as a test: no import cycle between top-level modules, nothing but
//! `main` uses `app`, and the doors (`discord/`, `web/`) never name the store. Reads the
//! crate's own sources; test code (`tests.rs`, `tests/`, `#[cfg(test)] mod tests`) is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each top-level module's non-test source text.
fn modules() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src");
        let rel_s = rel.to_string_lossy();
        let is_test = rel_s.contains("tests") || rel_s.starts_with("testing");
        let top = rel
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .unwrap_or_default();
        if is_test || top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("read source");
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        out.entry(top).or_default().push_str(&text);
    }
    out
}

fn dependencies(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut deps = BTreeMap::new();
    for (name, text) in mods {
        let mut set = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let word = match word.as_str() {
                "Error" | "Result" => "error".to_owned(),
                _ => word,
            };
            if &word != name && mods.contains_key(&word) {
                set.insert(word);
            }
        }
        deps.insert(name.clone(), set);
    }
    deps
}

/// A path `from -> ... -> from`, if there is one.
fn cycle_through(deps: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    fn walk(
        deps: &BTreeMap<String, BTreeSet<String>>,
        target: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in deps.get(at).into_iter().flatten() {
            path.push(next.clone());
            if next == target || (seen.insert(next.clone()) && walk(deps, target, next, path, seen))
            {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![from.to_owned()];
    walk(deps, from, from, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let deps = dependencies(&modules());
    assert!(
        deps.contains_key("store") && deps.contains_key("web"),
        "{deps:?}"
    );
    for name in deps.keys() {
        if let Some(path) = cycle_through(&deps, name) {
            panic!("import cycle: {}", path.join(" -> "));
        }
    }
}

#[test]
fn only_main_uses_app_and_the_doors_never_name_the_store() {
    let mods = modules();
    for (name, text) in &mods {
        assert!(
            name == "app" || !text.contains("crate::app"),
            "{name} imports crate::app"
        );
    }
    for door in ["discord", "web", "sync"] {
        let text = &mods[door];
        assert!(!text.contains("crate::store"), "{door} names crate::store");
        assert!(!text.contains(".store."), "{door} reaches a store handle");
    }
    let services = &mods["services"];
    let start = services
        .find("pub struct Services {")
        .expect("Services is defined");
    let body = &services[start..];
    let body = &body[..body.find("\n}").expect("end of Services")];
    assert!(!body.contains("Store"), "Services holds a store:\n{body}");
}
