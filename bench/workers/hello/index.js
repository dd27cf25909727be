// Scenario a: the smallest worker.
export default { fetch() { return new Response("hello") } }
