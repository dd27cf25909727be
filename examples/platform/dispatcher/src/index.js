// The platform's dispatch Worker: authenticate, find the customer's route, and run their
// Worker with their plan's limits and egress allowlist.
const PLANS = {
  free: { limits: { cpuMs: 10, subRequests: 5 }, allow: [] },
  pro: { limits: { cpuMs: 50, subRequests: 50 }, allow: ["api.example.com"] },
};

// The customer a request is for: the first label of a host name with a subdomain
// (`alice.shops.example`, `alice.localhost`), else the first path segment (`/alice/...`, as on
// `localhost` or an IP address).
function customerOf(url) {
  const host = url.hostname;
  const isAddress = /^[\d.]+$/.test(host) || host.startsWith("[");
  const labels = host.split(".");
  if (!isAddress && labels.length >= 2) return { customer: labels[0], path: url.pathname };
  const [, customer, ...rest] = url.pathname.split("/");
  return { customer, path: `/${rest.join("/")}` };
}

export default {
  async fetch(request, env) {
    if (request.headers.get("x-platform-key") !== env.API_KEY) {
      return new Response("missing or wrong x-platform-key", { status: 401 });
    }
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__routes/") && request.method === "PUT") {
      const customer = url.pathname.slice("/__routes/".length);
      const route = await request.json();
      if (!route.script || !PLANS[route.plan]) return new Response("bad route", { status: 400 });
      await env.ROUTES.put(`route:${customer}`, JSON.stringify(route));
      return new Response("ok");
    }
    const { customer, path } = customerOf(url);
    const route = await env.ROUTES.get(`route:${customer}`, "json");
    if (!route) return new Response(`no customer ${customer}`, { status: 404 });
    const plan = PLANS[route.plan];
    try {
      const worker = env.DISPATCHER.get(route.script, {}, {
        limits: plan.limits,
        outbound: { customer, allow: plan.allow.join(",") },
      });
      return await worker.fetch(new URL(path + url.search, "https://customer.internal"), request);
    } catch (err) {
      if (err.message.startsWith("Worker not found")) return new Response("no such script", { status: 404 });
      return new Response(`customer worker failed: ${err.message}`, { status: 502 });
    }
  },
};
