//! The `tfplugin6.Provider` service: one small method per RPC that converts the request
//! ([`crate::convert::from_proto`]), calls the engine, and converts the answer back
//! ([`crate::convert::to_proto`]). Problems with a request are diagnostics in the response,
//! never gRPC errors: Terraform shows diagnostics to the user, but a gRPC error only as
//! "plugin did not respond". RPCs of features we do not offer (ephemeral resources, list
//! resources, state stores, actions, functions) answer `Unimplemented` or empty.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::api::CloudApi as _;
use engine::schema::{Registry, ResourceSchema};
use engine::value::ObjectValue;
use tokio::sync::{RwLock, watch};
use tonic::{Request, Response, Status};

use crate::convert::{from_proto, msgpack, to_proto};
use crate::proto::tfplugin6 as proto;
use crate::proto::tfplugin6::provider_server::Provider;
use crate::refresh::RefreshCache;
use crate::settings;
use crate::target::{self, Target};
use crate::{data_sources, import, resources, validate};
use engine::settings::{ProviderSettings, SettingProblem};

type RpcResult<T> = Result<Response<T>, Status>;

/// The provider: the catalogue, and what `ConfigureProvider` set up.
pub struct AzureMlProvider {
    registry: Registry,
    data_sources: Registry,
    schema_response: proto::get_provider_schema::Response,
    working_dir: PathBuf,
    configured: RwLock<Option<Arc<Target>>>,
    /// Set by `ClientCapabilities.write_only_attributes_allowed` (Terraform >= 1.11).
    write_only_allowed: AtomicBool,
    /// Bumped by `StopProvider`; long operations watch it and give up.
    stop: watch::Sender<u64>,
    /// Listings shared by a whole refresh, cleared by every write.
    cache: RefreshCache,
}

impl std::fmt::Debug for AzureMlProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureMlProvider")
            .field("working_dir", &self.working_dir)
            .finish_non_exhaustive()
    }
}

impl AzureMlProvider {
    /// A provider over `registry`; `working_dir` is Terraform's working folder (the embedded
    /// emulator keeps its database in `.azureml/` there).
    pub fn new(registry: Registry, working_dir: PathBuf) -> AzureMlProvider {
        let data_sources = data_sources::registry(&registry);
        let schema_response = schema_response(&registry, &data_sources);
        AzureMlProvider {
            registry,
            data_sources,
            schema_response,
            working_dir,
            configured: RwLock::new(None),
            write_only_allowed: AtomicBool::new(false),
            stop: watch::channel(0).0,
            cache: RefreshCache::default(),
        }
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceSchema, proto::Diagnostic> {
        self.registry.get(type_name).ok_or_else(|| {
            to_proto::error(
                "Unsupported resource type",
                format!("The provider has no resource type `{type_name}`."),
            )
        })
    }

    fn data_source(&self, type_name: &str) -> Result<&ResourceSchema, proto::Diagnostic> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unsupported_data_source(type_name))
    }

    fn note_capabilities(&self, capabilities: Option<&proto::ClientCapabilities>) {
        if from_proto::write_only_allowed(capabilities) {
            self.write_only_allowed.store(true, Ordering::Relaxed);
        }
    }
}

fn server_capabilities() -> proto::ServerCapabilities {
    // No plan_destroy: deletes are planned by Terraform without asking us (as in 6.0).
    proto::ServerCapabilities::default()
}

fn schema_response(
    registry: &Registry,
    data_sources: &Registry,
) -> proto::get_provider_schema::Response {
    proto::get_provider_schema::Response {
        provider: Some(settings::schema()),
        resource_schemas: registry
            .iter()
            .map(|schema| (schema.type_name.clone(), to_proto::schema(schema)))
            .collect(),
        data_source_schemas: data_sources
            .iter()
            .map(|schema| (schema.type_name.clone(), to_proto::schema(schema)))
            .collect(),
        server_capabilities: Some(server_capabilities()),
        ..Default::default()
    }
}

