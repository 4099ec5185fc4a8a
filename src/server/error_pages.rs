//! The error page for a session that could not be saved.
//!
//! tower-sessions saves the session after the page has rendered; when the store fails then,
//! it logs the error and replaces the whole response with an empty 500. This layer, outside
//! the session layer, turns that empty 500 into the app's error page, so the user sees what
//! happened and a way back, as for every other failure.

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, HeaderValue, StatusCode};

use crate::error::AuthError;

pub async fn page_for_empty_500(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_bare_500 = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE);
    if !is_bare_500 {
        return response;
    }
    // The detail was logged by the session layer ("failed to save session").
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from(page(AuthError::SessionStore)),
    )
        .into_response()
}

/// A static rendering of the app's error page: the same stylesheet, header and card, no
/// scripts (nothing on it needs them).
fn page(error: AuthError) -> String {
    let (title, message, status) = (error.title(), error.message(), error.status());
    format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/pkg/fusionauth-leptos.css">
<title>{title} | FusionAuth + Leptos</title>
</head>
<body>
<a class="skip-link" href="#content">Skip to content</a>
<header class="site-header">
<a class="brand" href="/"><span class="brand-mark" aria-hidden="true">◆</span>FusionAuth + Leptos</a>
<nav aria-label="Main"><a href="/">Home</a><a href="/profile">Profile</a></nav>
</header>
<main id="content">
<section class="card error" data-testid="error-page" role="alert" aria-labelledby="error-title">
<h1 id="error-title">{title}</h1>
<p>{message}</p>
<p class="error-code">Error {status}</p>
<a class="button" href="/">Back to start</a>
</section>
</main>
</body>
</html>
"##
    )
}
