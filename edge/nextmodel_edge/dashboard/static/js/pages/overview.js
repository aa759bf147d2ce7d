// Overview: spend over time split into Fresh and Exact cache, savings, hit rate, top models,
// keys, projects and teams, and (for admins) budget gauges.

import { getJSON, usage } from "../api.js";
import { COLORS, rankBars, stackedBars } from "../charts.js";
import { add, card, h, message, table } from "../dom.js";
import { dayLabel, integer, money, percent, t } from "../i18n.js";
import { amount, addDays, basisPoints, byAmountDesc, daysBetween, nanos, todayUTC, ZERO } from "../util.js";
import { budgetGauges } from "./budgets.js";

const RANGES = [7, 30, 90];

export async function render(view, ctx) {
  const days = RANGES.includes(Number(ctx.query.get("days"))) ? Number(ctx.query.get("days")) : 30;
  const start = addDays(todayUTC(), -(days - 1));
  const base = { start, currency: ctx.currency };
  const [byMode, fresh, cached, models, keys, projects, teams, budgets] = await Promise.all([
    usage({ ...base, group_by: "served_mode" }),
    usage({ ...base, group_by: "day", served_mode: "fresh" }),
    usage({ ...base, group_by: "day", served_mode: "exact_cache" }),
    usage({ ...base, group_by: "model" }),
    usage({ ...base, group_by: "key" }),
    usage({ ...base, group_by: "project" }),
    usage({ ...base, group_by: "team" }),
    ctx.isAdmin ? getJSON("/admin/v1/budgets") : Promise.resolve(null),
  ]);
  const currency = ctx.currency;
  const mode = (name) => byMode.data.find((row) => row.group === name);
  const freshRow = mode("fresh");
  const cacheRow = mode("exact_cache");
  const totalRequests = byMode.total.requests;
  const cacheRequests = cacheRow?.requests ?? 0;

  add(view, 
    h("header", { class: "page-head" },
      h("div", {},
        h("h1", {}, t("overview.title")),
        h("p", { class: "muted" }, ctx.scopeLabel, " · ", t("overview.since", { date: dayLabel(start) }))),
      h("nav", { class: "segmented", "aria-label": t("overview.range") },
        RANGES.map((n) => h("a", { href: `#/overview?days=${n}`, class: n === days ? "active" : "",
                                   "aria-current": n === days ? "true" : null }, t("overview.days", { n: integer(n) }))))),
    h("div", { class: "kpis" },
      kpi("kpi-total", t("kpi.total"), money(amount(byMode.total, "charged_cost", currency), currency),
          { amount: amount(byMode.total, "charged_cost", currency), currency },
          t("kpi.totalNote", { list: money(amount(byMode.total, "list_cost", currency), currency) })),
      kpi("kpi-fresh", t("kpi.fresh"), money(amount(freshRow, "charged_cost", currency), currency),
          { amount: amount(freshRow, "charged_cost", currency), currency, mode: "fresh" },
          t("kpi.requests", { n: integer(freshRow?.requests ?? 0) })),
      kpi("kpi-exact-cache", t("kpi.exactCache"), money(amount(cacheRow, "charged_cost", currency), currency),
          { amount: amount(cacheRow, "charged_cost", currency), currency, mode: "exact_cache" },
          t("kpi.requests", { n: integer(cacheRequests) })),
      kpi("kpi-savings", t("kpi.savings"), money(amount(cacheRow, "discount", currency), currency),
          { amount: amount(cacheRow, "discount", currency), currency }, t("kpi.savingsNote")),
      kpi("kpi-hit-rate", t("kpi.hitRate"), percent(totalRequests ? cacheRequests / totalRequests : 0),
          { hits: cacheRequests, requests: totalRequests },
          t("kpi.hitRateNote", { hits: integer(cacheRequests), n: integer(totalRequests) })),
      kpi("kpi-requests", t("kpi.requestsTotal"), integer(totalRequests), { requests: totalRequests },
          t("kpi.tokens", { n: integer(byMode.total.prompt_tokens + byMode.total.completion_tokens) }))),
    spendOverTime(fresh, cached, currency),
    h("div", { class: "grid-2" },
      card(t("overview.topModels"), models.data.length
        ? rankBars({ rows: top(models.data, currency, 8).map((row) => ({ label: row.group, amount: amount(row, "charged_cost", currency) })),
                     currency, label: t("overview.topModels"), testid: "chart-top-models" })
        : message("empty", t("common.noData"))),
      card(t("overview.topKeys"), ranking(keys, "key", ctx, currency, "top-keys"))),
    h("div", { class: "grid-2" },
      card(t("overview.topProjects"), ranking(projects, "project", ctx, currency, "top-projects")),
      card(t("overview.topTeams"), ranking(teams, "team", ctx, currency, "top-teams"))),
    card(t("overview.budgets"), ctx.isAdmin
      ? budgetGauges(budgets.data, ctx)
      : message("info", t("overview.budgetsAdminOnly"), { "data-testid": "budgets-admin-only" })),
  );
}

function kpi(testid, label, value, data, note) {
  const dataset = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v ?? "")]));
  return h("article", { class: "kpi", "data-testid": testid },
    h("h3", {}, label),
    h("p", { class: "kpi-value", dataset }, value),
    note ? h("p", { class: "kpi-note muted" }, note) : null);
}

function top(rows, currency, n) {
  return [...rows].sort(byAmountDesc("charged_cost", currency)).slice(0, n);
}

function spendOverTime(fresh, cached, currency) {
  const seen = [...fresh.data, ...cached.data].map((row) => row.group).sort();
  if (!seen.length) return card(t("overview.spendOverTime"), message("empty", t("common.noData")));
  const labels = daysBetween(seen[0], seen[seen.length - 1]);
  const series = (result) => {
    const byDay = new Map(result.data.map((row) => [row.group, amount(row, "charged_cost", currency)]));
    return labels.map((day) => byDay.get(day) ?? ZERO);
  };
  return card(t("overview.spendOverTime"),
    stackedBars({
      labels: labels.map(dayLabel), currency, label: t("overview.spendOverTime"), testid: "chart-spend-over-time",
      series: [
        { label: t("mode.fresh"), color: COLORS.fresh, amounts: series(fresh) },
        { label: t("mode.exact_cache"), color: COLORS.exact_cache, amounts: series(cached) },
      ],
    }),
    h("p", { class: "muted small" }, t("overview.spendOverTimeNote")));
}

function ranking(result, groupBy, ctx, currency, testid) {
  if (!result.data.length) return message("empty", t("common.noData"));
  const total = nanos(amount(result.total, "charged_cost", currency));
  const rows = top(result.data, currency, 8).map((row) => ({ ...row, __dataset: { group: row.group } }));
  return table([
    { label: t(`group.${groupBy}`), cell: (row) => ctx.label(groupBy, row.group) },
    { label: t("col.requests"), cell: (row) => integer(row.requests), className: "num" },
    { label: t("col.charged"), cell: (row) => money(amount(row, "charged_cost", currency), currency), className: "num" },
    { label: t("col.share"), cell: (row) => share(basisPoints(amount(row, "charged_cost", currency), total)) },
  ], rows, { "data-testid": testid });
}

export function share(bps) {
  const bar = h("span", { class: "share-bar" }, h("span", {}));
  bar.firstChild.style.inlineSize = `${Math.min(bps, 10_000) / 100}%`;
  return h("span", { class: "share" }, bar, h("span", { class: "small" }, percent(bps / 10_000)));
}
