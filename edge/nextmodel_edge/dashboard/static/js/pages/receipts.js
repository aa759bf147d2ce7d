// Receipts: a lookup by id, the latest receipts, and one receipt with every field, its
// signature, and the link to the fresh receipt that an exact-cache hit replays.

import { ApiError, exportRows, getJSON, saveBlob } from "../api.js";
import { add, card, h, message, table } from "../dom.js";
import { dateTime, integer, money, t } from "../i18n.js";
import { amount } from "../util.js";

const RECENT_HOURS = 24;
const RECENT_ROWS = 50;

export async function render(view, ctx) {
  const id = ctx.args[0];
  return id ? renderOne(view, ctx, id) : renderList(view, ctx);
}

function lookup(ctx, value = "") {
  const form = h("form", { class: "lookup", "data-testid": "receipt-lookup",
    onsubmit: (event) => {
      event.preventDefault();
      const id = form.elements.receipt_id.value.trim();
      if (id) window.location.hash = `#/receipts/${encodeURIComponent(id)}`;
    } },
    h("label", { class: "field grow" }, h("span", {}, t("receipts.lookup")),
      h("input", { name: "receipt_id", value, placeholder: "rcpt_…", autocomplete: "off", spellcheck: "false", dir: "ltr",
                   "data-testid": "receipt-id-input" })),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, t("receipts.open"))));
  return form;
}

async function renderList(view, ctx) {
  const since = new Date(Date.now() - RECENT_HOURS * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
  const rows = await exportRows({ start: since });
  rows.sort((a, b) => b.created_unix_ms - a.created_unix_ms || String(b.id).localeCompare(String(a.id)));
  const latest = rows.slice(0, RECENT_ROWS);
  add(view, 
    h("header", { class: "page-head" },
      h("div", {}, h("h1", {}, t("receipts.title")), h("p", { class: "muted" }, ctx.scopeLabel))),
    card(null, lookup(ctx)),
    card(t("receipts.recent", { hours: integer(RECENT_HOURS), n: integer(RECENT_ROWS) }),
      latest.length
        ? table([
            { label: t("col.time"), cell: (row) => dateTime(row.created_unix_ms) },
            { label: t("col.receipt"), cell: (row) => h("a", { href: `#/receipts/${encodeURIComponent(row.id)}`, class: "mono" }, row.id) },
            { label: t("col.model"), cell: (row) => row.served_model || row.requested_model },
            { label: t("col.servedMode"), cell: (row) => modeBadge(row.served_mode) },
            { label: t("col.tokens"), cell: (row) => integer(row.prompt_tokens + row.completion_tokens), className: "num" },
            { label: t("col.chargedUsd"), cell: (row) => money(nanoToDecimal(row.charged_cost_nano_usd), "USD"), className: "num" },
          ], latest.map((row) => ({ ...row, __dataset: { receiptId: row.id, servedMode: row.served_mode } })),
          { "data-testid": "recent-receipts" })
        : message("empty", t("common.noData"))));
}

export function modeBadge(mode) {
  return h("span", { class: `badge mode-${mode}`, "data-testid": "served-mode" }, t(`mode.${mode}`));
}

function nanoToDecimal(nano) {
  const value = BigInt(nano);
  const sign = value < 0n ? "-" : "";
  const magnitude = value < 0n ? -value : value;
  return `${sign}${magnitude / 1_000_000_000n}.${String(magnitude % 1_000_000_000n).padStart(9, "0")}`;
}

// Every field of the receipt, flattened to dotted paths in the API's order.
function flatten(value, prefix = "", out = []) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (!keys.length && prefix) out.push([prefix, {}]);
    for (const key of keys) flatten(value[key], prefix ? `${prefix}.${key}` : key, out);
  } else if (Array.isArray(value)) {
    if (!value.length) out.push([prefix, []]);
    value.forEach((item, index) => flatten(item, `${prefix}.${index}`, out));
  } else {
    out.push([prefix, value]);
  }
  return out;
}

function shown(path, value, currency) {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "—");
  if (Array.isArray(value)) return h("span", { class: "muted" }, t("receipt.noneList"));
  if (typeof value === "object") return h("span", { class: "muted" }, t("receipt.noneMap"));
  if (path === "replayed_receipt_id") return h("a", { href: `#/receipts/${encodeURIComponent(value)}`, class: "mono" }, value);
  if (path === "created_unix_ms") return [String(value), h("span", { class: "muted small raw" }, `(${dateTime(value)})`)];
  const cash = path.match(/_(usd|sar)$/);
  if (cash && typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) {
    return [money(value, cash[1].toUpperCase()), h("span", { class: "muted small mono raw" }, value)];
  }
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  return String(value);
}

