// Scenario i's dispatch worker (Kiln only: workerd has no dispatch namespaces). `/direct`
// answers "hello" itself; any other path goes to the customer script "hello" in the
// namespace, which answers the same.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/direct") return new Response("hello");
    return env.DISPATCHER.get("hello").fetch(request);
  },
};
