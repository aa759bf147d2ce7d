// Catalog comparison: every model's price, context, capabilities and latency (when the
// catalog has it), a side-by-side comparison of the chosen models, and the quote tool.

import { ApiError, getJSON, sendJSON } from "../api.js";
import { add, card, h, message, table } from "../dom.js";
import { integer, money, percent, t } from "../i18n.js";

const CAPABILITIES = ["tools", "vision", "json_schema", "streaming", "reasoning"];
const MAX_COMPARE = 4;

export async function render(view, ctx) {
  add(view, h("header", { class: "page-head" },
    h("div", {}, h("h1", {}, t("catalog.title")), h("p", { class: "muted" }, t("catalog.subtitle")))));
  let models;
  try {
    models = (await getJSON("/v1/models")).data;
  } catch (failure) {
    if (ctx.isAdmin && failure instanceof ApiError && failure.status === 401) {
      add(view, message("info", t("catalog.needsProjectKey"), { "data-testid": "catalog-needs-project-key" }));
      return;
    }
    throw failure;
  }
  models.sort((a, b) => a.owned_by.localeCompare(b.owned_by) || a.id.localeCompare(b.id));
  const chosen = (ctx.query.get("compare") || "").split(",").filter((id) => models.some((m) => m.id === id)).slice(0, MAX_COMPARE);
  const filter = ctx.query.get("q") || "";
  const visible = models.filter((m) => !filter || `${m.id} ${m.owned_by} ${m.region}`.toLowerCase().includes(filter.toLowerCase()));

  const setQuery = (changes) => {
    const query = new URLSearchParams(ctx.query);
    for (const [name, value] of Object.entries(changes)) value ? query.set(name, value) : query.delete(name);
    window.location.hash = `#/catalog?${query}`;
  };
  const toggle = (id) => {
    const next = chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id].slice(-MAX_COMPARE);
    setQuery({ compare: next.join(",") });
  };

  add(view, 
    chosen.length ? comparison(models.filter((m) => chosen.includes(m.id)).sort((a, b) => chosen.indexOf(a.id) - chosen.indexOf(b.id))) : null,
    quoteTool(chosen, ctx.currency),
    card(t("catalog.all", { n: integer(models.length) }),
      h("form", { class: "toolbar", onsubmit: (event) => { event.preventDefault(); setQuery({ q: event.target.elements.q.value.trim() }); } },
        h("input", { name: "q", value: filter, type: "search", placeholder: t("catalog.filter"), "aria-label": t("catalog.filter"),
                     "data-testid": "catalog-filter" }),
        h("span", { class: "muted small" }, t("catalog.pick", { n: integer(MAX_COMPARE) }))),
      table([
        { label: t("catalog.compare"), cell: (m) => h("input", { type: "checkbox", checked: chosen.includes(m.id), "aria-label": m.id,
                                                                 "data-testid": "compare-toggle", onchange: () => toggle(m.id) }) },
        { label: t("col.model"), cell: (m) => h("span", { class: "mono" }, m.id) },
        { label: t("col.provider"), cell: (m) => m.owned_by },
        { label: t("catalog.region"), cell: (m) => m.region || "—" },
        { label: t("catalog.context"), cell: (m) => integer(m.context_window), className: "num" },
        { label: t("catalog.input"), cell: (m) => price(m.pricing?.input), className: "num" },
        { label: t("catalog.cachedInput"), cell: (m) => price(m.pricing?.cached_input), className: "num" },
        { label: t("catalog.output"), cell: (m) => price(m.pricing?.output), className: "num" },
        { label: t("catalog.latency"), cell: (m) => latency(m), className: "num" },
        { label: t("catalog.capabilities"), cell: (m) => capabilityBadges(m) },
      ], visible.map((m) => ({ ...m, __dataset: { model: m.id } })), { "data-testid": "catalog-table" })));
}

function price(value) {
  return value === null || value === undefined || value === "" ? "—" : money(value, "USD");
}

// Live latency measured by the routers (null until a model has samples).
function latency(model, kind = "total") {
  const l = model.latency;
  if (!l || !l.samples) return h("span", { class: "muted" }, "—");
  return t("catalog.latencyP50P95", { p50: integer(l[`${kind}_p50_ms`]), p95: integer(l[`${kind}_p95_ms`]) });
}

function capabilityBadges(model) {
  return h("span", { class: "caps" }, CAPABILITIES.filter((c) => model.capabilities?.[c])
    .map((c) => h("span", { class: "badge cap" }, t(`cap.${c}`))));
}

