// OrderDesk admin behaviour that htmx does not cover. No inline scripts anywhere: the
// Content-Security-Policy forbids them.
(function () {
  "use strict";
  // After a form comes back with errors, put the cursor in the first field at fault.
  function focusInvalid(root) {
    var bad = (root || document).querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusInvalid(document); });
  document.addEventListener("htmx:afterSettle", function (e) { focusInvalid(e.target); });

  // Photo uploads: drop files on the upload form, and see the upload's progress.
  document.addEventListener("dragover", function (e) {
    var zone = e.target.closest && e.target.closest(".dropzone");
    if (zone) { e.preventDefault(); zone.classList.add("over"); }
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest(".dropzone");
    if (zone) { zone.classList.remove("over"); }
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest(".dropzone");
    if (!zone || !e.dataTransfer || !e.dataTransfer.files.length) { return; }
    e.preventDefault();
    zone.classList.remove("over");
    var input = zone.querySelector("input[type=file]");
    input.files = e.dataTransfer.files;
    if (window.htmx) { htmx.trigger(zone, "submit"); } else { zone.submit(); }
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest && e.target.closest(".dropzone");
    var bar = form && form.querySelector("progress");
    if (bar && e.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round(e.detail.loaded * 100 / e.detail.total);
    }
  });

  // While a photo is still being processed, look again every few seconds.
  setInterval(function () {
    if (document.querySelector("[data-processing]") && window.htmx && !document.hidden) {
      htmx.ajax("GET", window.location.pathname, { target: "#photos", select: "#photos", swap: "outerHTML" });
    }
  }, 3000);
})();
