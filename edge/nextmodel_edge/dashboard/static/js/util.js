// Money as the API sends it: decimal strings with nine places. Ratios use integer nano-USD
// (BigInt), so no amount ever goes through floating point.

export const ZERO = "0.000000000";

export function nanos(decimal) {
  const text = String(decimal ?? "0").trim();
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
  const value = BigInt(whole || "0") * 1_000_000_000n + BigInt((fraction + "000000000").slice(0, 9) || "0");
  return negative ? -value : value;
}

// part / whole in basis points (0..10000+), as an integer; 0 when whole is 0.
export function basisPoints(part, whole) {
  const denominator = typeof whole === "bigint" ? whole : nanos(whole);
  if (denominator <= 0n) return 0;
  const numerator = typeof part === "bigint" ? part : nanos(part);
  return Number((numerator * 10_000n) / denominator);
}

// The amount field of a usage row or receipt in the chosen currency ("charged_cost" -> charged_cost_sar).
export function amount(row, field, currency) {
  if (!row) return ZERO;
  return row[`${field}_${currency.toLowerCase()}`] ?? row[`${field}_usd`] ?? ZERO;
}

export function todayUTC() {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(isoDate, days) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

// Days from first to last, inclusive (YYYY-MM-DD, UTC).
export function daysBetween(first, last) {
  const days = [];
  for (let day = first; day <= last && days.length < 400; day = addDays(day, 1)) days.push(day);
  return days;
}

export function byAmountDesc(field, currency) {
  return (a, b) => {
    const difference = nanos(amount(b, field, currency)) - nanos(amount(a, field, currency));
    return difference > 0n ? 1 : difference < 0n ? -1 : String(a.group).localeCompare(String(b.group));
  };
}
