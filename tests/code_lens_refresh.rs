//! The requirement lenses of a document an editor asked for before the server read it:
//! VS Code asks for code lenses as it opens a document, the answer can come before the
//! document's requirements are known, and it asks again only when told to
//! (`workspace/codeLens/refresh`), as the real-VS-Code suite showed.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{LspClient, TempWorkspace};

#[test]
fn requirements_found_refresh_the_lenses() {
    let ws = TempWorkspace::new("//- /src/lib.rs\n// AI: return the point at the origin\npub fn origin() {}\n");
    let root = ws.root();
    let mut client = LspClient::start(ws.cache.path());
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": support::uri(&root), "capabilities": {"workspace": {"codeLens": {"refreshSupport": true}}, "window": {"workDoneProgress": true}}}),
    );
    client.notify("initialized", json!({}));
    client.wait_indexed();
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    client.wait_for(Duration::from_secs(20), |m| m["method"] == "workspace/codeLens/refresh");
    let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": lib}}));
    assert_eq!(lenses["result"][0]["command"]["title"], "ctxls: Generate", "{lenses}");
    client.shutdown();
}

#[test]
fn no_refresh_for_a_client_that_cannot() {
    let ws = TempWorkspace::new("//- /src/lib.rs\n// AI: return the point at the origin\npub fn origin() {}\n");
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    client.open_file(&root, "src/lib.rs", "rust");
    client.wait_for(Duration::from_secs(20), |m| m["method"] == "textDocument/publishDiagnostics");
    assert!(client.wait_for_optional(Duration::from_secs(1), |m| m["method"] == "workspace/codeLens/refresh").is_none());
    client.shutdown();
}
