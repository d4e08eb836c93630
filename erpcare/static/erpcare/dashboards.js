// Dashboard charts: every element with data-chart="<id>" becomes an ECharts chart from the
// JSON options in the <script id="<id>"> next to it (rendered by the server), again after
// each htmx swap. A click on a bar or point opens options.drill[dataIndex] (a ticket list).
(function () {
  "use strict";
  function percent(value) {
    return value === null || value === undefined ? "—" : value + " %";
  }
  function render(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var options = JSON.parse(source.textContent);
      var drill = options.drill || [];
      delete options.drill;
      if (options.tooltip && options.tooltip.valueFormatter === "percent") {
        options.tooltip.valueFormatter = percent;
      }
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      // "rendered" once the drawing and its animation are done: what is clickable is where
      // it is drawn.
      delete el.dataset.rendered;
      chart.off("finished");
      chart.on("finished", function () { el.dataset.rendered = "true"; });
      chart.setOption(options, true);
      chart.off("click");
      chart.on("click", function (params) {
        var url = drill[params.dataIndex];
        if (url) window.location.href = url;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (event) { render(event.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
