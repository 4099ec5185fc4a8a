//! The components the pages are built from.

pub mod error_page;
pub mod guest;
pub mod layout;
pub mod pages;
pub mod profile;
