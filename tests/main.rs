//! Integration tests: real `kiln` processes on 127.0.0.1 ports, driven over real sockets.

mod cluster_util;
#[path = "../node/src/fuzz_mutator.rs"]
mod fuzz_mutator;
mod linearizability;
mod util;

mod test_assets;
mod test_chaos;
mod test_chat_browser;
mod test_cluster;
mod test_compose;
mod test_content_coding;
mod test_d1;
mod test_deployments;
mod test_dev_server;
mod test_dispatch;
mod test_durable_objects;
mod test_dynamic_facets;
mod test_facets;
mod test_fetch_streams;
mod test_fuzz_inputs;
mod test_kv;
mod test_loader;
mod test_partition;
mod test_platform_example;
mod test_power_loss;
mod test_queues;
mod test_r2;
mod test_rpc_targets;
mod test_services;
mod test_sockets;
mod test_sql_storage;
mod test_tail;
mod test_websockets;
mod test_workflows;
