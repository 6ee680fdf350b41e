// Lists cut from a Relay connection: a page of `config.pageSize` items (the newest first, at
// most the API's 100), and "加载更多" under it, which asks for the next page by the `after`
// cursor of the last page shown and appends its rows to the same table.
import { config, gql, nodes } from "./api.js";
import { errorList, h, table } from "./ui.js";

export const PAGE_SIZE = Math.min(Math.max(Number(config.pageSize) || 100, 1), 100);

// A table that can grow. Without rows and with nothing more to load it is the `empty`
// note instead; with more to load it is shown empty, so that loaded rows have a place.
export function growingTable(headers, rows, { attrs = {}, empty = "尚无。", more = false } = {}) {
  if (rows.length === 0 && !more) return { el: h("p", { class: "muted" }, empty), append() {} };
  const el = table(headers, rows, attrs);
  return { el, append: (added) => el.tBodies[0].append(...added) };
}

// The next page of a connection found at `path` in the answer to `query`: {page, errors}.
// `variables` gets `first` and `after`.
export async function nextPage(query, variables, path, after) {
  const { data, errors } = await gql(query, { ...variables, first: PAGE_SIZE, after });
  const page = path.reduce((value, key) => value?.[key], data) || null;
  return { page, errors };
}

// "加载更多" after `connection`'s page: `fetch(after)` resolves to {page, errors};
// `append(items)` shows the items of each page loaded. Null when nothing more exists.
export function loadMore(connection, fetch, append, { label = "加载更多", id } = {}) {
  if (!connection?.pageInfo?.hasNextPage) return null;
  let after = connection.pageInfo.endCursor;
  let shown = nodes(connection).length;
  const button = h("button", { type: "button", class: "secondary", id }, label);
  const status = h("span", { class: "muted", role: "status" }, ` 已显示 ${shown} 条。`);
  const problem = h("div", {});
  const box = h("div", { class: "load-more" }, button, status, problem);
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = " 正在加载…";
    const { page, errors } = await fetch(after);
    problem.replaceChildren(...[errorList(errors)].filter(Boolean));
    if (page) {
      const items = nodes(page);
      append(items);
      shown += items.length;
      after = page.pageInfo.endCursor;
    }
    if (page && !page.pageInfo.hasNextPage) {
      // Nothing further: the button goes, and the keyboard's place with it, to the note.
      const done = h("p", { class: "muted", tabindex: "-1" }, `已全部显示，共 ${shown} 条。`);
      box.replaceChildren(done, problem);
      done.focus();
      return;
    }
    status.textContent = ` 已显示 ${shown} 条。`;
    button.disabled = false;
    button.focus();
  });
  return box;
}
