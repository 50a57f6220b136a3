// The dashboard chart's readout (Chart.cs draws the chart): pointing at or touching the chart, or focusing it and then
// using the arrow keys, Home and End, shows one bar's figures. Listeners sit on the document, so that charts swapped
// in by htmx need nothing more; without this script the table of figures under the chart says the same.
(function () {
  function chartOf(node) { return node && node.closest ? node.closest("[data-chart]") : null; }
  function bars(chart) { return chart.querySelectorAll(".bars .bar"); }

  function select(chart, index) {
    var all = bars(chart);
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    chart.dataset.index = String(index);
    var cursor = chart.querySelector(".cursor");
    cursor.setAttribute("x", String(index));
    cursor.classList.add("on");
    all.forEach(function (bar, i) { bar.classList.toggle("on", i === index); });
    chart.querySelector(".readout").textContent = all[index].getAttribute("data-readout");
  }

  function point(event) {
    var plot = event.target.closest && event.target.closest("[data-chart] .plot");
    if (!plot) return;
    var chart = chartOf(plot), box = plot.getBoundingClientRect();
    select(chart, Math.floor((event.clientX - box.left) / box.width * bars(chart).length));
  }
  document.addEventListener("pointermove", point);
  document.addEventListener("pointerdown", point);

  document.addEventListener("focusin", function (event) {
    if (!event.target.matches || !event.target.matches("[data-chart] .plot")) return;
    var chart = chartOf(event.target);
    select(chart, chart.dataset.index ? Number(chart.dataset.index) : bars(chart).length - 1);
  });

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("[data-chart] .plot")) return;
    var chart = chartOf(event.target), index = Number(chart.dataset.index || 0), last = bars(chart).length - 1;
    var next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: last }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(chart, next);
  });
})();
