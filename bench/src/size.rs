//! Bytes: the release bundle on disk (raw, gzip -9, brotli -q 11), and what a first visit
//! actually downloads from the running server.

use std::{io::Write, path::Path};

use anyhow::{Context, Result};
use reqwest::header;
use url::Url;

use crate::report::{Figure, Table, Unit};

pub struct FileSize {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

pub fn gzip_len(data: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data)?;
    Ok(enc.finish()?.len())
}

pub fn brotli_len(data: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
    Ok(out.len())
}

/// The bundle files in `<site>/pkg` (not the precompressed copies).
pub fn bundle(pkg_dir: &Path) -> Result<Vec<FileSize>> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(pkg_dir).with_context(|| format!("read {}", pkg_dir.display()))?
    {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // What a browser loads: not the precompressed copies, not the TypeScript declarations.
        let loaded = [".wasm", ".js", ".css"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if !loaded || !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path)?;
        files.push(FileSize {
            raw: data.len(),
            gzip: gzip_len(&data)?,
            brotli: brotli_len(&data)?,
            name,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

pub struct Download {
    pub path: String,
    pub encoding: String,
    pub bytes: usize,
}

/// Same-site resources the page's `<link>` and `<script>` tags make a browser load, and the
/// module the hydration script imports (its wasm is in a `<link rel=preload>`).
pub fn page_resources(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in ["<link", "<script"] {
        let mut rest = html;
        while let Some(i) = rest.find(tag) {
            let end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
            let el = &rest[i..end];
            for attr in ["href=\"", "src=\""] {
                if let Some(a) = el.find(attr) {
                    let v = &el[a + attr.len()..];
                    if let Some(q) = v.find('"') {
                        found.push(v[..q].to_owned());
                    }
                }
            }
            rest = &rest[end..];
        }
    }
    // The hydration script: import('/pkg/x.js') (its path also in a modulepreload).
    for quote in ['\'', '"'] {
        let pat = format!("import({quote}");
        let mut rest = html;
        while let Some(i) = rest.find(&pat) {
            let v = &rest[i + pat.len()..];
            if let Some(q) = v.find(quote) {
                found.push(v[..q].to_owned());
            }
            rest = &rest[i + pat.len()..];
        }
    }
    let mut out: Vec<String> = Vec::new();
    for f in found {
        if f.starts_with('/') && !f.starts_with("//") && !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// Downloads the page and its resources as a first visit would (empty cache, a browser's
/// Accept-Encoding) and counts the body bytes on the wire.
pub async fn first_visit(client: &reqwest::Client, page: &Url) -> Result<Vec<Download>> {
    const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
    let fetch = |url: Url| async move {
        let res = client
            .get(url.clone())
            .header(header::ACCEPT, "text/html,*/*")
            .header(header::ACCEPT_ENCODING, ACCEPT_ENCODING)
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "{} answered {}",
            url.path(),
            res.status()
        );
        let encoding = res
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_owned();
        let body = res.bytes().await?;
        anyhow::Ok((encoding, body))
    };
    let (encoding, body) = fetch(page.clone()).await?;
    // The page itself may arrive compressed: find its resources in the identity version.
    let html = if encoding == "identity" {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        client
            .get(page.clone())
            .header(header::ACCEPT, "text/html")
            .send()
            .await?
            .text()
            .await?
    };
    let mut out = vec![Download {
        path: page.path().to_owned(),
        encoding,
        bytes: body.len(),
    }];
    for path in page_resources(&html) {
        let (encoding, body) = fetch(page.join(&path)?).await?;
        out.push(Download {
            path,
            encoding,
            bytes: body.len(),
        });
    }
    Ok(out)
}

/// The wasm (gzip and brotli) and the first visit, with their targets.
pub fn figures(bundle: &[FileSize], visit: &[Download]) -> Vec<Figure> {
    let mut out = Vec::new();
    if let Some(wasm) = bundle.iter().find(|f| f.name.ends_with(".wasm")) {
        out.push(Figure::new("wasm raw", vec![wasm.raw as f64], Unit::Kb));
        out.push(
            Figure::new("**wasm gzip -9**", vec![wasm.gzip as f64], Unit::Kb)
                .target("≤ 50 KB", |m| m <= 50e3),
        );
        out.push(Figure::new(
            "wasm brotli -q 11",
            vec![wasm.brotli as f64],
            Unit::Kb,
        ));
    }
    let total: usize = visit.iter().map(|d| d.bytes).sum();
    out.push(
        Figure::new(
            "**first visit downloads** (`/` and what it loads, as served)",
            vec![total as f64],
            Unit::Kb,
        )
        .target("≤ 70 KB", |m| m <= 70e3),
    );
    out
}

pub fn tables(bundle: &[FileSize], visit: &[Download]) -> Vec<Table> {
    let total: usize = visit.iter().map(|d| d.bytes).sum();
    let mut downloads: Vec<Vec<String>> = visit
        .iter()
        .map(|d| {
            vec![
                format!("`{}`", d.path),
                d.encoding.clone(),
                d.bytes.to_string(),
            ]
        })
        .collect();
    downloads.push(vec![
        "**total**".into(),
        String::new(),
        format!("**{total}**"),
    ]);
    vec![
        Table {
            title: "Bundle (the release site's `pkg/`; 1 KB = 1000 bytes)".into(),
            header: ["file", "raw", "gzip -9", "brotli -q 11"].map(String::from).to_vec(),
            rows: bundle
                .iter()
                .map(|f| vec![format!("`{}`", f.name), format!("{} B", f.raw), format!("{} B", f.gzip), format!("{} B", f.brotli)])
                .collect(),
            notes: vec![],
        },
        Table {
            title: "A first visit to `/` with an empty cache (a browser's `Accept-Encoding`), bodies as the server sent them".into(),
            header: ["resource", "content-encoding", "bytes"].map(String::from).to_vec(),
            rows: downloads,
            notes: vec![],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_page_resources() {
        let html = r#"<link rel="icon" href="/favicon.svg"><link rel="modulepreload" href="/pkg/a.js">
            <link rel="preload" href="/pkg/a.wasm" as="fetch"><script type="module">import('/pkg/a.js')</script>
            <link rel="stylesheet" id="leptos" href="/pkg/a.css"><a href="/login">x</a><link href="https://x.test/y">"#;
        assert_eq!(
            page_resources(html),
            ["/favicon.svg", "/pkg/a.js", "/pkg/a.wasm", "/pkg/a.css"]
        );
    }

    #[test]
    fn compresses() {
        let data = b"hello hello hello hello hello hello".repeat(100);
        assert!(gzip_len(&data).unwrap() < data.len() / 10);
        assert!(brotli_len(&data).unwrap() < data.len() / 10);
    }
}
