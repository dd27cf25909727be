//! Which file (or redirect) a request path names under the assets directory, by wrangler's
//! `html_handling` rules; and the page `not_found_handling` falls back to.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

use super::{AssetsConfig, HtmlHandling, NotFoundHandling, ASSET_BYTES_MAX};

pub enum Found {
    File(PathBuf),
    Redirect(String),
    Nothing,
}

/// The decoded path, if it is one a file may answer: no `..`, no NUL, no backslash.
fn clean(path: &str) -> Option<String> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    if decoded.split('/').any(|segment| segment == "..") {
        return None;
    }
    Some(if decoded.starts_with('/') {
        decoded.into_owned()
    } else {
        format!("/{decoded}")
    })
}

/// The file `path` (already clean) names, if it exists inside the directory.
async fn file(config: &AssetsConfig, path: &str) -> Option<PathBuf> {
    let relative = path.trim_start_matches('/');
    if relative.is_empty() || relative.ends_with('/') || config.rules.ignored(relative) {
        return None;
    }
    let candidate = config.directory.join(relative);
    let metadata = tokio::fs::metadata(&candidate).await.ok()?;
    if !metadata.is_file() || metadata.len() > ASSET_BYTES_MAX {
        return None;
    }
    // A symbolic link must not lead out of the directory.
    let real = tokio::fs::canonicalize(&candidate).await.ok()?;
    let root = tokio::fs::canonicalize(&config.directory).await.ok()?;
    real.starts_with(&root).then_some(candidate)
}

pub async fn lookup(config: &AssetsConfig, path: &str) -> Found {
    let Some(path) = clean(path) else {
        return Found::Nothing;
    };
    if path
        .split('/')
        .any(|segment| segment.starts_with('.') && segment.len() > 1)
    {
        // Dot files (`.assetsignore`, `.git`) are never served.
        return Found::Nothing;
    }
    match config.html_handling {
        HtmlHandling::None => match file(config, &path).await {
            Some(found) => Found::File(found),
            None => Found::Nothing,
        },
        handling => html(config, &path, handling).await,
    }
}

async fn html(config: &AssetsConfig, path: &str, handling: HtmlHandling) -> Found {
    // `/x/index.html` and `/x.html` redirect to their clean forms when they exist.
    if let Some(dir) = path.strip_suffix("index.html").filter(|d| d.ends_with('/')) {
        if file(config, path).await.is_some() {
            return match handling {
                HtmlHandling::DropTrailingSlash if dir != "/" => {
                    Found::Redirect(dir.trim_end_matches('/').to_owned())
                }
                _ => Found::Redirect(dir.to_owned()),
            };
        }
    } else if let Some(stem) = path.strip_suffix(".html") {
        if file(config, path).await.is_some() {
            return match handling {
                HtmlHandling::ForceTrailingSlash => Found::Redirect(format!("{stem}/")),
                _ => Found::Redirect(stem.to_owned()),
            };
        }
    }
    if let Some(found) = file(config, path).await {
        return Found::File(found);
    }
    if let Some(dir) = path.strip_suffix('/') {
        let index = file(config, &format!("{dir}/index.html")).await;
        let named = if dir.is_empty() {
            None
        } else {
            file(config, &format!("{dir}.html")).await
        };
        return match (handling, index, named) {
            (HtmlHandling::DropTrailingSlash, Some(_), _) if !dir.is_empty() => {
                Found::Redirect(dir.to_owned())
            }
            (_, Some(index), _) => Found::File(index),
            (HtmlHandling::ForceTrailingSlash, None, Some(named)) => Found::File(named),
            (_, None, Some(_)) => Found::Redirect(dir.to_owned()),
            (_, None, None) => Found::Nothing,
        };
    }
    let named = file(config, &format!("{path}.html")).await;
    let index = file(config, &format!("{path}/index.html")).await;
    match (handling, named, index) {
        (HtmlHandling::ForceTrailingSlash, Some(_), _) | (_, None, Some(_))
            if handling != HtmlHandling::DropTrailingSlash =>
        {
            Found::Redirect(format!("{path}/"))
        }
        (_, Some(named), _) => Found::File(named),
        (_, None, Some(index)) => Found::File(index),
        (_, None, None) => Found::Nothing,
    }
}

/// The page `not_found_handling` answers with, and its status.
pub async fn not_found(config: &AssetsConfig, path: &str) -> Option<(PathBuf, u16)> {
    match config.not_found_handling {
        NotFoundHandling::None => None,
        NotFoundHandling::SinglePageApplication => {
            file(config, "/index.html").await.map(|found| (found, 200))
        }
        NotFoundHandling::NotFoundPage => {
            let path = clean(path).unwrap_or_else(|| "/".into());
            let mut dir = Path::new(&path).parent().map(Path::to_path_buf);
            if path.ends_with('/') {
                dir = Some(PathBuf::from(&path));
            }
            while let Some(current) = dir {
                let candidate = current.join("404.html");
                let text = candidate.to_string_lossy().into_owned();
                if let Some(found) = file(config, &text).await {
                    return Some((found, 404));
                }
                dir = current.parent().map(Path::to_path_buf);
            }
            None
        }
    }
}
