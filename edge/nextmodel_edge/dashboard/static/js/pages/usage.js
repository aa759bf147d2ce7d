// Usage explorer: group spend by key, project, team, model, provider, served mode, day or a
// tag, over a time range, with filters; download the same rows as CSV or JSONL.

import { ApiError, download, usage } from "../api.js";
import { COLORS, rankBars, stackedBars } from "../charts.js";
import { add, card, h, message, select, table } from "../dom.js";
import { dayLabel, integer, money, t } from "../i18n.js";
import { addDays, amount, byAmountDesc, todayUTC } from "../util.js";

const GROUPS = ["model", "provider", "served_mode", "key", "project", "team", "day", "tag"];

function filtersFrom(query) {
  const get = (name, fallback = "") => query.get(name) ?? fallback;
  return {
    group_by: GROUPS.includes(get("group_by")) ? get("group_by") : "model",
    tag_name: get("tag_name"),
    start: get("start", addDays(todayUTC(), -29)),
    end: get("end"),
    served_mode: get("served_mode"),
    model: get("model"),
    provider: get("provider"),
    tag: get("tag"),
    project_id: get("project_id"),
  };
}

// The API's parameters: the end date is inclusive on the page, exclusive in the API.
function apiParams(filters, currency) {
  return {
    start: filters.start, end: filters.end ? addDays(filters.end, 1) : "",
    served_mode: filters.served_mode, model: filters.model, provider: filters.provider,
    tag: filters.tag, project_id: filters.project_id, currency,
  };
}

export async function render(view, ctx) {
  const filters = filtersFrom(ctx.query);
  const groupBy = filters.group_by === "tag" ? (filters.tag_name ? `tag:${filters.tag_name}` : "") : filters.group_by;
  add(view, 
    h("header", { class: "page-head" },
      h("div", {}, h("h1", {}, t("usage.title")), h("p", { class: "muted" }, ctx.scopeLabel))),
    filterForm(filters, ctx));
  if (!groupBy) {
    add(view, message("info", t("usage.tagNameNeeded")));
    return;
  }
  const params = apiParams(filters, ctx.currency);
  let result;
  try {
    result = await usage({ ...params, group_by: groupBy });
  } catch (failure) {
    // A project key asking for another project's id: billing answers as if it did not exist.
    if (failure instanceof ApiError && failure.status === 404) {
      add(view, message("error", t("usage.projectNotFound"), { "data-testid": "usage-not-found" }));
      return;
    }
    throw failure;
  }
  const currency = ctx.currency;
  const rows = filters.group_by === "day" ? result.data : [...result.data].sort(byAmountDesc("charged_cost", currency));
  const label = (group) => filters.group_by === "day" ? dayLabel(group)
    : filters.group_by === "served_mode" ? t(`mode.${group}`) : ctx.label(filters.group_by, group);
  const exportParams = { ...params };
  delete exportParams.currency;

  add(view, 
    card(t("usage.results"),
      h("div", { class: "toolbar" },
        h("span", { class: "muted", "data-testid": "usage-summary" },
          t("usage.summary", { n: integer(result.total.requests), amount: money(amount(result.total, "charged_cost", currency), currency) })),
        h("span", { class: "spacer" }),
        h("button", { type: "button", class: "secondary", "data-testid": "download-csv",
                      onclick: () => download("/v1/usage/export", { ...exportParams, format: "csv" }, "nextmodel-usage.csv") },
          t("usage.downloadCsv")),
        h("button", { type: "button", class: "secondary", "data-testid": "download-jsonl",
                      onclick: () => download("/v1/usage/export", { ...exportParams, format: "jsonl" }, "nextmodel-usage.jsonl") },
          t("usage.downloadJsonl"))),
      rows.length
        ? [
            filters.group_by === "day"
              ? stackedBars({ labels: rows.map((row) => dayLabel(row.group)), currency, label: t("usage.results"), testid: "chart-usage",
                              series: [{ label: t("col.charged"), color: COLORS.accent, amounts: rows.map((row) => amount(row, "charged_cost", currency)) }] })
              : rankBars({ rows: rows.slice(0, 15).map((row) => ({ label: label(row.group), amount: amount(row, "charged_cost", currency) })),
                           currency, label: t("usage.results"), testid: "chart-usage" }),
            usageTable(rows, result.total, label, currency),
          ]
        : message("empty", t("common.noData"), { "data-testid": "usage-empty" })));
}

