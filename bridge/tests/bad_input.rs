//! Issue 23: bad input on every route the bridge serves, each answered with a typed 4xx (JSON
//! `{"error_type", "message"}`, an OAuth `{"error"}`, or a back-office page with `id="error"`),
//! never a 5xx, and nothing stored: every row of every table of the database is the same after
//! each probe. The table has a row for every route of the router (`src/http/mod.rs`), checked
//! against its source, so a route added without a row fails here.

use std::collections::BTreeSet;

use reqwest::{Method, RequestBuilder};
use serde_json::json;

use crate::support::{self, BackOffice, TestResult, client, hubrise_signature};

/// What a probe must get.
enum Expect {
    /// A typed refusal with this 4xx status.
    Refused(u16),
    /// A 303 to this path (the back office's pages send a browser without a session to sign in).
    Redirect(&'static str),
}

struct Probe {
    what: String,
    request: RequestBuilder,
    expect: Expect,
}

/// One route: its method and path as the router names them, a concrete path, and its probes
/// (besides the one every row gets: a method the route does not serve, 405).
struct Row {
    method: &'static str,
    route: &'static str,
    path: String,
    probes: Vec<Probe>,
}

/// Every `(method, route)` the router serves, read from `src/http/mod.rs` (and the `PATH`
/// constant of a module the router names): axum's `Router` cannot list its routes, so the table
/// is checked against the code that builds it.
fn served_routes() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/");
    let read = |file: &str| std::fs::read_to_string(format!("{dir}{file}")).unwrap_or_default();
    let source = read("mod.rs");
    let router = source.split("pub fn router(").nth(1).unwrap_or_default();
    let router = router.split(".fallback(").next().unwrap_or_default();
    let literal = |text: &str| text.split('"').nth(1).unwrap_or_default().to_owned();
    let mut routes = BTreeSet::new();
    for call in router.split(".route(").skip(1) {
        let call = call.trim_start();
        let path = match call.starts_with('"') {
            true => literal(call),
            false => {
                let module = call.split("::").next().unwrap_or_default();
                let constant = read(&format!("{module}.rs"));
                literal(
                    constant
                        .split("pub const PATH: &str =")
                        .nth(1)
                        .unwrap_or_default(),
                )
            }
        };
        for method in ["get", "post", "put", "delete", "patch"] {
            let named = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                !call[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            });
            if named {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// Builds the probes of the table against one bridge: the seed's first account's POS token and
/// a back-office session of it.
struct Probes<'a> {
    url: &'a str,
    token: &'a str,
    session: &'a BackOffice,
    csrf: &'a str,
    secret: &'a str,
}

/// A body over the 64 KiB limit.
fn big() -> String {
    "x".repeat(100 * 1024)
}

fn probe(what: impl Into<String>, request: RequestBuilder, expect: Expect) -> Probe {
    Probe {
        what: what.into(),
        request,
        expect,
    }
}

impl Probes<'_> {
    fn to(&self, method: &str, path: &str) -> RequestBuilder {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        client().request(method, format!("{}{path}", self.url))
    }

    fn bearer(&self, method: &str, path: &str) -> RequestBuilder {
        self.to(method, path).bearer_auth(self.token)
    }

    fn cookie(&self, method: &str, path: &str) -> RequestBuilder {
        self.to(method, path).header("cookie", &self.session.cookie)
    }

    /// A route of the POS token: none, or one nobody issued, is 401.
    fn needs_token(&self, method: &str, path: &str) -> Vec<Probe> {
        vec![
            probe("no POS token", self.to(method, path), Expect::Refused(401)),
            probe(
                "an unknown POS token",
                self.to(method, path).bearer_auth("not-a-token"),
                Expect::Refused(401),
            ),
        ]
    }

    /// A JSON object body (with the POS token): not JSON 415, broken JSON, an array or a field
    /// of the wrong type 400, over 64 KiB 413.
    fn json_body(&self, method: &str, path: &str, field: &str) -> Vec<Probe> {
        let mut probes = self.needs_token(method, path);
        probes.extend([
            probe(
                "not JSON",
                self.bearer(method, path)
                    .header("content-type", "text/plain")
                    .body("code=x"),
                Expect::Refused(415),
            ),
            probe(
                "broken JSON",
                self.bearer(method, path)
                    .header("content-type", "application/json")
                    .body("{\"a\":"),
                Expect::Refused(400),
            ),
            probe(
                "a JSON array",
                self.bearer(method, path).json(&json!([1])),
                Expect::Refused(400),
            ),
            probe(
                format!("{field} a number"),
                self.bearer(method, path).json(&json!({ field: 5 })),
                Expect::Refused(400),
            ),
            probe(
                "over 64 KiB",
                self.bearer(method, path)
                    .header("content-type", "application/json")
                    .body(big()),
                Expect::Refused(413),
            ),
        ]);
        probes
    }

    /// A back-office form of the signed-in session: without the CSRF token or with a forged one
    /// 403, a malformed form 403, over 64 KiB 413; without a session, to the sign-in page.
    fn session_form(&self, path: &str) -> Vec<Probe> {
        vec![
            probe(
                "no CSRF token",
                self.cookie("POST", path).form(&[("confirm", "yes")]),
                Expect::Refused(403),
            ),
            probe(
                "a forged CSRF token",
                self.cookie("POST", path).form(&[("csrf", "forged")]),
                Expect::Refused(403),
            ),
            probe(
                "a malformed form",
                self.cookie("POST", path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("%zz&&==&csrf"),
                Expect::Refused(403),
            ),
            probe(
                "over 64 KiB",
                self.cookie("POST", path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(big()),
                Expect::Refused(413),
            ),
            probe(
                "no session",
                self.to("POST", path).form(&[("csrf", self.csrf)]),
                Expect::Redirect("/backoffice/sign-in"),
            ),
        ]
    }

    /// HubRise's signed posts: unsigned, a wrong or malformed signature 401; signed but not
    /// what the route reads 400; over `limit` bytes 413.
    fn signed(&self, path: &str, unreadable: &str, limit: usize) -> Vec<Probe> {
        let notice = json!({"event": "disconnect", "app_instance_id": "nobody"}).to_string();
        let post = || {
            self.to("POST", path)
                .header("content-type", "application/json")
        };
        vec![
            probe(
                "unsigned",
                post().body(notice.clone()),
                Expect::Refused(401),
            ),
            probe(
                "a wrong signature",
                post()
                    .header("X-HubRise-Hmac-SHA256", "0".repeat(64))
                    .body(notice.clone()),
                Expect::Refused(401),
            ),
            probe(
                "a signature of another body",
                post()
                    .header(
                        "X-HubRise-Hmac-SHA256",
                        hubrise_signature(self.secret, b"{}"),
                    )
                    .body(notice),
                Expect::Refused(401),
            ),
            probe(
                "a signature not in hex",
                post().header("X-HubRise-Hmac-SHA256", "zz").body("{}"),
                Expect::Refused(401),
            ),
            probe(
                "signed but unreadable",
                post()
                    .header(
                        "X-HubRise-Hmac-SHA256",
                        hubrise_signature(self.secret, unreadable.as_bytes()),
                    )
                    .body(unreadable.to_owned()),
                Expect::Refused(400),
            ),
            probe(
                format!("over {limit} bytes"),
                post().body("x".repeat(limit + 1)),
                Expect::Refused(413),
            ),
        ]
    }

    /// The row of a route of one of the account's connections (`…/{location_id}/end`): the
    /// POS token's probes, a location the account is not connected to 404, a path that is not
    /// UTF-8 400, then `more`.
    fn connection_row(
        &self,
        method: &'static str,
        route: &'static str,
        end: &str,
        more: Vec<Probe>,
    ) -> Row {
        let path = format!("/hubrise/connections/3r4s3-1/{end}");
        let mut probes = self.needs_token(method, &path);
        probes.extend(more);
        probes.extend([
            probe(
                "a location the account is not connected to",
                self.bearer(method, &path),
                Expect::Refused(404),
            ),
            probe(
                "a path that is not UTF-8",
                self.bearer(method, &format!("/hubrise/connections/%FF/{end}")),
                Expect::Refused(400),
            ),
        ]);
        self.row(method, route, Some(&path), probes)
    }

    /// The row of a JSON route of the POS token: [`Probes::json_body`], then each
    /// `(what, body, status)` of `more` posted with the token.
    fn json_row(
        &self,
        method: &'static str,
        route: &'static str,
        field: &str,
        more: Vec<(&str, serde_json::Value, u16)>,
    ) -> Row {
        let mut probes = self.json_body(method, route, field);
        probes.extend(more.into_iter().map(|(what, body, status)| {
            probe(
                what,
                self.bearer(method, route).json(&body),
                Expect::Refused(status),
            )
        }));
        self.row(method, route, None, probes)
    }

    fn row(
        &self,
        method: &'static str,
        route: &'static str,
        path: Option<&str>,
        probes: Vec<Probe>,
    ) -> Row {
        Row {
            method,
            route,
            path: path.unwrap_or(route).to_owned(),
            probes,
        }
    }

    /// The table: every route the bridge serves.
    fn table(&self) -> Vec<Row> {
        let connection = |end: &str| format!("/hubrise/connections/3r4s3-1/{end}");
        let get = |path: &str| self.to("GET", path);
        let page = |what: &str, path: &str| {
            probe(format!("{what}: 400 page"), get(path), Expect::Refused(400))
        };
        let oauth = |what: &str, form: &[(&str, &str)], status: u16| {
            probe(
                what,
                self.to("POST", "/oauth/token").form(form),
                Expect::Refused(status),
            )
        };
        let with = |mut probes: Vec<Probe>, more: Vec<Probe>| {
            probes.extend(more);
            probes
        };
        vec![
            self.row("GET", "/healthz", None, vec![]),
            self.row("GET", "/readyz", None, vec![]),
            self.row("GET", "/metrics", None, vec![]),
            self.row(
                "POST",
                "/oauth/token",
                None,
                vec![
                    oauth("unknown client", &[("client_id", "x")], 401),
                    oauth("no grant_type", &[("client_id", "passerelle-ios")], 400),
                    oauth(
                        "unknown grant",
                        &[
                            ("client_id", "passerelle-ios"),
                            ("grant_type", "client_credentials"),
                        ],
                        400,
                    ),
                    oauth(
                        "a refresh token nobody issued",
                        &[
                            ("client_id", "passerelle-ios"),
                            ("grant_type", "refresh_token"),
                            ("refresh_token", "nope"),
                        ],
                        400,
                    ),
                    probe(
                        "a malformed form",
                        self.to("POST", "/oauth/token").body("%zz&&==&client_id"),
                        Expect::Refused(401),
                    ),
                    probe(
                        "JSON, not a form",
                        self.to("POST", "/oauth/token")
                            .json(&json!({"client_id": "passerelle-ios"})),
                        Expect::Refused(401),
                    ),
                    probe(
                        "over 64 KiB",
                        self.to("POST", "/oauth/token").body(big()),
                        Expect::Refused(413),
                    ),
                ],
            ),
            self.row("GET", "/me", None, self.needs_token("GET", "/me")),
            self.json_row(
                "POST",
                "/hubrise/broker/token",
                "code",
                vec![
                    ("no code", json!({}), 400),
                    (
                        "a code HubRise never issued (or already used)",
                        json!({"code": "0123"}),
                        400,
                    ),
                ],
            ),
            self.row(
                "GET",
                "/hubrise/configuration",
                None,
                self.needs_token("GET", "/hubrise/configuration"),
            ),
            self.connection_row(
                "POST",
                "/hubrise/connections/{location_id}/revoke",
                "revoke",
                {
                    let revoke = || self.bearer("POST", &connection("revoke"));
                    vec![
                        probe("broken JSON", revoke().body("{"), Expect::Refused(400)),
                        probe(
                            "device_id a number",
                            revoke().json(&json!({"device_id": 5})),
                            Expect::Refused(400),
                        ),
                        probe("over 64 KiB", revoke().body(big()), Expect::Refused(413)),
                    ]
                },
            ),
            self.connection_row(
                "GET",
                "/hubrise/connections/{location_id}/token",
                "token",
                vec![],
            ),
            self.row(
                "POST",
                "/hubrise/disconnect-callback",
                None,
                with(
                    self.signed("/hubrise/disconnect-callback", "{", 64 * 1024),
                    vec![probe(
                        "signed without app_instance_id",
                        self.to("POST", "/hubrise/disconnect-callback")
                            .header(
                                "X-HubRise-Hmac-SHA256",
                                hubrise_signature(self.secret, b"{}"),
                            )
                            .body("{}"),
                        Expect::Refused(400),
                    )],
                ),
            ),
            self.row(
                "GET",
                "/hubrise/events",
                None,
                with(
                    self.needs_token("GET", "/hubrise/events"),
                    vec![probe(
                        "device_id given twice",
                        self.bearer("GET", "/hubrise/events?device_id=a&device_id=b"),
                        Expect::Refused(400),
                    )],
                ),
            ),
            self.json_row("POST", "/hubrise/changes", "change_id", {
                let change = json!({"change_id": "till-1:1", "device_id": "till-1",
                    "location_id": "3r4s3-1", "order_id": "o1", "status": "accepted"});
                let mut empty = change.clone();
                empty["order_id"] = json!(" ");
                vec![
                    ("fields missing", json!({"change_id": "till-1:1"}), 400),
                    ("an empty field", empty, 400),
                    ("a location the account is not connected to", change, 422),
                ]
            }),
            self.json_row(
                "PUT",
                "/hubrise/push-token",
                "device_id",
                vec![(
                    "a token not in hex",
                    json!({"device_id": "till-1", "token": "not hex"}),
                    400,
                )],
            ),
            self.row(
                "DELETE",
                "/hubrise/push-token",
                None,
                with(
                    self.needs_token("DELETE", "/hubrise/push-token?device_id=till-1"),
                    vec![
                        probe(
                            "no device_id",
                            self.bearer("DELETE", "/hubrise/push-token"),
                            Expect::Refused(400),
                        ),
                        probe(
                            "device_id given twice",
                            self.bearer("DELETE", "/hubrise/push-token?device_id=a&device_id=b"),
                            Expect::Refused(400),
                        ),
                    ],
                ),
            ),
            self.row(
                "POST",
                "/hubrise/callback",
                None,
                self.signed(
                    "/hubrise/callback",
                    "{\"resource_type\": 5}",
                    passerelle_bridge::http::EVENT_BODY_LIMIT,
                ),
            ),
            self.row(
                "GET",
                "/hubrise/connect",
                None,
                vec![
                    page("denied", "/hubrise/connect?error=access_denied"),
                    page("no code", "/hubrise/connect"),
                    page(
                        "a state no browser started",
                        "/hubrise/connect?code=abc&state=forged",
                    ),
                    probe(
                        "a state this session did not start: 400 page",
                        self.cookie("GET", "/hubrise/connect?code=abc&state=forged"),
                        Expect::Refused(400),
                    ),
                    probe(
                        "a code HubRise never issued (or already used), signed in: 400 page",
                        self.cookie("GET", "/hubrise/connect?code=0123"),
                        Expect::Refused(400),
                    ),
                ],
            ),
            self.json_row(
                "POST",
                "/hubrise/device-flows",
                "state_digest",
                vec![(
                    "a digest that is not SHA-256 hex",
                    json!({"state_digest": "zz"}),
                    400,
                )],
            ),
            self.json_row(
                "POST",
                "/hubrise/device-flows/claim",
                "state",
                vec![
                    ("no state", json!({}), 400),
                    ("a state nobody registered", json!({"state": "nope"}), 404),
                ],
            ),
            self.row(
                "GET",
                "/hubrise/device-callback",
                None,
                vec![
                    page("no state", "/hubrise/device-callback?code=x"),
                    page(
                        "code and error",
                        "/hubrise/device-callback?code=x&error=y&state=s",
                    ),
                    page("neither code nor error", "/hubrise/device-callback?state=s"),
                    page("an empty code", "/hubrise/device-callback?code=&state=s"),
                    page(
                        "a state nobody registered",
                        "/hubrise/device-callback?code=x&state=s",
                    ),
                ],
            ),
            self.row("GET", "/hubrise/device-return", None, vec![]),
            self.row("GET", "/", None, vec![]),
            self.row("GET", "/backoffice", None, vec![]),
            self.row("GET", "/backoffice/sign-in", None, vec![]),
            self.row(
                "POST",
                "/backoffice/sign-in",
                None,
                with(
                    self.session_form("/backoffice/sign-in")
                        .into_iter()
                        .filter(|p| p.what != "no session")
                        .collect(),
                    vec![probe(
                        "no session and no CSRF cookie",
                        self.to("POST", "/backoffice/sign-in").form(&[
                            ("email", "a@b.c"),
                            ("password", "x"),
                            ("csrf", self.csrf),
                        ]),
                        Expect::Refused(403),
                    )],
                ),
            ),
            self.row(
                "POST",
                "/backoffice/sign-out",
                None,
                self.session_form("/backoffice/sign-out"),
            ),
            self.row(
                "GET",
                "/backoffice/hubrise",
                None,
                vec![
                    probe(
                        "no session",
                        get("/backoffice/hubrise"),
                        Expect::Redirect("/backoffice/sign-in"),
                    ),
                    probe(
                        "a session nobody opened",
                        get("/backoffice/hubrise").header("cookie", "pos_session=forged"),
                        Expect::Redirect("/backoffice/sign-in"),
                    ),
                ],
            ),
            self.row(
                "POST",
                "/backoffice/hubrise/connect",
                None,
                self.session_form("/backoffice/hubrise/connect"),
            ),
            self.row(
                "GET",
                "/backoffice/hubrise/disconnect",
                None,
                vec![
                    probe(
                        "no session",
                        get("/backoffice/hubrise/disconnect?location_id=3r4s3-1"),
                        Expect::Redirect("/backoffice/sign-in"),
                    ),
                    probe(
                        "a location the account is not connected to",
                        self.cookie("GET", "/backoffice/hubrise/disconnect?location_id=3r4s3-1"),
                        Expect::Redirect("/backoffice/hubrise"),
                    ),
                ],
            ),
            self.row(
                "POST",
                "/backoffice/hubrise/disconnect",
                None,
                with(
                    self.session_form("/backoffice/hubrise/disconnect"),
                    vec![probe(
                        "a location the account is not connected to",
                        self.cookie("POST", "/backoffice/hubrise/disconnect")
                            .form(&[
                                ("csrf", self.csrf),
                                ("location_id", "3r4s3-1"),
                                ("confirm", "yes"),
                            ]),
                        Expect::Refused(404),
                    )],
                ),
            ),
        ]
    }
}

/// Sends `probe` and checks its answer; `Err` says what was wrong.
async fn check(probe: Probe) -> Result<(), String> {
    let response = probe.request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    match probe.expect {
        Expect::Refused(expected) if status == expected => {
            let allow = support::header(&response, "allow");
            let body = support::typed_refusal(response).await?;
            documented(expected, &body, &allow)
        }
        Expect::Redirect(to) if status == 303 && support::location(&response) == to => Ok(()),
        Expect::Refused(expected) => Err(format!("{status}, not {expected}")),
        Expect::Redirect(to) => Err(format!(
            "{status} to {:?}, not 303 to {to}",
            support::location(&response)
        )),
    }
}

/// The contract names the `error_type` of a 405 (which also says `Allow`), a 413 and a 415.
fn documented(status: u16, body: &str, allow: &str) -> Result<(), String> {
    let named = match status {
        405 if allow.is_empty() => return Err("405 without Allow".into()),
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        _ => return Ok(()),
    };
    let error_type = serde_json::from_str::<serde_json::Value>(body)
        .map(|v| v["error_type"].clone())
        .unwrap_or_default();
    match error_type == named {
        true => Ok(()),
        false => Err(format!("{status} typed {error_type}, not {named}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_every_route() -> TestResult {
    let (_dir, stack) = support::started().await?;
    let pos = stack.sandbox.seed().pos_account().clone();
    let token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let session = BackOffice::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let csrf = session.csrf("/backoffice/hubrise").await?;
    let probes = Probes {
        url: &stack.pos_url,
        token: &token,
        session: &session,
        csrf: &csrf,
        secret: &stack.sandbox.seed().client_secret,
    };
    let table = probes.table();

    let served = served_routes();
    assert!(
        served.len() >= 29,
        "the router's routes not read: {served:?}"
    );
    let listed: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.to_owned(), r.route.to_owned()))
        .collect();
    assert_eq!(listed.len(), table.len(), "a route listed twice");
    assert_eq!(
        listed, served,
        "the table and the router's routes differ: a route needs a row"
    );

    let mut before = support::stored(&stack).await?;
    let mut failures = Vec::new();
    for row in table {
        let not_served = probe(
            "a method the route does not serve",
            probes.to("PATCH", &row.path),
            Expect::Refused(405),
        );
        for probe in row.probes.into_iter().chain([not_served]) {
            let what = format!(
                "{} {} ({}): {}",
                row.method, row.route, row.path, probe.what
            );
            if let Err(why) = check(probe).await {
                failures.push(format!("{what}: {why}"));
            }
            let after = support::stored(&stack).await?;
            if after != before {
                failures.push(format!("{what}: stored something"));
                before = after;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The session the probes used is still the one signed in: nothing signed it out.
    assert_eq!(session.csrf("/backoffice/hubrise").await?, csrf);
    support::stop(stack).await
}
