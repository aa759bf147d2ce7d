// Budget gauges: how much of each budget is spent and reserved. Budgets are in USD (the
// admin API has no SAR view of them), so they are always shown in USD.

import { gauge } from "../charts.js";
import { h, message } from "../dom.js";
import { dateTime, money, percent, t } from "../i18n.js";
import { basisPoints, nanos } from "../util.js";

export function budgetGauges(budgets, ctx) {
  if (!budgets.length) return message("empty", t("budget.none"), { "data-testid": "budgets-empty" });
  return h("div", { class: "gauges", "data-testid": "budget-gauges" },
    budgets.map((budget) => {
      const limit = nanos(budget.limit_usd);
      const usedBps = basisPoints(budget.spent_usd, limit);
      const reservedBps = basisPoints(budget.reserved_usd, limit);
      const title = `${t(`scope.${budget.scope}`)}: ${ctx.label(budget.scope, budget.scope_id)}`;
      return h("figure", { class: "gauge", "data-testid": "budget-gauge", dataset: { budgetId: budget.id, usedBps: String(usedBps) } },
        gauge({ usedBps, reservedBps, label: title, testid: "budget-gauge-chart" }),
        h("p", { class: "gauge-value" }, percent(usedBps / 10_000)),
        h("figcaption", {},
          h("strong", {}, title),
          h("span", { class: "muted small" },
            t(`period.${budget.period}`), " · ", budget.hard ? t("budget.hard") : t("budget.soft")),
          h("span", { class: "small" }, t("budget.spentOf", { spent: money(budget.spent_usd, "USD"), limit: money(budget.limit_usd, "USD") })),
          nanos(budget.reserved_usd) > 0n ? h("span", { class: "small muted" }, t("budget.reservedNow", { amount: money(budget.reserved_usd, "USD") })) : null,
          h("span", { class: "small muted" }, t("budget.remainingNow", { amount: money(budget.remaining_usd, "USD") })),
          budget.resets_at ? h("span", { class: "small muted" }, t("budget.resets", { when: dateTime(Date.parse(budget.resets_at)) })) : null));
    }));
}
