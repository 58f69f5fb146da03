// OrderDesk accounting pages: the dashboard's charts (Chart.js, loaded from
// /static/vendor only on a page that has a chart), the invoices' expiry countdowns and
// the summary's print button. No inline scripts: a chart's data is in its canvas's
// data-chart attribute.
(function () {
  "use strict";
  var chartJS = "/static/vendor/chart.umd.min.js";
  var loading = null;

  // loadChartJS adds Chart.js to the page once and resolves when it is there.
  function loadChartJS() {
    if (window.Chart) { return Promise.resolve(window.Chart); }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = chartJS;
        s.onload = function () { resolve(window.Chart); };
        s.onerror = function () { loading = null; reject(new Error("cannot load " + chartJS)); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function pounds(pence) {
    var v = Math.abs(pence) / 100;
    var s = "£" + v.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return pence < 0 ? "−" + s : s;
  }

  // drawCharts draws every chart canvas under root that is not drawn yet, from the
  // labels and values (pence, or counts) in its data-chart attribute.
  function drawCharts(root) {
    var canvases = Array.prototype.filter.call((root || document).querySelectorAll("canvas[data-chart]"), function (c) {
      return !c.dataset.rendered;
    });
    if (!canvases.length) { return; }
    canvases.forEach(function (c) { c.dataset.rendered = "pending"; });
    loadChartJS().then(function (Chart) {
      canvases.forEach(function (canvas) {
        if (!document.body.contains(canvas) || canvas.dataset.rendered !== "pending") { return; }
        try {
          var series = JSON.parse(canvas.dataset.chart);
          var money = canvas.dataset.money === "true";
          var values = money ? series.values.map(function (p) { return p / 100; }) : series.values;
          var existing = Chart.getChart(canvas);
          if (existing) { existing.destroy(); }
          new Chart(canvas, {
            type: canvas.dataset.kind || "bar",
            data: { labels: series.labels, datasets: [{ data: values, borderColor: "#1f5fd1", backgroundColor: "rgba(31,95,209,.45)" }] },
            options: {
              responsive: true, maintainAspectRatio: false, animation: false,
              plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) {
                return money ? pounds(Math.round(ctx.parsed.y * 100)) : String(ctx.parsed.y);
              } } } },
              scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return money ? pounds(Math.round(v * 100)) : v; } } } }
            }
          });
          canvas.dataset.rendered = "true";
        } catch (err) {
          canvas.dataset.rendered = "error";
          canvas.setAttribute("aria-label", "The chart could not be drawn: " + err.message);
        }
      });
    }).catch(function (err) {
      canvases.forEach(function (c) { c.dataset.rendered = "error"; c.setAttribute("aria-label", err.message); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:load", function (e) { drawCharts(e.target); });
  // A chart whose canvas leaves the page stops listening to resizes.
  document.addEventListener("htmx:beforeCleanupElement", function (e) {
    if (!window.Chart || !e.target.querySelectorAll) { return; }
    e.target.querySelectorAll("canvas[data-chart]").forEach(function (c) {
      var chart = window.Chart.getChart(c);
      if (chart) { chart.destroy(); }
    });
  });

  // Countdowns to an invoice's expiry.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.countdown) - now) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) {
        el.textContent = "expired";
        el.classList.add("expired");
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      el.textContent = "in " + (h ? h + " h " : "") + m + " min " + (h ? "" : s + " s");
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  // Print buttons.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) { window.print(); }
  });
})();
