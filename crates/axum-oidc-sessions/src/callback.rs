//! What the provider sends back to the callback. Always compiled: an app's browser code
//! (wasm32) carries it to the server, as Leptos server functions do.

use serde::{Deserialize, Serialize};

/// The query string the provider sends to the callback. Other parameters (FusionAuth adds
/// `locale`, `userState`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The state the login was started with.
    pub state: Option<String>,
    /// The issuer the response comes from (RFC 9207; FusionAuth since 1.69).
    pub iss: Option<String>,
    /// The provider's error code (`access_denied`, …), when the login did not succeed.
    pub error: Option<String>,
    /// The provider's description of that error.
    pub error_description: Option<String>,
}
