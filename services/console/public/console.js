// The console's only script: draws the Chart.js charts the server describes in `data-chart`
// attributes (each next to a table with the same figures), on load and after every htmx swap.
// Everything else works without it (forms and links are plain HTML; htmx only saves reloads).
(() => {
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#64748b';

  function draw(canvas) {
    if (typeof Chart === 'undefined' || Chart.getChart(canvas)) return;
    const spec = JSON.parse(canvas.dataset.chart);
    const colors = spec.colors.map(css);
    const doughnut = spec.type === 'doughnut';
    // Colours by label (one series), or by dataset (series compared side by side, with a legend).
    const byDataset = spec.colorBy === 'dataset';
    const colorOf = (index) => (byDataset ? colors[index] : colors);
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((dataset, index) => ({
          ...dataset,
          backgroundColor: colorOf(index),
          borderColor: doughnut ? css('--surface') : colorOf(index),
          borderWidth: doughnut ? 2 : 0,
          borderRadius: doughnut ? 0 : 4,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        // Figures, not a show: no animation (and screenshots see the final chart).
        animation: false,
        plugins: {
          // The table beside every chart is its legend; series compared side by side get one too.
          legend: { display: byDataset, labels: { color: css('--muted') } },
        },
        scales: doughnut
          ? {}
          : {
              x: { grid: { display: false }, ticks: { color: css('--muted') } },
              y: { beginAtZero: true, ticks: { precision: 0, color: css('--muted') } },
            },
      },
    });
  }

  function drawAll(root) {
    for (const canvas of root.querySelectorAll('canvas[data-chart]')) draw(canvas);
  }

  document.addEventListener('DOMContentLoaded', () => drawAll(document));
  document.addEventListener('htmx:load', (event) => drawAll(event.target));
})();