function usageTable(rows, total, label, currency) {
  const columns = [
    { label: t("col.group"), cell: (row) => row.isTotal ? t("col.total") : label(row.group) },
    { label: t("col.requests"), cell: (row) => integer(row.requests), className: "num" },
    { label: t("col.promptTokens"), cell: (row) => integer(row.prompt_tokens), className: "num" },
    { label: t("col.completionTokens"), cell: (row) => integer(row.completion_tokens), className: "num" },
    { label: t("col.cachedPromptTokens"), cell: (row) => integer(row.cached_prompt_tokens), className: "num" },
    { label: t("col.list"), cell: (row) => money(amount(row, "list_cost", currency), currency), className: "num" },
    { label: t("col.discount"), cell: (row) => money(amount(row, "discount", currency), currency), className: "num" },
    { label: t("col.charged"), cell: (row) => h("span", { dataset: { amount: amount(row, "charged_cost", currency) } },
                                               money(amount(row, "charged_cost", currency), currency)), className: "num" },
  ];
  const body = [...rows.map((row) => ({ ...row, __dataset: { group: row.group } })),
                { ...total, isTotal: true, __dataset: { total: "true" } }];
  const wrap = table(columns, body, { "data-testid": "usage-table" });
  wrap.querySelector("tbody tr:last-child").classList.add("total-row");
  return wrap;
}

function filterForm(filters, ctx) {
  const field = (name, labelText, control) => h("label", { class: "field" }, h("span", {}, labelText), control);
  const input = (name, props = {}) => h("input", { name, value: filters[name], ...props });
  const tagName = input("tag_name", { placeholder: t("usage.tagNamePlaceholder"), "data-testid": "filter-tag-name" });
  const form = h("form", { class: "filters card", "data-testid": "usage-filters",
    onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const query = new URLSearchParams();
      for (const [name, value] of data.entries()) if (String(value).trim()) query.set(name, String(value).trim());
      const target = `#/usage?${query}`;
      if (window.location.hash === target) ctx.rerender();
      else window.location.hash = target;
    } },
    field("group_by", t("usage.groupBy"),
      select({ name: "group_by", "data-testid": "filter-group-by",
               onchange: () => { tagName.closest(".field").hidden = form.elements.group_by.value !== "tag"; } },
             GROUPS.map((group) => [group, t(`group.${group}`)]), filters.group_by)),
    field("tag_name", t("usage.tagName"), tagName),
    field("start", t("usage.start"), input("start", { type: "date", "data-testid": "filter-start" })),
    field("end", t("usage.end"), input("end", { type: "date", "data-testid": "filter-end" })),
    field("served_mode", t("usage.servedMode"),
      select({ name: "served_mode", "data-testid": "filter-served-mode" },
             [["", t("common.all")], ["fresh", t("mode.fresh")], ["exact_cache", t("mode.exact_cache")]], filters.served_mode)),
    field("model", t("usage.model"), input("model", { placeholder: "gpt-4o-mini", "data-testid": "filter-model" })),
    field("provider", t("usage.provider"), input("provider", { placeholder: "openai", "data-testid": "filter-provider" })),
    field("tag", t("usage.tagFilter"), input("tag", { placeholder: t("usage.tagFilterPlaceholder"), pattern: "[^:]+:.*",
                                                        "data-testid": "filter-tag" })),
    ctx.isAdmin
      ? field("project_id", t("usage.project"),
          select({ name: "project_id", "data-testid": "filter-project" },
                 [["", t("usage.allProjects")], ...ctx.projects.map((p) => [p.id, `${p.name} (${p.id})`])], filters.project_id))
      : null,
    h("div", { class: "field actions" }, h("button", { type: "submit", "data-testid": "apply-filters" }, t("usage.apply"))));
  tagName.closest(".field").hidden = filters.group_by !== "tag";
  return form;
}