function comparison(models) {
  const rows = [
    [t("col.provider"), (m) => m.owned_by],
    [t("catalog.region"), (m) => m.region || "—"],
    [t("catalog.context"), (m) => integer(m.context_window)],
    [t("catalog.maxOutput"), (m) => integer(m.max_output_tokens)],
    [t("catalog.input"), (m) => price(m.pricing?.input)],
    [t("catalog.cachedInput"), (m) => price(m.pricing?.cached_input)],
    [t("catalog.output"), (m) => price(m.pricing?.output)],
    [t("catalog.latency"), (m) => latency(m, "total")],
    [t("catalog.ttft"), (m) => latency(m, "ttft")],
    [t("catalog.samples"), (m) => (m.latency?.samples ? t("catalog.samplesValue", { n: integer(m.latency.samples), errors: percent(m.latency.error_rate || 0) }) : "—")],
    ...CAPABILITIES.map((c) => [t(`cap.${c}`), (m) => (m.capabilities?.[c] ? h("span", { class: "yes" }, "✓ ", t("common.yes"))
                                                                          : h("span", { class: "no" }, "✗ ", t("common.no")))]),
    [t("catalog.priceVersion"), (m) => h("span", { class: "mono small" }, m.pricing?.version || "—")],
    [t("catalog.effective"), (m) => m.pricing?.effective_date || "—"],
    [t("catalog.shutdown"), (m) => m.shutdown_date || "—"],
  ];
  return card(t("catalog.sideBySide"),
    h("p", { class: "muted small" }, t("catalog.pricesNote")),
    h("div", { class: "table-wrap" },
      h("table", { class: "compare", "data-testid": "compare-table" },
        h("thead", {}, h("tr", {}, h("th", {}, ""), models.map((m) => h("th", { scope: "col", class: "mono", dataset: { model: m.id } }, m.id)))),
        h("tbody", {}, rows.map(([label, cell]) => h("tr", {}, h("th", { scope: "row" }, label), models.map((m) => h("td", {}, cell(m)))))))));
}

// The quote tool: POST /v1/quote with the prompt (or token counts) and the chosen models.
function quoteTool(candidates, currency) {
  const output = h("div", { "data-testid": "quote-result" });
  const form = h("form", { class: "quote", "data-testid": "quote-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const text = form.elements.prompt.value.trim();
      const promptTokens = Number.parseInt(form.elements.prompt_tokens.value, 10);
      const completionTokens = Number.parseInt(form.elements.completion_tokens.value, 10);
      const body = { models: candidates, currency };
      if (text) body.request = { messages: [{ role: "user", content: text }] };
      if (Number.isFinite(promptTokens)) body.prompt_tokens = promptTokens;
      if (Number.isFinite(completionTokens)) body.completion_tokens = completionTokens;
      output.replaceChildren(message("info", t("common.loading")));
      try {
        output.replaceChildren(quoteAnswer(await sendJSON("POST", "/v1/quote", body), currency));
      } catch (failure) {
        // An older gateway without the quote endpoint: say so, and keep the rest of the page.
        const unavailable = failure instanceof ApiError
          && ((failure.status === 404 && failure.code === "unknown_url") || failure.status === 405);
        output.replaceChildren(message(unavailable ? "info" : "error",
          unavailable ? t("quote.unavailable") : t("common.failed", { message: failure.message }),
          { "data-testid": unavailable ? "quote-unavailable" : "quote-error" }));
      }
    } },
    h("label", { class: "field grow" }, h("span", {}, t("quote.prompt")),
      h("textarea", { name: "prompt", rows: 3, placeholder: t("quote.promptPlaceholder"), dir: "auto", "data-testid": "quote-prompt" })),
    h("label", { class: "field" }, h("span", {}, t("quote.promptTokens")),
      h("input", { name: "prompt_tokens", type: "number", min: 0, step: 1, inputmode: "numeric" })),
    h("label", { class: "field" }, h("span", {}, t("quote.completionTokens")),
      h("input", { name: "completion_tokens", type: "number", min: 0, step: 1, inputmode: "numeric", value: "500" })),
    h("div", { class: "field actions" }, h("button", { type: "submit", "data-testid": "quote-submit" }, t("quote.submit"))));
  return card(t("quote.title"),
    h("p", { class: "muted small" }, candidates.length ? t("quote.for", { models: candidates.join(", ") }) : t("quote.all")),
    form, output);
}

function quoteAnswer(answer, currency) {
  const rows = Array.isArray(answer.data) ? answer.data : [];
  const cost = (row, name) => row[`${name}_${currency.toLowerCase()}`] ?? row[`${name}_usd`];
  return h("div", {},
    h("p", { class: "muted small", "data-testid": "quote-tokens" },
      t("quote.tokens", { prompt: integer(answer.prompt_tokens), completion: integer(answer.completion_tokens),
                          discount: answer.cache_discount_percent ?? "—" })),
    rows.length ? table([
      { label: t("col.model"), cell: (row) => h("span", { class: "mono" }, row.model) },
      { label: t("col.provider"), cell: (row) => row.provider },
      { label: t("catalog.region"), cell: (row) => row.region || "—" },
      { label: t("quote.fits"), cell: (row) => (row.fits ? h("span", { class: "yes" }, "✓")
                                                 : h("span", { class: "no", title: (row.unmet || []).join(", ") }, "✗ ", (row.unmet || []).join(", "))) },
      { label: t("quote.fresh"), cell: (row) => h("span", { dataset: { amount: cost(row, "fresh_cost") } }, money(cost(row, "fresh_cost"), currency)), className: "num" },
      { label: t("quote.exactCache"), cell: (row) => money(cost(row, "exact_cache_cost"), currency), className: "num" },
      { label: t("catalog.latency"), cell: (row) => (row.latency_p50_ms ? t("catalog.latencyP50P95", { p50: integer(row.latency_p50_ms), p95: integer(row.latency_p95_ms ?? 0) }) : "—"), className: "num" },
      { label: t("catalog.context"), cell: (row) => integer(row.context_window), className: "num" },
    ], rows.map((row) => ({ ...row, __dataset: { model: row.model } })), { "data-testid": "quote-table" })
      : message("empty", t("quote.none")));
}
