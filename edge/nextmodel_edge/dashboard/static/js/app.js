// The dashboard's shell: sign-in, navigation, language and currency, and the page router
// (hash routes: #/overview, #/usage, #/receipts[/id], #/catalog, #/admin).

import { ApiError, clearSession, getJSON, request, saveSession, session } from "./api.js";
import { destroyCharts } from "./charts.js";
import { h, message } from "./dom.js";
import { applyDocument, getCurrency, getLang, LANGUAGES, setCurrency, setLang, t } from "./i18n.js";
import * as admin from "./pages/admin.js";
import * as catalog from "./pages/catalog.js";
import * as overview from "./pages/overview.js";
import * as receipts from "./pages/receipts.js";
import * as usage from "./pages/usage.js";

const PAGES = { overview, usage, receipts, catalog, admin };
const root = document.getElementById("app");
let generation = 0;
let notice = null;

function route() {
  const [path, query = ""] = window.location.hash.replace(/^#\/?/, "").split("?");
  const [page = "overview", ...args] = path.split("/").filter(Boolean);
  return { page: page in PAGES ? page : "overview", args: args.map(decodeURIComponent), query: new URLSearchParams(query) };
}

// Which key is this? The admin key opens /admin/v1; a project key names its project in
// /v1/cache/stats. Anything else is refused.
async function identify(key) {
  try {
    await request("/admin/v1/teams", { key });
    return { key, role: "admin" };
  } catch (failure) {
    if (!(failure instanceof ApiError) || ![401, 403].includes(failure.status)) throw failure;
  }
  const stats = await (await request("/v1/cache/stats", { key })).json();
  return { key, role: "project", projectId: stats.project_id };
}

function signIn(mine) {
  destroyCharts();
  const error = h("div", { "data-testid": "sign-in-error" }, notice ? message("error", notice) : null);
  notice = null;
  const form = h("form", { class: "sign-in card", "data-testid": "sign-in-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const key = form.elements.key.value.trim();
      if (!key) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      error.replaceChildren();
      try {
        saveSession(await identify(key));
        form.elements.key.value = "";
        render();
      } catch (failure) {
        const refused = failure instanceof ApiError && failure.status === 401;
        error.replaceChildren(message("error", refused ? t("signIn.refused") : t("common.failed", { message: failure.message })));
        button.disabled = false;
      }
    } },
    h("h1", {}, t("signIn.title")),
    h("p", { class: "muted" }, t("signIn.intro")),
    h("label", { class: "field" }, h("span", {}, t("signIn.key")),
      h("input", { name: "key", type: "password", autocomplete: "off", spellcheck: "false", required: true, dir: "ltr",
                   placeholder: "nm-…", "data-testid": "sign-in-key" })),
    h("p", { class: "muted small" }, t("signIn.keyNote")),
    error,
    h("button", { type: "submit", "data-testid": "sign-in-submit" }, t("signIn.submit")));
  root.replaceChildren(h("div", { class: "sign-in-page", "data-generation": String(mine) },
    h("div", { class: "brand big" }, logo(), "NextModel"), languageSwitch(), form));
  root.dataset.state = "signed-out";
}

function logo() {
  return h("img", { src: "icon.svg", alt: "", width: 28, height: 28 });
}

function languageSwitch() {
  return h("div", { class: "switch", role: "group", "aria-label": t("shell.language") },
    LANGUAGES.map(([code, label]) => h("button", {
      type: "button", lang: code, class: code === getLang() ? "active" : "", "aria-pressed": String(code === getLang()),
      "data-testid": `lang-${code}`, onclick: () => { setLang(code); render(); },
    }, label)));
}

function currencySwitch() {
  return h("div", { class: "switch", role: "group", "aria-label": t("shell.currency") },
    ["USD", "SAR"].map((code) => h("button", {
      type: "button", class: code === getCurrency() ? "active" : "", "aria-pressed": String(code === getCurrency()),
      "data-testid": `currency-${code}`, onclick: () => { setCurrency(code); render(); },
    }, t(`currency.${code}`))));
}

function shell(current, signedIn) {
  const links = [["overview", t("nav.overview")], ["usage", t("nav.usage")], ["receipts", t("nav.receipts")],
                 ["catalog", t("nav.catalog")], ...(signedIn.role === "admin" ? [["admin", t("nav.admin")]] : [])];
  const main = h("main", { id: "main", tabindex: "-1" });
  root.replaceChildren(
    h("header", { class: "topbar" },
      h("a", { class: "brand", href: "#/overview" }, logo(), "NextModel"),
      h("nav", { class: "tabs", "aria-label": t("shell.pages") },
        links.map(([page, label]) => h("a", { href: `#/${page}`, class: page === current ? "active" : "",
                                              "aria-current": page === current ? "page" : null, "data-testid": `nav-${page}` }, label))),
      h("div", { class: "spacer" }),
      languageSwitch(),
      currencySwitch(),
      h("span", { class: "who", "data-testid": "who", dataset: { role: signedIn.role } },
        signedIn.role === "admin" ? t("shell.admin") : t("shell.project", { id: signedIn.projectId })),
      h("button", { type: "button", class: "secondary small", "data-testid": "sign-out",
                    onclick: () => { clearSession(); window.location.hash = "#/overview"; render(); } }, t("shell.signOut"))),
    main);
  return main;
}

// Names for ids in groups: the admin key can read projects and teams; a project key sees ids.
async function names(signedIn) {
  if (signedIn.role !== "admin") return { projects: [], label: (_, id) => id };
  const [projects, teams] = await Promise.all([getJSON("/admin/v1/projects"), getJSON("/admin/v1/teams")]);
  const known = { project: new Map(projects.data.map((p) => [p.id, p.name])), team: new Map(teams.data.map((x) => [x.id, x.name])) };
  return {
    projects: projects.data,
    label: (kind, id) => (known[kind]?.has(id) ? `${known[kind].get(id)} (${id})` : id),
  };
}

async function render() {
  const mine = ++generation;
  applyDocument();
  destroyCharts();
  const signedIn = session();
  if (!signedIn) return signIn(mine);
  const { page, args, query } = route();
  const main = shell(page, signedIn);
  const view = h("div", { class: "view", "data-page": page, "data-state": "loading", "data-generation": String(mine) },
                 message("info", t("common.loading")));
  main.append(view);
  root.dataset.state = "signed-in";
  try {
    const context = {
      session: signedIn, isAdmin: signedIn.role === "admin", args, query, currency: getCurrency(),
      scopeLabel: signedIn.role === "admin" ? t("shell.allProjects") : t("shell.project", { id: signedIn.projectId }),
      rerender: render,
      ...(await names(signedIn)),
    };
    const content = h("div", {});
    await PAGES[page].render(content, context);
    if (mine !== generation) return;
    view.replaceChildren(...content.childNodes);
    view.dataset.state = "ready";
  } catch (failure) {
    if (mine !== generation) return;
    view.replaceChildren(message("error", t("common.failed", { message: failure.message }), { "data-testid": "page-error" }));
    view.dataset.state = "error";
  }
}

window.addEventListener("nextmodel:signed-out", () => {
  clearSession();
  notice = t("signIn.expired");
  render();
});
window.addEventListener("hashchange", render);
render();
