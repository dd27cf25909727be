//! `HTMLRewriter` on lol_html, Cloudflare's own streaming HTML rewriter.
//!
//! `transform(response)` (in `31_html_rewriter.js`) makes one [`Rewriter`] and pumps the body
//! through it a chunk at a time: each `write` returns the output lol_html produced so far, so the
//! transformed body streams. lol_html calls its content handlers synchronously from inside
//! `write`; each handler here calls back into JavaScript (a `dispatch` function passed to that
//! `write`), which builds the `Element`/`Text`/`Comment`/... object, runs the worker's handler
//! and returns the mutations it asked for, which are then applied to the lol_html token before
//! the handler returns. So mutations land exactly as if the handler had made them on the token.
//!
//! A handler that returns a promise is awaited by running the isolate's microtasks until it
//! settles. One that waits on I/O or a timer cannot be awaited from inside lol_html's
//! synchronous callback: the rewriter stops calling handlers, `write` returns the output made
//! before that handler was called together with the promise, and JavaScript awaits it, then
//! replays the input so far through a new rewriter in which every handler already run gives
//! back its recorded mutations (lol_html is deterministic for the same input chunks), skipping
//! the output already sent. Each handler runs once; an async handler costs one replay.
//!
//! Selector syntax and errors are lol_html's: an unsupported selector throws a `TypeError` with
//! lol_html's message from `on()`. lol_html's memory for one transform is bounded by
//! [`HTML_REWRITER_MEMORY_BYTES_MAX`].

use std::cell::RefCell;
use std::ptr::NonNull;
use std::rc::Rc;

use lol_html::html_content::{
    Comment, ContentType, Doctype, DocumentEnd, Element, EndTag, TextChunk,
};
use lol_html::{
    AsciiCompatibleEncoding, DocumentContentHandlers, ElementContentHandlers, HandlerResult,
    HtmlRewriter, MemorySettings, OutputSink, Selector, Settings,
};
use rquickjs::class::Trace;
use rquickjs::prelude::Func;
use rquickjs::{
    Array, Class, Ctx, Exception, Function, IntoJs, JsLifetime, Object, Persistent, Promise,
    Result, TypedArray, Value,
};

use crate::limits::HTML_REWRITER_MEMORY_BYTES_MAX;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    Class::<Rewriter>::define(&ops.clone())?;
    ops.set(
        "op_html_rewriter_check_selector",
        Func::from(op_html_rewriter_check_selector),
    )?;
    ops.set("op_html_rewriter_new", Func::from(op_html_rewriter_new))?;
    Ok(())
}

/// What JavaScript's `dispatch(kind, ...)` is asked to run. The numbers are shared with
/// `31_html_rewriter.js`.
mod kind {
    pub const ELEMENT: u32 = 0;
    pub const COMMENTS: u32 = 1;
    pub const TEXT: u32 = 2;
    pub const DOCTYPE: u32 = 3;
    pub const DOCUMENT_COMMENTS: u32 = 4;
    pub const DOCUMENT_TEXT: u32 = 5;
    pub const DOCUMENT_END: u32 = 6;
    pub const END_TAG: u32 = 7;
}

/// Which handlers a selector's (or a document's) handler object has, as JavaScript passes them.
mod has {
    pub const ELEMENT: u32 = 1;
    pub const COMMENTS: u32 = 2;
    pub const TEXT: u32 = 4;
    pub const DOCTYPE: u32 = 8;
    pub const END: u32 = 16;
}

/// What a handler returned that Rust rethrows in place of lol_html's error.
#[derive(Debug)]
struct HandlerThrew;

impl std::fmt::Display for HandlerThrew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a content handler threw")
    }
}

impl std::error::Error for HandlerThrew {}

/// The isolate while a `write` or `end` is running: what lol_html's callbacks call back into.
struct Armed {
    ctx: NonNull<rquickjs::qjs::JSContext>,
    dispatch: Persistent<Function<'static>>,
}

