// Renders the client API reference at /api/v1/docs with Redoc (static/vendor/
// redoc.standalone.js) from the OpenAPI document. An external file, so the page needs no
// inline script; system fonts only, so nothing is fetched from outside this server.
(function () {
  'use strict';
  var el = document.getElementById('api-docs');
  if (!el || !window.Redoc) {
    return;
  }
  var sans = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  var mono = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';
  window.Redoc.init(el.getAttribute('data-spec-url'), {
    expandResponses: '200,201',
    hideHostname: false,
    jsonSampleExpandLevel: 3,
    theme: {
      typography: {
        fontFamily: sans,
        headings: { fontFamily: sans },
        code: { fontFamily: mono }
      }
    }
  }, el, function (err) {
    if (err) {
      el.textContent = 'The API reference could not be drawn: ' + err + '. The OpenAPI document is at /api/v1/openapi.json.';
    }
  });
})();
