//! The LLM client against the scripted server: each provider's request shape and
//! streaming, retries and their limits, timeouts, cancellation, and key redaction.

#[path = "support/llm_server.rs"]
mod llm_server;

use std::time::{Duration, Instant};

use ctxls::config::{LlmConfig, ModelSettings, ProviderKind, Task};
use ctxls::io::llm::{LlmClient, LlmError};
use ctxls::llm::{FinishReason, Message, Prompt, Request};
use llm_server::{Reply, ScriptedServer};

const KEY: &str = "sk-test-0123456789abcdef";

fn settings(server: &ScriptedServer, provider: ProviderKind, model: &str) -> ModelSettings {
    let base = match provider {
        ProviderKind::OpenAi => format!("{}/v1", server.url()),
        _ => server.url(),
    };
    let config = LlmConfig {
        provider,
        base_url: Some(base),
        model: model.to_string(),
        timeout_first_token_ms: 2_000,
        timeout_total_ms: 5_000,
        retries: 2,
        ..LlmConfig::default()
    };
    config.for_task(Task::Completion)
}

fn fim() -> Request {
    Request { prompt: Prompt::Fim { prefix: "fn add(a: i32, b: i32) -> i32 {\n    ".into(), suffix: "\n}\n".into(), repo: None }, max_tokens: 32, temperature: 0.0, stop: vec![] }
}

fn chat() -> Request {
    Request { prompt: Prompt::Chat(vec![Message::system("be brief"), Message::user("what is 1+1?")]), max_tokens: 32, temperature: 0.0, stop: vec![] }
}

async fn run(client: &LlmClient, request: &Request) -> (Result<ctxls::io::llm::Completion, LlmError>, Vec<String>) {
    let mut pieces = Vec::new();
    let result = client.complete(request, &mut |p: &str| pieces.push(p.to_string())).await;
    (result, pieces)
}

#[tokio::test]
async fn ollama_streams_fim_and_chat() {
    let server = ScriptedServer::start().await;
    server.push(Reply::ollama(&["a ", "+ b"], false));
    server.push(Reply::ollama(&["2"], true));
    let client = LlmClient::new(settings(&server, ProviderKind::Ollama, "qwen2.5-coder:1.5b"), None);
    let (result, pieces) = run(&client, &fim()).await;
    let completion = result.unwrap();
    assert_eq!(completion.text, "a + b");
    assert_eq!(pieces, ["a ", "+ b"], "streamed as it arrived");
    assert_eq!(completion.finish, FinishReason::Stop);
    let (result, _) = run(&client, &chat()).await;
    assert_eq!(result.unwrap().text, "2");
    let requests = server.requests();
    assert_eq!(requests[0].path, "/api/generate");
    assert_eq!(requests[0].json()["suffix"], "\n}\n");
    assert_eq!(requests[0].json()["stream"], true);
    assert_eq!(requests[0].header("authorization"), None, "no key, no header");
    assert_eq!(requests[1].path, "/api/chat");
    assert_eq!(requests[1].json()["messages"][0]["role"], "system");
}

