/* The Reports page: draws each chart with Chart.js from its json_script block once htmx has
   swapped the chart's block in. No inline script, no eval, no style attribute: Chart.js sizes
   its canvas through the CSSOM, which the Content-Security-Policy allows. The numbers are in
   each chart's table view too, for readers the canvas does not serve. */
(function () {
  "use strict";

  var SERIES_COLOURS = ["--accent", "--focus", "--warning", "--danger"];
  var UNITS = { percent: " %", hours: " h" };

  function cssColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function shown(value, unit) {
    if (value === null || value === undefined) {
      return "\u2013";
    }
    return String(value) + (UNITS[unit] || "");
  }

  function axis(unit, position, grid) {
    return {
      position: position,
      beginAtZero: unit !== "float",
      grid: { color: grid, drawOnChartArea: position !== "right" },
      ticks: {
        precision: unit === "int" ? 0 : undefined,
        callback: function (value) {
          return shown(value, unit);
        },
      },
    };
  }

  function config(data) {
    var grid = cssColour("--border", "#dcdad3");
    var firstUnit = data.series.length ? data.series[0].unit : "int";
    var horizontal = data.type === "hbar";
    var valueAxis = horizontal ? "x" : "y";
    var datasets = data.series.map(function (series, n) {
      var colour = cssColour(SERIES_COLOURS[n % SERIES_COLOURS.length], "#1d6f62");
      var dataset = {
        label: series.label,
        data: series.values,
        unit: series.unit,
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: data.type === "line" ? 2 : 0,
        pointRadius: data.type === "line" ? 2 : 0,
      };
      if (!horizontal) {
        dataset.yAxisID = series.unit === firstUnit ? "y" : "y2";
      }
      return dataset;
    });
    var scales = {};
    scales[valueAxis] = axis(firstUnit, horizontal ? "bottom" : "left", grid);
    scales[horizontal ? "y" : "x"] = { grid: { color: grid, display: false } };
    if (datasets.some(function (d) { return d.yAxisID === "y2"; })) {
      var other = data.series.find(function (s) { return s.unit !== firstUnit; });
      scales.y2 = axis(other.unit, "right", grid);
    }
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return {
      type: data.type === "line" ? "line" : "bar",
      data: { labels: data.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: still ? false : { duration: 250 },
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + shown(item.raw, item.dataset.unit);
              },
            },
          },
        },
      },
    };
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || !window.Chart) {
      return;
    }
    // The data's json_script block sits in an inert <template> (htmx drops swapped-in scripts).
    var holder = canvas.closest(".report-body");
    var data = holder && holder.querySelector("template.report-data");
    var source = data && data.content.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    var text = cssColour("--muted", "#565d66");
    window.Chart.defaults.color = text;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    new window.Chart(canvas, config(JSON.parse(source.textContent)));
    canvas.dataset.drawn = "true";
  }

  function drawIn(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  function isChartBlock(element) {
    return element && element.classList && element.classList.contains("report-body");
  }

  // A chart block answers 400 with a sentence when the choices are not valid: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isChartBlock(event.detail.target) && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (isChartBlock(event.detail.target)) {
      drawIn(event.detail.target);
    }
  });

  // Any other failure (the server or the network): say so instead of loading forever.
  function failed(event) {
    var target = event.detail.target || event.detail.elt;
    if (!isChartBlock(target)) {
      return;
    }
    var message = document.createElement("p");
    message.className = "field-error";
    message.setAttribute("role", "alert");
    message.textContent = "This chart could not be loaded. Reload the page to try again.";
    target.replaceChildren(message);
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  document.addEventListener("DOMContentLoaded", function () {
    drawIn(document);
  });
})();
