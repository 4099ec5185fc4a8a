//! Session data encrypted at rest: a copied Redis dump or SQLite file yields no token and no
//! claim.
//!
//! Each record's data is replaced by one AES-256-GCM ciphertext of its JSON, with the session
//! id as associated data (a ciphertext copied under another session's id does not open).
//! The ciphertext names its key by a short tag, so a key from `APP_SECRET_KEY_PREVIOUS` still
//! opens what it sealed while the current key seals everything new: keys rotate without
//! logging anybody out.

use std::collections::HashMap;

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::Engine as _;
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower_sessions::session::Record;

/// The one key of a sealed record's data.
const SEALED: &str = "sealed";
/// Format version, the first byte of a sealed payload.
const VERSION: u8 = 1;
const TAG_LEN: usize = 4;
const NONCE_LEN: usize = 12;

/// Why a stored record could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The record's data is not one sealed value.
    #[error("the record is not sealed (written before encryption at rest, or by someone else)")]
    NotSealed,
    /// The key tag names none of this server's keys (a rolling rotation: another replica
    /// may have it).
    #[error("the record is sealed with a key this server does not have")]
    UnknownKey,
    /// Decryption failed: the ciphertext was changed, or moved to another session id.
    #[error("the record does not decrypt (tampered, or moved to another session id)")]
    Tampered,
    /// The decrypted data is not JSON.
    #[error("the record's data is not JSON: {0}")]
    Json(#[from] serde_json::Error),
}

struct DataKey {
    tag: [u8; TAG_LEN],
    cipher: Aes256Gcm,
}

impl DataKey {
    fn new(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&digest[..TAG_LEN]);
        Self {
            tag,
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }
}

/// Seals with the current key, opens with the current or a previous one.
pub struct Sealer {
    current: DataKey,
    previous: Vec<DataKey>,
}

impl Sealer {
    /// Seals with `current`; opens with `current` or any of `previous`.
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        Self {
            current: DataKey::new(current),
            previous: previous.iter().map(DataKey::new).collect(),
        }
    }

    /// `record` as it goes to the store: its data replaced by one ciphertext.
    pub fn seal(&self, record: &Record) -> Result<Record, serde_json::Error> {
        let plain = serde_json::to_vec(&record.data)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = record.id.to_string();
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: aad.as_bytes(),
                },
            )
            // AES-GCM fails only on inputs of many gigabytes.
            .map_err(|_| serde_json::Error::io(std::io::Error::other("encryption failed")))?;
        let mut payload = Vec::with_capacity(1 + TAG_LEN + NONCE_LEN + ciphertext.len());
        payload.push(VERSION);
        payload.extend_from_slice(&self.current.tag);
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&ciphertext);
        let mut sealed = record.clone();
        sealed.data = HashMap::from([(
            SEALED.to_owned(),
            Value::String(base64::engine::general_purpose::STANDARD_NO_PAD.encode(payload)),
        )]);
        Ok(sealed)
    }

    /// `record` as the store returned it, opened.
    pub fn open(&self, mut record: Record) -> Result<Record, OpenError> {
        let Some(Value::String(encoded)) = record.data.get(SEALED) else {
            return Err(OpenError::NotSealed);
        };
        let payload = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|_| OpenError::Tampered)?;
        if payload.len() < 1 + TAG_LEN + NONCE_LEN || payload[0] != VERSION {
            return Err(OpenError::Tampered);
        }
        let (tag, rest) = payload[1..].split_at(TAG_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.tag == tag)
            .ok_or(OpenError::UnknownKey)?;
        let aad = record.id.to_string();
        let plain = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Tampered)?;
        record.data = serde_json::from_slice(&plain)?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::session::Id;

    fn record() -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([(
                "auth.user".to_owned(),
                serde_json::json!({"t": "secret-token"}),
            )]),
            expiry_date: time::OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn sealed_data_reveals_nothing_and_opens_again() {
        let sealer = Sealer::new(&[1; 32], &[]);
        let record = record();
        let sealed = sealer.seal(&record).expect("seals");
        let stored = serde_json::to_string(&sealed.data).expect("json");
        assert!(!stored.contains("secret-token") && !stored.contains("auth.user"));
        assert_eq!(sealer.open(sealed).expect("opens").data, record.data);
    }

    #[test]
    fn a_previous_key_still_opens_and_an_unknown_one_does_not() {
        let old = Sealer::new(&[1; 32], &[]);
        let sealed = old.seal(&record()).expect("seals");
        let rotated = Sealer::new(&[2; 32], &[[1; 32]]);
        assert!(rotated.open(sealed.clone()).is_ok());
        let forgotten = Sealer::new(&[2; 32], &[]);
        assert!(matches!(forgotten.open(sealed), Err(OpenError::UnknownKey)));
    }

    #[test]
    fn a_ciphertext_moved_to_another_session_id_does_not_open() {
        let sealer = Sealer::new(&[1; 32], &[]);
        let mut sealed = sealer.seal(&record()).expect("seals");
        sealed.id = Id::default();
        assert!(matches!(sealer.open(sealed), Err(OpenError::Tampered)));
    }

    #[test]
    fn plaintext_records_are_not_accepted() {
        let sealer = Sealer::new(&[1; 32], &[]);
        assert!(matches!(sealer.open(record()), Err(OpenError::NotSealed)));
    }
}
