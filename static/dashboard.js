// The staff home's charts, drawn with Chart.js from the tables beside them (the tables
// are the source: screen readers and a page without scripts get the same numbers).
// Colours come from the design system's variables, so the charts follow dark mode.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var charts = [];
  function colour(name, fallback) {
    var value = getComputedStyle(document.body).getPropertyValue(name).trim();
    return value || fallback;
  }
  function palette() {
    return {
      primary: colour("--pico-primary", "#0172ad"),
      ok: colour("--ok", "#2e7d32"),
      danger: colour("--danger", "#c62828"),
      warn: colour("--warn", "#b26a00"),
      text: colour("--pico-color", "#373c44"),
      grid: colour("--pico-muted-border-color", "#e7eaf0")
    };
  }
  function read(table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th")).slice(1);
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    return {
      labels: rows.map(function (row) {
        var head = row.querySelector("th");
        return head.dataset.label || head.textContent.trim();
      }),
      series: heads.map(function (head, index) {
        return {
          label: head.textContent.trim(),
          colour: head.dataset.colour || "primary",
          values: rows.map(function (row) {
            return Number(row.querySelectorAll("td")[index].dataset.value);
          })
        };
      })
    };
  }
  function draw() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    var colours = palette();
    window.Chart.defaults.color = colours.text;
    window.Chart.defaults.borderColor = colours.grid;
    document.querySelectorAll("figure.chart[data-chart]").forEach(function (figure) {
      var canvas = figure.querySelector("canvas");
      var table = figure.querySelector("table");
      if (!canvas || !table) { return; }
      var data = read(table);
      var kind = figure.dataset.chart;
      charts.push(new window.Chart(canvas, {
        type: kind,
        data: {
          labels: data.labels,
          datasets: data.series.map(function (series) {
            var shade = colours[series.colour] || colours.primary;
            return {
              label: series.label, data: series.values, borderColor: shade,
              backgroundColor: shade, tension: 0.25, pointRadius: 2
            };
          })
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: data.series.length > 1 } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      }));
      figure.dataset.drawn = "true";
    });
  }
  draw();
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  }
})();
