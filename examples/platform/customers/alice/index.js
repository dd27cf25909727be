export default {
  fetch(request, env) {
    return new Response(`${env.OWNER}'s shop: ${new URL(request.url).pathname}`);
  },
};