/// The way from lol_html's callbacks back into JavaScript, shared by every callback of one
/// rewriter.
///
/// lol_html wants end-tag handlers to be `'static`, so no callback can borrow the `Ctx` of the
/// `write` that drives it. Instead `write` arms the bridge with its context for exactly as long
/// as it runs, and a callback re-enters that context through [`Bridge::with_ctx`]; outside a
/// `write`/`end` the bridge is disarmed and callbacks fail instead of touching JavaScript.
#[derive(Default)]
struct Bridge {
    armed: RefCell<Option<Armed>>,
    /// The value a JavaScript handler threw, which `write` rethrows.
    thrown: RefCell<Option<Persistent<Value<'static>>>>,
    /// A handler's promise that waits on I/O or a timer, and how much output there was when it
    /// was called. From then on this rewriter calls no handler; `write` hands the promise to
    /// JavaScript, which awaits it and replays the input through a new rewriter.
    suspended: RefCell<Option<(Persistent<Promise<'static>>, usize)>>,
    /// The rewriter's output so far (its sink's buffer).
    output: Rc<RefCell<Vec<u8>>>,
}

/// Disarms the bridge when the `write` or `end` that armed it returns, however it returns.
struct ArmGuard<'a>(&'a Bridge);

impl Drop for ArmGuard<'_> {
    fn drop(&mut self) {
        self.0.armed.replace(None);
    }
}

type Ops<'js> = Array<'js>;

impl Bridge {
    fn arm<'a, 'js>(&'a self, ctx: &Ctx<'js>, dispatch: Function<'js>) -> ArmGuard<'a> {
        self.thrown.replace(None);
        self.armed.replace(Some(Armed {
            ctx: ctx.as_raw(),
            dispatch: Persistent::save(ctx, dispatch),
        }));
        ArmGuard(self)
    }

    /// Runs `f` in the context of the `write` (or `end`) in progress.
    fn with_ctx<R>(
        &self,
        f: impl for<'js> FnOnce(Ctx<'js>, Function<'js>) -> std::result::Result<R, String>,
    ) -> std::result::Result<R, Box<dyn std::error::Error + Send + Sync>> {
        let (raw, dispatch) = {
            let armed = self.armed.borrow();
            let Some(armed) = armed.as_ref() else {
                return Err("an HTMLRewriter content handler ran outside of a write".into());
            };
            (armed.ctx, armed.dispatch.clone())
        };
        // SAFETY: the bridge is armed only while `Rewriter::write` or `Rewriter::end` runs on
        // this thread, called from JavaScript with this very context: the context is alive and
        // its runtime is locked by that call for as long as lol_html (and so this callback)
        // runs. The `Ctx` made here lives only inside `f`, which cannot let it escape (it is
        // generic over `'js`).
        let ctx = unsafe { Ctx::from_raw(raw) };
        let dispatch = dispatch.restore(&ctx).map_err(|err| err.to_string())?;
        f(ctx, dispatch).map_err(Into::into)
    }

    /// Calls `dispatch(kind, args...)`, waits for the mutations it returns and applies them.
    fn run(
        self: &Rc<Self>,
        call: impl for<'js> FnOnce(&Ctx<'js>, &Function<'js>) -> Result<Value<'js>>,
        apply: impl for<'js> FnOnce(&Rc<Bridge>, &Ctx<'js>, Ops<'js>) -> Result<()>,
    ) -> HandlerResult {
        if self.suspended.borrow().is_some() {
            return Ok(());
        }
        let threw = self.with_ctx(|ctx, dispatch| {
            let outcome = call(&ctx, &dispatch).and_then(|value| match settle(&ctx, value)? {
                Settled::Ops(ops) => apply(self, &ctx, ops),
                Settled::Pending(promise) => {
                    let at = self.output.borrow().len();
                    self.suspended
                        .replace(Some((Persistent::save(&ctx, promise), at)));
                    Ok(())
                }
            });
            match outcome {
                Ok(()) => Ok(false),
                Err(rquickjs::Error::Exception) => {
                    let thrown = ctx.catch();
                    self.thrown.replace(Some(Persistent::save(&ctx, thrown)));
                    Ok(true)
                }
                Err(err) => Err(err.to_string()),
            }
        })?;
        if threw {
            return Err(Box::new(HandlerThrew));
        }
        Ok(())
    }
}

/// What a handler gave back: its mutations, or a promise of them that waits on I/O or a timer.
enum Settled<'js> {
    Ops(Ops<'js>),
    Pending(Promise<'js>),
}

/// The mutations a handler returned, once its promise (if it returned one) settled by running
/// the isolate's microtasks; a promise that needs more than that is handed back pending.
fn settle<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Result<Settled<'js>> {
    let Some(promise) = value.as_promise() else {
        return value.get().map(Settled::Ops);
    };
    let _ = ctx;
    match promise.finish::<Ops<'js>>() {
        Err(rquickjs::Error::WouldBlock) => Ok(Settled::Pending(promise.clone())),
        other => other.map(Settled::Ops),
    }
}

