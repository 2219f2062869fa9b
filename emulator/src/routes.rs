//! The request pipeline and the route table. Every request first passes the edge (`edge`: head
//! limits, the whole body read under a timeout; any error answer in its family's format). Every
//! ARM request then goes through, in order: count (stats) → injected fault or latency → authenticate (401) → route (404) → authorize the
//! path's subscription (403) → `api-version` present (400) → handler, inside one database
//! transaction committed before the response is sent. The token endpoint and `/_emulator/stats`
//! are outside the ARM pipeline (no faults, not counted), and so is the blob endpoint
//! `/_blob/…` (`blobs`: SAS tokens instead of bearer tokens). `{WS}/jobs/{id}/_emulator/logs`
//! goes through the pipeline but does not need `api-version`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

use crate::arm::{ArmError, Reply, Route, method_not_allowed, now_ms};
use crate::auth;
use crate::context::{AppState, Ctx};
use crate::edge::{self, EdgeConfig};
use crate::operations;
use crate::store;
use crate::underlying::{self, UnderlyingId};
use crate::{assets, blobs, computes, jobs, workspaces};

/// The router: token endpoint, stats, blobs, and every other path through the ARM pipeline; all
/// behind the edge, which alone limits bodies.
pub(crate) fn router(state: Arc<AppState>, edge: EdgeConfig) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(auth::token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(auth::openid_configuration),
        )
        .route("/_emulator/stats", get(stats))
        .route("/_blob/{*rest}", any(blobs::handle))
        .fallback(arm)
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(edge, edge::guard))
        .with_state(state)
}

async fn stats(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let static_token = state.static_token.clone();
    let result = state
        .store
        .transact(move |tx| {
            auth::authenticate(tx, static_token.as_deref(), &headers, now_ms())?;
            store::counter(tx, "duplicate_attachments")
        })
        .await;
    match result {
        Ok(duplicates) => {
            (StatusCode::OK, axum::Json(state.stats.document(duplicates))).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn arm(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.stats.request(&method);
    if let Some(fault) = state.faults.next().await {
        state.stats.fault();
        return fault.into_response();
    }
    let ctx = Ctx::new(&state, &uri);
    let route = Route::parse(uri.path());
    let static_token = state.static_token.clone();
    let result = state
        .store
        .transact(move |tx| {
            let grant = auth::authenticate(tx, static_token.as_deref(), &headers, ctx.now)?;
            let route = route.ok_or_else(|| {
                ArmError::new(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("no ARM route matches `{}`", ctx.path),
                )
            })?;
            auth::authorize(&grant, route.subscription())?;
            let is_log = matches!(&route, Route::WorkspaceItem { rest, .. } if rest.get(1).is_some_and(|segment| segment == "_emulator"));
            if !is_log && ctx.query("api-version").is_none_or(str::is_empty) {
                return Err(ArmError::bad_request(
                    "MissingApiVersionParameter",
                    "the `api-version` query parameter is required (any version is accepted)",
                ));
            }
            dispatch(tx, &ctx, &method, route, &body)
        })
        .await;
    match result {
        Ok(reply) => reply.into_response(),
        Err(error) => error.into_response(),
    }
}

fn dispatch(
    tx: &rusqlite::Connection,
    ctx: &Ctx,
    method: &Method,
    route: Route,
    body: &[u8],
) -> Result<Reply, ArmError> {
    match route {
        Route::ResourceGroup {
            subscription,
            group,
        } => workspaces::group(tx, ctx, method, &subscription, &group, body),
        Route::WorkspacesInGroup {
            subscription,
            group,
        } => workspaces::list(tx, ctx, method, &subscription, Some(&group)),
        Route::WorkspacesInSubscription { subscription } => {
            workspaces::list(tx, ctx, method, &subscription, None)
        }
        Route::Workspace(workspace) => workspaces::workspace(tx, ctx, method, &workspace, body),
        Route::WorkspaceAction { workspace, action } => {
            workspaces::action(tx, ctx, method, &workspace, &action)
        }
        Route::Computes(workspace) => computes::list(tx, ctx, method, &workspace),
        Route::Compute { workspace, name } => {
            computes::compute(tx, ctx, method, &workspace, &name, body)
        }
        Route::ComputeAction {
            workspace,
            name,
            action,
        } => computes::action(tx, ctx, method, &workspace, &name, &action),
        Route::WorkspaceItem {
            workspace,
            collection,
            rest,
        } => match collection.as_str() {
            "codes" => assets::handle(tx, ctx, method, &assets::CODE, &workspace, &rest, body),
            "environments" => assets::handle(
                tx,
                ctx,
                method,
                &assets::ENVIRONMENT,
                &workspace,
                &rest,
                body,
            ),
            _ => jobs::handle(tx, ctx, method, &workspace, &rest, body),
        },
        Route::OperationStatus { subscription, id } => {
            only_get(method)?;
            operations::status_monitor(tx, &subscription, &id, ctx.now)
        }
        Route::OperationResult { subscription, id } => {
            only_get(method)?;
            operations::result_monitor(tx, &subscription, &id, ctx.now, |tx, key| {
                computes::render_key(tx, ctx, key)
            })
        }
        Route::Generic {
            subscription,
            group,
            provider,
            types,
            names,
        } => {
            let Some(kind) = underlying::type_of(&provider, &types) else {
                return Err(ArmError::new(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!(
                        "the emulator serves no `{provider}/{}` resources",
                        types.join("/")
                    ),
                ));
            };
            underlying::handle(
                tx,
                method,
                UnderlyingId {
                    subscription,
                    group,
                    kind,
                    names,
                },
                body,
                ctx.now,
            )
        }
    }
}

fn only_get(method: &Method) -> Result<(), ArmError> {
    if *method == Method::GET {
        Ok(())
    } else {
        Err(method_not_allowed(method))
    }
}