fn decode_error(what: &str, error: impl std::fmt::Display) -> proto::Diagnostic {
    to_proto::error(
        "Invalid value from Terraform",
        format!("Failed to decode the {what}: {error}."),
    )
}

#[tonic::async_trait]
impl Provider for AzureMlProvider {
    async fn get_metadata(
        &self,
        _request: Request<proto::get_metadata::Request>,
    ) -> RpcResult<proto::get_metadata::Response> {
        Ok(Response::new(proto::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            resources: self
                .registry
                .iter()
                .map(|schema| proto::get_metadata::ResourceMetadata {
                    type_name: schema.type_name.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|schema| proto::get_metadata::DataSourceMetadata {
                    type_name: schema.type_name.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<proto::get_provider_schema::Request>,
    ) -> RpcResult<proto::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<proto::get_resource_identity_schemas::Request>,
    ) -> RpcResult<proto::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            proto::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn get_functions(
        &self,
        _request: Request<proto::get_functions::Request>,
    ) -> RpcResult<proto::get_functions::Response> {
        Ok(Response::new(proto::get_functions::Response::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<proto::validate_provider_config::Request>,
    ) -> RpcResult<proto::validate_provider_config::Response> {
        let request = request.into_inner();
        let diagnostics = match provider_config(request.config.as_ref()) {
            Ok(config) => engine::settings::validate(&config)
                .into_iter()
                .map(setting_diagnostic)
                .collect(),
            Err(diagnostic) => vec![diagnostic],
        };
        Ok(Response::new(proto::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<proto::validate_resource_config::Request>,
    ) -> RpcResult<proto::validate_resource_config::Response> {
        let request = request.into_inner();
        self.note_capabilities(request.client_capabilities.as_ref());
        let diagnostics = match self.resource(&request.type_name) {
            Err(diagnostic) => vec![diagnostic],
            Ok(schema) => match from_proto::object(request.config.as_ref(), &schema.attributes) {
                Ok(Some(config)) => {
                    to_proto::diagnostics(&validate::resource_config(schema, &config))
                }
                Ok(None) => Vec::new(),
                Err(error) => vec![decode_error("resource configuration", error)],
            },
        };
        Ok(Response::new(proto::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<proto::validate_data_resource_config::Request>,
    ) -> RpcResult<proto::validate_data_resource_config::Response> {
        let request = request.into_inner();
        let diagnostics = match self.data_source(&request.type_name) {
            Err(diagnostic) => vec![diagnostic],
            Ok(schema) => match from_proto::object(request.config.as_ref(), &schema.attributes) {
                Ok(Some(config)) => {
                    to_proto::diagnostics(&validate::resource_config(schema, &config))
                }
                Ok(None) => Vec::new(),
                Err(error) => vec![decode_error("data source configuration", error)],
            },
        };
        Ok(Response::new(
            proto::validate_data_resource_config::Response { diagnostics },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<proto::upgrade_resource_state::Request>,
    ) -> RpcResult<proto::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let mut response = proto::upgrade_resource_state::Response::default();
        // Terraform >= 1.11 refuses write-only values here (they may linger in state written by an
        // older Terraform); it announced itself in ConfigureProvider, which comes first.
        let write_only = self.write_only_allowed.load(Ordering::Relaxed);
        match upgrade_state(self.resource(&request.type_name), &request, write_only) {
            Ok(upgraded) => response.upgraded_state = Some(upgraded),
            Err(diagnostic) => response.diagnostics.push(diagnostic),
        }
        Ok(Response::new(response))
    }

    async fn configure_provider(
        &self,
        request: Request<proto::configure_provider::Request>,
    ) -> RpcResult<proto::configure_provider::Response> {
        let request = request.into_inner();
        self.note_capabilities(request.client_capabilities.as_ref());
        tracing::info!("configuring for terraform {}", request.terraform_version);
        let settings = match provider_config(request.config.as_ref()).and_then(|config| {
            engine::settings::resolve(&config, |name| std::env::var(name).ok())
                .map_err(problems_diagnostic)
        }) {
            Ok(settings) => settings,
            Err(diagnostic) => return Ok(Response::new(configure_failed(diagnostic))),
        };
        match self.connect(settings).await {
            Ok(target) => {
                tracing::info!("target: {}", target.describe());
                *self.configured.write().await = Some(Arc::new(target));
                Ok(Response::new(proto::configure_provider::Response::default()))
            }
            Err(diagnostic) => Ok(Response::new(configure_failed(diagnostic))),
        }
    }

    async fn stop_provider(
        &self,
        _request: Request<proto::stop_provider::Request>,
    ) -> RpcResult<proto::stop_provider::Response> {
        tracing::info!("stop requested: cancelling in-flight operations");
        self.stop.send_modify(|generation| *generation += 1);
        Ok(Response::new(proto::stop_provider::Response {
            error: String::new(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<proto::read_resource::Request>,
    ) -> RpcResult<proto::read_resource::Response> {
        let request = request.into_inner();
        self.note_capabilities(request.client_capabilities.as_ref());
        let mut response = proto::read_resource::Response {
            private: request.private.clone(),
            ..Default::default()
        };
        match self.read(&request).await {
            Ok(state) => response.new_state = Some(state),
            Err(diagnostic) => {
                response.new_state = request.current_state;
                response.diagnostics.push(diagnostic);
            }
        }
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<proto::plan_resource_change::Request>,
    ) -> RpcResult<proto::plan_resource_change::Response> {
        let request = request.into_inner();
        self.note_capabilities(request.client_capabilities.as_ref());
        let mut response = proto::plan_resource_change::Response {
            planned_private: crate::runs::without_marker(&request.prior_private),
            ..Default::default()
        };
        match self.plan(&request) {
            Ok((planned, requires_replace, diagnostics, prior_is_null)) => {
                let replacing = !requires_replace.is_empty()
                    || (prior_is_null && crate::runs::is_marker(&request.prior_private));
                if replacing && self.keeps_replaced(&request.type_name) {
                    // Carried by Terraform to the removal half of this replacement (see
                    // `crate::runs`): the old object is kept there.
                    response.planned_private = crate::runs::REPLACING.to_vec();
                }
                response.planned_state = Some(planned);
                response.requires_replace = requires_replace;
                response.diagnostics = diagnostics;
            }
            Err(diagnostics) => response.diagnostics = diagnostics,
        }
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<proto::apply_resource_change::Request>,
    ) -> RpcResult<proto::apply_resource_change::Response> {
        let request = request.into_inner();
        let mut response = proto::apply_resource_change::Response {
            private: crate::runs::without_marker(&request.planned_private),
            ..Default::default()
        };
        let (state, diagnostics) = self.apply(&request).await;
        response.new_state = state;
        response.diagnostics = diagnostics;
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<proto::import_resource_state::Request>,
    ) -> RpcResult<proto::import_resource_state::Response> {
        let request = request.into_inner();
        self.note_capabilities(request.client_capabilities.as_ref());
        let mut response = proto::import_resource_state::Response::default();
        let imported = self.resource(&request.type_name).and_then(|schema| {
            let skeleton = import::skeleton(schema, &request.id)
                .map_err(|error| to_proto::error("Invalid import id", format!("{error}.")))?;
            to_proto::dynamic_value(Some(&skeleton), &schema.attributes, false)
                .map_err(|error| to_proto::error("Invalid import id", format!("{error}.")))
        });
        match imported {
            // Terraform reads the object next (ReadResource) to fill in the skeleton.
            Ok(state) => {
                response
                    .imported_resources
                    .push(proto::import_resource_state::ImportedResource {
                        type_name: request.type_name,
                        state: Some(state),
                        ..Default::default()
                    })
            }
            Err(diagnostic) => response.diagnostics.push(diagnostic),
        }
        Ok(Response::new(response))
    }

    async fn read_data_source(
        &self,
        request: Request<proto::read_data_source::Request>,
    ) -> RpcResult<proto::read_data_source::Response> {
        let request = request.into_inner();
        self.note_capabilities(request.client_capabilities.as_ref());
        let mut response = proto::read_data_source::Response::default();
        match self.read_data(&request).await {
            Ok(state) => response.state = Some(state),
            Err(diagnostic) => response.diagnostics.push(diagnostic),
        }
        Ok(Response::new(response))
    }
}

impl AzureMlProvider {
    async fn connect(&self, settings: ProviderSettings) -> Result<Target, proto::Diagnostic> {
        target::connect(settings, &self.working_dir)
            .await
            .map_err(|error| {
                to_proto::error("Failed to configure the provider", error_chain(&error))
            })
    }

    /// The target set by `ConfigureProvider`, or the diagnostic Terraform should show.
    pub async fn target(&self) -> Result<Arc<Target>, proto::Diagnostic> {
        self.configured.read().await.clone().ok_or_else(|| {
            to_proto::error(
                "Provider not configured",
                "ConfigureProvider must succeed before resources are read or changed.",
            )
        })
    }
}

use crate::resources::display_name;

fn api_error(summary: String, error: &dyn std::error::Error) -> proto::Diagnostic {
    // The service's code and message verbatim, with the call that failed.
    to_proto::error(&summary, engine::diag::error_chain(error))
}

fn encode_error(error: impl std::fmt::Display) -> proto::Diagnostic {
    to_proto::error(
        "Invalid value from the provider",
        format!("Failed to encode the object: {error}."),
    )
}

impl AzureMlProvider {
    fn write_only(&self) -> bool {
        self.write_only_allowed.load(Ordering::Relaxed)
    }

    fn encode(
        &self,
        schema: &ResourceSchema,
        object: Option<&ObjectValue>,
    ) -> Result<proto::DynamicValue, proto::Diagnostic> {
        to_proto::dynamic_value(object, &schema.attributes, self.write_only()).map_err(encode_error)
    }

    fn decode(
        schema: &ResourceSchema,
        value: Option<&proto::DynamicValue>,
        what: &str,
    ) -> Result<Option<ObjectValue>, proto::Diagnostic> {
        from_proto::object(value, &schema.attributes).map_err(|error| decode_error(what, error))
    }

    /// `ReadResource`: the object from its parent's cached listing, or null when it is gone.
    async fn read(
        &self,
        request: &proto::read_resource::Request,
    ) -> Result<proto::DynamicValue, proto::Diagnostic> {
        let schema = self.resource(&request.type_name)?;
        let Some(current) = Self::decode(schema, request.current_state.as_ref(), "current state")?
        else {
            return self.encode(schema, None);
        };
        let target = self.target().await?;
        let read = resources::read(
            &target.client,
            &self.cache,
            &self.registry,
            schema,
            &current,
        )
        .await
        .map_err(|error| {
            api_error(
                format!("Failed to read {}", display_name(schema, Some(&current))),
                &error,
            )
        })?;
        if read.is_none() {
            tracing::info!(
                "{} no longer exists; terraform will plan to create it again",
                display_name(schema, Some(&current))
            );
        }
        self.encode(schema, read.as_ref())
    }

    /// `PlanResourceChange`: the planned object, the paths that force a replacement, warnings,
    /// and whether there was no prior object; or the errors.
    #[allow(clippy::type_complexity)]
    fn plan(
        &self,
        request: &proto::plan_resource_change::Request,
    ) -> Result<
        (
            proto::DynamicValue,
            Vec<proto::AttributePath>,
            Vec<proto::Diagnostic>,
            bool,
        ),
        Vec<proto::Diagnostic>,
    > {
        let schema = self.resource(&request.type_name).map_err(|d| vec![d])?;
        let prior = Self::decode(schema, request.prior_state.as_ref(), "prior state")
            .map_err(|d| vec![d])?;
        let proposed = Self::decode(
            schema,
            request.proposed_new_state.as_ref(),
            "proposed state",
        )
        .map_err(|d| vec![d])?;
        let config =
            Self::decode(schema, request.config.as_ref(), "configuration").map_err(|d| vec![d])?;
        let (Some(_), Some(config)) = (proposed, config) else {
            // A destroy: Terraform plans it itself.
            return Ok((
                self.encode(schema, None).map_err(|d| vec![d])?,
                Vec::new(),
                Vec::new(),
                prior.is_none(),
            ));
        };
        let planned = resources::plan(
            schema,
            prior.as_ref(),
            &config,
            self.write_only(),
            &self.working_dir,
        );
        let diagnostics = to_proto::diagnostics(&planned.diagnostics);
        if planned.diagnostics.has_errors() {
            return Err(diagnostics);
        }
        tracing::debug!(
            "{}: {:?}",
            display_name(schema, Some(&config)),
            planned.change.action
        );
        let requires_replace = planned
            .requires_replace
            .iter()
            .map(to_proto::attribute_path)
            .collect();
        Ok((
            self.encode(schema, Some(&planned.planned))
                .map_err(|d| vec![d])?,
            requires_replace,
            diagnostics,
            prior.is_none(),
        ))
    }

    fn keeps_replaced(&self, type_name: &str) -> bool {
        self.registry
            .get(type_name)
            .is_some_and(ResourceSchema::keeps_replaced)
    }

    /// `ApplyResourceChange`: the new state (null after a removal, the prior state when an
    /// update or removal failed) and diagnostics.
    async fn apply(
        &self,
        request: &proto::apply_resource_change::Request,
    ) -> (Option<proto::DynamicValue>, Vec<proto::Diagnostic>) {
        let schema = match self.resource(&request.type_name) {
            Ok(schema) => schema,
            Err(diagnostic) => return (request.prior_state.clone(), vec![diagnostic]),
        };
        let decoded =
            Self::decode(schema, request.prior_state.as_ref(), "prior state").and_then(|prior| {
                let planned =
                    Self::decode(schema, request.planned_state.as_ref(), "planned state")?;
                let config = Self::decode(schema, request.config.as_ref(), "configuration")?;
                Ok((prior, planned, config))
            });
        let (prior, planned, config) = match decoded {
            Ok(decoded) => decoded,
            Err(diagnostic) => return (request.prior_state.clone(), vec![diagnostic]),
        };
        let target = match self.target().await {
            Ok(target) => target,
            Err(diagnostic) => return (request.prior_state.clone(), vec![diagnostic]),
        };
        let context = resources::ApplyContext {
            target: &target,
            registry: &self.registry,
            working_dir: &self.working_dir,
            stop: self.stop.subscribe(),
        };
        let result = resources::apply(
            &context,
            resources::ApplyRequest {
                schema,
                prior: prior.as_ref(),
                planned: planned.as_ref(),
                config: config.as_ref(),
                replaced: crate::runs::is_marker(&request.planned_private),
            },
        )
        .await;
        self.cache.invalidate();
        let (state, failure) = match result {
            Ok(state) => (state, None),
            // What the failure left (a submitted run) is the new state; otherwise a failed create
            // leaves nothing and a failed update or removal the prior object.
            Err(failure) => match failure.object.clone() {
                Some(object) => (Some(object), Some(failure)),
                None if prior.is_some() => {
                    let diagnostic = to_proto::error(&failure.summary, failure.detail);
                    return (request.prior_state.clone(), vec![diagnostic]);
                }
                None => (None, Some(failure)),
            },
        };
        let diagnostics = failure
            .map(|failure| vec![to_proto::error(&failure.summary, failure.detail)])
            .unwrap_or_default();
        match self.encode(schema, state.as_ref()) {
            Ok(state) => (Some(state), diagnostics),
            Err(diagnostic) => (request.prior_state.clone(), vec![diagnostic]),
        }
    }

    /// `ReadDataSource`: the object named by its name and parent; an error when there is none.
    async fn read_data(
        &self,
        request: &proto::read_data_source::Request,
    ) -> Result<proto::DynamicValue, proto::Diagnostic> {
        let data_schema = self.data_source(&request.type_name)?;
        let schema = self.resource(&request.type_name)?;
        let config = Self::decode(
            data_schema,
            request.config.as_ref(),
            "data source configuration",
        )?
        .ok_or_else(|| decode_error("data source configuration", "it is null"))?;
        let target = self.target().await?;
        let summary = || format!("Failed to read {}", display_name(schema, Some(&config)));
        let id = engine::api::resource_id(
            schema,
            &config,
            target.client.config().subscription_id.as_deref(),
        )
        .map_err(|error| api_error(summary(), &error))?;
        let found = target
            .client
            .read(schema, id.as_str())
            .await
            .map_err(|error| api_error(summary(), &error))?
            .ok_or_else(|| {
                to_proto::error(
                    &format!("{} not found", display_name(schema, Some(&config))),
                    format!("There is no `{}`.", id.as_str()),
                )
            })?;
        let mut state = resources::conform(&data_schema.attributes, &found);
        for name in [&schema.api.name_attribute, &schema.api.parent_attribute] {
            state.set(name, config.get(name).clone());
        }
        to_proto::dynamic_value(Some(&state), &data_schema.attributes, false).map_err(encode_error)
    }
}

/// Decodes the provider block.
fn provider_config(
    value: Option<&proto::DynamicValue>,
) -> Result<std::collections::BTreeMap<String, engine::value::Value>, proto::Diagnostic> {
    let Some(value) = value.filter(|value| !value.msgpack.is_empty()) else {
        return Ok(Default::default());
    };
    match msgpack::decode(&value.msgpack, &settings::config_type()) {
        Ok(engine::value::Value::Map(entries)) => Ok(entries),
        Ok(_) => Ok(Default::default()),
        Err(error) => Err(decode_error("provider configuration", error)),
    }
}

fn upgrade_state(
    schema: Result<&ResourceSchema, proto::Diagnostic>,
    request: &proto::upgrade_resource_state::Request,
    write_only_allowed: bool,
) -> Result<proto::DynamicValue, proto::Diagnostic> {
    let schema = schema?;
    if u64::try_from(request.version).map_or(true, |version| version > schema.version) {
        return Err(to_proto::error(
            "Resource instance managed by newer provider version",
            format!(
                "The state of this `{}` was written with schema version {}, but this provider knows version {}. \
                 Upgrade terraform-provider-azureml.",
                schema.type_name, request.version, schema.version
            ),
        ));
    }
    // Version 0 is the only version so far: upgrading is decoding with the current schema.
    let state =
        from_proto::raw_state(request.raw_state.as_ref(), &schema.attributes).map_err(|error| {
            to_proto::error(
                "Invalid resource state upgrade",
                format!("Failed to read the stored state: {error}."),
            )
        })?;
    to_proto::dynamic_value(state.as_ref(), &schema.attributes, write_only_allowed).map_err(
        |error| {
            to_proto::error(
                "Invalid resource state upgrade",
                format!("Failed to encode the state: {error}."),
            )
        },
    )
}

fn setting_diagnostic(problem: SettingProblem) -> proto::Diagnostic {
    let mut diagnostic = to_proto::error(&problem.summary, problem.detail);
    diagnostic.attribute = Some(to_proto::attribute_path(&engine::addr::AttrPath::attr(
        problem.name,
    )));
    diagnostic
}

fn problems_diagnostic(problems: Vec<SettingProblem>) -> proto::Diagnostic {
    // resolve() only fails with at least one problem; report the first with its path and
    // the rest in its detail.
    let mut problems = problems.into_iter();
    let Some(first) = problems.next() else {
        return to_proto::error(
            "Invalid provider configuration",
            "The provider block is invalid.",
        );
    };
    let mut diagnostic = setting_diagnostic(first);
    for other in problems {
        diagnostic
            .detail
            .push_str(&format!("\n{}: {}", other.summary, other.detail));
    }
    diagnostic
}

fn configure_failed(diagnostic: proto::Diagnostic) -> proto::configure_provider::Response {
    proto::configure_provider::Response {
        diagnostics: vec![diagnostic],
    }
}

fn unsupported_data_source(type_name: &str) -> proto::Diagnostic {
    to_proto::error(
        "Unsupported data source",
        format!("The provider has no data source `{type_name}`."),
    )
}

/// An error and its causes on one line each, for diagnostic details.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("\nCaused by: {cause}"));
        source = cause.source();
    }
    text
}
