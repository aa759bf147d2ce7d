// Keys and budgets, for the admin key: teams and projects, a project's keys (create, revoke),
// and budgets (gauges, set, delete). Billing checks the admin key on every call.

import { getJSON, request, sendJSON } from "../api.js";
import { add, card, h, message, select, table } from "../dom.js";
import { dateTime, integer, money, t } from "../i18n.js";
import { budgetGauges } from "./budgets.js";

export async function render(view, ctx) {
  add(view, h("header", { class: "page-head" },
    h("div", {}, h("h1", {}, t("admin.title")), h("p", { class: "muted" }, ctx.scopeLabel))));
  if (!ctx.isAdmin) {
    add(view, message("info", t("admin.needsAdmin"), { "data-testid": "admin-only" }));
    return;
  }
  const projectId = ctx.query.get("project") || ctx.projects[0]?.id || "";
  const [teams, keys, budgets] = await Promise.all([
    getJSON("/admin/v1/teams"),
    projectId ? getJSON("/admin/v1/keys", { project_id: projectId }) : Promise.resolve({ data: [] }),
    getJSON("/admin/v1/budgets"),
  ]);
  const teamName = new Map(teams.data.map((team) => [team.id, team.name]));

  add(view, 
    card(t("admin.budgets"), budgetGauges(budgets.data, ctx), budgetTable(budgets.data, ctx), budgetForm(ctx, projectId)),
    card(t("admin.keys"),
      h("div", { class: "toolbar" },
        h("label", { class: "field" }, h("span", {}, t("usage.project")),
          select({ "data-testid": "admin-project", onchange: (event) => { window.location.hash = `#/admin?project=${encodeURIComponent(event.target.value)}`; } },
                 ctx.projects.map((p) => [p.id, `${p.name} (${p.id})`]), projectId))),
      keys.data.length ? keyTable(keys.data, ctx) : message("empty", t("admin.noKeys")),
      projectId ? keyForm(ctx, projectId) : null),
    card(t("admin.projects"), table([
      { label: t("col.project"), cell: (p) => h("a", { href: `#/admin?project=${encodeURIComponent(p.id)}` }, p.name) },
      { label: t("col.id"), cell: (p) => h("span", { class: "mono small" }, p.id) },
      { label: t("group.team"), cell: (p) => teamName.get(p.team_id) || p.team_id },
      { label: t("admin.cache"), cell: (p) => (p.cache.enabled ? t("admin.cacheOn", { discount: p.cache.discount_percent, hours: integer(p.cache.ttl_seconds / 3600) }) : t("admin.cacheOff")) },
      { label: t("col.created"), cell: (p) => (p.created_at ? dateTime(Date.parse(p.created_at)) : "—") },
    ], ctx.projects, { "data-testid": "admin-projects" })));
}

function keyTable(keys, ctx) {
  return table([
    { label: t("col.name"), cell: (k) => k.name },
    { label: t("col.id"), cell: (k) => h("span", { class: "mono small" }, k.id) },
    { label: t("admin.prefix"), cell: (k) => h("span", { class: "mono small" }, `${k.prefix}…`) },
    { label: t("col.created"), cell: (k) => (k.created_at ? dateTime(Date.parse(k.created_at)) : "—") },
    { label: t("admin.expires"), cell: (k) => (k.expires_at ? dateTime(Date.parse(k.expires_at)) : "—") },
    { label: t("admin.limits"), cell: (k) => [k.requests_per_minute ? t("admin.rpm", { n: integer(k.requests_per_minute) }) : "",
                                               k.tokens_per_minute ? ` ${t("admin.tpm", { n: integer(k.tokens_per_minute) })}` : ""].join("") || "—" },
    { label: t("admin.tags"), cell: (k) => Object.entries(k.tags || {}).map(([name, value]) => `${name}=${value}`).join(", ") || "—" },
    { label: t("admin.status"), cell: (k) => (k.revoked ? h("span", { class: "badge revoked" }, t("admin.revoked")) : h("span", { class: "badge active" }, t("admin.active"))) },
    { label: "", cell: (k) => (k.revoked ? "" : h("button", { type: "button", class: "danger small", "data-testid": "revoke-key",
        onclick: async () => {
          if (!window.confirm(t("admin.revokeConfirm", { name: k.name }))) return;
          await sendJSON("POST", `/admin/v1/keys/${encodeURIComponent(k.id)}/revoke`, {});
          ctx.rerender();
        } }, t("admin.revoke"))) },
  ], keys.map((k) => ({ ...k, __dataset: { keyId: k.id } })), { "data-testid": "admin-keys" });
}

