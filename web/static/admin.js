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

// Live lists that keep the user's place (the pick queue, the picked orders): a poll
// (hx-swap="none" on an element with data-merge="#list") brings the list anew, and it
// is merged into the one shown, matching children by id: new ones are inserted where
// they belong, gone ones removed (unless data-sticky), changed ones (data-version)
// replaced with their ticked boxes kept; the rest, with whatever the user is typing,
// are left alone. Elements marked data-live-text take the new text.
(function () {
  "use strict";
  function ticked(el) {
    var out = {};
    el.querySelectorAll("input[type=checkbox]:checked").forEach(function (b) { out[b.name + "=" + b.value] = true; });
    return out;
  }
  function merge(target, fresh) {
    var keep = {};
    Array.prototype.forEach.call(fresh.children, function (n) { if (n.id) { keep[n.id] = true; } });
    Array.prototype.slice.call(target.children).forEach(function (n) {
      if (!n.id || (!keep[n.id] && !n.hasAttribute("data-sticky"))) { n.remove(); }
    });
    var prev = null;
    Array.prototype.slice.call(fresh.children).forEach(function (n) {
      var mine = n.id ? document.getElementById(n.id) : null;
      if (mine && mine.parentNode === target) {
        if (mine.getAttribute("data-version") !== n.getAttribute("data-version") && !mine.hasAttribute("data-sticky")) {
          var was = ticked(mine);
          var next = document.importNode(n, true);
          next.querySelectorAll("input[type=checkbox]").forEach(function (b) { b.checked = !!was[b.name + "=" + b.value]; });
          mine.replaceWith(next);
          if (window.htmx) { htmx.process(next); }
          mine = next;
        }
      } else {
        mine = document.importNode(n, true);
        if (prev && prev.parentNode === target) { prev.after(mine); } else { target.prepend(mine); }
        if (window.htmx) { htmx.process(mine); }
      }
      prev = mine;
    });
  }
  document.addEventListener("htmx:afterRequest", function (e) {
    var src = e.detail.elt;
    var sel = src && src.getAttribute && src.getAttribute("data-merge");
    if (!sel || !e.detail.successful) { return; }
    var target = document.querySelector(sel);
    var doc = new DOMParser().parseFromString(e.detail.xhr.responseText, "text/html");
    var fresh = doc.querySelector(sel);
    if (!target || !fresh) { return; }
    merge(target, fresh);
    doc.querySelectorAll("[data-live-text][id]").forEach(function (el) {
      var mine = document.getElementById(el.id);
      if (mine) { mine.textContent = el.textContent; }
    });
  });

  // The print page: once the frame has loaded the labels, open the print dialog; the
  // Print button opens it again.
  document.addEventListener("load", function (e) {
    var f = e.target;
    if (!f || f.tagName !== "IFRAME" || !f.hasAttribute("data-autoprint") || f.getAttribute("data-printed")) { return; }
    f.setAttribute("data-printed", "1");
    try { f.contentWindow.focus(); f.contentWindow.print(); } catch (err) { window.print(); }
  }, true);
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-print-frame]");
    var f = b && document.getElementById(b.getAttribute("data-print-frame"));
    if (f) { try { f.contentWindow.print(); } catch (err) { window.print(); } }
  });
})();
