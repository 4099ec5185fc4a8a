//! The files under the site root (`/pkg/…`, `public/`).
//!
//! - Hashed assets (`cargo-leptos` `hash-files`: `name.<hash>.js|wasm|css`) never change
//!   under their name: browsers may keep them for a year without asking again. A deploy
//!   changes the names, so new HTML never hydrates with old wasm.
//! - Everything else is revalidated on each use (`no-cache`; `ServeDir` answers 304).
//! - A directory is never redirected to its `…/` form: `ServeDir` would answer `GET //pkg`
//!   with `Location: //pkg/`, a scheme-relative redirect to another host.
//! - Anything that is not a file gets the app's "Page not found" page.
//!
//! Not `leptos_axum::file_and_error_handler`: it answers a found file inside a reactive owner
//! that inherits whatever owner is current on the worker thread, and so can move a page being
//! rendered at that moment (say, `/login`) its status and headers, `Location` included, onto
//! the file's response. The login then stays on its page, and the file carries the redirect.

use axum::{extract::Request, middleware::Next, response::Response, routing::MethodRouter};
use http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

/// Length of cargo-leptos's hash: base64url (unpadded) of an MD5 digest.
const HASH_LEN: usize = 22;

/// `ServeDir` over the site root, falling back to `not_found`.
pub fn files(options: &LeptosOptions, not_found: MethodRouter) -> ServeDir<MethodRouter> {
    ServeDir::new(&*options.site_root)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(not_found)
}

/// Turns `hash_files` on when `LEPTOS_HASH_FILES` is unset and the hash file a `hash-files`
/// build writes beside the binary is there. cargo-leptos sets the variable when it runs the
/// server; a binary started by hand without it would link unhashed names that such a build
/// never wrote (404s: an unstyled page without islands).
pub fn hash_files_from_build(options: &mut LeptosOptions) {
    let set = std::env::var_os("LEPTOS_HASH_FILES").is_some();
    let found = hash_file_path(options).is_some_and(|path| path.is_file());
    let wanted = use_hash_files(set.then_some(options.hash_files), found);
    if wanted && !set {
        tracing::info!("LEPTOS_HASH_FILES is unset and the build's hash file is beside the binary: hashed asset names");
    }
    options.hash_files = wanted;
}

/// `LEPTOS_HASH_FILES` when it is set (`configured`), else whether the hash file is there.
fn use_hash_files(configured: Option<bool>, hash_file_found: bool) -> bool {
    configured.unwrap_or(hash_file_found)
}

/// Where Leptos reads the hash file: beside the running binary.
fn hash_file_path(options: &LeptosOptions) -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(&*options.hash_file))
}

/// The stylesheet's address, as the pages link it. With `hash-files`, also checks that the
/// hash file cargo-leptos wrote beside the binary exists and names files that are there:
/// without it, Leptos would link missing files (or panic while rendering).
pub fn stylesheet_href(options: &LeptosOptions) -> Result<String, String> {
    let pkg = format!("/{}", options.site_pkg_dir);
    let name = &options.output_name;
    let site_file = |file: &str| {
        std::path::Path::new(&*options.site_root)
            .join(&*options.site_pkg_dir)
            .join(file)
    };
    if !options.hash_files {
        let css = format!("{name}.css");
        if !site_file(&css).is_file() {
            return Err(format!(
                "{} is missing and LEPTOS_HASH_FILES is off: build with `cargo leptos build`, set LEPTOS_SITE_ROOT to its site root, or set LEPTOS_HASH_FILES=true for a build with hashed names",
                site_file(&css).display()
            ));
        }
        return Ok(format!("{pkg}/{css}"));
    }
    let hash_file = hash_file_path(options).ok_or("cannot locate the server binary's directory")?;
    let hashes = std::fs::read_to_string(&hash_file).map_err(|e| {
        format!(
            "LEPTOS_HASH_FILES is on but {} cannot be read ({e}): build with `cargo leptos build`",
            hash_file.display()
        )
    })?;
    let hash_of = |ext: &str| {
        hashes.lines().find_map(|line| {
            let (kind, hash) = line.split_once(':')?;
            (kind.trim() == ext).then(|| hash.trim().to_owned())
        })
    };
    let mut css = None;
    for ext in ["js", "wasm", "css"] {
        let hash =
            hash_of(ext).ok_or_else(|| format!("{} names no {ext} file", hash_file.display()))?;
        let file = format!("{name}.{hash}.{ext}");
        if !site_file(&file).is_file() {
            return Err(format!(
                "{} names {file}, which is not in the site root {}: rebuild with `cargo leptos build`",
                hash_file.display(),
                options.site_root
            ));
        }
        if ext == "css" {
            css = Some(format!("{pkg}/{file}"));
        }
    }
    css.ok_or_else(|| "no stylesheet".to_owned())
}

/// Sets `Cache-Control` on a file the handler found (the 404 page sets its own).
pub async fn cache_control(request: Request, next: Next) -> Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == http::StatusCode::NOT_MODIFIED {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// `…/name.<hash>.js|wasm|css`, as cargo-leptos names its outputs with `hash-files`.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let mut parts = file.rsplitn(3, '.');
    let (Some(ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    matches!(ext, "js" | "wasm" | "css")
        && !stem.is_empty()
        && hash.len() == HASH_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use leptos::config::LeptosOptions;

    use super::{is_hashed_asset, stylesheet_href, use_hash_files};

    #[test]
    fn the_build_hash_file_turns_hashed_names_on_unless_leptos_hash_files_says_otherwise() {
        // Unset: what the build left beside the binary decides.
        assert!(use_hash_files(None, true));
        assert!(!use_hash_files(None, false));
        // Set: it wins (and `true` without the file stops start-up in `stylesheet_href`).
        assert!(!use_hash_files(Some(false), true));
        assert!(use_hash_files(Some(true), false));
        assert!(use_hash_files(Some(true), true));
        assert!(!use_hash_files(Some(false), false));
    }

    #[test]
    fn without_hashed_names_a_site_root_lacking_the_stylesheet_stops_start_up() {
        let site = tempfile::tempdir().expect("site root");
        let options = LeptosOptions::builder()
            .output_name("app")
            .site_root(site.path().display().to_string())
            .build();
        let error = stylesheet_href(&options).expect_err("no stylesheet in the site root");
        assert!(error.contains("LEPTOS_HASH_FILES"), "{error}");

        std::fs::create_dir(site.path().join("pkg")).expect("pkg dir");
        std::fs::write(site.path().join("pkg/app.css"), "").expect("stylesheet");
        assert_eq!(stylesheet_href(&options).as_deref(), Ok("/pkg/app.css"));
    }

    #[test]
    fn only_hashed_names_are_immutable() {
        assert!(is_hashed_asset(
            "/pkg/fusionauth-leptos.AbCdEfGhIjKlMnOpQrStUv.wasm"
        ));
        assert!(is_hashed_asset(
            "/pkg/fusionauth-leptos.AbCdEfGhIjKlMnOp-_StUv.css"
        ));
        assert!(!is_hashed_asset("/pkg/fusionauth-leptos.wasm"));
        assert!(!is_hashed_asset("/pkg/fusionauth-leptos.short.js"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/pkg/.AbCdEfGhIjKlMnOpQrStUv.js"));
    }
}
