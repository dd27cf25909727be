// The outbound Worker: every fetch() a customer Worker makes arrives here, with the customer
// and its plan's allowlist in env. Allowed hosts are forwarded; the rest are refused.
export default {
  async fetch(request, env) {
    const host = new URL(request.url).hostname;
    const allowed = (env.allow ?? "").split(",").filter(Boolean);
    if (!allowed.includes(host)) {
      return new Response(`egress: ${env.customer} may not reach ${host}`, { status: 403 });
    }
    return fetch(request);
  },
};
