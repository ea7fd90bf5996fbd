//! Writes the fuzz targets' seed corpora from the sandbox's real payloads: callback URLs from the
//! consent pages, token and error bodies from the token endpoint, orders and event pages from the
//! API, and the amounts they carry.
//!
//! Usage: passerelle-fuzz-seeds <fuzz/corpus directory>

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
use passerelle_sandbox::{Sandbox, SandboxOptions, seed};
use serde_json::Value;

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: passerelle-fuzz-seeds <fuzz/corpus directory>");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(write_seeds(&dir)) {
        Ok(count) => {
            println!("wrote {count} seeds under {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("fuzz seeds: {err}");
            ExitCode::FAILURE
        }
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) -> Res<()> {
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        self.count += 1;
        Ok(())
    }
}

async fn write_seeds(dir: &Path) -> Res<usize> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut seeds = Seeds {
        dir: dir.to_path_buf(),
        count: 0,
    };
    let sandbox = Sandbox::start(SandboxOptions::default()).await?;
    let s = sandbox.seed();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let choice = ConsentChoice::for_user(s.user()).location(&s.location().id);

    // Callback URLs: an approval and a refusal, as HubRise redirects the browser.
    let authorize = |state: &str| {
        format!(
            "{}/authorize?client_id={}&redirect_uri={}&scope={}&state={state}",
            sandbox.hubrise_oauth_url(),
            s.client_id,
            seed::APP_REDIRECT_URI,
            url::form_urlencoded::byte_serialize(s.scope.as_bytes()).collect::<String>()
        )
    };
    let approved = consent::approve(&authorize("s1"), &choice).await?;
    seeds.write("callback_url", "approved", approved.as_bytes())?;
    let denied = consent::deny(&authorize("s2"), &choice).await?;
    seeds.write("callback_url", "denied", denied.as_bytes())?;

    // Token bodies: a success, a reused code (400) and bad client credentials (401).
    let code = consent::code_from_redirect(&approved).ok_or("no code")?;
    let token_url = format!("{}/token", sandbox.hubrise_oauth_url());
    let exchange = |secret: &str| {
        http.post(&token_url)
            .basic_auth(&s.client_id, Some(secret.to_owned()))
            .form(&[("code", code.as_str())])
    };
    let token_body = exchange(&s.client_secret).send().await?.bytes().await?;
    seeds.write("token_response", "success", &token_body)?;
    seeds.write(
        "token_response",
        "reused_code",
        &exchange(&s.client_secret).send().await?.bytes().await?,
    )?;
    seeds.write(
        "token_response",
        "bad_client",
        &exchange("wrong").send().await?.bytes().await?,
    )?;
    let token: Value = serde_json::from_slice(&token_body)?;
    let access = token["access_token"].as_str().ok_or("no token")?.to_owned();

    // Orders and an event page, as the API serves them.
    let api = |path: &str| {
        http.get(format!("{}{path}", sandbox.hubrise_api_url()))
            .header("X-Access-Token", &access)
    };
    http.post(format!("{}/callback", sandbox.hubrise_api_url()))
        .header("X-Access-Token", &access)
        .json(&serde_json::json!({"url": null, "events": {"order": ["create", "update"]}}))
        .send()
        .await?;
    let admin = sandbox.admin();
    let order_id = admin
        .place_order(&s.location().id, seed::sample_order("Marie"))
        .await?;
    admin
        .update_order_as_other_app(
            &s.location().id,
            &order_id,
            serde_json::json!({"status": "cancelled"}),
        )
        .await?;
    let order = api(&format!("/location/orders/{order_id}"))
        .send()
        .await?
        .bytes()
        .await?;
    seeds.write("order_json", "order", &order)?;
    seeds.write(
        "event_page",
        "events",
        &api("/callback/events").send().await?.bytes().await?,
    )?;
    seeds.write(
        "order_json",
        "not_found",
        &api("/location/orders/nope").send().await?.bytes().await?,
    )?;

    // Every amount the order carries.
    let order: Value = serde_json::from_slice(&order)?;
    let mut amounts = Vec::new();
    collect_amounts(&order, &mut amounts);
    for (n, amount) in amounts.iter().enumerate() {
        seeds.write("money", &format!("amount-{n}"), amount.as_bytes())?;
    }
    Ok(seeds.count)
}

fn collect_amounts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if passerelle_core::Money::parse(s).is_ok() => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_amounts(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_amounts(v, out)),
        _ => {}
    }
}