async function renderOne(view, ctx, id) {
  add(view, 
    h("header", { class: "page-head" },
      h("div", {}, h("h1", {}, t("receipt.title")), h("p", { class: "muted mono" }, id)),
      h("a", { href: "#/receipts", class: "button secondary" }, t("receipts.back"))));
  let receipt;
  try {
    receipt = await getJSON(`/v1/receipts/${encodeURIComponent(id)}`, { currency: ctx.currency });
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) {
      add(view, card(null, message("error", t("receipt.notFound", { id }), { "data-testid": "receipt-not-found" }),
                       lookup(ctx, id)));
      return;
    }
    throw failure;
  }
  const currency = ctx.currency;
  const replayed = receipt.replayed_receipt_id;
  add(view, 
    h("div", { class: "kpis" },
      h("article", { class: "kpi" }, h("h3", {}, t("col.servedMode")), h("p", { class: "kpi-value" }, modeBadge(receipt.served_mode))),
      h("article", { class: "kpi" }, h("h3", {}, t("col.charged")),
        h("p", { class: "kpi-value", "data-testid": "receipt-charged", dataset: { amount: amount(receipt, "charged_cost", currency) } },
          money(amount(receipt, "charged_cost", currency), currency))),
      h("article", { class: "kpi" }, h("h3", {}, t("col.list")), h("p", { class: "kpi-value" }, money(amount(receipt, "list_cost", currency), currency))),
      h("article", { class: "kpi" }, h("h3", {}, t("col.discount")), h("p", { class: "kpi-value" }, money(amount(receipt, "discount", currency), currency))),
      h("article", { class: "kpi" }, h("h3", {}, t("col.model")), h("p", { class: "kpi-value small-value" }, receipt.served_model)),
      h("article", { class: "kpi" }, h("h3", {}, t("col.time")), h("p", { class: "kpi-value small-value" }, dateTime(receipt.created_unix_ms)))),
    replayed
      ? card(t("receipt.replayTitle"),
          h("p", {}, t("receipt.replayText")),
          h("p", {}, h("a", { href: `#/receipts/${encodeURIComponent(replayed)}`, class: "mono", "data-testid": "replayed-link" },
                       t("receipt.openFresh", { id: replayed }))))
      : receipt.served_mode === "fresh" ? card(t("receipt.freshTitle"), h("p", {}, t("receipt.freshText"))) : null,
    signatureCard(receipt),
    card(t("receipt.fields"), fieldsTable(receipt, currency)),
    receipt.attempts?.length ? card(t("receipt.attempts"), table([
      { label: "#", cell: (_, index) => integer(index + 1) },
      { label: t("col.provider"), cell: (row) => row.provider },
      { label: t("col.model"), cell: (row) => row.model },
      { label: t("col.outcome"), cell: (row) => row.outcome },
      { label: t("col.latency"), cell: (row) => t("common.ms", { n: integer(row.latency_ms) }), className: "num" },
    ], receipt.attempts, { "data-testid": "receipt-attempts" })) : null);
}

function signatureCard(receipt) {
  return card(t("receipt.signature"),
    h("p", { "data-testid": "signature-status" },
      h("span", { class: "badge signed" }, t("receipt.signed")), " ", t("receipt.signedText")),
    h("p", { class: "mono signature", "data-testid": "signature" }, receipt.signature),
    h("p", { class: "muted" }, t("receipt.verifyHow")),
    h("pre", { class: "mono", dir: "ltr" }, `NEXTMODEL_RECEIPT_SECRET=… nextmodel receipts verify ${receipt.id}.json`),
    h("button", { type: "button", class: "secondary", "data-testid": "download-receipt",
                  onclick: () => saveBlob(new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" }), `${receipt.id}.json`) },
      t("receipt.download")));
}

function fieldsTable(receipt, currency) {
  const rows = flatten(receipt).map(([path, value]) => ({ path, value, __dataset: { field: path, value: typeof value === "object" ? JSON.stringify(value) : String(value) } }));
  return table([
    { label: t("receipt.field"), cell: (row) => fieldLabel(row.path) },
    { label: t("receipt.name"), cell: (row) => h("code", { dir: "ltr" }, row.path) },
    { label: t("receipt.value"), cell: (row) => h("span", { class: "field-value", dir: "auto" }, shown(row.path, row.value, currency)) },
  ], rows, { "data-testid": "receipt-fields" });
}

function fieldLabel(path) {
  const generic = path.replace(/\.\d+\./, ".*.").replace(/^tags\..+$/, "tags.*");
  const key = `field.${generic}`;
  const label = t(key);
  return label === key ? (path.startsWith("tags.") ? t("field.tags.*") : "") : label;
}
