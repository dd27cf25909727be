# The kiln binary in a small image. Both base images are arguments, so an image can be built
# from local images without pulling anything:
#   docker build --build-arg BUILD_IMAGE=rust:1.95-bookworm --build-arg RUN_IMAGE=debian:bookworm-slim -t kiln .
ARG BUILD_IMAGE=rust:1.95-bookworm
ARG RUN_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p kiln && cp target/release/kiln /usr/local/bin/kiln

FROM ${RUN_IMAGE}
COPY --from=build /usr/local/bin/kiln /usr/local/bin/kiln
COPY examples /app/examples
EXPOSE 8787 7001
ENTRYPOINT ["kiln"]
