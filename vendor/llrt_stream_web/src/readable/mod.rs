mod byob_reader;
mod byte_controller;
mod controller;
mod default_controller;
mod default_reader;
mod iterator;
mod objects;
mod reader;
mod stream;

pub(crate) use byob_reader::{ArrayConstructorPrimordials, ReadableStreamBYOBReader};
pub(crate) use byte_controller::{ReadableByteStreamController, ReadableStreamBYOBRequest};
pub(crate) use default_controller::ReadableStreamDefaultController;
pub(crate) use default_reader::ReadableStreamDefaultReader;
pub(crate) use iterator::IteratorPrimordials;
pub(crate) use stream::{ReadableStream, ReadableStreamClass};
