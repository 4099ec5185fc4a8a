//! Error pages for failures outside Leptos's rendering.
//!
//! Three layers answer without a page of their own: tower-sessions, when saving the session
//! after the page rendered fails (it replaces the response with an empty 500); the request
//! timeout (an empty 503); and axum itself (an empty 405 for a wrong method). The
//! cross-site guard refuses before any page renders. All of them get the app's error page
//! here, with the same status, so the user always sees what happened and a way back.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, HeaderValue, StatusCode};

use crate::error::AuthError;

/// Renders the static error page; knows the stylesheet's (possibly hashed) address.
#[derive(Clone)]
pub struct ErrorPages {
    stylesheet: Arc<str>,
}

impl ErrorPages {
    pub fn new(stylesheet: impl Into<Arc<str>>) -> Self {
        Self {
            stylesheet: stylesheet.into(),
        }
    }

    /// The page for `error`, with its status.
    pub fn response(&self, error: AuthError) -> Response {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.page(status, error.title(), error.message())
    }

    fn page(&self, status: StatusCode, title: &'static str, message: &'static str) -> Response {
        (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            Body::from(render(&self.stylesheet, status.as_u16(), title, message)),
        )
            .into_response()
    }

    /// The page for an error response that has no body of its own (no `Content-Type`).
    fn for_bare(&self, status: StatusCode) -> Response {
        match status.as_u16() {
            // tower-sessions could not save the session (it logged the detail).
            500 => self.response(AuthError::SessionStore),
            // The request timeout.
            503 => self.response(AuthError::Timeout),
            _ => self.page(
                status,
                "Something went wrong",
                "This request could not be handled. Please go back to the start.",
            ),
        }
    }
}

/// Turns an error response without a body into the error page. `Set-Cookie` headers are
/// kept: a callback that failed while saving must still remove its pending-login cookie.
pub async fn page_for_bare_errors(
    State(pages): State<ErrorPages>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if status.as_u16() < 400 || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let mut page = pages.for_bare(status);
    for (name, value) in response.headers() {
        if name == header::SET_COOKIE || name == header::ALLOW {
            page.headers_mut().append(name, value.clone());
        }
    }
    page
}

/// The app's error page outside the router: the same header and card as the pages (the
/// Leptos components, rendered to HTML here), the same stylesheet, no scripts (nothing on it
/// needs them).
fn render(stylesheet: &str, status: u16, title: &'static str, message: &'static str) -> String {
    use leptos::prelude::*;
    use leptos_router::{components::Router, location::RequestUrl};

    use crate::views::{error_page::ErrorCard, layout::Header};

    let owner = Owner::new();
    let body = owner.with(|| {
        // No page of the site: no link in the header is marked as the current page.
        provide_context(RequestUrl::new("/error"));
        view! {
            <Router>
                <Header />
                <main id="content">
                    <ErrorCard title message status />
                </main>
            </Router>
        }
        .to_html()
    });
    format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{stylesheet}">
<title>{title} | FusionAuth + Leptos</title>
</head>
<body>{body}</body>
</html>
"##
    )
}