function keyForm(ctx, projectId) {
  const output = h("div", {});
  const form = h("form", { class: "inline-form", "data-testid": "create-key",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const created = await sendJSON("POST", "/admin/v1/keys", { project_id: projectId, name: form.elements.name.value.trim() || "api key" });
        // The full key is shown once, here; NextModel keeps only its hash.
        output.replaceChildren(h("div", { class: "message success", role: "status" },
          h("p", {}, t("admin.keyCreated")),
          h("p", { class: "mono secret", "data-testid": "new-key-secret" }, created.key),
          h("button", { type: "button", class: "secondary small", onclick: () => navigator.clipboard?.writeText(created.key) }, t("admin.copy")),
          " ",
          h("button", { type: "button", class: "secondary small", onclick: () => ctx.rerender() }, t("admin.done"))));
        form.reset();
      } catch (failure) {
        output.replaceChildren(message("error", t("common.failed", { message: failure.message })));
      }
    } },
    h("label", { class: "field grow" }, h("span", {}, t("admin.newKeyName")), h("input", { name: "name", maxlength: 200, placeholder: "ci-pipeline" })),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, t("admin.createKey"))));
  return h("div", {}, form, output);
}

function budgetTable(budgets, ctx) {
  if (!budgets.length) return null;
  return table([
    { label: t("admin.scope"), cell: (b) => `${t(`scope.${b.scope}`)}: ${ctx.label(b.scope, b.scope_id)}` },
    { label: t("admin.period"), cell: (b) => t(`period.${b.period}`) },
    { label: t("admin.kind"), cell: (b) => (b.hard ? t("budget.hard") : t("budget.soft")) },
    { label: t("budget.limit"), cell: (b) => money(b.limit_usd, "USD"), className: "num" },
    { label: t("budget.spent"), cell: (b) => money(b.spent_usd, "USD"), className: "num" },
    { label: t("budget.reserved"), cell: (b) => money(b.reserved_usd, "USD"), className: "num" },
    { label: t("budget.remaining"), cell: (b) => money(b.remaining_usd, "USD"), className: "num" },
    { label: t("budget.resetsAt"), cell: (b) => (b.resets_at ? dateTime(Date.parse(b.resets_at)) : "—") },
    { label: "", cell: (b) => h("button", { type: "button", class: "danger small",
        onclick: async () => {
          if (!window.confirm(t("admin.deleteBudgetConfirm"))) return;
          await request(`/admin/v1/budgets/${encodeURIComponent(b.id)}`, { method: "DELETE" });
          ctx.rerender();
        } }, t("admin.delete")) },
  ], budgets.map((b) => ({ ...b, __dataset: { budgetId: b.id } })), { "data-testid": "admin-budgets" });
}

function budgetForm(ctx, projectId) {
  const output = h("div", {});
  const form = h("form", { class: "inline-form", "data-testid": "set-budget",
    onsubmit: async (event) => {
      event.preventDefault();
      const f = form.elements;
      try {
        await sendJSON("PUT", "/admin/v1/budgets", { scope: f.scope.value, scope_id: f.scope_id.value.trim(), period: f.period.value,
                                                     limit_usd: f.limit_usd.value.trim(), hard: f.hard.checked });
        ctx.rerender();
      } catch (failure) {
        output.replaceChildren(message("error", t("common.failed", { message: failure.message })));
      }
    } },
    h("label", { class: "field" }, h("span", {}, t("admin.scope")),
      select({ name: "scope" }, ["project", "team", "key"].map((s) => [s, t(`scope.${s}`)]), "project")),
    h("label", { class: "field" }, h("span", {}, t("admin.scopeId")), h("input", { name: "scope_id", required: true, value: projectId, class: "mono" })),
    h("label", { class: "field" }, h("span", {}, t("admin.period")),
      select({ name: "period" }, ["daily", "weekly", "monthly", "total"].map((p) => [p, t(`period.${p}`)]), "monthly")),
    h("label", { class: "field" }, h("span", {}, t("admin.limitUsd")),
      h("input", { name: "limit_usd", required: true, inputmode: "decimal", pattern: "\\d+(\\.\\d{1,9})?", placeholder: "100.00" })),
    h("label", { class: "field check" }, h("input", { name: "hard", type: "checkbox", checked: true }), h("span", {}, t("budget.hard"))),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, t("admin.setBudget"))));
  return h("div", {}, h("h3", {}, t("admin.setBudgetTitle")), form, output);
}
