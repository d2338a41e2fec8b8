// /reference/api: Swagger UI (web/vendor/swagger-ui/, a global SwaggerUIBundle) rendering the
// BFF's own OpenAPI description. URLs are relative to the page, so the API Gateway stage prefix
// carries over; the spec's server is relative to the spec ("..") for the same reason.
(() => {
  var host = document.getElementById('swagger-ui');
  var specUrl = new URL('../api/openapi.json', window.location.href).href;
  if (typeof window.SwaggerUIBundle !== 'function') {
    host.textContent = `The API reference renderer did not load; the description itself is at ${specUrl}`;
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: specUrl,
    dom_id: '#swagger-ui',
    // Deep links would put an <a> inside each operation's toggle button (axe: nested-interactive).
    deepLinking: false,
    // No top bar (BaseLayout), and no badge from validator.swagger.io: nothing leaves this origin.
    layout: 'BaseLayout',
    validatorUrl: null,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
    // Requests made by "Try it out" carry a correlation id like the pages' own.
    requestInterceptor: (req) => {
      if (window.crypto?.randomUUID) req.headers['x-correlation-id'] = window.crypto.randomUUID();
      return req;
    },
    onComplete: () => {
      // Swagger UI labels its server picker visually only.
      var servers = document.getElementById('servers');
      if (servers) servers.setAttribute('aria-label', 'Server');
      document.documentElement.dataset.apiReference = 'ready';
    },
  });
})();
