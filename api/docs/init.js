// Starts Swagger UI on /docs. Kept out of index.html because the page's
// Content-Security-Policy forbids inline script.
"use strict";

window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Nothing leaves this origin: no call to the public validator service.
    validatorUrl: null,
    // Tokens typed into "Authorize" stay in this tab's memory only.
    persistAuthorization: false,
    displayRequestDuration: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
  });
});
