//! The errors a user can meet in the login flow, shared by the server and the browser.
//!
//! Each variant is a *kind* of failure, never its detail: the detail (provider messages,
//! token claims, I/O errors) is logged on the server where it happens, and only the kind
//! travels to the page. Every kind has the HTTP status the page is served with and a
//! message written for the person in front of the browser.

use serde::{Deserialize, Serialize};

/// A kind of login failure: what the user is told, never why in detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthError {
    /// The user cancelled at the provider, or the provider refused them (`error=access_denied`).
    #[error("access denied by the identity provider")]
    AccessDenied,
    /// The provider sent back another `error` parameter.
    #[error("the identity provider reported an error")]
    ProviderRejected,
    /// The callback carries no `state`, or no login was started in this browser session.
    #[error("no login in progress")]
    NoLoginInProgress,
    /// The callback's `state` is not the one this browser session was given.
    #[error("state mismatch")]
    StateMismatch,
    /// The callback names another issuer than the configured one, or none although the
    /// provider promises it (RFC 9207): a mix-up, a code meant for another provider.
    #[error("issuer mismatch")]
    IssuerMismatch,
    /// The login was started too long ago.
    #[error("login expired")]
    LoginExpired,
    /// The callback carries no authorization code.
    #[error("missing authorization code")]
    MissingCode,
    /// The provider refused to exchange the code (already used, expired, or not ours).
    #[error("authorization code rejected")]
    CodeRejected,
    /// The id_token's nonce is not the one this login was started with (code injection).
    #[error("nonce mismatch")]
    NonceMismatch,
    /// The id_token failed verification (signature, issuer, audience, expiry, at_hash).
    #[error("invalid id_token")]
    InvalidIdToken,
    /// The provider could not be reached.
    #[error("identity provider unavailable")]
    ProviderUnavailable,
    /// The provider answered with something that is not a valid response.
    #[error("invalid response from the identity provider")]
    ProviderBadResponse,
    /// The session store failed or cannot be reached (503: try again shortly).
    #[error("session store failure")]
    SessionStore,
    /// A state-changing request came from another site (cross-site request forgery).
    #[error("cross-site request refused")]
    CrossSiteRequest,
    /// The server could not answer within its request timeout.
    #[error("request timed out")]
    Timeout,
    /// Anything else: a bug or a transport failure between browser and server.
    #[error("unexpected error")]
    Unexpected,
}

impl AuthError {
    /// The kind as a fixed snake_case name: the `kind` label of the failed-logins metric.
    pub fn kind(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::ProviderRejected => "provider_rejected",
            Self::NoLoginInProgress => "no_login_in_progress",
            Self::StateMismatch => "state_mismatch",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::LoginExpired => "login_expired",
            Self::MissingCode => "missing_code",
            Self::CodeRejected => "code_rejected",
            Self::NonceMismatch => "nonce_mismatch",
            Self::InvalidIdToken => "invalid_id_token",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::ProviderBadResponse => "provider_bad_response",
            Self::SessionStore => "session_store",
            Self::CrossSiteRequest => "cross_site_request",
            Self::Timeout => "timeout",
            Self::Unexpected => "unexpected",
        }
    }

    /// The HTTP status of the page that shows this error.
    pub fn status(self) -> u16 {
        match self {
            Self::AccessDenied | Self::CrossSiteRequest => 403,
            Self::ProviderRejected
            | Self::NoLoginInProgress
            | Self::StateMismatch
            | Self::IssuerMismatch
            | Self::LoginExpired
            | Self::MissingCode
            | Self::CodeRejected
            | Self::NonceMismatch => 400,
            Self::InvalidIdToken | Self::ProviderBadResponse => 502,
            Self::ProviderUnavailable | Self::Timeout | Self::SessionStore => 503,
            Self::Unexpected => 500,
        }
    }

    /// A short title for the error page.
    pub fn title(self) -> &'static str {
        match self {
            Self::AccessDenied => "Login cancelled",
            Self::ProviderUnavailable => "Login is unavailable right now",
            Self::InvalidIdToken | Self::ProviderBadResponse => "The login could not be verified",
            Self::SessionStore => "Sessions are unavailable right now",
            Self::Unexpected => "Something went wrong",
            Self::CrossSiteRequest => "Request refused",
            Self::Timeout => "This is taking too long",
            _ => "Login failed",
        }
    }

    /// What happened and what to do, for the user. Never contains request or provider data.
    pub fn message(self) -> &'static str {
        match self {
            Self::AccessDenied => {
                "The login was cancelled or refused at the identity provider. You have not been logged in."
            }
            Self::ProviderRejected => {
                "The identity provider could not complete the login. Please try again."
            }
            Self::NoLoginInProgress => {
                "This login link is not valid in this browser, or it was already used. Please start the login again."
            }
            Self::StateMismatch => {
                "This login response does not belong to the login started in this browser. Please start the login again."
            }
            Self::IssuerMismatch => {
                "This login response did not come from the identity provider this site uses. Please start the login again."
            }
            Self::LoginExpired => "The login took too long and has expired. Please start it again.",
            Self::MissingCode => "The login response is incomplete. Please start the login again.",
            Self::CodeRejected => {
                "The identity provider did not accept this login response; it may have been used already. Please start the login again."
            }
            Self::NonceMismatch => {
                "This login response was not issued for the login started in this browser. Please start the login again."
            }
            Self::InvalidIdToken => {
                "The identity provider's answer failed verification, so you have not been logged in. Please try again later."
            }
            Self::ProviderUnavailable => {
                "The identity provider cannot be reached. Please try again in a moment."
            }
            Self::ProviderBadResponse => {
                "The identity provider sent an answer that could not be understood. Please try again later."
            }
            Self::SessionStore => {
                "Your session could not be read or saved right now. Please try again in a moment."
            }
            Self::CrossSiteRequest => {
                "This request did not come from this site, so it was refused. Please go back to the start and try again."
            }
            Self::Timeout => {
                "The server could not answer in time. Please try again in a moment."
            }
            Self::Unexpected => "An unexpected error occurred. Please try again.",
        }
    }
}
