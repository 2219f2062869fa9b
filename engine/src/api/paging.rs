//! ARM paging: a list answer is `{"value": [...], "nextLink": "<absolute URL>"}` (`listNodes`
//! uses `nodes`); follow `nextLink` until it is absent. The loop is generic over the page
//! fetcher, so it is tested without sockets.

use std::future::Future;

use serde_json::Value as Json;

use super::ApiError;

/// The most pages one list may take; a server whose `nextLink` never ends is a bug, not a list.
pub const MAX_PAGES: usize = 10_000;

/// Fetches the first page at `first`, then every `nextLink`, and returns the items of `field`
/// (`value`, or `nodes` for listNodes) of all pages, in order. A page without `field` counts as
/// empty; a `nextLink` that repeats the page just fetched is an error, as is exceeding
/// [`MAX_PAGES`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use serde_json::json;
/// let pages = |url: String| async move {
///     Ok::<_, engine::api::ApiError>(match url.as_str() {
///         "p1" => json!({"value": [1, 2], "nextLink": "p2"}),
///         _ => json!({"value": [3]}),
///     })
/// };
/// let items = engine::api::paging::collect_pages("p1".to_owned(), "value", pages).await.unwrap();
/// assert_eq!(items, vec![json!(1), json!(2), json!(3)]);
/// # });
/// ```
pub async fn collect_pages<F, Fut>(
    first: String,
    field: &str,
    mut fetch: F,
) -> Result<Vec<Json>, ApiError>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Json, ApiError>>,
{
    let mut items = Vec::new();
    let mut url = first;
    for _ in 0..MAX_PAGES {
        let page = fetch(url.clone()).await?;
        match page.get(field) {
            Some(Json::Array(values)) => items.extend(values.iter().cloned()),
            None | Some(Json::Null) => {}
            Some(_) => {
                return Err(ApiError::Decode {
                    url,
                    detail: format!("`{field}` is not a list"),
                });
            }
        }
        match page.get("nextLink").and_then(Json::as_str) {
            Some(next) if !next.is_empty() => {
                if next == url {
                    return Err(ApiError::Decode {
                        url,
                        detail: "`nextLink` points at the page itself".to_owned(),
                    });
                }
                url = next.to_owned();
            }
            _ => return Ok(items),
        }
    }
    Err(ApiError::Decode {
        url,
        detail: format!("the list did not end after {MAX_PAGES} pages"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;
    use std::cell::RefCell;

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn follows_next_links_until_absent() {
        let fetched = RefCell::new(Vec::new());
        let items = run(collect_pages("https://arm/c?api-version=1".to_owned(), "value", |url| {
            fetched.borrow_mut().push(url.clone());
            async move {
                Ok(match url.as_str() {
                    "https://arm/c?api-version=1" => json!({"value": [{"name": "a"}], "nextLink": "https://arm/c?api-version=1&$skip=1"}),
                    "https://arm/c?api-version=1&$skip=1" => json!({"value": [], "nextLink": "https://arm/c?api-version=1&$skip=2"}),
                    _ => json!({"value": [{"name": "b"}, {"name": "c"}], "nextLink": null}),
                })
            }
        }))
        .expect("pages");
        assert_eq!(
            items,
            vec![
                json!({"name": "a"}),
                json!({"name": "b"}),
                json!({"name": "c"})
            ]
        );
        assert_eq!(fetched.borrow().len(), 3);
    }

    #[test]
    fn list_nodes_pages_over_nodes() {
        let items = run(collect_pages("n".to_owned(), "nodes", |_| async {
            Ok(json!({"nodes": [{"nodeId": "n1"}]}))
        }))
        .expect("page");
        assert_eq!(items, vec![json!({"nodeId": "n1"})]);
    }

    #[test]
    fn a_self_referencing_next_link_is_an_error() {
        let error = run(collect_pages("p".to_owned(), "value", |_| async {
            Ok(json!({"value": [1], "nextLink": "p"}))
        }))
        .expect_err("loop");
        assert!(error.to_string().contains("`p`"), "{error}");
    }

    #[test]
    fn a_failing_page_fails_the_list() {
        let error = run(collect_pages("p1".to_owned(), "value", |url| async move {
            if url == "p1" {
                Ok(json!({"value": [1], "nextLink": "p2"}))
            } else {
                Err(ApiError::Decode {
                    url,
                    detail: "broken".to_owned(),
                })
            }
        }))
        .expect_err("second page fails");
        assert!(matches!(error, ApiError::Decode { url, .. } if url == "p2"));
    }

    #[test]
    fn a_non_list_value_is_an_error() {
        let error = run(collect_pages("p".to_owned(), "value", |_| async {
            Ok(json!({"value": {}}))
        }))
        .expect_err("not a list");
        assert!(matches!(error, ApiError::Decode { .. }));
    }
}
