// A tiny element builder. Text always goes in as text nodes (never innerHTML), so no value
// from the API can become markup.

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

// A <select> from [value, label] pairs.
export function select(props, options, selected) {
  return h("select", props, options.map(([value, label]) =>
    h("option", { value, selected: String(value) === String(selected ?? "") }, label)));
}

// A table: columns are {label, cell: row => Node|string, className?}; rows are data.
export function table(columns, rows, props = {}) {
  return h("div", { class: "table-wrap" },
    h("table", props,
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col", class: column.className }, column.label)))),
      h("tbody", {}, rows.map((row, index) =>
        h("tr", { dataset: row.__dataset || {} }, columns.map((column) =>
          h("td", { class: column.className }, column.cell(row, index))))))));
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, children);
}

export function message(kind, text, props = {}) {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status", ...props }, text);
}

// parent.append(...) that skips null/false children (Element.append would print "null").
export function add(parent, ...children) {
  return append(parent, children);
}
