// Starts Swagger UI on /docs (templates/api_docs.html). A file rather than the inline script
// FastAPI's page has, since the portal's Content-Security-Policy runs no inline script.
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
