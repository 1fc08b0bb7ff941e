//! Ballista with fusejit: the codecs that carry fusejit functions from a client through the
//! scheduler to every executor, and the client, scheduler and executor configurations that
//! install them. Executors compile each program from its text in the plan: nothing is
//! registered on their side.
//!
//! A client registers programs as usual and sends its queries to the cluster:
//!
//! ```no_run
//! # async fn example() -> datafusion::common::Result<()> {
//! use ballista::prelude::SessionContextExt;
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::remote_with_state("df://scheduler:50050", fusejit_ballista::client_state()).await?;
//! let ctx = fusejit_datafusion::with_fusejit(ctx);
//! fusejit_datafusion::register_program(&ctx, "ann_ret", "dlog(px, 1) * 252")?;
//! ctx.sql("SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) FROM ticks").await?.show().await?;
//! # Ok(()) }
//! ```
//!
//! The scheduler and the executors run with [`scheduler_config`] and [`executor_config`]
//! (the binaries `fusejit-scheduler` and `fusejit-executor` of this crate do just that).

#![warn(missing_docs)]

use ballista::prelude::SessionConfigExt;
use ballista_core::serde::{BallistaCodec, BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use ballista_executor::executor_process::ExecutorProcessConfig;
use ballista_scheduler::config::SchedulerConfig;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use fusejit_datafusion::{FusejitLogicalCodec, FusejitPhysicalCodec};
use std::sync::Arc;

/// Ballista's logical codec with fusejit's functions carried by their program text.
pub fn logical_codec() -> Arc<dyn LogicalExtensionCodec> {
    Arc::new(FusejitLogicalCodec::new(Arc::new(BallistaLogicalExtensionCodec::default())))
}

/// Ballista's physical codec with fusejit's functions carried by their program text.
pub fn physical_codec() -> Arc<dyn PhysicalExtensionCodec> {
    Arc::new(FusejitPhysicalCodec::new(Arc::new(BallistaPhysicalExtensionCodec::default())))
}

/// Both codecs, as Ballista's scheduler and executor take them.
pub fn codec() -> BallistaCodec {
    BallistaCodec::new(logical_codec(), physical_codec())
}

/// A Ballista session configuration whose plans carry fusejit functions.
pub fn session_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(logical_codec())
        .with_ballista_physical_extension_codec(physical_codec())
}

/// A client session state with [`session_config`], for `SessionContext::remote_with_state`.
pub fn client_state() -> SessionState {
    SessionStateBuilder::new().with_config(session_config()).with_default_features().build()
}

/// A scheduler configuration listening on `bind_host:bind_port` that decodes fusejit
/// functions.
pub fn scheduler_config(bind_host: &str, bind_port: u16) -> SchedulerConfig {
    let mut config =
        SchedulerConfig { bind_host: bind_host.to_string(), bind_port, ..SchedulerConfig::default() };
    config.override_logical_codec = Some(logical_codec());
    config.override_physical_codec = Some(physical_codec());
    config
}

/// An executor configuration that registers with the scheduler at
/// `scheduler_host:scheduler_port`, serves on `bind_host:port` (Flight) and `grpc_port`,
/// and decodes fusejit functions.
pub fn executor_config(
    bind_host: &str,
    port: u16,
    grpc_port: u16,
    scheduler_host: &str,
    scheduler_port: u16,
) -> ExecutorProcessConfig {
    ExecutorProcessConfig {
        bind_host: bind_host.to_string(),
        external_host: Some(bind_host.to_string()),
        port,
        grpc_port,
        scheduler_host: scheduler_host.to_string(),
        scheduler_port,
        override_logical_codec: Some(logical_codec()),
        override_physical_codec: Some(physical_codec()),
        ..ExecutorProcessConfig::default()
    }
}
