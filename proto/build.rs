//! Compiles `proto/kiln/*.proto` with protox (pure Rust), so a build needs no system `protoc`;
//! gRPC clients and servers come from tonic.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/kiln/storage.proto", "proto/kiln/cluster.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
