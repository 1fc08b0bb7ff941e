//! A Ballista executor that runs fusejit functions, compiling each from the program text in
//! its plan: `fusejit-executor [--bind 127.0.0.1] [--port 50051] [--grpc-port 50052]
//! [--scheduler 127.0.0.1:50050]`.

use ballista_executor::executor_process::start_executor_process;
use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (mut bind, mut port, mut grpc_port, mut scheduler) =
        ("127.0.0.1".to_string(), 50051u16, 50052u16, "127.0.0.1:50050".to_string());
    let usage = "usage: fusejit-executor [--bind HOST] [--port P] [--grpc-port P] [--scheduler HOST:PORT]";
    for pair in args[1..].chunks(2) {
        match pair {
            [flag, value] if flag == "--bind" => bind = value.clone(),
            [flag, value] if flag == "--port" => port = value.parse()?,
            [flag, value] if flag == "--grpc-port" => grpc_port = value.parse()?,
            [flag, value] if flag == "--scheduler" => scheduler = value.clone(),
            _ => return Err(usage.into()),
        }
    }
    let scheduler: SocketAddr = scheduler.parse()?;
    let config = fusejit_ballista::executor_config(
        &bind,
        port,
        grpc_port,
        &scheduler.ip().to_string(),
        scheduler.port(),
    );
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
