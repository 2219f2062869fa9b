//! The code upload flow: `startPendingUpload`, then the Blob REST subset with the SAS token it
//! returns (put, blocks, copy, metadata, head, get, list), and the upload stats.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::harness::{Harness, WORKSPACE, workspace_path};

/// `(blobUri, sas query)` of a fresh pending upload.
pub async fn pending_upload(h: &Harness, name: &str) -> (String, String) {
    let answer = h
        .send(
            Method::POST,
            &format!(
                "{}/codes/{name}/versions/1/startPendingUpload",
                workspace_path(WORKSPACE)
            ),
            Some(json!({ "pendingUploadType": "TemporaryBlobReference" })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let reference = &answer.body["blobReferenceForConsumption"];
    assert_eq!(reference["credential"]["credentialType"], "SAS");
    let blob_uri = reference["blobUri"].as_str().expect("blobUri").to_owned();
    let sas = reference["credential"]["sasUri"]
        .as_str()
        .expect("sasUri")
        .to_owned();
    assert!(
        blob_uri.starts_with(&format!("{}/_blob/", h.emulator().url())),
        "{blob_uri}"
    );
    assert!(sas.starts_with(&format!("{blob_uri}?")), "{sas}");
    assert!(
        reference["storageAccountArmId"]
            .as_str()
            .is_some_and(|id| id.contains("Microsoft.Storage/storageAccounts/"))
    );
    let query = sas.split_once('?').expect("a query").1.to_owned();
    (blob_uri, query)
}

/// Uploads one file with Put Blob.
pub async fn put_file(
    h: &Harness,
    blob_uri: &str,
    query: &str,
    path: &str,
    content: &[u8],
) -> reqwest::Response {
    h.client
        .put(format!("{blob_uri}/{path}?{query}"))
        .header("x-ms-blob-type", "BlockBlob")
        .header("x-ms-meta-sha256", hex::encode(Sha256::digest(content)))
        .body(content.to_vec())
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn blobs_upload_copy_and_list_with_the_sas_token() {
    let h = Harness::start().await;
    h.workspace().await;
    let (blob_uri, query) = pending_upload(&h, "train").await;
    let content = b"print('hello')\n";
    let put = put_file(&h, &blob_uri, &query, "src/train.py", content).await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let md5 = put.headers()["content-md5"]
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(
        md5, "EA42DMdo8Vo17Z3fBeNUzg==",
        "Content-MD5 is the base64 MD5 of the body"
    );

    let head = h
        .client
        .head(format!("{blob_uri}/src/train.py?{query}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        content.len().to_string().as_str()
    );
    assert_eq!(head.headers()["content-md5"], md5.as_str());
    assert_eq!(
        head.headers()["x-ms-meta-sha256"],
        hex::encode(Sha256::digest(content)).as_str()
    );
    let get = h
        .client
        .get(format!("{blob_uri}/src/train.py?{query}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(get.bytes().await.expect("bytes").as_ref(), content);

    // No token, a wrong token, or a write outside the upload's folder: 403.
    let anonymous = h
        .client
        .get(format!("{blob_uri}/src/train.py"))
        .send()
        .await
        .expect("answered");
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        anonymous.headers()["x-ms-error-code"],
        "AuthenticationFailed"
    );
    let forged = h
        .client
        .get(format!("{blob_uri}/src/train.py?sig=00"))
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (container_uri, _) = blob_uri
        .rsplit_once("/LocalUpload/")
        .expect("a LocalUpload folder");
    let outside = h
        .client
        .put(format!("{container_uri}/elsewhere.txt?{query}"))
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .expect("answered");
    assert_eq!(outside.status(), StatusCode::FORBIDDEN);
    let missing = h
        .client
        .head(format!("{blob_uri}/nope.py?{query}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Blocks, then the block list.
    for (id, part) in [("YQ==", "first "), ("Yg==", "second")] {
        let block = h
            .client
            .put(format!(
                "{blob_uri}/big.txt?{query}&comp=block&blockid={}",
                id.replace('=', "%3D")
            ))
            .body(part)
            .send()
            .await
            .expect("answered");
        assert_eq!(block.status(), StatusCode::CREATED);
    }
    let list_body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest><Latest>Yg==</Latest></BlockList>";
    let committed = h
        .client
        .put(format!("{blob_uri}/big.txt?{query}&comp=blocklist"))
        .body(list_body)
        .send()
        .await
        .expect("answered");
    assert_eq!(committed.status(), StatusCode::CREATED);
    let big = h
        .client
        .get(format!("{blob_uri}/big.txt?{query}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(big.text().await.expect("text"), "first second");

    // A second upload copies the unchanged file from the first instead of sending it.
    let (second_uri, second_query) = pending_upload(&h, "train").await;
    let copy = h
        .client
        .put(format!("{second_uri}/src/train.py?{second_query}"))
        .header("x-ms-copy-source", format!("{blob_uri}/src/train.py"))
        .send()
        .await
        .expect("answered");
    assert_eq!(copy.status(), StatusCode::ACCEPTED);
    assert_eq!(copy.headers()["x-ms-copy-status"], "success");
    let copied = h
        .client
        .head(format!("{second_uri}/src/train.py?{second_query}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(copied.headers()["content-md5"], md5.as_str());
    assert_eq!(
        copied.headers()["x-ms-meta-sha256"],
        hex::encode(Sha256::digest(content)).as_str(),
        "the source's metadata is kept"
    );
    let metadata = h
        .client
        .put(format!(
            "{second_uri}/src/train.py?{second_query}&comp=metadata"
        ))
        .header("x-ms-meta-upload_status", "completed")
        .send()
        .await
        .expect("answered");
    assert_eq!(metadata.status(), StatusCode::OK);

    let list = h.client.get(format!("{container_uri}?{second_query}&restype=container&comp=list&prefix=LocalUpload/&include=metadata")).send().await.expect("answered");
    assert_eq!(list.status(), StatusCode::OK);
    let xml = list.text().await.expect("text");
    assert!(
        xml.starts_with("<?xml") && xml.contains("<EnumerationResults"),
        "{xml}"
    );
    assert_eq!(xml.matches("<Blob>").count(), 3, "{xml}");
    assert!(
        xml.contains("<upload_status>completed</upload_status>"),
        "{xml}"
    );
    assert!(xml.contains("/src/train.py</Name>"), "{xml}");

    let stats = h.stats().await;
    assert_eq!(stats["uploads"]["files"], 2, "{stats}");
    assert_eq!(
        stats["uploads"]["bytes"],
        content.len() + "first second".len(),
        "{stats}"
    );
    assert_eq!(stats["uploads"]["copies"], 1, "{stats}");
}

#[tokio::test]
async fn uploaded_blobs_survive_a_restart() {
    let mut h = Harness::start().await;
    h.workspace().await;
    let (blob_uri, query) = pending_upload(&h, "keep").await;
    assert_eq!(
        put_file(&h, &blob_uri, &query, "a.txt", b"kept")
            .await
            .status(),
        StatusCode::CREATED
    );
    h.restart().await;
    // The port changed: the same path on the new base URL.
    let path = &blob_uri[blob_uri.find("/_blob/").expect("blob path")..];
    let get = h
        .client
        .get(format!("{}{path}/a.txt?{query}", h.emulator().url()))
        .send()
        .await
        .expect("answered");
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.text().await.expect("text"), "kept");
}
