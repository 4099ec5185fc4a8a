//! Where to send the user after login: only ever a path on this site.

use url::Url;

/// Paths of the login flow itself: returning to them would loop.
const FLOW_PATHS: [&str; 3] = ["/login", "/callback", "/logout"];

/// Returns `candidate` if it is a same-site path (with optional query), otherwise `/`.
///
/// Rejects absolute URLs, scheme-relative `//host` URLs, backslash tricks that browsers
/// normalise into `//host`, control characters, and the login flow's own paths.
pub fn sanitize(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if is_same_site_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_same_site_path(path: &str) -> bool {
    if !path.starts_with('/')
        || path.starts_with("//")
        || path.len() > 1024
        || path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return false;
    }
    // Resolve against a placeholder origin: anything that leaves it is not a local path.
    let Ok(base) = Url::parse("http://app.invalid/") else {
        return false;
    };
    let Ok(resolved) = base.join(path) else {
        return false;
    };
    resolved.origin() == base.origin()
        && !FLOW_PATHS.iter().any(|flow| {
            resolved.path() == *flow || resolved.path().starts_with(&format!("{flow}/"))
        })
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn keeps_local_paths_with_query() {
        assert_eq!(sanitize(Some("/profile")), "/profile");
        assert_eq!(sanitize(Some("/profile?tab=json")), "/profile?tab=json");
    }

    #[test]
    fn missing_or_empty_goes_home() {
        assert_eq!(sanitize(None), "/");
        assert_eq!(sanitize(Some("")), "/");
    }

    #[test]
    fn open_redirect_attempts_go_home() {
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "/\r\nSet-Cookie: x=y",
            "profile",
            "/ /evil",
        ] {
            assert_eq!(sanitize(Some(evil)), "/", "{evil:?} must not be followed");
        }
    }

    #[test]
    fn flow_paths_do_not_loop() {
        assert_eq!(sanitize(Some("/login?return_to=/login")), "/");
        assert_eq!(sanitize(Some("/callback?code=x")), "/");
        assert_eq!(sanitize(Some("/logout")), "/");
    }
}
