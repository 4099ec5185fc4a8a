//! Development defaults shared by the app, the `setup` tool, the kickstart file and the tests.
//!
//! These are the values from FusionAuth's Flask tutorial. They are for local development only:
//! production deployments set every one of them through the environment.
//! A test (`setup/tests/consistency.rs`) checks that `kickstart/kickstart.json`, `.env.example`
//! and the compose env file agree with this file.

/// FusionAuth's URL, as both the browser and the app server reach it (also the tenant's issuer).
pub const ISSUER: &str = "http://localhost:9011";
/// The OAuth application's id, which FusionAuth also uses as the OAuth `client_id`.
pub const CLIENT_ID: &str = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e";
/// The OAuth client secret. A development value only.
pub const CLIENT_SECRET: &str = "change-this-in-production-to-be-a-real-secret";
/// The app's public base URL.
pub const APP_URL: &str = "http://localhost:3000";
/// Path of the OAuth redirect URI, below `APP_URL`.
pub const CALLBACK_PATH: &str = "/callback";
/// Path of the application's logoutURL (FusionAuth's front-channel logout), below `APP_URL`.
pub const LOGOUT_PATH: &str = "/logout";
/// Path FusionAuth sends the browser to after logout (`post_logout_redirect_uri`), below `APP_URL`:
/// the logout URL itself, which ends the local session (idempotently) and redirects to `/`
/// without the `state` parameter left in the address bar.
pub const POST_LOGOUT_PATH: &str = "/logout";
/// FusionAuth's end-session endpoint below the issuer (used when discovery cannot be reached).
pub const PROVIDER_LOGOUT_PATH: &str = "/oauth2/logout";
/// Path of the page that starts a login, below `APP_URL`.
pub const LOGIN_PATH: &str = "/login";
/// Id of the RS256 key that signs id and access tokens.
pub const SIGNING_KEY_ID: &str = "356a6624-b33c-471a-b707-48bbfcfbc593";
/// The demo user.
pub const DEMO_USER_EMAIL: &str = "richard@example.com";
pub const DEMO_USER_PASSWORD: &str = "password";
pub const DEMO_USER_FIRST_NAME: &str = "Richard";
pub const DEMO_USER_LAST_NAME: &str = "Hendricks";
/// Path of the endpoint that receives FusionAuth's webhooks (revocations), below `APP_URL`.
pub const WEBHOOK_PATH: &str = "/webhooks/fusionauth";
/// The HMAC (HS256) secret FusionAuth signs webhooks with (`X-FusionAuth-Signature-JWT`),
/// as the UTF-8 bytes of this string. A development value only.
pub const WEBHOOK_SIGNING_SECRET: &str = "dev-only-webhook-signing-secret-change-me-0123456789";
/// Id of the HMAC key in FusionAuth's Key Master that signs the webhooks.
pub const WEBHOOK_SIGNING_KEY_ID: &str = "b3a1c9a8-5d1e-4f43-9c36-1f2d3e4a5b6c";
/// Id of the webhook that FusionAuth calls at `APP_URL` + [`WEBHOOK_PATH`].
pub const WEBHOOK_ID: &str = "7d0c2a4e-8f61-4b7a-a5d2-3c4b5a697881";
/// Id of the demo user (the kickstart creates it with this id).
pub const DEMO_USER_ID: &str = "00000000-0000-0000-0000-111111111111";
