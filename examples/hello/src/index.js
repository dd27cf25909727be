export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    console.log(`${request.method} ${url.pathname}`);
    return new Response(`${env.GREETING} from Kiln!\n`, {
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
  },
};