/// Throws lol_html's complaint about a mutation as a `TypeError`.
fn type_error(ctx: &Ctx<'_>, err: impl std::fmt::Display) -> rquickjs::Error {
    Exception::throw_type(ctx, &err.to_string())
}

fn content_type(html: Option<bool>) -> ContentType {
    if html.unwrap_or(false) {
        ContentType::Html
    } else {
        ContentType::Text
    }
}

fn ops_of<'a, 'js>(ops: &'a Ops<'js>) -> impl Iterator<Item = Result<(String, Array<'js>)>> + 'a {
    ops.iter::<Array<'js>>().map(|op| {
        let op = op?;
        let name: String = op.get(0)?;
        Ok((name, op))
    })
}

fn text_arg(op: &Array<'_>, index: usize) -> Result<String> {
    Ok(op.get::<Option<String>>(index)?.unwrap_or_default())
}

fn html_arg(op: &Array<'_>, index: usize) -> Result<ContentType> {
    Ok(content_type(op.get::<Option<bool>>(index)?))
}

fn apply_element<'js>(
    bridge: &Rc<Bridge>,
    ctx: &Ctx<'js>,
    ops: Ops<'js>,
    el: &mut Element<'_, '_>,
) -> Result<()> {
    for op in ops_of(&ops) {
        let (name, op) = op?;
        match name.as_str() {
            "tagName" => el
                .set_tag_name(&text_arg(&op, 1)?)
                .map_err(|err| type_error(ctx, err))?,
            "setAttribute" => el
                .set_attribute(&text_arg(&op, 1)?, &text_arg(&op, 2)?)
                .map_err(|err| type_error(ctx, err))?,
            "removeAttribute" => el.remove_attribute(&text_arg(&op, 1)?),
            "before" => el.before(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "after" => el.after(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "prepend" => el.prepend(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "append" => el.append(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "replace" => el.replace(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "setInnerContent" => el.set_inner_content(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "remove" => el.remove(),
            "removeAndKeepContent" => el.remove_and_keep_content(),
            "onEndTag" => {
                let id: u32 = op.get(1)?;
                let bridge = Rc::clone(bridge);
                el.on_end_tag(Box::new(move |end: &mut EndTag<'_>| {
                    bridge.end_tag(id, end)
                }))
                .map_err(|err| type_error(ctx, err))?;
            }
            other => return Err(type_error(ctx, format!("unknown element mutation {other}"))),
        }
    }
    Ok(())
}

fn apply_end_tag<'js>(ctx: &Ctx<'js>, ops: Ops<'js>, end: &mut EndTag<'_>) -> Result<()> {
    for op in ops_of(&ops) {
        let (name, op) = op?;
        match name.as_str() {
            "name" => end.set_name(text_arg(&op, 1)?),
            "before" => end.before(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "after" => end.after(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "replace" => end.replace(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "remove" => end.remove(),
            other => return Err(type_error(ctx, format!("unknown end tag mutation {other}"))),
        }
    }
    Ok(())
}

fn apply_text<'js>(ctx: &Ctx<'js>, ops: Ops<'js>, chunk: &mut TextChunk<'_>) -> Result<()> {
    for op in ops_of(&ops) {
        let (name, op) = op?;
        match name.as_str() {
            "before" => chunk.before(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "after" => chunk.after(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "replace" => chunk.replace(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "remove" => chunk.remove(),
            other => return Err(type_error(ctx, format!("unknown text mutation {other}"))),
        }
    }
    Ok(())
}

fn apply_comment<'js>(ctx: &Ctx<'js>, ops: Ops<'js>, comment: &mut Comment<'_>) -> Result<()> {
    for op in ops_of(&ops) {
        let (name, op) = op?;
        match name.as_str() {
            "text" => comment
                .set_text(&text_arg(&op, 1)?)
                .map_err(|err| type_error(ctx, err))?,
            "before" => comment.before(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "after" => comment.after(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "replace" => comment.replace(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            "remove" => comment.remove(),
            other => return Err(type_error(ctx, format!("unknown comment mutation {other}"))),
        }
    }
    Ok(())
}

fn apply_doctype<'js>(ctx: &Ctx<'js>, ops: Ops<'js>, doctype: &mut Doctype<'_>) -> Result<()> {
    for op in ops_of(&ops) {
        let (name, _) = op?;
        match name.as_str() {
            "remove" => doctype.remove(),
            other => return Err(type_error(ctx, format!("unknown doctype mutation {other}"))),
        }
    }
    Ok(())
}

fn apply_end<'js>(ctx: &Ctx<'js>, ops: Ops<'js>, end: &mut DocumentEnd<'_>) -> Result<()> {
    for op in ops_of(&ops) {
        let (name, op) = op?;
        match name.as_str() {
            "append" => end.append(&text_arg(&op, 1)?, html_arg(&op, 2)?),
            other => {
                return Err(type_error(
                    ctx,
                    format!("unknown document end mutation {other}"),
                ))
            }
        }
    }
    Ok(())
}

/// A text chunk's flags for JavaScript: bit 0 `lastInTextNode`, bit 1 `removed`.
fn text_flags(chunk: &TextChunk<'_>) -> u32 {
    u32::from(chunk.last_in_text_node()) | (u32::from(chunk.removed()) << 1)
}

impl Bridge {
    fn element(self: &Rc<Self>, index: u32, el: &mut Element<'_, '_>) -> HandlerResult {
        let tag = el.tag_name();
        let mut attributes = Vec::with_capacity(el.attributes().len() * 2);
        for attribute in el.attributes() {
            attributes.push(attribute.name());
            attributes.push(attribute.value());
        }
        // Bit 0 `removed`, bit 1 `canHaveContent`, bit 2 `selfClosing`.
        let flags = u32::from(el.removed())
            | (u32::from(el.can_have_content()) << 1)
            | (u32::from(el.is_self_closing()) << 2);
        let namespace = el.namespace_uri();
        self.run(
            |_, dispatch| dispatch.call((kind::ELEMENT, index, tag, attributes, flags, namespace)),
            |bridge, ctx, ops| apply_element(bridge, ctx, ops, el),
        )
    }

    fn end_tag(self: &Rc<Self>, id: u32, end: &mut EndTag<'_>) -> HandlerResult {
        let name = end.name();
        self.run(
            |_, dispatch| dispatch.call((kind::END_TAG, id, name)),
            |_, ctx, ops| apply_end_tag(ctx, ops, end),
        )
    }

    fn text(self: &Rc<Self>, which: u32, index: u32, chunk: &mut TextChunk<'_>) -> HandlerResult {
        let text = chunk.as_str().to_owned();
        let flags = text_flags(chunk);
        self.run(
            |_, dispatch| dispatch.call((which, index, text, flags)),
            |_, ctx, ops| apply_text(ctx, ops, chunk),
        )
    }

    fn comment(
        self: &Rc<Self>,
        which: u32,
        index: u32,
        comment: &mut Comment<'_>,
    ) -> HandlerResult {
        let text = comment.text();
        let removed = comment.removed();
        self.run(
            |_, dispatch| dispatch.call((which, index, text, removed)),
            |_, ctx, ops| apply_comment(ctx, ops, comment),
        )
    }

    fn doctype(self: &Rc<Self>, index: u32, doctype: &mut Doctype<'_>) -> HandlerResult {
        let (name, public_id, system_id) =
            (doctype.name(), doctype.public_id(), doctype.system_id());
        self.run(
            |_, dispatch| dispatch.call((kind::DOCTYPE, index, name, public_id, system_id)),
            |_, ctx, ops| apply_doctype(ctx, ops, doctype),
        )
    }

    fn end(self: &Rc<Self>, index: u32, end: &mut DocumentEnd<'_>) -> HandlerResult {
        self.run(
            |_, dispatch| dispatch.call((kind::DOCUMENT_END, index)),
            |_, ctx, ops| apply_end(ctx, ops, end),
        )
    }
}

/// Where lol_html writes the transformed document, until `write` hands it to JavaScript.
struct Sink(Rc<RefCell<Vec<u8>>>);

impl OutputSink for Sink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.borrow_mut().extend_from_slice(chunk);
    }
}

/// Output handed to JavaScript as a `Uint8Array` in memory QuickJS allocated: the transformed
/// body enqueues it into a byte stream, which transfers (detaches) its buffer, and QuickJS hands
/// a detached buffer made from a Rust `Vec` back to Rust's free function as a null pointer.
pub struct Output(Vec<u8>);

impl<'js> rquickjs::IntoJs<'js> for Output {
    fn into_js(self, ctx: &Ctx<'js>) -> Result<Value<'js>> {
        Ok(TypedArray::<u8>::new_copy(ctx.clone(), &self.0)?.into_value())
    }
}

/// One transform in progress.
#[derive(Trace, JsLifetime)]
#[rquickjs::class(rename = "KilnHtmlRewriter")]
pub struct Rewriter {
    #[qjs(skip_trace)]
    inner: RefCell<Option<HtmlRewriter<'static, Sink>>>,
    #[qjs(skip_trace)]
    bridge: Rc<Bridge>,
    #[qjs(skip_trace)]
    output: Rc<RefCell<Vec<u8>>>,
}

impl Rewriter {
    /// Runs `step` on the lol_html rewriter with the bridge armed, and returns the output it
    /// produced. A failed step ends the rewriter (lol_html cannot go on after an error) and
    /// throws what the handler threw, or lol_html's error as a `TypeError`.
    fn step<'js>(
        &self,
        ctx: &Ctx<'js>,
        dispatch: Function<'js>,
        last: bool,
        step: impl FnOnce(
            &mut Option<HtmlRewriter<'static, Sink>>,
        ) -> Option<std::result::Result<(), lol_html::errors::RewritingError>>,
    ) -> Result<Value<'js>> {
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            return Err(Exception::throw_type(
                ctx,
                "This HTMLRewriter is already running.",
            ));
        };
        let result = {
            let _armed = self.bridge.arm(ctx, dispatch);
            step(&mut inner)
        };
        let result = match result {
            Some(result) => result,
            None => {
                return Err(Exception::throw_type(
                    ctx,
                    "This HTMLRewriter has already finished.",
                ))
            }
        };
        let suspended = self.bridge.suspended.take();
        if last || result.is_err() || suspended.is_some() {
            *inner = None;
        }
        drop(inner);
        if let Err(err) = result {
            self.output.borrow_mut().clear();
            if let Some(thrown) = self.bridge.thrown.take() {
                let thrown = thrown.restore(ctx)?;
                return Err(ctx.throw(thrown));
            }
            return Err(type_error(ctx, err));
        }
        let mut output = std::mem::take(&mut *self.output.borrow_mut());
        let Some((promise, at)) = suspended else {
            return Output(output).into_js(ctx);
        };
        // What lol_html wrote after the pending handler was called is discarded: the replay
        // writes it again with that handler's mutations.
        output.truncate(at);
        let pair = Array::new(ctx.clone())?;
        pair.set(0, Output(output))?;
        pair.set(1, promise.restore(ctx)?)?;
        Ok(pair.into_value())
    }
}

#[rquickjs::methods]
impl Rewriter {
    /// Feeds a chunk of the input; returns the output produced so far, or `[output, promise]`
    /// when a handler's promise waits on I/O (this rewriter is then finished).
    pub fn write<'js>(
        &self,
        ctx: Ctx<'js>,
        chunk: TypedArray<'js, u8>,
        dispatch: Function<'js>,
    ) -> Result<Value<'js>> {
        let bytes = chunk.as_bytes().unwrap_or(&[]).to_vec();
        self.step(&ctx, dispatch, false, |inner| {
            inner.as_mut().map(|rewriter| rewriter.write(&bytes))
        })
    }

    /// Ends the input (running the document `end` handlers); returns the rest of the output,
    /// or `[output, promise]` as `write` does.
    pub fn end<'js>(&self, ctx: Ctx<'js>, dispatch: Function<'js>) -> Result<Value<'js>> {
        self.step(&ctx, dispatch, true, |inner| {
            inner.take().map(HtmlRewriter::end)
        })
    }

    /// Drops the rewriter (the body was cancelled or errored).
    pub fn free(&self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            *inner = None;
        }
    }
}

fn parse_selector(ctx: &Ctx<'_>, selector: &str) -> Result<Selector> {
    selector
        .parse::<Selector>()
        .map_err(|err| type_error(ctx, err))
}

/// Throws lol_html's complaint about `selector` as a `TypeError`, as `on()` does.
fn op_html_rewriter_check_selector(ctx: Ctx<'_>, selector: String) -> Result<()> {
    parse_selector(&ctx, &selector).map(|_| ())
}

/// A rewriter for `selectors` (each with the handlers its object has, `has::*` bits), document
/// handler objects with `documents` bits, for a body in `charset` (a label; UTF-8 if unknown or
/// not ASCII-compatible).
fn op_html_rewriter_new<'js>(
    ctx: Ctx<'js>,
    selectors: Vec<String>,
    element_handlers: Vec<u32>,
    documents: Vec<u32>,
    charset: Option<String>,
) -> Result<Class<'js, Rewriter>> {
    let output = Rc::new(RefCell::new(Vec::new()));
    let bridge = Rc::new(Bridge {
        output: Rc::clone(&output),
        ..Bridge::default()
    });
    let encoding = charset
        .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()))
        .and_then(AsciiCompatibleEncoding::new)
        .unwrap_or_else(AsciiCompatibleEncoding::utf_8);
    let mut settings = Settings::new()
        .with_encoding(encoding)
        .with_strict(false)
        .with_memory_settings(
            MemorySettings::new().with_max_allowed_memory_usage(HTML_REWRITER_MEMORY_BYTES_MAX),
        );
    for (index, selector) in selectors.iter().enumerate() {
        let index = index as u32;
        let has = element_handlers.get(index as usize).copied().unwrap_or(0);
        let mut handlers = ElementContentHandlers::default();
        if has & has::ELEMENT != 0 {
            let bridge = Rc::clone(&bridge);
            handlers = handlers.element(move |el: &mut Element<'_, '_>| bridge.element(index, el));
        }
        if has & has::COMMENTS != 0 {
            let bridge = Rc::clone(&bridge);
            handlers = handlers
                .comments(move |c: &mut Comment<'_>| bridge.comment(kind::COMMENTS, index, c));
        }
        if has & has::TEXT != 0 {
            let bridge = Rc::clone(&bridge);
            handlers =
                handlers.text(move |t: &mut TextChunk<'_>| bridge.text(kind::TEXT, index, t));
        }
        let selector = parse_selector(&ctx, selector)?;
        settings =
            settings.append_element_content_handler((std::borrow::Cow::Owned(selector), handlers));
    }
    for (index, has) in documents.iter().enumerate() {
        let index = index as u32;
        let mut handlers = DocumentContentHandlers::default();
        if has & has::DOCTYPE != 0 {
            let bridge = Rc::clone(&bridge);
            handlers = handlers.doctype(move |d: &mut Doctype<'_>| bridge.doctype(index, d));
        }
        if has & has::COMMENTS != 0 {
            let bridge = Rc::clone(&bridge);
            handlers = handlers.comments(move |c: &mut Comment<'_>| {
                bridge.comment(kind::DOCUMENT_COMMENTS, index, c)
            });
        }
        if has & has::TEXT != 0 {
            let bridge = Rc::clone(&bridge);
            handlers = handlers
                .text(move |t: &mut TextChunk<'_>| bridge.text(kind::DOCUMENT_TEXT, index, t));
        }
        if has & has::END != 0 {
            let bridge = Rc::clone(&bridge);
            handlers = handlers.end(move |e: &mut DocumentEnd<'_>| bridge.end(index, e));
        }
        settings = settings.append_document_content_handler(handlers);
    }
    let rewriter = HtmlRewriter::new(settings, Sink(Rc::clone(&output)));
    Class::instance(
        ctx,
        Rewriter {
            inner: RefCell::new(Some(rewriter)),
            bridge,
            output,
        },
    )
}
