//! The login flow against a provider the tests control, one test per behaviour or attack.
//! Every test runs the real app on its own port with its own session database.

mod support;

mod cache;
mod callback;
mod cross_site;
mod headers;
mod health;
mod id_token;
mod log_secrets;
mod login;
mod logout;
mod logs;
mod provider;
mod races;
mod refresh;
mod replicas;
mod request_id;
mod revocation;
mod session;
mod static_files;
mod webhooks;
