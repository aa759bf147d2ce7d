// Charts drawn in the browser with the vendored Chart.js (window.Chart, loaded before this module).
// Values are the API's decimal strings; Number() is used only to place a bar, and every label
// and tooltip shows the string itself, formatted with Intl.

import { h } from "./dom.js";
import { isRTL, locale, money, t } from "./i18n.js";

export const COLORS = {
  fresh: "#2563eb",
  exact_cache: "#059669",
  accent: "#7c3aed",
  muted: "#cbd5e1",
  warn: "#d97706",
  danger: "#dc2626",
  text: "#334155",
  grid: "#e2e8f0",
};

const live = new Set();

export function destroyCharts() {
  for (const chart of live) chart.destroy();
  live.clear();
}

function fontFamily() {
  return getComputedStyle(document.body).fontFamily;
}

function baseOptions() {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    locale: locale(),
    font: { family: fontFamily() },
    plugins: {
      legend: { rtl: isRTL(), textDirection: isRTL() ? "rtl" : "ltr", labels: { color: COLORS.text, font: { family: fontFamily() } } },
      tooltip: { rtl: isRTL(), textDirection: isRTL() ? "rtl" : "ltr", titleFont: { family: fontFamily() }, bodyFont: { family: fontFamily() } },
    },
  };
}

function canvasBox(label, height, testid) {
  const canvas = h("canvas", { role: "img", "aria-label": label });
  const box = h("div", { class: "chart-box", "data-testid": testid }, canvas);
  box.style.height = `${height}px`;
  return { box, canvas };
}

// Draw once the canvas is in the page (Chart.js sizes it from its container).
function make(canvas, config, tries = 0) {
  if (!window.Chart) return;
  if (!canvas.isConnected) {
    if (tries < 120) requestAnimationFrame(() => make(canvas, config, tries + 1));
    return;
  }
  window.Chart.defaults.font.family = fontFamily();
  live.add(new window.Chart(canvas, config));
}

// Stacked bars per day: {labels, series: [{label, color, amounts: [decimal strings]}]}.
export function stackedBars({ labels, series, currency, label, testid, height = 280 }) {
  const { box, canvas } = canvasBox(label, height, testid);
  make(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: series.map((s) => ({
        label: s.label, backgroundColor: s.color, borderRadius: 3, maxBarThickness: 56,
        data: s.amounts.map(Number), amounts: s.amounts,
      })),
    },
    options: {
      ...baseOptions(),
      scales: {
        x: { stacked: true, reverse: isRTL(), grid: { display: false }, ticks: { color: COLORS.text } },
        y: { stacked: true, position: isRTL() ? "right" : "left", grid: { color: COLORS.grid },
             ticks: { color: COLORS.text, callback: (value) => money(String(value), currency, { compact: true }) } },
      },
      plugins: {
        ...baseOptions().plugins,
        tooltip: {
          ...baseOptions().plugins.tooltip,
          callbacks: { label: (item) => `${item.dataset.label}: ${money(item.dataset.amounts[item.dataIndex], currency)}` },
        },
      },
    },
  });
  return box;
}

// Horizontal bars ranking groups by an amount: rows = [{label, amount}].
export function rankBars({ rows, currency, label, testid, color = COLORS.accent }) {
  const height = Math.max(120, 34 * rows.length + 40);
  const { box, canvas } = canvasBox(label, height, testid);
  make(canvas, {
    type: "bar",
    data: {
      labels: rows.map((row) => row.label),
      datasets: [{ label, backgroundColor: color, borderRadius: 3, maxBarThickness: 26,
                   data: rows.map((row) => Number(row.amount)), amounts: rows.map((row) => row.amount) }],
    },
    options: {
      ...baseOptions(),
      indexAxis: "y",
      scales: {
        x: { reverse: isRTL(), grid: { color: COLORS.grid },
             ticks: { color: COLORS.text, callback: (value) => money(String(value), currency, { compact: true }) } },
        y: { position: isRTL() ? "right" : "left", grid: { display: false }, ticks: { color: COLORS.text } },
      },
      plugins: {
        ...baseOptions().plugins,
        legend: { display: false },
        tooltip: {
          ...baseOptions().plugins.tooltip,
          callbacks: { label: (item) => money(item.dataset.amounts[item.dataIndex], currency) },
        },
      },
    },
  });
  return box;
}

// A half-doughnut gauge: used and reserved out of the limit, as basis points (integers).
export function gauge({ usedBps, reservedBps, label, testid }) {
  const { box, canvas } = canvasBox(label, 120, testid);
  const used = Math.min(usedBps, 10_000);
  const reserved = Math.min(reservedBps, 10_000 - used);
  const color = usedBps >= 10_000 ? COLORS.danger : usedBps >= 8_000 ? COLORS.warn : COLORS.exact_cache;
  make(canvas, {
    type: "doughnut",
    data: {
      labels: [t("budget.spent"), t("budget.reserved"), t("budget.remaining")],
      datasets: [{ data: [used, reserved, 10_000 - used - reserved], backgroundColor: [color, COLORS.warn, COLORS.muted],
                   borderWidth: 0 }],
    },
    options: {
      ...baseOptions(),
      rotation: -90, circumference: 180, cutout: "70%",
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  });
  return box;
}