#[tokio::test]
async fn openai_compatible_streams_with_and_without_a_key() {
    let server = ScriptedServer::start().await;
    server.push(Reply::openai(&["a", " + b"], false));
    server.push(Reply::openai(&["two"], true));
    let keyless = LlmClient::new(settings(&server, ProviderKind::OpenAi, "qwen2.5-coder-1.5b"), None);
    let (result, _) = run(&keyless, &fim()).await;
    assert_eq!(result.unwrap().text, "a + b");
    let keyed = LlmClient::new(settings(&server, ProviderKind::OpenAi, "gpt-4o-mini"), Some(KEY.to_string()));
    let (result, pieces) = run(&keyed, &chat()).await;
    assert_eq!(result.unwrap().text, "two");
    assert_eq!(pieces, ["two"]);
    let requests = server.requests();
    assert_eq!(requests[0].path, "/v1/completions");
    assert!(requests[0].json()["prompt"].as_str().unwrap().starts_with("<|fim_prefix|>"), "qwen template rendered");
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(requests[1].path, "/v1/chat/completions");
    assert_eq!(requests[1].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(server.tokenize_calls(), 1, "a server that cannot tell (404 on /tokenize) keeps the template");
}

#[tokio::test]
async fn a_template_chosen_from_the_model_name_needs_the_models_own_tokens() {
    // A llama.cpp server whose model (SmolLM2, say) has no FIM tokens, served under a name
    // with "qwen" in it: the Qwen sentinels would reach the model as text.
    let foreign = ScriptedServer::start().await;
    foreign.special_tokens(&["<|endoftext|>", "<|im_start|>"]);
    foreign.fallback(Reply::openai(&["a + b"], false));
    let client = LlmClient::new(settings(&foreign, ProviderKind::OpenAi, "qwen-but-not-really"), None);
    for _ in 0..2 {
        assert_eq!(run(&client, &fim()).await.0.unwrap().text, "a + b");
    }
    assert_eq!(foreign.tokenize_calls(), 1, "asked once per server and model");
    for request in foreign.requests() {
        let body = request.json();
        assert_eq!(body["prompt"], "fn add(a: i32, b: i32) -> i32 {\n    ", "no template: the prefix alone");
        assert_eq!(body["suffix"], "\n}\n", "the suffix in the server's own field");
        assert!(body["stop"].as_array().unwrap().iter().any(|s| s == "\n\n\n"), "the default stops: {body}");
    }

    // The model that has them gets its template.
    let own = ScriptedServer::start().await;
    own.special_tokens(&["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"]);
    own.push(Reply::openai(&["a + b"], false));
    let client = LlmClient::new(settings(&own, ProviderKind::OpenAi, "qwen2.5-coder-0.5b"), None);
    run(&client, &fim()).await.0.unwrap();
    assert!(own.requests()[0].json()["prompt"].as_str().unwrap().starts_with("<|fim_prefix|>"));

    // A template the user named is the user's decision: sent without asking.
    let named = ScriptedServer::start().await;
    named.special_tokens(&["<|endoftext|>"]);
    named.push(Reply::openai(&["a + b"], false));
    let mut explicit = settings(&named, ProviderKind::OpenAi, "my-model");
    explicit.fim = Some("qwen".to_string());
    run(&LlmClient::new(explicit, None), &fim()).await.0.unwrap();
    assert!(named.requests()[0].json()["prompt"].as_str().unwrap().starts_with("<|fim_prefix|>"));
    assert_eq!(named.tokenize_calls(), 0);
}

#[tokio::test]
async fn anthropic_streams_messages() {
    let server = ScriptedServer::start().await;
    server.push(Reply::anthropic(&["Two", "."]));
    let client = LlmClient::new(settings(&server, ProviderKind::Anthropic, "claude-test"), Some(KEY.to_string()));
    let (result, pieces) = run(&client, &chat()).await;
    assert_eq!(result.unwrap().text, "Two.");
    assert_eq!(pieces, ["Two", "."]);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.json()["system"], "be brief");
    assert_eq!(request.json()["max_tokens"], 32);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = ScriptedServer::start().await;
    server.push(Reply::status(500, "{\"error\":\"boom\"}"));
    server.push(Reply::status(503, "overloaded"));
    server.push(Reply::ollama(&["ok"], false));
    let client = LlmClient::new(settings(&server, ProviderKind::Ollama, "m"), None);
    let (result, _) = run(&client, &fim()).await;
    assert_eq!(result.unwrap().text, "ok");
    assert_eq!(server.requests().len(), 3);

    // Retries are bounded.
    server.fallback(Reply::status(500, "{\"error\":{\"message\":\"still broken\"}}"));
    let (result, _) = run(&client, &fim()).await;
    match result {
        Err(LlmError::Status { status: 500, message, .. }) => assert_eq!(message, "still broken"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 3 + 3, "one attempt and two retries");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = ScriptedServer::start().await;
    server.push(Reply::status(429, "{\"error\":\"slow down\"}").header("retry-after", "1"));
    server.push(Reply::ollama(&["ok"], false));
    let client = LlmClient::new(settings(&server, ProviderKind::Ollama, "m"), None);
    let started = Instant::now();
    let (result, _) = run(&client, &fim()).await;
    assert_eq!(result.unwrap().text, "ok");
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
}

#[tokio::test]
async fn no_retry_after_the_first_token() {
    let server = ScriptedServer::start().await;
    server.push(Reply::openai(&["partial", " more"], true).cut_after(1));
    server.fallback(Reply::openai(&["should not be asked"], true));
    let client = LlmClient::new(settings(&server, ProviderKind::OpenAi, "m"), None);
    let (result, pieces) = run(&client, &chat()).await;
    assert!(matches!(result, Err(LlmError::Cut { partial: 7, .. })), "{result:?}");
    assert_eq!(pieces, ["partial"]);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn malformed_items_are_skipped() {
    let server = ScriptedServer::start().await;
    server.push(Reply::ollama(&["a", "b"], false).insert_raw(1, "{not json\n"));
    let client = LlmClient::new(settings(&server, ProviderKind::Ollama, "m"), None);
    let (result, _) = run(&client, &fim()).await;
    assert_eq!(result.unwrap().text, "ab");
}

#[tokio::test]
async fn first_token_and_total_timeouts() {
    let server = ScriptedServer::start().await;
    let mut slow = settings(&server, ProviderKind::Ollama, "m");
    slow.timeout_first_token_ms = 300;
    slow.timeout_total_ms = 1_000;
    slow.retries = 0;
    server.push(Reply::ollama(&["late"], false).delay_first(Duration::from_secs(3)));
    let client = LlmClient::new(slow.clone(), None);
    let started = Instant::now();
    let (result, _) = run(&client, &fim()).await;
    assert!(matches!(result, Err(LlmError::FirstTokenTimeout { ms: 300, .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // A model that never stops (10 s of pieces): the total timeout holds. The first-token
    // limit is the total one here, so that a loaded machine's late first piece cannot
    // end it first.
    let endless: Vec<&str> = vec!["x"; 100];
    server.push(Reply::ollama(&endless, false).delay_each(Duration::from_millis(100)));
    let client = LlmClient::new(ModelSettings { timeout_first_token_ms: 1_000, ..slow }, None);
    let started = Instant::now();
    let (result, pieces) = run(&client, &fim()).await;
    assert!(matches!(result, Err(LlmError::TotalTimeout { ms: 1_000, .. })), "{result:?}");
    assert!(!pieces.is_empty());
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A total limit shorter than the first-token limit stops a silent model: the error names
/// the total limit, not the first-token one that never fired.
#[tokio::test]
async fn a_silent_model_stopped_by_the_total_limit_is_reported_as_such() {
    let server = ScriptedServer::start().await;
    let mut settings = settings(&server, ProviderKind::Ollama, "m");
    settings.timeout_first_token_ms = 10_000;
    settings.timeout_total_ms = 400;
    settings.retries = 0;
    server.push(Reply::ollama(&["late"], false).delay_first(Duration::from_secs(3)));
    let client = LlmClient::new(settings, None);
    let started = Instant::now();
    let (result, pieces) = run(&client, &fim()).await;
    assert!(started.elapsed() < Duration::from_millis(1_500), "stopped by the 400 ms limit: {:?}", started.elapsed());
    assert!(pieces.is_empty());
    let err = result.expect_err("the model said nothing in time");
    assert!(matches!(err, LlmError::TotalTimeout { ms: 400, partial: 0, .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("400 ms (total timeout)") && !message.contains("first-token") && !message.contains("10000"), "{message}");
}

#[tokio::test]
async fn dropping_the_request_closes_the_connection() {
    let server = ScriptedServer::start().await;
    server.push(Reply::ollama(&["a", "b", "c"], false).delay_each(Duration::from_millis(400)));
    let client = LlmClient::new(settings(&server, ProviderKind::Ollama, "m"), None);
    let request = fim();
    let future = run(&client, &request);
    // Cancel after the request is under way.
    let cancelled = tokio::time::timeout(Duration::from_millis(200), future).await;
    assert!(cancelled.is_err());
    for _ in 0..40 {
        if server.hangups() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.hangups(), 1, "the server saw the connection dropped");
}

#[tokio::test]
async fn unreachable_endpoints_and_bad_keys_are_explained() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = LlmConfig { base_url: Some(format!("http://127.0.0.1:{port}")), retries: 1, ..LlmConfig::default() };
    let client = LlmClient::new(config.for_task(Task::Completion), None);
    let (result, _) = run(&client, &fim()).await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("not reachable"), "{message}");
    assert!(message.contains("ollama pull qwen2.5-coder:1.5b"), "{message}");

    let server = ScriptedServer::start().await;
    server.push(Reply::status(401, &format!("{{\"error\":{{\"message\":\"invalid key {KEY}\"}}}}")));
    let client = LlmClient::new(settings(&server, ProviderKind::OpenAi, "m"), Some(KEY.to_string()));
    let (result, _) = run(&client, &chat()).await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("check the API key"), "{message}");
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
    assert!(!message.contains(KEY), "the key never appears: {message}");
    let dry = client.dry_run(&chat());
    assert!(dry.contains("authorization: <redacted>") && !dry.contains(KEY), "{dry}");
}

#[tokio::test]
async fn dns_tls_forbidden_and_429_storms_are_explained_and_bounded() {
    // A host name that does not resolve (`.invalid` never does).
    let config = LlmConfig { provider: ProviderKind::OpenAi, base_url: Some("http://ctxls-test.invalid/v1".into()), retries: 0, ..LlmConfig::default() };
    let client = LlmClient::new(config.for_task(Task::Chat), None);
    let message = run(&client, &chat()).await.0.unwrap_err().to_string();
    assert!(message.contains("is not reachable"), "{message}");
    assert!(message.contains("ctxls-test.invalid"), "the host is named: {message}");

    // TLS spoken to a server that answers plain HTTP: a handshake failure, reported.
    let server = ScriptedServer::start().await;
    let tls_url = server.url().replace("http://", "https://");
    let config = LlmConfig { provider: ProviderKind::OpenAi, base_url: Some(format!("{tls_url}/v1")), retries: 0, ..LlmConfig::default() };
    let client = LlmClient::new(config.for_task(Task::Chat), None);
    let message = run(&client, &chat()).await.0.unwrap_err().to_string();
    assert!(message.contains("is not reachable"), "{message}");

    // 403: about the key, never the key itself.
    server.push(Reply::status(403, "{\"error\":{\"message\":\"forbidden for this project\"}}"));
    let client = LlmClient::new(settings(&server, ProviderKind::OpenAi, "m"), Some(KEY.to_string()));
    let message = run(&client, &chat()).await.0.unwrap_err().to_string();
    assert!(message.contains("HTTP 403") && message.contains("check the API key"), "{message}");
    assert!(!message.contains(KEY));

    // A storm of 429s: retried as configured (2), then one clear error; no more requests.
    let before = server.requests().len();
    server.fallback(Reply::status(429, "{\"error\":{\"message\":\"rate limited\"}}").header("retry-after", "0"));
    let started = std::time::Instant::now();
    let message = run(&client, &chat()).await.0.unwrap_err().to_string();
    assert!(message.contains("HTTP 429"), "{message}");
    assert_eq!(server.requests().len() - before, 3, "one try and two retries");
    assert!(started.elapsed() < Duration::from_secs(10), "bounded: {:?}", started.elapsed());
}

#[tokio::test]
async fn model_lists() {
    let server = ScriptedServer::start().await;
    server.push(Reply::status(200, "{\"models\":[{\"name\":\"qwen2.5-coder:1.5b\"}]}"));
    server.push(Reply::status(200, "{\"data\":[{\"id\":\"gpt-4o-mini\"}]}"));
    let ollama = LlmClient::new(settings(&server, ProviderKind::Ollama, "m"), None);
    assert_eq!(ollama.list_models().await.unwrap(), ["qwen2.5-coder:1.5b"]);
    let openai = LlmClient::new(settings(&server, ProviderKind::OpenAi, "m"), None);
    assert_eq!(openai.list_models().await.unwrap(), ["gpt-4o-mini"]);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/api/tags", "/v1/models"]);
}

mod embeddings {
    use super::*;
    use ctxls::config::EmbeddingConfig;
    use ctxls::io::llm::{Embedder, ProviderEmbedder};

    fn embedder(server: &ScriptedServer, provider: ProviderKind) -> ProviderEmbedder {
        let base = if provider == ProviderKind::OpenAi { format!("{}/v1", server.url()) } else { server.url() };
        let config = EmbeddingConfig { provider: Some(provider), base_url: Some(base), ..EmbeddingConfig::default() };
        ProviderEmbedder::new(config.provider_settings(&LlmConfig::default()).unwrap(), None).unwrap()
    }

    #[tokio::test]
    async fn ollama_and_openai_embeddings() {
        let server = ScriptedServer::start().await;
        server.push(Reply::status(200, "{\"model\":\"m\",\"embeddings\":[[0.1,0.2],[0.3,0.4]]}"));
        server.push(Reply::status(200, "{\"data\":[{\"index\":1,\"embedding\":[1.0,0.0]},{\"index\":0,\"embedding\":[0.0,1.0]}]}"));
        let texts = vec!["fn a() {}".to_string(), "fn b() {}".to_string()];
        let ollama = embedder(&server, ProviderKind::Ollama);
        assert_eq!(ollama.space(), "ollama:nomic-embed-text");
        assert_eq!(ollama.embed(&texts).await.unwrap(), vec![vec![0.1, 0.2], vec![0.3, 0.4]]);
        let openai = embedder(&server, ProviderKind::OpenAi);
        assert_eq!(openai.embed(&texts).await.unwrap(), vec![vec![0.0, 1.0], vec![1.0, 0.0]], "ordered by index");
        let requests = server.requests();
        assert_eq!(requests[0].path, "/api/embed");
        assert_eq!(requests[0].json()["input"][1], "fn b() {}");
        assert_eq!(requests[1].path, "/v1/embeddings");
        assert_eq!(requests[1].json()["model"], "text-embedding-3-small");
    }

    #[tokio::test]
    async fn malformed_and_unsupported() {
        let server = ScriptedServer::start().await;
        server.push(Reply::status(200, "{\"embeddings\":[[0.1],[0.2,0.3]]}"));
        let ollama = embedder(&server, ProviderKind::Ollama);
        let err = ollama.embed(&["a".to_string(), "b".to_string()]).await.unwrap_err();
        assert!(err.to_string().contains("malformed"), "{err}");
        let config = EmbeddingConfig { provider: Some(ProviderKind::Anthropic), ..EmbeddingConfig::default() };
        let refused = ProviderEmbedder::new(config.provider_settings(&LlmConfig::default()).unwrap(), None);
        assert!(refused.err().unwrap().contains("no embeddings API"));
    }
}

#[tokio::test]
async fn requests_in_flight_are_bounded() {
    let server = ScriptedServer::start().await;
    server.fallback(Reply::ollama(&["x"], false).delay_first(Duration::from_millis(300)));
    let mut bounded = settings(&server, ProviderKind::Ollama, "m");
    bounded.max_in_flight = 1;
    // Permits are per provider and base URL: this server's port is this test's own.
    let a = LlmClient::new(bounded.clone(), None);
    let b = LlmClient::new(bounded, None);
    let started = Instant::now();
    let request = fim();
    let (mut sink_a, mut sink_b) = (|_: &str| {}, |_: &str| {});
    let (ra, rb) = tokio::join!(a.complete(&request, &mut sink_a), b.complete(&request, &mut sink_b));
    assert!(ra.is_ok() && rb.is_ok(), "{ra:?} {rb:?}");
    // One after the other: about twice the server's delay.
    assert!(started.elapsed() >= Duration::from_millis(580), "{:?}", started.elapsed());
}
