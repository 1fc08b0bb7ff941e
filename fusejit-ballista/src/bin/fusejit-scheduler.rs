//! A Ballista scheduler whose plans may hold fusejit functions:
//! `fusejit-scheduler [--bind 127.0.0.1:50050]`.

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::scheduler_process::start_server;
use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bind = match &args[1..] {
        [] => "127.0.0.1:50050".to_string(),
        [flag, address] if flag == "--bind" => address.clone(),
        _ => return Err("usage: fusejit-scheduler [--bind HOST:PORT]".into()),
    };
    let address: SocketAddr = bind.parse()?;
    let config = fusejit_ballista::scheduler_config(&address.ip().to_string(), address.port());
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, address, Arc::new(config)).await?;
    Ok(())
}
